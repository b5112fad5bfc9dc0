"""Sweep support around Hydra's multirun: pre-flight of named experiments and launchers, and a
progress bar.

* :func:`preflight_sweep` expands an experiment's ``hydra.sweeper.params`` together with the
  command line's sweeps, validates every value of every axis (unknown key, empty range, bad
  value) and checks that the chosen launcher can start (SLURM controller reachable, Ray
  importable / its address reachable) -- before Hydra creates any folder.
* :class:`SweepProgress` is a Hydra callback (enabled by ``configs/hydra/launcher/*.yaml``):
  in the launching process a thread counts the complete run folders of the sweep (a
  ``summary.json``), so a tqdm bar shows runs done/total and the ETA whatever the launcher
  (joblib processes, SLURM array, Ray workers), and resumed runs count as done at once.
"""
from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from .compose import (CONFIG_DIR, REPO_DIR, BadInput, bad_input, check, compose, load_both, one_line, override_axes,
                      safe_load_yaml)


# -- job expansion ------------------------------------------------------------------------------
def n_jobs(overrides: list[str]) -> int:
    n = 1
    for a in override_axes(overrides):
        n *= len(a)
    return n


def sweeper_params(overrides: list[str]) -> dict[str, str]:
    """``hydra.sweeper.params`` of the composed config (e.g. set by ``+experiment=...``),
    the launcher's target and the composed config with its ``hydra`` node."""
    cfg = compose(overrides, return_hydra_config=True)
    params = OmegaConf.select(cfg, "hydra.sweeper.params") or {}
    launcher = OmegaConf.select(cfg, "hydra.launcher._target_") or ""
    return {str(k): str(v) for k, v in params.items()}, launcher, cfg


def _job_overrides(overrides: list[str]) -> list[str]:
    """Overrides of the job config (without hydra.* and Hydra's flags)."""
    return [o for o in overrides if not o.startswith("hydra.") and not o.startswith("hydra/")]


