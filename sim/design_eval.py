"""Evaluating designs with common random numbers, cached by configuration.

A *candidate* is one value of every lever. It is evaluated on the design's scenarios: the
Latin-hypercube samples of the uncertainties (drawn once from ``search.seed``) crossed with the
seeds -- the same scenarios for every candidate, the baseline and the references, so two
designs are compared on the same firms, network and draws (common random numbers: the model
draws each component from its own child stream of the seed, :mod:`sim.compare`).

One *run* is a candidate in one scenario. Its identity is the hash of the resolved base config
(scenario file, fixed overrides) and of the run's own updates (levers, uncertainty values,
seed); its summary lands as one row, one Parquet fragment of ``<out>/dataset/table=runs``
(:func:`sim.gather.write_fragment`: atomic, so a fragment exists only when complete). That
dataset is the cache: a killed search resumes and a longer one continues without re-running
any run whose fragment exists.

Runs execute on local worker processes (``jobs=N``: the base config composed once per worker,
then each run's updates applied to it -- no per-run composition) or, with
``hydra/launcher=slurm|ray_tasks`` (and ``hydra.launcher.*``), as one Hydra multirun per batch
on the same launchers the sweeps use (:func:`sim.sensitivity.launch`).
"""
from __future__ import annotations

import copy
import hashlib
import json
import logging
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .compose import bad_input, check, compose, load_both
from .errors import BadInput
from .gather import DATASET_DIR, fragment_path, read_dataset, write_fragment
from .template import PopulationCache

log = logging.getLogger("sim.design")
RUNS_TABLE = "runs"
_MISSING = "__missing__"


# -- the scenarios every candidate meets -------------------------------------------------------
def uncertainty_samples(design) -> pd.DataFrame:
    """The uncertainty samples (Latin hypercube, seeded by ``search.seed``) x seeds: one row per
    scenario, columns ``sample``, ``seed`` and one per uncertainty."""
    from scipy.stats import qmc

    n = design.samples
    if design.uncertainties:
        u = qmc.LatinHypercube(d=len(design.uncertainties), seed=design.search_seed).random(n)
        lo = np.array([x.low for x in design.uncertainties])
        hi = np.array([x.high for x in design.uncertainties])
        vals = lo + u * (hi - lo)
    else:
        vals = np.zeros((n, 0))
    rows = []
    for i in range(n):
        for s in design.seeds:
            rows.append({"sample": i, "seed": int(s), **{x.name: float(vals[i, j]) for j, x in enumerate(design.uncertainties)}})
    return pd.DataFrame(rows)


def _expand(key: str, base) -> list[str]:
    """``a.*.b`` -> ``a.0.b``, ``a.1.b``, ... over the list at ``a`` in ``base``."""
    from omegaconf import OmegaConf

    if "*" not in key:
        return [key]
    head, _, tail = key.partition(".*")
    lst = OmegaConf.select(base, head, default=None)
    if lst is None or not hasattr(lst, "__len__") or isinstance(lst, (str, dict)) or OmegaConf.is_dict(lst):
        raise BadInput(f"{key}: {head} is not a list in the config (a * stands for each element of a list)")
    return [k for i in range(len(lst)) for k in _expand(f"{head}.{i}{tail}", base)]


def _scaled(v, f: float):
    if isinstance(v, dict):
        return {k: _scaled(x, f) for k, x in v.items()}
    if isinstance(v, list):
        return [_scaled(x, f) for x in v]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise BadInput(f"cannot scale {v!r}: not a number")
    return float(v) * f


@dataclass
class Plan:
    """The checked design against its composed config: the base overrides, the lever and
    uncertainty keys, the values as designed, the base's resolved YAML (part of every run's hash)."""

    design: Any
    base_overrides: list
    baseline_overrides: list
    base_yaml: str
    base_values: dict            # uncertainty key -> base value (for scale factors)
    as_designed: dict            # lever name -> value as designed (the base config)
    scenarios: pd.DataFrame
    launcher: list = field(default_factory=list)
    jobs: int = 1
    #: seed -> {config key: value}: a calibration's posterior draw per seed (``posterior=``)
    posterior: dict = field(default_factory=dict)

    def uncertainty_updates(self, row) -> dict:
        out = {}
        for u in self.design.uncertainties:
            v = float(row[u.name])
            if u.scale:
                for k in u.keys:
                    out[k] = _scaled(self.base_values[k], v)
            else:
                out[u.name] = v
        return out


def _select(cfg, key):
    from omegaconf import OmegaConf

    v = OmegaConf.select(cfg, key, default=_MISSING)
    if isinstance(v, str) and v == _MISSING:
        return _MISSING
    return OmegaConf.to_container(v, resolve=True) if OmegaConf.is_config(v) else v


