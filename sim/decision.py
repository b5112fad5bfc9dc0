"""The adoption decision, vectorised over all (firm, measure) pairs under review this month.

A firm adopts a measure when every term below lets it (each term can be switched off in
``behaviour.terms``; off = the barrier is absent). Each barrier has one home in
``sim/barriers/<name>.py``: its formula, parameters, switch and the mechanisms that relieve it.

information   it is aware of the measure. Awareness arrives at a monthly hazard
              p_k (spontaneous; Bass innovation) + q * peer_share (Bass imitation; neighbours
              and fellow association members who adopted) + customer pressure;
              an unaware pair becomes aware at a review with probability
              1 - exp(-hazard * months since the firm's last review). Peer share = share
              of the firm's neighbours that adopted the measure (complete graph: of all
              firms it applies to) + cluster_broker_weight * adopter share of its
              association's members, capped at 1. Mechanisms add awareness directly
              (workshops, pre-assessments: ``Engine.inform``).
economics     its net present value at the firm's own effective discount rate is positive:
              NPV = (energy cost saving * (1 + non-energy benefits) + carbon price * abated
              scope-1 t - O&M + mechanisms' extra value) * annuity(r_eff, lifetime)
              - (capex - grant) [- loan + PV of the loan's repayments at r_eff] - hidden costs.
risk          r_eff = max(hurdle rate - customer_pressure_per_yr * customer pressure
              + risk_aversion * (1 - risk relief) * risk premium_k
              * (1 - peer_risk_relief_share * peer_share), 0.005) per year.
hidden_costs  hidden_cost_share_k * capex * (1 - relief from workshops/assessments), USD.
capital       the firm's share of capex fits its investment budget (cash + credit) plus any
              green loan; measures are funded in order of profitability until it is spent.
skills        its capability >= the measure's complexity, or a trained consultant (the
              consultant pool) or a grant channel's technical assistance is available.

Incentives enter as offers: every grant channel a mechanism added (``Engine.add_grants``:
cost-share projects, capex subsidies, green funds ...) offers a grant; the largest wins; a
green loan covers the rest of the capex. Offers are allocated in candidate order until
budgets, quotas and credit lines are used up; a candidate that loses its offer is
re-decided without it, in the same month.

Units: USD, USD/yr, t CO2/yr, shares in [0, 1], rates per year.

The per-pair terms and the candidate pre-filter are evaluated in one compiled pass in
``screening.py``; the candidates' best offers, NPVs, order and budget prefix in another
(``_rank``); the grant channels' own ``allocate``/``release`` then hand out budgets and quotas.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numba import njit

from .energy import ELECTRICITY, NATURAL_GAS, SCOPE1_CARRIERS
from . import reviews, screening
from .barriers.economics import annuity_factor
from .screening import C_ANN, C_CAPEX, C_FUNDS, C_HIDDEN, C_NET, C_REFF, C_SKILLED

_EMPTY = np.zeros(0)

#: instrument code of an adoption without a grant (grant instruments are 1, 2, ... in the
#: order of ``model.gov.grant_instruments``; names in ``model.gov.instrument_names``)
NONE = 0


@dataclass(frozen=True)
class Valuation:
    """Per-measure linear maps from a firm's state x = [energy MWh/yr by carrier, process t/yr]
    to yearly quantities if it adopts the measure (shapes [K, C+1])."""

    saving_usd: np.ndarray  # energy cost saved, USD/yr
    abated_scope1_t: np.ndarray  # scope-1 t CO2/yr avoided
    abated_scope2_t: np.ndarray  # scope-2 t CO2/yr avoided
    size_basis: np.ndarray  # MWh/yr removed or t/yr captured (capex basis)
    state_change: np.ndarray  # [K, C+1, C+1] change of x on adoption
    abated_t: np.ndarray  # scope 1 + 2 t CO2/yr avoided


def valuation(cat, shift: np.ndarray, price: np.ndarray, ef: np.ndarray) -> Valuation:
    """Build the year's per-measure valuation maps from its prices and emission factors."""
    K, C = cat.k, len(price)
    e1 = np.concatenate([np.where(SCOPE1_CARRIERS, ef, 0.0), [1.0]])
    e2 = np.zeros(C + 1)
    e2[ELECTRICITY] = ef[ELECTRICITY]
    prx = np.concatenate([price, [0.0]])
    D = np.zeros((K, C + 1, C + 1))
    D[:, :C, :C] = shift
    cap = cat.capture_share
    D[:, NATURAL_GAS, :] += (cat.capture_penalty_mwh_per_t_co2 * cap)[:, None] * e1[None, :]
    saving = -np.einsum("kij,i->kj", D, prx)
    dscope1 = np.einsum("kij,i->kj", D, e1)
    abated1 = cap[:, None] * e1[None, :] - (1.0 - cap)[:, None] * dscope1
    abated2 = -np.einsum("kij,i->kj", D, e2)
    basis = np.zeros((K, C + 1))
    basis[:, :C] = cat.removes_share
    basis += cap[:, None] * e1[None, :]
    return Valuation(saving, abated1, abated2, basis, D, abated1 + abated2)


