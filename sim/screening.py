"""Screening: the month's review of every (firm, measure) pair of the firms under review, in
one compiled pass (numba).

For each pair it updates the information term (awareness) and evaluates the decision terms of
``decision.py`` (capex, net value, effective rate, annuity, hidden costs, funds, skills); pairs
that could pass with the most generous support any active instrument offers become the
month's *candidates*, which ``decision.decide`` then allocates offers to. The formulas are
the ones documented in ``decision.py``; each barrier's rule lives in ``sim/barriers/`` and is
inlined here. ``dense_terms`` returns every term for a few firms (the firm inspector,
mechanisms' ``engine.terms``, validation).

Why compiled: a month touches ~R x K pairs (2,681 x 14 in the Bajio region); as numpy it was
~100 whole-array passes (awareness hazard, peer share, the annuity's log/exp, the
pre-filter), each allocating an [R, K] temporary. One pass skips a pair as soon as a term
rules it out (not applicable, unaware, adopted, no money even with the largest grant) and
bounds the annuity by min(lifetime, 1 / r) before evaluating its log and exp, which only the
few pairs that could pass need. The firms' state times the year's per-measure weights (energy
cost saving, size basis, scope-1 abatement) is one matrix product before the pass. The
awareness draws are made in the pass, for the unaware applicable pairs only: each such pair's
counter-based number of the month (``sim/draws.py``; since issue 16). Arithmetic
is float32; ``tests/test_screening.py`` checks the pass against an independent float64 numpy
formulation of the documented formulas (pairs within float32 rounding of a threshold may
fall either way). Numba caches this kernel by this file's timestamp: after editing a rule in
``sim/barriers/``, clear ``sim/__pycache__`` (or touch this file).
"""
from __future__ import annotations

import threading
from contextlib import nullcontext

import numpy as np
from numba import njit

from .barriers import capital, economics, hidden_costs, information, risk, skills
from .draws import pair_uniform
from .parallel import run_all, serial_blas, threads_for

F32 = np.float32

# behaviour switches, in the order of the ``switches`` array
INFORMATION, PEER_AWARENESS, PEER_RISK, CUSTOMER_PRESSURE, RISK, HIDDEN_COSTS, SKILLS, ECONOMICS, CAPITAL = range(9)
_SWITCH_NAMES = ("information", "peer_awareness", "peer_risk", "customer_pressure", "risk", "hidden_costs",
                 "skills", "economics", "capital")
# per-measure constants, rows of the ``per_measure`` [10, K] float32 table
(CAPEX_FIXED, CAPEX_UNIT, NEB, OM, RISK_PREMIUM, NEG_LIFETIME, HIDDEN_SHARE, COMPLEXITY, INFO_RATE,
 AVAILABLE) = range(10)
# scalar parameters, entries of the ``scalars`` float64 array
(MONTH, CARBON_PRICE, PEER_AWARENESS_RATE, CP_AWARENESS_RATE, CP_RATE, PEER_RELIEF, BROKER_WEIGHT, LOAN_MAX,
 MEAN_FIELD, HAS_CLUSTERS) = range(10)
# candidate float outputs, columns of the [P, 7] float64 table
C_CAPEX, C_NET, C_ANN, C_HIDDEN, C_REFF, C_FUNDS, C_SKILLED = range(7)
# dense outputs, planes of the [9, R, K] float32 array
D_OPEN, D_CAPEX, D_NET, D_SAVING, D_REFF, D_ANN, D_HIDDEN, D_SHARE, D_SKILLED = range(9)


