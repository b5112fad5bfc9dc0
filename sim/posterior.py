"""Posterior draws as config overrides: how every command carries parameter uncertainty.

A calibration (``python -m sim.calibrate``) writes ``posterior.parquet``: one row per particle
of the last ABC-SMC generation, one column per calibrated config key and a ``weight`` column
(summing to 1); the file's metadata names the calibration. :func:`draw_overrides` draws N
parameter vectors (weighted resampling with a seeded generator) and returns each as a list of
``key=value`` overrides, which any command appends to its own (the posterior's values win).

    from sim.posterior import draw_overrides
    draws = draw_overrides("results/calibration/iac_assessments/posterior.parquet", n=20, seed=0)
    # draws[i] == ["scenario.hurdle_rate_median_per_yr.1=0.52", "policy.cost_share.hidden_cost_relief_share=0.71"]

Used by ``sim.run --posterior FILE`` (:func:`run_draws`: one run per draw, seed + i per draw,
headline mean and 90 % interval), ``sim.compare posterior=FILE`` (:func:`draws_by_seed`: seed
``s`` of every policy runs at the same draw, so comparisons stay paired) and ``sim.design
posterior=FILE`` (:func:`updates_by_seed`: seed ``s`` of every candidate, the baseline and the
references runs at draw ``s``).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import BadInput

log = logging.getLogger("sim.posterior")
META_KEY = b"sim.calibration"


def write_posterior(path: Path, post: pd.DataFrame, meta: dict) -> Path:
    """Write ``post`` (config-key columns and ``weight``) with ``meta`` in the Parquet
    metadata, atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .results import _atomic_write_bytes

    table = pa.Table.from_pandas(post, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), META_KEY: json.dumps(meta).encode()})
    _atomic_write_bytes(Path(path), lambda p: pq.write_table(table, p))
    return Path(path)


