"""What the firm inspector shows: one firm's identity and state and, per measure, in plain
words, its status (adopted, not applicable, not aware, not worth it, can't finance, can't
implement, would adopt) and what would change it (``decision.explain``), in the user's language.
"""
from __future__ import annotations

import html
import math

from .i18n import name, t, tn

#: the order measures are listed in: what the firm did, what it will do, what holds it back
ORDER = ("adopted", "would_adopt", "not_worth_it", "cannot_finance", "cannot_implement", "not_aware", "not_available")
#: status colours (background, text) of the inspector's chips
CHIP = {"adopted": ("#d7f0dc", "#185a2a"), "would_adopt": ("#dfeafb", "#1b4a8a"),
        "not_worth_it": ("#fbe4d5", "#7a3510"), "cannot_finance": ("#fbe4d5", "#7a3510"),
        "cannot_implement": ("#fbe4d5", "#7a3510"), "not_aware": ("#eee", "#333"), "not_available": ("#eee", "#333")}


def round_up(x: float, digits: int = 3) -> float:
    """``x`` rounded up to ``digits`` significant figures (12,281 -> 12,300): a sum that is
    shown as enough stays enough."""
    if x <= 0:
        return 0.0
    scale = 10 ** (math.floor(math.log10(x)) - digits + 1)
    return math.ceil(x / scale - 1e-9) * scale


def money(lang: str, usd: float, up: bool = True) -> str:
    """'US$ 12,300' or 'US$ 1.25 million' / 'US$ 1.25 millones' (rounded up when ``up``)."""
    v = round_up(usd) if up else usd
    if v >= 1e6:
        m = v / 1e6
        amount = f"{m:,.2f}".rstrip("0").rstrip(".")
        return "US$ " + tn(lang, "money_million", float(amount.replace(",", "")), amount=amount)
    return f"US$ {v:,.0f}"


def change_text(lang: str, row: dict) -> str:
    """What would change the status of one measure (``row`` of ``decision.explain``)."""
    st, c = row["status"], row.get("change", {})
    if st == "not_worth_it":
        grant = money(lang, c["grant_usd"])
        price = c.get("carbon_price_usd_per_t")
        text = (t(lang, "change_grant_or_price", grant=grant, price=money(lang, price)) if price is not None
                else t(lang, "change_grant", grant=grant))
        if row.get("offer_grant_usd", 0.0) > 0:
            text += " (" + t(lang, "change_offered", offer=money(lang, row["offer_grant_usd"], up=False)) + ")"
        return text
    if st == "cannot_finance":
        return t(lang, "change_missing", missing=money(lang, c["missing_usd"]))
    if st == "cannot_implement":
        return t(lang, "change_consultant")
    if st == "not_aware":
        return t(lang, "change_information")
    if st == "not_available":
        return t(lang, "change_year", year=c["available_from_year"]) if "available_from_year" in c else t(lang, "change_infrastructure")
    if st == "would_adopt":
        n = c["review_month"] - row.get("month", c["review_month"] - 1)
        support = [t(lang, f"support_{s}", x=money(lang, row[f"offer_{s}_usd"], up=False))
                   for s in ("grant", "loan") if row.get(f"offer_{s}_usd", 0.0) > 0]
        if support and row.get("npv_usd", 1.0) <= 0:
            return tn(lang, "change_review_support", n, support=t(lang, "support_and").join(support))
        return tn(lang, "change_review", n)
    return t(lang, "status_na")


def largest_emitter(model) -> int:
    return int((model.scope1_rate + model.scope2_rate).argmax())


