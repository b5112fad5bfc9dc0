"""Paired policy evaluation with common random numbers.

    python -m sim.compare scenario=mx_cluster policies=[incentive_package,carbon_price] seeds=10
    python -m sim.compare scenario=bajio_cpi policies=[incentive_package] seeds=20 n_firms=5000 jobs=2 out=results/cmp

Each policy runs against the same baseline (``baseline=none`` by default) under the same seeds.
The model draws firms, network, awareness and policy randomness from separate child streams
of the seed (``ClusterModel``: ``rng.spawn``), so for one seed every policy sees the same
firms, the same network and the same awareness draws: per-seed differences are the policy's
effect, not sampling noise. Per policy, across seeds:

* abatement: baseline minus policy cumulative scope 1+2 emissions over the simulated years
  (t CO2), mean and 95 % interval (Student t over the per-seed paired differences);
* public cost: the policy's public spending minus the baseline's (USD), and public cost per
  tonne abated (ratio of the means; interval from the per-seed ratios' percentiles is not
  given: with few seeds it is unstable);
* additionality: adoptions (firm x measure, ``adoptions.parquet``) that happen under the
  policy but not in the baseline run of the same seed, as a count and as a share of the
  policy run's adoptions (an adoption that happens in both, earlier with the policy, is
  counted as not additional: acceleration is not additionality here);
* free-rider share: adoptions that got public support (grant, co-funded project, loan) and
  that the same firm also made (same measure) in the baseline, over all supported adoptions;
* energy-cost savings to firms: the policy run's cumulative energy-bill savings from adopted
  measures minus the baseline's (USD, at each year's prices).

Runs are written as run folders under ``<out>/runs/<policy>/seed=<s>`` (complete runs whose
config matches are reused: a comparison can be extended with more seeds or re-run after a
kill). Writes ``<out>/compare.parquet`` (one row per policy), ``compare_by_seed.parquet``,
``compare.md`` and ``compare.png``. Bad input: one line on stderr, exit code 2. Every
policy and every seed is composed and checked, and ``out`` checked for writing (not a file,
not under a file, writable), before the output folder is created; a reused run folder that is
damaged (truncated parquet, empty or invalid summary.json) is named with how to re-run it,
before any run starts.
"""
from __future__ import annotations

import logging
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger("sim.compare")

OWN_KEYS = ("policies", "seeds", "baseline", "out", "jobs")


from .compose import BadInput, bad_input, load_both, report_bad_input
from .gather import DamagedRun, read_summary, read_table
from .outputs import check_output_dir


@dataclass
class Request:
    policies: list[str]
    seeds: list[int]
    baseline: str = "none"
    out: Path | None = None
    jobs: int = 1
    overrides: list[str] = field(default_factory=list)  # scenario=..., n_firms=..., any config key


def parse_args(argv: list[str]) -> Request:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    own, rest = {}, []
    for a in argv:
        key = a.split("=", 1)[0]
        if key in OWN_KEYS:
            if "=" not in a:
                raise BadInput(f"{key}: needs a value ({key}=...)")
            try:
                own[key] = parser.parse_override(a).value()
            except Exception as exc:  # noqa: BLE001
                raise BadInput(f"{a}: cannot parse ({str(exc).splitlines()[0]})") from None
        elif key.startswith("-"):
            raise BadInput(f"{a}: unknown option; arguments are key=value (policies=[...] seeds=N baseline=none out=DIR jobs=N, config keys)")
        elif key in ("policy", "seed"):
            raise BadInput(f"{key}: set by the comparison; use {'policies=[...]' if key == 'policy' else 'seeds=N'}")
        else:
            rest.append(a)
    if "policies" not in own:
        raise BadInput("policies: missing; e.g. policies=[incentive_package,carbon_price]")
    policies = own["policies"]
    policies = [str(p) for p in (policies if isinstance(policies, list) else [policies])]
    if not policies:
        raise BadInput("policies = []: name at least one policy")
    seeds = own.get("seeds", 10)
    if isinstance(seeds, bool) or not (isinstance(seeds, int) or (isinstance(seeds, list) and all(isinstance(s, int) for s in seeds))):
        raise BadInput(f"seeds = {seeds!r}: an integer N (seeds 0..N-1) or a list of integers")
    seeds = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    if not seeds:
        raise BadInput("seeds: no seeds; give N >= 1 or a list")
    if len(set(seeds)) != len(seeds):
        raise BadInput(f"seeds = {seeds}: repeated seeds")
    baseline = str(own.get("baseline", "none"))
    if baseline in policies:
        raise BadInput(f"baseline = {baseline!r} is also in policies")
    jobs = own.get("jobs", 1)
    if not isinstance(jobs, int) or jobs < 1:
        raise BadInput(f"jobs = {jobs!r}: an integer >= 1")
    out = Path(str(own["out"])) if "out" in own else None
    if out is not None:
        check_output_dir(out, "out")  # before any work: not a file, not under a file, writable
    return Request(policies, seeds, baseline, out, jobs, rest)


