"""Public charging infrastructure for electric fleets, as an agent, across two (or more)
countries.

The network holds a stock of chargers per country and location class (e.g. urban Level 2,
urban DC fast, freight-corridor truck chargers), each class with its installed cost and the
number of electric vehicles one charger can serve. Every year:

1. **government** deploys its yearly programme of chargers per country and class while its
   budget lasts (public spending, reported with ``engine.report_spending``);
2. **industry** (charge-point operators, utilities, OEMs) deploys chargers where the
   electric fleet makes them pay: it adds chargers of a class until each serves no more
   than ``industry_evs_per_charger`` vehicles, growing the stock by at most
   ``industry_max_growth_share`` a year (private investment, reported);
3. **access** in each country is the share of the potential electric fleet the public
   network can serve, a saturating function of capacity: ``capacity / (capacity +
   half_access_share * potential vehicles)``.

The **network externality**: a fleet in a country with little public charging must build
its own depot charging and grid connection, so the electrification measure costs it
``1 + charging_gap_capex_share * (1 - access)`` times its catalogue capex (``capex_factor``);
as fleets electrify, industry builds chargers, access rises and electrification gets
cheaper for everyone in that country.

A firm's country is the suffix of its sector name (``tier1_mx`` -> ``mx``); firms whose
sector has no country suffix are outside the network (no charging effect). The electric
fleet is measured as diesel displaced by the electrification measure (``ev_measure``),
converted to vehicles with ``diesel_mwh_per_vehicle_yr``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np

from ..params import CARRIERS, ConfigError
from . import Mechanism, register

DIESEL = CARRIERS.index("diesel")


def firm_country(engine, countries: list[str]) -> np.ndarray:
    """[N] index into ``countries`` of each firm's country (sector name suffix ``_<country>``), -1 if none."""
    sec_country = np.array([next((i for i, c in enumerate(countries) if s.endswith(f"_{c}")), -1)
                            for s in engine.sector_names], dtype=np.int64)
    return sec_country[engine.firms.sector]


def check_countries(countries, sector_names, key: str) -> None:
    if not countries:
        raise ConfigError(f"{key}.countries", [], "must list at least one country code (sector names end in _<code>)")
    for c in countries:
        if not any(s.endswith(f"_{c}") for s in sector_names):
            raise ConfigError(f"{key}.countries", c, f"no sector ends in _{c}; sectors: {', '.join(sector_names)}")


def check_ev_measure(cfg, name: str, key: str) -> None:
    spec = {m.name: m for m in cfg.measures.catalogue}.get(name)
    if spec is None:
        raise ConfigError(f"{key}.ev_measure", name, f"unknown measure; catalogue has: {', '.join(m.name for m in cfg.measures.catalogue)}")
    r = spec.removes_share.get("diesel", 0.0)
    if not (0 < r < 1) or spec.adds_carrier != "electricity":
        raise ConfigError(f"{key}.ev_measure", name, "must remove a share in (0, 1) of diesel and add electricity")


def ev_displaced_diesel_mwh(engine, k_ev: int) -> np.ndarray:
    """[N] diesel MWh/yr each firm no longer burns because it electrified (0 if it did not).
    The measure removed a share r of diesel, so the displaced amount is r / (1 - r) of what
    the firm burns now. ``engine``: the :class:`sim.engine.Engine` (read-only firm table)."""
    r = float(engine.catalogue.removes_share[k_ev, DIESEL])
    ft = engine.firms
    return np.where(ft.adopted[:, k_ev], ft.energy_mwh_per_yr[:, DIESEL] * (r / (1.0 - r)), 0.0)