@njit(cache=True, nogil=True, boundscheck=False, error_model="numpy")
def _screen(idx, aw_key, update_awareness, dense, switches, scalars,
            aware, applicable, adopted, last_review, cpress, hurdle, risk_aversion, risk_relief, hidden_relief,
            capability, cash, credit, carbon_cover,
            glob_share, nbr_adopters, inv_degree, cluster, cluster_table,
            dots, per_measure, g_share, g_cap, capex_factor, extra_value,
            aware_count, cand_pair, cand_val, dense_out, st, nb):
    """Returns the number of candidates written to ``cand_pair`` ([P, 2] int64: row in idx,
    measure) and ``cand_val`` ([P, 7] float64); with ``dense`` writes every term of every pair
    to ``dense_out`` instead and returns 0. ``dots`` ([R, 3K]) are the firms' state times the
    year's per-measure weights: energy cost saving | size basis | scope-1 abatement. ``st``
    ([R, K] uint8) and ``nb`` ([R, K] float32) are scratch space (the caller's: a kernel on a
    worker thread allocates nothing, so no memory piles up in the threads' own heaps)."""
    R, K = idx.shape[0], per_measure.shape[1]
    G = g_share.shape[0]
    info_on, peer_aw, peer_risk = switches[INFORMATION], switches[PEER_AWARENESS], switches[PEER_RISK]
    cust, risk_on, hidden_on = switches[CUSTOMER_PRESSURE], switches[RISK], switches[HIDDEN_COSTS]
    skills_on, economics_on, capital_on = switches[SKILLS], switches[ECONOMICS], switches[CAPITAL]
    month = int(scalars[MONTH])
    cp = F32(scalars[CARBON_PRICE])
    peer_aw_rate, cp_aw_rate = F32(scalars[PEER_AWARENESS_RATE]), scalars[CP_AWARENESS_RATE]
    cp_rate, neg_relief = scalars[CP_RATE], F32(-scalars[PEER_RELIEF])
    broker = scalars[BROKER_WEIGHT]
    loan_max = scalars[LOAN_MAX]
    loan_max32 = F32(loan_max)
    mean_field, has_clusters = scalars[MEAN_FIELD] > 0, scalars[HAS_CLUSTERS] > 0
    with_share = peer_aw or peer_risk
    has_factor, has_extra = capex_factor.shape[0] > 0, extra_value.shape[0] > 0
    one, zero = F32(1.0), F32(0.0)
    n_out = 0
    # gather the firms' rows first (a pass of independent loads: the review group is strided)
    for r in range(R):
        f = idx[r]
        for k in range(K):
            st[r, k] = np.uint8(applicable[f, k]) | (np.uint8(aware[f, k]) << 1) | (np.uint8(adopted[f, k]) << 2)
            nb[r, k] = nbr_adopters[f, k]
    for r in range(R):
        f = idx[r]
        months = F32(max(month - last_review[f], 1))
        cp_hazard = F32(cp_aw_rate * cpress[f])
        base = risk.base_rate(cust, hurdle[f], cp_rate, cpress[f])
        risk_weight = risk_aversion[f] * (one - risk_relief[f])
        relief = one - hidden_relief[f]
        funds = capital.funds_usd(cash[f], credit[f])
        funds_loan32 = F32(funds + loan_max)
        cover = cp if carbon_cover[f] else zero  # carbon price * covered
        for k in range(K):
            app = (st[r, k] & 1) != 0
            if not app and not dense:
                continue
            share = zero
            if with_share:
                # peer share (barriers/information.py): neighbours' or all firms' adopter share
                # + the association's, capped at 1
                if mean_field:
                    share = glob_share[k]
                else:
                    share = nb[r, k] * inv_degree[f]
                if has_clusters:
                    share += F32(broker * cluster_table[cluster[f] + 1, k])
                share = min(share, one)
            # information: awareness arrives at the review ------------------------------
            aw = (st[r, k] & 2) != 0
            if update_awareness and app and not aw:
                u = pair_uniform(aw_key, month, f, k)  # the pair's number this month (sim/draws.py)
                if information.learns(info_on, peer_aw, cust, per_measure[INFO_RATE, k], share, peer_aw_rate, cp_hazard,
                                      months, u):
                    aware[f, k] = True
                    aw = True
                    aware_count[k] += 1
            is_open = aw and app and (st[r, k] & 4) == 0 and per_measure[AVAILABLE, k] > 0
            if not is_open and not dense:
                continue
            basis = dots[r, K + k]
            if basis <= 0:
                is_open = False
                if not dense:
                    continue
            capex = basis * per_measure[CAPEX_UNIT, k] + per_measure[CAPEX_FIXED, k]
            if has_factor:
                capex *= capex_factor[r, k]
            if not dense:
                # pre-filter with the most generous support any active instrument offers
                g_max = zero
                for i in range(G):
                    s = g_share[i, k]
                    g = g_cap[i, k] if s == np.inf else min(s * capex, g_cap[i, k])
                    g_max = max(g_max, g)
                if capital_on and not capex - g_max <= funds_loan32:
                    continue
                support = g_max
                if loan_max != 0:
                    support_loan = min(capex, loan_max32)
                else:
                    support_loan = zero
            saving = dots[r, k]
            s1 = dots[r, 2 * K + k]  # scope-1 t/yr abated (for the carbon price)
            value = saving
            neb = per_measure[NEB, k]
            if neb > 0:
                value += max(saving, zero) * neb
            if cp != 0:
                value += s1 * cover
            net = value - capex * per_measure[OM, k]
            if has_extra:
                net += extra_value[r, k]
            hidden = hidden_costs.hidden_cost(hidden_on, capex, per_measure[HIDDEN_SHARE, k], relief)
            skilled = skills.skilled(skills_on, capability[f], per_measure[COMPLEXITY, k])
            r_eff = risk.effective_rate(risk_on, peer_risk, base, share, neg_relief, per_measure[RISK_PREMIUM, k],
                                        risk_weight)
            if not dense and economics_on:
                # first with the annuity's upper bound min(lifetime, 1 / r) (a hair above,
                # against rounding): a pair failing it fails the exact test too, and the
                # exact annuity (log and exp) is only needed for the few that pass
                life = -per_measure[NEG_LIFETIME, k]
                ann_max = min(life, one / r_eff) * F32(1.0001)
                upper = (net * ann_max if net > 0 else zero) - capex - hidden + support + support_loan
                if upper <= 0:
                    continue
            ann = economics.annuity(r_eff, per_measure[NEG_LIFETIME, k])
            if dense:
                dense_out[D_OPEN, r, k] = one if is_open else zero
                dense_out[D_CAPEX, r, k] = capex
                dense_out[D_NET, r, k] = net
                dense_out[D_SAVING, r, k] = saving
                dense_out[D_REFF, r, k] = r_eff
                dense_out[D_ANN, r, k] = ann
                dense_out[D_HIDDEN, r, k] = hidden
                dense_out[D_SHARE, r, k] = share
                dense_out[D_SKILLED, r, k] = one if skilled else zero
                continue
            if economics_on:
                bound = net * ann - capex - hidden + support + support_loan
                if not bound > 0:
                    continue
            cand_pair[n_out, 0] = r
            cand_pair[n_out, 1] = k
            cand_val[n_out, C_CAPEX] = capex
            cand_val[n_out, C_NET] = net
            cand_val[n_out, C_ANN] = ann
            cand_val[n_out, C_HIDDEN] = hidden
            cand_val[n_out, C_REFF] = r_eff
            cand_val[n_out, C_FUNDS] = funds
            cand_val[n_out, C_SKILLED] = 1.0 if skilled else 0.0
            n_out += 1
    return n_out


