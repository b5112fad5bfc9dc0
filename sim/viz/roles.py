"""What the workshop's role players see and choose from, read from the live model (call
under ``sim.lock``): representative firms to play, the firm an own company replaces, a
played firm's measures with their terms, an association's measures, the government's
instruments and their money, and the decisions players took (``sim/mechanisms/players.py``).
"""
from __future__ import annotations

import numpy as np

from ..decision import CHOICE_OUTCOMES
from ..mechanisms.players import ALLOCATABLE
from ..params import CARRIERS, SIZE_CLASSES
from .i18n import name, t, tn
from .inspector import money

#: a played firm may choose a measure in these statuses (``decision.explain``) if the firm can
#: also pay for it and implement it (its ``capital_ok`` and ``skills_ok``): it knows it, it
#: applies and is on sale; whether it is worth it is the player's judgement
CHOOSABLE = ("would_adopt", "not_worth_it")
#: the employment band of each size class (sim/params.py: INEGI / OECD bands)
EMPLOYEES = {"micro": "0–10", "small": "11–50", "medium": "51–250", "large": "> 250"}


def archetypes(model, taken=()) -> list[int]:
    """Representative firms to play: for each sector and size class present, the firm with
    the median energy use among those of that sector and size (not played already)."""
    ft = model.firms
    total = ft.energy_mwh_per_yr.sum(axis=1)
    free = ~np.isin(np.arange(model.n_firms), np.asarray(list(taken), dtype=np.int64))
    out = []
    for s in range(len(model.sector_names)):
        for c in range(len(SIZE_CLASSES)):
            ids = np.flatnonzero((ft.sector == s) & (ft.size_class == c) & free)
            if len(ids):
                order = ids[np.argsort(total[ids], kind="stable")]
                out.append(int(order[len(order) // 2]))
    return out


def firm_facts(model, firm: int) -> dict:
    """A firm in plain numbers: sector, size, employees band, association, energy by carrier
    (MWh/yr, carriers used), emissions (t CO2/yr), funds for investment (USD)."""
    ft = model.firms
    size = SIZE_CLASSES[ft.size_class[firm]]
    c = int(ft.cluster[firm])
    return {
        "firm": int(firm), "sector": model.sector_names[ft.sector[firm]], "size": size, "employees": EMPLOYEES[size],
        "cluster": model.clusters[c].name if c >= 0 else None,
        "energy_mwh_per_yr": {k: float(v) for k, v in zip(CARRIERS, ft.energy_mwh_per_yr[firm]) if v > 0},
        "emissions_t_per_yr": float(model.scope1_rate[firm] + model.scope2_rate[firm]),
        "funds_usd": float(ft.cash_usd_per_yr[firm] + ft.credit_usd[firm]),
        "adopted": [model.catalogue.names[k] for k in np.flatnonzero(ft.adopted[firm])],
    }


def firm_for_company(model, sector: int, size_class: int, mwh_by_carrier, taken=()) -> int:
    """The model firm an own company replaces: of the same sector, not played, the same
    size class if there is one, and the closest in energy use (ratio of totals)."""
    ft = model.firms
    taken = np.isin(np.arange(model.n_firms), np.asarray(list(taken), dtype=np.int64))
    ids = np.flatnonzero((ft.sector == sector) & ~taken)
    if not len(ids):
        return -1
    want = max(float(np.sum(mwh_by_carrier)), 1e-9)
    have = np.maximum(ft.base_energy_mwh_per_yr[ids].sum(axis=1), 1e-9)
    key = np.lexsort((np.abs(np.log(have / want)), ft.size_class[ids] != size_class))
    return int(ids[key[0]])


def measure_rows(model, firm: int) -> list[dict]:
    """The measures a played firm knows and that apply and are on sale, with the terms the
    model's firms decide on (``decision.explain``): investment, grant on offer, what the firm
    pays, green loan on offer, yearly saving, simple payback, net value at the firm's hurdle
    rate, what the rule would do, and whether the player may choose it (``CHOOSABLE``)."""
    rows = []
    for r in model.firm_agents[int(firm)].explain():
        if r["adopted"] or r["status"] in ("not_applicable", "not_available", "not_aware"):
            continue
        grant, loan = r.get("offer_grant_usd", 0.0), r.get("offer_loan_usd", 0.0)
        pays = r["capex_usd"] - grant
        saving = r["saving_usd_per_yr"]
        # what stops the player (the rule may stop at "not worth it" first: the player does not)
        blocked = (r["status"] if r["status"] not in CHOOSABLE else "cannot_finance" if not r.get("capital_ok", True)
                   else "cannot_implement" if not r.get("skills_ok", True) else None)
        rows.append({**r, "grant_usd": grant, "loan_usd": loan, "pays_usd": pays,
                     "payback_yr": pays / saving if saving > 0 else None,
                     "blocked": blocked, "choosable": blocked is None})
    return rows


def association_measures(model, association: int) -> list[tuple[int, int, int]]:
    """(measure, members it applies to, members aware of it) for each measure that applies
    to at least one member of the association."""
    ft = model.firms
    members = model.clusters[association].members
    app = ft.applicable[members]
    aware = ft.aware[members] & app
    return [(k, int(app[:, k].sum()), int(aware[:, k].sum())) for k in range(model.catalogue.k) if app[:, k].any()]


def budget_rows(model) -> list[dict]:
    """The instruments the government allocates among (enabled, finite budget, public cost):
    name, budget, spent, public money per USD of budget, share of the unspent public money."""
    budgets = model.engine.budgets()
    rows = [dict(name=n, budget_usd=b.budget_usd, spent_usd=b.spent_usd, public_cost_share=b.public_cost_share)
            for n, b in budgets.items() if n in ALLOCATABLE and b.enabled and np.isfinite(b.budget_usd)
            and b.public_cost_share > 0]
    left = sum(max(r["budget_usd"] - r["spent_usd"], 0.0) * r["public_cost_share"] for r in rows)
    for r in rows:
        r["share"] = (max(r["budget_usd"] - r["spent_usd"], 0.0) * r["public_cost_share"] / left) if left > 0 else 0.0
    return rows


def players_of(model):
    """The live model's players mechanism, or None."""
    from ..mechanisms.players import Players

    return next((m for m in model.mechanisms if isinstance(m, Players)), None)


def decisions(model) -> list[dict]:
    """Every role action applied so far: month, the action, what became of it."""
    p = players_of(model)
    if p is None:
        return []
    out = []
    for month, a, result in p.records:
        row = {"month": month, "step": month + 1, "kind": a.kind, "target": a.target, "member": a.member,
               "payload": a.payload, **result}
        if a.kind == "adopt" and result.get("outcomes") is not None:
            row["outcome_names"] = tuple(CHOICE_OUTCOMES[o] for o in result["outcomes"])
        out.append(row)
    return out


def measure_label(L: str, model, key: str) -> str:
    return name(L, "measure", key, model.catalogue.labels[model.catalogue.names.index(key)])


def role_label(L: str, model, role) -> str:
    if role.kind == "government":
        return t(L, "role_label_government")
    if role.kind == "association":
        return t(L, "role_label_association", name=name(L, "cluster", model.clusters[role.target].name))
    f = firm_facts(model, role.target)
    return t(L, "role_label_own" if role.own else "role_label_firm", firm=role.target,
             sector=name(L, "sector", f["sector"]), size=name(L, "size", f["size"]))


def decision_lines(L: str, model, member: str) -> list[str]:
    """The member's role actions applied so far, with their results, in plain words."""
    out = []
    for d in decisions(model):
        if d["member"] != member or d["kind"] in ("play", "release"):
            continue
        step = d["step"]
        if d["kind"] == "adopt":
            names = ", ".join(measure_label(L, model, model.catalogue.names[k]) for k in d["payload"])
            res = (", ".join(t(L, "outcome_" + o) for o in d["outcome_names"]) if "outcome_names" in d
                   else t(L, "role_decision_pending"))
            out.append(f"{t(L, 'role_decision_adopt', step=step, measures=names)} → {res}")
        elif d["kind"] == "promote":
            names = ", ".join(measure_label(L, model, model.catalogue.names[k]) for k in d["payload"])
            out.append(f"{t(L, 'role_decision_promote', step=step, measures=names)} → "
                       f"{tn(L, 'role_informed', d['firms_informed'])}")
        elif d["kind"] == "budget":
            b = ", ".join(f"{name(L, 'instrument', n)} {money(L, v, up=False)}" for n, v in d["budgets_usd"].items())
            out.append(t(L, "role_decision_budget", step=step, budgets=b))
        elif d["kind"] == "energy":
            out.append(t(L, "role_decision_energy", step=step, before=f"{d['emissions_before_t_per_yr']:,.0f}",
                         after=f"{d['emissions_t_per_yr']:,.0f}"))
    return out