def firm_report(model, firm_id: int, lang: str) -> dict:
    """Facts (label -> text), one entry per measure that applies (``measures``: status code and
    texts; ``table``: the same as column -> text), the measures that do not apply, and the
    glossary."""
    firm = model.firm_agents[int(firm_id)]
    rows = firm.explain()
    for r in rows:
        r["month"] = model.month
    counts = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    held = [f"{t(lang, 'status_' + s)} ({counts[s]})" for s in ORDER[2:] if counts.get(s)]
    adopted = [name(lang, "measure", r["measure"], r["label"]) for r in rows if r["adopted"]]
    funds = next((r["funds_usd"] for r in rows if "funds_usd" in r), None)
    facts = {
        t(lang, "firm_id"): str(int(firm_id)),
        t(lang, "sector"): name(lang, "sector", firm.sector),
        t(lang, "size_class"): name(lang, "size", firm.size_class),
        t(lang, "cluster"): name(lang, "cluster", firm.cluster) if firm.cluster else t(lang, "no_cluster"),
        t(lang, "firm_emissions"): f"{firm.emissions_t_co2_per_yr:,.1f} {t(lang, 'unit_t_per_yr')}",
        t(lang, "hurdle_rate"): f"{firm.hurdle_rate_per_yr:.0%} {t(lang, 'unit_per_yr')}",
        t(lang, "capability"): f"{firm.capability:.2f}",
        t(lang, "funds"): money(lang, funds, up=False) if funds is not None else t(lang, "status_na"),
        t(lang, "barriers"): "; ".join(held) or t(lang, "no_barriers"),
        t(lang, "adopted_measures"): ", ".join(adopted) or t(lang, "none"),
    }
    measures = []
    for r in sorted((r for r in rows if r["status"] != "not_applicable"), key=lambda r: ORDER.index(r["status"])):
        measures.append({
            "measure": r["measure"], "status": r["status"],
            "name": name(lang, "measure", r["measure"], r["label"]),
            "status_text": t(lang, f"status_{r['status']}"),
            "change_text": change_text(lang, r) if r["status"] != "adopted" else "",
            "capex": money(lang, r["capex_usd"], up=False) if "capex_usd" in r else t(lang, "status_na"),
            "npv": (("−" if r["npv_usd"] < 0 else "") + money(lang, abs(r["npv_usd"]), up=False)
                    if "npv_usd" in r and not r["adopted"] else t(lang, "status_na")),
            "abatement": (f"{r['abatement_t_per_yr']:,.1f} {t(lang, 'unit_t_per_yr')}"
                          if "abatement_t_per_yr" in r and not r["adopted"] else t(lang, "status_na")),
        })
    table = [{t(lang, "col_measure"): m["name"], t(lang, "col_status"): m["status_text"],
              t(lang, "col_change"): m["change_text"] or t(lang, "status_na"), t(lang, "col_capex"): m["capex"],
              t(lang, "col_npv"): m["npv"], t(lang, "col_abatement"): m["abatement"]} for m in measures]
    not_applicable = [name(lang, "measure", r["measure"], r["label"]) for r in rows if r["status"] == "not_applicable"]
    glossary = [t(lang, k) for k in ("gloss_capex", "gloss_npv", "gloss_hurdle")]
    return {"facts": facts, "measures": measures, "table": table, "not_applicable": not_applicable,
            "glossary": glossary}


def report_html(rep: dict, lang: str) -> str:
    """The inspector's body: the facts as a two-column list, then one compact block per
    measure (name and status chip; what would change it; its numbers), wrapping at any width,
    then the glossary. Tooltips (``title``) explain capex, NPV and hurdle rate."""
    e = html.escape
    tip = {t(lang, "hurdle_rate"): t(lang, "gloss_hurdle")}
    facts = "".join(
        f"<tr><td style='padding:2px 8px 2px 0;color:#555;vertical-align:top;width:42%'"
        f"{' title=' + chr(39) + e(tip[k]) + chr(39) if k in tip else ''}>{e(k)}</td>"
        f"<td style='padding:2px 0;vertical-align:top'>{e(v)}</td></tr>" for k, v in rep["facts"].items())
    out = [f"<table class='sim-facts' style='font-size:13px;border-collapse:collapse;width:100%;table-layout:fixed;"
           f"overflow-wrap:anywhere'>{facts}</table>", "<div class='sim-explain' style='margin-top:8px'>"]
    cap_tip, npv_tip = e(t(lang, "gloss_capex")), e(t(lang, "gloss_npv"))
    for m in rep["measures"]:
        bg, fg = CHIP.get(m["status"], ("#eee", "#333"))
        nums = (f"<span title='{cap_tip}'>{e(t(lang, 'col_capex'))}: {e(m['capex'])}</span> · "
                f"<span title='{npv_tip}'>{e(t(lang, 'col_npv'))}: {e(m['npv'])}</span> · "
                f"{e(t(lang, 'col_abatement'))}: {e(m['abatement'])}") if m["status"] != "adopted" else ""
        out.append(
            f"<div class='sim-measure' data-status='{m['status']}' style='padding:6px 0;border-top:1px solid #e4e4e4;"
            f"overflow-wrap:anywhere'><div style='display:flex;flex-wrap:wrap;gap:2px 8px;align-items:baseline'>"
            f"<b style='font-size:14px'>{e(m['name'])}</b><span class='sim-status' style='background:{bg};color:{fg};"
            f"border-radius:10px;padding:0 8px;font-size:12px'>{e(m['status_text'])}</span></div>"
            + (f"<div class='sim-change' style='font-size:13px'>→ {e(m['change_text'])}</div>" if m["change_text"] else "")
            + (f"<div style='font-size:12px;color:#555'>{nums}</div>" if nums else "") + "</div>")
    out.append("</div>")
    if rep["not_applicable"]:
        out.append(f"<div style='font-size:12px;color:#555;padding-top:6px;border-top:1px solid #e4e4e4'>"
                   f"{e(t(lang, 'not_applicable_list', names=', '.join(rep['not_applicable'])))}</div>")
    gl = "".join(f"<li>{e(g)}</li>" for g in rep["glossary"])
    out.append(f"<div class='sim-glossary' style='font-size:12px;color:#444;margin-top:8px'>"
               f"<b>{e(t(lang, 'glossary_title'))}</b><ul style='margin:2px 0 0 18px;padding:0'>{gl}</ul></div>")
    return "".join(out)