def read_posterior(path) -> tuple[pd.DataFrame, dict]:
    """The particles and the calibration's metadata; :class:`BadInput` naming the file when
    it is missing or is not a posterior."""
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise BadInput(f"posterior = {str(path)!r}: no such file (a calibration's posterior.parquet)")
    try:
        table = pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 - any reader error: not a readable Parquet file
        raise BadInput(f"posterior = {str(path)!r}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
    meta = json.loads((table.schema.metadata or {}).get(META_KEY, b"{}") or b"{}")
    post = table.to_pandas()
    keys = [c for c in post.columns if c != "weight"]
    if "weight" not in post.columns or not keys or not len(post):
        raise BadInput(f"posterior = {str(path)!r}: not a posterior (needs parameter columns and a weight column)")
    w = post["weight"].to_numpy(dtype=float)
    if not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
        raise BadInput(f"posterior = {str(path)!r}: weights must be finite, >= 0 and not all 0")
    return post, meta


def format_value(v: float, integer: bool) -> str:
    """An override's value text (integers as integers, floats with full precision)."""
    return str(int(round(v))) if integer else repr(float(v))


def draw_overrides(path, n: int, seed: int = 0) -> list[list[str]]:
    """``n`` draws from the posterior in ``path`` (weighted resampling, seeded), each as a list
    of ``key=value`` overrides. Integer parameters are written as integers."""
    if not isinstance(n, int) or n < 1:
        raise BadInput(f"draws = {n!r}: an integer >= 1")
    post, meta = read_posterior(path)
    keys = [c for c in post.columns if c != "weight"]
    ints = set(meta.get("integer_keys", []))
    w = post["weight"].to_numpy(dtype=float)
    idx = np.random.default_rng(seed).choice(len(post), size=n, p=w / w.sum())
    return [[f"{k}={format_value(post[k].iloc[i], k in ints)}" for k in keys] for i in idx]


def draws_by_seed(path, seeds: list[int], seed: int = 0) -> dict[int, list[str]]:
    """One posterior draw per seed (``{seed: overrides}``): paired runs of one seed (policies,
    design candidates) share the parameters, so their differences stay paired."""
    draws = draw_overrides(path, len(seeds), seed)
    return dict(zip(seeds, draws))


def updates_by_seed(path, seeds: list[int], base_overrides: list[str], seed: int = 0) -> dict[int, dict]:
    """:func:`draws_by_seed` as ``{seed: {config key: value}}`` (checked against
    ``base_overrides`` first): what ``sim.design posterior=FILE`` adds to every run of a seed,
    so each candidate meets the same parameter draw in a seed (common random numbers)."""
    draws = draws_by_seed(path, list(seeds), seed)
    check_draws(base_overrides, list(draws.values()))
    out = {}
    for s, ov in draws.items():
        out[int(s)] = {}
        for o in ov:
            k, v = o.split("=", 1)
            out[int(s)][k] = int(v) if v.lstrip("-").isdigit() else float(v)
    return out


def check_draws(base_overrides: list[str], draws: list[list[str]]) -> None:
    """Each posterior key is a config key and each drawn value one the config allows (the
    draws at each key's smallest and largest value are composed and checked)."""
    from .compose import load

    probes = [draws[0]]
    for j in range(len(draws[0])):
        col = sorted((d[j] for d in draws), key=lambda s: float(s.split("=", 1)[1]))
        probes += [draws[0][:j] + [col[0]] + draws[0][j + 1:], draws[0][:j] + [col[-1]] + draws[0][j + 1:]]
    for p in probes:
        try:
            load(list(base_overrides) + p)
        except BadInput as exc:
            raise BadInput(f"posterior: {exc}") from None


# -- sim.run --posterior ------------------------------------------------------------------------
HEADLINE = ("cumulative_emissions_t_co2", "adoptions", "public_spending_usd")


def headline_intervals(summaries: list[dict]) -> dict:
    """Mean and 90 % interval (5th-95th percentile across draws) of the headline numbers."""
    out = {}
    for k in HEADLINE:
        x = np.array([float(s[k]) for s in summaries if s.get(k) is not None])
        if len(x):
            out[k] = {"mean": float(x.mean()), "q05": float(np.quantile(x, 0.05)), "q95": float(np.quantile(x, 0.95)), "n": int(len(x))}
    return out


def run_draws(overrides: list[str], path, n: int, out: Path, seed: int = 0, jobs: int = 2) -> dict:
    """Run ``overrides`` once per posterior draw (draw i with seed ``seed + i``: parameter and
    seed uncertainty together) on ``jobs`` local worker processes (run folders
    ``<out>/draw_<i>/seed=<s>``; complete runs with the same config are reused: resumable),
    then write ``<out>/posterior_runs.json`` with the headline numbers' mean and 90 % interval."""
    from concurrent.futures import ProcessPoolExecutor

    from .gather import DamagedRun, read_summary
    from .outputs import check_output_dir
    from .results import _atomic_write_bytes, strict_json
    from .sweep import _seed_chunk

    out = check_output_dir(Path(out), "out")
    draws = draw_overrides(path, n, seed)
    base = [o for o in overrides if not o.startswith("seed=")]
    check_draws(base + [f"seed={seed}"], draws)
    tasks = [(base + d, [seed + i], str(out / f"draw_{i}")) for i, d in enumerate(draws)]
    out.mkdir(parents=True, exist_ok=True)
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as ex:
            dirs = [Path(r[0]) for r in ex.map(_seed_chunk, *zip(*tasks))]
    else:
        dirs = [Path(_seed_chunk(*t)[0]) for t in tasks]
    try:
        summaries = [read_summary(d) for d in dirs]
    except DamagedRun as exc:
        raise BadInput(str(exc)) from None
    result = {"posterior": str(path), "draws": n, "seeds": [seed + i for i in range(n)], "overrides": base,
              "headline": headline_intervals(summaries), "runs": [str(d) for d in dirs]}
    _atomic_write_bytes(out / "posterior_runs.json", lambda p: p.write_text(strict_json(result, indent=2) + "\n"))
    return result