def _not_key(where: str, key: str) -> BadInput:
    return BadInput(f"{where}: {key!r} is not a config key (not in the composed config; see sim/params.py "
                    "or the scenario's programmes)")


def _child(obj, part: str):
    if isinstance(obj, list):
        return obj[int(part)]
    if isinstance(obj, dict):
        return obj[_dict_key(obj, part)]
    return getattr(obj, part)


def _dict_key(d: dict, part: str):
    if part in d or not d:
        return part
    if all(isinstance(k, int) for k in d) and part.lstrip("-").isdigit():
        return int(part)
    return part


def set_value(cfg, key: str, value) -> None:
    """Set dotted ``key`` of a typed :class:`~sim.params.Config` (dataclass fields, dict keys,
    list indices) to ``value`` -- what the override ``key=value`` does, without composing."""
    parts = key.split(".")
    obj = cfg
    for part in parts[:-1]:
        obj = _child(obj, part)
    last = parts[-1]
    if isinstance(obj, list):
        obj[int(last)] = value
    elif isinstance(obj, dict):
        obj[_dict_key(obj, last)] = value
    elif not hasattr(obj, last):
        raise BadInput(f"{key}: not a config key")
    else:
        setattr(obj, last, value)


def with_updates(typed, updates: dict):
    """A checked copy of the typed config ``typed`` with ``updates`` (key -> value) applied."""
    cfg = copy.deepcopy(typed)
    for k, v in updates.items():
        set_value(cfg, k, v)
    with bad_input():
        return check(cfg)


def _probe(typed, where: str, updates: dict) -> None:
    """Apply ``updates`` to a copy of the checked base and check it (one line on error)."""
    try:
        with_updates(typed, updates)
    except BadInput as exc:
        raise BadInput(f"{where}: {exc}") from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise BadInput(f"{where}: cannot be set ({exc})") from None


def _lever_probes(lever) -> list:
    if lever.kind in ("real", "integer"):
        return [lever.low, lever.high]
    if lever.kind == "split":
        return [[1.0] + [0.0] * (len(lever.keys) - 1), [1.0] * len(lever.keys)]
    return list(lever.options)


def plan(design, extra: list[str], launcher: list[str], jobs: int) -> Plan:
    """Compose the design's base, check every lever, uncertainty, baseline and reference
    against it, and the objectives against a probe run's summary (:class:`BadInput`)."""
    from omegaconf import OmegaConf

    base_over = [f"scenario={design.scenario}"] + list(design.overrides) + list(extra)
    with bad_input("overrides: "):
        base = compose(base_over)
    typed = load_both(base_over)[1]  # the base itself must be a valid run
    as_designed = {}
    for lv in design.levers:
        keys = lv.keys if lv.kind == "split" else [lv.name]
        vals = [_select(base, k) for k in keys]
        for k, v in zip(keys, vals):
            if isinstance(v, str) and v == _MISSING:
                raise _not_key(f"levers.{lv.name}", k)
        v = vals if lv.kind == "split" else vals[0]
        if lv.kind in ("real", "integer") and not lv.repeat and not (isinstance(v, (int, float)) and not isinstance(v, bool)):
            raise BadInput(f"levers.{lv.name}: the config value is {v!r}, not a number (a per-year list needs repeat: <years>)")
        if lv.kind == "switch" and not isinstance(v, bool):
            raise BadInput(f"levers.{lv.name}: the config value is {v!r}, not true/false (kind switch turns an instrument on/off)")
        as_designed[lv.name] = v
        for p in _lever_probes(lv):
            _probe(typed, f"levers.{lv.name} = {p!r}", lv.updates(p))
    base_values = {}
    for u in design.uncertainties:
        keys = [k for key in u.keys for k in _expand(key, base)] if u.scale else [u.name]
        if u.scale:
            u.keys = keys
        for k in keys:
            v = _select(base, k)
            if isinstance(v, str) and v == _MISSING:
                raise _not_key(f"uncertainties.{u.name}", k)
            base_values[k] = v
        for p in (u.low, u.high):
            ups = {k: _scaled(base_values[k], p) for k in keys} if u.scale else {u.name: p}
            _probe(typed, f"uncertainties.{u.name} = {p!r}", ups)
    load_both(base_over + list(design.baseline))
    for ref in design.references:
        load_both(base_over + [f"policy={ref}"])
    scen = uncertainty_samples(design)
    p = Plan(design, base_over, base_over + list(design.baseline), OmegaConf.to_yaml(base, resolve=True), base_values,
             as_designed, scen, list(launcher), jobs)
    check_outcomes(design, typed)
    return p