def _job_overrides(req: Request, policy: str, seed: int) -> list[str]:
    return list(req.overrides) + [f"policy={policy}", f"seed={seed}"]


def _compose(overrides):
    from omegaconf import OmegaConf

    cfg, _ = load_both(overrides)
    return cfg, OmegaConf.to_yaml(cfg, resolve=True)


def preflight(req: Request):
    """Compose and check every policy (first seed) and every seed of each (the seed is the
    only key that differs between a policy's runs): unknown policy, bad key or value ->
    BadInput. Returns the baseline's composed config."""
    import dataclasses

    from .params import validate

    cfgs = []
    for p in [req.baseline] + req.policies:
        cfg, typed = load_both(_job_overrides(req, p, req.seeds[0]))
        cfgs.append(cfg)
        for s in req.seeds[1:]:
            try:
                with bad_input():
                    validate(dataclasses.replace(typed, seed=s))
            except BadInput as exc:
                raise BadInput(f"seeds: {exc}") from None
    return cfgs[0]


def check_reused(dirs) -> None:
    """Complete run folders that the comparison would reuse must be readable (BadInput naming
    the first damaged one and how to re-run it)."""
    for d in dirs:
        if (d / "summary.json").exists():
            try:
                read_summary(d)
                read_table(d, "adoptions", columns=["firm", "measure", "instrument"])
            except DamagedRun as exc:
                raise BadInput(str(exc)) from None


