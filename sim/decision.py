"""The adoption decision, vectorised over all (firm, measure) pairs under review this month.

A firm adopts a measure when every term below lets it (each term can be switched off in
``behaviour.terms``; off = the barrier is absent):

information   it is aware of the measure. Awareness arrives at a monthly rate
              p_k (spontaneous; Bass innovation) + q * peer_share (Bass imitation; neighbours
              and fellow association members who adopted) + customer pressure;
              workshops and programme pre-assessments add awareness directly.
economics     its net present value at the firm's own effective discount rate is positive:
              NPV = (energy cost saving * (1 + non-energy benefits) + carbon price * abated
              scope-1 t - O&M) * annuity(r_eff, lifetime) - PV(firm's share of capex)
              - hidden costs.
risk          r_eff = hurdle rate + risk_aversion * risk premium_k * (1 - workshop relief)
              * (1 - peer relief * peer_share) - customer pressure (USD-free, per year).
hidden_costs  hidden_cost_share_k * capex * (1 - relief from workshops/assessments), USD.
capital       the firm's share of capex fits its investment budget (cash + credit) plus any
              green loan; measures are funded in order of profitability until it is spent.
skills        its capability >= the measure's complexity, or a trained consultant (training
              courses) or a cost-share programme's technical assistance is available.

Incentives enter as offers: a cost-share grant (programme quota and budget), a capex
subsidy (budget), a green loan (credit line). Offers are allocated in candidate order until
budgets, quotas and credit lines are used up; a candidate that loses its offer is
re-decided without it, in the same month.

Units: USD, USD/yr, t CO2/yr, shares in [0, 1], rates per year.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .energy import ELECTRICITY, NATURAL_GAS, SCOPE1_CARRIERS

#: counter-based random streams (see rng.py)
STREAM_AWARENESS = 1
STREAM_WORKSHOP = 2
STREAM_ASSESSMENT = 3

#: instrument codes used in the adoption log
INSTRUMENTS = ("none", "capex_subsidy", "cost_share")
NONE, SUBSIDY, COST_SHARE = 0, 1, 2


def annuity_factor(rate: np.ndarray, years: np.ndarray) -> np.ndarray:
    """Present value of 1 USD/yr for ``years`` years at ``rate`` per year."""
    rate = np.maximum(rate, 1e-6)
    return (1.0 - (1.0 + rate) ** (-years)) / rate


@dataclass(frozen=True)
class Valuation:
    """Per-measure linear maps from a firm's state x = [energy MWh/yr by carrier, process t/yr]
    to yearly quantities if it adopts the measure (shapes [K, C+1])."""

    saving_usd: np.ndarray  # energy cost saved, USD/yr
    abated_scope1_t: np.ndarray  # scope-1 t CO2/yr avoided
    abated_scope2_t: np.ndarray  # scope-2 t CO2/yr avoided
    size_basis: np.ndarray  # MWh/yr removed or t/yr captured (capex basis)
    state_change: np.ndarray  # [K, C+1, C+1] change of x on adoption


def valuation(cat, shift: np.ndarray, price: np.ndarray, ef: np.ndarray) -> Valuation:
    """Build the month's per-measure valuation maps from this year's prices and factors."""
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
    return Valuation(saving, abated1, abated2, basis, D)


@dataclass
class Batch:
    """The month's adoptions (one entry per adopted (firm, measure))."""

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

    def __len__(self) -> int:
        return len(self.firm)


def update_awareness(model, firms: np.ndarray) -> None:
    """Information term: firms under review learn of measures (lazy over the months since
    their last review: P = 1 - (1 - rate)^months)."""
    ft, cat, b = model.firms, model.catalogue, model.behaviour
    if len(firms) == 0:
        return
    if not b.terms.information:
        ft.aware[firms] = ft.applicable[firms]
        return
    gap = ft.applicable[firms] & ~ft.aware[firms]
    r, k = np.nonzero(gap)
    if len(r) == 0:
        return
    f = firms[r]
    rate = cat.info_rate_per_month[k].copy()
    if b.terms.peer_awareness:
        rate += b.peer_awareness_per_month * model.peer_share(f, k)
    if b.terms.customer_pressure:
        rate += b.customer_pressure_awareness_per_month * model.customer_pressure[f]
    months = np.maximum(model.month - ft.last_review_month[f], 1)
    p = 1.0 - (1.0 - np.minimum(rate, 1.0)) ** months
    u = model.counter.uniform(STREAM_AWARENESS, model.month, f.astype(np.int64) * cat.k + k)
    learn = u < p
    if learn.any():
        ft.aware[f[learn], k[learn]] = True
        model.aware_count += np.bincount(k[learn], minlength=cat.k)


