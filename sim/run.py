"""One run, or a Hydra multirun, from the command line.

    python -m sim.run scenario=mx_cluster policy=incentive_package seed=1 n_firms=5000
    python -m sim.run --multirun policy=none,incentive_package seed=0,1,2

``run_model(config)`` (:mod:`sim.job`) is the one pure entry point every caller (CLI, sweeps,
tests, notebooks, the app) uses. Before Hydra creates any folder, every run of the command is
composed and checked (:mod:`sim.compose`); a bad value prints one line naming the key, the
value and what is allowed, and exits with code 2. The output folder is checked too (not an
existing file, not under a file, on a writable file system, inside its results root, room for
the run's tables): a bad folder is bad input (exit 2, nothing created); too little free space
is a fault (exit 1, nothing created).

Exit codes: 0 done; 2 bad input (nothing created); 1 a fault while running or writing (disk
full, I/O error): one line on stderr naming the folder (a sweep: one summary line naming the
failed runs, the other runs finished), and no failed folder looks complete (no
``summary.json``; re-running the same command completes what is missing).
"""
from __future__ import annotations

import gc

if __name__ == "__main__":
    # ``python -m sim.run``: no cyclic garbage collection while the command starts up (imports,
    # composing and checking the configuration allocate ~10^6 objects, ~28,000 of them cyclic
    # garbage; the collector's passes over the growing heap cost ~0.1-0.2 s of CPU of a run on
    # a 2-core AMD EPYC). :func:`resume_gc` turns it back on before any run starts.
    gc.disable()
    # Mesa 3.3's ``mesa/model.py`` names its logger with ``inspect.stack()`` at import, whose
    # cost grows with the stack's depth times the number of loaded modules (CPython issue
    # 92041): ~0.025 s here, first thing, ~0.05 s when the model's module pulls it in under
    # the run's deep stack with ~1,500 modules loaded (-X importtime). Every run needs it.
    import sim  # noqa: F401 - sim's lazy ``mesa`` package: mesa.model without Mesa's __init__
    import mesa.model  # noqa: F401

import copy
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf, open_dict

from .compose import (CONFIG_DIR, EXPERIMENTS_DIR, REPO_DIR, SEARCHPATH_OVERRIDE, BadInput,  # noqa: F401
                      compose, expand_overrides, load, report_bad_input, resolved_yaml, with_searchpath)
from .job import run_model  # noqa: F401 - the entry point, also importable from here
from .outputs import check_run_dir, run_dir  # noqa: F401 - run_dir: also importable from here
from .params import register_configs

log = logging.getLogger("sim.run")

#: Hydra's flags (not overrides); those in _FLAGS_WITH_VALUE take the next argument, ``--info``
#: takes it if it is one of _INFO_CHOICES (hydra/_internal/utils.py, get_args_parser)
_FLAGS = {"-m", "--multirun", "--info", "-i", "--help", "-h", "--hydra-help", "--version", "--resolve", "--shell-completion",
          "-sc", "--run", "-r"}
_FLAGS_WITH_VALUE = ("--config-name", "-cn", "--config-path", "-cp", "--config-dir", "-cd", "--cfg", "-c", "--package", "-p",
                     "--experimental-rerun")
_INFO_CHOICES = ("all", "config", "defaults", "defaults-tree", "plugins", "searchpath")


# -- pre-flight: compose and validate every run before Hydra starts ----------------------------
class Job:
    """One job of a single-run command, composed once and checked once by :func:`preflight`:
    ``hcfg`` the config with its ``hydra`` node, ``cfg`` the task's config (without it), ``typed``
    the checked :class:`~sim.params.Config`, ``out`` its run folder."""

    def __init__(self, overrides, hcfg, cfg, typed, out):
        self.overrides, self.hcfg, self.cfg, self.typed, self.out = overrides, hcfg, cfg, typed, out


#: typed configs :func:`preflight` checked, by their resolved YAML: :func:`task` reuses the one
#: of an unchanged config instead of converting and validating it again
_checked: dict[str, object] = {}
#: the resolved YAML of each prepared job's config (by ``id``): :func:`task` of a direct run
#: does not render it a second time (~0.1 s for a scenario's config)
_resolved_yaml: dict[int, str] = {}


def _override_positions(argv: list[str]) -> list[int]:
    """Indices of the overrides in ``argv`` (not flags, not a flag's value)."""
    out, skip_next = [], False
    for i, a in enumerate(argv):
        if skip_next:
            skip_next = False
            continue
        if a in _FLAGS_WITH_VALUE:
            skip_next = True
            continue
        if a in ("--info", "-i") and i + 1 < len(argv) and argv[i + 1] in _INFO_CHOICES:
            skip_next = True
            continue
        if a in _FLAGS or a.startswith("-"):
            continue
        out.append(i)
    return out


