"""A design file (``experiments/design/*.yaml``): what a design search varies, what it is robust
over and what it optimises -- read and checked strictly before anything runs.

A design file holds, as data (EMA Workbench's split of an experiment):

* ``scenario`` and ``overrides`` (fixed ``key=value`` of every run), ``baseline`` (overrides of
  the counterfactual every design is paired with, e.g. ``[policy=none]``);
* ``levers`` -- the choices searched. Each is named by the dotted config key it sets (the same
  key a sweep axis or a slider uses): ``kind: real | integer`` with ``range: [low, high]``
  (``repeat: n`` writes ``[v, ..., v]`` into a per-year list), ``kind: categorical`` with
  ``options: [...]``, ``kind: switch`` (an instrument on/off: true/false), or ``kind: split``
  -- a budget shared between instruments: ``total_usd`` and ``keys: [config keys]``, each
  key getting its share (one weight per key in [0, 1], normalised);
* ``uncertainties`` -- what the design must be robust over: ``key: [low, high]`` (a value of
  the key), or ``{keys: [...], scale: [low, high]}`` (one factor multiplying every listed key's
  base value: every point of a price trajectory, every measure's capex; ``*`` in a key stands
  for each element of a list); sampled once by Latin hypercube (``samples``) and crossed with
  ``seeds``: every candidate meets the same samples and seeds (common random numbers);
* ``objectives`` -- ``name: {outcome: <summary.json key, dotted for nested>, sense:
  maximize|minimize, versus_baseline: reduction|increase|none}`` or ``name: {ratio: [a, b],
  sense: ...}`` (objective a over objective b, e.g. US$ per t CO2); ``robustness``: ``mean``,
  ``{statistic: percentile, q: 10}`` (the q-th percentile of the worse tail) or ``regret``
  (the largest shortfall, over the samples, from the best design evaluated in that sample);
* ``constraints`` -- ``name: {max: v}`` or ``{min: v}`` on an objective or an outcome, with
  ``statistic: mean | max | min`` over the samples (default: the objective's robustness);
* ``search`` -- ``generations``, ``population``, ``seed``; ``references`` -- named policies
  (``configs/policy/*``) placed on the Pareto plot.

Every problem is one line (:class:`~sim.errors.BadInput`): an unknown key at any level, a lever
or uncertainty that is not a config key, an empty or inverted range, a categorical without
options, an unknown kind, sense or statistic, an objective that is not an outcome.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import BadInput, read_yaml_mapping

TOP_KEYS = {"name", "description", "scenario", "overrides", "baseline", "levers", "uncertainties", "samples", "seeds",
            "objectives", "robustness", "constraints", "search", "references"}
LEVER_KINDS = ("real", "integer", "categorical", "switch", "split")
LEVER_KEYS = {"real": {"kind", "range", "repeat"}, "integer": {"kind", "range", "repeat"},
              "categorical": {"kind", "options"}, "switch": {"kind"}, "split": {"kind", "total_usd", "keys"}}
SENSES = ("maximize", "minimize")
VERSUS = ("none", "reduction", "increase")
STATISTICS = ("mean", "percentile", "regret")
CONSTRAINT_STATS = ("mean", "max", "min")
SEARCH_KEYS = {"generations", "population", "seed"}


@dataclass
class Lever:
    name: str            # the config key (a split: its label)
    kind: str
    low: float = 0.0
    high: float = 1.0
    repeat: int = 0
    options: list = field(default_factory=list)
    keys: list = field(default_factory=list)   # split: the config keys sharing the total
    total_usd: float = 0.0

    def updates(self, value) -> dict[str, Any]:
        """Config key -> value of this lever at ``value`` (a split: its weights)."""
        if self.kind == "split":
            w = [max(float(x), 0.0) for x in value]
            s = sum(w) or 1.0
            return {k: round(self.total_usd * x / s, 2) for k, x in zip(self.keys, w)}
        if self.kind == "integer":
            v = int(round(float(value)))
        elif self.kind == "real":
            v = float(value)
        elif self.kind == "switch":
            v = bool(value)
        else:
            v = value
        return {self.name: [v] * self.repeat if self.repeat else v}


@dataclass
class Uncertainty:
    name: str            # a config key, or the label of a scale factor
    low: float
    high: float
    keys: list = field(default_factory=list)   # scale: the keys it multiplies
    scale: bool = False


@dataclass
class Objective:
    name: str
    sense: str
    outcome: str = ""
    versus: str = "none"
    ratio: tuple = ()

    @property
    def sign(self) -> float:
        """+1 when larger is better."""
        return 1.0 if self.sense == "maximize" else -1.0


@dataclass
class Constraint:
    name: str          # an objective name or an outcome
    bound: float
    upper: bool        # True: value <= bound
    statistic: str     # mean | max | min | robust (the objective's robustness)


@dataclass
class Design:
    path: Path
    name: str
    description: str
    scenario: str
    overrides: list
    baseline: list
    levers: list
    uncertainties: list
    samples: int
    seeds: list
    objectives: list
    robustness: str
    percentile_q: float
    constraints: list
    generations: int
    population: int
    search_seed: int
    references: list


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _range(where: str, r) -> tuple[float, float]:
    if not (isinstance(r, list) and len(r) == 2 and all(_number(x) for x in r)):
        raise BadInput(f"{where} = {r!r}: must be [low, high] (two numbers)")
    if not r[0] < r[1]:
        raise BadInput(f"{where} = {r!r}: empty or inverted range (needs low < high)")
    return float(r[0]), float(r[1])


def _unknown(where: str, given, allowed) -> None:
    extra = sorted(set(given) - set(allowed))
    if extra:
        raise BadInput(f"{where}{extra[0]}: unknown key; allowed: {', '.join(sorted(allowed))}")


def _lever(name: str, d) -> Lever:
    where = f"levers.{name}"
    if not isinstance(d, dict):
        raise BadInput(f"{where} = {d!r}: must be a mapping with kind: {'|'.join(LEVER_KINDS)}")
    kind = d.get("kind")
    if kind not in LEVER_KINDS:
        raise BadInput(f"{where}.kind = {kind!r}: one of {', '.join(LEVER_KINDS)}")
    _unknown(f"{where}.", d, LEVER_KEYS[kind])
    if kind in ("real", "integer"):
        lo, hi = _range(f"{where}.range", d.get("range"))
        rep = d.get("repeat", 0)
        if not (isinstance(rep, int) and not isinstance(rep, bool) and 0 <= rep <= 100):
            raise BadInput(f"{where}.repeat = {rep!r}: an integer in [0, 100] (0: a single value)")
        if kind == "integer" and (lo != int(lo) or hi != int(hi)):
            raise BadInput(f"{where}.range = {d['range']!r}: an integer lever needs integer bounds")
        return Lever(name, kind, lo, hi, repeat=rep)
    if kind == "categorical":
        opts = d.get("options")
        if not isinstance(opts, list) or len(opts) < 1:
            raise BadInput(f"{where}.options = {opts!r}: a categorical lever needs a list of at least one option")
        if len({repr(o) for o in opts}) != len(opts):
            raise BadInput(f"{where}.options = {opts!r}: repeated option")
        return Lever(name, kind, options=list(opts))
    if kind == "switch":
        return Lever(name, kind, 0, 1, options=[False, True])
    keys = d.get("keys")
    if not (isinstance(keys, list) and len(keys) >= 2 and all(isinstance(k, str) for k in keys)):
        raise BadInput(f"{where}.keys = {keys!r}: a split needs a list of at least two config keys")
    tot = d.get("total_usd")
    if not (_number(tot) and tot > 0):
        raise BadInput(f"{where}.total_usd = {tot!r}: a positive amount (USD)")
    return Lever(name, kind, keys=list(keys), total_usd=float(tot))


def _uncertainty(name: str, d) -> Uncertainty:
    where = f"uncertainties.{name}"
    if isinstance(d, dict):
        _unknown(f"{where}.", d, {"keys", "scale"})
        keys = d.get("keys")
        if not (isinstance(keys, list) and keys and all(isinstance(k, str) for k in keys)):
            raise BadInput(f"{where}.keys = {keys!r}: a list of config keys the factor multiplies")
        lo, hi = _range(f"{where}.scale", d.get("scale"))
        if lo < 0:
            raise BadInput(f"{where}.scale = {d.get('scale')!r}: a factor cannot be negative")
        return Uncertainty(name, lo, hi, keys=list(keys), scale=True)
    lo, hi = _range(where, d)
    return Uncertainty(name, lo, hi)


def _objective(name: str, d) -> Objective:
    where = f"objectives.{name}"
    if not isinstance(d, dict):
        raise BadInput(f"{where} = {d!r}: must be a mapping (outcome or ratio, sense)")
    _unknown(f"{where}.", d, {"outcome", "sense", "versus_baseline", "ratio"})
    sense = d.get("sense")
    if sense not in SENSES:
        raise BadInput(f"{where}.sense = {sense!r}: one of {', '.join(SENSES)}")
    if "ratio" in d:
        r = d["ratio"]
        if "outcome" in d or not (isinstance(r, list) and len(r) == 2 and all(isinstance(x, str) for x in r)):
            raise BadInput(f"{where}.ratio = {r!r}: two objective names [numerator, denominator] (and no outcome)")
        return Objective(name, sense, ratio=tuple(r))
    out = d.get("outcome")
    if not isinstance(out, str) or not out:
        raise BadInput(f"{where}.outcome = {out!r}: a key of a run's summary.json (e.g. cumulative_emissions_t_co2)")
    vs = d.get("versus_baseline", "none")
    if vs not in VERSUS:
        raise BadInput(f"{where}.versus_baseline = {vs!r}: one of {', '.join(VERSUS)}")
    return Objective(name, sense, outcome=out, versus=vs)


def _mapping(where: str, d, allow_empty=False) -> dict:
    if d is None and allow_empty:
        return {}
    if not isinstance(d, dict) or (not d and not allow_empty):
        raise BadInput(f"{where}: must be a non-empty mapping")
    return d


def _str_list(where: str, v) -> list[str]:
    if v is None:
        return []
    if not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
        raise BadInput(f"{where} = {v!r}: a list of key=value overrides")
    return list(v)


def load_design(path: Path) -> Design:
    """The checked design file (structure only; config keys and outcomes are checked against
    the composed scenario by :func:`sim.design_eval.check_against_config`)."""
    d = read_yaml_mapping(path, "design", "levers, uncertainties, objectives, ...")
    _unknown("", d, TOP_KEYS)
    if not isinstance(d.get("scenario"), str):
        raise BadInput(f"scenario = {d.get('scenario')!r}: name a scenario of configs/scenario/")
    levers = [_lever(str(k), v) for k, v in _mapping("levers", d.get("levers")).items()]
    uncs = [_uncertainty(str(k), v) for k, v in _mapping("uncertainties", d.get("uncertainties"), True).items()]
    objs = [_objective(str(k), v) for k, v in _mapping("objectives", d.get("objectives")).items()]
    names = {o.name for o in objs}
    for o in objs:
        if o.ratio and not all(r in names and r != o.name for r in o.ratio):
            raise BadInput(f"objectives.{o.name}.ratio = {list(o.ratio)!r}: both must name other objectives ({', '.join(sorted(names))})")
        if o.ratio and any(next(x for x in objs if x.name == r).ratio for r in o.ratio):
            raise BadInput(f"objectives.{o.name}.ratio: a ratio of ratios is not supported")
    if len(objs) > 3:
        raise BadInput(f"objectives: {len(objs)} given; at most 3 (the Pareto plot and hypervolume need 2 or 3)")
    rob = d.get("robustness", "mean")
    q = 10.0
    if isinstance(rob, dict):
        _unknown("robustness.", rob, {"statistic", "q"})
        q = rob.get("q", 10)
        rob = rob.get("statistic")
        if not (_number(q) and 0 <= q <= 100):
            raise BadInput(f"robustness.q = {q!r}: a percentile in [0, 100]")
    if rob not in STATISTICS:
        raise BadInput(f"robustness = {rob!r}: one of {', '.join(STATISTICS)} (percentile as {{statistic: percentile, q: 10}})")
    cons = []
    for k, c in _mapping("constraints", d.get("constraints"), True).items():
        c = _mapping(f"constraints.{k}", c)
        _unknown(f"constraints.{k}.", c, {"max", "min", "statistic"})
        if ("max" in c) == ("min" in c):
            raise BadInput(f"constraints.{k}: give exactly one of max or min")
        b = c.get("max", c.get("min"))
        if not _number(b):
            raise BadInput(f"constraints.{k}.{'max' if 'max' in c else 'min'} = {b!r}: a number")
        st = c.get("statistic", "robust")
        if st not in CONSTRAINT_STATS + ("robust",):
            raise BadInput(f"constraints.{k}.statistic = {st!r}: one of {', '.join(CONSTRAINT_STATS)}")
        cons.append(Constraint(str(k), float(b), "max" in c, st))
    seeds = d.get("seeds", 1)
    if isinstance(seeds, int) and not isinstance(seeds, bool) and seeds >= 1:
        seeds = list(range(seeds))
    if not (isinstance(seeds, list) and seeds and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds)):
        raise BadInput(f"seeds = {d.get('seeds')!r}: an integer N >= 1 (seeds 0..N-1) or a list of seeds")
    if len(set(seeds)) != len(seeds):
        raise BadInput(f"seeds = {seeds!r}: repeated seeds")
    samples = d.get("samples", 1)
    if not (isinstance(samples, int) and not isinstance(samples, bool) and samples >= 1):
        raise BadInput(f"samples = {samples!r}: an integer >= 1 (Latin hypercube samples of the uncertainties)")
    if samples > 1 and not uncs:
        raise BadInput(f"samples = {samples}: no uncertainties to sample; set samples: 1 or declare uncertainties")
    s = _mapping("search", d.get("search"), True)
    _unknown("search.", s, SEARCH_KEYS)
    gen, pop, sseed = s.get("generations", 10), s.get("population", 20), s.get("seed", 0)
    for k, v, lo in (("generations", gen, 1), ("population", pop, 2), ("seed", sseed, 0)):
        if not (isinstance(v, int) and not isinstance(v, bool) and v >= lo):
            raise BadInput(f"search.{k} = {v!r}: an integer >= {lo}")
    return Design(path=path, name=str(d.get("name", path.stem)), description=str(d.get("description", "")),
                  scenario=d["scenario"], overrides=_str_list("overrides", d.get("overrides")),
                  baseline=_str_list("baseline", d.get("baseline")), levers=levers, uncertainties=uncs,
                  samples=samples, seeds=seeds, objectives=objs, robustness=rob, percentile_q=float(q),
                  constraints=cons, generations=gen, population=pop, search_seed=sseed,
                  references=_str_list("references", d.get("references")))
