"""The C heap of large populations (sim/allocator.py): freed large blocks go back to the
system instead of staying in the process."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROBE = textwrap.dedent("""
    import sys
    import numpy as np
    def resident_mib():
        return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
    if sys.argv[1] == "fixed":
        from sim.allocator import map_large_blocks
        assert map_large_blocks()
    big = np.ones(30 << 20, np.uint8); del big  # glibc's own threshold rises to 30 MiB here
    before = resident_mib()
    blocks, keep = [], []
    for i in range(40):
        blocks.append(np.ones(2 << 20, np.uint8))  # 2 MiB blocks, touched
        keep.append(np.ones(1000))  # small long-lived ones between them (a run's logs)
    del blocks
    print(resident_mib() - before)
""")


MONTHS = textwrap.dedent("""
    import resource, sys
    import numpy as np
    from sim.allocator import map_large_blocks, reuse_month_blocks
    assert map_large_blocks()
    if sys.argv[1] == "months":
        assert reuse_month_blocks()
    def month():  # a month's temporaries: allocated, written, freed (< 2 MiB: no huge pages)
        for size in (3 << 19, 5 << 18, 7 << 18):
            a = np.empty(size, np.uint8); a[:] = 1; del a
    month()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(20):
        month()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
""")


def _page_faults(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", MONTHS, mode], cwd=ROOT, capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


@pytest.mark.skipif(not Path("/proc/self/statm").exists() or sys.platform != "linux", reason="glibc heap, Linux /proc")
def test_the_months_reuse_their_blocks():
    pages = 20 * ((3 << 19) + (5 << 18) + (7 << 18)) // 4096  # the 20 months' temporaries, in 4 KiB pages
    assert _page_faults("build") > pages // 2  # mapped, zeroed and unmapped each time
    assert _page_faults("months") < pages // 20  # from the heap, reused


def _retained_mib(mode: str) -> float:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


@pytest.mark.skipif(not Path("/proc/self/statm").exists() or sys.platform != "linux", reason="glibc heap, Linux /proc")
def test_large_blocks_are_returned_once_mapped_directly():
    assert _retained_mib("default") > 40  # the 80 MiB freed stay in the heap (what 1,000,000 firms met)
    assert _retained_mib("fixed") < 8


def test_a_large_population_fixes_the_threshold(monkeypatch):
    from sim import model as model_module
    from sim.params import to_config
    from sim.run import compose

    calls = []
    monkeypatch.setattr(model_module, "map_large_blocks", lambda: calls.append("build") or True)
    monkeypatch.setattr(model_module, "reuse_month_blocks", lambda: calls.append("months") or True)
    small = to_config(compose(["scenario=mx_cluster", "n_firms=300", "end_year=2026"]))
    model_module.ClusterModel(small)
    template = model_module.ClusterModel.population(small)
    model_module.ClusterModel.from_population(template, small)
    assert calls == []  # small runs, sweeps and the app keep glibc's default
    monkeypatch.setattr(model_module, "PARALLEL_MIN_FIRMS", 300)
    model_module.ClusterModel(small)
    assert calls == ["build", "months"]  # the build maps its large blocks; the months reuse theirs
    template = model_module.ClusterModel.population(small)
    model_module.ClusterModel.from_population(template, small)
    assert calls == ["build", "months", "build", "build", "months"]