def _overrides_of(argv: list[str]) -> list[str]:
    return [argv[i] for i in _override_positions(argv)]


def _add_override(override: str) -> None:
    """Add ``override`` to ``sys.argv`` next to the user's overrides (Hydra's parser takes one
    run of them: appended after a trailing flag -- ``a=1 --cfg job``, ``a=1,2 -m``, ``--info`` --
    it would be refused or taken as the flag's value)."""
    positions = _override_positions(sys.argv[1:])
    sys.argv.insert(positions[-1] + 2 if positions else 1, override)


def prepare_job(overrides: list[str]) -> Job:
    """Compose one job once (with its ``hydra`` node: the run folder), check it once; raise
    :class:`BadInput` on a bad value or folder, :class:`~sim.results.OutputFault` on too little
    free space."""
    from .compose import bad_input, check
    from .outputs import output_dir_of
    from .params import to_config

    with bad_input():
        hcfg = compose(list(overrides), return_hydra_config=True)
        cfg = copy.deepcopy(hcfg)  # the task's config: what Hydra's run_job passes (no hydra node)
        with open_dict(cfg):
            del cfg["hydra"]
        typed = check(to_config(cfg))
    out = output_dir_of(hcfg, "run.dir")
    check_run_dir(out.path, out.root, out.pattern_keys)
    from .results import check_free_space

    check_free_space(out.path, typed)  # OutputFault: exit 1, nothing created
    resolved = resolved_yaml(cfg)
    _checked[resolved] = typed
    _resolved_yaml[id(cfg)] = resolved  # the Job keeps cfg alive: the id is not reused meanwhile
    return Job(list(overrides), hcfg, cfg, typed, out.path)


def preflight(argv: list[str], prepared: list | None = None) -> int:
    """Compose and check every job of the command line; raise :class:`BadInput` on the first
    bad one (a multirun: :func:`sim.sweep.preflight_sweep`), including its output folder
    (:func:`sim.outputs.check_run_dir`; too little free space raises
    :class:`~sim.results.OutputFault`). Each job is composed once (with its ``hydra`` node) and
    checked once; the :class:`Job` objects are appended to ``prepared``. Returns the number of runs."""
    overrides = _overrides_of(argv)
    if "-m" in argv or "--multirun" in argv:  # sweeps: experiment params, every axis value, the launcher
        from .sweep import preflight_sweep

        return preflight_sweep(overrides)
    hydra_overrides = [o for o in overrides if o.startswith("hydra.") or o.startswith("hydra/")]
    jobs = expand_overrides(overrides)
    for job in jobs:
        j = prepare_job(job + hydra_overrides)
        if prepared is not None:
            prepared.append(j)
    return len(jobs)


# -- the Hydra task --------------------------------------------------------------------------
#: env var naming a folder where tasks (in this process or launcher workers) note failed runs
FAILURES_ENV = "SIM_RUN_FAILURES_DIR"
_failures: list[tuple[str, str]] = []


def record_failure(out: Path, reason: str) -> None:
    """Note a failed run (its folder and one line) for :func:`main`'s report; in a worker
    process through a file in ``$SIM_RUN_FAILURES_DIR``."""
    _failures.append((str(out), reason))
    d = os.environ.get(FAILURES_ENV)
    if d:
        try:
            with open(Path(d) / f"{os.getpid()}-{time.monotonic_ns()}.txt", "w") as fh:
                fh.write(f"{out}\t{reason}\n")
        except OSError:
            pass