@dataclass
class _Pairs:
    firm: np.ndarray
    measure: np.ndarray
    capex: np.ndarray
    net_value: np.ndarray  # USD/yr after O&M
    annuity: np.ndarray
    hidden: np.ndarray
    r_eff: np.ndarray
    abatement: np.ndarray
    funds: np.ndarray
    skilled: np.ndarray
    grant: np.ndarray = field(default=None)
    instrument: np.ndarray = field(default=None)
    loan: np.ndarray = field(default=None)


def _candidates(model, firms: np.ndarray) -> _Pairs | None:
    ft, cat, b = model.firms, model.catalogue, model.behaviour
    terms = b.terms
    open_ = ft.aware[firms] & ft.applicable[firms] & ~ft.adopted[firms] & model.available[None, :]
    r, k = np.nonzero(open_)
    if len(r) == 0:
        return None
    f = firms[r]
    # yearly quantities for the reviewing firms, then gathered per pair
    x = model.state_matrix(firms)
    val = model.val
    saving = (x @ val.saving_usd.T)[r, k]
    ab1 = (x @ val.abated_scope1_t.T)[r, k]
    ab2 = (x @ val.abated_scope2_t.T)[r, k]
    basis = (x @ val.size_basis.T)[r, k]
    keep = basis > 0
    if not keep.all():
        r, k, f, saving, ab1, ab2, basis = r[keep], k[keep], f[keep], saving[keep], ab1[keep], ab2[keep], basis[keep]
        if len(r) == 0:
            return None
    capex = (cat.capex_fixed_usd[k] + cat.capex_usd_per_unit[k] * basis) * model.capex_mult[k]
    cp = model.gov.carbon_price_usd_per_t * model.gov.carbon_price_covers[f]
    value = np.maximum(saving, 0.0) * (1.0 + cat.non_energy_benefit_share[k]) + np.minimum(saving, 0.0) + cp * ab1
    net_value = value - cat.om_share_of_capex_per_yr[k] * capex

    share = model.peer_share(f, k) if (terms.peer_risk or terms.peer_awareness) else np.zeros(len(f))
    r_eff = ft.hurdle_rate_per_yr[f].copy()
    if terms.risk:
        peer_relief = b.peer_risk_relief_share * share if terms.peer_risk else 0.0
        r_eff += ft.risk_aversion[f] * cat.risk_premium_per_yr[k] * (1.0 - ft.risk_relief[f]) * (1.0 - peer_relief)
    if terms.customer_pressure:
        r_eff -= b.customer_pressure_per_yr * model.customer_pressure[f]
    r_eff = np.maximum(r_eff, 0.005)
    ann = annuity_factor(r_eff, cat.lifetime_yr[k])
    hidden = cat.hidden_cost_share[k] * capex * (1.0 - ft.hidden_cost_relief[f]) if terms.hidden_costs else np.zeros(len(f))
    funds = ft.cash_usd_per_yr[f] + ft.credit_usd[f]
    skilled = ft.capability[f] >= cat.complexity_share[k] if terms.skills else np.ones(len(f), bool)
    return _Pairs(f, k, capex, net_value, ann, hidden, r_eff, ab1 + ab2, funds, skilled)


def _npv(p: _Pairs, grant: np.ndarray, loan: np.ndarray, loan_cfg) -> np.ndarray:
    firm_cost = p.capex - grant
    pv_cost = firm_cost
    if loan_cfg is not None and loan.any():
        ratio = annuity_factor(p.r_eff, loan_cfg.term_yr) / annuity_factor(np.full_like(p.r_eff, loan_cfg.interest_rate_per_yr), loan_cfg.term_yr)
        pv_cost = firm_cost - loan + loan * ratio
    return p.net_value * p.annuity - pv_cost - p.hidden


