"""The one composition path of every command and the app: compose, validate, report one line.

* :func:`compose` -- Hydra overrides -> the composed :class:`~omegaconf.DictConfig`;
  (each override checked first by :func:`check_overrides`: it parses, a config group is not
  null, a boolean is true or false; and after composing, :func:`check_no_op_mappings`);
* :func:`check` -- everything a run needs to be valid: every declared field and cross-field
  rule (:func:`sim.params.validate`), the user's CSV files (:func:`sim.loaders.check_files`),
  each programme actor's parameters (:func:`sim.mechanisms.parse_params`) and whether the
  population fits this machine's memory (:func:`rule_memory`);
* :func:`load` -- compose + typed config + check, any problem raised as :class:`BadInput`;
* :func:`bad_input` turns whatever composing raises into :class:`BadInput` with one line;
  :func:`report_bad_input` is what each command's ``main`` uses: ``error: <line>`` on stderr,
  return code 2.

:mod:`sim.params` stays the vocabulary (imports nothing of the engine); this module is the
orchestration that does.
"""
from __future__ import annotations

import dataclasses
import functools
import itertools
import os
import typing
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Optional

from omegaconf import DictConfig, ListConfig

from .errors import BadInput, report_bad_input
from .params import Config, ConfigError, check_keys, register_configs, to_config, validate

__all__ = ["BadInput", "ConfigError", "compose", "check", "load", "bad_input", "report_bad_input",
           "one_line", "expand_overrides", "override_axes", "with_searchpath", "CONFIG_DIR", "REPO_DIR", "EXPERIMENTS_DIR"]

REPO_DIR = Path(__file__).resolve().parent.parent
CONFIG_DIR = str(REPO_DIR / "configs")
#: named experiments (experiments/experiment/*.yaml -> `+experiment=<name>`) are on the search path
EXPERIMENTS_DIR = REPO_DIR / "experiments"
SEARCHPATH_OVERRIDE = f"hydra.searchpath=[file://{EXPERIMENTS_DIR}]"


def _omegaconf_error(exc: BaseException) -> Optional[BaseException]:
    """The OmegaConf error (it knows the full key) in ``exc``'s chain, if any."""
    seen = 0
    while exc is not None and seen < 10:
        if getattr(exc, "full_key", None):
            return exc
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def one_line(exc: BaseException) -> str:
    """The one line to show for an exception raised while composing (Hydra / OmegaConf):
    an OmegaConf error names its full key and the value as given (``n_firms = '${n_firms}':
    Recursive interpolation detected``)."""
    msg = str(exc).strip()
    cause = exc.__cause__ or exc.__context__
    oc = _omegaconf_error(exc)
    if oc is not None:
        what = str(getattr(oc, "msg", "") or oc).strip().splitlines()[0]
        child = getattr(oc, "child_node", None)
        value = getattr(oc, "value", None)
        try:
            raw = child._value() if child is not None else value
        except Exception:  # noqa: BLE001 - the value is only decoration
            raw = value
        head = oc.full_key if raw is None else f"{oc.full_key} = {raw!r}"
        if "interpolation" in type(oc).__name__.lower() or "interpolation" in what.lower():
            what = f"cannot resolve the interpolation: {what}"
        return f"{head}: {what}"
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
    """The composed config of ``configs/config.yaml`` + ``overrides``. Each override is checked
    first (:func:`check_overrides`: :class:`ConfigError` naming its key); Hydra's own errors
    pass as they are (:func:`bad_input` makes them one line)."""
    from hydra import compose as hydra_compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from omegaconf import open_dict, read_write

    parsed = check_overrides(overrides)
    register_configs()
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
            cfg = hydra_compose(config_name="config", overrides=with_searchpath(overrides), return_hydra_config=True)
    finally:
        GlobalHydra.instance().clear()
    check_config_files(dict(cfg.hydra.runtime.choices))
    if not return_hydra_config:  # as Hydra's own compose does
        with read_write(cfg), open_dict(cfg):
            del cfg["hydra"]
    check_no_op_mappings(cfg, parsed)
    return cfg