# -- launchers ----------------------------------------------------------------------------------
def check_launcher(target: str, cfg: DictConfig) -> None:
    """Raise :class:`BadInput` when the launcher cannot start."""
    if "submitit" in target and "Slurm" in target:
        sbatch = shutil.which("sbatch")
        if sbatch is None:
            raise BadInput("hydra/launcher=slurm: SLURM not reachable (no sbatch on PATH; install slurm-wlm or use hydra/launcher=local)")
        try:
            r = subprocess.run(["sinfo", "-h", "-o", "%P %a"], capture_output=True, text=True, timeout=15)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BadInput(f"hydra/launcher=slurm: SLURM not reachable (sinfo: {exc})") from None
        if r.returncode != 0:
            msg = (r.stderr.strip().splitlines() or ["no answer"])[-1]
            raise BadInput(f"hydra/launcher=slurm: SLURM controller not reachable (sinfo: {msg})")
        part = OmegaConf.select(cfg, "hydra.launcher.partition")
        parts = [l.split()[0].rstrip("*") for l in r.stdout.splitlines() if l.strip()]
        if part and part not in parts:
            raise BadInput(f"hydra.launcher.partition = {part!r}: no such SLURM partition; available: {', '.join(parts)}")
        # would SLURM accept one task of the array as configured (memory, CPUs, time, QOS...)?
        # `sbatch --test-only` validates the request without submitting anything
        lc = OmegaConf.select(cfg, "hydra.launcher") or {}
        args = ["sbatch", "--test-only", "--wrap=true", "--job-name=sim-preflight", "--output=/dev/null",
                f"--nodes={lc.get('nodes') or 1}", f"--ntasks-per-node={lc.get('tasks_per_node') or 1}",
                f"--time={int(lc.get('timeout_min') or 60)}"]
        for key, flag, unit in (("cpus_per_task", "--cpus-per-task", ""), ("mem_gb", "--mem", "G"), ("partition", "--partition", ""),
                                ("qos", "--qos", ""), ("account", "--account", ""), ("constraint", "--constraint", ""),
                                ("gres", "--gres", ""), ("mem_per_cpu", "--mem-per-cpu", "")):
            if lc.get(key) not in (None, ""):
                args.append(f"{flag}={lc.get(key)}{unit}")
        try:
            t = subprocess.run(args, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BadInput(f"hydra/launcher=slurm: SLURM not reachable (sbatch --test-only: {exc})") from None
        if t.returncode != 0:
            msg = " ".join(l.removeprefix("sbatch: error: ").strip() for l in t.stderr.strip().splitlines()[-2:]) or "rejected"
            raise BadInput(f"hydra/launcher=slurm: SLURM would not accept the jobs ({msg}); see hydra.launcher.mem_gb, cpus_per_task, timeout_min, partition")
    elif "ray" in target.lower():
        try:
            import ray  # noqa: F401
        except ImportError:
            raise BadInput("hydra/launcher=ray: ray is not installed (pip install 'cluster-transition-sim[sweeps]')") from None
        address = OmegaConf.select(cfg, "hydra.launcher.ray.init.address") or os.environ.get("RAY_ADDRESS")
        if address and address not in ("local", "auto") and ":" in address:
            import socket

            host, _, port = address.removeprefix("ray://").rpartition(":")
            try:
                socket.create_connection((host, int(port)), timeout=5).close()
            except (OSError, ValueError) as exc:
                raise BadInput(f"hydra.launcher.ray.init.address = {address!r}: Ray cluster not reachable ({exc})") from None
    elif "joblib" in target:
        try:
            import joblib  # noqa: F401
        except ImportError:
            raise BadInput("hydra/launcher=local: joblib is not installed (pip install 'cluster-transition-sim[sweeps]')") from None


def _groups() -> set[str]:
    """Config groups (a sweep over one of them needs a full composition)."""
    out = set()
    for root in (Path(CONFIG_DIR), REPO_DIR / "experiments"):
        out |= {d.name for d in root.iterdir() if d.is_dir()} if root.is_dir() else set()
    return out


def _set_path(obj, parts, value) -> None:
    for p in parts[:-1]:
        obj = obj[p] if isinstance(obj, dict) else getattr(obj, p)
    if isinstance(obj, dict):
        obj[parts[-1]] = value
    else:
        setattr(obj, parts[-1], value)


def preflight_sweep(overrides: list[str]) -> int:
    """Validate a multirun before Hydra starts it; returns the number of jobs.

    The experiment's ``hydra.sweeper.params`` and the command line's sweeps are expanded;
    every value of every axis is validated once with the other axes at their first value
    (cost: the sum, not the product, of the axis lengths): a value override is applied to
    the composed first job (unknown keys fail in struct mode), a config-group choice is
    composed. Then the launcher is checked (:func:`check_launcher`)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    params, launcher, hcfg = _sweeper_or_bad_input([o for o in overrides if "," not in o or o.startswith("hydra")])
    axes = override_axes([f"{k}={v}" for k, v in params.items()] + _job_overrides(overrides))
    first = [a[0] for a in axes]
    groups = _groups()
    parser = OverridesParser.create()
    base, base_obj = load_both(first)
    for i, axis in enumerate(axes):
        for value in axis[1:]:
            o = parser.parse_override(value)
            key = o.get_key_element().lstrip("+~")
            if key.split(".")[0].split("@")[0] in groups or o.get_key_element()[0] in "+~":
                load_both(first[:i] + [value] + first[i + 1:])  # a config-group choice: composed
            else:
                _check_value_override(base, base_obj, key, o.value(), value)
    check_experiment(hcfg, params)
    check_launcher(launcher, hcfg)
    n = 1
    for a in axes:
        n *= len(a)
    check_sweep_dirs(hcfg, axes)
    return n


def job_subdirs(hcfg: DictConfig, axes: list[list[str]]) -> list[str] | None:
    """Each job's sub-folder of the sweep folder when ``hydra.sweep.subdir`` is Hydra's
    ``${hydra.job.override_dirname}`` (computed as Hydra does), else None."""
    import itertools

    from hydra.core.override_parser.overrides_parser import OverridesParser

    sub = OmegaConf.to_container(hcfg.hydra.sweep, resolve=False).get("subdir")
    if str(sub).replace(" ", "") != "${hydra.job.override_dirname}":
        return None
    conf = hcfg.hydra.job.config.override_dirname
    exclude, item_sep, kv_sep = set(conf.exclude_keys), conf.item_sep, conf.kv_sep
    parser = OverridesParser.create()
    keyed = [[(parser.parse_override(v).key_or_group, v) for v in axis] for axis in axes]
    out = []
    for combo in itertools.product(*keyed):
        lines = sorted(v for k, v in combo if k not in exclude)
        out.append(item_sep.join(lines).replace("=", kv_sep))
    return out


def check_sweep_dirs(hcfg: DictConfig, axes: list[list[str]]) -> None:
    """The sweep folder and every job's folder must be usable (not a file, not under a file,
    writable) and inside the sweep folder's results root: :class:`BadInput` otherwise."""
    from .outputs import check_run_dir, output_dir_of

    sweep = output_dir_of(hcfg, "sweep.dir")
    check_run_dir(sweep.path, sweep.root, sweep.pattern_keys)
    try:
        subs = job_subdirs(hcfg, axes)
    except Exception:  # noqa: BLE001 - an unusual subdir pattern: the sweep folder is checked
        subs = None
    for sub in subs or []:
        check_run_dir(sweep.path / sub, sweep.path)


