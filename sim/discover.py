"""Scenario discovery: in which regions of the uncertainty space does a design miss its target?

    python -m sim.discover results/design/bajio_programme 'abatement_t_co2<20000'
    python -m sim.discover results/design/bajio_programme 'abatement_t_co2<20000' candidate=as_designed
    python -m sim.discover results/experiments/carbon_price_x_subsidy 'run_cumulative_emissions_t_co2>2.5e7'

The condition (``outcome<threshold``, ``<=``, ``>``, ``>=``) names the *cases of interest*: the
runs that miss the target. PRIM (the Patient Rule Induction Method, Friedman & Fisher 1999, as
in EMA Workbench; the ``prim`` package of Project Platypus) peels the input space down to boxes
where those cases are dense. Each box is reported at the last point of its peeling trajectory
that still covers at least ``min_coverage`` (default 0.5) of the cases of interest it can
reach (coverage: share of all cases of interest inside the box; density: share of the box's
runs that are cases of interest); then the next box is sought among the remaining runs.

Inputs (the box dimensions):

* a **design search** folder (``dataset/table=runs``, :mod:`sim.design`): the uncertainties
  and the levers over every design evaluated (``candidate=<id>|as_designed`` restricts it to
  one design: the uncertainties only); the outcome is a design objective (paired with the
  baseline run of the same scenario, :mod:`sim.design_objectives`) or any summary.json number;
* a **sweep** folder (``dataset/table=summary``, or the run folders, :mod:`sim.gather`): the
  swept parameters; the outcome is a column of the gathered table in its last year
  (``year=<y>`` for another).

Output in ``<folder>/discover/<condition>`` (or ``out=DIR``): ``boxes.csv`` / ``boxes.md``
(per box and restricted dimension: the limits, the quasi-p value; the box's coverage, density,
mass and number of runs) and ``tradeoff.png`` (the coverage/density trade-off of each peeling
trajectory, the chosen points marked). Bad input: one line, exit 2, nothing written.
"""
from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import BadInput, report_bad_input
from .outputs import check_output_dir

OPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}
OWN_KEYS = ("candidate", "boxes", "min_coverage", "out", "year")


def parse_condition(text: str) -> tuple[str, str, float]:
    m = re.fullmatch(r"\s*([A-Za-z_][\w.]*)\s*(<=|>=|<|>)\s*([-+0-9.eE_]+)\s*", text)
    if not m:
        raise BadInput(f"condition = {text!r}: write outcome<threshold (or <=, >, >=), e.g. 'abatement_t_co2<20000'")
    try:
        v = float(m.group(3).replace("_", ""))
    except ValueError:
        raise BadInput(f"condition = {text!r}: {m.group(3)!r} is not a number") from None
    return m.group(1), m.group(2), v


# -- the table of runs: inputs and outcomes -------------------------------------------------------
def design_table(folder: Path, candidate: str | None) -> tuple[pd.DataFrame, list[str]]:
    """One row per design run: uncertainties, levers, raw outcomes and the design objectives
    per scenario (paired with the baseline)."""
    import yaml

    from .design_eval import RUNS_TABLE, read_all_runs
    from .design_objectives import per_scenario
    from .design_spec import load_design

    d = load_design(folder / "design.yaml")
    runs = read_all_runs(folder)
    unc = [u.name for u in d.uncertainties]
    levers = [k for lv in d.levers for k in (lv.keys if lv.kind == "split" else [lv.name])]
    base = runs[runs["role"] == "baseline"].set_index(["sample", "seed"])
    if base.empty:
        raise BadInput(f"folder = {str(folder)!r}: the baseline runs are missing from dataset/table={RUNS_TABLE}")
    if candidate is None:
        sel = runs[runs["role"] == "design"]
        inputs = unc + levers
    else:
        sel = runs[runs["role"] == "as_designed"] if candidate == "as_designed" else runs[runs["candidate"] == candidate]
        if sel.empty:
            ids = sorted(runs.loc[runs["role"] == "design", "candidate"].unique())[:5]
            raise BadInput(f"candidate = {candidate!r}: no such design in {folder} (e.g. as_designed, {', '.join(ids)})")
        inputs = unc
    if sel.empty:
        raise BadInput(f"folder = {str(folder)!r}: no design runs")
    frames = []
    for _, g in sel.groupby("candidate", sort=False):
        b = base.loc[list(zip(g["sample"], g["seed"]))].reset_index()
        vals = per_scenario(d, g.reset_index(drop=True), b)
        g = g.reset_index(drop=True).copy()
        for k, v in vals.items():
            g[k] = v
        frames.append(g)
    return pd.concat(frames, ignore_index=True), inputs