def check_config_files(choices: dict) -> None:
    """The YAML files a run composes (``group -> option``) give booleans as true/false and
    numbers as numbers: the structured schema would turn ``enabled: 2`` into true silently.
    :class:`ConfigError` naming the key and the file."""
    import yaml

    for group, option in choices.items():
        if group.startswith("hydra") or not option:
            continue
        for base in (Path(CONFIG_DIR), EXPERIMENTS_DIR):
            f = base / group / f"{option}.yaml"
            if f.is_file():
                break
        else:
            continue
        text = f.read_text(encoding="utf-8")
        directive = [ln.split()[-1] for ln in text.splitlines()[:5] if ln.startswith("# @package")]
        package = directive[0] if directive and directive[0] not in ("_group_",) else group.replace("/", ".")
        package = "" if package == "_global_" else package
        try:
            data = safe_load_yaml(text)
        except yaml.YAMLError:
            continue  # Hydra reported it already
        for key, value in _leaves(data, package):
            if isinstance(value, str) and "${" in value:
                continue
            t = schema_type(key)
            if t is bool and not isinstance(value, bool):
                raise ConfigError(key, value, f"must be true or false (in {f})")
            if t in (int, float) and isinstance(value, bool):
                raise ConfigError(key, value, f"must be a number ({t.__name__}), not true/false (in {f})")