def _sweeper_or_bad_input(fixed: list[str]):
    """:func:`sweeper_params`, composition errors as one line (launchers named as such)."""
    try:
        return sweeper_params(fixed)
    except BadInput:
        raise
    except Exception as exc:  # noqa: BLE001
        msg = one_line(exc)
        if msg.startswith("hydra=launcher/"):  # hydra/launcher is a nested group
            msg = "hydra/launcher=" + msg.removeprefix("hydra=launcher/").replace("unknown hydra;", "unknown launcher;")
        raise BadInput(msg) from None


def _check_value_override(base: DictConfig, base_obj, key: str, value, text: str) -> None:
    """A value of a sweep axis: type-checked by OmegaConf on the composed first job, then
    checked on a copy of its dataclass (no re-composition: sweeps of thousands of values
    stay quick)."""
    old_v = OmegaConf.select(base, key, default="__missing__")
    if isinstance(old_v, str) and old_v == "__missing__":
        raise BadInput(f"{key}: unknown parameter (not in the config; see sim/params.py)")
    try:
        OmegaConf.update(base, key, value, merge=False)
        new_v = OmegaConf.select(base, key)
        if OmegaConf.is_config(new_v):
            new_v = OmegaConf.to_container(new_v, resolve=True)
    except Exception as exc:  # noqa: BLE001
        raise BadInput(f"{text}: {one_line(exc)}") from None
    finally:
        OmegaConf.update(base, key, old_v, merge=False)
    obj = copy.deepcopy(base_obj)
    _set_path(obj, key.split("."), new_v)
    with bad_input():
        check(obj)


def release_finished_models() -> int:
    """Drop finished models from mesa's per-model agent-id counters.

    mesa 3.3.1 keeps ``Agent._ids`` (a class-level dict keyed by model) for ever, so a process
    that runs many models one after another keeps every finished model alive (~36 MB per
    32,174-firm run; a long sweep worker runs out of memory). Models still running are kept."""
    from mesa.agent import Agent

    done = [m for m in list(Agent._ids) if not getattr(m, "running", True)]
    for m in done:
        del Agent._ids[m]
    return len(done)


