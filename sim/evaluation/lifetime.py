"""What each installation delivers over its lifetime.

An adoption row (``adoptions.parquet``) is one installation: it abates
``abatement_t_co2_per_yr`` and saves ``energy_cost_saving_usd_per_yr`` (both first-order, at
the month it was adopted) from its month until it expires after the catalogue's
``lifetime_yr``, or the horizon, whichever comes first. A replacement after expiry is its own
row (its own installation), so summing rows is right whether or not the engine retires
measures. Flows are discounted continuously at the social rate r (factor (1 + r)^-t, t in
years from January of the run's start year); a lump sum (capex, a grant) at its month.

Evaluators count lifetime savings of the measures a programme installed (e.g. CPUC Standard
Practice Manual, 2001: lifecycle benefits over the effective useful life; IEA 2010, Energy
Efficiency Governance: cost per lifetime unit saved).
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def years_from_start(month) -> np.ndarray:
    """Months since the run's start -> years (January of the start year = 0)."""
    return np.asarray(month, dtype=float) / 12.0


def present_value_of_flow(t0, t1, rate_per_yr: float) -> np.ndarray:
    """Discounted years of a flow of 1 per year from ``t0`` to ``t1`` (years, t1 >= t0):
    the integral of (1 + r)^-t dt; r = 0 gives t1 - t0."""
    t0, t1 = np.asarray(t0, float), np.maximum(np.asarray(t1, float), np.asarray(t0, float))
    if rate_per_yr == 0:
        return t1 - t0
    d = np.log1p(rate_per_yr)
    return (np.exp(-d * t0) - np.exp(-d * t1)) / d


def discount_factor(t, rate_per_yr: float) -> np.ndarray:
    return np.power(1.0 + rate_per_yr, -np.asarray(t, float))


def service_years(adoptions: pd.DataFrame, lifetime_yr: dict[str, float], end_t: float | None):
    """(start, end) in years of each installation's service: from its month to its expiry
    (catalogue lifetime), cut at ``end_t`` (years from the start; None = the whole lifetime)."""
    t0 = years_from_start(adoptions["month"].to_numpy())
    life = adoptions["measure"].astype(str).map(lifetime_yr).to_numpy(dtype=float)
    if np.isnan(life).any():
        missing = sorted(set(adoptions["measure"].astype(str)[np.isnan(life)]))
        raise ValueError(f"no lifetime_yr in the run's catalogue for {', '.join(missing)}")
    t1 = t0 + life
    if end_t is not None:
        t1 = np.minimum(t1, end_t)
    return t0, t1


def lifetime_flows(adoptions: pd.DataFrame, lifetime_yr: dict[str, float], om_share: dict[str, float],
                   end_t: float | None, rate_per_yr: float) -> pd.DataFrame:
    """Per installation: tonnes abated, energy-cost savings and O&M over its service to
    ``end_t`` (discounted at ``rate_per_yr``), and its lump sums (capex, grant, loan grant
    equivalent) discounted to the start; installations after ``end_t`` count nothing."""
    t0, t1 = service_years(adoptions, lifetime_yr, end_t)
    yrs = present_value_of_flow(t0, t1, rate_per_yr)
    inside = t0 < (np.inf if end_t is None else end_t)
    lump = np.where(inside, discount_factor(t0, rate_per_yr), 0.0)
    capex = adoptions["capex_usd"].to_numpy(float)
    om = adoptions["measure"].astype(str).map(om_share).fillna(0.0).to_numpy(float) * capex
    return pd.DataFrame({
        "abatement_t_co2": adoptions["abatement_t_co2_per_yr"].to_numpy(float) * yrs,
        "energy_cost_saving_usd": _saving(adoptions) * yrs,
        "om_usd": om * yrs,
        "capex_usd": capex * lump,
        "grant_usd": adoptions["subsidy_usd"].to_numpy(float) * lump,
        "loan_grant_equivalent_usd": adoptions["loan_grant_equivalent_usd"].to_numpy(float) * lump,
        "installed": inside,
    }, index=adoptions.index)


def _saving(adoptions: pd.DataFrame) -> np.ndarray:
    if "energy_cost_saving_usd_per_yr" not in adoptions:
        raise ValueError("adoptions.parquet has no energy_cost_saving_usd_per_yr (a run folder written before the evaluation "
                         "columns); re-run it")
    return adoptions["energy_cost_saving_usd_per_yr"].to_numpy(float)