@dataclass
class ChargerClass:
    """One location class of public chargers."""

    #: installed cost of one charger (hardware, installation, grid connection), USD
    cost_usd_per_charger: float = 0.0  # 0 = none; set per class with its source
    #: electric fleet vehicles one charger can serve
    vehicles_served_per_charger: float = 1.0  # free parameter, range 1-30
    #: chargers in the start year, by country
    initial_chargers: Dict[str, int] = field(default_factory=dict)
    #: chargers the government deploys each year, by country
    government_chargers_per_yr: Dict[str, int] = field(default_factory=dict)
    #: industry adds chargers of this class until each serves at most this many electric vehicles
    industry_evs_per_charger: float = 10.0  # free parameter, range 2-60
    source: str = ""


@register("charging_network")
class ChargingNetwork(Mechanism):
    """Public chargers by country and location class, deployed by government and industry;
    their coverage lowers the cost of fleet electrification (network externality)."""

    @dataclass
    class Params:
        #: country codes; a firm's country is its sector name's suffix (_us, _mx)
        countries: List[str] = field(default_factory=lambda: ["us", "mx"])
        #: the catalogue measure that electrifies a fleet (removes diesel, adds electricity)
        ev_measure: str = "fleet_electrification"
        classes: Dict[str, ChargerClass] = field(default_factory=dict)
        #: government budget for chargers over the whole run, by country, USD
        government_budget_usd: Dict[str, float] = field(default_factory=dict)
        #: largest yearly growth of a class's stock by industry, share of the stock (build-out speed)
        industry_max_growth_share: float = 0.5  # free parameter, range 0.2-1.0
        #: extra capex of electrifying with no public charging (own depot chargers, grid connection), share
        charging_gap_capex_share: float = 0.5  # free parameter, range 0.2-1.0
        #: public capacity, as a share of the potential electric fleet, at which access is one half
        half_access_share: float = 0.05  # free parameter, range 0.01-0.2
        #: diesel a fleet vehicle burns per year, MWh (converts displaced diesel to vehicles)
        diesel_mwh_per_vehicle_yr: float = 100.0  # free parameter, range 30-350 (vans ~30, tractor-trailers ~350 MWh/yr)
        source: str = ""

    @classmethod
    def validate(cls, p, cfg, key):
        names = [s.name for s in cfg.scenario.sectors]
        check_countries(p.countries, names, key)
        check_ev_measure(cfg, p.ev_measure, key)
        if not p.classes:
            raise ConfigError(f"{key}.classes", {}, "must define at least one charger location class")
        for name, c in p.classes.items():
            k = f"{key}.classes.{name}"
            if not c.cost_usd_per_charger > 0:
                raise ConfigError(f"{k}.cost_usd_per_charger", c.cost_usd_per_charger, "must be a number > 0")
            if not c.vehicles_served_per_charger > 0:
                raise ConfigError(f"{k}.vehicles_served_per_charger", c.vehicles_served_per_charger, "must be a number > 0")
            if not c.industry_evs_per_charger > 0:
                raise ConfigError(f"{k}.industry_evs_per_charger", c.industry_evs_per_charger, "must be a number > 0")
            for field_name in ("initial_chargers", "government_chargers_per_yr"):
                for country, v in getattr(c, field_name).items():
                    if country not in p.countries:
                        raise ConfigError(f"{k}.{field_name}", country, f"unknown country; countries: {', '.join(p.countries)}")
                    if v < 0:
                        raise ConfigError(f"{k}.{field_name}.{country}", v, "must be an integer >= 0")
            if not c.source.strip():
                raise ConfigError(f"{k}.source", c.source, "cite the source of the class's cost and service numbers")
        for country, v in p.government_budget_usd.items():
            if country not in p.countries:
                raise ConfigError(f"{key}.government_budget_usd", country, f"unknown country; countries: {', '.join(p.countries)}")
            if not v >= 0:
                raise ConfigError(f"{key}.government_budget_usd.{country}", v, "must be a number >= 0")
        for name in ("industry_max_growth_share", "charging_gap_capex_share", "half_access_share", "diesel_mwh_per_vehicle_yr"):
            v = getattr(p, name)
            if not v >= 0:
                raise ConfigError(f"{key}.{name}", v, "must be a number >= 0")
        if not p.diesel_mwh_per_vehicle_yr > 0 or not p.half_access_share > 0:
            raise ConfigError(f"{key}.diesel_mwh_per_vehicle_yr/half_access_share", 0, "must be numbers > 0")

    class _Budget:
        """Public money for chargers (``spent_usd``, reported with ``engine.report_spending``)."""

        def __init__(self, budgets):
            self.budget_usd = budgets
            self.spent_usd = 0.0

    def __init__(self, engine, params):
        super().__init__(engine, params)
        p = params
        self.countries = list(p.countries)
        self.class_names = list(p.classes)
        C, J = len(self.countries), len(self.class_names)
        cls = [p.classes[j] for j in self.class_names]
        self.cost = np.array([c.cost_usd_per_charger for c in cls])
        self.served = np.array([c.vehicles_served_per_charger for c in cls])
        self.industry_evs = np.array([c.industry_evs_per_charger for c in cls])

        def table(attr):
            return np.array([[getattr(c, attr).get(country, 0) for c in cls] for country in self.countries], dtype=float)

        self.chargers = table("initial_chargers")  # [C, J]
        self.initial = self.chargers.copy()
        self.gov_per_yr = table("government_chargers_per_yr")
        self.gov_built = np.zeros((C, J))
        self.industry_built = np.zeros((C, J))
        self.gov_budget = np.array([p.government_budget_usd.get(c, 0.0) for c in self.countries])
        self.gov_spent = np.zeros(C)
        self.industry_invest = np.zeros(C)
        self.budget = self._Budget(float(self.gov_budget.sum()))
        engine.report_spending("chargers_government", self.budget)

        self.k = engine.catalogue.index(p.ev_measure)
        self.country = firm_country(engine, self.countries)  # [N]
        ft = engine.firms
        r = float(engine.catalogue.removes_share[self.k, DIESEL])
        # potential electric fleet: vehicles that the measure could electrify in each country
        potential = np.where(ft.applicable[:, self.k] & (self.country >= 0), r * ft.energy_mwh_per_yr[:, DIESEL], 0.0)
        self.potential_vehicles = np.bincount(np.maximum(self.country, 0), weights=potential * (self.country >= 0),
                                              minlength=C) / p.diesel_mwh_per_vehicle_yr
        self.evs = np.zeros(C)
        self.history: dict[int, dict] = {}
        self._update_access()

    # state ----------------------------------------------------------------------------
    def capacity_vehicles(self) -> np.ndarray:
        """[C] electric vehicles the public network can serve."""
        return self.chargers @ self.served

    def _update_access(self) -> None:
        cap = self.capacity_vehicles()
        half = self.params.half_access_share * np.maximum(self.potential_vehicles, 1.0)
        self.access = cap / (cap + half)
        # index -1 (firms outside the countries) -> access 1: no charging gap
        self._access_ext = np.append(self.access, 1.0).astype(np.float32)

    def electric_vehicles(self, engine) -> np.ndarray:
        """[C] vehicles electrified so far by country."""
        d = ev_displaced_diesel_mwh(engine, self.k)
        inside = self.country >= 0
        return np.bincount(self.country[inside], weights=d[inside], minlength=len(self.countries)) / self.params.diesel_mwh_per_vehicle_yr

    def ev_share(self, engine) -> np.ndarray:
        """[C] electrified share of the potential electric fleet."""
        return self.electric_vehicles(engine) / np.maximum(self.potential_vehicles, 1e-9)

    # hooks ------------------------------------------------------------------------------
    def new_year(self, engine) -> None:
        """The year's build-out (from the start year on; the measures already in place are
        valued on the initial stock of chargers, so ``setup`` has nothing to do)."""
        year = engine.year
        p = self.params
        # 1. government programme, while each country's budget lasts
        want = self.gov_per_yr
        left = self.gov_budget - self.gov_spent
        # a country that cannot pay its whole programme builds what its money buys, cheapest class first
        built = np.zeros_like(want)
        for j in np.argsort(self.cost):  # J classes, not firms
            n = np.minimum(want[:, j], np.floor(np.maximum(left, 0.0) / self.cost[j] + 1e-9))
            built[:, j] = n
            left = left - n * self.cost[j]
        spend = (built * self.cost[None, :]).sum(axis=1)
        self.gov_spent += spend
        self.budget.spent_usd = float(self.gov_spent.sum())
        self.gov_built += built
        self.chargers += built
        # 2. industry builds where the electric fleet makes chargers pay
        self.evs = self.electric_vehicles(engine)
        need = np.ceil(self.evs[:, None] / self.industry_evs[None, :])
        cap = np.ceil(np.maximum(self.chargers, 1.0) * p.industry_max_growth_share)
        add = np.clip(need - self.chargers, 0.0, cap)
        self.industry_built += add
        self.industry_invest += (add * self.cost[None, :]).sum(axis=1)
        self.chargers += add
        self._update_access()
        self.history[year] = {
            "chargers": {c: {j: int(self.chargers[i, jj]) for jj, j in enumerate(self.class_names)} for i, c in enumerate(self.countries)},
            "government_built": {c: int(built[i].sum()) for i, c in enumerate(self.countries)},
            "industry_built": {c: int(add[i].sum()) for i, c in enumerate(self.countries)},
            "access_share": {c: float(self.access[i]) for i, c in enumerate(self.countries)},
            "electric_vehicles": {c: float(self.evs[i]) for i, c in enumerate(self.countries)},
            "fleet_ev_share": {c: float(v) for c, v in zip(self.countries, self.evs / np.maximum(self.potential_vehicles, 1e-9))},
        }

    def capex_factor(self, engine, firms):
        R = len(self.country[firms])
        out = np.ones((R, engine.catalogue.k), dtype=np.float32)
        gap = np.float32(self.params.charging_gap_capex_share)
        out[:, self.k] = 1.0 + gap * (1.0 - self._access_ext[self.country[firms]])
        return out

    def monthly_row(self, engine) -> dict:
        row = {}
        evs = self.electric_vehicles(engine)
        share = evs / np.maximum(self.potential_vehicles, 1e-9)
        for i, c in enumerate(self.countries):
            row[f"chargers_{c}"] = float(self.chargers[i].sum())
            row[f"charging_access_share_{c}"] = float(self.access[i])
            row[f"electric_vehicles_{c}"] = float(evs[i])
            row[f"fleet_ev_share_{c}"] = float(share[i])
        row["fleet_ev_share"] = float(evs.sum() / max(self.potential_vehicles.sum(), 1e-9))
        return row

    def summary(self, engine) -> dict:
        evs = self.electric_vehicles(engine)
        share = evs / np.maximum(self.potential_vehicles, 1e-9)
        headline = {f"fleet_ev_share_{c}": float(v) for c, v in zip(self.countries, share)}
        headline["fleet_ev_share"] = float(evs.sum() / max(self.potential_vehicles.sum(), 1e-9))
        headline.update({f"chargers_{c}": int(self.chargers[i].sum()) for i, c in enumerate(self.countries)})
        headline["government_spending_usd"] = float(self.gov_spent.sum())
        headline["industry_investment_usd"] = float(self.industry_invest.sum())
        return {
            "headline": headline,
            "countries": self.countries,
            "classes": self.class_names,
            "potential_electric_vehicles": {c: float(v) for c, v in zip(self.countries, self.potential_vehicles)},
            "electric_vehicles_end": {c: float(v) for c, v in zip(self.countries, evs)},
            "fleet_ev_share_end": {c: float(v) for c, v in zip(self.countries, evs / np.maximum(self.potential_vehicles, 1e-9))},
            "fleet_ev_share_end_total": float(evs.sum() / max(self.potential_vehicles.sum(), 1e-9)),
            "chargers_initial": {c: {j: int(self.initial[i, jj]) for jj, j in enumerate(self.class_names)} for i, c in enumerate(self.countries)},
            "chargers_end": {c: {j: int(self.chargers[i, jj]) for jj, j in enumerate(self.class_names)} for i, c in enumerate(self.countries)},
            "chargers_built_by_government": {c: int(v) for c, v in zip(self.countries, self.gov_built.sum(axis=1))},
            "chargers_built_by_industry": {c: int(v) for c, v in zip(self.countries, self.industry_built.sum(axis=1))},
            "government_spending_usd": {c: float(v) for c, v in zip(self.countries, self.gov_spent)},
            "government_budget_usd": {c: float(v) for c, v in zip(self.countries, self.gov_budget)},
            "industry_investment_usd": {c: float(v) for c, v in zip(self.countries, self.industry_invest)},
            "access_share_end": {c: float(v) for c, v in zip(self.countries, self.access)},
            "by_year": {str(y): h for y, h in sorted(self.history.items())},
        }


