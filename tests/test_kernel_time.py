"""The benchmarks' split of a month into compiled kernels and the rest
(benchmarks/kernel_time.py): it counts kernel time, leaves the results alone and puts every
kernel back."""
import sys
import time

import numpy as np

from conftest import benchmark_module


def test_kernel_cpu_counts_the_kernels_and_changes_nothing(config):
    from numba.core.registry import CPUDispatcher

    from sim import adoption, screening
    from sim.model import ClusterModel

    kt = benchmark_module("kernel_time")
    cfg = config("scenario=mx_cluster", "policy=incentive_package", "n_firms=3000", "seed=4")
    wrapped, plain = ClusterModel(cfg, lazy_firm_agents=True), ClusterModel(cfg, lazy_firm_agents=True)
    for _ in range(12):  # (every kernel of a month compiled before the wrapping)
        wrapped.step()
        plain.step()
    with kt.kernel_cpu() as spent:
        assert not isinstance(screening._screen, CPUDispatcher)  # wrapped while inside
        c = time.process_time()
        for _ in range(12):
            wrapped.step()
        step_cpu = time.process_time() - c
    for _ in range(12):
        plain.step()
    assert "sim.screening._screen" in spent and "sim.adoption.record" in spent
    assert 0 < sum(spent.values()) <= step_cpu
    # the kernels are put back, in every module that holds them
    assert isinstance(screening._screen, CPUDispatcher) and isinstance(adoption.record, CPUDispatcher)
    assert not any(getattr(v, "__name__", "") == "timed" for m in list(sys.modules.values())
                   if getattr(m, "__name__", "").startswith("sim") for v in vars(m).values())
    # and the model ran as it would have
    np.testing.assert_array_equal(wrapped.firms.adopted, plain.firms.adopted)
    np.testing.assert_array_equal(wrapped.firms.energy_mwh_per_yr, plain.firms.energy_mwh_per_yr)


def test_split_line_reads_the_ceiling():
    line = benchmark_module("kernel_time").split_line(kernel_cpu_s=0.1, step_cpu_s=0.2, steps=100, n_firms=32_174)
    assert "2.000 ms CPU a month = compiled kernels 1.000 ms (50%) + Python and numpy 1.000 ms" in line
    assert "the kernels alone on one core: 3.22e+07 firm-steps/s at most" in line