def sweep_table(folder: Path, year: int | None) -> tuple[pd.DataFrame, list[str]]:
    """One row per sweep run (its last year, or ``year``): the swept parameters and outcomes."""
    from .gather import DATASET_DIR, gather, parameter_table, read_dataset, swept_override_keys

    if (folder / DATASET_DIR / "table=summary").is_dir():
        t = read_dataset(folder / DATASET_DIR, "summary")
    else:
        t = gather(folder)
    y = int(t["year"].max()) if year is None else year
    if y not in set(t["year"]):
        raise BadInput(f"year = {y}: not simulated (years {int(t['year'].min())}-{int(t['year'].max())})")
    t = t[t["year"] == y].reset_index(drop=True)
    swept = [k for k in swept_override_keys(folder) if k in t.columns]
    inputs = [k for k in (swept or [c for c in t.columns if c in ("policy", "scenario", "seed")]) if k != "seed"]
    if not inputs:
        raise BadInput(f"folder = {str(folder)!r}: no swept parameter to discover boxes over")
    return t, inputs


# -- PRIM --------------------------------------------------------------------------------------
def find_boxes(x: pd.DataFrame, y: np.ndarray, n_boxes: int = 3, min_coverage: float = 0.5):
    """PRIM boxes of the cases ``y`` (bool) in ``x``: a list of (PrimBox, chosen trajectory index)."""
    import prim

    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = prim.Prim(x, y.astype(float), threshold=0.5, threshold_type=">", mass_min=0.05)
        for _ in range(n_boxes):
            try:
                box = p.find_box()
            except Exception:  # noqa: BLE001 - prim stops with an error once no case is left
                break
            if box is None or len(box.peeling_trajectory) < 2:
                break
            tr = box.peeling_trajectory
            ok = np.flatnonzero(tr["coverage"].to_numpy(float) >= min_coverage)
            i = int(ok[-1]) if len(ok) else len(tr) - 1
            box.select(i)
            out.append((box, i))
            if float(tr["density"].iloc[i]) <= float(y.mean()):
                break
    return out


def boxes_table(found, n_cases: int) -> pd.DataFrame:
    rows = []
    for b, (box, i) in enumerate(found, start=1):
        st = box.peeling_trajectory.iloc[i]
        lim = box.limits
        for dim, r in lim.iterrows():
            lo, hi = r["min"], r["max"]
            rows.append({"box": b, "coverage": float(st["coverage"]), "density": float(st["density"]),
                         "mass": float(st["mass"]), "restricted_dims": int(st["res dim"]), "dimension": str(dim),
                         "min": lo if not isinstance(lo, (set, frozenset)) else ",".join(sorted(map(str, lo))),
                         "max": hi if not isinstance(hi, (set, frozenset)) else "",
                         "qp_value": float(r["qp values"]) if np.isscalar(r["qp values"]) else np.nan})
    t = pd.DataFrame(rows, columns=["box", "coverage", "density", "mass", "restricted_dims", "dimension", "min", "max", "qp_value"])
    t.attrs["cases"] = n_cases
    return t