# -- progress -----------------------------------------------------------------------------------
try:
    from hydra.experimental.callback import Callback
except ImportError:  # pragma: no cover
    Callback = object  # type: ignore


def count_complete(sweep_dir: Path) -> int:
    return sum(1 for _ in Path(sweep_dir).rglob("summary.json")) if Path(sweep_dir).is_dir() else 0


class SweepProgress(Callback):
    """A tqdm progress bar of a multirun: runs done/total and ETA (stderr)."""

    def __init__(self, interval_s: float = 0.5, total: int | None = None, **kwargs: Any) -> None:
        self.interval_s = interval_s
        self.total = total  # set by callers that launch an explicit job list (sim.sensitivity)
        self._stop = threading.Event()
        self._thread = None
        self._bar = None

    def __getstate__(self):  # launchers pickle the callbacks with the job: ship no thread or bar
        return {"interval_s": self.interval_s, "total": self.total}

    def __setstate__(self, state):
        self.__init__(**state)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from tqdm import tqdm

        hc = config.hydra
        task = list(hc.overrides.task)
        params = {str(k): str(v) for k, v in (OmegaConf.select(config, "hydra.sweeper.params") or {}).items()}
        try:
            total = self.total or n_jobs([f"{k}={v}" for k, v in params.items()] + _job_overrides(task))
        except Exception:  # noqa: BLE001 - the bar is a convenience; never stop a sweep for it
            total = None
        self._dir = Path(hc.sweep.dir)
        done = count_complete(self._dir)
        self._bar = tqdm(total=total, initial=min(done, total or done), desc="runs", unit="run",
                         file=sys.stderr, dynamic_ncols=True, mininterval=self.interval_s)
        self._bar.start_t = time.time()  # ETA from the runs done in this session
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _update(self) -> None:
        done = count_complete(self._dir)
        if self._bar.total is not None:
            done = min(done, self._bar.total)
        if done > self._bar.n:
            self._bar.update(done - self._bar.n)

    def _poll(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._update()

    def on_job_end(self, config: DictConfig, job_return: Any = None, **kwargs: Any) -> None:
        release_finished_models()  # in the worker that ran the job (see release_finished_models)
        write_job_fragment()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if self._bar is None:
            return
        self._stop.set()
        self._thread.join(timeout=5)
        self._update()
        self._bar.close()


def write_job_fragment() -> None:
    """In the worker that ran a sweep's job: the run's rows as one fragment of
    ``<sweep dir>/dataset/table=summary`` (:func:`sim.gather.write_run_fragment`), when the
    run folder is complete (a resumed run too: its fragment is rewritten from the folder)."""
    import logging

    from hydra.core.hydra_config import HydraConfig

    from .gather import DamagedRun, write_run_fragment
    from .results import is_complete

    try:
        hc = HydraConfig.get()
        out, sweep = Path(hc.runtime.output_dir), Path(hc.sweep.dir)
    except Exception:  # noqa: BLE001 - not inside a Hydra job (nothing to write)
        return
    if not is_complete(out) or sweep.resolve() not in out.resolve().parents:
        return
    try:
        write_run_fragment(out.resolve(), sweep.resolve())
    except (DamagedRun, OSError) as exc:  # the run folder stays the record; gather still reads it
        logging.getLogger("sim.sweep").warning("no dataset fragment for %s: %s", out, exc)


def markdown_table(df) -> str:
    """A pipe table of a DataFrame (numbers to 4 significant digits)."""
    import math

    def fmt(v):
        if isinstance(v, float):
            return "" if math.isnan(v) else f"{v:.4g}"
        return str(v)

    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


# -- named experiments ------------------------------------------------------------------------
#: outcome names an experiment may declare: columns of the gathered table (sim/gather.py)
OUTCOME_NAMES = ("emissions_t_co2", "scope1_t_co2", "scope2_t_co2", "energy_cost_saving_usd", "carbon_revenue_usd",
                 "adoptions", "installed_measures", "expiries", "spending_total_usd", "registry_coverage_share",
                 "assessments", "workshop_participants",
                 "consultants", "carbon_price_usd_per_t_co2", "run_cumulative_emissions_t_co2",
                 "run_public_spending_usd", "run_supported_adoptions",
                 "run_supported_viable_without_support_same_month_share")
OUTCOME_PATTERNS = (("adopted_share_", ""), ("aware_share_", ""), ("spending_", "_usd"), ("energy_", "_mwh"))


def _known_outcome(name: str) -> bool:
    return name in OUTCOME_NAMES or any(name.startswith(a) and name.endswith(b) and len(name) > len(a) + len(b)
                                        for a, b in OUTCOME_PATTERNS)


def check_experiment(cfg: DictConfig, params: dict[str, str]) -> None:
    """The declaration of ``hydra.callbacks.experiment`` must match the sweep: every swept key
    is a lever, an uncertainty or the replication key, and each declared one is swept."""
    decl = OmegaConf.select(cfg, "hydra.callbacks.experiment")
    if decl is None:
        return
    name = decl.get("name", "?")
    roles = {k: "lever" for k in decl.get("levers", []) or []}
    roles.update({k: "uncertainty" for k in decl.get("uncertainties", []) or []})
    rep = decl.get("replications")
    if rep:
        roles[rep] = "replications"
    for k in params:
        if k not in roles:
            raise BadInput(f"experiment {name}: hydra.sweeper.params.{k} is swept but not declared as a lever, uncertainty or replications")
    for k, role in roles.items():
        if k not in params:
            raise BadInput(f"experiment {name}: {role} {k!r} is declared but not in hydra.sweeper.params (swept: {', '.join(params) or 'nothing'})")
    outcomes = list(decl.get("outcomes", []) or [])
    if not outcomes:
        raise BadInput(f"experiment {name}: outcomes = []: declare at least one outcome (e.g. {OUTCOME_NAMES[0]})")
    for o in outcomes:
        if not _known_outcome(o):
            raise BadInput(f"experiment {name}: outcome {o!r} unknown; allowed: {', '.join(OUTCOME_NAMES)}, "
                             "adopted_share_<measure>, aware_share_<measure>, spending_<instrument>_usd, energy_<carrier>_mwh")


def outcome_table(table, levers, uncertainties, replications, outcomes, year=None):
    """Mean and 95 % interval (normal approximation over replications) of each outcome in
    ``year`` (default: the last year) for each combination of levers and uncertainties."""
    import numpy as np
    import pandas as pd

    year = int(table["year"].max()) if year is None else year
    t = table[table["year"] == year]
    by = [c for c in list(levers) + list(uncertainties) if c in t.columns]
    rows = []
    groups = t.groupby(by, sort=True, dropna=False) if by else [((), t)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key))
        row["replications"] = int(g[replications].nunique()) if replications in g else len(g)
        for o in outcomes:
            x = pd.to_numeric(g[o], errors="coerce").dropna().to_numpy(dtype=float)
            m = float(x.mean()) if len(x) else np.nan
            half = 1.96 * float(x.std(ddof=1)) / np.sqrt(len(x)) if len(x) > 1 else np.nan
            row[o] = m
            row[f"{o}_ci95"] = half
        rows.append(row)
    out = pd.DataFrame(rows)
    out.insert(0, "year", year)
    return out