def _inputs(model, idx: np.ndarray, dots: bool = True):
    """The model's state as the kernel's arguments (no copies of firm columns); ``dots=False``:
    the firms' state x weights product (argument ``DOTS``) left for the caller (a worker thread:
    ``_Chunk.screen``) as the ``(state32 rows, weights)`` to multiply."""
    ft, b, c, gov = model.firms, model.behaviour, model.c32, model.gov
    t = b.terms
    switches = np.array([getattr(t, s) for s in _SWITCH_NAMES], dtype=np.bool_)
    green_loan = model.instruments["green_loan"]
    loan_max = green_loan.params.max_loan_per_firm_usd if green_loan.active else 0.0
    scalars = np.array([model.month, gov.carbon_price_usd_per_t, b.peer_awareness_per_month,
                        b.customer_pressure_awareness_per_month, b.customer_pressure_per_yr, b.peer_risk_relief_share,
                        b.cluster_broker_weight, loan_max, float(model.mean_field), float(len(model.clusters) > 0)])
    if model.mean_field:
        glob = (model.adopter_count / np.maximum(model.applicable_count, 1)).astype(F32)
    else:
        glob = np.zeros(ft.aware.shape[1], F32)
    cluster_table = model.cluster_share_table() if len(model.clusters) else np.zeros((1, ft.aware.shape[1]), F32)
    g_share, g_cap = gov.grant_bounds()
    factor, extra = _programme_terms(model, idx)
    per_measure = c.per_measure.copy()
    per_measure[AVAILABLE] = model.available
    return (switches, scalars, ft.aware, ft.applicable, ft.adopted, ft.last_review_month,
            model.customer_pressure, ft.hurdle_rate_per_yr, ft.risk_aversion, ft.risk_relief, ft.hidden_cost_relief,
            ft.capability, ft.cash_usd_per_yr, ft.credit_usd, gov.carbon_price_covers,
            glob, model.neighbour_adopters, model.inv_degree, ft.cluster, cluster_table,
            _rows(model.state32, idx) @ c.weights if dots else (_rows(model.state32, idx), c.weights), per_measure,
            g_share, g_cap, factor, extra)


