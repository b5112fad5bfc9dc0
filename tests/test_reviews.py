"""The investment-review calendar (sim/reviews.py): every firm reviews exactly once per
interval, in the month of its phase, and a firm's first review at or after a month is the
first month of its group."""
from __future__ import annotations

import numpy as np
import pytest

from sim import reviews


@pytest.mark.parametrize("n, interval", [(1, 12), (11, 12), (12, 12), (1000, 12), (37, 5), (10, 1)])
def test_each_firm_reviews_once_per_interval_in_its_phase(n, interval):
    start = 7
    groups = [reviews.group(m, n, interval) for m in range(start, start + interval)]
    seen = np.concatenate(groups)
    np.testing.assert_array_equal(np.sort(seen), np.arange(n))  # a partition of the firms
    ph = reviews.phase(n, interval)
    for m, g in zip(range(start, start + interval), groups):
        assert (ph[g] == m % interval).all() and (np.diff(g) > 0).all()
        np.testing.assert_array_equal(reviews.group(m + 3 * interval, n, interval), g)  # the same every interval


def test_first_review_is_the_first_month_of_the_firms_group():
    n, interval = 50, 12
    firms = np.arange(n)
    for month in (0, 5, 11, 12, 100):
        got = reviews.first_review(firms, month, interval)
        want = [next(t for t in range(month, month + interval) if f in reviews.group(t, n, interval)) for f in firms]
        np.testing.assert_array_equal(got, want)
        assert reviews.first_review(int(firms[3]), month, interval) == want[3]  # a single firm