class Experiment(Callback):
    """A named experiment's declaration (``hydra.callbacks.experiment`` in
    ``experiments/experiment/<name>.yaml``): what it varies and what it reports.

    On start it records the declaration in ``<sweep dir>/experiment.yaml``; at the end it
    gathers every complete run into ``<sweep dir>/gathered.parquet`` and writes
    ``<sweep dir>/outcomes.parquet`` and ``outcomes.md``: each declared outcome in the last
    simulated year by levers x uncertainties, mean and 95 % interval across replications."""

    def __init__(self, name: str, description: str = "", levers=(), uncertainties=(), replications: str = "seed",
                 outcomes=(), **kwargs: Any) -> None:
        self.name, self.description = name, description
        self.levers, self.uncertainties = list(levers), list(uncertainties)
        self.replications, self.outcomes = replications, list(outcomes)

    def __getstate__(self):
        return dict(self.__dict__)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        import yaml

        from .results import _atomic_write_bytes

        d = Path(config.hydra.sweep.dir)
        d.mkdir(parents=True, exist_ok=True)
        decl = {"name": self.name, "description": self.description, "levers": self.levers,
                "uncertainties": self.uncertainties, "replications": self.replications, "outcomes": self.outcomes,
                "sweep": {str(k): str(v) for k, v in (OmegaConf.select(config, "hydra.sweeper.params") or {}).items()},
                "overrides": list(config.hydra.overrides.task)}
        _atomic_write_bytes(d / "experiment.yaml", lambda p: p.write_text(yaml.safe_dump(decl, sort_keys=False)))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        import logging

        from .gather import gather
        from .results import _atomic_write_bytes

        log = logging.getLogger("sim.sweep")
        d = Path(config.hydra.sweep.dir)
        try:
            table = gather(d)
        except BadInput as exc:
            log.error("experiment %s: %s", self.name, exc)
            return
        _atomic_write_bytes(d / "gathered.parquet", lambda p: table.to_parquet(p, index=False))
        out = outcome_table(table, self.levers, self.uncertainties, self.replications, self.outcomes)
        _atomic_write_bytes(d / "outcomes.parquet", lambda p: out.to_parquet(p, index=False))
        md = (f"# {self.name}\n\n{self.description}\n\n{table['run'].nunique()} complete runs; "
              f"outcomes in {int(out['year'].iloc[0])}, mean and 95 % interval half-width across {self.replications}.\n\n"
              + markdown_table(out) + "\n")
        _atomic_write_bytes(d / "outcomes.md", lambda p: p.write_text(md))
        log.info("experiment %s: %d runs -> %s, %s", self.name, table["run"].nunique(), d / "gathered.parquet", d / "outcomes.md")


