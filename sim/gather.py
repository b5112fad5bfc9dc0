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

A damaged run folder (a truncated parquet file, an empty or invalid ``summary.json`` or
``config.yaml``) is skipped with one line on stderr naming the folder, what is wrong and how
to re-run it; the rest are gathered. Nothing usable left: one line, exit code 2. The output
location is checked (writable, not a folder) before anything is read.

This module also holds the readers the other result commands share (:mod:`sim.report`,
:mod:`sim.compare`, :mod:`sim.sensitivity`): :func:`read_summary` / :func:`read_table`
(raising :class:`DamagedRun`). Output locations are checked by :mod:`sim.outputs`; JSON is
written strict by :func:`sim.results.strict_json`.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .compose import safe_load_yaml
from .errors import BadInput, report_bad_input
from .outputs import check_output_file
from .results import is_complete, strict_json


#: columns of timeseries.parquet that are monthly flows (summed to a year); the rest are stocks
FLOW_PREFIXES = ("emissions_t_co2", "scope1_t_co2", "scope2_t_co2", "energy_cost_saving_usd",
                 "carbon_revenue_usd", "workshop_participants", "assessments")
GROUPS = ("scenario", "policy", "measures")
#: run-level outcomes from summary.json, repeated on each of the run's rows
RUN_OUTCOMES = ("cumulative_emissions_t_co2", "public_spending_usd", "supported_adoptions",
                "supported_viable_without_support_same_month_share")