def plot(run_dirs: dict, out_png: str) -> None:
    """Figure of us_mx_ev runs (``{label: run folder}``): fleet EV share by country, public
    chargers, emissions and LCFS credit payments. Command line:
    ``python -m sim.mechanisms.charging_network OUT.png LABEL=RUN_DIR [LABEL=RUN_DIR ...]``"""
    import json
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    fig, ax = plt.subplots(2, 2, figsize=(11, 7.5))
    styles = ["-", "--", ":", "-."]
    for n, (label, d) in enumerate(run_dirs.items()):
        ts = pd.read_parquet(Path(d) / "timeseries.parquet")
        s = json.loads((Path(d) / "summary.json").read_text())
        countries = s["programmes"]["charging_network"]["countries"]
        ls = styles[n % len(styles)]
        for c, col in zip(countries, ("tab:blue", "tab:green", "tab:red")):
            ax[0, 0].plot(ts["date"], 100 * ts[f"fleet_ev_share_{c}"], ls, color=col, label=f"{c.upper()} ({label})")
            ax[0, 1].plot(ts["date"], ts[f"chargers_{c}"], ls, color=col, label=f"{c.upper()} ({label})")
        ax[1, 0].plot(ts["date"], 12 * ts["emissions_t_co2"] / 1e6, ls, color="k", label=label)
        yr = ts.groupby("year")[[f"lcfs_payments_usd_{c}" for c in countries]].sum() / 1e6
        for c, col in zip(countries, ("tab:blue", "tab:green", "tab:red")):
            ax[1, 1].plot(yr.index, yr[f"lcfs_payments_usd_{c}"], ls, color=col, marker="o", ms=3, label=f"{c.upper()} ({label})")
    ax[0, 0].set(title="Fleet EV share (of the electrifiable fleet)", ylabel="%")
    ax[0, 1].set(title="Public chargers (government + industry)", ylabel="chargers")
    ax[1, 0].set(title="Emissions of the corridor's firms (scope 1+2)", ylabel="Mt CO2/yr")
    ax[1, 1].set(title="LCFS credit payments, fuel suppliers -> fleets", ylabel="US$ million/yr")
    from matplotlib.ticker import MaxNLocator

    ax[1, 1].xaxis.set_major_locator(MaxNLocator(integer=True))
    for a in ax.ravel():
        a.grid(alpha=0.3)
        a.legend(fontsize=7)
    fig.suptitle("us_mx_ev: US-Mexico transport electrification (synthetic corridor, seed 001)")
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    import sys

    if len(sys.argv) < 3 or any("=" not in a for a in sys.argv[2:]):
        print("usage: python -m sim.mechanisms.charging_network OUT.png LABEL=RUN_DIR [LABEL=RUN_DIR ...]", file=sys.stderr)
        sys.exit(2)
    plot(dict(a.split("=", 1) for a in sys.argv[2:]), sys.argv[1])