# -- many seeds per worker process ------------------------------------------------------------
def _seed_chunk(overrides: list[str], seeds: list[int], out_root: str, dataset: bool = False) -> list[str]:
    """Run ``seeds`` of one configuration in this process: composed once, then one
    ``run_model`` per seed (no per-run Hydra composition or process start). With ``dataset``
    each run's rows also land as one fragment of ``<out_root>/dataset/table=summary``."""
    import logging

    from .gather import DATASET_DIR, has_fragment, write_run_fragment

    from .job import run_model
    from .results import is_complete, write_run

    logging.getLogger("MESA").setLevel(logging.WARNING)
    base, resolved_of, config_of = _composed(overrides, dataset)
    done = []
    for s in seeds:
        d = Path(out_root) / f"seed={s}"
        resolved = resolved_of(s)
        if not (is_complete(d) and (d / "config.yaml").exists() and (d / "config.yaml").read_text() == resolved):
            c = copy.deepcopy(base)
            c.seed = s
            write_run(d, run_model(c), resolved)
            release_finished_models()
            if dataset:
                write_run_fragment(d, Path(out_root), config_of(s))
        elif dataset and not has_fragment(Path(out_root) / DATASET_DIR, "summary", f"seed={s}"):
            write_run_fragment(d, Path(out_root))  # a run completed before its fragment was written
        done.append(str(d))
    return done


#: a sweep worker's last composition, {"key": ..., "made": ...} (``worker_init`` makes it; a
#: worker lives for one sweep, whose config files do not change under it); None elsewhere
_worker_composed: dict | None = None


