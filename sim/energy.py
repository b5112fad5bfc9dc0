"""Energy prices and emission factors by year and carrier.

A scenario gives each carrier's price (USD/MWh) and CO2 emission factor (t CO2/MWh of final
energy; for electricity the grid's factor, scope 2) as a few {year: value} points with their
source; here they become dense ``[year, carrier]`` tables, linearly interpolated between
points and held flat outside them. Hydrogen can instead be priced from the scenario's own
electricity price (``hydrogen_cost_usd_per_mwh``), and energy zones (regions of a
multi-country scenario) get paths of their own (``zone_paths``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import CARRIERS, HydrogenCostConfig, ScenarioConfig, TrajectoryConfig

#: carriers whose emissions are the firm's own (scope 1); electricity is scope 2
SCOPE1_CARRIERS = np.array([c != "electricity" for c in CARRIERS])
ELECTRICITY = CARRIERS.index("electricity")
NATURAL_GAS = CARRIERS.index("natural_gas")
HYDROGEN = CARRIERS.index("hydrogen")


def interpolate(traj: TrajectoryConfig, years: np.ndarray) -> np.ndarray:
    """Values of a {year: value} trajectory at ``years`` (linear, flat outside the points)."""
    pts = sorted((int(y), float(v)) for y, v in traj.points.items())
    xs = np.array([p[0] for p in pts], dtype=float)
    ys = np.array([p[1] for p in pts], dtype=float)
    return np.interp(years.astype(float), xs, ys)


def _points(points: dict, years: np.ndarray) -> np.ndarray:
    """{year: value} points at ``years`` (linear, flat outside)."""
    pts = sorted((int(y), float(v)) for y, v in points.items())
    return np.interp(years.astype(float), [p[0] for p in pts], [p[1] for p in pts])


def capital_recovery_factor(rate_per_yr: float, lifetime_yr: float) -> float:
    """Yearly payment per USD of capital over ``lifetime_yr`` at ``rate_per_yr``."""
    if rate_per_yr <= 0:
        return 1.0 / lifetime_yr
    return rate_per_yr / (1.0 - (1.0 + rate_per_yr) ** -lifetime_yr)


def hydrogen_cost_usd_per_mwh(electricity_usd_per_mwh: np.ndarray, years: np.ndarray, h: HydrogenCostConfig) -> np.ndarray:
    """Levelised cost of hydrogen from grid-connected electrolysis, USD per MWh of hydrogen
    (LHV), each year:

        electricity price * e  +  capex * (CRF + O&M share) * e / full-load hours * 1000  +  delivery

    with e = MWh of electricity per MWh of hydrogen and capex in USD per kW of electric
    input (a kW runs ``full_load_hours`` kWh a year and makes ``full_load_hours / e`` kWh of
    hydrogen)."""
    e = _points(h.electricity_mwh_per_mwh_h2, years)
    capex = _points(h.capex_usd_per_kw, years)
    fixed = capex * (capital_recovery_factor(h.discount_rate_per_yr, h.lifetime_yr) + h.om_share_of_capex_per_yr)
    return np.asarray(electricity_usd_per_mwh) * e + fixed * e * 1000.0 / h.full_load_hours_per_yr + h.delivery_usd_per_mwh


def zone_paths(sc: ScenarioConfig, base: "EnergyPaths", prices: dict, grid_ef: TrajectoryConfig | None) -> tuple[np.ndarray, np.ndarray]:
    """[years, C] price and emission-factor paths of an energy zone: the scenario's paths with
    the carriers in ``prices`` ({carrier: TrajectoryConfig}) and the grid factor ``grid_ef``
    (None or no points: the scenario's) replaced; with hydrogen priced from electricity
    (``scenario.hydrogen_from_electricity``), the zone's hydrogen follows its own electricity
    price unless the zone gives hydrogen a path of its own."""
    years = base.years
    price, ef = base.price_usd_per_mwh.copy(), base.ef_t_co2_per_mwh.copy()
    for c, traj in prices.items():
        price[:, CARRIERS.index(c)] = interpolate(traj, years)
    if grid_ef is not None and grid_ef.points:
        ef[:, ELECTRICITY] = interpolate(grid_ef, years)
    if sc.hydrogen_from_electricity.enabled and "hydrogen" not in prices:
        price[:, HYDROGEN] = hydrogen_cost_usd_per_mwh(price[:, ELECTRICITY], years, sc.hydrogen_from_electricity)
    return price, ef


@dataclass(frozen=True)
class EnergyPaths:
    """``price_usd_per_mwh[y, c]`` and ``ef_t_co2_per_mwh[y, c]`` for y = years - start_year."""

    years: np.ndarray
    price_usd_per_mwh: np.ndarray
    ef_t_co2_per_mwh: np.ndarray

    @classmethod
    def from_scenario(cls, sc: ScenarioConfig, start_year: int, end_year: int) -> "EnergyPaths":
        years = np.arange(start_year, end_year + 1)
        price = np.stack([interpolate(sc.prices_usd_per_mwh[c], years) for c in CARRIERS], axis=1)
        ef = np.stack([interpolate(sc.emission_factors_t_co2_per_mwh[c], years) for c in CARRIERS], axis=1)
        if sc.hydrogen_from_electricity.enabled:
            price[:, HYDROGEN] = hydrogen_cost_usd_per_mwh(price[:, ELECTRICITY], years, sc.hydrogen_from_electricity)
        return cls(years, price, ef)


def output_index(sc: ScenarioConfig, start_year: int, end_year: int) -> np.ndarray:
    """[year, sector] output of each sector relative to the start year (1.0 in the start year,
    where the calibration holds): its own ``scenario.growth.output_index`` path, else the
    ``all`` path, else constant output."""
    years = np.arange(start_year, end_year + 1)
    paths = sc.growth.output_index
    out = np.ones((len(years), len(sc.sectors)))
    for s, spec in enumerate(sc.sectors):
        traj = paths.get(spec.name, paths.get("all"))
        if traj is not None:
            v = interpolate(traj, years)
            out[:, s] = v / v[0]
    return out
