"""A workshop room's debrief: a printable HTML page, in the room's language, of the path the
room took (every lever change with its step and votes, restarts, resets), its results against
the baseline (the same scenario, package and seed without the room's lever changes, simulated
to the same month) and against the 2050 line and the scenario's roadmap where it has one.

    path = write_debrief(room)      # results/rooms/<CODE>/debrief_<time>.html

The folder is ``$SIM_APP_RESULTS_DIR/rooms/<CODE>/`` (default: the repository's ``results/``).
The file is written to a temporary name and renamed: never a half-written page.
"""
from __future__ import annotations

import html
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from .charts import NET_ZERO_YEAR, roadmap_lines
from .i18n import choice, date, name, t, tn
from .roles import decision_lines, decisions, firm_facts
from .state import Simulation

REPO = Path(__file__).resolve().parents[2]


def results_root() -> Path:
    return Path(os.environ.get("SIM_APP_RESULTS_DIR") or REPO / "results")


def _shown(L: str, v) -> str:
    if isinstance(v, bool):
        return t(L, "enabled") if v else t(L, "disabled")
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:g}"
    return str(v)


def lever_name(L: str, key: str) -> str:
    group, param = key.split(".")[1], key.split(".")[-1]
    return t(L, "lever_group_" + group) + ": " + t(L, "lever_enabled" if param == "enabled" else "lever_" + param)


def figures(sim: Simulation) -> dict[str, float]:
    """Headline results of a simulation now (call under ``sim.lock``)."""
    m = sim.model
    n = m.month + 1
    now_kt = (m.total_scope1 + m.total_scope2) / 1e3
    start_kt = float(m.series["emissions_t_co2"][0] * 12 / 1e3) if n else now_kt
    return {
        "emissions_kt": float(now_kt),
        "change_pct": (now_kt / start_kt - 1.0) * 100 if start_kt > 0 else 0.0,
        "adoptions": float(m.adopter_count.sum() - m.initial_adopters.sum()),
        "spending_musd": m.total_spending_usd() / 1e6,
        "start_kt": float(start_kt),
    }


def baseline(sim: Simulation) -> Simulation:
    """The room's scenario, package, seed and firm count without its lever changes, stepped to
    the room's month."""
    with sim.lock:
        settings, steps = sim.settings, sim.steps_done
    base = Simulation(replace(settings, levers=()), year_states_budget_bytes=0)  # stepped once, never forked
    base.step(steps)
    return base


