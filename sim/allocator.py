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

:func:`map_large_blocks` fixes the threshold once per process; the engine calls it when it
builds a population of ``parallel.PARALLEL_MIN_FIRMS`` firms or more (smaller runs, sweeps and
the app keep glibc's default). Elsewhere than glibc (no ``mallopt``) it does nothing.
"""
from __future__ import annotations

import ctypes

M_MMAP_THRESHOLD = -3  # glibc <malloc.h>
MMAP_THRESHOLD_BYTES = 1 << 20
_SET: list[bool] = []


def map_large_blocks() -> bool:
    """Blocks of ``MMAP_THRESHOLD_BYTES`` and more are mapped and unmapped directly from now
    on (the whole process); True where the C library accepted it."""
    if not _SET:
        try:
            mallopt = ctypes.CDLL(None).mallopt  # (the process's own C library)
            _SET.append(bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)))
        except (OSError, AttributeError):
            _SET.append(False)
    return _SET[0]
