"""A cluster's emissions path against its net-zero commitment, with the economic indicators
its sources give a basis for.

The reference path falls linearly from the base-year emissions (the start year, as
calibrated) to zero in ``net_zero_year``. Each year the tracker reports the registry's
emissions (``scope``: "scope1+2" or "scope1", matching what the source reports), the
reference path, the gap, and whether the cluster is on track (at or below the path).

Indicators (only those with a basis; every number cites its source in the scenario file):
- carbon intensity of the cluster's GDP and per job, t CO2 per million USD and per job,
  with GDP and jobs held at their reported level (assumption: no growth is modelled);
- transition jobs and transition GDP: figures a source attributes to the cluster's
  decarbonisation, scaled pro rata to the share of base-year emissions abated so far
  (assumption: proportional to abatement; the source gives only the total).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import ConfigError
from . import Mechanism, register


@register("net_zero_tracker")
class NetZeroTracker(Mechanism):
    """Emissions path to net zero and the cluster's jobs/GDP indicators (see module doc)."""

    @dataclass
    class Params:
        net_zero_year: int = 2050  # free parameter, range 2040-2060 where the source gives no year
        net_zero_source: str = ""
        #: emissions counted: "scope1+2" or "scope1"
        scope: str = "scope1+2"
        #: the cluster's GDP, USD/yr (0 = no basis), and the year it refers to
        gdp_usd_per_yr: float = 0.0
        gdp_year: int = 0  # 0 = no basis
        gdp_source: str = ""
        #: the cluster's jobs (0 = no basis)
        jobs: float = 0.0
        jobs_source: str = ""
        #: jobs a source attributes to the cluster's decarbonisation (0 = no basis)
        transition_jobs: float = 0.0
        transition_jobs_source: str = ""
        #: yearly GDP a source attributes to the decarbonised cluster, USD/yr (0 = no basis)
        transition_gdp_usd_per_yr: float = 0.0
        transition_gdp_source: str = ""

    @classmethod
    def validate(cls, params, cfg, key: str) -> None:
        if params.scope not in ("scope1+2", "scope1"):
            raise ConfigError(f"{key}.scope", params.scope, "must be one of scope1+2, scope1")
        if params.net_zero_year <= cfg.start_year:
            raise ConfigError(f"{key}.net_zero_year", params.net_zero_year, f"must be after start_year ({cfg.start_year})")
        for name in ("gdp_usd_per_yr", "jobs", "transition_jobs", "transition_gdp_usd_per_yr"):
            v = getattr(params, name)
            if not v >= 0:
                raise ConfigError(f"{key}.{name}", v, "must be a number >= 0")
            src = {"gdp_usd_per_yr": "gdp_source", "jobs": "jobs_source", "transition_jobs": "transition_jobs_source",
                   "transition_gdp_usd_per_yr": "transition_gdp_source"}[name]
            if v > 0 and not getattr(params, src).strip():
                raise ConfigError(f"{key}.{src}", "", f"cite the source of {name}")

    def __init__(self, engine, params):
        super().__init__(engine, params)
        self.base_t_co2 = None

    def _rate_t_co2_per_yr(self, engine) -> float:
        s2 = engine.total_scope2 if self.params.scope == "scope1+2" else 0.0
        return float(engine.total_scope1 + s2)

    def path_t_co2_per_yr(self, engine, year: float) -> float:
        """The linear net-zero reference path at (fractional) ``year``, t CO2/yr."""
        base = self.base_t_co2 if self.base_t_co2 is not None else self._rate_t_co2_per_yr(engine)
        span = self.params.net_zero_year - engine.start_year
        return float(base * np.clip(1.0 - (year - engine.start_year) / span, 0.0, 1.0))

    def new_year(self, engine) -> None:
        if engine.year == engine.start_year:  # the start year's rate, with the initial stock, as calibrated
            s2 = engine.scope2_rate.sum() if self.params.scope == "scope1+2" else 0.0
            self.base_t_co2 = float(engine.scope1_rate.sum() + s2)

    def monthly_row(self, engine) -> dict:
        return {
            "net_zero_path_t_co2": self.path_t_co2_per_yr(engine, engine.start_year + engine.month / 12.0) / 12.0,
            "tracked_emissions_t_co2": self._rate_t_co2_per_yr(engine) / 12.0,
        }

    def _by_year(self, engine) -> dict[int, float]:
        reg = engine.registry
        tot = reg.total_scope1_t + (reg.total_scope2_t if self.params.scope == "scope1+2" else 0.0)
        return {int(y): float(t) for y, t, r in zip(reg.years, tot, reg.recorded) if r}

    def summary(self, engine) -> dict:
        p = self.params
        em = self._by_year(engine)
        if not em:
            return {"scope": p.scope, "net_zero_year": p.net_zero_year}
        base = em[engine.start_year] if engine.start_year in em else next(iter(em.values()))
        path = {y: base * max(0.0, 1.0 - (y - engine.start_year) / (p.net_zero_year - engine.start_year)) for y in em}
        last = max(em)
        reduction = {y: 1.0 - v / base if base > 0 else 0.0 for y, v in em.items()}
        out = {
            "scope": p.scope,
            "net_zero_year": p.net_zero_year,
            "net_zero_source": p.net_zero_source,
            "base_year_emissions_t_co2": base,
            "emissions_t_co2_by_year": {str(y): v for y, v in em.items()},
            "net_zero_path_t_co2_by_year": {str(y): v for y, v in path.items()},
            "gap_to_path_t_co2_by_year": {str(y): em[y] - path[y] for y in em},
            "on_track_by_year": {str(y): bool(em[y] <= path[y] + 1e-6 * base) for y in em},
            "reduction_share_by_year": {str(y): v for y, v in reduction.items()},
            "last_year": last,
            "emissions_last_year_t_co2": em[last],
            "share_of_base_remaining_last_year": em[last] / base if base > 0 else None,
            "net_zero_reached": bool(em[last] <= 1e-3 * base) if last >= p.net_zero_year else None,
        }
        ind = {}
        if p.gdp_usd_per_yr > 0:
            ind["gdp_usd_per_yr"] = p.gdp_usd_per_yr
            ind["gdp_source"] = p.gdp_source
            ind["carbon_intensity_t_co2_per_musd_by_year"] = {str(y): v / (p.gdp_usd_per_yr / 1e6) for y, v in em.items()}
        if p.jobs > 0:
            ind["jobs"] = p.jobs
            ind["jobs_source"] = p.jobs_source
            ind["t_co2_per_job_by_year"] = {str(y): v / p.jobs for y, v in em.items()}
        if p.transition_jobs > 0:
            ind["transition_jobs_basis"] = p.transition_jobs
            ind["transition_jobs_source"] = p.transition_jobs_source
            ind["transition_jobs_pro_rata_by_year"] = {str(y): p.transition_jobs * max(r, 0.0) for y, r in reduction.items()}
        if p.transition_gdp_usd_per_yr > 0:
            ind["transition_gdp_basis_usd_per_yr"] = p.transition_gdp_usd_per_yr
            ind["transition_gdp_source"] = p.transition_gdp_source
            ind["transition_gdp_usd_pro_rata_by_year"] = {str(y): p.transition_gdp_usd_per_yr * max(r, 0.0) for y, r in reduction.items()}
        if ind:
            ind["note"] = ("GDP and jobs held at their reported level; transition figures scaled pro rata to the share "
                           "of base-year emissions abated (assumptions)")
            out["indicators"] = ind
        return out
