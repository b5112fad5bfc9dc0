"""Mechanisms: everything that acts on firms from outside their own decision.

The government's instruments (capex subsidy, cost-share programme, green loan, training,
carbon price, workshops: ``policy.<name>``) and the scenarios' programme and finance actors
(``scenario.programmes.<name>``: a cleaner-production centre, a climate alliance, a green
fund, shared infrastructure ...) are one kind of plug-in: a Mesa agent subclassing
:class:`Mechanism`, registered here by name with :func:`register`, with typed parameters
(a dataclass: ``Params``, or the policy schema's dataclass) validated before the model is
built. A mechanism that is a kind of another subclasses it (the Cleaner Production Centre's
projects are a cost-share programme's).

Lifecycle, all hooks optional, each receiving the :class:`sim.engine.Engine` (the narrow
interface: read-only state and named actions; never the model's arrays):

- ``setup(engine)``                         once, before the initial stock is built (with every
                                             grant off): what already holds in the start year
- ``new_year(engine)``                      start of each year (the start year included), after prices
- ``cluster_activities(engine)``            monthly: workshops, peer brokerage, information
- ``programme_activities(engine)``          monthly: assessments, courses, projects
- ``capex_factor(engine, firms)``           None or [R, K] multiplier on capex (learning, project prices)
- ``extra_value_usd_per_yr(engine, firms)`` None or [R, K] USD/yr added to a measure's value (credits)
- ``available(engine)``                     None or [K] bool: measures that can be bought now
- ``after_adoptions(engine, batch)``        after the month's adoptions took effect
- ``end_month(engine)``                     after emissions accounting
- ``end(engine)``                           once, after the last month (final settlements)
- ``monthly_row(engine)`` / ``summary(engine)``  reporters (time-series columns; the summary's
                                             ``programmes.<name>``)

A mechanism that pays part of capex adds a grant channel
(:class:`sim.mechanisms.budget.GrantInstrument`) with ``engine.add_grants``; other public
spending is reported with ``engine.report_spending``. The engine calls the mechanisms in
the order they were built: the policy's instruments (``POLICY_INSTRUMENTS``), the
scenario's programmes in the order of its config, then the government's workshops (they
follow the associations' own activities in a month).
"""
from __future__ import annotations

import copy
import importlib
import pkgutil
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import mesa
from omegaconf import OmegaConf

from ..params import ConfigError, check_fields

#: every mechanism by name
REGISTRY: dict[str, type["Mechanism"]] = {}
#: the engine's own instruments, configured under ``policy.<name>``, in the order the decision
#: asks them for grants; ``workshops`` runs after the scenario's programmes
POLICY_INSTRUMENTS = ("cost_share", "capex_subsidy", "green_loan", "training", "carbon_price")
POLICY_LAST = ("workshops",)
#: mechanisms that join a built run rather than being configured (a workshop's role players,
#: ``players.attach``): never a scenario's programme
ATTACHED = ("players",)


def register(name: str):
    def deco(cls):
        cls.name = name
        REGISTRY[name] = cls
        return cls

    return deco


def _load_all() -> None:
    for mod in pkgutil.iter_modules(__path__):
        if mod.name not in _loaded:
            importlib.import_module(f"{__name__}.{mod.name}")
            _loaded.add(mod.name)


_loaded: set[str] = set()


class Mechanism(mesa.Agent):
    """Base class of every mechanism (see the module docstring for the lifecycle)."""

    name = "mechanism"

    @dataclass
    class Params:
        pass

    def __init__(self, engine, params):
        super().__init__(engine.mesa_model)
        self.engine = engine
        self.params = params

    @classmethod
    def validate(cls, params, cfg, key: str) -> None:
        """Check parameter meaning beyond the declared types; raise ConfigError(key, value, allowed)."""

    # lifecycle (defaults do nothing)
    def setup(self, engine): ...
    def new_year(self, engine): ...
    def cluster_activities(self, engine): ...
    def programme_activities(self, engine): ...
    def capex_factor(self, engine, firms): return None
    def extra_value_usd_per_yr(self, engine, firms): return None
    def available(self, engine): return None
    def after_adoptions(self, engine, batch): ...
    def end_month(self, engine): ...
    def end(self, engine): ...
    def monthly_row(self, engine) -> dict: return {}
    def summary(self, engine) -> dict: return {}


def parse_params(name: str, raw: Any, cfg) -> Any:
    """Typed, validated parameters of programme ``name`` from the scenario config."""
    _load_all()
    key = f"scenario.programmes.{name}"
    programmes = sorted(n for n in REGISTRY if n not in POLICY_INSTRUMENTS + POLICY_LAST + ATTACHED)
    if name not in programmes:
        raise ConfigError("scenario.programmes", name, f"unknown programme; available: {', '.join(programmes) or 'none'}")
    cls = REGISTRY[name]
    memo = (name, repr(raw))
    params = _PARSED.get(memo)
    if params is None:
        try:
            node = OmegaConf.merge(OmegaConf.structured(cls.Params), raw if raw is not None else {})
            params = OmegaConf.to_object(node)
        except Exception as exc:  # noqa: BLE001 - becomes one line
            msg = str(exc).strip().splitlines()[0]
            raise ConfigError(key, raw if not isinstance(raw, dict) else "...", msg) from None
        check_fields(params, key + ".")  # declared bounds (sim.params helpers); every float finite
        _PARSED[memo] = params
        while len(_PARSED) > 256:
            _PARSED.popitem(last=False)
    params = copy.deepcopy(params)  # each caller its own object
    cls.validate(params, cfg, key)
    return params


#: typed parameters by (programme, repr of its raw mapping), as converted and bounds-checked:
#: OmegaConf's conversion takes ~15 ms for a large programme, and a design search or a sweep
#: parses the same mapping for many runs (checked, then built). ``validate`` (which reads
#: the rest of the config) runs on every call.
_PARSED: OrderedDict = OrderedDict()


def build(engine, config) -> list[Mechanism]:
    """Every mechanism of a run, in calling order: the policy's instruments, the scenario's
    programmes, the government's workshops."""
    _load_all()
    mechs: list[Mechanism] = [REGISTRY[n](engine, getattr(config.policy, n)) for n in POLICY_INSTRUMENTS]
    for name, raw in config.scenario.programmes.items():
        mechs.append(REGISTRY[name](engine, parse_params(name, raw, config)))
    mechs += [REGISTRY[n](engine, getattr(config.policy, n)) for n in POLICY_LAST]
    return mechs