def _reason(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return "out of memory"
    if isinstance(exc, OSError):
        from .results import OutputFault

        if isinstance(exc, OutputFault):
            return str(exc)
        what = exc.strerror or str(exc) or type(exc).__name__
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{what}{where}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def task(cfg: DictConfig) -> None:
    """Run and write one job. A fault (disk full, I/O error, out of memory) is noted
    (:func:`record_failure`), leaves no complete-looking folder and does not raise: a sweep
    finishes its other runs; :func:`main` reports and exits 1."""
    from hydra.core.hydra_config import HydraConfig

    from .results import check_free_space, is_complete, remove_if_empty, write_run

    logging.getLogger("MESA").setLevel(logging.WARNING)
    out = Path(HydraConfig.get().runtime.output_dir)
    try:
        resolved = _resolved_yaml.pop(id(cfg), None) or resolved_yaml(cfg)
        if is_complete(out) and (out / "config.yaml").exists() and (out / "config.yaml").read_text() == resolved:
            log.info("%s: complete, skipped", out)
            return
        typed = _checked.pop(resolved, None)  # checked by the preflight of this process: not again
        check_free_space(out, cfg)  # before simulating: a full disk fails in a second, not after the run
        t0 = time.perf_counter()
        label = f"{cfg.scenario.name}/{cfg.policy.name}/seed={cfg.seed}"

        def progress(year, model):
            log.info("%s: %d done (%.1f Mt CO2/yr)", label, year, model.registry.totals()[year - model.start_year] / 1e6)

        results = run_model(cfg if typed is None else typed, progress=progress, **_snapshot_request(out, cfg))
        write_run(out, results, resolved)
    except (OSError, MemoryError) as exc:
        remove_if_empty(out)
        record_failure(out, _reason(exc))
        log.warning("run failed: %s", _reason(exc))
        return
    log.info("%s: wrote %s in %.1f s", label, out, time.perf_counter() - t0)
    for line in summary_lines(results.summary):
        log.info("%s: %s", label, line)


def failure_line(failures: list[tuple[str, str]], n_runs: int | None, multirun: bool) -> str:
    """The one line of a command whose runs failed."""
    if not multirun and len(failures) == 1:
        out, reason = failures[0]
        return reason if reason.startswith(out) else f"{out}: {reason}"
    dirs = "; ".join(r if r.startswith(o) else f"{o} ({r})" for o, r in failures)
    of = f" of {n_runs}" if n_runs else ""
    return f"{len(failures)}{of} runs failed: {dirs}; re-run the same command to complete them"


def summary_lines(summary: dict) -> list[str]:
    """The printed summary of a run: emissions, public spending, and each programme actor's
    headline indicators (``summary["programmes"][name]["headline"]``)."""
    em = summary.get("emissions_t_co2_by_year", {})
    lines = []
    if em:
        y0, y1 = min(em), max(em)
        from .evaluation.labels import run_label

        lines.append(f"emissions {y0}: {em[y0] / 1e6:.4g} Mt CO2, {y1}: {em[y1] / 1e6:.4g} Mt CO2; "
                     f"adoptions {summary.get('adoptions', 0)}; public spending US$ {summary.get('public_spending_usd', 0.0):,.0f}"
                     f" ({run_label(summary)})")
    for name, prog in summary.get("programmes", {}).items():
        head = prog.get("headline") if isinstance(prog, dict) else None
        if head is None and isinstance(prog, dict):
            head = {k: v for k, v in prog.items() if isinstance(v, (int, float, str, bool)) or v is None}
        items = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in (head or {}).items())
        lines.append(f"{name}: {items}")
    return lines


# -- a single run without a second composition ----------------------------------------------
#: Hydra overrides a single run may carry and still be run directly (:func:`run_direct`)
_DIRECT_HYDRA_KEYS = ("hydra.run.dir=", "hydra.searchpath=")


def direct_ok(argv: list[str], job: Job) -> bool:
    """Whether ``job`` (the one job of a non-multirun command) can be run by :func:`run_direct`
    with exactly what ``hydra.main`` would do: no Hydra flags (``--cfg``, ``--help``...), no Hydra
    overrides but the run folder and search path, and a composed ``hydra`` node that asks for
    nothing more than a folder and stdout logging (no ``.hydra/`` subfolder, no chdir, no
    callbacks, no environment, no log file, not a multirun mode)."""
    if any(a.startswith("-") for a in argv):
        return False
    if any(o.startswith("hydra") and not o.startswith(_DIRECT_HYDRA_KEYS) for o in job.overrides):
        return False
    h = job.hcfg.hydra
    handlers = OmegaConf.to_container(h.job_logging, resolve=False).get("handlers") or {} if h.job_logging else {}
    return (h.output_subdir is None and not h.job.chdir and not h.callbacks and not h.job.env_set
            and str(h.mode) in ("None", "RunMode.RUN") and not any("filename" in (v or {}) for v in handlers.values()))


