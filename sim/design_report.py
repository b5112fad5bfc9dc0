"""What a design search writes: the tables, the Pareto and convergence plots and the report in
plain words (the cheapest design per tonne, the design with the most abatement within the
constraints, and how both differ from the programme as designed)."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .design_objectives import non_dominated
from .errors import BadInput
from .results import _atomic_write_bytes


# -- tables --------------------------------------------------------------------------------------
def evaluations_table(search) -> pd.DataFrame:
    from .design_eval import candidate_id, lever_columns

    d = search.plan.design
    designs = search.designs()
    F, G = search.objective_matrix(search.candidates, designs)
    rows = []
    for c, f, g in zip(search.candidates, F, G):
        r = {"role": c.role, "label": c.label or ("as designed" if c.role == "as_designed" else c.role if c.role != "design" else ""),
             "candidate": candidate_id(c.x) if c.x is not None else f"{c.role}:{c.label}",
             "generation": c.generation, "scenarios": len(c.keys)}
        if c.x is not None:
            r.update(lever_columns(d, c.x))
        r.update(c.row)
        if d.robustness == "regret":
            for j, o in enumerate(d.objectives):
                if not o.ratio:
                    r[f"{o.name}_max_regret"] = float(f[j])
        r["feasible"] = bool((g <= 0).all()) if len(g) else True
        rows.append(r)
    t = pd.DataFrame(rows)
    t = t.drop_duplicates(subset=["candidate"], keep="first").reset_index(drop=True)  # a design met twice: once
    return t


def pareto_table(search, evals: pd.DataFrame) -> pd.DataFrame:
    d = search.plan.design
    first = {}
    for c in search.designs():
        from .design_eval import candidate_id

        first.setdefault(candidate_id(c.x), c)
    cands = list(first.values())
    F, G = search.objective_matrix(cands, search.designs())
    feas = (G <= 0).all(axis=1) if G.shape[1] else np.ones(len(cands), bool)
    mask = np.zeros(len(cands), bool)
    if feas.any():
        idx = np.flatnonzero(feas)
        mask[idx[non_dominated(F[idx])]] = True
    from .design_eval import candidate_id

    keep = {candidate_id(c.x) for c, m in zip(cands, mask) if m}
    t = evals[evals["candidate"].isin(keep)].copy()
    o0 = d.objectives[0]
    return t.sort_values(o0.name, ascending=o0.sense == "minimize").reset_index(drop=True)


def hypervolume_by_generation(search, evals: pd.DataFrame) -> pd.DataFrame:
    """Hypervolume of the feasible non-dominated designs found up to each generation, in the
    objective space normalised by the best and worst feasible values found over the whole
    search (reference point 1.1 in every normalised objective)."""
    from pymoo.indicators.hv import HV

    d = search.plan.design
    des = evals[evals["role"] == "design"]
    cands = {}
    from .design_eval import candidate_id

    for c in search.designs():
        cands.setdefault(candidate_id(c.x), c)
    ids = list(des["candidate"])
    F, G = search.objective_matrix([cands[i] for i in ids], search.designs())
    gen = des["generation"].to_numpy()
    feas = (G <= 0).all(axis=1) if G.shape[1] else np.ones(len(ids), bool)
    ok = feas & np.all(np.abs(F) < 1e299, axis=1)
    rows = []
    if ok.any():
        lo, hi = F[ok].min(axis=0), F[ok].max(axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        hv = HV(ref_point=np.full(F.shape[1], 1.1))
        for g in range(1, int(gen.max()) + 1):
            m = ok & (gen <= g)
            rows.append({"generation": g, "hypervolume": float(hv((F[m] - lo) / span)) if m.any() else 0.0,
                         "feasible_designs": int(m.sum())})
    return pd.DataFrame(rows, columns=["generation", "hypervolume", "feasible_designs"])



def _roles(d):
    abate = next((o for o in d.objectives if o.versus == "reduction" and o.sense == "maximize"), None)
    cost = next((o for o in d.objectives if o.versus == "increase" and o.sense == "minimize"), None)
    ratio = next((o for o in d.objectives if o.ratio and o.sense == "minimize"), None)
    return abate, cost, ratio


def cost_per_tonne(d, t: pd.DataFrame) -> pd.Series:
    """US$ per t CO2 of each row: the ratio objective if declared, else cost / abatement."""
    abate, cost, ratio = _roles(d)
    if ratio is not None:
        return t[ratio.name].astype(float)
    if abate is not None and cost is not None:
        a = t[abate.name].astype(float)
        return (t[cost.name].astype(float) / a).where(a > 0, np.inf)
    return pd.Series(np.nan, index=t.index)


def _fmt(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "on" if v else "off"
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(v):
            return "n/a"
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _lever_cols(d) -> list[str]:
    return [k for lv in d.levers for k in (lv.keys if lv.kind == "split" else [lv.name])]


def _as_designed_values(search) -> dict:
    d, p = search.plan.design, search.plan
    out = {}
    for lv in d.levers:
        v = p.as_designed[lv.name]
        if lv.kind == "split":
            out.update(dict(zip(lv.keys, v)))
        else:
            out[lv.name] = v
    return out


def _md_table(df: pd.DataFrame) -> str:
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def _objective_words(d, r) -> str:
    parts = []
    for o in d.objectives:
        parts.append(f"{o.name} {_fmt(r[o.name])} ({_fmt(r[f'{o.name}_lo'])} to {_fmt(r[f'{o.name}_hi'])})")
    return "; ".join(parts)


def headline(search, evals: pd.DataFrame, pareto: pd.DataFrame) -> list[str]:
    d = search.plan.design
    abate, cost, _ = _roles(d)
    lines = []
    adv = evals[evals["role"] == "as_designed"].iloc[0]
    cpt = cost_per_tonne(d, pareto) if len(pareto) else pd.Series(dtype=float)
    cheapest = pareto.loc[cpt.idxmin()] if len(cpt) and np.isfinite(cpt).any() else None
    most = pareto.loc[pareto[abate.name].astype(float).idxmax()] if abate is not None and len(pareto) else None
    adv_cpt = float(cost_per_tonne(d, evals[evals["role"] == "as_designed"]).iloc[0])
    cons = "; ".join(f"{c.name} {'<=' if c.upper else '>='} {c.bound:,.6g} ({'robust statistic' if c.statistic == 'robust' else c.statistic} over the scenarios)"
                     for c in d.constraints) or "no constraint"
    if cheapest is not None:
        lines.append(f"- **Cheapest design per tonne**: US$ {_fmt(float(cpt.min()))} of public money per t CO2 abated "
                     f"({_objective_words(d, cheapest)}).")
    else:
        lines.append("- **Cheapest design per tonne**: none of the Pareto designs abates (no positive abatement).")
    if most is not None:
        lines.append(f"- **Most abatement within the constraints** ({cons}): {abate.name} {_fmt(float(most[abate.name]))} "
                     f"({_fmt(float(most[abate.name + '_lo']))} to {_fmt(float(most[abate.name + '_hi']))}), "
                     f"at US$ {_fmt(float(cost_per_tonne(d, pareto.loc[[most.name]]).iloc[0]))} per t ({_objective_words(d, most)}).")
    lines.append(f"- **The programme as designed**: {_objective_words(d, adv)}; US$ {_fmt(adv_cpt)} per t; "
                 f"{'meets' if adv['feasible'] else 'does not meet'} the constraints.")
    rows = []
    asd = _as_designed_values(search)
    for k in _lever_cols(d):
        r = {"lever (config key)": k, "as designed": asd.get(k)}
        if cheapest is not None:
            r["cheapest per tonne"] = cheapest[k]
        if most is not None:
            r["most abatement"] = most[k]
        rows.append(r)
    diff = []
    for label, pick in (("cheapest per tonne", cheapest), ("most abatement", most)):
        if pick is None:
            continue
        ch = []
        for k in _lever_cols(d):
            a, b = asd.get(k), pick[k]
            if isinstance(a, list):
                a = a[0] if len(set(map(str, a))) == 1 else a
            if _fmt(a) != _fmt(b):
                ch.append(f"{'.'.join(k.split('.')[-2:])} {_fmt(a)} -> {_fmt(b)}")
        diff.append(f"- The {label} design differs from the programme as designed in: " + (", ".join(ch) if ch else "nothing") + ".")
    return lines, pd.DataFrame(rows), diff


def plot_pareto(search, evals: pd.DataFrame, pareto: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    d = search.plan.design
    ox, oy = d.objectives[0], d.objectives[1] if len(d.objectives) > 1 else d.objectives[0]
    fig, ax = plt.subplots(figsize=(8.5, 6))
    des = evals[evals["role"] == "design"]
    ok = des["feasible"].astype(bool)
    ax.scatter(des.loc[ok, ox.name], des.loc[ok, oy.name], s=12, c="0.6", label="designs evaluated (feasible)")
    if (~ok).any():
        ax.scatter(des.loc[~ok, ox.name], des.loc[~ok, oy.name], s=12, c="0.8", marker="x", label="designs breaking a constraint")
    if len(pareto):
        pt = pareto.sort_values(ox.name)
        xerr = np.abs(np.vstack([pt[ox.name] - pt[f"{ox.name}_lo"], pt[f"{ox.name}_hi"] - pt[ox.name]]))
        yerr = np.abs(np.vstack([pt[oy.name] - pt[f"{oy.name}_lo"], pt[f"{oy.name}_hi"] - pt[oy.name]]))
        ax.errorbar(pt[ox.name], pt[oy.name], xerr=xerr, yerr=yerr, fmt="o-", color="C0", ms=5, lw=1, elinewidth=0.6,
                    capsize=2, label="Pareto set (5-95 % over the scenarios)")
    marks = {"as_designed": ("*", "C3", 220), "baseline": ("s", "k", 60), "reference": ("D", "C2", 70)}
    # the view: every design, the programme as designed and the baseline; a reference far outside is named in a note
    core = evals[evals["role"] != "reference"]
    fx, fy = core[ox.name].astype(float), core[oy.name].astype(float)
    fx, fy = fx[np.isfinite(fx)], fy[np.isfinite(fy)]
    pad_x, pad_y = 0.08 * (fx.max() - fx.min() or 1.0), 0.08 * (fy.max() - fy.min() or 1.0)
    xlim, ylim = (fx.min() - pad_x, fx.max() + pad_x), (fy.min() - pad_y, fy.max() + pad_y)
    outside = []
    for i, (_, r) in enumerate(evals[evals["role"] != "design"].iterrows()):
        m, c, s = marks[r["role"]]
        lbl = "programme as designed" if r["role"] == "as_designed" else ("baseline" if r["role"] == "baseline" else f"policy {r['label']}")
        x, y = float(r[ox.name]), float(r[oy.name])
        if not (xlim[0] <= x <= xlim[1] and ylim[0] <= y <= ylim[1]):
            outside.append(f"{lbl}: {ox.name} {_fmt(x)}, {oy.name} {_fmt(y)}")
            continue
        ax.scatter([x], [y], marker=m, c=c, s=s, zorder=5, edgecolors="k", linewidths=0.5)
        ax.annotate(lbl, (x, y), textcoords="offset points", xytext=(6, 4 + 10 * (i % 3)), fontsize=8)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    if outside:
        ax.text(0.99, 0.02, "outside the view:\n" + "\n".join(outside), transform=ax.transAxes, ha="right", va="bottom",
                fontsize=7, bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "0.7"})
    for c in d.constraints:
        if c.name in (ox.name, oy.name) and c.statistic in ("robust", "mean"):
            (ax.axvline if c.name == ox.name else ax.axhline)(c.bound, color="C3", ls="--", lw=1,
                                                             label=f"{c.name} {'<=' if c.upper else '>='} {c.bound:,.6g}")
    ax.set_xlabel(f"{ox.name} ({ox.sense}; {d.robustness} over scenarios)")
    ax.set_ylabel(f"{oy.name} ({oy.sense})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    ax.set_title(f"{d.name}: {len(des)} designs, {len(pareto)} on the Pareto set", fontsize=10)
    fig.tight_layout()
    _atomic_write_bytes(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)


def plot_convergence(hv: pd.DataFrame, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(hv["generation"], hv["hypervolume"], "o-")
    ax.set(xlabel="generation", ylabel="hypervolume (normalised objectives, ref. 1.1)", title=title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    _atomic_write_bytes(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)


def write_outputs(search, out: Path, generations: int, population: int, elapsed_s: float) -> None:
    d, p = search.plan.design, search.plan
    evals = evaluations_table(search)
    pareto = pareto_table(search, evals)
    hv = hypervolume_by_generation(search, evals)
    base = yaml.safe_load(p.base_yaml)
    lines, levers, diff = headline(search, evals, pareto)
    rob = {"mean": "mean over the scenarios", "percentile": f"{d.percentile_q:g}th percentile of the worse tail",
           "regret": "minimax regret (the search minimises each objective's largest shortfall from the best design in a scenario)"}[d.robustness]
    n_des = int((evals["role"] == "design").sum())
    objs = [o.name for o in d.objectives]
    show = ["candidate", "generation"] + _lever_cols(d) + [c for o in objs for c in (o, f"{o}_lo", f"{o}_hi")]
    refs = evals[evals["role"] != "design"][["label"] + [c for o in objs for c in (o, f"{o}_lo", f"{o}_hi")] + ["feasible"]].copy()
    refs["feasible"] = refs["feasible"].map({True: "yes", False: "no"})
    md = "\n".join([
        f"# Design search: {d.name}", "", d.description, "",
        f"Scenario `{base['scenario']['name']}`, {base['n_firms']:,} firms, {base['start_year']}-{base['end_year']}. "
        f"Every design is evaluated on the same {len(p.scenarios)} scenarios ({d.samples} uncertainty samples x "
        f"{len(d.seeds)} seeds: common random numbers), paired with the baseline run of the same scenario. "
        f"Robustness: {rob}; intervals are the 5th to 95th percentile over the scenarios. "
        f"NSGA-II (pymoo), {generations} generations x {population}; {n_des} designs evaluated "
        f"({search.runs_executed} runs executed in this session, the rest from the cache), {elapsed_s:,.0f} s.", "",
        "## Headline", "", *lines, "", "## How they differ from the programme as designed", "", *diff, "",
        _md_table(levers), "", f"## Pareto set ({len(pareto)} designs)", "", _md_table(pareto[show]) if len(pareto) else "(none feasible)", "",
        "## The programme as designed, the baseline and the reference policies (same scenarios)", "", _md_table(refs), "",
        "![Pareto set](pareto.png)", "", "![Hypervolume by generation](convergence.png)", ""])
    try:
        _atomic_write_bytes(out / "evaluations.parquet", lambda f: evals.to_parquet(f, index=False))
        _atomic_write_bytes(out / "pareto.parquet", lambda f: pareto.to_parquet(f, index=False))
        _atomic_write_bytes(out / "convergence.parquet", lambda f: hv.to_parquet(f, index=False))
        plot_pareto(search, evals, pareto, out / "pareto.png")
        plot_convergence(hv, out / "convergence.png", f"{d.name}: hypervolume by generation")
        _atomic_write_bytes(out / "design.yaml", lambda f: f.write_text(Path(d.path).read_text()))
        _atomic_write_bytes(out / "report.md", lambda f: f.write_text(md))
    except OSError as exc:
        raise BadInput(f"out = {str(out)!r}: cannot write {exc.filename or 'the outputs'} ({exc.strerror or exc})") from None