def safe_load_yaml(text: str):
    """``yaml.safe_load(text)`` with libyaml's parser when PyYAML has it: the same resolver and
    constructor, so the same data, ~10x faster (the files of a run: ~0.05 s less per check)."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def resolved_yaml(cfg: DictConfig) -> str:
    """``OmegaConf.to_yaml(cfg, resolve=True)`` (a run folder's ``config.yaml``), the same text,
    emitted by libyaml when :func:`libyaml_yaml` can (~0.04 s less for a scenario's config)."""
    from omegaconf import OmegaConf

    text = libyaml_yaml(OmegaConf.to_container(cfg, resolve=True, enum_to_str=True))
    return text if text is not None else OmegaConf.to_yaml(cfg, resolve=True)


@functools.lru_cache(maxsize=1)
def _libyaml_dumper():
    """OmegaConf's YAML dumper -- its representers (strings that read as booleans or numbers
    are quoted) and resolvers -- on libyaml's emitter; None without libyaml."""
    import yaml
    from omegaconf._utils import get_omega_conf_dumper

    if not hasattr(yaml, "CDumper"):
        return None
    python_dumper = get_omega_conf_dumper()

    class LibyamlOmegaConfDumper(yaml.CDumper):
        yaml_representers = dict(python_dumper.yaml_representers)
        yaml_multi_representers = dict(python_dumper.yaml_multi_representers)
        yaml_implicit_resolvers = dict(python_dumper.yaml_implicit_resolvers)
        yaml_path_resolvers = dict(python_dumper.yaml_path_resolvers)

    return LibyamlOmegaConfDumper


def libyaml_yaml(container) -> Optional[str]:
    """``container`` (plain dicts, lists and scalars) as ``OmegaConf.to_yaml`` writes it, emitted by
    libyaml, or None if PyYAML has no libyaml or the text could differ. The two emitters differ
    (found by fuzzing, tests/test_cli16_resolved_yaml.py) on strings with characters that are
    not printable (tabs, line breaks, controls: double-quoted and folded differently) or
    outside the Basic Multilingual Plane (libyaml escapes them), and on mapping keys near 128
    characters (libyaml counts bytes); every string must be printable and in the BMP, every
    key at most 60 bytes of UTF-8."""
    dumper = _libyaml_dumper()
    if dumper is None or not _libyaml_safe(container):
        return None
    import yaml

    return yaml.dump(container, default_flow_style=False, allow_unicode=True, sort_keys=False, Dumper=dumper)


def _libyaml_safe(x, key: bool = False) -> bool:
    if isinstance(x, str):
        return x.isprintable() and (not x or max(x) <= "\uffff") and (not key or len(x.encode("utf-8")) <= 60)
    if isinstance(x, dict):
        return all(_libyaml_safe(k, True) and _libyaml_safe(v) for k, v in x.items())
    if isinstance(x, list):
        return all(_libyaml_safe(v) for v in x)
    return x is None or isinstance(x, (bool, int, float))


def _leaves(data, prefix: str):
    """(dotted key, value) of every leaf of nested mappings (lists are leaves)."""
    if isinstance(data, dict):
        for k, v in data.items():
            if k == "defaults" and not prefix:
                continue
            yield from _leaves(v, f"{prefix}.{k}" if prefix else str(k))
    elif prefix:
        yield prefix, data


# -- the overrides themselves: what Hydra would accept but mean nothing, or convert silently ----
def config_groups() -> list[str]:
    """Config groups a `group=name` override chooses from (configs/<group>, experiments/<group>)."""
    dirs = [Path(CONFIG_DIR)] + ([EXPERIMENTS_DIR] if EXPERIMENTS_DIR.is_dir() else [])
    return sorted({p.name for d in dirs for p in d.iterdir() if p.is_dir() and any(p.glob("*.yaml"))})


def _group_options(group: str) -> str:
    dirs = [Path(CONFIG_DIR) / group, EXPERIMENTS_DIR / group]
    return ", ".join(sorted({p.stem for d in dirs if d.is_dir() for p in d.glob("*.yaml")}))


def schema_type(key: str) -> Any:
    """The declared type of a dotted ``key`` of the schema (a programme's parameter: its
    ``Params``), or None if the schema does not say."""
    from .params import Config

    t: Any = Config
    parts = key.split(".")
    i = 0
    while i < len(parts):
        part = parts[i]
        if dataclasses.is_dataclass(t):
            hints = _type_hints(t)
            if part not in hints:
                return None
            if t.__name__ == "ScenarioConfig" and part == "programmes" and i + 1 < len(parts):
                from .mechanisms import REGISTRY  # a programme's parameters: its Params

                _load_programmes()
                cls = REGISTRY.get(parts[i + 1])
                if cls is None:
                    return None
                t, i = cls.Params, i + 2
                continue
            t = hints[part]
        else:
            args = typing.get_args(t)
            if typing.get_origin(t) in (dict, list) and args:
                t = args[-1]  # a dict key or a list index: the element's type
            else:
                return None
        i += 1
    return t


@functools.lru_cache(maxsize=None)
def _load_programmes() -> None:
    """Every programme actor's module imported (their ``Params``), once per process: the file
    check asks for a few hundred keys, and listing the package each time cost ~7 ms a run."""
    from .mechanisms import _load_all

    _load_all()


@functools.lru_cache(maxsize=None)
def _type_hints(cls) -> dict:
    """``typing.get_type_hints`` of a schema dataclass (evaluated once per class: ~1 ms each,
    and a run's files have a few hundred keys)."""
    return typing.get_type_hints(cls)


def parse_override(text: str):
    """Hydra's parsed override of ``text``; a grammar error names the key (:class:`ConfigError`)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        (o,) = OverridesParser.create().parse_overrides([text])
    except Exception as exc:  # noqa: BLE001 - Hydra's grammar error, without the key
        what = str(exc).strip().splitlines()[0]
        key, _, value = text.partition("=")
        raise ConfigError(key.lstrip("+~"), value, f"cannot be parsed ({what}); lists are [a,b], "
                                                   "quote values with special characters") from None
    return o


def check_overrides(overrides: list[str]) -> list:
    """Check each command-line override before Hydra composes (raise :class:`ConfigError`
    naming its key): it parses; a config group is not set to null; a boolean field gets true
    or false (Hydra would make ``2`` or ``yes`` true); a number is not a boolean. Returns the
    parsed overrides (sweeps and Hydra's own keys are left to Hydra)."""
    out, groups = [], None
    for text in overrides:
        o = parse_override(text)
        out.append(o)
        if o.is_hydra_override() or o.is_sweep_override() or o.is_delete():
            continue
        key, value = o.key_or_group, o.value()
        groups = groups if groups is not None else config_groups()
        if key in groups and (value is None or isinstance(value, dict)):
            raise ConfigError(key, value, f"must name a {key}: one of {_group_options(key)} "
                                          f"(set single values with {key}.<key>=<value>)")
        if isinstance(value, str) and "${" in value:
            continue  # an interpolation: checked when resolved
        t = schema_type(key)
        if t is bool and not isinstance(value, bool):
            raise ConfigError(key, value, "must be true or false")
        if t in (int, float) and isinstance(value, bool):
            raise ConfigError(key, value, f"must be a number ({t.__name__}), not true/false")
    return out


def check_no_op_mappings(cfg: DictConfig, parsed: list) -> None:
    """``key={}`` on a mapping that has entries changes nothing (Hydra merges it): refuse it
    (``+scenario.programmes.<name>={}``, a new entry with default parameters, stays allowed)."""
    from omegaconf import OmegaConf

    for o in parsed:
        if o.is_hydra_override() or o.is_sweep_override() or o.is_delete() or o.value() != {}:
            continue
        node = OmegaConf.select(cfg, o.key_or_group, default=None, throw_on_resolution_failure=False)
        if isinstance(node, (DictConfig, ListConfig)) and len(node):
            raise ConfigError(o.key_or_group, {}, "an empty mapping changes nothing here (it is merged into "
                                                 "the existing entries); needs at least one entry, e.g. "
                                                 f"{o.key_or_group}.<name>=<value>")


# -- memory: a population too large for this machine is refused before anything is built ------
#: Peak memory of one run, measured (ru_maxrss of a fresh process, run_model, default catalogue
#: of 14 measures, 2 and 6 simulated years, 100,000 / 300,000 / 1,000,000 firms; 18 measures at
#: 300,000): ~320 MB fixed (interpreter, numpy, numba, Mesa), ~330 bytes per firm (firm table,
#: Mesa agents, network ties, decision temporaries), ~8 bytes per firm and measure, and ~105
#: bytes per firm and simulated year for the annual firm panel (write_firm_panel). 1,000,000
#: firms, 2 years: 960 MB measured, 972 MB estimated; 6 years: 1,375 vs 1,392 MB.
MEMORY_FIXED_BYTES = 320e6
MEMORY_BYTES_PER_FIRM = 330.0
MEMORY_BYTES_PER_FIRM_MEASURE = 8.0
MEMORY_BYTES_PER_FIRM_YEAR_PANEL = 105.0


def bytes_per_firm(cfg: Config) -> float:
    years = cfg.end_year - cfg.start_year + 1
    return (MEMORY_BYTES_PER_FIRM + MEMORY_BYTES_PER_FIRM_MEASURE * len(cfg.measures.catalogue)
            + (MEMORY_BYTES_PER_FIRM_YEAR_PANEL * years if cfg.write_firm_panel else 0.0))


def estimated_memory_bytes(cfg: Config) -> float:
    """Estimated peak memory of one run of ``cfg`` (see :data:`MEMORY_FIXED_BYTES`)."""
    return MEMORY_FIXED_BYTES + cfg.n_firms * bytes_per_firm(cfg)


def available_memory_bytes() -> Optional[float]:
    """Memory this machine can give a new process now: /proc/meminfo's MemAvailable, else the
    free physical pages (os.sysconf); None if neither is known."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def rule_memory(cfg: Config, available: Optional[float] = None) -> None:
    """A synthetic population whose estimated peak memory exceeds this machine's available
    memory is refused before anything is built (a firms CSV sets its own population)."""
    if cfg.scenario.firms_csv:
        return
    available = available_memory_bytes() if available is None else available
    if available is None:
        return
    need = estimated_memory_bytes(cfg)
    if need > available:
        per = bytes_per_firm(cfg)
        most = max(int((available - MEMORY_FIXED_BYTES) / per), 0)
        raise ConfigError("n_firms", cfg.n_firms,
                          f"needs about {need / 1e9:,.1f} GB of memory (~{per:,.0f} bytes per firm, "
                          f"{MEMORY_FIXED_BYTES / 1e6:.0f} MB fixed) but this machine has {available / 1e9:,.1f} GB "
                          f"available; use at most ~{most:,} firms here"
                          + (" (or write_firm_panel=false)" if cfg.write_firm_panel else ""))


def check(cfg: Config) -> Config:
    """Everything a run needs to be valid (raises :class:`ConfigError`): the schema's fields
    and rules, the user's files, the programme actors' parameters. Nothing is cached on
    ``cfg``: a caller may still edit it, and the model parses what it builds from."""
    validate(cfg)
    if cfg.scenario.firms_csv:
        from .loaders import check_files  # one line per problem: file, row, what is wrong

        check_files(cfg)
    from .mechanisms import REGISTRY, parse_params  # programme actors validate their own parameters

    _load_programmes()
    for name, raw in cfg.scenario.programmes.items():
        if name in REGISTRY and isinstance(raw, dict):  # unknown keys named in full (as the schema's)
            from omegaconf import OmegaConf

            check_keys(OmegaConf.create(raw), REGISTRY[name].Params, f"scenario.programmes.{name}.",
                       f"{REGISTRY[name].__module__.replace('.', '/')}.py")
        parse_params(name, raw, cfg)
    rule_memory(cfg)
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


def override_axes(overrides: list[str]) -> list[list[str]]:
    """The axes of a (multi)run as lists of ``key=value`` strings: one axis per key (a sweep
    ``k=a,b`` is an axis of its values; a later override of the same key wins, as in Hydra);
    Hydra's own overrides (``hydra.*``) are left out."""
    parsed = [parse_override(o) for o in overrides]  # a parse error names its key
    axes: dict[str, list[str]] = {}
    for o in parsed:
        if o.is_hydra_override():
            continue
        key = o.get_key_element()
        if o.is_sweep_override():
            vals = list(o.sweep_string_iterator())
            if not vals:
                raise BadInput(f"{key}: empty sweep range ({o.input_line})")
            axes[key] = [f"{key}={v}" for v in vals]
        else:
            axes[key] = [o.input_line]
    return list(axes.values())


def expand_overrides(overrides: list[str]) -> list[list[str]]:
    """The override lists of every job a (multi)run would launch (sweeps expanded)."""
    axes = override_axes(overrides)
    return [list(c) for c in itertools.product(*axes)] if axes else [[]]