def run_direct(job: Job) -> None:
    """Run ``job`` as ``hydra.main``'s single run does (Hydra's ``run_job``: the runtime output
    folder in :class:`HydraConfig`, the folder created, the job's logging configured, then
    :func:`task` with the config without its ``hydra`` node), from the preflight's one
    composition and its checked config. An error other than a fault is reported as Hydra does
    (the traceback, exit code 1)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.core.utils import configure_log
    from omegaconf import read_write

    hcfg = job.hcfg
    HydraConfig.instance().set_config(hcfg)
    out = str(OmegaConf.select(hcfg, "hydra.run.dir"))
    with read_write(hcfg.hydra.runtime), open_dict(hcfg.hydra.runtime):
        hcfg.hydra.runtime.output_dir = os.path.abspath(out)
    HydraConfig.instance().set_config(hcfg)
    Path(out).mkdir(parents=True, exist_ok=True)
    configure_log(hcfg.hydra.job_logging, hcfg.hydra.verbose)
    try:
        task(job.cfg)
    except Exception:  # noqa: BLE001 - as Hydra's run_and_report: the error and exit code 1
        import traceback

        print(f"Error executing job with overrides: {job.overrides}", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)


def posterior_main(argv: list[str]) -> int:
    """``--posterior FILE [--draws N] [--jobs N]``: the command's one configuration run once
    per posterior draw (:func:`sim.posterior.run_draws`: draw i with seed ``seed + i``, folders
    ``<run dir>/posterior/draw_<i>/seed=<s>``, N local worker processes), headline numbers
    with their 90 % interval across draws."""
    from .posterior import run_draws

    def take(flag, default=None):
        if flag not in argv:
            return default
        i = argv.index(flag)
        if i + 1 >= len(argv) or argv[i + 1].startswith("-"):
            raise BadInput(f"{flag}: needs a value")
        value = argv[i + 1]
        del argv[i:i + 2]
        return value

    path = take("--posterior")
    draws, jobs = take("--draws", "20"), take("--jobs", "2")
    for flag, v in (("--draws", draws), ("--jobs", jobs)):
        if not v.isdigit() or int(v) < 1:
            raise BadInput(f"{flag} = {v!r}: an integer >= 1")
    if "-m" in argv or "--multirun" in argv or any(a.startswith("-") for a in argv):
        raise BadInput("--posterior: runs one configuration over posterior draws; no --multirun or other flags")
    overrides = _overrides_of(argv)
    config = [o for o in overrides if not o.startswith(("hydra.", "hydra/"))]
    job = prepare_job(config + [o for o in overrides if o.startswith(("hydra.run.dir=", "hydra.searchpath="))])  # checked once
    seed = int(job.typed.seed)
    res = run_draws(config, path, int(draws), job.out / "posterior", seed=seed, jobs=int(jobs))
    for k, v in res["headline"].items():
        print(f"{k}: mean {v['mean']:,.4g}, 90 % interval [{v['q05']:,.4g}, {v['q95']:,.4g}] over {v['n']} posterior draws")
    print(f"Written: {job.out / 'posterior' / 'posterior_runs.json'}")
    return 0


#: env var carrying ``snapshot_at=YEAR`` to the task (in this process or launcher workers)
SNAPSHOT_ENV = "SIM_RUN_SNAPSHOT_AT"


def _snapshot_request(out: Path, cfg) -> dict:
    """``run_model``'s pause arguments that write ``<out>/snapshot-YEAR.simsnap`` at the start of
    the year of ``snapshot_at=YEAR`` (none without it)."""
    snap = os.environ.get(SNAPSHOT_ENV)
    if not snap:
        return {}
    from hydra.core.hydra_config import HydraConfig

    from .snapshot import save, snapshot_month

    year, overrides = int(snap), list(HydraConfig.get().overrides.task)
    return dict(pause_at_month=snapshot_month(int(cfg.start_year), year),
                at_pause=lambda model: save(model, out / f"snapshot-{year}.simsnap", overrides))


def _take_snapshot_arg(argv: list[str]) -> int | None:
    """Remove ``snapshot_at=YEAR`` (not a config key: a request to write the run's state at the
    start of YEAR, :mod:`sim.snapshot`) from ``argv`` and ``sys.argv``; BadInput if not a year."""
    found = [a for a in argv if a.startswith("snapshot_at=")]
    if not found:
        return None
    for a in found:
        argv.remove(a)
        if a in sys.argv:
            sys.argv.remove(a)
    value = found[-1].split("=", 1)[1]
    if not value.strip().lstrip("-").isdigit():
        raise BadInput(f"snapshot_at = {value!r}: a year (the snapshot is the state at the start of that year)")
    return int(value)


def _check_snapshot_year(year: int, jobs: list) -> None:
    for j in jobs:
        lo, hi = j.typed.start_year, j.typed.end_year
        if not lo <= year <= hi:
            raise BadInput(f"snapshot_at = {year}: must be a year of the run ({lo} to {hi})")


#: whether the cyclic garbage collector is off for the command's start-up (``python -m sim.run``)
_gc_paused = False


def resume_gc() -> None:
    """Turn the garbage collector back on after the start-up (if :func:`main` was told it is
    off). What the start-up allocated is frozen (never scanned again) rather than collected:
    modules and the configuration live to the end anyway, and its cyclic garbage (a few MB)
    is not worth a full collection (~0.07 s)."""
    global _gc_paused
    if _gc_paused:
        _gc_paused = False
        gc.freeze()
        gc.enable()


#: Hydra's modes: at most one per command (hydra/_internal/utils.py, _run_hydra)
_MODES = (("--run", "-r"), ("--multirun", "-m"), ("--cfg", "-c"), ("--info", "-i"), ("--shell-completion", "-sc"))


def _check_modes(argv: list[str]) -> None:
    """BadInput for two of Hydra's modes in one command (Hydra raises a ValueError with a traceback)."""
    given = [m[0] for m in _MODES if any(a in m for a in argv)]
    if len(given) > 1:
        raise BadInput(f"{' and '.join(given)}: only one of --run, --multirun, --cfg, --info and --shell-completion "
                       "can be given")