def debrief_html(room) -> str:
    L = room.lang
    sim = room.sim
    base = baseline(sim)
    with sim.lock:
        ours, settings, steps, start_year = figures(sim), sim.settings, sim.steps_done, sim.model.start_year
        year_now = start_year + max(steps, 1) / 12.0
        roadmaps = [(label, float(np.interp(year_now, ys, vals)) / 1e3) for label, ys, vals in roadmap_lines(sim, L)
                    if len(ys) and ys[0] <= year_now]
    with base.lock:
        theirs = figures(base)
    line_2050 = ours["start_kt"] * max(0.0, (NET_ZERO_YEAR - year_now) / (NET_ZERO_YEAR - start_year))
    esc = html.escape
    scen_name, scen_desc = choice(L, "scenario", settings.scenario)
    pol_name, pol_desc = choice(L, "policy", settings.policy)
    when = date(L, steps - 1, start_year) if steps else str(start_year)

    rows = []
    for e in room.log:
        at = date(L, e.step - 1, start_year) if e.step else t(L, "debrief_at_start")
        if e.kind in ("role_take", "role_release"):
            what, votes = esc(f"{e.detail}: " + t(L, "debrief_" + e.kind, role=_role_words(L, sim, dict(e.changes)))), ""
        elif e.kind == "levers":
            was = dict(e.before)
            what = "<br>".join(esc(f"{lever_name(L, k)}: " + (f"{_shown(L, was[k])} → " if k in was else "") + _shown(L, v))
                               for k, v in e.changes)
            votes = esc(tn(L, "votes", e.votes)) if e.votes else esc(t(L, "debrief_by_facilitator"))
        else:
            what, votes = esc(t(L, "debrief_" + e.kind)), ""
        rows.append(f"<tr><td>{e.step}</td><td>{esc(at)}</td><td>{what}</td><td>{votes}</td></tr>")
    path_table = ("<table><tr>" + "".join(f"<th>{esc(t(L, k))}</th>" for k in
                                          ("debrief_step", "debrief_month", "debrief_change", "debrief_votes"))
                  + "</tr>" + "".join(rows) + "</table>") if rows else f"<p>{esc(t(L, 'debrief_no_changes'))}</p>"

    def fmt(key: str, v: float) -> str:
        return f"{v:+.1f} %" if key == "change_pct" else (f"{v:,.0f}" if key == "adoptions" else f"{v:,.2f}" if
                                                          key == "spending_musd" else f"{v:,.1f}")

    def diff(key: str, v: float) -> str:  # a difference of two percentages is in percentage points
        return f"{v:+.1f} {t(L, 'unit_pp')}" if key == "change_pct" else fmt(key, v)

    labels = {"emissions_kt": t(L, "kpi_emissions") + f" ({t(L, 'unit_kt_per_yr')})",
              "change_pct": t(L, "kpi_change"), "adoptions": t(L, "kpi_adopters"),
              "spending_musd": t(L, "kpi_spending") + f" ({t(L, 'unit_musd')})"}
    res = "".join(f"<tr><td>{esc(labels[k])}</td><td class='n'>{fmt(k, ours[k])}</td><td class='n'>{fmt(k, theirs[k])}</td>"
                  f"<td class='n'>{diff(k, ours[k] - theirs[k])}</td></tr>"
                  for k in labels)
    ref = [(t(L, "path_2050"), line_2050)] + roadmaps
    ref_rows = "".join(f"<tr><td>{esc(label)}</td><td class='n'>{v:,.1f}</td><td class='n'>{ours['emissions_kt'] - v:+,.1f}</td></tr>"
                       for label, v in ref)
    levers = "".join(f"<li>{esc(lever_name(L, k))}: {esc(_shown(L, v))}</li>" for k, v in settings.levers)
    roles = roles_table(room, L)
    return f"""<!doctype html>
<html lang="{L}"><head><meta charset="utf-8"><title>{esc(t(L, 'debrief_title', code=room.code))}</title>
<style>
body {{ font-family: sans-serif; max-width: 900px; margin: 2em auto; font-size: 15px; color: #111; }}
table {{ border-collapse: collapse; width: 100%; margin: .5em 0 1.5em; }}
th, td {{ border: 1px solid #bbb; padding: 4px 8px; text-align: left; vertical-align: top; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
h1 {{ font-size: 24px; }} h2 {{ font-size: 18px; margin-top: 1.5em; }}
@media print {{ body {{ margin: 0; max-width: none; }} h2 {{ break-after: avoid; }} tr {{ break-inside: avoid; }} }}
</style></head><body>
<h1>{esc(t(L, 'debrief_title', code=room.code))}</h1>
<p>{esc(t(L, 'debrief_written', when=time.strftime('%Y-%m-%d %H:%M'), month=when, step=steps))}</p>
<p><b>{esc(t(L, 'scenario'))}:</b> {esc(scen_name)} — {esc(scen_desc)}<br>
<b>{esc(t(L, 'policy'))}:</b> {esc(pol_name)} — {esc(pol_desc)}</p>
<h2>{esc(t(L, 'debrief_path'))}</h2>
{path_table}
<p>{esc(t(L, 'debrief_levers_now'))}</p><ul>{levers or '<li>' + esc(t(L, 'debrief_no_changes')) + '</li>'}</ul>
<h2>{esc(t(L, 'debrief_roles'))}</h2>
{roles}
<h2>{esc(t(L, 'debrief_results', month=when))}</h2>
<table><tr><th></th><th>{esc(t(L, 'debrief_room'))}</th><th>{esc(t(L, 'debrief_baseline'))}</th><th>{esc(t(L, 'debrief_difference'))}</th></tr>{res}</table>
<p>{esc(t(L, 'debrief_baseline_help'))}</p>
<h2>{esc(t(L, 'debrief_against', month=when))}</h2>
<table><tr><th></th><th>{esc(t(L, 'unit_kt_per_yr'))}</th><th>{esc(t(L, 'debrief_room_minus'))}</th></tr>{ref_rows}</table>
<p class="cmd"><small>{esc(t(L, 'overrides'))}: <code>{esc(settings.command())}</code></small></p>
</body></html>
"""


def _role_words(L: str, sim: Simulation, role: dict) -> str:
    """A role of the room's log (``changes`` of a role entry: kind, target) in words."""
    kind, target = role.get("kind"), role.get("target")
    if kind == "government":
        return t(L, "role_label_government")
    if kind == "association":
        return t(L, "role_label_association", name=name(L, "cluster", str(target)))
    with sim.lock:
        f = firm_facts(sim.model, int(target))
    return t(L, "role_label_own" if kind == "own_company" else "role_label_firm", firm=int(target),
             sector=name(L, "sector", f["sector"]), size=name(L, "size", f["size"]))


def roles_table(room, L: str) -> str:
    """The role players' decisions applied so far, with their step and result (a table)."""
    esc = html.escape
    sim = room.sim
    with sim.lock, room.lock:
        members = list(dict.fromkeys(d["member"] for d in decisions(sim.model) if d["kind"] not in ("play", "release")))
        rows = [(room.player_names.get(m, "—"), line) for m in members for line in decision_lines(L, sim.model, m)]
    if not rows:
        return f"<p>{esc(t(L, 'debrief_roles_none'))}</p>"
    head = "".join(f"<th>{esc(t(L, k))}</th>" for k in ("debrief_who", "debrief_decision"))
    return "<table><tr>" + head + "</tr>" + "".join(f"<tr><td>{esc(w)}</td><td>{esc(x)}</td></tr>" for w, x in rows) + "</table>"


def write_debrief(room) -> Path:
    """Write the room's debrief; returns the file's path."""
    folder = results_root() / "rooms" / room.code
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"debrief_{time.strftime('%Y%m%d_%H%M%S')}.html"
    text = debrief_html(room)
    tmp = path.with_suffix(".html.part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