def check_outcomes(design, typed) -> None:
    """Every objective's outcome (and every constraint not on an objective) must be a number in
    a run's summary.json: a probe run of the base with 60 firms tells."""
    from .job import run_model

    cfg = with_updates(typed, {"n_firms": min(60, int(typed.n_firms)), "write_firm_panel": False})
    summary = flat_outcomes(run_model(cfg).summary)
    names = {o.name for o in design.objectives}
    known = ", ".join(sorted(k for k in summary if "." not in k)[:12])
    for o in design.objectives:
        if o.outcome and o.outcome not in summary:
            raise BadInput(f"objectives.{o.name}.outcome = {o.outcome!r}: not a number in a run's summary.json "
                           f"(e.g. {known}, ...; nested keys dotted)")
    for c in design.constraints:
        if c.name not in names and c.name not in summary:
            raise BadInput(f"constraints.{c.name}: neither an objective ({', '.join(sorted(names))}) nor a number in summary.json")


def flat_outcomes(summary: dict, prefix: str = "") -> dict[str, float]:
    """Every number of a summary.json, nested keys dotted (``emissions_t_co2_by_year.2030``), as float."""
    out = {}
    for k, v in summary.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flat_outcomes(v, key + "."))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[key] = float(v)
    return out


# -- run identities and the cache ---------------------------------------------------------------
def _canon(v):
    if isinstance(v, float):
        return float(repr(v)) if np.isfinite(v) else repr(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, dict):
        return {str(k): _canon(x) for k, x in sorted(v.items(), key=lambda kv: str(kv[0]))}
    if isinstance(v, (list, tuple)):
        return [_canon(x) for x in v]
    return v


def run_hash(base_yaml: str, updates: dict) -> str:
    h = hashlib.sha256(base_yaml.encode())
    h.update(json.dumps(_canon(updates), sort_keys=True).encode())
    return h.hexdigest()[:20]


@dataclass
class Run:
    key: str
    base: tuple          # base overrides (composed once per worker)
    updates: dict        # config key -> value
    meta: dict           # columns of its row: role, candidate, sample, seed, levers, uncertainties


def lever_columns(design, x: dict) -> dict:
    """The row columns of candidate ``x``: each lever by its config key (a split: each key's USD)."""
    out = {}
    for lv in design.levers:
        for k, v in lv.updates(x[lv.name]).items():
            out[k] = v[0] if isinstance(v, list) else v
    return out


def candidate_id(x: dict) -> str:
    return hashlib.sha256(json.dumps(_canon(x), sort_keys=True).encode()).hexdigest()[:12]


def candidate_runs(p: Plan, x: dict | None, role: str = "design", label: str = "") -> list[Run]:
    """The runs of candidate ``x`` (lever name -> value) in every scenario; ``x=None``: the base
    config itself (``role`` as_designed / baseline / reference, ``label`` e.g. the policy)."""
    d = p.design
    if role == "baseline":
        base = tuple(p.baseline_overrides)
    elif role == "reference":
        base = tuple(p.base_overrides + [f"policy={label}"])
    else:
        base = tuple(p.base_overrides)
    lever_up, cols = {}, {}
    if x is not None:
        for lv in d.levers:
            lever_up.update(lv.updates(x[lv.name]))
        cols = lever_columns(d, x)
    base_tag = p.base_yaml + "\0" + "\0".join(base)
    cid = candidate_id(x) if x is not None else f"{role}:{label}" if label else role
    runs = []
    for _, row in p.scenarios.iterrows():
        up = {**lever_up, **p.uncertainty_updates(row), **p.posterior.get(int(row["seed"]), {}), "seed": int(row["seed"])}
        meta = {"role": role, "label": label, "candidate": cid, "sample": int(row["sample"]), "seed": int(row["seed"]),
                **{u.name: float(row[u.name]) for u in d.uncertainties}, **cols}
        runs.append(Run(run_hash(base_tag, up), base, up, meta))
    return runs


# -- executing runs ------------------------------------------------------------------------------
_bases: dict[tuple, Any] = {}


def _base(overrides: tuple):
    if overrides not in _bases:
        _bases[overrides] = load_both(list(overrides))[1]
    return _bases[overrides]


def _row(meta: dict, summary: dict):
    """A run's row of the runs table: its meta columns, then every number of its summary (a
    one-row pyarrow Table: the types pandas would infer -- str, int64, float64, bool)."""
    import pyarrow as pa

    row = dict(meta)
    for k, v in flat_outcomes(summary).items():
        if k not in row:
            row[k] = v
    return pa.Table.from_pylist([row])


#: this process's population templates: a design's candidates, baseline and references meet the
#: same scenarios, so each scenario's population is built once per process (sim/template.py)
_populations = PopulationCache()


