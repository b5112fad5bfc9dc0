"""CPU time inside the engine's compiled kernels, against the step's whole CPU time.

A month is compiled kernels (numba, ``sim/*.py``) called from Python: the phases, the
mechanisms' hooks, numpy glue. :func:`kernel_cpu` replaces every numba dispatcher that a
loaded ``sim`` module holds as a global with a wrapper adding up the calling thread's CPU time
(``time.thread_time``: a kernel on a worker thread counts its own thread's time) by kernel,
for the duration of a ``with`` block.
The split bounds what a faster Python side could give: with no Python at all, a month still
takes its kernels' time.

Enter it only after the model has run its first year: a kernel compiled after the wrapping that
calls another kernel by its global name would find the Python wrapper there and fail to compile.
The wrappers cost ~1 us a call (~15 calls a month at 32,174 firms).
"""
from __future__ import annotations

import sys
import time
from collections import Counter
from contextlib import contextmanager


@contextmanager
def kernel_cpu():
    """Within the block, the compiled kernels of every loaded ``sim`` module add their CPU
    time to the yielded Counter (kernel name -> CPU s); the kernels are put back on exit."""
    from numba.core.registry import CPUDispatcher

    spent: Counter = Counter()
    wrappers: dict[int, object] = {}
    replaced = []

    def wrap(fn, label):
        def timed(*args, **kwargs):
            t = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[label] += time.thread_time() - t
        return timed

    for name, module in list(sys.modules.items()):
        if not (name == "sim" or name.startswith("sim.")) or module is None:
            continue
        for attr, obj in list(vars(module).items()):
            if isinstance(obj, CPUDispatcher):
                key = id(obj)  # (one wrapper per kernel, whatever module imported it)
                if key not in wrappers:
                    wrappers[key] = wrap(obj, f"{obj.py_func.__module__}.{obj.py_func.__name__}")
                replaced.append((module, attr, obj))
                setattr(module, attr, wrappers[key])
    try:
        yield spent
    finally:
        for module, attr, obj in replaced:
            setattr(module, attr, obj)


def split_line(kernel_cpu_s: float, step_cpu_s: float, steps: int, n_firms: int) -> str:
    """One line: ms a month in kernels and outside them, and the rate the kernels alone allow."""
    k_ms, all_ms = 1e3 * kernel_cpu_s / steps, 1e3 * step_cpu_s / steps
    ceiling = n_firms * steps / kernel_cpu_s if kernel_cpu_s > 0 else float("inf")
    return (f"{n_firms:>11,}  {all_ms:8.3f} ms CPU a month = compiled kernels {k_ms:.3f} ms ({100 * k_ms / all_ms:.0f}%) "
            f"+ Python and numpy {all_ms - k_ms:.3f} ms; the kernels alone on one core: {ceiling:.2e} firm-steps/s at most")
