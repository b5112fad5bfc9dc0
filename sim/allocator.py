"""The C heap of large populations.

glibc's ``malloc`` serves blocks below a threshold from its heap and maps larger ones
directly; the threshold rises to the size of the largest block freed so far (up to 32 MiB).
A model of 1,000,000 firms frees many 1-30 MiB temporaries while it is built (the network's
edge lists, the firm table's draws), so the threshold rises and later blocks of that size come
from the heap, where the freed space of the build stays in the process: measured on the 2-core
AMD EPYC, 880 MiB resident after building the 1,000,000-firm model of ``make bench`` for 680
MiB of live data, and a 962 MiB peak over 120 months. With the threshold fixed at 1 MiB, each
block of 1 MiB and more is mapped when allocated and returned to the system when freed: 682
MiB after the build, peak 885 MiB, the same step time within the noise of that machine
(5.5-6.2 s of CPU for 120 months either way). Results cannot change: only where memory comes
from does.

:func:`map_large_blocks` sets that threshold; the engine calls it when it starts building a
population of ``parallel.PARALLEL_MIN_FIRMS`` firms or more (smaller runs, sweeps and the app
keep glibc's default).

The months are the opposite case: they allocate and free the same 1-30 MiB temporaries every
month (a month's candidates and their ranking, a year's [N] rate temporaries: 8 MB at
1,000,000 firms). Mapped directly, each one is mapped, zeroed page by page by the kernel and
unmapped again: measured at 1,000,000 firms x 120 months, 146,682 page faults and 0.59 s of
system time. So once a large model is built, :func:`reuse_month_blocks` raises the threshold to
``MONTH_MMAP_THRESHOLD_BYTES`` (and the heap's trim threshold to ``MONTH_TRIM_THRESHOLD_BYTES``):
those blocks come from the heap and are reused month after month (16,330 page faults, 0.26 s
of system time, 120 months 4.53 s instead of 4.89 s; peak 915 MB instead of 898 MB, both
measured on the 2-core AMD EPYC). The build's freed space was already returned, so what stays
in the heap is one month's temporaries. Elsewhere than glibc (no ``mallopt``) both do nothing.
"""
from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc <malloc.h>
MMAP_THRESHOLD_BYTES = 1 << 20
MONTH_MMAP_THRESHOLD_BYTES = 32 << 20
MONTH_TRIM_THRESHOLD_BYTES = 256 << 20
_MALLOPT: list = []
_MODE: list[str] = []


def _mallopt():
    if not _MALLOPT:
        try:
            _MALLOPT.append(ctypes.CDLL(None).mallopt)  # (the process's own C library)
        except (OSError, AttributeError):
            _MALLOPT.append(None)
    return _MALLOPT[0]


def _set(mode: str, settings: tuple[tuple[int, int], ...]) -> bool:
    mallopt = _mallopt()
    if mallopt is None:
        return False
    if _MODE[-1:] != [mode]:
        ok = all(bool(mallopt(param, value)) for param, value in settings)
        _MODE[:] = [mode] if ok else []
        return ok
    return True


def map_large_blocks() -> bool:
    """Blocks of ``MMAP_THRESHOLD_BYTES`` and more are mapped and unmapped directly from now
    on (the whole process: a large population's build); True where the C library accepted it."""
    return _set("build", ((M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES),))


def reuse_month_blocks() -> bool:
    """Blocks below ``MONTH_MMAP_THRESHOLD_BYTES`` come from the heap and freed ones stay there
    for reuse (up to ``MONTH_TRIM_THRESHOLD_BYTES`` at its top) from now on (the whole process:
    a large model's months); True where the C library accepted it."""
    return _set("months", ((M_MMAP_THRESHOLD, MONTH_MMAP_THRESHOLD_BYTES),
                           (M_TRIM_THRESHOLD, MONTH_TRIM_THRESHOLD_BYTES)))