@dataclass
class Batch:
    """The month's adoptions (one entry per adopted (firm, measure), sorted by firm)."""

    firm: np.ndarray
    measure: np.ndarray
    capex_usd: np.ndarray
    firm_cost_usd: np.ndarray
    grant_usd: np.ndarray
    instrument: np.ndarray
    loan_usd: np.ndarray
    loan_grant_equivalent_usd: np.ndarray
    consultant: np.ndarray
    npv_usd: np.ndarray
    abatement_t_per_yr: np.ndarray
    #: the firm would have adopted this measure this month without grant or loan
    without_support: np.ndarray

    @classmethod
    def empty(cls) -> "Batch":
        z = np.zeros(0)
        zi = np.zeros(0, dtype=np.int64)
        return cls(zi, zi, z, z, z, zi, z, z, np.zeros(0, bool), z, z, np.zeros(0, bool))

    @classmethod
    def concat(cls, batches: list["Batch"]) -> "Batch":
        batches = [b for b in batches if len(b)]
        if not batches:
            return cls.empty()
        if len(batches) == 1:
            return batches[0]
        out = cls(*[np.concatenate([getattr(b, f) for b in batches]) for f in cls.__dataclass_fields__])
        order = np.argsort(out.firm, kind="stable")
        return cls(*[getattr(out, f)[order] for f in cls.__dataclass_fields__])

    def __len__(self) -> int:
        return len(self.firm)

    def for_log(self) -> "Batch":
        """This batch with its index columns in the smallest types that hold them (firm int32,
        measure int16, instrument int8; the money and tonnes as they are): the adoption log of
        a 1,000,000-firm run keeps ~800,000 rows over ten years."""
        return replace(self, firm=self.firm.astype(np.int32), measure=self.measure.astype(np.int16),
                       instrument=self.instrument.astype(np.int8))


@dataclass
class Terms:
    """Every term of the decision for a block of firms x all measures (dense [R, K] arrays)."""

    open: np.ndarray  # aware, applicable, available, not adopted, and something to save
    capex: np.ndarray  # USD
    net_value: np.ndarray  # USD/yr: energy + non-energy + carbon-price value - O&M
    saving: np.ndarray  # USD/yr energy cost saved
    r_eff: np.ndarray  # per yr: hurdle + risk - customer pressure
    annuity: np.ndarray  # yr
    hidden: np.ndarray  # USD
    share: np.ndarray  # peer share
    funds: np.ndarray  # [R] USD
    skilled: np.ndarray  # [R, K] bool

    def npv(self, grant_usd=0.0) -> np.ndarray:
        """[R, K] NPV of each measure, USD (module docstring, economics): value over the
        lifetime at the firm's effective rate, minus the firm's share of capex after a grant
        of ``grant_usd`` (scalar or [R, K]), minus hidden costs. Float32, in the decision's
        order of operations."""
        return self.net_value * self.annuity - (self.capex - grant_usd) - self.hidden


def terms(model, firms) -> Terms:
    """The decision terms (see module docstring) of the firms ``firms`` (index array) for
    every measure, as dense float32 [R, K] arrays (evaluated by ``screening``)."""
    idx = np.arange(model.n_firms)[firms] if isinstance(firms, slice) else np.atleast_1d(np.asarray(firms, np.int64))
    # planes in the order of screening.D_OPEN ... D_SKILLED
    is_open, capex, net, saving, r_eff, ann, hidden, share, skilled = screening.dense_terms(model, idx)
    ft = model.firms
    return Terms(is_open > 0, capex, net, saving, r_eff, ann, hidden, share,
                 ft.cash_usd_per_yr[idx] + ft.credit_usd[idx], skilled > 0)


@dataclass
class _Pairs:
    firm: np.ndarray
    measure: np.ndarray
    capex: np.ndarray
    net_value: np.ndarray  # USD/yr after O&M
    annuity: np.ndarray
    hidden: np.ndarray
    r_eff: np.ndarray
    funds: np.ndarray
    skilled: np.ndarray
    #: PV of a green loan's repayments per USD borrowed, at the firm's own rate (None: no loans)
    loan_ratio: np.ndarray | None