def run_batch(runs: list[Run], dataset: str) -> int:
    """Run ``runs`` in this process (each base composed and checked once, each run's updates
    applied to a copy of it, each model built on its scenario's population template) and
    write each one's fragment."""
    from .job import run_model
    from .sweep import release_finished_models

    logging.getLogger("MESA").setLevel(logging.WARNING)
    for r in runs:
        res = run_model(with_updates(_base(r.base), r.updates), populations=_populations)
        write_fragment(Path(dataset), RUNS_TABLE, r.key, _row(r.meta, res.summary))
        release_finished_models()
    return len(runs)


_pool: tuple[int, ProcessPoolExecutor] | None = None


def _workers(jobs: int) -> ProcessPoolExecutor:
    """The local worker processes, started once and kept for every batch of the search (their
    composed bases and population templates stay warm across generations)."""
    from .sweep import worker_init

    global _pool
    if _pool is None or _pool[0] != jobs:
        shutdown_workers()
        _pool = (jobs, ProcessPoolExecutor(max_workers=jobs, initializer=worker_init))
    return _pool[1]


def shutdown_workers() -> None:
    """Stop the local worker processes and drop this process's templates (at the end of a search)."""
    global _pool
    _populations.clear()
    if _pool is not None:
        _pool[1].shutdown(wait=True, cancel_futures=True)
        _pool = None


#: runs per task sent to a worker: small enough that the workers finish a generation together
#: (a generation waits for its last run), large enough that dispatch costs nothing
RUNS_PER_TASK = 4


def _hydra_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_hydra_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(f"{k}:{_hydra_value(x)}" for k, x in v.items()) + "}"
    return json.dumps(str(v)) if any(c in str(v) for c in " ,[]{}=:'\"") else str(v)


def _launch_hydra(todo: list[Run], p: Plan, out: Path) -> None:
    """The runs as Hydra multiruns on the chosen launcher (one per base), then their summaries
    as fragments (written here, by the launching process)."""
    from .gather import DamagedRun, read_summary
    from .sensitivity import launch

    by_base: dict[tuple, list[Run]] = {}
    for r in todo:
        by_base.setdefault(r.base, []).append(r)
    for base, runs in by_base.items():
        tag = hashlib.sha256("\0".join(r.key for r in runs).encode()).hexdigest()[:12]
        d = out / "launch" / tag
        jobs = [[f"{k}={_hydra_value(v)}" for k, v in r.updates.items()] for r in runs]
        launch(list(base) + ["write_firm_panel=false"], p.launcher, jobs, d)
        for i, r in enumerate(runs):
            try:
                s = read_summary(d / f"sample_{i}")
            except DamagedRun as exc:
                raise BadInput(str(exc)) from None
            write_fragment(out / DATASET_DIR, RUNS_TABLE, r.key, _row(r.meta, s))


def execute(runs: list[Run], p: Plan, out: Path, progress: bool = True) -> int:
    """Run every run that has no fragment yet; returns how many ran."""
    from tqdm import tqdm

    dataset = out / DATASET_DIR
    seen, todo = set(), []
    for r in runs:
        if r.key not in seen and not fragment_path(dataset, RUNS_TABLE, r.key).is_file():
            todo.append(r)
        seen.add(r.key)
    if not todo:
        return 0
    if p.launcher:
        _launch_hydra(todo, p, out)
        return len(todo)
    bar = tqdm(total=len(todo), desc="runs", unit="run", file=sys.stderr, disable=not progress, leave=False)
    if p.jobs == 1:
        for r in todo:
            bar.update(run_batch([r], str(dataset)))
    else:
        chunks = [todo[i:i + RUNS_PER_TASK] for i in range(0, len(todo), RUNS_PER_TASK)]
        ex = _workers(p.jobs)
        try:
            for f in as_completed([ex.submit(run_batch, c, str(dataset)) for c in chunks]):
                bar.update(f.result())
        except BaseException:
            shutdown_workers()
            raise
    bar.close()
    return len(todo)


def read_runs(out: Path, keys: list[str], columns: list[str] | None = None) -> pd.DataFrame:
    """The cached rows of ``keys`` (in that order), from the dataset; only ``columns`` (those a
    fragment has; missing ones are NaN) when given -- a fragment holds ~240 columns and a search
    reads every run's few outcomes after each generation."""
    rows = [_read_fragment(fragment_path(out / DATASET_DIR, RUNS_TABLE, k), columns) for k in keys]
    t = pd.concat(rows, ignore_index=True)
    return pd.concat([pd.DataFrame({"run": keys}), t], axis=1)


def _read_fragment(path: Path, columns: list[str] | None) -> pd.DataFrame:
    if columns is None:
        return pd.read_parquet(path)
    import pyarrow.parquet as pq

    f = pq.ParquetFile(path)
    names = set(f.schema_arrow.names)
    return f.read(columns=[c for c in columns if c in names]).to_pandas().reindex(columns=list(columns))


def read_all_runs(out: Path) -> pd.DataFrame:
    return read_dataset(out / DATASET_DIR, RUNS_TABLE)
