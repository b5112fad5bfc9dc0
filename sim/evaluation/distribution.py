"""For whom: who adopts, who gets the public money, who saves, where the abatement is.

For one run, by size class, sector, cluster association and every region level a mechanism
declared (``region_<level>``, e.g. country or state): firms, adopters (firms with at least
one adoption), adoptions, grants received (grants + loan grant equivalents on the adoption
rows, USD), energy-cost savings and abatement of the installations to the run's end (their
lifetime truncated there, undiscounted: USD and t CO2). A comparison reports the policy run,
the baseline and their difference, per seed, as a tidy table (one row per policy, seed,
dimension, group, metric): the groups of a dimension add up to its ``all`` row.

Concentration of public money among recipients (firms that received any): the share going to
the top 10 % of recipients and the Gini coefficient (0 = equal, 1 = all to one firm).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .lifetime import lifetime_flows
from .runs import EvaluatedRun

BASE_DIMENSIONS = ("size_class", "sector", "cluster")
METRICS = ("firms", "adopters", "adoptions", "grants_received_usd", "energy_cost_saving_usd", "abatement_t_co2")


def dimensions(run: EvaluatedRun) -> list[str]:
    return list(BASE_DIMENSIONS) + sorted(c for c in run.adoptions.columns if c.startswith("region_"))


def by_group(run: EvaluatedRun) -> pd.DataFrame:
    """Tidy table of one run: dimension, group, metric, value (``all`` rows hold the totals)."""
    ad = run.adoptions
    end_t = float(run.end_year - run.start_year + 1)
    f = lifetime_flows(ad, run.lifetime_yr, run.om_share, end_t, 0.0)
    rows = pd.DataFrame({
        "firm": ad["firm"].astype(int).to_numpy(),
        "grants_received_usd": ad["subsidy_usd"].to_numpy(float) + ad["loan_grant_equivalent_usd"].to_numpy(float),
        "energy_cost_saving_usd": f["energy_cost_saving_usd"].to_numpy(),
        "abatement_t_co2": f["abatement_t_co2"].to_numpy(),
    })
    firms_by = run.summary.get("firms_by") or {}
    out = []
    for dim in dimensions(run) + ["all"]:
        key = ad[dim].astype(str).to_numpy() if dim != "all" else np.full(len(ad), "all")
        g = rows.assign(group=key).groupby("group", sort=True)
        t = pd.DataFrame({"adopters": g["firm"].nunique(), "adoptions": g.size(),
                          **{m: g[m].sum() for m in ("grants_received_usd", "energy_cost_saving_usd", "abatement_t_co2")}})
        counts = firms_by.get(dim, {}) if dim != "all" else {"all": int(sum(next(iter(firms_by.values()), {}).values()))}
        t = t.reindex(sorted(set(t.index) | set(counts)), fill_value=0)
        t["firms"] = [counts.get(k, np.nan) for k in t.index]
        long = t.reset_index(names="group").melt(id_vars="group", var_name="metric", value_name="value")
        long.insert(0, "dimension", dim)
        out.append(long)
    return pd.concat(out, ignore_index=True)[["dimension", "group", "metric", "value"]]


def paired(policy: EvaluatedRun, baseline: EvaluatedRun) -> pd.DataFrame:
    """Policy, baseline and policy - baseline (``run`` column) by group."""
    p, b = by_group(policy), by_group(baseline)
    m = p.merge(b, on=["dimension", "group", "metric"], how="outer", suffixes=("_p", "_b")).fillna(0.0)
    parts = [m[["dimension", "group", "metric"]].assign(run=r, value=v)
             for r, v in (("policy", m["value_p"]), ("baseline", m["value_b"]), ("difference", m["value_p"] - m["value_b"]))]
    return pd.concat(parts, ignore_index=True)[["run", "dimension", "group", "metric", "value"]]


def concentration(run: EvaluatedRun, top_share: float = 0.1) -> dict:
    """Share of public money (grants + loan grant equivalents) to the top ``top_share`` of
    recipients, and its Gini coefficient among recipients."""
    ad = run.adoptions
    money = (ad["subsidy_usd"].to_numpy(float) + ad["loan_grant_equivalent_usd"].to_numpy(float))
    per_firm = pd.Series(money).groupby(ad["firm"].astype(int).to_numpy()).sum()
    x = np.sort(per_firm[per_firm > 0].to_numpy())[::-1]
    if len(x) == 0:
        return {"recipients": 0, "top10_recipients_share": np.nan, "gini_public_money": np.nan}
    k = max(1, int(np.ceil(top_share * len(x))))
    xs = x[::-1]  # ascending
    n = len(xs)
    gini = float((2 * np.arange(1, n + 1) - n - 1) @ xs / (n * xs.sum()))
    return {"recipients": int(n), "top10_recipients_share": float(x[:k].sum() / x.sum()), "gini_public_money": gini}


def plot(table: pd.DataFrame, path, title: str) -> None:
    """For whom: per dimension, the policy's additional adoptions, grants received and
    abatement by group (means over seeds, difference vs the baseline)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..results import _atomic_write_bytes

    d = table[(table["run"] == "difference") & (table["dimension"] != "all")]
    d = d.groupby(["policy", "dimension", "group", "metric"], observed=True)["value"].mean().reset_index()
    dims = [x for x in ("size_class", "sector", "cluster") if x in set(d["dimension"])] + sorted(
        x for x in set(d["dimension"]) if x.startswith("region_"))
    metrics = (("adoptions", "additional adoptions", 1.0), ("grants_received_usd", "grants received, US$ M", 1e-6),
               ("abatement_t_co2", "abatement to the run's end, kt CO2", 1e-3))
    fig, axes = plt.subplots(len(dims), len(metrics), figsize=(15, 2.8 * len(dims) + 0.6), squeeze=False)
    pols = list(dict.fromkeys(d["policy"]))
    for i, dim in enumerate(dims):
        for j, (m, lbl, scale) in enumerate(metrics):
            ax = axes[i, j]
            s = d[(d["dimension"] == dim) & (d["metric"] == m)]
            groups = sorted(set(s["group"]))
            y = np.arange(len(groups))
            h = 0.8 / max(len(pols), 1)
            for k, p in enumerate(pols):
                v = s[s["policy"] == p].set_index("group")["value"].reindex(groups).fillna(0.0).to_numpy() * scale
                ax.barh(y + k * h, v, height=h, label=p, color=f"C{k}")
            ax.set_yticks(y + 0.4 - h / 2, groups, fontsize=7)
            ax.axvline(0, color="k", lw=0.6)
            ax.grid(axis="x", alpha=0.3)
            if i == 0:
                ax.set_title(lbl, fontsize=9)
            if j == 0:
                ax.set_ylabel(dim)
    axes[0, -1].legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    _atomic_write_bytes(path, lambda p: fig.savefig(p, dpi=100, format="png"))
    plt.close(fig)