def _composed(overrides: list[str], dataset: bool):
    """(typed config of seed 0, ``seed -> resolved YAML``, ``seed -> parsed config`` or None)
    of ``overrides``; a sweep worker composes them once for all its tasks (a 1,000-run sweep
    in tasks of 10 seeds composed 100 times, ~0.26 s of CPU each)."""
    key = (tuple(o for o in overrides if not o.startswith("seed=")), dataset)
    kept = _worker_composed
    if kept is not None and kept.get("key") == key:
        return kept["made"]
    cfg, base = load_both(list(key[0]) + ["seed=0"])
    resolved_of = resolved_yaml_by_seed(cfg)
    made = (base, resolved_of, parsed_by_seed(resolved_of) if dataset else None)
    if kept is not None:
        kept.update(key=key, made=made)
    return made


def resolved_yaml_by_seed(cfg: DictConfig):
    """``seed -> OmegaConf.to_yaml(cfg with that seed, resolve=True)``, resolving ``cfg`` once:
    the top-level ``seed:`` line is the only one a seed changes (no key interpolates the seed;
    else each seed is resolved in full)."""
    import re

    def full(s: int) -> str:
        c = copy.deepcopy(cfg)
        c.seed = s
        return OmegaConf.to_yaml(c, resolve=True)

    probe = [full(s) for s in (0, 1)]
    line = re.compile(r"^seed: .*$", re.M)
    if line.sub("seed: 1", probe[0], count=1) != probe[1]:
        return full
    return lambda s: line.sub(f"seed: {int(s)}", probe[0], count=1)


def parsed_by_seed(resolved_of):
    """``seed -> dict``: the resolved YAML of ``resolved_of(seed)`` parsed as
    :func:`sim.gather.read_config` parses a run's ``config.yaml``; parsed once, with the seed
    set, when seeds 0 and 1 parse to the same mapping but for ``seed`` (else each in full)."""
    parse = lambda s: safe_load_yaml(resolved_of(s))  # noqa: E731
    first = parse(0)
    if not (isinstance(first, dict) and parse(1) == {**first, "seed": 1}):
        return parse
    return lambda s: {**first, "seed": int(s)}


def worker_init() -> None:
    """A local worker process (sweeps, design searches): one BLAS thread -- the worker
    processes are the parallelism; 2 workers x 2 OpenBLAS threads on 2 cores ran ~3x slower.
    Its tasks of one sweep compose their configuration once (``_composed``). The engine's own
    threads (``sim/parallel.py``, populations of 100,000 firms and more) are off too, unless
    ``SIM_ENGINE_THREADS`` is set."""
    import os

    from threadpoolctl import threadpool_limits

    global _worker_composed
    threadpool_limits(1)
    os.environ.setdefault("SIM_ENGINE_THREADS", "1")
    _worker_composed = {}  # (its tasks share one composition: ``_composed``)


def run_seeds(overrides: list[str], seeds: list[int], out_root: Path, jobs: int = 2, chunk: int = 5,
              progress: bool = True) -> list[Path]:
    """Run one configuration under many seeds on ``jobs`` local worker processes, ``chunk``
    seeds per task; each run writes ``<out_root>/seed=<s>`` (complete runs with the same
    config are kept: resumable) and its rows as one fragment of ``<out_root>/dataset``. Same
    folders and results as a Hydra sweep over ``seed``."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm import tqdm

    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    chunks = [seeds[i:i + chunk] for i in range(0, len(seeds), chunk)]
    bar = tqdm(total=len(seeds), desc="runs", unit="run", file=sys.stderr, disable=not progress)
    out: list[Path] = []
    with ProcessPoolExecutor(max_workers=jobs, initializer=worker_init) as ex:
        futs = [ex.submit(_seed_chunk, list(overrides), c, str(out_root), True) for c in chunks]
        for f in as_completed(futs):
            r = f.result()
            out += [Path(p) for p in r]
            bar.update(len(r))
    bar.close()
    return sorted(out)
