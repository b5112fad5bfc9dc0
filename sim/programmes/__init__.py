"""Programme and finance actors that scenarios add to the engine.

A scenario lists the actors it needs under ``scenario.programmes`` (name -> parameters).
Each actor is a Mesa agent subclassing :class:`ProgrammeActor`, registered here by name with
:func:`register`, with its parameters declared as a dataclass (``Params``) so they are
typed and validated before the model is built. The model calls the actor's hooks in the
phase of ``ClusterModel.step`` they belong to; all hooks are optional.

Hooks (all vectorised over firms; never loop over firms in Python):
- ``new_year(model)``                       start of each year, after prices and instruments
- ``cluster_activities(model)``             monthly, in the cluster-activities phase
- ``programme_activities(model)``           monthly, in the programme phase (assessments, projects)
- ``capex_factor(model, firms)``            None or [R, K] multiplier on capex (e.g. learning curves)
- ``extra_value_usd_per_yr(model, firms)``  None or [R, K] USD/yr added to a measure's value (e.g. credits)
- ``available(model)``                      None or [K] bool: measures that can be bought now (infrastructure)
- ``after_adoptions(model, batch)``         after the month's adoptions took effect
- ``end_month(model)``                      after emissions accounting
- ``monthly_row(model)``                    dict of extra time-series columns
- ``summary(model)``                        dict placed under ``summary["programmes"][name]``
An actor that pays part of capex adds a :class:`sim.policy.GrantInstrument` to
``model.gov.grant_instruments``; other public spending goes in ``model.gov.other_spending``.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any

import mesa
from omegaconf import OmegaConf

from ..params import ConfigError

PROGRAMMES: dict[str, type["ProgrammeActor"]] = {}


def register(name: str):
    def deco(cls):
        cls.programme_name = name
        PROGRAMMES[name] = cls
        return cls

    return deco


def _load_all() -> None:
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")


class ProgrammeActor(mesa.Agent):
    """Base class of programme and finance actors."""

    programme_name = "programme"

    @dataclass
    class Params:
        pass

    def __init__(self, model, params):
        super().__init__(model)
        self.params = params

    @classmethod
    def validate(cls, params, cfg, key: str) -> None:
        """Check parameter meaning; raise ConfigError(key, value, allowed)."""

    # hooks (defaults do nothing)
    def new_year(self, model): ...
    def cluster_activities(self, model): ...
    def programme_activities(self, model): ...
    def capex_factor(self, model, firms): return None
    def extra_value_usd_per_yr(self, model, firms): return None
    def available(self, model): return None
    def after_adoptions(self, model, batch): ...
    def end_month(self, model): ...
    def monthly_row(self, model) -> dict: return {}
    def summary(self, model) -> dict: return {}


def parse_params(name: str, raw: Any, cfg) -> Any:
    """Typed, validated parameters of programme ``name`` from the scenario config."""
    _load_all()
    key = f"scenario.programmes.{name}"
    if name not in PROGRAMMES:
        raise ConfigError("scenario.programmes", name, f"unknown programme; available: {', '.join(sorted(PROGRAMMES)) or 'none'}")
    cls = PROGRAMMES[name]
    try:
        node = OmegaConf.merge(OmegaConf.structured(cls.Params), raw if raw is not None else {})
        params = OmegaConf.to_object(node)
    except Exception as exc:  # noqa: BLE001 - becomes one line
        msg = str(exc).strip().splitlines()[0]
        raise ConfigError(key, raw if not isinstance(raw, dict) else "...", msg) from None
    cls.validate(params, cfg, key)
    return params


def build(model) -> list[ProgrammeActor]:
    """The scenario's programme actors for ``model``."""
    _load_all()
    actors = []
    parsed = getattr(model.config, "_programme_params", {})  # set by params.validate()
    for name, raw in model.config.scenario.programmes.items():
        params = parsed[name] if name in parsed else parse_params(name, raw, model.config)
        actors.append(PROGRAMMES[name](model, params))
    return actors
