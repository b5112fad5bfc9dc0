"""What a finished calibration writes: the posterior's summary (which parameters the data
identify), the predictive check (targets against the prior's and the posterior's predictive
intervals) and the figures."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .targets import Calibration

#: a parameter is "identified" when its posterior 90 % interval is at most this share of the
#: prior's, "narrowed" up to WIDE_RATIO, "stays wide" above (conventions of this report)
IDENTIFIED_RATIO, WIDE_RATIO = 0.5, 0.8
INTERVAL = (0.05, 0.95)


def weighted_quantile(x: np.ndarray, w: np.ndarray, q) -> np.ndarray:
    """Quantiles of a weighted sample (inverse of the weighted empirical CDF, midpoints)."""
    order = np.argsort(x)
    x, w = np.asarray(x, float)[order], np.asarray(w, float)[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cdf, x)


def identification(cal: Calibration, post: pd.DataFrame, truth: dict | None = None) -> pd.DataFrame:
    """Per parameter: prior range, posterior mean and 90 % interval, width ratio (posterior
    90 % width over the uniform prior's) and the verdict."""
    rows = []
    w = post["weight"].to_numpy()
    for p in cal.priors:
        x = post[p.key].to_numpy()
        lo, hi = weighted_quantile(x, w, INTERVAL)
        ratio = (hi - lo) / ((p.high - p.low) * (INTERVAL[1] - INTERVAL[0]))
        verdict = "identified" if ratio <= IDENTIFIED_RATIO else "narrowed" if ratio <= WIDE_RATIO else "stays wide"
        row = {"parameter": p.key, "prior_low": p.low, "prior_high": p.high, "posterior_mean": float(np.average(x, weights=w)),
               "posterior_q05": float(lo), "posterior_q95": float(hi), "width_ratio": float(ratio), "verdict": verdict}
        if truth is not None and p.key in truth:
            row["truth"] = float(truth[p.key])
            row["truth_in_90"] = bool(lo <= truth[p.key] <= hi)
        rows.append(row)
    return pd.DataFrame(rows)


def _predictive_one(args) -> list[float]:
    from .abc import Simulator, stat_name

    cal, values, seed = args
    stats = Simulator(cal).outcomes(values, seed)
    return [stats[stat_name(i)] for i in range(len(cal.targets))]


def predictive(cal: Calibration, post: pd.DataFrame, n: int, workers: int, seed: int = 0) -> pd.DataFrame:
    """Outcomes of ``n`` runs at posterior draws (weighted resampling) and ``n`` at prior
    draws, each with its own seed: the predictive distributions of the targets."""
    from concurrent.futures import ProcessPoolExecutor

    from .abc import UNDEFINED

    rng = np.random.default_rng(seed)
    keys = [p.key for p in cal.priors]
    idx = rng.choice(len(post), size=n, p=post["weight"].to_numpy())
    draws = {"posterior": post[keys].to_numpy()[idx],
             "prior": np.column_stack([rng.uniform(p.low, p.high, n) for p in cal.priors])}
    jobs, labels = [], []
    for kind, X in draws.items():
        for i, row in enumerate(X):
            jobs.append((cal, list(row), 1_000_000 + len(jobs)))
            labels.append((kind, i))
    if workers > 1:
        import multiprocessing as mp

        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as ex:
            res = list(ex.map(_predictive_one, jobs, chunksize=4))
    else:
        res = [_predictive_one(j) for j in jobs]
    rows = []
    for (kind, i), r, job in zip(labels, res, jobs):
        row = {"draw": kind, "i": i, "seed": job[2], **dict(zip(keys, job[1]))}
        row.update({t.name: (np.nan if v >= UNDEFINED else v) for t, v in zip(cal.targets, r)})
        rows.append(row)
    return pd.DataFrame(rows)


def predictive_summary(cal: Calibration, pred: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for t in cal.targets:
        row = {"target": t.name, "outcome": t.outcome, "years": f"{t.years[0]}-{t.years[1]}" if t.years[0] != t.years[1] else str(t.years[0]),
               "observed": t.value, "sd": t.sd}
        for kind in ("prior", "posterior"):
            x = pred.loc[pred["draw"] == kind, t.name].dropna().to_numpy()
            q = np.quantile(x, [INTERVAL[0], 0.5, INTERVAL[1]]) if len(x) else [np.nan] * 3
            row.update({f"{kind}_q05": q[0], f"{kind}_median": q[1], f"{kind}_q95": q[2]})
        row["covered"] = bool(row["posterior_q05"] - 2 * t.sd <= t.value <= row["posterior_q95"] + 2 * t.sd)
        rows.append(row)
    return pd.DataFrame(rows)


# -- figures ------------------------------------------------------------------------------------
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    from ..results import _atomic_write_bytes

    _atomic_write_bytes(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    _plt().close(fig)
    return path


def plot_marginals(cal: Calibration, post: pd.DataFrame, ident: pd.DataFrame, path: Path) -> Path:
    plt = _plt()
    k = len(cal.priors)
    fig, axes = plt.subplots(1, k, figsize=(4.2 * k, 3.4), squeeze=False)
    for ax, p, (_, r) in zip(axes[0], cal.priors, ident.iterrows()):
        ax.hist(post[p.key], bins=25, range=(p.low, p.high), weights=post["weight"], density=True, color="C0", alpha=0.75,
                label="posterior")
        ax.axhline(1.0 / (p.high - p.low), color="k", ls=":", label="prior (uniform)")
        ax.axvspan(r["posterior_q05"], r["posterior_q95"], color="C0", alpha=0.12, label="posterior 90 %")
        if "truth" in r and np.isfinite(r.get("truth", np.nan)):
            ax.axvline(r["truth"], color="C3", lw=2, label="truth (synthetic)")
        ax.set_title(f"{p.key}\n{r['verdict']} (width x{r['width_ratio']:.2f})", fontsize=8)
        ax.set_xlim(p.low, p.high)
        ax.legend(fontsize=6)
    fig.suptitle(f"{cal.name}: marginal posteriors", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def plot_pairs(cal: Calibration, post: pd.DataFrame, path: Path) -> Path:
    plt = _plt()
    k = len(cal.priors)
    fig, axes = plt.subplots(k, k, figsize=(2.6 * k + 1, 2.6 * k + 1), squeeze=False)
    w = post["weight"].to_numpy()
    for i, pi in enumerate(cal.priors):
        for j, pj in enumerate(cal.priors):
            ax = axes[i][j]
            if i == j:
                ax.hist(post[pi.key], bins=20, range=(pi.low, pi.high), weights=w, color="C0", alpha=0.75)
                ax.set_xlim(pi.low, pi.high)
            elif i > j:
                ax.scatter(post[pj.key], post[pi.key], s=4 + 300 * w, alpha=0.5, color="C0")
                ax.set_xlim(pj.low, pj.high)
                ax.set_ylim(pi.low, pi.high)
            else:
                ax.axis("off")
            if i == k - 1:
                ax.set_xlabel(pj.key.split(".")[-1] if j < k else "", fontsize=7)
            if j == 0 and i > 0:
                ax.set_ylabel(pi.key.split(".")[-1], fontsize=7)
            ax.tick_params(labelsize=6)
    fig.suptitle(f"{cal.name}: pairwise posterior (marker size = weight)", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def plot_predictive(cal: Calibration, summ: pd.DataFrame, path: Path) -> Path:
    """One panel per target: the observation (+-2 sd) beside the prior's and the posterior's
    predictive median and 90 % interval."""
    plt = _plt()
    n = len(cal.targets)
    cols = min(n, 4)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 3.2 * rows), squeeze=False)
    for ax, (_, r), t in zip(axes.ravel(), summ.iterrows(), cal.targets):
        ax.errorbar([0], [r["observed"]], yerr=[[2 * t.sd], [2 * t.sd]], fmt="o", color="k", capsize=5, label="target +- 2 sd")
        for x, kind, c in ((1, "prior", "0.55"), (2, "posterior", "C0")):
            ax.errorbar([x], [r[f"{kind}_median"]], yerr=[[r[f"{kind}_median"] - r[f"{kind}_q05"]], [r[f"{kind}_q95"] - r[f"{kind}_median"]]],
                        fmt="s", color=c, capsize=5, label=f"{kind} predictive 90 %")
        ax.set_xticks([0, 1, 2], ["target", "prior", "posterior"], fontsize=7)
        ax.set_xlim(-0.6, 2.6)
        ax.set_title(t.label(), fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=6)
    fig.suptitle(f"{cal.name}: predictive check", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


# -- the report ---------------------------------------------------------------------------------
def report_md(cal: Calibration, ident: pd.DataFrame, summ: pd.DataFrame, gens: pd.DataFrame, state: dict) -> str:
    from ..sweep import markdown_table

    final_t = float(gens["temperature"].iloc[-1]) if len(gens) else float("nan")
    sims = int(gens["samples"].sum()) if len(gens) else 0
    exact = final_t <= 1.0 + 1e-9
    lines = [f"# Calibration: {cal.name}", "", cal.description, "",
             f"Targets file: `{cal.path}`; fixed overrides: `{' '.join(cal.overrides)}`.", "",
             f"ABC-SMC (pyabc, stochastic acceptor with normal errors of each target's sd): {len(gens)} generations, "
             f"{cal.abc['population']} particles each, {sims:,} simulations; final temperature {final_t:.3g} "
             + ("(= 1: the particles sample the exact posterior under the targets' normal errors)." if exact else
                "(> 1: a tempered posterior, wider than the exact one; continue with more generations)."),
             "", "## Which parameters the data identify", "",
             f"Width ratio: the posterior's 90 % interval over the prior's; <= {IDENTIFIED_RATIO} identified, "
             f"<= {WIDE_RATIO} narrowed, above: stays wide (the targets say little about it).", "",
             markdown_table(ident), ""]
    for _, r in ident.iterrows():
        p = next(p for p in cal.priors if p.key == r["parameter"])
        lines.append(f"* `{p.key}` ({r['verdict']}): prior [{p.low:g}, {p.high:g}] -- {p.why}")
    lines += ["", "## Predictive check", "",
              "Each target's observed value and sd beside the 90 % interval of the outcome in runs at prior draws and at "
              "posterior draws (fresh seeds: the interval includes seed noise). `covered`: the observation lies within "
              "the posterior predictive interval widened by 2 sd of the observation.", "",
              markdown_table(summ), "", "## Targets and sources", ""]
    for t in cal.targets:
        lines.append(f"* **{t.name}** -- `{t.outcome}` {t.years[0]}" + (f"-{t.years[1]}" if t.years[1] != t.years[0] else "")
                     + f" = {t.value:g} (sd {t.sd:g}){' ' + str(t.args) if t.args else ''}: {t.source}")
    lines += ["", "## Generations", "", markdown_table(gens), "", "## Sessions", ""]
    for s in state.get("sessions", []):
        lines.append(f"* generations {s['generations_before']} -> {s['generations_after']}: {s['simulations']:,} simulations")
    lines += ["", "Files: `posterior.parquet` (last generation: one row per particle, config keys and `weight`), "
              "`predictive.parquet`, `marginals.png`, `pairs.png`, `predictive.png`, `calibration.db` (pyabc history). "
              "Use the posterior with `python -m sim.run --posterior <dir>/posterior.parquet ...` or "
              "`python -m sim.compare ... posterior=<dir>/posterior.parquet`.", ""]
    return "\n".join(lines)
