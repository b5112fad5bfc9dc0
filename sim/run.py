"""One run, or a Hydra multirun, from the command line.

    python -m sim.run scenario=mx_cluster policy=incentive_package seed=1 n_firms=5000
    python -m sim.run --multirun policy=none,incentive_package seed=0,1,2

``run_model(config)`` (:mod:`sim.job`) is the one pure entry point every caller (CLI, sweeps,
tests, notebooks, the app) uses. Before Hydra creates any folder, every run of the command is
composed and checked (:mod:`sim.compose`); a bad value prints one line naming the key, the
value and what is allowed, and exits with code 2.
"""
from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from .compose import (CONFIG_DIR, EXPERIMENTS_DIR, REPO_DIR, SEARCHPATH_OVERRIDE, BadInput,  # noqa: F401
                      compose, expand_overrides, load, report_bad_input, with_searchpath)
from .job import run_model  # noqa: F401 - the entry point, also importable from here
from .params import register_configs

log = logging.getLogger("sim.run")

#: Hydra's flags (not overrides); those in _FLAGS_WITH_VALUE take the next argument
_FLAGS = {"-m", "--multirun", "--info", "--help", "-h", "--hydra-help", "--version", "--resolve", "--shell-completion", "-sc"}
_FLAGS_WITH_VALUE = ("--config-name", "-cn", "--config-path", "-cp", "--config-dir", "-cd", "--cfg", "-c", "--package", "-p")


# -- pre-flight: compose and validate every run before Hydra starts ----------------------------
def preflight(argv: list[str]) -> None:
    """Compose and check every job of the command line; raise :class:`BadInput` on the first
    bad one (a multirun: :func:`sim.sweep.preflight_sweep`)."""
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

        preflight_sweep(overrides)
        return
    for job in expand_overrides(overrides):
        load(job)


# -- the Hydra task --------------------------------------------------------------------------
def task(cfg: DictConfig) -> None:
    from hydra.core.hydra_config import HydraConfig

    from .results import is_complete, write_run

    logging.getLogger("MESA").setLevel(logging.WARNING)
    out = Path(HydraConfig.get().runtime.output_dir)
    resolved = OmegaConf.to_yaml(cfg, resolve=True)
    if is_complete(out) and (out / "config.yaml").exists() and (out / "config.yaml").read_text() == resolved:
        log.info("%s: complete, skipped", out)
        return
    t0 = time.perf_counter()
    label = f"{cfg.scenario.name}/{cfg.policy.name}/seed={cfg.seed}"

    def progress(year, model):
        log.info("%s: %d done (%.1f Mt CO2/yr)", label, year, model.registry.totals()[year - model.start_year] / 1e6)

    results = run_model(cfg, progress=progress)
    write_run(out, results, resolved)
    log.info("%s: wrote %s in %.1f s", label, out, time.perf_counter() - t0)
    for line in summary_lines(results.summary):
        log.info("%s: %s", label, line)


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
    if report_bad_input(preflight, argv):
        sys.exit(2)
    register_configs()
    hydra.main(config_path=CONFIG_DIR, config_name="config", version_base="1.3")(task)()


if __name__ == "__main__":
    from sim.run import main as _main  # one module instance

    _main()
