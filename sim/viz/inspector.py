"""What the firm inspector shows: one firm's identity, state, barriers and, per measure, the
decision terms that decide it (``Firm.explain`` / ``decision.explain``), in the user's language."""
from __future__ import annotations

from .i18n import name, t

TERMS = ("information", "economics", "capital", "skills")


def _decisive(lang: str, row: dict) -> str:
    d = row["decisive"]
    if d == "not applicable":
        return t(lang, "term_not_applicable")
    if d == "not yet available":
        return t(lang, "term_not_available")
    if d == "adopted":
        return t(lang, "term_adopted")
    blocking = [x.strip() for x in d.split(",") if x.strip() in TERMS]
    if blocking:
        return "; ".join(t(lang, f"term_{x}") for x in blocking)
    return t(lang, "term_would_adopt")


def largest_emitter(model) -> int:
    return int((model.scope1_rate + model.scope2_rate).argmax())


def firm_report(model, firm_id: int, lang: str) -> dict:
    """Facts (label -> text) and one row per applicable measure (column -> text)."""
    firm = model.firm_agents[int(firm_id)]
    rows = firm.explain()
    barriers = sorted({x.strip() for r in rows if r["applicable"] and r["available"] and not r["adopted"]
                       for x in r["decisive"].split(",") if x.strip() in TERMS}, key=TERMS.index)
    adopted = [name(lang, "measure", r["measure"], r["label"]) for r in rows if r["adopted"]]
    facts = {
        t(lang, "firm_id"): str(int(firm_id)),
        t(lang, "sector"): name(lang, "sector", firm.sector),
        t(lang, "size_class"): name(lang, "size", firm.size_class),
        t(lang, "cluster"): name(lang, "cluster", firm.cluster) if firm.cluster else t(lang, "no_cluster"),
        t(lang, "firm_emissions"): f"{firm.emissions_t_co2_per_yr:,.1f} {t(lang, 'unit_t_per_yr')}",
        t(lang, "hurdle_rate"): f"{firm.hurdle_rate_per_yr:.0%} {t(lang, 'unit_per_yr')}",
        t(lang, "capability"): f"{firm.capability:.2f}",
        t(lang, "funds"): next((f"{r['funds_usd']:,.0f} {t(lang, 'unit_usd')}" for r in rows if "funds_usd" in r),
                               t(lang, "status_na")),
        t(lang, "barriers"): "; ".join(t(lang, f"term_{b}") for b in barriers) or t(lang, "no_barriers"),
        t(lang, "adopted_measures"): ", ".join(adopted) or t(lang, "none"),
    }
    table = []
    for r in rows:
        if not r["applicable"]:
            continue
        table.append({
            t(lang, "col_measure"): name(lang, "measure", r["measure"], r["label"]),
            t(lang, "col_status"): t(lang, "status_adopted") if r["adopted"] else t(lang, "status_open"),
            t(lang, "col_decisive"): _decisive(lang, r),
            t(lang, "col_capex"): f"{r['capex_usd']:,.0f}" if "capex_usd" in r else t(lang, "status_na"),
            t(lang, "col_npv"): f"{r['npv_usd']:,.0f}" if "npv_usd" in r else t(lang, "status_na"),
            t(lang, "col_abatement"): f"{r['abatement_t_per_yr']:,.1f}" if "abatement_t_per_yr" in r else t(lang, "status_na"),
        })
    return {"facts": facts, "table": table}