# -- damaged run folders ----------------------------------------------------------------------------
class DamagedRun(Exception):
    """A run folder whose files cannot be read: ``str()`` names the folder, what is wrong
    and how to re-run it (one line)."""

    def __init__(self, run_dir: Path, what: str):
        self.run_dir, self.what = Path(run_dir), what
        super().__init__(f"{self.run_dir}: {what}; {rerun_hint(self.run_dir)}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def read_summary(run_dir: Path) -> dict:
    """A run's ``summary.json`` as a dict; :class:`DamagedRun` if it is empty, not strict JSON
    (NaN / Infinity included) or not an object."""
    f = Path(run_dir) / "summary.json"
    try:
        text = f.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise DamagedRun(run_dir, f"summary.json cannot be read ({_first_line(exc)})") from None
    if not text.strip():
        raise DamagedRun(run_dir, "summary.json is empty")
    try:
        d = json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise DamagedRun(run_dir, f"summary.json is not valid JSON ({_first_line(exc)})") from None
    if not isinstance(d, dict):
        raise DamagedRun(run_dir, f"summary.json holds a {type(d).__name__}, not the run's summary")
    return d


def read_table(run_dir: Path, name: str, columns=None) -> pd.DataFrame:
    """``<run_dir>/<name>.parquet`` (optionally only ``columns``); :class:`DamagedRun` if it
    is missing, truncated or lacks a column."""
    f = Path(run_dir) / f"{name}.parquet"
    if not f.is_file():
        raise DamagedRun(run_dir, f"{name}.parquet is missing")
    try:
        return pd.read_parquet(f, columns=columns, engine="pyarrow")
    except Exception as exc:  # noqa: BLE001 - pyarrow raises ArrowInvalid, OSError, KeyError, ...
        raise DamagedRun(run_dir, f"{name}.parquet cannot be read, truncated or damaged ({_first_line(exc)})") from None


def read_config(run_dir: Path) -> dict:
    """A run's resolved ``config.yaml`` as a dict; :class:`DamagedRun` if missing or not YAML."""
    f = Path(run_dir) / "config.yaml"
    try:
        d = safe_load_yaml(f.read_text())
    except FileNotFoundError:
        raise DamagedRun(run_dir, "config.yaml is missing") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DamagedRun(run_dir, f"config.yaml cannot be read ({_first_line(exc)})") from None
    if not isinstance(d, dict) or not d:
        raise DamagedRun(run_dir, "config.yaml is empty or not a mapping")
    return d


def _sweep_root(run_dir: Path) -> Path | None:
    """The nearest folder at or above ``run_dir`` holding a Hydra ``multirun.yaml``."""
    for p in [Path(run_dir), *Path(run_dir).parents]:
        if (p / "multirun.yaml").is_file():
            return p
    return None


def _sweep_task_overrides(sweep: Path) -> list[str] | None:
    try:
        conf = yaml.safe_load((sweep / "multirun.yaml").read_text()) or {}
        task = conf["hydra"]["overrides"]["task"] or []
    except Exception:  # noqa: BLE001 - no readable overrides: the hint names the file instead
        return None
    return [str(t) for t in task]


def _sweep_job_name(sweep: Path) -> str:
    try:
        return str(yaml.safe_load((sweep / "multirun.yaml").read_text())["hydra"]["job"]["name"])
    except Exception:  # noqa: BLE001
        return ""


def rerun_hint(run_dir: Path) -> str:
    """How to re-run a damaged run folder, from its sweep's ``multirun.yaml`` or its own
    ``config.yaml`` (a complete-looking run is reused, so its summary.json must go first)."""
    run_dir = Path(run_dir)
    drop = f"rm {run_dir / 'summary.json'}"
    if run_dir.parent.parent.name == "runs" and run_dir.name.startswith("seed="):  # a sim.compare run
        return (f"re-run: {drop} && re-run the same python -m sim.compare ... out={run_dir.parent.parent.parent} "
                "(its complete runs are reused)")
    sweep = _sweep_root(run_dir)
    if sweep is not None and _sweep_job_name(sweep) == "sim.sensitivity":
        return (f"re-run: {drop} && re-run the same python -m sim.sensitivity <space.yaml> ... out={sweep} "
                "(its complete samples are reused)")
    if sweep is not None:
        task = _sweep_task_overrides(sweep)
        cmd = (f"python -m sim.run --multirun {' '.join(task)} hydra.sweep.dir={sweep}" if task is not None
               else f"python -m sim.run --multirun with the overrides in {sweep / 'multirun.yaml'}")
        return f"re-run: {drop} && {cmd} (re-launches the sweep; its complete runs are reused)"
    try:
        cfg = yaml.safe_load((run_dir / "config.yaml").read_text())
        key = " ".join(f"{k}={v}" for k, v in (("scenario", (cfg.get("scenario") or {}).get("name")),
                                                ("policy", (cfg.get("policy") or {}).get("name")),
                                                ("seed", cfg.get("seed")), ("n_firms", cfg.get("n_firms")),
                                                ("start_year", cfg.get("start_year")), ("end_year", cfg.get("end_year")))
                       if v is not None)
    except Exception:  # noqa: BLE001 - no readable config: the command without the keys
        key = ""
    return (f"re-run: {drop} && python -m sim.run {key + ' ' if key else ''}hydra.run.dir={run_dir} "
            f"(with any other overrides recorded in {run_dir / 'config.yaml'})")


def skipped(damaged: list[DamagedRun], file=None) -> None:
    """One line on stderr per damaged run folder that was left out."""
    for d in damaged:
        print(f"warning: skipped {d}", file=file or sys.stderr)


def nothing_usable(root: Path, damaged: list[DamagedRun], key: str = "sweep_dir") -> BadInput:
    """The one line when every run folder under ``root`` is damaged."""
    n = len(damaged) - 1
    more = f" (and {n} more damaged run folder{'s' if n > 1 else ''})" if n else ""
    return BadInput(f"{key} = {str(root)!r}: no usable run: {damaged[0]}{more}")


def _flatten(d, prefix=""):
    out = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    key = prefix[:-1]
    if isinstance(d, list):
        return {key: strict_json(d, sort_keys=True)}  # lists compare (and store) as JSON text
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


def parameter_table(dirs: list[Path], extra_keys=(), configs: list[dict] | None = None) -> pd.DataFrame:
    """One row per run: the swept parameters (see module docstring)."""
    flat = [_flatten(c) for c in (configs if configs is not None else [read_config(d) for d in dirs])]
    all_keys = sorted(set().union(*[f.keys() for f in flat])) if flat else []
    if len(flat) == 1:  # one run (a fragment): nothing varies, only the keys asked for can be columns
        asked = set(extra_keys) | {f"{g}.name" for g in GROUPS if g in extra_keys}
        all_keys = [k for k in all_keys if k in asked]
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
    ts = read_table(run_dir, "timeseries")
    if "year" not in ts.columns or ts.empty:
        raise DamagedRun(run_dir, "timeseries.parquet has no rows or no year column")
    ts = ts.drop(columns=[c for c in ("month", "date") if c in ts.columns])
    flows = [c for c in ts.columns if c != "year" and c.startswith(FLOW_PREFIXES)]
    stocks = [c for c in ts.columns if c != "year" and c not in flows]
    g = ts.groupby("year", sort=True)
    return pd.concat([g[flows].sum(), g[stocks].last()], axis=1).reset_index()


def read_run(d: Path, read_config_file: bool = True) -> tuple[dict, dict | None, pd.DataFrame]:
    """A run folder's summary, config (None without ``read_config_file``) and yearly outcomes;
    :class:`DamagedRun` if any is unreadable."""
    summary = read_summary(d)
    missing = [k for k in ("scenario", "policy", "seed", "n_firms") if k not in summary]
    if missing:
        raise DamagedRun(d, f"summary.json lacks {', '.join(missing)}")
    return summary, read_config(d) if read_config_file else None, yearly_outcomes(d)


def run_rows(run: str, summary: dict, yearly: pd.DataFrame, params: pd.Series) -> pd.DataFrame:
    """One run's rows of the gathered table: ``run``, the swept parameters, scenario, policy,
    seed and n_firms, the yearly outcomes and the run-level outcomes (``run_<key>``)."""
    y = yearly.copy()
    y.insert(0, "run", run)
    for j, c in enumerate(params.index):
        y.insert(1 + j, c, params[c])
    for k in ("scenario", "policy", "seed", "n_firms"):
        if k not in y.columns:
            y.insert(len(params.index) + 1, k, summary[k])
    for k in RUN_OUTCOMES:
        v = summary.get(k)
        y[f"run_{k}"] = np.nan if v is None else v
    y["run_supported_viable_without_support_same_month_share"] = y["run_supported_viable_without_support_same_month_share"].astype(float)
    return y


def gather(sweep_dir: Path, damaged: list | None = None) -> pd.DataFrame:
    """The tidy table of all complete runs under ``sweep_dir`` (rows sorted by run, year).
    Damaged run folders are left out: appended to ``damaged`` (as :class:`DamagedRun`) when
    given, else named on stderr, one line each; none usable -> :class:`BadInput`."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise BadInput(f"sweep_dir = {str(sweep_dir)!r}: not a folder")
    dirs = run_dirs(sweep_dir)
    if not dirs:
        raise BadInput(f"sweep_dir = {str(sweep_dir)!r}: no complete run (no summary.json) under it")
    good, bad = [], []
    for d in dirs:
        try:
            good.append((d, *read_run(d)))
        except DamagedRun as exc:
            bad.append(exc)
    if not good:
        raise nothing_usable(sweep_dir, bad)
    if damaged is None:
        skipped(bad)
    else:
        damaged.extend(bad)
    dirs = [g[0] for g in good]
    params = parameter_table(dirs, swept_override_keys(sweep_dir), configs=[g[2] for g in good])
    frames = [run_rows(str(d.relative_to(sweep_dir)), summary, y, params.iloc[i])
              for i, (d, summary, _, y) in enumerate(good)]
    table = pd.concat(frames, ignore_index=True)
    for c in params.columns:  # restore dtypes lost through iloc
        if pd.api.types.is_numeric_dtype(params[c]):
            table[c] = pd.to_numeric(table[c])
    table = table.sort_values(["run", "year"], kind="stable").reset_index(drop=True)
    return table


# -- results as one dataset -------------------------------------------------------------------
#: the hive-partitioned dataset of a sweep or search: <dir>/dataset/table=<name>/run=<id>/part.parquet
DATASET_DIR = "dataset"


def fragment_path(dataset: Path, table: str, run: str) -> Path:
    """Where one run's rows of ``table`` live (``run`` percent-encoded: pyarrow and DuckDB
    decode hive partition values, so ``run`` reads back as given)."""
    from urllib.parse import quote

    return Path(dataset) / f"table={table}" / f"run={quote(str(run), safe='')}" / "part.parquet"


def write_fragment(dataset: Path, table: str, run: str, rows) -> Path:
    """Write one run's rows (a DataFrame, or a pyarrow Table: a design search writes one row per
    run, thousands of times, and pandas' conversion is half of that) as one Parquet fragment,
    atomically (a temp file whose name starts with a dot, which pyarrow and DuckDB globs skip,
    then a rename): a fragment exists only when complete. ``run`` is the partition value, not a
    column of the file."""
    from .results import _atomic_write_bytes

    from .results import remove_if_empty

    f = fragment_path(dataset, table, run)
    f.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(rows, pd.DataFrame):
        rows = rows.drop(columns=[c for c in ("run", "table") if c in rows.columns])
        write = lambda p: rows.to_parquet(p, index=False, engine="pyarrow")  # noqa: E731
    else:
        import pyarrow.parquet as pq

        rows = rows.drop_columns([c for c in ("run", "table") if c in rows.column_names])
        write = lambda p: pq.write_table(rows, p)  # noqa: E731
    try:
        _atomic_write_bytes(f, write)
    except OSError:
        remove_if_empty(f.parent)  # no empty partition left behind
        raise
    return f


def has_fragment(dataset: Path, table: str, run: str) -> bool:
    return fragment_path(dataset, table, run).is_file()


def read_dataset(dataset: Path, table: str, columns=None) -> pd.DataFrame:
    """A table of a dataset as one DataFrame (every complete fragment; schemas unified by
    name: a column some runs lack is null there; ``run`` is a string column)."""
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    root = Path(dataset) / f"table={table}"
    files = sorted(str(f) for f in root.glob("run=*/part.parquet"))
    if not files:
        raise BadInput(f"dataset = {str(dataset)!r}: no complete fragment of table {table!r}")
    schema = pa.unify_schemas([pq.read_schema(f) for f in files], promote_options="permissive").append(pa.field("run", pa.string()))
    part = ds.partitioning(pa.schema([("run", pa.string())]), flavor="hive")
    d = ds.dataset(files, schema=schema, format="parquet", partitioning=part, partition_base_dir=str(root))
    t = d.to_table(columns=columns).to_pandas()
    cols = ["run"] + [c for c in t.columns if c != "run"]
    return t[cols]


def write_run_fragment(run_dir: Path, sweep_dir: Path, config: dict | None = None) -> Path:
    """The run folder's rows of the gathered table (:func:`gather`), as one fragment of
    ``<sweep_dir>/dataset/table=summary`` (partition ``run`` = the folder relative to the sweep).
    ``config``: the folder's ``config.yaml`` as :func:`read_config` parses it, when the caller
    has it already (a worker running many seeds of one configuration parses it once)."""
    run_dir, sweep_dir = Path(run_dir), Path(sweep_dir)
    summary, read, yearly = read_run(run_dir, read_config_file=config is None)
    config = read if config is None else config
    params = parameter_table([run_dir], swept_override_keys(sweep_dir), configs=[config])
    run = str(run_dir.relative_to(sweep_dir))
    return write_fragment(sweep_dir / DATASET_DIR, "summary", run, run_rows(run, summary, yearly, params.iloc[0]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.gather", description=__doc__.splitlines()[0])
    ap.add_argument("sweep_dir", type=Path)
    ap.add_argument("--out", type=Path, default=None, help="Parquet file (default: <sweep_dir>/gathered.parquet)")
    ap.add_argument("--csv", type=Path, default=None, help="also write this CSV file")
    args = ap.parse_args(argv)
    return report_bad_input(_command, args)


def _command(args) -> int:
    from .results import _atomic_write_bytes

    if not args.sweep_dir.is_dir():
        raise BadInput(f"sweep_dir = {str(args.sweep_dir)!r}: not a folder")
    out = check_output_file(args.out or args.sweep_dir / "gathered.parquet", "--out")  # before any work
    if args.csv:
        check_output_file(args.csv, "--csv")
    table = gather(args.sweep_dir)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write_bytes(out, lambda p: table.to_parquet(p, index=False, engine="pyarrow"))
        if args.csv:
            args.csv.parent.mkdir(parents=True, exist_ok=True)
            _atomic_write_bytes(args.csv, lambda p: table.to_csv(p, index=False))
    except OSError as exc:
        raise BadInput(f"--out = {str(exc.filename or out)!r}: cannot write ({exc.strerror or exc})") from None
    n_runs = table["run"].nunique()
    swept = [c for c in table.columns[1:] if c != "year" and not c.startswith("run_")][:8]
    print(f"{n_runs} complete runs x {table['year'].nunique()} years -> {out} ({len(table)} rows; columns {', '.join(swept)}, ...)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
