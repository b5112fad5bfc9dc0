"""Gather a sweep into one tidy table: one row per run x simulated (reporting) year.

    python -m sim.gather results/multirun/2026-11-23_11-00-00            # -> <dir>/gathered.parquet
    python -m sim.gather <sweep dir> --out table.parquet --csv table.csv

Only complete runs (a ``summary.json``, written last, see :mod:`sim.results`) are read, so a
sweep that is still running or was killed can be gathered at any time. Every swept parameter
is a column:

* keys that differ between the runs' resolved ``config.yaml`` files (dotted names, e.g.
  ``policy.cost_share.copay_share``); a config group swapped as a whole (``policy=a,b``)
  becomes one column named after the group (``policy``) holding the option's ``name``, and
  the group's keys that only follow from that choice are not repeated;
* every key swept in the sweep's ``multirun.yaml`` (Hydra's task overrides), even when the
  complete runs happen to share one value.

Per-year outcomes come from each run's monthly ``timeseries.parquet``: flows (emissions,
energy, savings, revenue, participants) are summed over the year's months; stocks
(cumulative adoptions, cumulative spending, shares, prices) are the value at year end.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .errors import BadInput, report_bad_input
from .results import is_complete

#: columns of timeseries.parquet that are monthly flows (summed to a year); the rest are stocks
FLOW_PREFIXES = ("emissions_t_co2", "scope1_t_co2", "scope2_t_co2", "energy_cost_saving_usd",
                 "carbon_revenue_usd", "workshop_participants", "assessments")
GROUPS = ("scenario", "policy", "measures")
#: run-level outcomes from summary.json, repeated on each of the run's rows
RUN_OUTCOMES = ("cumulative_emissions_t_co2", "public_spending_usd", "supported_adoptions", "free_rider_share")




def _flatten(d, prefix=""):
    out = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    key = prefix[:-1]
    if isinstance(d, list):
        return {key: json.dumps(d, sort_keys=True)}  # lists compare (and store) as JSON text
    return {key: d}


def run_dirs(sweep_dir: Path) -> list[Path]:
    """Complete run folders under ``sweep_dir`` (any depth), sorted."""
    return sorted(p.parent for p in Path(sweep_dir).rglob("summary.json") if is_complete(p.parent))


def swept_override_keys(sweep_dir: Path) -> list[str]:
    """Keys the sweep's ``multirun.yaml`` sweeps over (``k=a,b``, ``k=range(..)``, ``k=choice(..)``)."""
    f = Path(sweep_dir) / "multirun.yaml"
    if not f.exists():
        return []
    try:
        conf = yaml.safe_load(f.read_text()) or {}
        task = conf.get("hydra", {}).get("overrides", {}).get("task", []) or []
        params = conf.get("hydra", {}).get("sweeper", {}).get("params", {}) or {}
    except (yaml.YAMLError, AttributeError):
        return []
    from hydra.core.override_parser.overrides_parser import OverridesParser

    keys = []
    lines = list(task) + [f"{k}={v}" for k, v in params.items()]
    parser = OverridesParser.create()
    for line in lines:
        try:
            o = parser.parse_override(line)
        except Exception:  # noqa: BLE001 - an unparsable override is simply not a column
            continue
        if o.is_sweep_override() and not o.is_hydra_override():
            k = o.get_key_element().lstrip("+~")
            if k.startswith("+"):
                k = k[1:]
            if k not in keys:
                keys.append(k)
    return keys