def _group_prefix_ok(firm: np.ndarray, cost: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """Within each firm (pairs sorted by firm), True while the running sum of ``cost`` fits ``limit``."""
    if len(firm) == 0:
        return np.zeros(0, bool)
    cs = np.cumsum(cost)
    start = np.r_[True, firm[1:] != firm[:-1]]
    base = np.maximum.accumulate(np.where(start, np.arange(len(firm)), 0))
    prior = cs[base] - cost[base]
    run = cs - prior
    ok = run <= limit + 1e-9
    # once a firm's budget is exceeded, later (less profitable) measures wait
    bad = ~ok
    seen_bad = np.maximum.accumulate(np.where(bad, np.arange(len(firm)), -1))
    return ok & (seen_bad < base)


def _first_per_firm(firm: np.ndarray) -> np.ndarray:
    return np.r_[True, firm[1:] != firm[:-1]] if len(firm) else np.zeros(0, bool)


def decide(model, firms: np.ndarray) -> Batch:
    """Adoptions of the firms under review this month (``firms``: sorted firm indices)."""
    terms = model.behaviour.terms
    p = _candidates(model, firms)
    if p is None:
        return Batch.empty()
    gov = model.gov
    n = len(p.firm)
    zero = np.zeros(n)
    economic = terms.economics
    capital = terms.capital

    # offers --------------------------------------------------------------------------
    cs_grant = gov.cost_share.offer(model, p.firm, p.measure, p.capex)  # USD, 0 = no offer
    sub_grant = gov.capex_subsidy.offer(model, p.firm, p.measure, p.capex)
    use_cs = cs_grant >= sub_grant
    grant = np.where(use_cs, cs_grant, sub_grant)
    instrument = np.where(grant > 0, np.where(use_cs, COST_SHARE, SUBSIDY), NONE)
    loan_cfg = gov.green_loan.cfg if gov.green_loan.active else None
    loan = gov.green_loan.offer(model, p.firm, p.capex - grant, p.r_eff)

    def passes(grant, loan, consultant_ok):
        worth = _npv(p, grant, loan, loan_cfg) > 0 if economic else np.ones(n, bool)
        fits = (p.capex - grant <= p.funds + loan) if capital else np.ones(n, bool)
        return worth & fits & (p.skilled | consultant_ok)

    programme_ta = instrument == COST_SHARE  # programme projects come with technical assistance
    ok_support = passes(grant, loan, programme_ta | (gov.training.capacity > 0))
    npv_plain = _npv(p, zero, zero, None)
    ok_plain = (npv_plain > 0 if economic else np.ones(n, bool)) & ((p.capex <= p.funds) if capital else True) & p.skilled

    # order: by firm, then most profitable first (index of profitability with support)
    npv_s = _npv(p, grant, loan, loan_cfg)
    order = np.lexsort((-npv_s / np.maximum(p.capex, 1.0), p.firm))
    f, k = p.firm[order], p.measure[order]
    for name in ("capex", "net_value", "annuity", "hidden", "r_eff", "abatement", "funds", "skilled"):
        setattr(p, name, getattr(p, name)[order])
    p.firm, p.measure = f, k
    grant, instrument, loan = grant[order], instrument[order], loan[order]
    ok_support, ok_plain, npv_plain, npv_s = ok_support[order], ok_plain[order], npv_plain[order], npv_s[order]
    programme_ta = programme_ta[order]

    firm_cost = p.capex - grant

    def affordable(want, firm_cost, loan):
        """Each firm funds its chosen measures, most profitable first, until its budget is spent."""
        if not capital:
            return want
        cost = np.where(want, firm_cost - loan, 0.0)
        return want & _group_prefix_ok(f, cost, p.funds)

    want = affordable(ok_support, firm_cost, loan)

    # allocate programme quota/budget and subsidy budget in candidate order; one programme
    # project per firm; a candidate refused for lack of money is re-decided without the offer
    is_cs = want & (instrument == COST_SHARE)
    got_cs = gov.cost_share.allocate(_first_in_firm_among(f, is_cs), grant)
    got_sub = gov.capex_subsidy.allocate(want & (instrument == SUBSIDY), grant)
    lost = want & (instrument != NONE) & ~(got_cs | got_sub)
    grant = np.where(lost, 0.0, grant)
    instrument = np.where(lost, NONE, instrument)
    programme_ta &= ~lost
    firm_cost = p.capex - grant
    loan = np.where(lost, gov.green_loan.offer(model, f, firm_cost, p.r_eff), loan)
    got_loan = gov.green_loan.allocate(want & (loan > 0), loan)
    lost_loan = want & (loan > 0) & ~got_loan
    loan = np.where(got_loan, loan, 0.0)
    redo = lost | lost_loan
    if redo.any():
        want = np.where(redo, passes(grant, loan, programme_ta | (gov.training.capacity > 0)), want)

    # skills: a trained consultant for firms that lack the capability (programme projects
    # come with the programme's technical assistance)
    consultant = gov.training.allocate(want & ~p.skilled & ~programme_ta)
    want &= p.skilled | programme_ta | consultant
    want = affordable(want, firm_cost, loan)
    # give back what dropped candidates had been allocated
    gov.cost_share.release(got_cs & ~want, grant)
    gov.capex_subsidy.release(got_sub & ~want, grant)
    gov.green_loan.release(got_loan & ~want, loan)
    gov.training.release(consultant & ~want)
    consultant &= want
    grant = np.where(want, grant, 0.0)

    sel = np.flatnonzero(want)
    return Batch(
        firm=f[sel].astype(np.int64),
        measure=k[sel].astype(np.int64),
        capex_usd=p.capex[sel],
        firm_cost_usd=firm_cost[sel],
        grant_usd=grant[sel],
        instrument=instrument[sel].astype(np.int64),
        loan_usd=loan[sel],
        loan_grant_equivalent_usd=gov.green_loan.grant_equivalent(loan[sel]),
        consultant=consultant[sel],
        npv_usd=npv_s[sel],
        abatement_t_per_yr=p.abatement[sel],
        without_support=ok_plain[sel],
    )


def _first_in_firm_among(firm: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """True at the first position of each firm among positions where ``mask`` holds."""
    out = np.zeros(len(firm), bool)
    idx = np.flatnonzero(mask)
    if len(idx):
        ff = firm[idx]
        out[idx[np.r_[True, ff[1:] != ff[:-1]]]] = True
    return out


def explain(model, firm: int) -> list[dict]:
    """For one firm, every measure with the state of each decision term (for the inspector)."""
    ft, cat, b = model.firms, model.catalogue, model.behaviour
    firms = np.array([firm])
    x = model.state_matrix(firms)[0]
    val = model.val
    rows = []
    for k, name in enumerate(cat.names):
        row = {"measure": name, "label": cat.labels[k], "applicable": bool(ft.applicable[firm, k]),
               "available": bool(model.available[k]), "aware": bool(ft.aware[firm, k]),
               "adopted": bool(ft.adopted[firm, k])}
        if row["applicable"] and row["available"]:
            saving = float(x @ val.saving_usd[k])
            ab1 = float(x @ val.abated_scope1_t[k])
            basis = float(x @ val.size_basis[k])
            capex = (cat.capex_fixed_usd[k] + cat.capex_usd_per_unit[k] * basis) * model.capex_mult[k]
            cp = model.gov.carbon_price_usd_per_t * bool(model.gov.carbon_price_covers[firm])
            value = max(saving, 0) * (1 + cat.non_energy_benefit_share[k]) + min(saving, 0) + cp * ab1
            net = value - cat.om_share_of_capex_per_yr[k] * capex
            share = float(model.peer_share(firms, np.array([k]))[0])
            r_eff = ft.hurdle_rate_per_yr[firm]
            if b.terms.risk:
                r_eff += ft.risk_aversion[firm] * cat.risk_premium_per_yr[k] * (1 - ft.risk_relief[firm]) * (1 - b.peer_risk_relief_share * share)
            if b.terms.customer_pressure:
                r_eff -= b.customer_pressure_per_yr * model.customer_pressure[firm]
            r_eff = max(r_eff, 0.005)
            ann = float(annuity_factor(np.array([r_eff]), np.array([cat.lifetime_yr[k]]))[0])
            hidden = cat.hidden_cost_share[k] * capex * (1 - ft.hidden_cost_relief[firm]) if b.terms.hidden_costs else 0.0
            npv = net * ann - capex - hidden
            funds = ft.cash_usd_per_yr[firm] + ft.credit_usd[firm]
            row.update(
                capex_usd=float(capex), saving_usd_per_yr=saving, abatement_t_per_yr=float(x @ (val.abated_scope1_t[k] + val.abated_scope2_t[k])),
                effective_rate_per_yr=float(r_eff), hidden_cost_usd=float(hidden), npv_usd=float(npv),
                peer_share=share, funds_usd=float(funds),
                information_ok=row["aware"] or not b.terms.information,
                economics_ok=npv > 0 or not b.terms.economics,
                capital_ok=capex <= funds or not b.terms.capital,
                skills_ok=ft.capability[firm] >= cat.complexity_share[k] or not b.terms.skills,
            )
            blocking = [t for t in ("information", "economics", "capital", "skills") if not row[f"{t}_ok"]]
            row["decisive"] = ", ".join(blocking) if blocking else ("adopted" if row["adopted"] else "would adopt at next review")
        else:
            row["decisive"] = "not applicable" if not row["applicable"] else "not yet available"
        rows.append(row)
    return rows