def main(gc_paused: bool = False) -> None:
    """The command. ``gc_paused``: the caller turned the cyclic garbage collector off for the
    start-up (``python -m sim.run`` does); it is turned back on (:func:`resume_gc`) before the
    first run, or Hydra, starts."""
    global _gc_paused
    _gc_paused = gc_paused
    argv = sys.argv[1:]
    if "--posterior" in argv:  # runs over a calibration's posterior draws (sim.posterior)
        resume_gc()
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
        logging.getLogger("MESA").setLevel(logging.WARNING)
        sys.exit(report_bad_input(posterior_main, list(argv)))
    snapshot_at: list[int | None] = []
    if report_bad_input(lambda: snapshot_at.append(_take_snapshot_arg(argv))) or report_bad_input(lambda: _check_modes(argv)):
        sys.exit(2)
    if "scenario=list" in argv:
        from .scenarios import main as list_main

        sys.exit(list_main())
    if not any(a.startswith("hydra.searchpath=") for a in argv) and EXPERIMENTS_DIR.is_dir():
        _add_override(SEARCHPATH_OVERRIDE)
    if ("-m" in argv or "--multirun" in argv) and not any(a.startswith("hydra/launcher=") for a in argv):
        argv.append("hydra/launcher=local")  # sweeps: parallel local processes + progress bar
        _add_override("hydra/launcher=local")
    from .results import OutputFault

    n_runs: list[int] = []
    prepared: list[Job] = []
    try:
        if report_bad_input(lambda: n_runs.append(preflight(argv, prepared))):
            sys.exit(2)
        if snapshot_at[0] is not None and report_bad_input(lambda: _check_snapshot_year(snapshot_at[0], prepared)):
            sys.exit(2)
    except OutputFault as exc:  # e.g. no room for the tables: a fault, nothing created
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    multirun = "-m" in argv or "--multirun" in argv
    # one run: its composition and checked config from the preflight (composed once, checked
    # once); anything else Hydra needs to do itself (flags, sweeps, .hydra/, callbacks...): hydra.main
    direct = not multirun and len(prepared) == 1 and direct_ok(argv, prepared[0])
    if snapshot_at[0] is not None:
        os.environ[SNAPSHOT_ENV] = str(snapshot_at[0])
    with tempfile.TemporaryDirectory(prefix="sim-run-failures-") as fdir:
        os.environ[FAILURES_ENV] = fdir
        try:
            resume_gc()
            if direct:
                run_direct(prepared[0])
            else:
                import hydra

                register_configs()
                hydra.main(config_path=CONFIG_DIR, config_name="config", version_base="1.3")(task)()
        finally:
            os.environ.pop(FAILURES_ENV, None)
            os.environ.pop(SNAPSHOT_ENV, None)
        failures = dict(_failures)
        for f in sorted(Path(fdir).glob("*.txt")):
            for line in f.read_text().splitlines():
                out, _, reason = line.partition("\t")
                failures.setdefault(out, reason)
    if failures:
        print(f"error: {failure_line(sorted(failures.items()), n_runs[0] if n_runs else None, multirun)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    from sim.run import main as _main  # one module instance

    _main(gc_paused=not gc.isenabled())
    if not ("-m" in sys.argv or "--multirun" in sys.argv):
        # a finished single run: every file is written and fsynced; skip the interpreter's
        # teardown (freeing every module and the model: ~0.5 s of a 32,174-firm run)
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
