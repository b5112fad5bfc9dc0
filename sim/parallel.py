"""Threads of the monthly pass, for large populations.

The compiled kernels release the GIL (``nogil=True``), so the pieces of a phase that are
independent of each other run on a small pool of threads: the screening of a large review
group by chunks of firms (``screening.candidates``), the month's expiries by slices of the
review group (``adoption.departures_of``), the energy changes and rebuilds of a month's firms
by slices cut at firm boundaries (``adoption.by_firm_slices``). Each split is chosen so that
the result is the same on any number of threads (disjoint writes; integer counts). The
neighbours' adopter counts of a large month are not split but overlapped: one update runs on
a background thread (:func:`in_background`) while the month goes on, and their readers wait
for it (``ClusterModel.neighbour_adopters``). Only work large enough
to repay the hand-over (~10-50 us) is split: populations of ``PARALLEL_MIN_FIRMS`` firms and
more (smaller ones run as before, on the calling thread, with nothing extra to load).

``SIM_ENGINE_THREADS`` (environment) sets the number of threads: 1 runs everything on the
calling thread, as when many runs share the cores as processes (a sweep). Unset, the engine
uses the cores that are free now: the cores this process may use (at most 8) less the other
work the 1-minute load average shows (this process's own thread counts as one), at least one.
A split whose threads wait for busy cores is slower than no split (measured on the 2-core AMD
EPYC at load 2.5: 1,000,000 firms x 120 months 8.9 s on two threads, 6.5 s on one; 5.2 s on two
at load 1.1). Results do not depend on the number of threads, so it may change from call to call.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

#: populations from which the engine uses several threads
PARALLEL_MIN_FIRMS = 100_000
_POOLS: dict[tuple[int, int], ThreadPoolExecutor] = {}
_CORES: list[int] = []
_BLAS: list = []


def engine_threads() -> int:
    """The number of threads the engine may use (module docstring); a ``SIM_ENGINE_THREADS``
    that is not a whole number >= 1 is bad input (:class:`sim.errors.BadInput`)."""
    env = os.environ.get("SIM_ENGINE_THREADS", "").strip()
    if env:
        if not (env.isdigit() and int(env) >= 1):
            from .errors import BadInput

            raise BadInput(f"SIM_ENGINE_THREADS={env!r}: must be a whole number >= 1 (1 = one thread)")
        return int(env)
    if not _CORES:
        try:
            _CORES.append(len(os.sched_getaffinity(0)))
        except AttributeError:  # (not Linux)
            _CORES.append(os.cpu_count() or 1)
    cores = min(_CORES[0], 8)
    try:
        free = cores - os.getloadavg()[0] + 1.0  # (the load counts this process's own thread)
    except (AttributeError, OSError):  # (no load average: Windows)
        free = cores
    return max(1, min(cores, int(free + 0.5)))


def threads_for(n_firms: int) -> int:
    """Threads for a model of ``n_firms`` firms (1 below ``PARALLEL_MIN_FIRMS``)."""
    return engine_threads() if n_firms >= PARALLEL_MIN_FIRMS else 1


def run_all(fn, jobs: list, threads: int) -> list:
    """``[fn(job) for job in jobs]``, on ``threads`` threads when more than one (results in
    the order of ``jobs``)."""
    if threads <= 1 or len(jobs) <= 1:
        return [fn(j) for j in jobs]
    key = (threads, os.getpid())  # (a forked child has none of its parent's threads: a pool of its own)
    pool = _POOLS.get(key)
    if pool is None:
        pool = _POOLS[key] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sim-engine")
    return list(pool.map(fn, jobs))


def in_background(fn):
    """Start ``fn()`` on the engine's background thread (one per process, work in order of
    submission) and return its future: work whose result the calling thread needs only later
    (``ClusterModel``'s neighbours' counts of a large month, read by the next screening). A
    fork of the process waits for it first (a child has no such thread, and must not copy
    arrays it is writing)."""
    key = ("background", os.getpid())
    pool = _POOLS.get(key)
    if pool is None:
        pool = _POOLS[key] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sim-background")
        if not _LAST:
            os.register_at_fork(before=_finish_background)
    future = pool.submit(fn)
    _LAST[:] = [future]
    return future


_LAST: list = []  # the background thread's latest work (it runs in order: the others are done before it)


def _finish_background() -> None:
    if _LAST:
        _LAST[0].result()


def serial_blas():
    """A context in which BLAS runs on the calling thread only. The screening's firms' state
    times the year's weights is a thin product ([R, C+1] x [C+1, 3K]): handing it to BLAS's own
    threads costs more than it computes, and far more when the cores are busy (measured on a
    loaded 2-core AMD EPYC: 16,384 rows 0.3 ms on one thread, 3-8 ms on two). Same numbers:
    each element is one thread's dot product either way."""
    if not _BLAS:
        from threadpoolctl import ThreadpoolController

        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=1, user_api="blas")