def plot_tradeoff(found, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .results import _atomic_write_bytes

    fig, ax = plt.subplots(figsize=(6.5, 5))
    top = max([float(box.peeling_trajectory["res dim"].max()) for box, _ in found] + [1.0])
    for b, (box, i) in enumerate(found, start=1):
        tr = box.peeling_trajectory
        sc = ax.scatter(tr["coverage"], tr["density"], c=tr["res dim"].astype(float), cmap="viridis", vmin=0, vmax=top, s=14)
        ax.plot(tr["coverage"], tr["density"], lw=0.6, color=f"C{b - 1}", label=f"box {b} peeling trajectory")
        ax.scatter([tr["coverage"].iloc[i]], [tr["density"].iloc[i]], s=140, facecolors="none", edgecolors="C3", lw=1.5)
        ax.annotate(f"box {b}", (tr["coverage"].iloc[i], tr["density"].iloc[i]), textcoords="offset points", xytext=(6, -12), fontsize=8)
    if found:
        fig.colorbar(sc, ax=ax, label="restricted dimensions")
    ax.set(xlabel="coverage (share of the misses inside the box)", ylabel="density (share of the box's runs that miss)",
           xlim=(0, 1.05), ylim=(0, 1.05), title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    _atomic_write_bytes(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)


def _markdown(t: pd.DataFrame, cond: str, n: int, n_cases: int, inputs: list[str]) -> str:
    from .sweep import markdown_table

    head = (f"# Scenario discovery: {cond}\n\n{n_cases} of {n} runs meet `{cond}` (the cases of interest). "
            f"Inputs: {', '.join(inputs)}. PRIM boxes (peeling alpha 0.05, minimum mass 0.05), each at the last point "
            "of its peeling trajectory that keeps the coverage chosen.\n\n")
    return head + (markdown_table(t) if len(t) else "No box: PRIM found no region denser in misses than the whole space.") + "\n"


def discover(folder: Path, condition: str, own: dict) -> tuple[pd.DataFrame, Path]:
    from .results import _atomic_write_bytes

    name, op, thr = parse_condition(condition)
    if not folder.is_dir():
        raise BadInput(f"folder = {str(folder)!r}: not a folder")
    slug = f"{name}_{ {'<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge'}[op]}_{thr:g}"
    out = Path(own["out"]) if "out" in own else folder / "discover" / slug
    check_output_dir(out, "out")
    if (folder / "design.yaml").is_file() and (folder / "dataset" / "table=runs").is_dir():
        t, inputs = design_table(folder, own.get("candidate"))
    else:
        if "candidate" in own:
            raise BadInput(f"candidate: only for a design search folder ({folder} has no design.yaml)")
        t, inputs = sweep_table(folder, own.get("year"))
    if name not in t.columns:
        num = [c for c in t.columns if pd.api.types.is_numeric_dtype(t[c]) and c not in inputs
               and c not in ("sample", "seed", "n_firms", "start_year", "end_year", "months_run", "year")][:12]
        raise BadInput(f"outcome {name!r}: not in the runs of {folder} (e.g. {', '.join(num)}, ...)")
    v = pd.to_numeric(t[name], errors="coerce").to_numpy(float)
    y = OPS[op](v, thr) & ~np.isnan(v)
    x = t[inputs].copy()
    for c in x.columns:
        if x[c].nunique(dropna=False) <= 1:
            x = x.drop(columns=c)
    if x.empty:
        raise BadInput(f"folder = {str(folder)!r}: the inputs ({', '.join(inputs)}) do not vary; nothing to discover")
    if not y.any():
        raise BadInput(f"condition {condition!r}: no run meets it ({name} ranges {np.nanmin(v):,.6g} to {np.nanmax(v):,.6g})")
    if y.all():
        raise BadInput(f"condition {condition!r}: every run meets it ({name} ranges {np.nanmin(v):,.6g} to {np.nanmax(v):,.6g}); no region to tell apart")
    found = find_boxes(x.reset_index(drop=True), y, int(own.get("boxes", 3)), float(own.get("min_coverage", 0.5)))
    with warnings.catch_warnings():  # prim's quasi-p values divide by zero on degenerate boxes
        warnings.simplefilter("ignore")
        table = boxes_table(found, int(y.sum()))
    md = _markdown(table, condition, len(y), int(y.sum()), list(x.columns))
    try:
        out.mkdir(parents=True, exist_ok=True)
        _atomic_write_bytes(out / "boxes.csv", lambda p: table.to_csv(p, index=False))
        _atomic_write_bytes(out / "boxes.md", lambda p: p.write_text(md))
        plot_tradeoff(found, out / "tradeoff.png", f"PRIM: {condition} ({int(y.sum())} of {len(y)} runs)")
    except OSError as exc:
        raise BadInput(f"out = {str(out)!r}: cannot write ({exc.strerror or exc})") from None
    return table, out


def parse_args(argv: list[str]):
    pos = [a for a in argv if not re.match(r"^(candidate|boxes|min_coverage|out|year)=", a)]
    if len(pos) != 2:
        raise BadInput("usage: python -m sim.discover <sweep or design folder> 'outcome<threshold' "
                       "[candidate=ID|as_designed] [boxes=3] [min_coverage=0.5] [year=Y] [out=DIR]")
    own = {}
    for a in argv:
        if a in pos:
            continue
        k, _, v = a.partition("=")
        if k in ("boxes", "year"):
            try:
                own[k] = int(v)
            except ValueError:
                raise BadInput(f"{k} = {v!r}: an integer") from None
            if k == "boxes" and own[k] < 1:
                raise BadInput(f"boxes = {own[k]}: at least 1")
        elif k == "min_coverage":
            try:
                own[k] = float(v)
            except ValueError:
                raise BadInput(f"min_coverage = {v!r}: a share in [0, 1]") from None
            if not 0 <= own[k] <= 1:
                raise BadInput(f"min_coverage = {v!r}: a share in [0, 1]")
        else:
            own[k] = v
    return Path(pos[0]), pos[1], own


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    return report_bad_input(_command, argv)


def _command(argv: list[str]) -> int:
    folder, cond, own = parse_args(argv)
    table, out = discover(folder, cond, own)
    print((out / "boxes.md").read_text())
    print(f"Written: {out / 'boxes.csv'}, {out / 'boxes.md'}, {out / 'tradeoff.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
