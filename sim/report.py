"""Compare finished runs: a printed summary table and a PNG.

    python -m sim.report results/default_run

Finds every complete run folder (one with ``summary.json``) under the given folder; the
runs of policy ``none`` are the baseline. Abatement = baseline cumulative emissions minus
the policy's, over the simulated years (t CO2); public cost per tonne = public spending /
abatement. With several seeds per policy, figures are means over seeds.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

BASELINE = "none"


def load_runs(root: Path) -> list[dict]:
    """Every complete run under ``root``, labelled by its policy; when two runs of one seed
    share a policy name (e.g. a programme switched off under policy ``none``), each is
    labelled by its folder instead, so they are not averaged together."""
    runs = []
    for s in sorted(Path(root).rglob("summary.json")):
        d = json.loads(s.read_text())
        d["_dir"] = s.parent
        runs.append(d)
    keys = [(r["policy"], r["seed"]) for r in runs]
    clash = len(set(keys)) < len(keys)
    for r in runs:
        r["label"] = str(r["_dir"].relative_to(root)) if clash and r["_dir"] != Path(root) else r["policy"]
        if clash:
            r["label"] = r["label"].replace(f"seed={r['seed']}", "").strip("/,") or r["policy"]
    return runs


def summary_table(runs: list[dict]) -> pd.DataFrame:
    rows = []
    for r in runs:
        em = {int(k): v for k, v in r["emissions_t_co2_by_year"].items()}
        rows.append({
            "policy": r["label"], "seed": r["seed"],
            "base_year_mt": em[r["start_year"]] / 1e6,
            **{f"{y}_mt": (em[y] / 1e6 if y in em else np.nan) for y in (2030, 2040, 2050)},
            "cumulative_mt": r["cumulative_emissions_t_co2"] / 1e6,
            "adoptions": r["adoptions"],
            "public_spending_musd": r["public_spending_usd"] / 1e6,
            "free_rider_share": r["free_rider_share"],
        })
    rows.sort(key=lambda r: (r["policy"] != BASELINE, r["policy"]))
    df = pd.DataFrame(rows).groupby("policy", sort=False).mean(numeric_only=True).drop(columns="seed")
    if BASELINE in df.index:
        df["abatement_mt"] = df.loc[BASELINE, "cumulative_mt"] - df["cumulative_mt"]
        with np.errstate(divide="ignore", invalid="ignore"):
            cpt = df["public_spending_musd"] / df["abatement_mt"]
        df["usd_per_t_avoided"] = np.where(df["abatement_mt"] > 0, cpt, np.nan)
        df.loc[BASELINE, "usd_per_t_avoided"] = np.nan
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
        ts = pd.read_parquet(r["_dir"] / "timeseries.parquet", columns=["year", "month", "emissions_t_co2", "adoptions"])
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
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m sim.report <folder with run folders>", file=sys.stderr)
        return 2
    root = Path(argv[0])
    runs = load_runs(root) if root.is_dir() else []
    if not runs:
        print(f"error: {root}: no complete run folders (with summary.json) found", file=sys.stderr)
        return 2
    pd.set_option("display.width", 200)
    df = summary_table(runs)
    print(f"\nScenario {runs[0]['scenario']}: {runs[0]['n_firms']} firms, {runs[0]['start_year']}-{runs[0]['end_year']}, "
          f"{len(runs)} run(s) in {root}\n")
    print("Emissions (Mt CO2, scope 1+2), abatement vs. no policy, public spending (M USD):")
    print(df.round(3).to_string())
    print("\nAdoption share by measure at the end year (share of firms the measure applies to):")
    print(adoption_table(runs).round(3).to_string())
    png = plot(runs, root / "emissions_adoption.png")
    df.to_csv(root / "summary_table.csv")
    print(f"\nPlot: {png}\nTable: {root / 'summary_table.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
