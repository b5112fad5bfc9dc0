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
    np.testing.assert_array_equal(decision.group_prefix_ok(firm, cost, limit), _prefix_ok_numpy(firm, cost, limit))
    key = rng.choice([-2.0, -1.0, 0.0, 0.5], 400)  # many ties: the order must be stable
    np.testing.assert_array_equal(decision._order_within_firms(firm, key), np.lexsort((key, firm)))
    shuffled = rng.permutation(firm)  # unsorted firms are sorted first
    np.testing.assert_array_equal(decision._order_within_firms(shuffled, key), np.lexsort((key, shuffled)))
    key[rng.random(400) < 0.1] = np.nan  # NaN last, as lexsort
    np.testing.assert_array_equal(decision._order_within_firms(shuffled, key), np.lexsort((key, shuffled)))


def _rank_numpy(firm, v, offers, with_ta, loan, loan_ratio, economic, capital, consultants_free):
    """The numpy formulation of ``decision._rank``."""
    from sim.screening import C_ANN, C_CAPEX, C_FUNDS, C_HIDDEN, C_NET, C_SKILLED

    capex, net, ann, hidden, funds = (v[:, c] for c in (C_CAPEX, C_NET, C_ANN, C_HIDDEN, C_FUNDS))
    skilled = v[:, C_SKILLED] > 0
    grant = offers.max(axis=0)
    instrument = np.where(grant > 0, offers.argmax(axis=0) + 1, 0)
    pv = capex - grant
    if loan_ratio is not None and loan.any():
        pv = pv - loan + loan * loan_ratio
    npv_s = net * ann - pv - hidden
    ta = with_ta[instrument]
    ok = (npv_s > 0 if economic else True) & ((capex - grant <= funds + loan) if capital else True)
    ok &= skilled | ta | consultants_free
    npv_plain = net * ann - capex - hidden
    ok_plain = (npv_plain > 0 if economic else True) & ((capex <= funds) if capital else True) & skilled
    order = np.lexsort((-npv_s / np.maximum(capex, 1.0), firm))
    f = firm[order]
    want = ok[order]
    if capital:
        want &= _prefix_ok_numpy(f, np.where(want, (capex - grant - loan)[order], 0.0), funds[order])
    return order, instrument[order], grant[order], npv_s[order], ok_plain[order], ta[order], want


@pytest.mark.parametrize("seed", range(6))
def test_offer_ranking_matches_numpy(seed):
    from sim.screening import C_ANN, C_CAPEX, C_FUNDS, C_HIDDEN, C_NET, C_REFF, C_SKILLED

    rng = np.random.default_rng(seed)
    n, G = 300, 2
    firm = np.sort(rng.integers(0, 80, n))
    measure = rng.integers(0, 14, n)
    v = np.zeros((n, 7))
    v[:, C_CAPEX] = rng.choice([500.0, 2e4, 3e5], n) * rng.random(n)
    v[:, C_NET] = rng.normal(2e3, 4e3, n)
    v[:, C_ANN] = rng.uniform(2, 9, n)
    v[:, C_HIDDEN] = 0.1 * v[:, C_CAPEX]
    v[:, C_REFF] = rng.uniform(0.05, 0.4, n)
    v[:, C_FUNDS] = rng.choice([0.0, 1e4, 1e5], 80)[firm]
    v[:, C_SKILLED] = rng.random(n) < 0.6
    offers = np.stack([np.where(rng.random(n) < 0.5, 0.3 * v[:, C_CAPEX], 0.0),
                       np.where(rng.random(n) < 0.3, np.minimum(0.5 * v[:, C_CAPEX], 8e3), 0.0)])
    with_ta = np.array([False, False, True])
    loan = np.where(rng.random(n) < 0.4, np.minimum(v[:, C_CAPEX] - offers.max(axis=0), 5e4), 0.0)
    ratio = rng.uniform(0.8, 1.2, n)
    for economic, capital, free, use_loan in [(True, True, False, True), (True, True, True, False),
                                              (False, True, False, True), (True, False, False, True)]:
        ln = loan if use_loan else np.zeros(n)
        # a consultant trained in the pair's measure is free for some pairs (per candidate)
        free = (rng.random(n) < 0.5) if free else np.zeros(n, bool)
        got = decision._rank(firm, measure, v, offers, with_ta, ln, use_loan, ratio if use_loan else np.zeros(0),
                             economic, capital, free)
        f, k, inst, fl, bo = got
        ref = _rank_numpy(firm, v, offers, with_ta, ln, ratio if use_loan else None, economic, capital, free)
        np.testing.assert_array_equal(f, firm[ref[0]])
        np.testing.assert_array_equal(k, measure[ref[0]])
        np.testing.assert_array_equal(inst, ref[1])
        np.testing.assert_array_equal(fl[decision.R_GRANT], ref[2])
        np.testing.assert_array_equal(fl[decision.R_NPV_S], ref[3])
        np.testing.assert_array_equal(bo[decision.B_OK_PLAIN], ref[4])
        np.testing.assert_array_equal(bo[decision.B_TA], ref[5])
        np.testing.assert_array_equal(bo[decision.B_WANT], ref[6])
        assert 0 < ref[6].sum() < n  # the case decides something either way