#: position of the state x weights product among ``_inputs``' arguments
DOTS = 20


_EMPTY2 = np.zeros((0, 0), F32)


def _rows(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``a[idx]``; a strided view when ``idx`` is an arithmetic progression (a month's review
    group is), which BLAS reads in place: same values, no gather."""
    step = _progression_step(idx)
    return a[idx[0]:idx[-1] + 1:step] if step > 0 else a[idx]


@njit(cache=True, nogil=True)
def _progression_step(idx):
    """The step of ``idx`` if it is an increasing arithmetic progression of >= 2 terms, else 0."""
    n = len(idx)
    if n < 2 or idx[1] <= idx[0]:
        return 0
    step = idx[1] - idx[0]
    for i in range(2, n):
        if idx[i] - idx[i - 1] != step:
            return 0
    return step


def _programme_terms(model, idx):
    """Mechanisms' hooks: a capex factor and extra yearly value per pair ([R, K] or empty)."""
    factor = extra = None
    engine = model.engine
    for mech in model.mechanisms:
        fac = mech.capex_factor(engine, idx)
        if fac is not None:
            factor = fac if factor is None else factor * fac
        ev = mech.extra_value_usd_per_yr(engine, idx)
        if ev is not None:
            extra = ev if extra is None else extra + ev
    shape = (len(idx), model.catalogue.k)  # hooks may return anything that broadcasts to [R, K]
    as32 = lambda a: _EMPTY2 if a is None else np.ascontiguousarray(np.broadcast_to(a, shape), dtype=F32)
    return as32(factor), as32(extra)


def candidates(model, idx: np.ndarray, update_awareness: bool):
    """Screen the firms ``idx`` (sorted int64): with ``update_awareness``, first their awareness
    (each unaware applicable pair meets its number of the month, ``sim/draws.py``, under the
    model's ``awareness_key``); return the candidate pairs as (firm [P], measure [P],
    values [P, 7] float64: columns C_*).

    A large review group is screened in chunks of at most ``CHUNK_FIRMS`` firms (bounded
    temporaries); in a large population (``parallel.PARALLEL_MIN_FIRMS``) in at least one chunk
    per thread, on the engine's threads, with BLAS kept on the calling thread. Chunks are
    independent (a pair's awareness update and terms read only its own firm's row and the
    month's shared state), each counts the awareness it adds on its own, and the chunks'
    candidates are joined in firm order: the result is the same on any number of threads."""
    idx = np.ascontiguousarray(idx, dtype=np.int64)
    R, K = len(idx), model.catalogue.k
    threads = threads_for(model.n_firms)
    n_chunks = max(-(-R // CHUNK_FIRMS), min(threads, R))
    if n_chunks <= 1:
        return _screen_chunk(idx, K, update_awareness, model.awareness_key, _inputs(model, idx), model.aware_count)
    bounds = np.linspace(0, R, n_chunks + 1).astype(np.int64)
    shared = _inputs(model, idx, dots=False)  # (the group's: mechanisms' hooks once, on this thread)
    (rows, weights), factor, extra = shared[DOTS], shared[-2], shared[-1]
    part = lambda a, lo, hi: a[lo:hi] if a.size else a
    jobs = [_Chunk(idx[lo:hi], K, shared[:DOTS] + ((rows[lo:hi], weights),) + shared[DOTS + 1:-2]
                   + (part(factor, lo, hi), part(extra, lo, hi))) for lo, hi in zip(bounds[:-1], bounds[1:])]
    with serial_blas() if threads > 1 else nullcontext():
        run = lambda job: job.screen(update_awareness, model.awareness_key)
        run_all(run, jobs, threads)
    for job in jobs:
        model.aware_count += job.aware_count
    return tuple(np.concatenate(p) for p in zip(*[job.out for job in jobs]))


def _screen_chunk(idx, K, update_awareness, key, inputs, aware_count):
    """One kernel call: the candidates of the firms ``idx`` (awareness added to ``aware_count``)."""
    job = _Chunk(idx, K, inputs, aware_count)
    job.screen(update_awareness, key)
    return job.out


class _Chunk:
    """A kernel call's arguments and its candidates (copied out of the running thread's
    scratch buffers, :func:`_scratch`, as soon as the kernel returns)."""

    def __init__(self, idx, K, inputs, aware_count=None):
        self.idx, self.K, self.inputs = idx, K, inputs
        self.aware_count = np.zeros(K, np.int64) if aware_count is None else aware_count
        self.out = None

    def screen(self, update_awareness, key) -> None:
        R, K = len(self.idx), self.K
        pair, val, st, nb, dots = _scratch(R, K)
        args = self.inputs
        if isinstance(args[DOTS], tuple):  # the state x weights product, on this thread
            rows, weights = args[DOTS]
            args = args[:DOTS] + (np.matmul(rows, weights, out=dots[:R * weights.shape[1]].reshape(R, -1)),) \
                + args[DOTS + 1:]
        n = _screen(self.idx, key, bool(update_awareness), False, *args, self.aware_count, pair, val, _EMPTY3, st, nb)
        self.out = (self.idx[pair[:n, 0]], pair[:n, 1].copy(), val[:n].copy())


_SCRATCH = threading.local()


def _scratch(R: int, K: int):
    """This thread's buffers for a kernel call of ``R`` firms x ``K`` measures: candidates
    (pairs [R*K, 2], values [R*K, 7]), the kernel's state and neighbour scratch ([R, K]) and
    the state x weights product ([R, 3K]). Kept between calls and grown when a call needs
    more, so a month's screening allocates only its candidates: at 1,000,000 firms the
    chunks' buffers (~20 MB each) no longer churn through the heap every month."""
    cap = getattr(_SCRATCH, "pairs", 0)
    if cap < R * K:
        cap = R * K
        _SCRATCH.pairs = cap
        _SCRATCH.bufs = (np.empty((cap, 2), np.int64), np.empty((cap, 7)), np.empty(cap, np.uint8),
                         np.empty(cap, F32), np.empty(3 * cap, F32))
    pair, val, st, nb, dots = _SCRATCH.bufs
    return pair, val, st[:R * K].reshape(R, K), nb[:R * K].reshape(R, K), dots


_EMPTY3 = np.zeros((0, 0, 0), F32)
#: firms screened per kernel call at most (a month of the Bajio region is 2,681; at 1,000,000 firms
#: the 83,334 under review make ~21 chunks, which balance the two threads within ~0.6 ms)
CHUNK_FIRMS = 4096
def dense_terms(model, idx: np.ndarray) -> np.ndarray:
    """Every decision term of every pair of the firms ``idx`` as a [9, R, K] float32 array
    (planes D_*), without changing the model."""
    idx = np.ascontiguousarray(np.atleast_1d(idx), dtype=np.int64)
    R, K = len(idx), model.catalogue.k
    out = np.zeros((9, R, K), F32)
    _screen(idx, model.awareness_key, False, True, *_inputs(model, idx), np.zeros(K, np.int64),
            np.empty((0, 2), np.int64), np.empty((0, 7)), out, np.empty((R, K), np.uint8), np.empty((R, K), F32))
    return out
