"""Energy zones: regions of a scenario (countries, states, grid regions) whose firms pay their
own energy prices and draw on their own grid, e.g. the US and Mexican halves of a binational
supply chain, or the member countries of an alliance.

Each zone lists the sectors whose firms are in it (a firm's zone is its sector's) and the
paths that differ from the scenario's: prices by carrier (USD/MWh) and the grid's emission
factor (t CO2/MWh; fuels' combustion factors are properties of the fuel, IPCC 2006, and
stay the scenario's). With hydrogen priced from electricity
(``scenario.hydrogen_from_electricity``) a zone's hydrogen follows its own electricity price.
Firms in no zone keep the scenario's paths.

What it changes:

- emissions: the engine accounts each firm's scope 2 with its zone's grid factor
  (``Engine.set_energy_zones``), and reports the abatement of an adoption with it;
- the decision: a measure's yearly value at the zone's prices differs from its value at the
  scenario's prices by an exact term, added through ``extra_value_usd_per_yr``:
  f(saving at zone prices) - f(saving at scenario prices), f(s) = s + max(s, 0) * non-energy
  benefit share (the decision's value of an energy saving, ``sim/decision.py``); both savings
  are the year's valuation maps applied to the firm's state;
- site-specific capex per unit of saving (``capex_factor``: e.g. rooftop PV priced per MWh/yr
  at the catalogue's yield; a site with a lower yield pays catalogue yield / site yield).

All vectorised: [Z] zones, rows grouped by zone in the hooks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np

from ..decision import valuation
from ..energy import zone_paths
from ..params import CARRIERS, ConfigError, TrajectoryConfig
from . import Mechanism, register


@dataclass
class EnergyZone:
    """One zone: its sectors and the paths that differ from the scenario's."""

    #: sectors whose firms are in the zone (["all"]: every sector - e.g. a site factor for the whole cluster)
    sectors: List[str] = field(default_factory=list)
    #: the zone's own price paths by carrier (carriers not listed: the scenario's), USD/MWh
    prices_usd_per_mwh: Dict[str, TrajectoryConfig] = field(default_factory=dict)
    #: the zone's grid emission factor, {year: t CO2/MWh} (empty: the scenario's)
    grid_ef_t_co2_per_mwh: Dict[int, float] = field(default_factory=dict)
    grid_ef_source: str = ""
    #: site-specific capex multiplier per measure (e.g. rooftop PV: catalogue yield / site yield)
    capex_factor: Dict[str, float] = field(default_factory=dict)
    capex_factor_source: str = ""


