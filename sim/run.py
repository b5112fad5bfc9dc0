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

import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from .compose import (CONFIG_DIR, EXPERIMENTS_DIR, REPO_DIR, SEARCHPATH_OVERRIDE, BadInput,  # noqa: F401
                      compose, expand_overrides, load, report_bad_input, with_searchpath)
from .job import run_model  # noqa: F401 - the entry point, also importable from here
from .outputs import check_run_dir, run_dir
from .params import register_configs

log = logging.getLogger("sim.run")

#: Hydra's flags (not overrides); those in _FLAGS_WITH_VALUE take the next argument
_FLAGS = {"-m", "--multirun", "--info", "--help", "-h", "--hydra-help", "--version", "--resolve", "--shell-completion", "-sc"}
_FLAGS_WITH_VALUE = ("--config-name", "-cn", "--config-path", "-cp", "--config-dir", "-cd", "--cfg", "-c", "--package", "-p")


# -- pre-flight: compose and validate every run before Hydra starts ----------------------------
def preflight(argv: list[str]) -> int:
    """Compose and check every job of the command line; raise :class:`BadInput` on the first
    bad one (a multirun: :func:`sim.sweep.preflight_sweep`), including its output folder
    (:func:`sim.outputs.check_run_dir`; too little free space raises
    :class:`~sim.results.OutputFault`). Returns the number of runs."""
    overrides, skip_next = [], False
    for a in argv:
        if skip_next:
            skip_next = False
            continue
        if a in _FLAGS_WITH_VALUE:
            skip_next = True
            continue
        if a in _FLAGS or a.startswith("-"):
            continue
        overrides.append(a)
    if "-m" in argv or "--multirun" in argv:  # sweeps: experiment params, every axis value, the launcher
        from .sweep import preflight_sweep

        return preflight_sweep(overrides)
    hydra_overrides = [o for o in overrides if o.startswith("hydra.") or o.startswith("hydra/")]
    jobs = expand_overrides(overrides)
    for job in jobs:
        cfg = load(job)
        out = run_dir(job + hydra_overrides)
        check_run_dir(out.path, out.root, out.pattern_keys)
        from .results import check_free_space

        check_free_space(out.path, cfg)  # OutputFault: exit 1, nothing created
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
        resolved = OmegaConf.to_yaml(cfg, resolve=True)
        if is_complete(out) and (out / "config.yaml").exists() and (out / "config.yaml").read_text() == resolved:
            log.info("%s: complete, skipped", out)
            return
        check_free_space(out, cfg)  # before simulating: a full disk fails in a second, not after the run
        t0 = time.perf_counter()
        label = f"{cfg.scenario.name}/{cfg.policy.name}/seed={cfg.seed}"

        def progress(year, model):
            log.info("%s: %d done (%.1f Mt CO2/yr)", label, year, model.registry.totals()[year - model.start_year] / 1e6)

        results = run_model(cfg, progress=progress)
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
        lines.append(f"emissions {y0}: {em[y0] / 1e6:.4g} Mt CO2, {y1}: {em[y1] / 1e6:.4g} Mt CO2; "
                     f"adoptions {summary.get('adoptions', 0)}; public spending US$ {summary.get('public_spending_usd', 0.0):,.0f}")
    for name, prog in summary.get("programmes", {}).items():
        head = prog.get("headline") if isinstance(prog, dict) else None
        if head is None and isinstance(prog, dict):
            head = {k: v for k, v in prog.items() if isinstance(v, (int, float, str, bool)) or v is None}
        items = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in (head or {}).items())
        lines.append(f"{name}: {items}")
    return lines


def main() -> None:
    import hydra

    argv = sys.argv[1:]
    if "scenario=list" in argv:
        from .scenarios import main as list_main

        sys.exit(list_main())
    if not any(a.startswith("hydra.searchpath=") for a in argv) and EXPERIMENTS_DIR.is_dir():
        sys.argv.append(SEARCHPATH_OVERRIDE)
    if ("-m" in argv or "--multirun" in argv) and not any(a.startswith("hydra/launcher=") for a in argv):
        argv.append("hydra/launcher=local")  # sweeps: parallel local processes + progress bar
        sys.argv.append("hydra/launcher=local")
    from .results import OutputFault

    n_runs: list[int] = []
    try:
        if report_bad_input(lambda: n_runs.append(preflight(argv))):
            sys.exit(2)
    except OutputFault as exc:  # e.g. no room for the tables: a fault, nothing created
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    register_configs()
    multirun = "-m" in argv or "--multirun" in argv
    with tempfile.TemporaryDirectory(prefix="sim-run-failures-") as fdir:
        os.environ[FAILURES_ENV] = fdir
        try:
            hydra.main(config_path=CONFIG_DIR, config_name="config", version_base="1.3")(task)()
        finally:
            os.environ.pop(FAILURES_ENV, None)
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

    _main()