def _npv(p: _Pairs, grant: np.ndarray, loan: np.ndarray) -> np.ndarray:
    """NPV with a grant and a green loan (the numpy formulation of ``_rank``'s)."""
    pv_cost = p.capex - grant
    if p.loan_ratio is not None and loan.any():
        pv_cost = pv_cost - loan + loan * p.loan_ratio
    return p.net_value * p.annuity - pv_cost - p.hidden


def group_prefix_ok(firm: np.ndarray, cost: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """Within each firm (pairs sorted by firm), True while the running sum of ``cost`` fits
    ``limit``; once a firm's budget is exceeded, its later (less profitable) measures wait."""
    firm = np.ascontiguousarray(firm, dtype=np.int64)
    return _prefix_ok(firm, np.ascontiguousarray(cost, dtype=np.float64),
                      np.ascontiguousarray(np.broadcast_to(limit, firm.shape), dtype=np.float64))


@njit(cache=True, nogil=True)
def _prefix_ok(firm, cost, limit):
    n = len(firm)
    out = np.zeros(n, np.bool_)
    cs = 0.0
    prior = 0.0
    bad = False
    for i in range(n):
        cs += cost[i]  # the running sum over all pairs (as numpy's cumsum)
        if i == 0 or firm[i] != firm[i - 1]:
            prior = cs - cost[i]
            bad = False
        ok = cs - prior <= limit[i] + 1e-9
        out[i] = ok and not bad
        if not ok:
            bad = True
    return out


def _order_within_firms(firm: np.ndarray, key: np.ndarray) -> np.ndarray:
    """``np.lexsort((key, firm))``: by firm, then by ``key`` ascending (NaN last), ties in input order."""
    return _lex_order(np.ascontiguousarray(firm, dtype=np.int64), np.ascontiguousarray(key, dtype=np.float64))


@njit(cache=True, nogil=True)
def _lex_order(firm, key):
    """Stable sort by firm, then an insertion sort of each firm's run by key (a run is a
    firm's <= K measures; candidates arrive sorted by firm, so the first sort is skipped)."""
    n = len(firm)
    order = np.arange(n)
    for i in range(1, n):
        if firm[i] < firm[i - 1]:
            order = np.argsort(firm, kind="mergesort")
            break
    start = 0
    while start < n:
        end = start + 1
        while end < n and firm[order[end]] == firm[order[start]]:
            end += 1
        for i in range(start + 1, end):
            j, v = i, order[i]
            kv = key[v]
            while j > start:
                ku = key[order[j - 1]]
                if not (ku > kv or (np.isnan(ku) and not np.isnan(kv))):
                    break
                order[j] = order[j - 1]
                j -= 1
            order[j] = v
        start = end
    return order


# rows of the float [11, P] and bool [4, P] tables of ``_rank``
(R_CAPEX, R_NET, R_ANN, R_HIDDEN, R_REFF, R_FUNDS, R_LOAN_RATIO, R_GRANT, R_LOAN, R_NPV_S, R_NPV_PLAIN) = range(11)
B_SKILLED, B_OK_PLAIN, B_TA, B_WANT = range(4)


@njit(cache=True, nogil=True, error_model="numpy")
def _rank(firm, measure, v, offers, with_ta, loan, loan_on, loan_ratio, economic, capital, consultants_free):
    """The candidates' best grant offer (largest of ``offers`` [G, P]; ``loan``: the green-loan
    offer on the rest of the capex), NPV with and without support, and whether they pass with
    support (``with_ta``: the instrument brings technical assistance; ``consultants_free``:
    [P] a consultant trained in the pair's measure is available) and without; then ordered by firm, most profitable (NPV with support per USD
    of capex) first, and each firm's wanted measures funded in that order until its budget is
    spent. Returns firm, measure, instrument and the [11, P] float and [4, P] bool tables
    (rows R_*, B_*), in that order. The arithmetic is the numpy formulation's."""
    n, G = len(firm), offers.shape[0]
    grant = np.zeros(n)
    inst = np.zeros(n, np.int64)
    any_loan = False
    for i in range(n):
        if G > 0:
            g, b = offers[0, i], 0
            for j in range(1, G):
                if offers[j, i] > g:
                    g, b = offers[j, i], j
            grant[i] = g
            inst[i] = b + 1 if g > 0 else NONE
        any_loan = any_loan or loan[i] != 0
    use_ratio = loan_on and any_loan
    npv_s = np.empty(n)
    key = np.empty(n)
    ok_s = np.empty(n, np.bool_)
    for i in range(n):
        capex, value = v[i, C_CAPEX], v[i, C_NET] * v[i, C_ANN]
        pv_cost = capex - grant[i]
        if use_ratio:
            pv_cost = pv_cost - loan[i] + loan[i] * loan_ratio[i]
        npv_s[i] = value - pv_cost - v[i, C_HIDDEN]
        key[i] = -npv_s[i] / max(capex, 1.0)
        ok = npv_s[i] > 0 if economic else True
        if capital:
            ok = ok and capex - grant[i] <= v[i, C_FUNDS] + loan[i]
        ok_s[i] = ok and (v[i, C_SKILLED] > 0 or with_ta[inst[i]] or consultants_free[i])
    order = _lex_order(firm, key)
    fl = np.empty((11, n))
    bo = np.empty((4, n), np.bool_)
    f_o = np.empty(n, np.int64)
    k_o = np.empty(n, np.int64)
    i_o = np.empty(n, np.int64)
    cost = np.empty(n)
    for o in range(n):
        i = order[o]
        capex, value, hidden, funds = v[i, C_CAPEX], v[i, C_NET] * v[i, C_ANN], v[i, C_HIDDEN], v[i, C_FUNDS]
        skilled = v[i, C_SKILLED] > 0
        npv_plain = value - capex - hidden
        f_o[o], k_o[o], i_o[o] = firm[i], measure[i], inst[i]
        fl[R_CAPEX, o], fl[R_NET, o], fl[R_ANN, o], fl[R_HIDDEN, o] = capex, v[i, C_NET], v[i, C_ANN], hidden
        fl[R_REFF, o], fl[R_FUNDS, o] = v[i, C_REFF], funds
        fl[R_LOAN_RATIO, o] = loan_ratio[i] if loan_on else 0.0
        fl[R_GRANT, o], fl[R_LOAN, o], fl[R_NPV_S, o], fl[R_NPV_PLAIN, o] = grant[i], loan[i], npv_s[i], npv_plain
        ok_plain = npv_plain > 0 if economic else True
        if capital:
            ok_plain = ok_plain and capex <= funds
        bo[B_SKILLED, o] = skilled
        bo[B_OK_PLAIN, o] = ok_plain and skilled
        bo[B_TA, o] = with_ta[inst[i]]
        bo[B_WANT, o] = ok_s[i]
        cost[o] = (capex - grant[i]) - loan[i] if ok_s[i] else 0.0
    if capital:
        fits = _prefix_ok(f_o, cost, fl[R_FUNDS])
        for o in range(n):
            bo[B_WANT, o] = bo[B_WANT, o] and fits[o]
    return f_o, k_o, i_o, fl, bo


def decide(model, idx: np.ndarray, update_awareness: bool = False) -> Batch:
    """Adoptions of the firms under review (``idx``: sorted index array into the firm table).
    With ``update_awareness`` the information term comes first: each unaware applicable pair
    meets its counter-based number of the month (``sim/draws.py``: a function of the seed,
    month, firm and measure only, so policies share them: common random numbers); False = no
    awareness update (the initial stock)."""
    firm, measure, v = screening.candidates(model, idx, update_awareness)
    if model.played is not None:  # a workshop player decides for the firm it plays (``decide_chosen``)
        keep = ~model.played[firm]
        firm, measure, v = firm[keep], measure[keep], v[keep]
    return _decide_pairs(model, firm, measure, v)


def _decide_pairs(model, firm, measure, v, chosen: bool = False) -> Batch:
    """The month's adoptions among candidate pairs (``decide``); ``chosen``: the pairs a
    player chose (``decide_chosen``): the player's choice replaces the economics test, and a
    pair whose grant or loan ran out in the allocation is not adopted (the player chose it
    with that support)."""
    if len(firm) == 0:
        return Batch.empty()
    green_loan, pool, switches = model.instruments["green_loan"], model.consultants, model.behaviour.terms
    p, instrument, grant, loan, npv_s, ok_plain, programme_ta, want = _ranked(model, firm, measure, v)
    if chosen:
        want = _player_wants(model, p, grant, loan, programme_ta)
        offered, lent = instrument != NONE, loan > 0
    instrument, grant, loan, programme_ta, want, got_by, got_loan = _allocate_offers(
        model, p, instrument, grant, loan, programme_ta, want)
    if chosen:  # feasible at the support it keeps; support it counted on and lost: not adopted
        want = want & ~(offered & (instrument == NONE)) & ~(lent & (loan <= 0))
    firm_cost = p.capex - grant
    # skills: a trained consultant for firms that lack the capability (programme projects
    # come with the programme's technical assistance)
    consultant = pool.allocate(want & ~p.skilled & ~programme_ta, p.measure)
    want &= p.skilled | programme_ta | consultant
    if switches.capital:  # each firm funds its chosen measures, most profitable first, until its budget is spent
        want = want & group_prefix_ok(p.firm, np.where(want, firm_cost - loan, 0.0), p.funds)
    # give back what dropped candidates had been allocated
    for g, gi in zip(model.gov.grant_instruments, got_by):
        g.release(gi & ~want, grant)
    green_loan.release(got_loan & ~want, loan)
    pool.release(consultant & ~want)
    consultant &= want
    grant = np.where(want, grant, 0.0)

    sel = np.flatnonzero(want)
    f, k = p.firm[sel], p.measure[sel]
    return Batch(
        firm=f,
        measure=k,
        capex_usd=p.capex[sel],
        firm_cost_usd=firm_cost[sel],
        grant_usd=grant[sel],
        instrument=instrument[sel],
        loan_usd=loan[sel],
        loan_grant_equivalent_usd=green_loan.grant_equivalent(loan[sel]),
        consultant=consultant[sel],
        npv_usd=npv_s[sel],
        abatement_t_per_yr=model.abatement_t_per_yr(f, k),
        without_support=ok_plain[sel],
    )


def decide_chosen(model, firm, measure) -> tuple[Batch, np.ndarray]:
    """Adoptions workshop players chose for the firms they play (``sim/mechanisms/players.py``,
    through ``Engine.adopt``): the (firm, measure) pairs still open (aware, applicable, on
    sale, not in place, something to save) get the same offers as the rule's candidates (the
    largest grant, a green loan on the rest), in the same allocation of budgets, credit line,
    consultants and the firm's funds; only the economics test is the player's own. Returns
    the batch and, per requested pair in the order given, its outcome code (``CHOICE_OUTCOMES``)."""
    firm, measure = np.asarray(firm, np.int64), np.asarray(measure, np.int64)
    order = np.lexsort((measure, firm))
    f, k = firm[order], measure[order]
    u, row = np.unique(f, return_inverse=True)
    tm = terms(model, u)
    is_open = tm.open[row, k]
    v = np.empty((len(f), 7))
    v[:, C_CAPEX], v[:, C_NET], v[:, C_ANN] = tm.capex[row, k], tm.net_value[row, k], tm.annuity[row, k]
    v[:, C_HIDDEN], v[:, C_REFF], v[:, C_FUNDS] = tm.hidden[row, k], tm.r_eff[row, k], tm.funds[row]
    v[:, C_SKILLED] = tm.skilled[row, k]
    batch = _decide_pairs(model, f[is_open], k[is_open], v[is_open], chosen=True)
    K = model.catalogue.k
    got = np.isin(f * K + k, batch.firm * K + batch.measure)
    code = np.where(got, 0, np.where(is_open, 2, 1))
    out = np.empty(len(f), np.int8)
    out[order] = code
    return batch, out


#: outcome of a player's choice (``decide_chosen``): adopted; no longer open (in place, not
#: aware, not on sale or nothing to save); not feasible at the step (funds, skills, or the
#: support it was offered ran out)
CHOICE_OUTCOMES = ("adopted", "not_open", "not_feasible")


def _player_wants(model, p: _Pairs, grant, loan, programme_ta) -> np.ndarray:
    """The pairs a player chose that are feasible at these offers: funds (most profitable
    first within a firm, as the rule funds them) and skills; no economics test."""
    sw = model.behaviour.terms
    ok = _passes(p, _NoEconomics(sw.capital), grant, loan, programme_ta | model.consultants.available_for(p.measure))
    if sw.capital:
        ok &= group_prefix_ok(p.firm, np.where(ok, p.capex - grant - loan, 0.0), p.funds)
    return ok


@dataclass(frozen=True)
class _NoEconomics:
    """The behaviour switches ``_passes`` reads, with the economics test off (a player's choice)."""
    capital: bool
    economics: bool = False


def _ranked(model, firm, measure, v):
    """Offers: the most generous grant any channel offers, plus a green loan on the rest;
    then the candidates ordered by firm, most profitable first, with what each wants at
    those offers (``_rank``)."""
    grants, engine, green_loan = model.gov.grant_instruments, model.engine, model.instruments["green_loan"]
    n, capex, r_eff = len(firm), v[:, C_CAPEX], v[:, C_REFF]
    offers = np.stack([g.offer(engine, firm, measure, capex) for g in grants]) if grants else np.zeros((0, n))
    with_ta = np.array([False] + [g.technical_assistance for g in grants])
    loan_cfg = green_loan.params if green_loan.active else None
    loan = green_loan.offer(engine, firm, capex - offers.max(axis=0) if grants else capex, r_eff)
    ratio = _EMPTY
    if loan_cfg is not None:  # PV of a green loan's repayments per USD borrowed, at the firm's own rate
        ratio = annuity_factor(r_eff, loan_cfg.term_yr) / annuity_factor(
            np.full_like(r_eff, loan_cfg.interest_rate_per_yr), loan_cfg.term_yr)
    switches = model.behaviour.terms
    f, k, instrument, fl, bo = _rank(firm, measure, v, offers, with_ta, loan, loan_cfg is not None, ratio,
                                     switches.economics, switches.capital, model.consultants.available_for(measure))
    p = _Pairs(f, k, fl[R_CAPEX], fl[R_NET], fl[R_ANN], fl[R_HIDDEN], fl[R_REFF], fl[R_FUNDS], bo[B_SKILLED],
               fl[R_LOAN_RATIO] if loan_cfg is not None else None)
    return p, instrument, fl[R_GRANT], fl[R_LOAN], fl[R_NPV_S], bo[B_OK_PLAIN], bo[B_TA], bo[B_WANT]


def _allocate_offers(model, p, instrument, grant, loan, programme_ta, want):
    """Each grant channel's budget/quota, then the credit line, in candidate order; a
    candidate refused for lack of money is re-decided without the offer."""
    grants, engine, green_loan = model.gov.grant_instruments, model.engine, model.instruments["green_loan"]
    got_by = []
    got = np.zeros(len(want), bool)
    for code, g in enumerate(grants, start=1):
        mask = want & (instrument == code)
        if g.one_per_firm:
            mask = _first_in_firm_among(p.firm, mask)
        gi = g.allocate(mask, grant)
        got_by.append(gi)
        got |= gi
    lost = want & (instrument != NONE) & ~got
    grant = np.where(lost, 0.0, grant)
    instrument = np.where(lost, NONE, instrument)
    programme_ta &= ~lost
    loan = np.where(lost, green_loan.offer(engine, p.firm, p.capex - grant, p.r_eff), loan)
    got_loan = green_loan.allocate(want & (loan > 0), loan)
    lost_loan = want & (loan > 0) & ~got_loan
    loan = np.where(got_loan, loan, 0.0)
    redo = lost | lost_loan
    if redo.any():
        again = _passes(p, model.behaviour.terms, grant, loan, programme_ta | model.consultants.available_for(p.measure))
        want = np.where(redo, again, want)
    return instrument, grant, loan, programme_ta, want, got_by, got_loan


def _passes(p: _Pairs, switches, grant, loan, consultant_ok) -> np.ndarray:
    """Worth it, affordable and feasible at these offers (the re-decision of ``_rank``'s test)."""
    n = len(p.firm)
    worth = _npv(p, grant, loan) > 0 if switches.economics else np.ones(n, bool)
    fits = (p.capex - grant <= p.funds + loan) if switches.capital else np.ones(n, bool)
    return worth & fits & (p.skilled | consultant_ok)


@njit(cache=True, nogil=True)
def _first_in_firm_among(firm: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """True at the first position of each firm among positions where ``mask`` holds (pairs
    sorted by firm)."""
    out = np.zeros(len(firm), np.bool_)
    last, have = 0, False
    for i in range(len(firm)):
        if mask[i] and (not have or firm[i] != last):
            out[i] = True
            last, have = firm[i], True
    return out


#: what the firm inspector says of each (firm, measure) pair, in order of precedence: the
#: first that holds is its status (``explain``)
STATUSES = ("adopted", "not_applicable", "not_available", "not_aware", "not_worth_it", "cannot_finance",
            "cannot_implement", "would_adopt")
#: the barrier (``behaviour.terms``) behind each blocking status
STATUS_TERM = {"not_aware": "information", "not_worth_it": "economics", "cannot_finance": "capital",
               "cannot_implement": "skills"}


def min_grant_usd(tm: Terms, r: int, k: int) -> float:
    """The smallest whole-dollar grant that makes pair (r, k) worth it by ``Terms.npv``
    (NPV > 0): about -NPV, since a grant adds one-for-one; searched on whole dollars so that
    the float32 arithmetic of ``Terms.npv`` agrees (g gives NPV > 0, g - 1 does not)."""
    npv_at = lambda g: float(tm.npv(float(g))[r, k])
    if npv_at(0.0) > 0:
        return 0.0
    g = float(np.floor(-float(tm.npv()[r, k]))) + 1.0
    lo, hi = g, g  # widen until npv(lo - 1) <= 0 < npv(hi), then bisect on whole dollars
    step = 1.0
    while npv_at(hi) <= 0:
        hi += step
        step *= 2
    step = 1.0
    while lo > 1 and npv_at(lo - 1) > 0:
        lo = max(lo - step, 1.0)
        step *= 2
    lo -= 1  # npv(lo) <= 0 (or lo = 0)
    while hi - lo > 1:
        mid = np.floor((lo + hi) / 2)
        if npv_at(mid) > 0:
            hi = mid
        else:
            lo = mid
    return hi


def terms_at_carbon_price(model, firms, usd_per_t: float, covered: bool = True) -> Terms:
    """The decision terms ``terms(model, firms)`` re-computed as if the carbon price were
    ``usd_per_t`` and covered the firms (``covered``); the model is left as it was."""
    gov = model.gov
    price, covers = gov.carbon_price_usd_per_t, gov.carbon_price_covers
    try:
        gov.carbon_price_usd_per_t = float(usd_per_t)
        cov = covers.copy()
        cov[np.atleast_1d(np.asarray(firms))] = covered
        gov.carbon_price_covers = cov
        return terms(model, firms)
    finally:
        gov.carbon_price_usd_per_t, gov.carbon_price_covers = price, covers


def carbon_price_covers(model, firm: int) -> bool:
    """Whether a carbon price applies to the firm: the current price's coverage, or with no
    price now, the coverage of the ``carbon_price`` instrument (its ``min_size_class``)."""
    gov = model.gov
    if gov.carbon_price_usd_per_t > 0:
        return bool(gov.carbon_price_covers[firm])
    cp = model.instruments.get("carbon_price")
    return bool(cp is not None and getattr(cp, "covers", None) is not None and cp.covers[firm])


def min_carbon_price_usd_per_t(model, firm: int, k: int, tm: Terms | None = None, limit: float = 1e5) -> float | None:
    """The smallest whole USD/t carbon price at which measure ``k`` is worth it for ``firm``
    (NPV without support > 0), or None when no price can do it (the measure avoids no scope-1
    CO2, the firm is not covered, or it takes more than ``limit``). The NPV is linear in the
    price: NPV(p) = NPV(p0) + (p - p0) * abated scope-1 t/yr * annuity; the whole-dollar
    answer is checked by re-computing the terms at p and p - 1 (``terms_at_carbon_price``)."""
    if not carbon_price_covers(model, firm):
        return None
    tm = terms(model, [firm]) if tm is None else tm
    K = model.catalogue.k
    s1 = float((model.state32[[firm]] @ model.c32.weights)[0, 2 * K + k])
    ann = float(tm.annuity[0, k])
    p0 = float(model.gov.carbon_price_usd_per_t)
    if not s1 > 0 or not ann > 0:
        return None
    npv0 = float(tm.npv()[0, k])
    if npv0 > 0:
        return p0
    p = float(np.floor(p0 - npv0 / (s1 * ann))) + 1.0
    if p > limit:
        return None
    npv_at = lambda q: float(terms_at_carbon_price(model, firm, q).npv()[0, k])
    for _ in range(64):  # float32 rounding: step to the smallest whole price that works
        if npv_at(p) <= 0:
            p += 1.0
        elif p - 1 >= p0 and npv_at(p - 1) > 0:
            p -= 1.0
        else:
            return p if p <= limit else None
    return None


def _offers_for(model, firm: int, ks: np.ndarray, tm: Terms) -> dict:
    """The engine's offers and verdict for the pairs (firm, ks) as at a review now
    (``_ranked``: the best grant any channel offers, a green loan on the rest, NPV with that
    support, each term, the firm's budget spent most profitable first); measure -> dict."""
    if len(ks) == 0:
        return {}
    v = np.empty((len(ks), 7))
    v[:, C_CAPEX], v[:, C_NET], v[:, C_ANN] = tm.capex[0, ks], tm.net_value[0, ks], tm.annuity[0, ks]
    v[:, C_HIDDEN], v[:, C_REFF], v[:, C_FUNDS] = tm.hidden[0, ks], tm.r_eff[0, ks], tm.funds[0]
    v[:, C_SKILLED] = tm.skilled[0, ks]
    p, instrument, grant, loan, npv_s, ok_plain, programme_ta, want = _ranked(
        model, np.full(len(ks), firm, np.int64), np.asarray(ks, np.int64), v)
    sw = model.behaviour.terms
    # a channel that funds one project per firm funds only its first (most profitable)
    # wanted measure; the others are re-decided without that grant (``_allocate_offers``)
    lost = np.zeros(len(want), bool)
    for code, g in enumerate(model.gov.grant_instruments, start=1):
        if g.one_per_firm:
            mask = want & (instrument == code)
            lost |= mask & ~_first_in_firm_among(p.firm, mask)
    if lost.any():
        grant, instrument = np.where(lost, 0.0, grant), np.where(lost, NONE, instrument)
        programme_ta = programme_ta & ~lost
        gl = model.instruments["green_loan"]
        loan = np.where(lost, gl.offer(model.engine, p.firm, p.capex - grant, p.r_eff), loan)
        npv_s = np.where(lost, _npv(p, grant, loan), npv_s)
        again = _passes(p, sw, grant, loan, programme_ta | model.consultants.available_for(p.measure))
        want = np.where(lost, again, want)
        if sw.capital:
            want = want & group_prefix_ok(p.firm, np.where(want, p.capex - grant - loan, 0.0), p.funds)
    out, spent = {}, 0.0
    for i in range(len(p.firm)):
        cost = p.capex[i] - grant[i] - loan[i]
        worth = npv_s[i] > 0 or not sw.economics
        fits = p.capex[i] - grant[i] <= p.funds[i] + loan[i] or not sw.capital
        able = bool(p.skilled[i] or programme_ta[i] or model.consultants.available_for(p.measure[i:i + 1])[0])
        out[int(p.measure[i])] = dict(
            grant_usd=float(grant[i]), loan_usd=float(loan[i]), npv_with_support_usd=float(npv_s[i]),
            instrument=int(instrument[i]), worth=bool(worth), fits=bool(fits), able=able, want=bool(want[i]),
            needs_consultant=bool(not p.skilled[i] and not programme_ta[i]),
            missing_usd=float(max(cost - (p.funds[i] - spent), 0.0)))
        if want[i]:
            spent += cost
    return out


def next_review_month(model, firm: int) -> int:
    """The next month (after the current one) in which ``firm`` reviews its investments."""
    return int(reviews.first_review(firm, model.month + 1, model.behaviour.review_interval_months))


def explain(model, firm: int) -> list[dict]:
    """For one firm, every measure with the value of each decision term, its ``status`` (the
    first of ``STATUSES`` that holds, from the terms and offers the engine would use at a
    review now) and ``change``: what would change it (computed: the grant and the carbon
    price that would make it worth it, the missing funds, a consultant, information)."""
    ft, cat, b = model.firms, model.catalogue, model.behaviour
    firm = int(firm)
    idx = np.array([firm])
    tm = terms(model, idx)
    npvs = tm.npv()
    K = cat.k
    basis = (model.state32[idx] @ model.c32.weights)[0, K:2 * K]
    ab = model.abatement_t_per_yr(np.repeat(idx, K), np.arange(K))
    funds = float(tm.funds[0])
    adopted, applicable = ft.adopted[firm], ft.applicable[firm] & (basis > 0)
    considered = applicable & ~adopted & model.available & (ft.aware[firm] | (not b.terms.information))
    offers = _offers_for(model, firm, np.flatnonzero(considered), tm)
    rows = []
    for k, name in enumerate(cat.names):
        row = {"measure": name, "label": cat.labels[k], "applicable": bool(ft.applicable[firm, k]),
               "available": bool(model.available[k]), "aware": bool(ft.aware[firm, k]),
               "adopted": bool(adopted[k]), "change": {}}
        if row["applicable"] and row["available"]:
            capex = float(tm.capex[0, k])
            npv = float(npvs[0, k])
            row.update(
                capex_usd=capex, saving_usd_per_yr=float(tm.saving[0, k]), abatement_t_per_yr=float(ab[k]),
                effective_rate_per_yr=float(tm.r_eff[0, k]), hidden_cost_usd=float(tm.hidden[0, k]), npv_usd=npv,
                peer_share=float(tm.share[0, k]), funds_usd=funds,
                information_ok=row["aware"] or not b.terms.information,
                economics_ok=npv > 0 or not b.terms.economics,
                capital_ok=capex <= funds or not b.terms.capital,
                skills_ok=bool(tm.skilled[0, k]),
            )
        o = offers.get(k)
        if o is not None:
            row.update(offer_grant_usd=o["grant_usd"], offer_loan_usd=o["loan_usd"],
                       npv_with_support_usd=o["npv_with_support_usd"], needs_consultant=o["needs_consultant"],
                       economics_ok=o["worth"], capital_ok=o["fits"], skills_ok=o["able"])
        if adopted[k]:
            status = "adopted"
        elif not applicable[k]:
            status = "not_applicable"
        elif not model.available[k]:
            status = "not_available"
            yr = int(cat.available_from_year[k])
            row["change"] = {"available_from_year": yr} if yr > model.year else {"infrastructure": True}
        elif o is None:
            status = "not_aware"
            row["change"] = {"information": True}
        elif not o["worth"]:
            status = "not_worth_it"
            row["change"] = {"grant_usd": min_grant_usd(tm, 0, k),
                             "carbon_price_usd_per_t": min_carbon_price_usd_per_t(model, firm, k, tm)}
        elif not o["fits"] or (o["able"] and not o["want"]):
            status = "cannot_finance"
            row["change"] = {"missing_usd": max(float(np.ceil(o["missing_usd"])), 1.0)}
        elif not o["able"]:
            status = "cannot_implement"
            row["change"] = {"consultant": True}
        else:
            status = "would_adopt"
            row["change"] = {"review_month": next_review_month(model, firm)}
        row["status"] = status
        row["decisive"] = STATUS_TERM.get(status, status)
        rows.append(row)
    return rows
