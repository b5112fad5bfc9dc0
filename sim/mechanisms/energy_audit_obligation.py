"""Mandatory energy audits of large enterprises.

Where the law obliges large enterprises to audit their energy use periodically (EU Energy
Efficiency Directive 2012/27/EU, art. 8: every non-SME at least every four years; China's
Top-10,000 Enterprises programme for large energy users), a large firm knows the standard
measures that apply to it: an audit lists them. The obligation is an agent:

- in the start year, every obliged firm has had an audit within the last cycle, so it knows
  the listed measures before its initial stock is decided (``setup``, before
  ``ClusterModel._initial_stock``):
  profitable measures it knows are already in place, and the calibrated base year does not
  release a backlog of them;
- afterwards, ``1 / cycle_yr`` of the obliged firms are audited each year (in a fixed
  rotation) and learn the listed measures that now apply and are available (the audit
  report lists every measure in its scope); of these it recommends those that pass the
  auditor's payback rule (``engine.recommend``, ``recommend_max_payback_yr``), recorded
  for the run's ``assessments`` table with their implementation, and each year's audits
  are an ``assessment`` event.

Vectorised over firms (one boolean block per year).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List

import numpy as np

from ..params import SIZE_CLASSES, ConfigError, CostShareConfig
from . import Mechanism, register


@register("energy_audit_obligation")
class EnergyAuditObligation(Mechanism):
    """Periodic mandatory energy audits of firms from ``min_size_class`` up (see module doc)."""

    @dataclass
    class Params:
        min_size_class: str = "large"
        cycle_yr: int = 4  # source: EU Energy Efficiency Directive 2012/27/EU, art. 8 (every four years)
        #: measures an audit reports (["all"] = every measure)
        measures: List[str] = field(default_factory=lambda: ["all"])
        source: str = ""
        #: simple-payback ceiling of an audit's recommendations, years (free parameter, range
        #: 1-5; sim/recommendations.py)
        recommend_max_payback_yr: float = CostShareConfig.recommend_max_payback_yr

    @classmethod
    def validate(cls, params, cfg, key: str) -> None:
        if params.min_size_class not in SIZE_CLASSES:
            raise ConfigError(f"{key}.min_size_class", params.min_size_class, f"must be one of {', '.join(SIZE_CLASSES)}")
        if params.cycle_yr < 1:
            raise ConfigError(f"{key}.cycle_yr", params.cycle_yr, "must be an integer >= 1")
        names = [m.name for m in cfg.measures.catalogue]
        for m in params.measures:
            if m != "all" and m not in names:
                raise ConfigError(f"{key}.measures", m, f"unknown measure; catalogue has: all, {', '.join(names)}")
        if not params.recommend_max_payback_yr > 0:
            raise ConfigError(f"{key}.recommend_max_payback_yr", params.recommend_max_payback_yr, "must be a number of years > 0")
        if not params.source.strip():
            raise ConfigError(f"{key}.source", params.source, "cite the law or programme that obliges the audits")

    def __init__(self, engine, params):
        super().__init__(engine, params)
        cat, ft = engine.catalogue, engine.firms
        self.listed = np.array(["all" in params.measures or m in params.measures for m in cat.names])
        self.obliged = np.flatnonzero(ft.size_class >= SIZE_CLASSES.index(params.min_size_class))
        self.audits = 0
        self.audits_by_year: dict[int, int] = {}

    def setup(self, engine) -> None:
        """Audited within the last cycle: every obliged firm knows the listed measures that
        apply to it before its initial stock is decided."""
        engine.inform(self.obliged, self.listed, source=self.name)

    def _learn(self, engine, firms: np.ndarray) -> int:
        listed = self.listed & (engine.catalogue.available_from_year <= engine.year)
        return int(engine.inform(firms, listed, source=self.name).sum())

    def new_year(self, engine) -> None:
        y = engine.year - engine.start_year
        if y <= 0:  # the start year's audits are those of the last cycle (setup)
            return
        due = self.obliged[(np.arange(len(self.obliged)) % self.params.cycle_yr) == (y % self.params.cycle_yr)]
        self._learn(engine, due)
        if len(due):
            # recorded; the firms already know every listed measure (``_learn``)
            engine.recommend(due, self.name, self.params.recommend_max_payback_yr, self.listed)
            engine.publish("assessment", month=engine.month, firms=due, source=self.name)
        self.audits += len(due)
        self.audits_by_year[engine.year] = len(due)

    def summary(self, engine) -> dict:
        return {
            "obliged_firms": int(len(self.obliged)),
            "audits": self.audits,
            "audits_by_year": {str(k): v for k, v in self.audits_by_year.items()},
            "recommendations": engine.recommendations.stats(self.name),
            "source": self.params.source,
        }
