"""Compare finished runs: a printed summary table and a PNG.

    python -m sim.report results/default_run
    python -m sim.report results/default_run --out reports/default_run   # table and plot elsewhere

Finds every complete run folder (one with ``summary.json``) under the given folder; the
runs of policy ``none`` are the baseline (labelled "scenario programmes only (...)" when the
scenario's own programmes spend public money). Abatement = baseline cumulative emissions
minus the policy's, over the simulated years (t CO2); public cost per tonne = public
spending / abatement (undiscounted; the evaluation of lifetime abatement, discounting, per
instrument and with intervals is ``python -m sim.compare``: docs/evaluation.md). Free-rider
share: supported adoptions' tonnes the same firm also makes within N years in the baseline
run of the same seed (sim.evaluation.additionality). With several seeds per policy, figures
are means over seeds.

A damaged run folder (truncated parquet, empty or invalid summary.json) is left out with one
line on stderr naming it and how to re-run it; none usable: one line, exit code 2. The output
folder (``--out``, default the given folder) is checked for writing before anything is read.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import BadInput, report_bad_input
from .gather import DamagedRun, nothing_usable, read_summary, read_table, skipped
from .outputs import check_output_dir

BASELINE = "none"
#: summary.json keys the report reads
NEEDED = ("scenario", "policy", "seed", "n_firms", "start_year", "end_year", "emissions_t_co2_by_year",
          "cumulative_emissions_t_co2", "adoptions", "public_spending_usd", "adoption_share_by_measure")
TS_COLUMNS = ["year", "month", "emissions_t_co2", "adoptions"]


def read_run(run_dir: Path) -> dict:
    """A run's summary with its monthly time series (``_ts``) and folder (``_dir``);
    :class:`DamagedRun` if either cannot be read or lacks what the report needs."""
    d = read_summary(run_dir)
    missing = [k for k in NEEDED if k not in d]
    if missing:
        raise DamagedRun(run_dir, f"summary.json lacks {', '.join(missing)}")
    if not isinstance(d["emissions_t_co2_by_year"], dict) or str(d["start_year"]) not in d["emissions_t_co2_by_year"]:
        raise DamagedRun(run_dir, "summary.json has no emissions for its start year")
    d["_ts"] = read_table(run_dir, "timeseries", columns=TS_COLUMNS)
    d["_dir"] = Path(run_dir)
    return d


def load_runs(root: Path, damaged: list | None = None) -> list[dict]:
    """Every complete run under ``root``, labelled by what spends (:func:`sim.evaluation.labels.run_label`:
    a run of policy ``none`` whose scenario programmes spend public money is "scenario
    programmes only (...)"); when two runs of one seed share a policy name (e.g. a programme
    switched off under policy ``none``), each is labelled by its folder instead, so they are
    not averaged together. Damaged run folders are left out (appended to ``damaged`` as
    :class:`DamagedRun` when given)."""
    from .evaluation.labels import run_label

    runs = []
    for s in sorted(Path(root).rglob("summary.json")):
        try:
            runs.append(read_run(s.parent))
        except DamagedRun as exc:
            if damaged is not None:
                damaged.append(exc)
    keys = [(r["policy"], r["seed"]) for r in runs]
    clash = len(set(keys)) < len(keys)
    for r in runs:
        r["label"] = str(r["_dir"].relative_to(root)) if clash and r["_dir"] != Path(root) else run_label(r)
        if clash:
            r["label"] = r["label"].replace(f"seed={r['seed']}", "").strip("/,") or r["policy"]
    return runs


def free_rider_share(run: dict, runs: list[dict]) -> float:
    """The free-rider share (tonnes; :mod:`sim.evaluation.additionality`, the one definition)
    of ``run`` against the baseline run (policy ``none``) of the same seed and scenario in
    the folder; NaN without one, or for a baseline run itself."""
    from .evaluation import FREE_RIDER_WINDOW_YR
    from .evaluation.additionality import additionality
    from .evaluation.runs import load_run

    if run["policy"] == BASELINE:
        return np.nan
    base = [b for b in runs if b["policy"] == BASELINE and b["seed"] == run["seed"] and b["scenario"] == run["scenario"]]
    if len(base) != 1:
        return np.nan
    try:
        return float(additionality(load_run(run["_dir"]), load_run(base[0]["_dir"]), FREE_RIDER_WINDOW_YR)["free_rider_share"])
    except DamagedRun:
        return np.nan


def summary_table(runs: list[dict]) -> pd.DataFrame:
    rows = []
    for r in runs:
        em = {int(k): v for k, v in r["emissions_t_co2_by_year"].items()}
        rows.append({
            "policy": r["label"], "seed": r["seed"], "_baseline": r["policy"] == BASELINE,
            "base_year_mt": em[r["start_year"]] / 1e6,
            **{f"{y}_mt": (em[y] / 1e6 if y in em else np.nan) for y in (2030, 2040, 2050)},
            "cumulative_mt": r["cumulative_emissions_t_co2"] / 1e6,
            "adoptions": r["adoptions"],
            "public_spending_musd": r["public_spending_usd"] / 1e6,
            "free_rider_share": free_rider_share(r, runs),
        })
    rows.sort(key=lambda r: (not r["_baseline"], r["policy"]))
    df = pd.DataFrame(rows).groupby("policy", sort=False).mean(numeric_only=True).drop(columns="seed")
    base = df.index[df["_baseline"] == 1]
    df = df.drop(columns="_baseline")
    if len(base) == 1:
        b = base[0]
        df["abatement_mt"] = df.loc[b, "cumulative_mt"] - df["cumulative_mt"]
        with np.errstate(divide="ignore", invalid="ignore"):
            cpt = df["public_spending_musd"] / df["abatement_mt"]
        df["usd_per_t_avoided"] = np.where(df["abatement_mt"] > 0, cpt, np.nan)
        df.loc[b, "usd_per_t_avoided"] = np.nan
    return df


def adoption_table(runs: list[dict]) -> pd.DataFrame:
    frames = {}
    for r in runs:
        frames.setdefault(r["label"], []).append(pd.Series(r["adoption_share_by_measure"]))
    return pd.DataFrame({p: pd.concat(v, axis=1).mean(axis=1) for p, v in frames.items()})


def plot(runs: list[dict], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    colors = {}
    for r in runs:
        ts = r["_ts"]
        annual = ts.groupby("year")["emissions_t_co2"].sum() / 1e6
        c = colors.setdefault(r["label"], f"C{len(colors)}")
        lbl = r["label"] if r["seed"] == runs[0]["seed"] else None
        axes[0].plot(annual.index, annual.values, color=c, label=lbl, alpha=0.9)
        axes[1].plot(ts["year"] + (ts["month"] % 12) / 12, ts["adoptions"], color=c, label=lbl, alpha=0.9)
    axes[0].set(title="Emissions (scope 1 + 2)", xlabel="year", ylabel="Mt CO2 / yr")
    axes[1].set(title="Adoptions since the start year", xlabel="year", ylabel="adopted measures (count)")
    share = adoption_table(runs)
    share.plot.barh(ax=axes[2], color=[colors[p] for p in share.columns])
    axes[2].set(title=f"Adoption share by measure, {runs[0]['end_year']}", xlabel="share of firms the measure applies to")
    for ax in axes[:2]:
        ax.grid(alpha=0.3)
        ax.legend()
    axes[2].legend(loc="lower right")
    fig.suptitle(f"{runs[0]['scenario']}: {runs[0]['n_firms']} firms, {runs[0]['start_year']}-{runs[0]['end_year']}")
    fig.tight_layout()
    from .results import _atomic_write_bytes

    _atomic_write_bytes(out, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return out


USAGE = "usage: python -m sim.report <folder with run folders> [--out DIR]"


def parse_args(argv: list[str]) -> tuple[Path, Path]:
    args, out = list(argv), None
    for i, a in enumerate(list(args)):
        if a == "--out" or a.startswith("--out="):
            val = a.split("=", 1)[1] if "=" in a else (args[i + 1] if i + 1 < len(args) else "")
            if not val:
                raise BadInput(f"--out: needs a folder; {USAGE}")
            out = Path(val)
            del args[i:i + (1 if "=" in a else 2)]
            break
    if len(args) != 1 or args[0].startswith("-"):
        raise BadInput(USAGE)
    root = Path(args[0])
    return root, out or root


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    return report_bad_input(_command, argv)


def _command(argv: list[str]) -> int:
    from .results import _atomic_write_bytes

    root, out = parse_args(argv)
    if not root.is_dir():
        raise BadInput(f"{root}: no complete run folders (with summary.json) found (not a folder)")
    check_output_dir(out, "--out" if out != root else "folder")  # before any work
    damaged: list[DamagedRun] = []
    runs = load_runs(root, damaged)
    if not runs:
        if damaged:
            raise nothing_usable(root, damaged, key="folder")
        raise BadInput(f"{root}: no complete run folders (with summary.json) found")
    skipped(damaged)
    pd.set_option("display.width", 200)
    df = summary_table(runs)
    print(f"\nScenario {runs[0]['scenario']}: {runs[0]['n_firms']} firms, {runs[0]['start_year']}-{runs[0]['end_year']}, "
          f"{len(runs)} run(s) in {root}\n")
    print("Emissions (Mt CO2, scope 1+2), abatement vs. the baseline, public spending (M USD, undiscounted):")
    print(df.round(3).to_string())
    print("\nAdoption share by measure at the end year (share of firms the measure applies to):")
    print(adoption_table(runs).round(3).to_string())
    try:
        out.mkdir(parents=True, exist_ok=True)
        png = plot(runs, out / "emissions_adoption.png")
        _atomic_write_bytes(out / "summary_table.csv", lambda p: df.to_csv(p))
    except OSError as exc:
        raise BadInput(f"--out = {str(out)!r}: cannot write ({exc.strerror or exc})") from None
    print(f"\nPlot: {png}\nTable: {out / 'summary_table.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
