"""One run, or a Hydra multirun, from the command line.

    python -m sim.run scenario=mx_cluster policy=incentive_package seed=1 n_firms=5000
    python -m sim.run --multirun policy=none,incentive_package seed=0,1,2

``run_model(config)`` is the one pure entry point every caller (CLI, sweeps, tests,
notebooks, the app) uses. Before Hydra creates any folder, every run of the command is
composed and validated; a bad value prints one line naming the key, the value and what is
allowed, and exits with code 2.
"""
from __future__ import annotations

import itertools
import logging
import sys
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from .params import ConfigError, register_configs, to_config, validate

REPO_DIR = Path(__file__).resolve().parent.parent
CONFIG_DIR = str(REPO_DIR / "configs")
#: named experiments (experiments/experiment/*.yaml -> `+experiment=<name>`) are on the search path
EXPERIMENTS_DIR = REPO_DIR / "experiments"
SEARCHPATH_OVERRIDE = f"hydra.searchpath=[file://{EXPERIMENTS_DIR}]"
log = logging.getLogger("sim.run")


def run_model(config, progress=None):
    """Build, run and collect one model. ``config``: DictConfig or :class:`Config`.
    ``progress(year, model)`` is called after each simulated year."""
    from .model import ClusterModel
    from .results import collect

    # validates the config before building anything; Firm views are not needed for tables
    model = ClusterModel(to_config(config), lazy_firm_agents=True)
    while model.running:
        model.step()
        if progress is not None and model.month % 12 == 11:
            progress(model.year, model)
    results = collect(model)
    # mesa 3.3.1 keeps every model alive in a class-level id counter (``Agent._ids``); a
    # process that runs many models (sweeps, notebooks) would keep all of them in memory
    from mesa.agent import Agent

    Agent._ids.pop(model, None)
    return results


# -- pre-flight: compose and validate every run before Hydra starts ----------------------------
class InputError(Exception):
    """Bad command-line input: ``str()`` is the one line to show."""


def _one_line(exc: BaseException) -> str:
    msg = str(exc).strip()
    cause = exc.__cause__ or exc.__context__
    if "Could not find" in msg and "Available options" in msg:
        lines = [l.strip() for l in msg.splitlines() if l.strip()]
        what = lines[0].split("Could not find", 1)[1].strip(" '")
        group, _, name = what.partition("/")
        opts = []
        for l in lines[lines.index(next(l for l in lines if l.startswith("Available options"))) + 1:]:
            if l.startswith("Config search path"):
                break
            opts.append(l)
        return f"{group}={name}: unknown {group}; available: {', '.join(opts)}"
    first = msg.splitlines()[0] if msg else type(exc).__name__
    if cause is not None and str(cause).strip():
        c = str(cause).strip().splitlines()[0]
        if c not in first:
            first = f"{first} ({c})"
    return first


def expand_overrides(overrides: list[str]) -> list[list[str]]:
    """The override lists of every job a (multi)run would launch (sweeps expanded)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    try:
        parsed = parser.parse_overrides(overrides)
    except Exception as exc:  # noqa: BLE001 - turned into one line
        raise InputError(_one_line(exc)) from None
    axes = []
    for o in parsed:
        if o.is_hydra_override():
            continue
        key = o.get_key_element()
        if o.is_sweep_override():
            vals = list(o.sweep_string_iterator())
            if not vals:
                raise InputError(f"{key}: empty sweep range")
            axes.append([f"{key}={v}" for v in vals])
        else:
            axes.append([o.input_line])
    return [list(c) for c in itertools.product(*axes)] if axes else [[]]


def with_searchpath(overrides: list[str]) -> list[str]:
    if any(o.startswith("hydra.searchpath=") for o in overrides) or not EXPERIMENTS_DIR.is_dir():
        return list(overrides)
    return list(overrides) + [SEARCHPATH_OVERRIDE]


def compose(overrides: list[str]) -> DictConfig:
    from hydra import compose as hydra_compose, initialize_config_dir

    register_configs()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return hydra_compose(config_name="config", overrides=with_searchpath(overrides))


def preflight(argv: list[str]) -> None:
    flags = {"-m", "--multirun", "--info", "--help", "-h", "--hydra-help", "--version", "--resolve", "--shell-completion", "-sc"}
    overrides, skip_next = [], False
    for a in argv:
        if skip_next:
            skip_next = False
            continue
        if a in ("--config-name", "-cn", "--config-path", "-cp", "--config-dir", "-cd", "--cfg", "-c", "--package", "-p"):
            skip_next = True
            continue
        if a in flags or a.startswith("-"):
            continue
        overrides.append(a)
    if "-m" in argv or "--multirun" in argv:  # sweeps: experiment params, every axis value, the launcher
        from .sweep import preflight_sweep

        preflight_sweep(overrides)
        return
    jobs = expand_overrides(overrides)
    from hydra.core.global_hydra import GlobalHydra

    for job in jobs:
        try:
            cfg = compose(job)
            validate(to_config(cfg))
        except ConfigError as exc:
            raise InputError(str(exc)) from None
        except Exception as exc:  # noqa: BLE001 - composition errors become one line
            raise InputError(_one_line(exc)) from None
        finally:
            GlobalHydra.instance().clear()


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
    try:
        preflight(argv)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    register_configs()
    hydra.main(config_path=CONFIG_DIR, config_name="config", version_base="1.3")(task)()


if __name__ == "__main__":
    from sim.run import main as _main  # one module instance: sim.sweep raises sim.run.InputError

    _main()
