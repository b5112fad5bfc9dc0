"""A Low-Carbon Fuel Standard (LCFS)-style credit market for transport electrification.

As in California's LCFS, a fleet that replaces diesel with electricity generates credits,
in t CO2e per year, for the carbon intensity it avoids below the standard's declining
benchmark for diesel. The electricity is credited for the diesel it displaces *in the
standard's accounting*: its energy times the energy-economy ratio (EER: an electric drive
train does EER times the work of a diesel engine per MJ; CARB, 17 CCR 95486.1 Table 5:
EER 5.0 for heavy-duty battery-electric trucks and buses against diesel):

    credits (t/yr) = electricity used (MWh/yr) * (EER * benchmark CI (t/MWh, declining)
                                                  - grid emission factor of the firm (t/MWh))

(CARB: credits = (CI_standard - CI_reported / EER) * E_displaced with E_displaced =
EER * E_reported, multiplied out.) The electricity used is the measure's
``adds_mwh_per_mwh_removed`` times the diesel it displaced.

Fuel suppliers whose fuels are above the benchmark (deficit generators) must buy them; the
credits are paid at the credit price. The credit is a market instrument: it moves money
from fossil-fuel suppliers to electrifying fleets and costs no public money.

In the decision, a firm in a covered country counts ``revenue_counted_share`` of the
credit revenue it expects from electrifying (``extra_value_usd_per_yr``; credit prices are
volatile, so investors discount them). Which countries the standard covers is a lever
(``covered_countries``): a Mexican LCFS harmonised with California's is
``covered_countries: [us, mx]``.

Reported: credits generated and credit payments (USD) by country and year.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List

import numpy as np

from ..energy import interpolate
from ..params import CARRIERS, ConfigError, TrajectoryConfig
from . import Mechanism, register
from .charging_network import check_countries, check_ev_measure, ev_displaced_diesel_mwh, firm_country

DIESEL = CARRIERS.index("diesel")
ELECTRICITY = CARRIERS.index("electricity")


@register("lcfs_credit")
class LcfsCredit(Mechanism):
    @dataclass
    class Params:
        #: all country codes of the scenario (sector suffixes); credits only in ``covered_countries``
        countries: List[str] = field(default_factory=lambda: ["us", "mx"])
        covered_countries: List[str] = field(default_factory=lambda: ["us"])
        start_year: int = 2025
        ev_measure: str = "fleet_electrification"
        #: credit price, USD per t CO2e, {year: value}
        credit_price_usd_per_t_co2: TrajectoryConfig = field(default_factory=TrajectoryConfig)
        #: carbon-intensity benchmark of diesel, t CO2e per MWh, {year: value}
        benchmark_t_co2_per_mwh: TrajectoryConfig = field(default_factory=TrajectoryConfig)
        #: energy-economy ratio of the electric vehicles against diesel (CARB, 17 CCR 95486.1
        #: Table 5: 5.0 for heavy-duty battery-electric trucks and buses; 1 = none)
        energy_economy_ratio: float = 5.0  # source: CARB LCFS, 17 CCR 95486.1
        #: share of expected credit revenue a firm counts in its investment decision
        revenue_counted_share: float = 0.5  # free parameter, range 0.2-1.0 (credit prices are volatile)
        source: str = ""

    @classmethod
    def validate(cls, p, cfg, key):
        check_countries(p.countries, [s.name for s in cfg.scenario.sectors], key)
        for c in p.covered_countries:
            if c not in p.countries:
                raise ConfigError(f"{key}.covered_countries", c, f"unknown country; countries: {', '.join(p.countries)}")
        check_ev_measure(cfg, p.ev_measure, key)
        for name in ("credit_price_usd_per_t_co2", "benchmark_t_co2_per_mwh"):
            t = getattr(p, name)
            if not t.points:
                raise ConfigError(f"{key}.{name}.points", {}, "needs at least one {year: value}")
            if not t.source.strip():
                raise ConfigError(f"{key}.{name}.source", "", "cite the source of the trajectory")
            for y, v in t.points.items():
                if not v >= 0:
                    raise ConfigError(f"{key}.{name}.points[{y}]", v, "must be a number >= 0")
        if not p.energy_economy_ratio > 0:
            raise ConfigError(f"{key}.energy_economy_ratio", p.energy_economy_ratio, "must be a number > 0")
        if not 0 <= p.revenue_counted_share <= 1:
            raise ConfigError(f"{key}.revenue_counted_share", p.revenue_counted_share, "must be a share in [0, 1]")

    def __init__(self, engine, params):
        super().__init__(engine, params)
        p = params
        self.countries = list(p.countries)
        self.k = engine.catalogue.index(p.ev_measure)
        self.country = firm_country(engine, self.countries)
        covered_c = np.array([c in p.covered_countries for c in self.countries] + [False])
        self.covered = covered_c[self.country]  # [N] (country -1 -> last entry, False)
        years = engine.energy.years
        self.price_path = interpolate(p.credit_price_usd_per_t_co2, years)
        self.benchmark_path = interpolate(p.benchmark_t_co2_per_mwh, years)
        r = float(engine.catalogue.removes_share[self.k, DIESEL])
        self.removes = r
        self.elec_per_diesel = float(engine.catalogue.adds_mwh_per_mwh_removed[self.k])
        C = len(self.countries)
        self.credits_t = np.zeros(C)
        self.payments_usd = np.zeros(C)
        self.by_year: dict[int, dict] = {}
        self.month_credits_t = np.zeros(C)
        self.month_payments_usd = np.zeros(C)
        self._set_year(engine.start_year)  # the start year's credit counts in the initial stock too

    def _set_year(self, year: int) -> None:
        y = year - self.engine.start_year
        on = year >= self.params.start_year
        self.price = float(self.price_path[y]) if on else 0.0
        self.benchmark = float(self.benchmark_path[y])

    def credit_t_per_mwh_displaced(self, engine, firms=None) -> np.ndarray:
        """Credits per MWh of diesel displaced this year, t CO2e (>= 0), for each of ``firms``
        (None: all firms): the electricity used instead (``adds_mwh_per_mwh_removed`` MWh per
        MWh) times (EER x benchmark - the firm's grid emission factor)."""
        grid = engine.ef_of(firms)[:, ELECTRICITY]
        eer = self.params.energy_economy_ratio
        return np.maximum(self.elec_per_diesel * (eer * self.benchmark - grid), 0.0)

    # hooks ------------------------------------------------------------------------------
    def new_year(self, engine) -> None:
        self._set_year(engine.year)

    def extra_value_usd_per_yr(self, engine, firms):
        if self.price <= 0 or not self.covered.any():
            return None
        # the firms' diesel use as the decision's float32 state holds it
        diesel = engine.firms.energy_mwh_per_yr[firms, DIESEL].astype(np.float32)
        out = np.zeros((len(diesel), engine.catalogue.k), dtype=np.float32)
        per_mwh = self.credit_t_per_mwh_displaced(engine, firms) * self.price * self.params.revenue_counted_share
        out[:, self.k] = diesel * (self.removes * per_mwh * self.covered[firms]).astype(np.float32)
        return out

    def end_month(self, engine) -> None:
        C = len(self.countries)
        if self.price <= 0:
            self.month_credits_t = np.zeros(C)
            self.month_payments_usd = np.zeros(C)
            return
        d = ev_displaced_diesel_mwh(engine, self.k)
        sel = self.covered & (d > 0)
        per_mwh = self.credit_t_per_mwh_displaced(engine, np.flatnonzero(sel))
        credits = np.bincount(self.country[sel], weights=d[sel] * per_mwh, minlength=C) / 12.0
        self.month_credits_t = credits
        self.month_payments_usd = credits * self.price
        self.credits_t += credits
        self.payments_usd += self.month_payments_usd
        h = self.by_year.setdefault(engine.year, {"credits_t_co2": np.zeros(C), "payments_usd": np.zeros(C)})
        h["credits_t_co2"] += credits
        h["payments_usd"] += self.month_payments_usd

    def monthly_row(self, engine) -> dict:
        row = {"lcfs_credit_price_usd_per_t_co2": self.price}
        for i, c in enumerate(self.countries):
            row[f"lcfs_credits_t_co2_{c}"] = float(self.month_credits_t[i])
            row[f"lcfs_payments_usd_{c}"] = float(self.month_payments_usd[i])
        return row

    def summary(self, engine) -> dict:
        cs = self.countries
        headline = {f"credits_t_co2_{c}": float(v) for c, v in zip(cs, self.credits_t)}
        headline.update({f"payments_usd_{c}": float(v) for c, v in zip(cs, self.payments_usd)})
        return {
            "headline": headline,
            "covered_countries": list(self.params.covered_countries),
            "credits_t_co2": {c: float(v) for c, v in zip(cs, self.credits_t)},
            "payments_from_fuel_suppliers_to_fleets_usd": {c: float(v) for c, v in zip(cs, self.payments_usd)},
            "credits_t_co2_total": float(self.credits_t.sum()),
            "payments_usd_total": float(self.payments_usd.sum()),
            "public_cost_usd": 0.0,
            "by_year": {str(y): {"credits_t_co2": {c: float(v) for c, v in zip(cs, h["credits_t_co2"])},
                                 "payments_usd": {c: float(v) for c, v in zip(cs, h["payments_usd"])}}
                        for y, h in sorted(self.by_year.items())},
        }