def run_all(req: Request, out: Path) -> dict[tuple[str, int], Path]:
    """Run (or reuse) every policy x seed; each worker task composes a policy's config once and
    runs a chunk of its seeds (sim.sweep._seed_chunk: no per-run Hydra composition)."""
    from concurrent.futures import as_completed

    from tqdm import tqdm

    from .sweep import _seed_chunk

    pols = [req.baseline] + req.policies
    dirs = {(p, s): out / "runs" / p / f"seed={s}" for p in pols for s in req.seeds}
    chunk = max(1, -(-len(req.seeds) // req.jobs))  # every worker busy, one composition per task
    tasks = [(list(req.overrides) + [f"policy={p}"], req.seeds[i:i + chunk], str(out / "runs" / p))
             for p in pols for i in range(0, len(req.seeds), chunk)]
    t0 = time.perf_counter()
    bar = tqdm(total=len(dirs), desc="runs", unit="run", file=sys.stderr)
    if req.jobs == 1:
        for t in tasks:
            bar.update(len(_seed_chunk(*t)))
    else:
        with ProcessPoolExecutor(max_workers=req.jobs) as ex:
            for f in as_completed([ex.submit(_seed_chunk, *t) for t in tasks]):
                bar.update(len(f.result()))
    bar.close()
    log.info("%d runs in %.1f s", len(dirs), time.perf_counter() - t0)
    return dirs


# -- the paired metrics -------------------------------------------------------------------------
def _pairs(adoptions: pd.DataFrame) -> set[tuple[int, str]]:
    return set(zip(adoptions["firm"].astype(int), adoptions["measure"].astype(str)))


def paired_metrics(base_dir: Path, pol_dir: Path) -> dict:
    """The policy's effect in one seed (see the module docstring)."""
    try:
        b, p = read_summary(base_dir), read_summary(pol_dir)
        ab = read_table(base_dir, "adoptions", columns=["firm", "measure", "instrument"])
        ap = read_table(pol_dir, "adoptions", columns=["firm", "measure", "instrument"])
    except DamagedRun as exc:
        raise BadInput(str(exc)) from None
    base_pairs = _pairs(ab)
    pol_keys = list(zip(ap["firm"].astype(int), ap["measure"].astype(str)))
    in_base = np.fromiter((k in base_pairs for k in pol_keys), dtype=bool, count=len(pol_keys))
    supported = (ap["instrument"].astype(str) != "none").to_numpy()
    abatement = b["cumulative_emissions_t_co2"] - p["cumulative_emissions_t_co2"]
    cost = p["public_spending_usd"] - b["public_spending_usd"]
    return {
        "abatement_t_co2": abatement,
        "public_cost_usd": cost,
        "adoptions": len(ap),
        "baseline_adoptions": len(ab),
        "additional_adoptions": int((~in_base).sum()),
        "additionality_share": float((~in_base).mean()) if len(ap) else np.nan,
        "supported_adoptions": int(supported.sum()),
        "free_riders": int((supported & in_base).sum()),
        "free_rider_share": float((supported & in_base).sum() / supported.sum()) if supported.any() else np.nan,
        "energy_cost_saving_usd": p["energy_cost_saving_usd"] - b["energy_cost_saving_usd"],
        "carbon_revenue_usd": p["carbon_revenue_usd"] - b["carbon_revenue_usd"],
        "emissions_end_year_reduction_t_co2": (b["emissions_t_co2_by_year"][str(b["end_year"])]
                                               - p["emissions_t_co2_by_year"][str(p["end_year"])]),
    }


def _interval(x: np.ndarray) -> tuple[float, float, float]:
    from scipy import stats

    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return np.nan, np.nan, np.nan
    m = float(x.mean())
    if len(x) < 2:
        return m, np.nan, np.nan
    half = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
    return m, m - half, m + half


def summarise(by_seed: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for pol, g in by_seed.groupby("policy", sort=False):
        r = {"policy": pol, "seeds": len(g)}
        for k in ("abatement_t_co2", "public_cost_usd", "energy_cost_saving_usd", "carbon_revenue_usd", "additional_adoptions",
                  "additionality_share", "free_rider_share"):
            m, lo, hi = _interval(g[k].to_numpy())
            r[k], r[f"{k}_lo95"], r[f"{k}_hi95"] = m, lo, hi
        ab, cost = g["abatement_t_co2"].mean(), g["public_cost_usd"].mean()
        r["public_cost_usd_per_t_co2"] = cost / ab if ab > 0 else np.nan
        r["supported_adoptions"] = g["supported_adoptions"].mean()
        r["adoptions"] = g["adoptions"].mean()
        r["baseline_adoptions"] = g["baseline_adoptions"].mean()
        rows.append(r)
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame, req: Request, meta: dict) -> str:
    def ci(r, k, scale=1.0, fmt="{:,.0f}"):
        m, lo, hi = r[k], r[f"{k}_lo95"], r[f"{k}_hi95"]
        if np.isnan(m):
            return "n/a"
        unit = " %" if scale == 100 else ""
        s = fmt.format(m * scale) + unit
        return s if np.isnan(lo) else f"{s} ({fmt.format(lo * scale)} to {fmt.format(hi * scale)}{unit})"

    lines = [f"# Paired policy comparison: {meta['scenario']}",
             "",
             f"{meta['n_firms']:,} firms, {meta['start_year']}-{meta['end_year']}; baseline `{req.baseline}`; "
             f"{len(req.seeds)} seeds with common random numbers (same firms, network and awareness draws per seed). "
             "Means across seeds, 95 % interval in brackets.",
             "",
             "| policy | abatement, t CO2 (cumulative) | public cost, US$ | US$ per t CO2 | additional adoptions | additionality share | free-rider share | energy-cost savings to firms, US$ | carbon revenue, US$ |",
             "|---|---|---|---|---|---|---|---|---|"]
    for _, r in table.iterrows():
        cpt = "n/a (no abatement)" if np.isnan(r["public_cost_usd_per_t_co2"]) else f"{r['public_cost_usd_per_t_co2']:,.1f}"
        lines.append(f"| {r['policy']} | {ci(r, 'abatement_t_co2')} | {ci(r, 'public_cost_usd')} | {cpt} | "
                     f"{ci(r, 'additional_adoptions')} | {ci(r, 'additionality_share', 100, '{:.1f}')} | "
                     f"{ci(r, 'free_rider_share', 100, '{:.1f}')} | {ci(r, 'energy_cost_saving_usd')} | {ci(r, 'carbon_revenue_usd')} |")
    lines += ["", "Abatement: baseline minus policy cumulative scope 1+2 emissions over the simulated years. "
              "Additional adoptions: firm x measure adopted under the policy and not in the baseline run of the same seed. "
              "Free-rider share: supported adoptions the same firm also made in the baseline, over all supported adoptions. "
              "Public cost per tonne: mean public cost / mean abatement "
              "(public spending on the instruments; carbon revenue is reported apart, not netted). "
              "Energy-cost savings and carbon revenue: policy minus baseline, cumulative.", ""]
    return "\n".join(lines)


def plot(table: pd.DataFrame, by_seed: pd.DataFrame, path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pols = list(table["policy"])
    x = np.arange(len(pols))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))

    def bars(ax, key, scale, ylabel, ttl):
        m = table[key].to_numpy() * scale
        lo, hi = table[f"{key}_lo95"].to_numpy() * scale, table[f"{key}_hi95"].to_numpy() * scale
        err = np.vstack([m - lo, hi - m])
        ax.bar(x, m, color=[f"C{i}" for i in range(len(pols))], alpha=0.8,
               yerr=np.where(np.isnan(err), 0, err), capsize=6)
        for i, p in enumerate(pols):  # the paired per-seed values
            v = by_seed.loc[by_seed["policy"] == p, key].to_numpy() * scale
            ax.plot(np.full(len(v), i) + np.linspace(-0.15, 0.15, len(v)), v, "k.", ms=3, alpha=0.6)
        ax.set_xticks(x, pols, rotation=15)
        ax.set(ylabel=ylabel, title=ttl)
        ax.grid(axis="y", alpha=0.3)
        ax.axhline(0, color="k", lw=0.8)

    bars(axes[0], "abatement_t_co2", 1e-3, "kt CO2 (cumulative)", "Abatement vs baseline (95 % CI)")
    cpt = table["public_cost_usd_per_t_co2"].to_numpy()
    axes[1].bar(x, np.nan_to_num(cpt), color=[f"C{i}" for i in range(len(pols))], alpha=0.8)
    for i, v in enumerate(cpt):
        axes[1].annotate("n/a" if np.isnan(v) else f"{v:,.0f}", (i, 0 if np.isnan(v) else v), ha="center", va="bottom")
    axes[1].set_xticks(x, pols, rotation=15)
    axes[1].set(ylabel="US$ per t CO2", title="Public cost per tonne abated")
    axes[1].grid(axis="y", alpha=0.3)
    w = 0.38
    for j, (key, lbl) in enumerate((("additionality_share", "additional adoptions"), ("free_rider_share", "free riders (of supported)"))):
        m = table[key].to_numpy() * 100
        lo, hi = table[f"{key}_lo95"].to_numpy() * 100, table[f"{key}_hi95"].to_numpy() * 100
        err = np.vstack([m - lo, hi - m])
        axes[2].bar(x + (j - 0.5) * w, np.nan_to_num(m), w, yerr=np.where(np.isnan(err), 0, err), capsize=4, label=lbl)
    axes[2].set_xticks(x, pols, rotation=15)
    axes[2].set(ylabel="% of the policy run's adoptions / supported adoptions", title="Additionality and free riding", ylim=(0, 105))
    axes[2].legend(fontsize=8)
    axes[2].grid(axis="y", alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    from .results import _atomic_write_bytes

    _atomic_write_bytes(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    return path


def compare(req: Request) -> tuple[pd.DataFrame, pd.DataFrame, Path]:
    from .results import _atomic_write_bytes

    cfg = preflight(req)
    meta = {k: cfg[k] for k in ("n_firms", "start_year", "end_year")}
    meta["scenario"] = cfg.scenario.name
    out = check_output_dir(req.out or Path("results") / "compare" / meta["scenario"], "out")
    pols = [req.baseline] + req.policies
    check_reused([out / "runs" / p / f"seed={s}" for p in pols for s in req.seeds])
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"out = {str(out)!r}: cannot create the folder ({exc.strerror or exc})") from None
    dirs = run_all(req, out)
    rows = []
    for p in req.policies:
        for s in req.seeds:
            rows.append({"policy": p, "seed": s, **paired_metrics(dirs[(req.baseline, s)], dirs[(p, s)])})
    by_seed = pd.DataFrame(rows)
    table = summarise(by_seed)
    table.insert(1, "baseline", req.baseline)
    table.insert(2, "scenario", meta["scenario"])
    md = markdown(table, req, meta)
    title = (f"{meta['scenario']}: {meta['n_firms']:,} firms, {meta['start_year']}-{meta['end_year']}, "
             f"{len(req.seeds)} paired seeds vs '{req.baseline}'")
    try:
        _atomic_write_bytes(out / "compare_by_seed.parquet", lambda f: by_seed.to_parquet(f, index=False))
        _atomic_write_bytes(out / "compare.parquet", lambda f: table.to_parquet(f, index=False))
        _atomic_write_bytes(out / "compare.md", lambda f: f.write_text(md))
        plot(table, by_seed, out / "compare.png", title)
    except OSError as exc:
        raise BadInput(f"out = {str(out)!r}: cannot write {exc.filename or 'the tables'} ({exc.strerror or exc})") from None
    return table, by_seed, out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)  # stderr: errors and the bar
    logging.getLogger("MESA").setLevel(logging.WARNING)
    return report_bad_input(_command, argv)


def _command(argv: list[str]) -> int:
    if any(a.startswith("from_snapshot=") for a in argv):  # forks of one run's state (sim/snapshot.py)
        from .snapshot import compare_command

        return compare_command(argv, paired_metrics, summarise)
    _, _, out = compare(parse_args(argv))
    print((out / "compare.md").read_text())
    print(f"Written: {out / 'compare.parquet'}, {out / 'compare_by_seed.parquet'}, {out / 'compare.md'}, {out / 'compare.png'}")
    return 0


if __name__ == "__main__":
    from sim.compare import main as _main  # one module instance (worker processes import sim.compare)

    sys.exit(_main())
