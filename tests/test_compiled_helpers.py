"""The compiled helpers of the decision and of applying adoptions give what the plain numpy
formulation they replace gives (random inputs, ties and repeated firms included)."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from sim import adoption, decision


def _prefix_ok_numpy(firm, cost, limit):
    cs = np.cumsum(cost)
    start = np.r_[True, firm[1:] != firm[:-1]]
    base = np.maximum.accumulate(np.where(start, np.arange(len(firm)), 0))
    run = cs - (cs[base] - cost[base])
    ok = run <= limit + 1e-9
    seen_bad = np.maximum.accumulate(np.where(~ok, np.arange(len(firm)), -1))
    return ok & (seen_bad < base)


@pytest.mark.parametrize("seed", range(5))
def test_budget_prefix_and_ordering_match_numpy(seed):
    rng = np.random.default_rng(seed)
    firm = np.sort(rng.integers(0, 60, 400))
    cost = rng.choice([0.0, 1e3, 2.5e4, 7e4], 400) * rng.random(400)
    limit = rng.choice([0.0, 5e4, 1e5], 60)[firm]
    np.testing.assert_array_equal(decision._group_prefix_ok(firm, cost, limit), _prefix_ok_numpy(firm, cost, limit))
    key = rng.choice([-2.0, -1.0, 0.0, 0.5], 400)  # many ties: the order must be stable
    np.testing.assert_array_equal(decision._order_within_firms(firm, key), np.lexsort((key, firm)))
    shuffled = rng.permutation(firm)  # unsorted firms fall back to lexsort
    np.testing.assert_array_equal(decision._order_within_firms(shuffled, key), np.lexsort((key, shuffled)))


def test_energy_change_and_neighbour_counts_match_numpy():
    rng = np.random.default_rng(3)
    n, C, K = 50, 8, 6
    energy = rng.random((n, C)) * 100
    process = rng.random(n) * 10
    capture = np.zeros(n)
    D = rng.normal(0, 0.1, (K, C + 1, C + 1))
    cap_k = rng.random(K) * (rng.random(K) < 0.3)
    firm = np.sort(rng.integers(0, n, 80))  # firms adopting several measures in one month
    measure = rng.integers(0, K, 80)
    e_ref, c_ref = energy.copy(), capture.copy()
    for f, k in zip(firm, measure):  # one after another, on the current energy
        x = np.r_[e_ref[f], process[f]]
        e_ref[f] = np.maximum(x[:C] + (D[k] @ x)[:C], 0.0)
        c_ref[f] = max(c_ref[f], cap_k[k])
    adoption.change_energy(firm, measure, D, cap_k, energy, process, capture)
    np.testing.assert_allclose(energy, e_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(capture, c_ref)

    a = sp.random(n, n, density=0.1, random_state=4, format="csr")
    peers = ((a + a.T) > 0).astype(np.float32).tocsr()
    counts = np.zeros((n, K), np.float32)
    adoption.count_neighbour_adopters(peers.indptr, peers.indices, firm, measure, counts)
    expected = np.zeros((n, K), np.float32)
    for f, k in zip(firm, measure):
        expected[peers.indices[peers.indptr[f]:peers.indptr[f + 1]], k] += 1
    np.testing.assert_array_equal(counts, expected)
