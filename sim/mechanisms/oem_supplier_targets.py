"""Vehicle makers (OEMs) set emission targets for their suppliers, and the targets flow down
the supply chain through supply edges.

From ``start_year``, a share ``oem_target_share`` of the OEM plants (firms of
``oem_sectors``) ask their suppliers to cut emissions. Each later year, a supplier that is
asked by at least ``flow_down_threshold_share`` of its customers passes the requirement on
to its own suppliers with probability ``flow_down_share_per_yr`` (tier 1 -> tier 2 ...).

A firm's customer pressure is the share of its customers (supply edges) that set supplier
targets; the engine's decision turns it into awareness and a lower effective hurdle rate
(``behaviour.customer_pressure_per_yr``, ``customer_pressure_awareness_per_month``). This
mechanism recomputes it once a year with one sparse product (``engine.set_customer_pressure``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List

import numpy as np

from ..params import ConfigError
from . import Mechanism, register


@register("oem_supplier_targets")
class OemSupplierTargets(Mechanism):
    @dataclass
    class Params:
        oem_sectors: List[str] = field(default_factory=list)
        start_year: int = 2025
        #: share of OEM plants whose maker sets supplier targets
        oem_target_share: float = 0.7  # free parameter, range 0.4-0.9
        #: a supplier passes targets on when at least this share of its customers set them
        flow_down_threshold_share: float = 0.5  # free parameter, range 0.3-0.8
        #: yearly probability that such a supplier passes the targets on to its own suppliers
        flow_down_share_per_yr: float = 0.3  # free parameter, range 0.1-0.5
        source: str = ""

    @classmethod
    def validate(cls, p, cfg, key):
        names = [s.name for s in cfg.scenario.sectors]
        if not p.oem_sectors:
            raise ConfigError(f"{key}.oem_sectors", [], "must list the OEM sectors")
        for s in p.oem_sectors:
            if s not in names:
                raise ConfigError(f"{key}.oem_sectors", s, f"unknown sector; sectors: {', '.join(names)}")
        for name in ("oem_target_share", "flow_down_threshold_share", "flow_down_share_per_yr"):
            v = getattr(p, name)
            if not 0 <= v <= 1:
                raise ConfigError(f"{key}.{name}", v, "must be a share in [0, 1]")

    def __init__(self, engine, params):
        super().__init__(engine, params)
        self.target_rng = engine.spawn_stream(self.name)
        ft = engine.firms
        oem_idx = [engine.sector_names.index(s) for s in params.oem_sectors]
        self.is_oem = np.isin(ft.sector, oem_idx)
        # which OEM plants' makers set targets (drawn once), and the flow-down draws' stream
        self.oem_sets = self.is_oem & (self.target_rng.random(ft.n) < params.oem_target_share)
        self.initial_targets = ft.sets_supplier_target.copy()
        self.is_supplier = engine.network.customers.row_lengths() > 0
        self.history: dict[int, dict] = {}

    def _recompute_pressure(self, engine) -> None:
        engine.set_customer_pressure(engine.network.customers.share(engine.firms.sets_supplier_target))

    def new_year(self, engine) -> None:
        """From ``start_year``: the OEMs' targets, then each year the flow-down (the targets
        start in the run, so the initial stock is valued without them: no ``setup``)."""
        year = engine.year
        ft = engine.firms
        if year < self.params.start_year:
            return
        flowed = 0
        if year == self.params.start_year or not self.history:
            engine.set_supplier_targets(self.oem_sets)
        else:
            pressed = (engine.customer_pressure >= self.params.flow_down_threshold_share) & ~ft.sets_supplier_target
            go = pressed & (self.target_rng.random(ft.n) < self.params.flow_down_share_per_yr)
            engine.set_supplier_targets(go)
            flowed = int(go.sum())
        self._recompute_pressure(engine)
        pressure = engine.customer_pressure
        self.history[year] = {
            "firms_setting_supplier_targets": int(ft.sets_supplier_target.sum()),
            "oem_plants_setting_targets": int((ft.sets_supplier_target & self.is_oem).sum()),
            "suppliers_passing_targets_on": flowed,
            "suppliers_under_pressure": int((pressure > 0).sum()),
            "supplier_share_under_pressure": float((pressure[self.is_supplier] > 0).mean()) if self.is_supplier.any() else 0.0,
        }

    def monthly_row(self, engine) -> dict:
        return {"firms_setting_supplier_targets": int(engine.firms.sets_supplier_target.sum()),
                "suppliers_under_pressure": int((engine.customer_pressure > 0).sum())}

    def summary(self, engine) -> dict:
        ft = engine.firms
        return {
            "oem_plants": int(self.is_oem.sum()),
            "oem_plants_setting_targets": int((ft.sets_supplier_target & self.is_oem).sum()),
            "firms_setting_supplier_targets_start": int(self.initial_targets.sum()),
            "firms_setting_supplier_targets_end": int(ft.sets_supplier_target.sum()),
            "by_year": {str(y): h for y, h in sorted(self.history.items())},
        }
