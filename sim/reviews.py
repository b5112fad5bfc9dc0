"""The investment-review calendar: firm ``i`` reviews its investments in the months ``t`` with
``t % interval == i % interval`` (``behaviour.review_interval_months``). A population's rows
are i.i.d. draws (a loaded firm list keeps its file's order), so striding by row staggers the
reviews evenly over the interval whatever the order. Every use of the calendar (who reviews
this month, each firm's first review, the next review of a firm, expiries aligned to reviews)
goes through these three functions.

(A calendar of contiguous blocks, firms ``[p n / interval, (p + 1) n / interval)`` in the
months ``t % interval == p``, would let each month's kernels read contiguous rows: measured
on 2026-11-29, 33.3 -> 22.9 ms a month at 1,000,000 firms and 1.83 -> 1.55 ms at 32,174. It
changes which firm reviews when, hence every run's results, and would tie the review month
to the order of a loaded firm list; docs/benchmark.md.)
"""
from __future__ import annotations

import numpy as np


def phase(n: int, interval: int) -> np.ndarray:
    """[n] int16: the month of the interval (0 .. interval - 1) in which each firm reviews."""
    return (np.arange(n) % interval).astype(np.int16)


def group(month: int, n: int, interval: int) -> np.ndarray:
    """The firms (sorted int64) whose review falls in ``month``."""
    return np.arange(month % interval, n, interval)


def first_review(firms, month, interval: int):
    """Each firm's first review month at or after ``month`` (arrays broadcast; ints stay ints)."""
    return month + (firms - month) % interval
