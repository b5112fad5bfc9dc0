"""The one composition path of every command and the app: compose, validate, report one line.

* :func:`compose` -- Hydra overrides -> the composed :class:`~omegaconf.DictConfig`;
* :func:`check` -- everything a run needs to be valid: every declared field and cross-field
  rule (:func:`sim.params.validate`), the user's CSV files (:func:`sim.loaders.check_files`)
  and each programme actor's parameters (:func:`sim.mechanisms.parse_params`);
* :func:`load` -- compose + typed config + check, any problem raised as :class:`BadInput`;
* :func:`bad_input` turns whatever composing raises into :class:`BadInput` with one line;
  :func:`report_bad_input` is what each command's ``main`` uses: ``error: <line>`` on stderr,
  return code 2.

:mod:`sim.params` stays the vocabulary (imports nothing of the engine); this module is the
orchestration that does.
"""
from __future__ import annotations

import itertools
from contextlib import contextmanager
from pathlib import Path

from omegaconf import DictConfig

from .errors import BadInput, report_bad_input
from .params import Config, ConfigError, register_configs, to_config, validate

__all__ = ["BadInput", "ConfigError", "compose", "check", "load", "bad_input", "report_bad_input",
           "one_line", "expand_overrides", "with_searchpath", "CONFIG_DIR", "REPO_DIR", "EXPERIMENTS_DIR"]

REPO_DIR = Path(__file__).resolve().parent.parent
CONFIG_DIR = str(REPO_DIR / "configs")
#: named experiments (experiments/experiment/*.yaml -> `+experiment=<name>`) are on the search path
EXPERIMENTS_DIR = REPO_DIR / "experiments"
SEARCHPATH_OVERRIDE = f"hydra.searchpath=[file://{EXPERIMENTS_DIR}]"


def one_line(exc: BaseException) -> str:
    """The one line to show for an exception raised while composing (Hydra / OmegaConf)."""
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


@contextmanager
def bad_input(prefix: str = ""):
    """Re-raise anything but :class:`BadInput` (e.g. Hydra's composition errors) as
    :class:`BadInput` with one line."""
    try:
        yield
    except BadInput:
        raise
    except Exception as exc:  # noqa: BLE001 - composition errors become one line
        raise BadInput(prefix + one_line(exc)) from None


def with_searchpath(overrides: list[str]) -> list[str]:
    if any(o.startswith("hydra.searchpath=") for o in overrides) or not EXPERIMENTS_DIR.is_dir():
        return list(overrides)
    return list(overrides) + [SEARCHPATH_OVERRIDE]


def compose(overrides: list[str], return_hydra_config: bool = False) -> DictConfig:
    """The composed config of ``configs/config.yaml`` + ``overrides`` (Hydra's errors as they are)."""
    from hydra import compose as hydra_compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    register_configs()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
            return hydra_compose(config_name="config", overrides=with_searchpath(overrides),
                                 return_hydra_config=return_hydra_config)
    finally:
        GlobalHydra.instance().clear()


def check(cfg: Config) -> Config:
    """Everything a run needs to be valid (raises :class:`ConfigError`): the schema's fields
    and rules, the user's files, the programme actors' parameters. Nothing is cached on
    ``cfg``: a caller may still edit it, and the model parses what it builds from."""
    validate(cfg)
    if cfg.scenario.firms_csv:
        from .loaders import check_files  # one line per problem: file, row, what is wrong

        check_files(cfg)
    from .mechanisms import parse_params  # programme actors validate their own parameters

    for name, raw in cfg.scenario.programmes.items():
        parse_params(name, raw, cfg)
    return cfg


def load(overrides: list[str]) -> Config:
    """The checked, typed config of ``overrides``; any problem raises :class:`BadInput`."""
    with bad_input():
        return check(to_config(compose(list(overrides))))


def load_both(overrides: list[str]) -> tuple[DictConfig, Config]:
    """The composed DictConfig (for the resolved YAML a run folder keeps) and its checked
    typed config; any problem raises :class:`BadInput`."""
    with bad_input():
        cfg = compose(list(overrides))
        return cfg, check(to_config(cfg))


def expand_overrides(overrides: list[str]) -> list[list[str]]:
    """The override lists of every job a (multi)run would launch (sweeps expanded)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    with bad_input():
        parsed = OverridesParser.create().parse_overrides(overrides)
    axes = []
    for o in parsed:
        if o.is_hydra_override():
            continue
        key = o.get_key_element()
        if o.is_sweep_override():
            vals = list(o.sweep_string_iterator())
            if not vals:
                raise BadInput(f"{key}: empty sweep range")
            axes.append([f"{key}={v}" for v in vals])
        else:
            axes.append([o.input_line])
    return [list(c) for c in itertools.product(*axes)] if axes else [[]]