def parameter_table(dirs: list[Path], extra_keys=()) -> pd.DataFrame:
    """One row per run: the swept parameters (see module docstring)."""
    flat = [_flatten(yaml.safe_load((d / "config.yaml").read_text()) or {}) for d in dirs]
    all_keys = sorted(set().union(*[f.keys() for f in flat])) if flat else []
    cfg = pd.DataFrame([{k: f.get(k) for k in all_keys} for f in flat])
    varying = [k for k in all_keys if cfg[k].astype(str).nunique(dropna=False) > 1]
    cols: dict[str, pd.Series] = {}
    for g in GROUPS:
        name = f"{g}.name"
        if name in varying or g in extra_keys:
            if name not in cfg:
                continue
            cols[g] = cfg[name]
            keyed = cfg[name].astype(str)
            for k in [k for k in varying if k.startswith(f"{g}.")]:
                # keep a group key only if it varies within one option (swept on its own)
                if k == name or cfg[k].astype(str).groupby(keyed).nunique(dropna=False).max() <= 1:
                    varying.remove(k)
    for k in list(extra_keys) + varying:
        if k in GROUPS or k in cols:
            continue
        if k in cfg:
            cols[k] = cfg[k]
    out = pd.DataFrame(cols, index=cfg.index)
    for c in out.columns:  # numeric columns as numbers, the rest as text
        conv = pd.to_numeric(out[c], errors="coerce")
        out[c] = conv if conv.notna().sum() == out[c].notna().sum() else out[c].astype(str)
    return out


def yearly_outcomes(run_dir: Path) -> pd.DataFrame:
    ts = pd.read_parquet(run_dir / "timeseries.parquet")
    ts = ts.drop(columns=[c for c in ("month", "date") if c in ts.columns])
    flows = [c for c in ts.columns if c != "year" and c.startswith(FLOW_PREFIXES)]
    stocks = [c for c in ts.columns if c != "year" and c not in flows]
    g = ts.groupby("year", sort=True)
    return pd.concat([g[flows].sum(), g[stocks].last()], axis=1).reset_index()


def gather(sweep_dir: Path) -> pd.DataFrame:
    """The tidy table of all complete runs under ``sweep_dir`` (rows sorted by run, year)."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise BadInput(f"sweep_dir = {str(sweep_dir)!r}: not a folder")
    dirs = run_dirs(sweep_dir)
    if not dirs:
        raise BadInput(f"sweep_dir = {str(sweep_dir)!r}: no complete run (no summary.json) under it")
    params = parameter_table(dirs, swept_override_keys(sweep_dir))
    frames = []
    for i, d in enumerate(dirs):
        summary = json.loads((d / "summary.json").read_text())
        y = yearly_outcomes(d)
        y.insert(0, "run", str(d.relative_to(sweep_dir)))
        for j, c in enumerate(params.columns):
            y.insert(1 + j, c, params.iloc[i][c])
        for k in ("scenario", "policy", "seed", "n_firms"):
            if k not in y.columns:
                y.insert(len(params.columns) + 1, k, summary[k])
        for k in RUN_OUTCOMES:
            v = summary.get(k)
            y[f"run_{k}"] = np.nan if v is None else v
        frames.append(y)
    table = pd.concat(frames, ignore_index=True)
    for c in params.columns:  # restore dtypes lost through iloc
        if pd.api.types.is_numeric_dtype(params[c]):
            table[c] = pd.to_numeric(table[c])
    table["run_free_rider_share"] = table["run_free_rider_share"].astype(float)
    table = table.sort_values(["run", "year"], kind="stable").reset_index(drop=True)
    return table


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.gather", description=__doc__.splitlines()[0])
    ap.add_argument("sweep_dir", type=Path)
    ap.add_argument("--out", type=Path, default=None, help="Parquet file (default: <sweep_dir>/gathered.parquet)")
    ap.add_argument("--csv", type=Path, default=None, help="also write this CSV file")
    args = ap.parse_args(argv)
    return report_bad_input(_command, args)


def _command(args) -> int:
    from .results import _atomic_write_bytes

    table = gather(args.sweep_dir)

    out = args.out or args.sweep_dir / "gathered.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write_bytes(out, lambda p: table.to_parquet(p, index=False, engine="pyarrow"))
    if args.csv:
        _atomic_write_bytes(args.csv, lambda p: table.to_csv(p, index=False))
    n_runs = table["run"].nunique()
    swept = [c for c in table.columns[1:] if c != "year" and not c.startswith("run_")][:8]
    print(f"{n_runs} complete runs x {table['year'].nunique()} years -> {out} ({len(table)} rows; columns {', '.join(swept)}, ...)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