def test_energy_change_and_adoption_counters_match_numpy():
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
    e0, c0 = energy.copy(), capture.copy()
    adoption.change_energy(firm, measure, D, cap_k, energy, process, capture)
    np.testing.assert_allclose(energy, e_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(capture, c_ref)
    # on several threads by slices cut at firm boundaries (large months): the same numbers
    monkey_min, adoption.PARALLEL_MIN_PAIRS = adoption.PARALLEL_MIN_PAIRS, 1
    try:
        for threads in (2, 3, 7):
            e_t, c_t = e0.copy(), c0.copy()
            adoption.by_firm_slices(lambda fs, ks: adoption.change_energy(fs, ks, D, cap_k, e_t, process, c_t),
                                    firm, threads, measure)
            np.testing.assert_array_equal(e_t, energy)
            np.testing.assert_array_equal(c_t, capture)
    finally:
        adoption.PARALLEL_MIN_PAIRS = monkey_min

    a = sp.random(n, n, density=0.1, random_state=4, format="csr")
    peers = ((a + a.T) > 0).astype(np.float32).tocsr()
    sector = rng.integers(0, 3, n).astype(np.int16)
    cluster = rng.integers(-1, 2, n).astype(np.int16)  # -1: no association
    adopted, month_of = np.zeros((n, K), bool), np.full((n, K), 999, np.int16)
    expiry_of, seq_of = np.full((n, K), 999, np.int16), np.zeros((n, K), np.int16)
    count, by_sector, by_cluster = np.zeros(K, np.int64), np.zeros((3, K), np.int64), np.zeros((2, K))
    counts = np.zeros((n, K), np.float32)
    expiry = np.arange(len(firm), dtype=np.int16) + 40
    adoption.record(firm, measure, 7, expiry, sector, cluster, peers.indptr, peers.indices, adopted, month_of,
                    expiry_of, seq_of, count, by_sector, by_cluster, counts)
    last = {(f, k): i for i, (f, k) in enumerate(zip(firm, measure))}  # a repeated pair keeps its last entry
    for (f, k), i in last.items():
        assert expiry_of[f, k] == 40 + i
        # adoption order within the firm: its i-th adoption of the batch is number i + 1
        assert seq_of[f, k] == int((firm[:i + 1] == f).sum())
    expected = np.zeros((n, K), np.float32)
    for f, k in zip(firm, measure):
        expected[peers.indices[peers.indptr[f]:peers.indptr[f + 1]], k] += 1
    np.testing.assert_array_equal(counts, expected)
    assert adopted[firm, measure].all() and adopted.sum() == len(set(zip(firm, measure)))
    assert (month_of[firm, measure] == 7).all() and (month_of[~adopted] == 999).all()
    np.testing.assert_array_equal(count, np.bincount(measure, minlength=K))
    np.testing.assert_array_equal(by_sector, np.bincount(sector[firm] * K + measure, minlength=3 * K).reshape(3, K))
    m = cluster[firm] >= 0
    np.testing.assert_array_equal(by_cluster, np.bincount(cluster[firm][m] * K + measure[m], minlength=2 * K).reshape(2, K))

    # expiry: unrecord a subset of the installed pairs; every counter falls back to the numpy count
    f_all, k_all = np.nonzero(adopted)
    gone = rng.random(len(f_all)) < 0.5
    before = counts.copy()
    adoption.unrecord(f_all[gone], k_all[gone], 999, sector, cluster, peers.indptr, peers.indices, adopted, month_of,
                      expiry_of, count, by_sector, by_cluster, counts)
    assert not adopted[f_all[gone], k_all[gone]].any() and adopted[f_all[~gone], k_all[~gone]].all()
    assert (month_of[f_all[gone], k_all[gone]] == 999).all() and (expiry_of[f_all[gone], k_all[gone]] == 999).all()
    # (counters were raised once per record call, so repeated pairs count twice: compare the change)
    drop = np.zeros((n, K), np.float32)
    for f, k in zip(f_all[gone], k_all[gone]):
        drop[peers.indices[peers.indptr[f]:peers.indptr[f + 1]], k] += 1
    np.testing.assert_array_equal(counts, before - drop)
    np.testing.assert_array_equal(count, np.bincount(measure, minlength=K) - np.bincount(k_all[gone], minlength=K))

    # the neighbours' counts on their own (a large month's, on the background thread)
    apart = before.copy()
    adoption.add_to_neighbour_counts(f_all[gone], k_all[gone], peers.indptr, peers.indices, apart, -1)
    np.testing.assert_array_equal(apart, before - drop)
    adoption.add_to_neighbour_counts(f_all[gone], k_all[gone], peers.indptr, peers.indices, apart, 1)
    np.testing.assert_array_equal(apart, before)


def test_reapply_rebuilds_energy_from_the_base_in_adoption_order():
    rng = np.random.default_rng(5)
    n, C, K, Y = 40, 8, 6, 3
    base = rng.random((n, C)) * 100
    process = rng.random(n) * 10
    D = rng.normal(0, 0.1, (Y, K, C + 1, C + 1))
    cap_k = rng.random(K) * (rng.random(K) < 0.5)
    adopted = rng.random((n, K)) < 0.4
    seq = rng.permutation(n * K).reshape(n, K).astype(np.int32)
    year = rng.integers(0, Y, (n, K))
    energy, capture = np.zeros((n, C)), np.ones(n)
    rows = rng.permutation(n)  # any subset of firms, in any order: year rows follow the firms
    adoption.reapply(rows, base, process, adopted, seq, year[rows], D, cap_k, energy, capture)
    for f in range(n):
        x = base[f].copy()
        ks = sorted(np.flatnonzero(adopted[f]), key=lambda k: seq[f, k])
        for k in ks:
            x = np.maximum(x + (D[year[f, k], k] @ np.r_[x, process[f]])[:C], 0.0)
        np.testing.assert_allclose(energy[f], x, rtol=1e-12, atol=1e-12)
        assert capture[f] == (cap_k[ks].max() if ks else 0.0)


def test_rows_of_a_review_group_equal_fancy_indexing():
    from sim.screening import _progression_step, _rows

    a = np.random.default_rng(0).random((100, 9)).astype(np.float32)
    w = np.random.default_rng(1).random((9, 42)).astype(np.float32)
    for idx, step in [(np.arange(3, 100, 12), 12), (np.arange(0, 100), 1), (np.array([0, 2, 3, 6]), 0),
                      (np.array([5]), 0), (np.array([4, 4, 4]), 0), (np.array([9, 5, 1]), 0)]:
        assert _progression_step(idx) == step
        np.testing.assert_array_equal(_rows(a, idx), a[idx])
        np.testing.assert_array_equal(_rows(a, idx) @ w, a[idx] @ w)  # BLAS reads the strided view alike


def test_network_dedupe_keeps_the_first_of_each_tie_in_order():
    """The bucketed dedupe of the network's ties equals np.unique's first occurrences (sorted),
    with small buckets, a hub's large one (sorted path) and self-ties dropped."""
    from sim.network import _dedupe, _first_ties

    rng = np.random.default_rng(3)
    for n, E in [(40, 2000), (1000, 5000), (300, 30000)]:
        src, dst = rng.integers(0, n, E), rng.integers(0, n, E)
        src[: E // 4] = 7  # a hub: one bucket far above the pairwise-compared size
        kind = rng.integers(0, 3, E).astype(np.int8)
        key = src * n + dst
        _, first = np.unique(key, return_index=True)
        np.testing.assert_array_equal(np.flatnonzero(_first_ties(src, dst, n)), np.sort(first))
        s, d, k = _dedupe(src, dst, kind, n)
        keep = src != dst
        _, first = np.unique(key[keep], return_index=True)
        first.sort()
        np.testing.assert_array_equal(s, src[keep][first])
        np.testing.assert_array_equal(d, dst[keep][first])
        np.testing.assert_array_equal(k, kind[keep][first])


@pytest.mark.parametrize("n, E", [(1, 0), (2, 1), (40, 2000), (1000, 5000), (300, 30000)])
def test_network_adjacency_equals_scipys_csr(n, E):
    """The peers (a tie either way) and customers (supply ties) in CSR form are exactly the
    arrays scipy.sparse built before (indptr, sorted indices, int32), with repeats, ties both
    ways, empty rows and a hub above the insertion-sorted size; counts and shares equal
    scipy's products."""
    from sim.network import EDGE_KINDS, from_edges

    rng = np.random.default_rng(n + E)
    src, dst = rng.integers(0, n, E), rng.integers(0, n, E)
    src[: E // 4] = 0  # a hub
    src[E // 2: E // 2 + E // 8], dst[E // 2: E // 2 + E // 8] = dst[: E // 8], src[: E // 8]  # ties both ways
    kind = rng.integers(0, 3, E).astype(np.int8)
    net = from_edges(n, src, dst, kind)
    ones = np.ones(len(net.src), np.float32)
    a = sp.coo_matrix((ones, (net.src, net.dst)), shape=(n, n)).tocsr()
    peers = ((a + a.T) > 0).tocsr()
    peers.sort_indices()
    sup = net.kind == EDGE_KINDS.index("supply")
    cust = sp.coo_matrix((ones[sup], (net.src[sup], net.dst[sup])), shape=(n, n)).tocsr()
    cust.sort_indices()
    for mine, ref in ((net.peers, peers), (net.customers, cust)):
        for name in ("indptr", "indices"):
            got, want = getattr(mine, name), getattr(ref, name)
            assert got.dtype == np.int32
            np.testing.assert_array_equal(got, want)
        assert (mine.to_scipy() != ref.astype(bool)).nnz == 0
    flags = rng.random((n, 5)) < 0.3
    np.testing.assert_array_equal(net.peers.count(flags), peers @ flags.astype(np.float32))
    np.testing.assert_array_equal(net.peers.count(flags[:, 0]), peers @ flags[:, 0].astype(np.float32))
    n_cust = np.diff(cust.indptr)
    np.testing.assert_array_equal(net.customers.share(flags[:, 1]),
                                  np.where(n_cust > 0, cust @ flags[:, 1].astype(np.float32) / np.maximum(n_cust, 1), 0.0))


def test_row_sum_is_numpys_sum_to_the_last_bit():
    """The compiled books sum a firm's energy change by carrier in numpy's own order (its
    pairwise summation), so their yearly sums equal the numpy formulation's bit for bit."""
    rng = np.random.default_rng(11)
    for n in range(1, 129):
        rows = rng.standard_normal((200, n)) * 10.0 ** rng.uniform(-8, 8, (200, n))
        np.testing.assert_array_equal([adoption.row_sum(np.ascontiguousarray(r)) for r in rows], rows.sum(axis=1))
    # the books' energy changes: a one-by-one running sum would differ from numpy's for 8 carriers
    rows = rng.standard_normal((2000, 8)) * 10.0 ** rng.uniform(-8, 8, (2000, 8))
    running = rows[:, 0].copy()
    for c in range(1, 8):
        running = running + rows[:, c]
    assert (running != rows.sum(axis=1)).any()
