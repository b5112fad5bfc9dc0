"""The counter-based awareness draws: one uniform per (month, firm, measure) from the seed's key."""
from __future__ import annotations

import numpy as np
import pytest

# -- the counter-based awareness draws (issue 16) ---------------------------------------------
from sim.draws import below_exposure_cdf, check_counter_range, pair_uniform, uniforms  # noqa: E402


def _grid(key, months=40, firms=500, k=14):
    return np.stack([uniforms(np.uint64(key), m, np.arange(firms, dtype=np.int64), k) for m in range(months)])


def test_pair_uniforms_are_uniform_and_independent_along_every_axis():
    u = _grid(0x1234_5678_9ABC_DEF0)  # [month, firm, measure]: 280,000 numbers
    assert ((u >= 0) & (u < 1)).all()
    counts = np.bincount((u.ravel() * 100).astype(int), minlength=100)
    chi2 = ((counts - u.size / 100) ** 2 / (u.size / 100)).sum()
    assert chi2 < 160, chi2  # 99 d.o.f.: p ~ 1e-4
    tol = 5 / np.sqrt(u.size)  # 5 sd of a correlation estimate
    for axis in range(3):  # neighbouring months, firms, measures
        a, b = np.moveaxis(u, axis, 0)[:-1].ravel(), np.moveaxis(u, axis, 0)[1:].ravel()
        assert abs(np.corrcoef(a, b)[0, 1]) < 2 * tol, axis
    # the same low bits of the counter under two keys: unrelated numbers
    assert abs(np.corrcoef(u.ravel(), _grid(0x1234_5678_9ABC_DEF1).ravel())[0, 1]) < 2 * tol


def test_pair_uniform_is_a_pure_function_of_key_month_firm_measure():
    key = np.uint64(99)
    assert pair_uniform(key, 7, 123, 3) == pair_uniform(key, 7, 123, 3) == uniforms(key, 7, np.array([123]), 4)[0, 3]
    assert len({pair_uniform(key, m, f, k) for m in (0, 1) for f in (0, 1, 4096) for k in (0, 1)}) == 12
    with pytest.raises(ValueError, match="measures"):
        check_counter_range(120, 1000, 5000)


def test_the_uniforms_domain_comparison_is_the_exact_one():
    """below_exposure_cdf(u, x) == (u < 1 - exp(-x)) everywhere, also at the bounds it uses
    (the exact test compiled as the kernel's: numba's expm1 may differ from numpy's by an ulp)."""
    from numba import njit

    exact = njit(lambda a, b: a < -np.expm1(-b))
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.exponential(0.2, 20000), rng.exponential(5.0, 2000), [0.0, 1e-300, 1e-8, 50.0, np.inf]])
    p = -np.expm1(-x)
    with np.errstate(invalid="ignore"):
        u = np.concatenate([rng.random(x.size), p, np.nextafter(p, 0), np.nextafter(p, 1), x, x - x * x / 2])
    xx = np.tile(x, 6)
    got = np.array([below_exposure_cdf(a, b) for a, b in zip(u, xx)])
    np.testing.assert_array_equal(got, [exact(a, b) for a, b in zip(u, xx)])
    assert not below_exposure_cdf(0.5, np.nan)


def test_learning_frequency_is_one_minus_exp_of_the_exposure():
    u = _grid(5, months=20, firms=1000, k=10).ravel()
    for x in (0.01, 0.12, 0.7, 3.0):
        share = np.mean([below_exposure_cdf(a, x) for a in u[:50000]])
        p = 1 - np.exp(-x)
        assert abs(share - p) < 5 * np.sqrt(p * (1 - p) / 50000) + 1e-9, (x, share, p)
