"""Model-level reporters: named functions of a model's state, reused by the monthly time
series, the summary, the app and the tests. Each is O(measures) or O(carriers) per call:
the model keeps running totals, so reporting never loops over firms."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .params import CARRIERS


def emissions_t_co2_per_month(model) -> float:
    """Scope 1 + 2 emissions of all firms in the current month, t CO2."""
    return (model.total_scope1 + model.total_scope2) / 12.0


def scope1_t_co2_per_month(model) -> float:
    return model.total_scope1 / 12.0


def scope2_t_co2_per_month(model) -> float:
    return model.total_scope2 / 12.0


def adoption_share(model) -> np.ndarray:
    """[K] share of the firms a measure applies to that have it installed now (the installed
    stock: an installation leaves it when its lifetime ends or its savings lapse)."""
    return model.adopter_count / np.maximum(model.applicable_count, 1)


def awareness_share(model) -> np.ndarray:
    """[K] share of the firms a measure applies to that know it."""
    return model.aware_count / np.maximum(model.applicable_count, 1)


def energy_mwh_per_month(model) -> np.ndarray:
    """[C] final energy use of all firms this month by carrier, MWh."""
    return model.energy_total / 12.0


def energy_cost_saving_usd_per_month(model) -> float:
    """Energy bill saved this month against the start-year state (the stock installed before
    the run in place, scaled with the sectors' output), at this year's prices, USD."""
    return float((model.base_energy_total - model.energy_total) @ model.price) / 12.0


def spending_usd(model) -> dict[str, float]:
    """Cumulative public spending by instrument, USD."""
    return model.spending_usd()


def carbon_price_usd_per_t(model) -> float:
    return model.gov.carbon_price_usd_per_t


def carbon_revenue_usd_per_month(model) -> float:
    """Carbon price paid by covered firms this month on their scope-1 emissions, USD."""
    p = model.gov.carbon_price_usd_per_t
    if p == 0:
        return 0.0
    return float(p * model.scope1_rate[model.gov.carbon_price_covers].sum() / 12.0)


def registry_coverage_share(model) -> float:
    """Share of firms reporting to the emissions registry."""
    # (the month as a 0-d array of the column's dtype: a Python int makes numpy copy the column)
    month = np.array(model.month, dtype=model.reporting_sorted.dtype)
    return float(np.searchsorted(model.reporting_sorted, month, side="right") / model.n_firms)


def scalar_row(model) -> dict:
    """The month's scalar reporters (name -> value)."""
    return {
        "month": model.month,
        "year": model.year,
        "emissions_t_co2": emissions_t_co2_per_month(model),
        "scope1_t_co2": scope1_t_co2_per_month(model),
        "scope2_t_co2": scope2_t_co2_per_month(model),
        "energy_cost_saving_usd": energy_cost_saving_usd_per_month(model),
        "carbon_price_usd_per_t_co2": carbon_price_usd_per_t(model),
        "carbon_revenue_usd": carbon_revenue_usd_per_month(model),
        "registry_coverage_share": registry_coverage_share(model),
        "adoptions": int(model.adoptions_total),  # adoption events so far (stock before the run, replacements included)
        "installed_measures": int(model.adopter_count.sum()),  # installed (firm, measure) pairs now
        "expiries": int(model.expiries_total),  # installations that ended so far (lifetime or lapse)
        "consultants": model.consultants.consultants,
        "workshop_participants": model.instruments["workshops"].participants_this_month,
        "assessments": model.assessments_this_month,
    }


@lru_cache(maxsize=256)
def _columns(prefix: str, names: tuple, suffix: str, total: str | None = None) -> tuple[str, ...]:
    """Column names of a vector reporter (built once per set of names)."""
    return tuple(f"{prefix}{n}{suffix}" for n in names) + ((total,) if total else ())


def vector_rows(model) -> list[tuple[tuple[str, ...], np.ndarray]]:
    """The month's vector reporters: (column names, values) blocks, one column per carrier,
    measure or instrument."""
    names = tuple(model.catalogue.names)
    sp = spending_usd(model)
    spend = np.empty(len(sp) + 1)
    spend[:-1] = list(sp.values())
    spend[-1] = spend[:-1].sum()  # the total
    in_kind = model.gov.in_kind_usd()  # contributions in kind (not public money), cumulative
    return [
        (_columns("energy_", tuple(CARRIERS), "_mwh"), energy_mwh_per_month(model)),
        (_columns("adopted_share_", names, ""), adoption_share(model)),
        (_columns("aware_share_", names, ""), awareness_share(model)),
        (_columns("spending_", tuple(sp), "_usd", "spending_total_usd"), spend),
    ] + ([(_columns("in_kind_", tuple(in_kind), "_usd"), np.fromiter(in_kind.values(), float, len(in_kind)))] if in_kind else [])
