"""A calibration's targets file (``experiments/calibration/*.yaml``), read and checked.

    name: iac_assessments                      # names the output folder (default: the file's stem)
    description: ...
    overrides: [policy=none, n_firms=2000, ...]   # the scenario and the fixed settings of every run
    parameters:                                # the free parameters: config key -> uniform prior
      scenario.hurdle_rate_median_per_yr.1: {low: 0.2, high: 1.2, why: "..."}
    targets:                                   # observations, each with its source
      - name: implementation_rate
        outcome: implementation_rate_after_assessment   # a name of sim.outcomes.OUTCOMES
        window: [2025, 2026]                   # or year: 2030
        value: 0.5
        sd: 0.05                               # the observation's uncertainty (one standard deviation)
        source: "Anderson & Newell (2004) ..."
    abc: {population: 200, generations: 6, predictive_draws: 40}
    synthetic: {truth: {key: value}, seed: 12345}  # optional: targets' values from a run at truth

Every check runs before anything is written: an unknown outcome or measure, a year outside the
run, a prior with an empty range, a parameter that is not a number of the config, a prior
outside what the config allows, a target without a source or uncertainty. Each raises
:class:`~sim.errors.BadInput` with one line.
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BadInput, read_yaml_mapping
from ..outcomes import OUTCOMES

#: ABC-SMC settings and their defaults (population per generation, generations, posterior
#: predictive runs, worker processes of the multicore sampler)
ABC_DEFAULTS = {"population": 200, "generations": 6, "predictive_draws": 40, "workers": 2}


@dataclass
class Target:
    name: str
    outcome: str
    years: tuple[int, int]
    value: float | None
    sd: float
    source: str
    args: dict = field(default_factory=dict)

    def label(self) -> str:
        when = str(self.years[0]) if self.years[0] == self.years[1] else f"{self.years[0]}-{self.years[1]}"
        return f"{self.name} ({when})"


@dataclass
class Prior:
    key: str
    low: float
    high: float
    why: str
    integer: bool = False


@dataclass
class Calibration:
    """A checked targets file: ``base`` is the composed config of ``overrides`` (a checked
    :class:`~sim.params.Config`), ``base_yaml`` its resolved YAML."""

    path: Path
    name: str
    description: str
    overrides: list[str]
    priors: list[Prior]
    targets: list[Target]
    abc: dict
    synthetic: dict | None
    base: object = None
    base_yaml: str = ""

    def fingerprint(self) -> str:
        """What a stored calibration must share to be resumed: the resolved base config, the
        priors, the targets (values and uncertainties) and the synthetic truth."""
        blob = json.dumps({"base": self.base_yaml, "priors": [(p.key, p.low, p.high) for p in self.priors],
                           "targets": [(t.name, t.outcome, t.years, None if self.synthetic else t.value, t.sd, sorted(t.args.items()))
                                       for t in self.targets],  # synthetic values: fixed by truth and seed
                           "synthetic": self.synthetic}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def get_key(cfg, key: str):
    """The value of dotted ``key`` (list elements by index: ``measures.catalogue.0.x``) in a
    typed config; raises KeyError if there is no such key."""
    obj = cfg
    for part in key.split("."):
        if isinstance(obj, (list, tuple)):
            if not part.isdigit() or int(part) >= len(obj):
                raise KeyError(key)
            obj = obj[int(part)]
        elif isinstance(obj, dict):
            if part not in obj:
                raise KeyError(key)
            obj = obj[part]
        else:
            if part.startswith("_") or not hasattr(obj, part):
                raise KeyError(key)
            obj = getattr(obj, part)
    return obj


def set_key(cfg, key: str, value) -> None:
    """Set dotted ``key`` of a typed config (as :func:`get_key` finds it)."""
    *head, last = key.split(".")
    obj = get_key(cfg, ".".join(head)) if head else cfg
    if isinstance(obj, list):
        obj[int(last)] = value
    elif isinstance(obj, dict):
        obj[last] = value
    else:
        setattr(obj, last, value)


def with_parameters(base, priors: list[Prior], values) -> object:
    """A copy of the typed config ``base`` with each prior's key set to its value (integers
    rounded)."""
    cfg = copy.deepcopy(base)
    for p, v in zip(priors, values):
        set_key(cfg, p.key, int(round(float(v))) if p.integer else float(v))
    return cfg


def _read(path: Path) -> dict:
    data = read_yaml_mapping(path, "targets", "parameters: and targets:")
    unknown = set(data) - {"name", "description", "overrides", "parameters", "targets", "abc", "synthetic"}
    if unknown:
        raise BadInput(f"{path.name}: unknown key {sorted(unknown)[0]!r}; allowed: name, description, overrides, parameters, targets, abc, synthetic")
    return data


def _priors(path: Path, raw, base) -> list[Prior]:
    if not isinstance(raw, dict) or not raw:
        raise BadInput(f"{path.name}: parameters: empty; declare config.key: {{low: .., high: .., why: ..}} for at least one free parameter")
    from ..params import validate

    out = []
    for key, spec in raw.items():
        if isinstance(spec, list) and len(spec) == 2:
            spec = {"low": spec[0], "high": spec[1]}
        if not isinstance(spec, dict) or not _number(spec.get("low")) or not _number(spec.get("high")):
            raise BadInput(f"{path.name}: parameters.{key} = {spec!r}: must be {{low: number, high: number, why: text}}")
        lo, hi = float(spec["low"]), float(spec["high"])
        if not lo < hi:
            raise BadInput(f"{path.name}: parameters.{key}: empty prior range [{lo:g}, {hi:g}] (needs low < high)")
        try:
            like = get_key(base, str(key))
        except KeyError:
            raise BadInput(f"{path.name}: parameters.{key}: not a config key (see sim/params.py; list elements by index, e.g. measures.catalogue.0.info_rate_per_month)") from None
        if not _number(like):
            raise BadInput(f"{path.name}: parameters.{key} = {like!r} in the config: not a number, cannot be calibrated")
        p = Prior(str(key), lo, hi, str(spec.get("why", "")), integer=isinstance(like, int))
        for v in (lo, hi):  # the prior's ends must be values the config allows
            try:
                validate(with_parameters(base, [p], [v]))
            except BadInput as exc:
                raise BadInput(f"{path.name}: parameters.{key}: prior end {v:g} not allowed ({exc})") from None
        out.append(p)
    return out


def _years(path: Path, i: int, t: dict, outcome, start: int, end: int) -> tuple[int, int]:
    where = f"{path.name}: targets[{i}] ({t.get('name', '?')})"
    if "year" in t and "window" in t:
        raise BadInput(f"{where}: give year or window, not both")
    if "window" in t:
        w = t["window"]
        if outcome.when == "year":
            raise BadInput(f"{where}: outcome {outcome.name} is read in one year; give year: instead of window:")
        if not (isinstance(w, list) and len(w) == 2 and all(isinstance(y, int) and not isinstance(y, bool) for y in w) and w[0] <= w[1]):
            raise BadInput(f"{where}: window = {w!r}: must be [first_year, last_year]")
        years = (w[0], w[1])
    elif "year" in t:
        y = t["year"]
        if not isinstance(y, int) or isinstance(y, bool):
            raise BadInput(f"{where}: year = {y!r}: must be a calendar year")
        years = (y, y)
    else:
        raise BadInput(f"{where}: needs year: (or window: [first, last])")
    last = end - outcome.follow_up_years
    if years[0] < start or years[1] > last:
        follow = f" ({outcome.follow_up_years} year of follow-up after it)" if outcome.follow_up_years else ""
        raise BadInput(f"{where}: {'year' if years[0] == years[1] else 'window'} {years[0] if years[0] == years[1] else list(years)} "
                       f"outside the run: must lie in {start}-{last}{follow}; the run is {start}-{end} (start_year, end_year)")
    return years


def _target(path: Path, i: int, t, base, synthetic: bool) -> Target:
    where = f"{path.name}: targets[{i}]"
    if not isinstance(t, dict):
        raise BadInput(f"{where}: must be a mapping (name, outcome, year or window, value, sd, source)")
    where += f" ({t.get('name', '?')})"
    name = t.get("outcome")
    if name not in OUTCOMES:
        raise BadInput(f"{where}: outcome {name!r} unknown; known: {', '.join(OUTCOMES)} (sim/outcomes.py)")
    o = OUTCOMES[name]
    years = _years(path, i, t, o, int(base.start_year), int(base.end_year))
    args = {k: t[k] for k in o.args + o.optional if k in t}
    for k in o.args:
        if k not in t:
            raise BadInput(f"{where}: outcome {name} needs {k}:")
    extra = set(t) - {"name", "outcome", "year", "window", "value", "sd", "source", *o.args, *o.optional}
    if extra:
        raise BadInput(f"{where}: unknown key {sorted(extra)[0]!r}")
    if "measure" in args:
        names = [m.name for m in base.measures.catalogue]
        if args["measure"] not in names:
            raise BadInput(f"{where}: measure {args['measure']!r} not in the catalogue; known: {', '.join(names)}")
    value = t.get("value")
    if synthetic:
        if value is not None:
            raise BadInput(f"{where}: value is computed from the synthetic truth run; leave it out")
    elif not _number(value):
        raise BadInput(f"{where}: value = {value!r}: must be a number (the observation)")
    sd = t.get("sd")
    if not _number(sd) or sd <= 0:
        raise BadInput(f"{where}: sd = {sd!r}: must be a number > 0 (the observation's uncertainty, one standard deviation)")
    source = str(t.get("source") or "").strip()
    if not source:
        raise BadInput(f"{where}: source: every target must cite where its value comes from")
    return Target(str(t.get("name") or f"{name}_{i}"), name, years, None if value is None else float(value), float(sd), source, args)


def _abc(path: Path, raw) -> dict:
    raw = raw or {}
    if not isinstance(raw, dict) or set(raw) - set(ABC_DEFAULTS):
        raise BadInput(f"{path.name}: abc: allowed keys {', '.join(ABC_DEFAULTS)}")
    out = dict(ABC_DEFAULTS)
    for k, v in raw.items():
        if not isinstance(v, int) or isinstance(v, bool) or v < 1:
            raise BadInput(f"{path.name}: abc.{k} = {v!r}: must be an integer >= 1")
        out[k] = v
    return out


def load_targets(path: Path, extra: list[str] = ()) -> Calibration:
    """Read and check a targets file; ``extra`` are command-line overrides (after the file's)."""
    from omegaconf import OmegaConf

    from ..compose import load_both

    path = Path(path)
    data = _read(path)
    overrides = [str(o) for o in (data.get("overrides") or [])] + list(extra)
    cfg, base = load_both(overrides)
    synthetic = data.get("synthetic")
    priors = _priors(path, data.get("parameters"), base)
    if synthetic is not None:
        if not isinstance(synthetic, dict) or not isinstance(synthetic.get("truth"), dict):
            raise BadInput(f"{path.name}: synthetic: must be {{truth: {{key: value}}, seed: N}}")
        keys = {p.key for p in priors}
        for k, v in synthetic["truth"].items():
            if k not in keys or not _number(v):
                raise BadInput(f"{path.name}: synthetic.truth.{k}: must be a number for a declared parameter ({', '.join(sorted(keys))})")
    raw_targets = data.get("targets")
    if not isinstance(raw_targets, list) or not raw_targets:
        raise BadInput(f"{path.name}: targets: empty; list at least one observed outcome")
    targets = [_target(path, i, t, base, synthetic is not None) for i, t in enumerate(raw_targets)]
    names = [t.name for t in targets]
    if len(set(names)) != len(names):
        raise BadInput(f"{path.name}: targets: names must be unique ({names})")
    from ..params import NAME_PATTERN
    import re

    name = str(data.get("name") or path.stem)
    if not re.fullmatch(NAME_PATTERN, name):
        raise BadInput(f"{path.name}: name = {name!r}: letters, digits and _ . + - (it names the output folder)")
    return Calibration(path, name, str(data.get("description", "")), overrides, priors, targets, _abc(path, data.get("abc")),
                       synthetic, base, OmegaConf.to_yaml(cfg, resolve=True))