@register("energy_zones")
class EnergyZones(Mechanism):
    """Regional prices, grid factors and site capex (see module doc)."""

    @dataclass
    class Params:
        zones: Dict[str, EnergyZone] = field(default_factory=dict)
        #: "" = zones by sector (each zone's ``sectors``); else a region level another mechanism
        #: declares (e.g. "country" by ``technology_alliance``): a zone named like a region
        #: covers that region's firms
        region_level: str = ""

    @classmethod
    def validate(cls, params, cfg, key: str) -> None:
        sectors = [s.name for s in cfg.scenario.sectors]
        measures = [m.name for m in cfg.measures.catalogue]
        if not params.zones:
            raise ConfigError(f"{key}.zones", {}, "name at least one zone with its sectors")
        seen: dict[str, str] = {}
        for z, spec in params.zones.items():
            k = f"{key}.zones.{z}"
            if params.region_level and spec.sectors:
                raise ConfigError(f"{k}.sectors", spec.sectors, f"zones by region ({params.region_level}) take no sectors")
            if not params.region_level and not spec.sectors:
                raise ConfigError(f"{k}.sectors", [], "list the sectors whose firms are in the zone")
            for s in (sectors if spec.sectors == ["all"] else spec.sectors):
                if s not in sectors:
                    raise ConfigError(f"{k}.sectors", s, f"unknown sector; sectors: {', '.join(sectors)}")
                if s in seen:
                    raise ConfigError(f"{k}.sectors", s, f"already in zone {seen[s]}: a sector is in one zone")
                seen[s] = z
            for c, traj in spec.prices_usd_per_mwh.items():
                if c not in CARRIERS:
                    raise ConfigError(f"{k}.prices_usd_per_mwh", c, f"unknown carrier; carriers: {', '.join(CARRIERS)}")
                if not traj.points:
                    raise ConfigError(f"{k}.prices_usd_per_mwh.{c}.points", {}, "needs at least one {year: value}")
                if not traj.source.strip():
                    raise ConfigError(f"{k}.prices_usd_per_mwh.{c}.source", "", "cite the source of the price")
                for y, v in traj.points.items():
                    if not v >= 0:
                        raise ConfigError(f"{k}.prices_usd_per_mwh.{c}.points[{y}]", v, "must be a price >= 0")
            for y, v in spec.grid_ef_t_co2_per_mwh.items():
                if not v >= 0:
                    raise ConfigError(f"{k}.grid_ef_t_co2_per_mwh[{y}]", v, "must be a number >= 0")
            if spec.grid_ef_t_co2_per_mwh and not spec.grid_ef_source.strip():
                raise ConfigError(f"{k}.grid_ef_source", "", "cite the source of the grid emission factor")
            for m, f in spec.capex_factor.items():
                if m not in measures:
                    raise ConfigError(f"{k}.capex_factor", m, f"unknown measure; catalogue has: {', '.join(measures)}")
                if not f > 0:
                    raise ConfigError(f"{k}.capex_factor.{m}", f, "must be a number > 0")
            if spec.capex_factor and not spec.capex_factor_source.strip():
                raise ConfigError(f"{k}.capex_factor_source", "", "cite the source of the site factors")

    def __init__(self, engine, params):
        super().__init__(engine, params)
        self.names = list(params.zones)
        self.of_firm = None
        if not params.region_level:
            sec_zone = np.full(len(engine.sector_names), -1, dtype=np.int64)
            for zi, spec in enumerate(params.zones.values()):
                for s in (engine.sector_names if spec.sectors == ["all"] else spec.sectors):
                    sec_zone[engine.sector_names.index(s)] = zi
            self.of_firm = sec_zone[engine.firms.sector]
        sc, base = engine.config.scenario, engine.energy
        paths = []
        for spec in params.zones.values():
            grid = TrajectoryConfig(points=dict(spec.grid_ef_t_co2_per_mwh), source=spec.grid_ef_source) if spec.grid_ef_t_co2_per_mwh else None
            paths.append(zone_paths(sc, base, dict(spec.prices_usd_per_mwh), grid))
        self.price_paths = np.stack([p for p, _ in paths])  # [Z, years, C]
        self.ef_paths = np.stack([e for _, e in paths])
        #: zones whose prices differ from the scenario's (only these change a measure's value)
        self.priced = np.array([not np.array_equal(p, base.price_usd_per_mwh) for p, _ in paths], dtype=bool)
        if self.of_firm is not None:
            engine.set_energy_zones(self.names, self.of_firm, self.price_paths, self.ef_paths)
        cat = engine.catalogue
        self.shift = cat.shift_matrix()
        self.neb = cat.non_energy_benefit_share.astype(np.float32)
        self.factor = np.ones((len(self.names), cat.k), dtype=np.float32)
        for zi, spec in enumerate(params.zones.values()):
            for m, f in spec.capex_factor.items():
                self.factor[zi, cat.index(m)] = f
        self.has_factor = bool((self.factor != 1).any())
        self.w_zone = None  # [Z, C+1, K] float32 energy cost saved per unit of state, at zone prices
        self.w_base = None  # [C+1, K] the same at the scenario's prices

    # hooks ------------------------------------------------------------------------------
    def setup(self, engine) -> None:
        if self.of_firm is None:  # zones by region: the regions are declared by now
            self._zones_from_regions(engine)
        self._valuations(engine)

    def _zones_from_regions(self, engine) -> None:
        level = self.params.region_level
        try:
            regions, of_firm = engine.regions(level)
        except KeyError as exc:
            raise ValueError(f"scenario.programmes.energy_zones.region_level: {exc.args[0]}") from None
        unknown = [z for z in self.names if z not in regions]
        if unknown:
            raise ValueError(f"scenario.programmes.energy_zones.zones: {', '.join(unknown)} not among the {level} "
                             f"regions ({', '.join(regions)})")
        region_zone = np.array([self.names.index(r) if r in self.names else -1 for r in regions], dtype=np.int64)
        self.of_firm = region_zone[of_firm]
        engine.set_energy_zones(self.names, self.of_firm, self.price_paths, self.ef_paths)

    def new_year(self, engine) -> None:
        self._valuations(engine)

    def _valuations(self, engine) -> None:
        """This year's saving maps at each zone's prices and at the scenario's."""
        y = engine.year - engine.start_year
        cat = engine.catalogue
        self.w_base = np.ascontiguousarray(engine.valuation.saving_usd.T, dtype=np.float32)
        self.w_zone = np.stack([
            valuation(cat, self.shift, self.price_paths[z, y], self.ef_paths[z, y]).saving_usd.T
            for z in range(len(self.names))]).astype(np.float32)

    def _value(self, saving: np.ndarray) -> np.ndarray:
        """The decision's yearly value of an energy saving (``sim/screening.py``)."""
        return saving + np.maximum(saving, 0) * self.neb[None, :]

    def extra_value_usd_per_yr(self, engine, firms):
        """The measure's value at the zone's prices minus its value at the scenario's, USD/yr."""
        z = self.of_firm[firms]
        z = np.where((z >= 0) & self.priced[np.maximum(z, 0)], z, -1)
        if self.w_zone is None or (z < 0).all():
            return None
        x = engine.state_matrix(firms).astype(np.float32)
        out = np.zeros((len(z), engine.catalogue.k), dtype=np.float32)
        for zi in np.unique(z[z >= 0]):
            rows = np.flatnonzero(z == zi)
            xr = x[rows]
            out[rows] = self._value(xr @ self.w_zone[zi]) - self._value(xr @ self.w_base)
        return out

    def capex_factor(self, engine, firms):
        if not self.has_factor:
            return None
        z = self.of_firm[firms]
        return np.where((z >= 0)[:, None], self.factor[np.maximum(z, 0)], np.float32(1.0))

    def summary(self, engine) -> dict:
        y0, y1 = 0, len(engine.energy.years) - 1
        out = {}
        for zi, name in enumerate(self.names):
            out[name] = {
                "firms": int((self.of_firm == zi).sum()),
                "sectors": list(self.params.zones[name].sectors),
                "price_usd_per_mwh_first_year": dict(zip(CARRIERS, map(float, self.price_paths[zi, y0]))),
                "price_usd_per_mwh_last_year": dict(zip(CARRIERS, map(float, self.price_paths[zi, y1]))),
                "grid_ef_t_co2_per_mwh_first_year": float(self.ef_paths[zi, y0, CARRIERS.index("electricity")]),
                "grid_ef_t_co2_per_mwh_last_year": float(self.ef_paths[zi, y1, CARRIERS.index("electricity")]),
                "capex_factor": dict(self.params.zones[name].capex_factor),
            }
        return {"zones": out, "firms_on_scenario_paths": int((self.of_firm < 0).sum())}
