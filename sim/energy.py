"""Energy prices and emission factors by year and carrier.

A scenario gives each carrier's price (USD/MWh) and CO2 emission factor (t CO2/MWh of final
energy; for electricity the grid's factor, scope 2) as a few {year: value} points with their
source; here they become dense ``[year, carrier]`` tables, linearly interpolated between
points and held flat outside them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import CARRIERS, ScenarioConfig, TrajectoryConfig

#: carriers whose emissions are the firm's own (scope 1); electricity is scope 2
SCOPE1_CARRIERS = np.array([c != "electricity" for c in CARRIERS])
ELECTRICITY = CARRIERS.index("electricity")
NATURAL_GAS = CARRIERS.index("natural_gas")


def interpolate(traj: TrajectoryConfig, years: np.ndarray) -> np.ndarray:
    """Values of a {year: value} trajectory at ``years`` (linear, flat outside the points)."""
    pts = sorted((int(y), float(v)) for y, v in traj.points.items())
    xs = np.array([p[0] for p in pts], dtype=float)
    ys = np.array([p[1] for p in pts], dtype=float)
    return np.interp(years.astype(float), xs, ys)


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
