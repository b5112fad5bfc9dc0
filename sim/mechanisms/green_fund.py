"""A green fund with a capital pool that co-finances low-carbon projects of firms in member
countries, by a rule the user sets.

The fund starts with ``capital_pool_usd`` and receives ``contributions_usd_per_yr`` at the
start of each year. It offers to pay ``finance_share`` of an eligible project's capex (up to
``max_per_project_usd``): eligible are the listed technologies in the listed countries,
from ``start_year``. Commitments never exceed the money the fund has. The allocation rule:

``first_come``          projects are financed in the order firms decide, while money lasts;
``country_envelopes``   each year the money available is split into one envelope per country
                        (``country_weights``, default equal); a country's projects draw only
                        on its own envelope; unspent envelopes return to the pool;
``cost_effectiveness``  only projects whose grant per tonne of CO2 avoided over the
                        measure's lifetime is at most ``max_usd_per_t_co2`` are offered money,
                        then first come.

The fund is a Mesa agent (``GreenFund``) holding a grant channel the decision asks for
offers (``sim.mechanisms.budget.GrantInstrument``), like a capex subsidy with its own rule.
The member countries and each firm's country are the regions at level ``"country"`` that the
engine offers (``Engine.regions``; declared by the ``technology_alliance``).
Reported: money committed by country and technology, projects, pool left, t CO2 avoided.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np

from ..decision import group_prefix_ok
from ..params import ConfigError, nonneg
from .budget import GrantInstrument
from . import Mechanism, register

RULES = ("first_come", "country_envelopes", "cost_effectiveness")


class FundGrants(GrantInstrument):
    """The fund's offers and allocation (vectorised over the month's candidate projects)."""

    name = "green_fund"

    def __init__(self, engine, params, measure_ok: np.ndarray, country: np.ndarray, country_ok: np.ndarray):
        self.open_budget(engine, self.name, True, params.capital_pool_usd)
        self.p = params
        self.measure_ok, self.country, self.country_ok = measure_ok, country, country_ok
        C = len(country_ok)
        self.envelope = np.full(C, np.inf)  # this year's money per country (country_envelopes)
        self.committed_year = np.zeros(C)  # committed this year, by country
        self.committed = np.zeros(C)  # committed in the run, by country
        self._firm = np.zeros(0, dtype=np.int64)
        self.open = False

    def offer(self, engine, firm, measure, capex):
        self._firm = np.asarray(firm)
        if not self.open:
            return np.zeros(len(firm))
        ok = self.measure_ok[measure] & self.country_ok[self.country[firm]]
        grant = np.minimum(self.p.finance_share * capex, self.p.max_per_project_usd)
        if self.p.rule == "cost_effectiveness":
            life = engine.catalogue.lifetime_yr[measure]
            t_avoided = engine.abatement_t_per_yr(np.asarray(firm), np.asarray(measure)) * life
            ok &= grant <= self.p.max_usd_per_t_co2 * t_avoided
        return np.where(ok, grant, 0.0)

    def grant_bound(self):
        if not self.open:
            return None
        return self.p.finance_share, min(self.p.max_per_project_usd, 3e38)

    def _pair_country(self, n: int) -> np.ndarray:
        # the decision orders candidate pairs by firm before allocating (sim/decision.py): the
        # firms of the allocation's positions are the offered firms, sorted
        f = np.sort(self._firm, kind="stable")
        if len(f) != n:
            raise RuntimeError("green fund: allocation does not match the month's offers")
        return self.country[f]

    def allocate(self, mask, grant):
        got = np.zeros(len(mask), bool)
        if not self.open or not mask.any():
            return got
        cc = self._pair_country(len(mask))
        idx = np.flatnonzero(mask)
        c = cc[idx]
        order = np.argsort(c, kind="stable")
        c_s, amt = c[order], grant[idx][order]
        if self.p.rule == "country_envelopes":
            left = np.maximum(self.envelope - self.committed_year, 0.0)
            ok = group_prefix_ok(c_s, amt, left[c_s])  # prefix within each country's envelope ...
            # ... and within the pool
            ok &= np.cumsum(np.where(ok, amt, 0.0)) <= self.remaining_usd + 1e-6
        else:
            # one pool, candidates in the decision's order (not grouped by country)
            amt0 = grant[idx]
            cum = np.cumsum(amt0)
            fit = cum <= self.remaining_usd + 1e-6
            n_ok = len(idx) if fit.all() else int(np.argmin(fit))
            got[idx[:n_ok]] = True
            self._book(cc, got, grant, +1)
            return got
        got[idx[order[ok]]] = True
        self._book(cc, got, grant, +1)
        return got

    def release(self, mask, grant):
        if mask.any():
            self._book(self._pair_country(len(mask)), mask, grant, -1)

    def _book(self, cc, mask, grant, sign):
        amt = np.bincount(cc[mask], weights=grant[mask], minlength=len(self.committed)) * sign
        self.committed_year += amt
        self.committed += amt
        self.spent_usd += float(amt.sum())


@register("green_fund")
class GreenFund(Mechanism):
    @dataclass
    class Params:
        #: money in the fund when it opens, USD
        capital_pool_usd: float = 0.0  # 0 = none (no basis: set by the scenario)
        #: money paid in at the start of every year from ``start_year``, USD
        contributions_usd_per_yr: float = 0.0  # 0 = none (no basis: set by the scenario)
        start_year: int = 2025
        #: share of an eligible project's capex the fund pays
        finance_share: float = 0.3  # free parameter, range 0.1-0.5
        max_per_project_usd: float = nonneg(float("inf"), unit="USD", allow_inf=True)
        #: technologies (catalogue measures) it finances; ["all"] = every measure
        technologies: List[str] = field(default_factory=lambda: ["all"])
        #: countries where it finances projects (of the technology_alliance); [] = all of them
        countries: List[str] = field(default_factory=list)
        rule: str = "first_come"
        #: country_envelopes: relative weight of each country's envelope (missing = 1)
        country_weights: Dict[str, float] = field(default_factory=dict)
        #: cost_effectiveness: most the fund pays per t CO2 avoided over a project's life, USD/t
        max_usd_per_t_co2: float = 50.0  # lever
        source: str = ""

    @classmethod
    def validate(cls, p, cfg, key):
        if "technology_alliance" not in cfg.scenario.programmes:
            raise ConfigError(f"{key}", "green_fund", "needs the technology_alliance programme (it defines the member countries)")
        alliance_countries = list((cfg.scenario.programmes["technology_alliance"] or {}).get("countries", {}) or {})
        if p.rule not in RULES:
            raise ConfigError(f"{key}.rule", p.rule, f"must be one of {', '.join(RULES)}")
        for name in ("capital_pool_usd", "contributions_usd_per_yr", "max_per_project_usd", "max_usd_per_t_co2"):
            v = getattr(p, name)
            if not v >= 0:
                raise ConfigError(f"{key}.{name}", v, "must be a number >= 0")
        if not 0 <= p.finance_share <= 1:
            raise ConfigError(f"{key}.finance_share", p.finance_share, "must be a share in [0, 1]")
        measures = [m.name for m in cfg.measures.catalogue]
        for t in p.technologies:
            if t != "all" and t not in measures:
                raise ConfigError(f"{key}.technologies", t, f"unknown measure; catalogue has: all, {', '.join(measures)}")
        for field_name, names in (("countries", p.countries), ("country_weights", list(p.country_weights))):
            for c in names:
                if c not in alliance_countries:
                    raise ConfigError(f"{key}.{field_name}", c, f"not an alliance country: {', '.join(alliance_countries)}")
        for c, w in p.country_weights.items():
            if not w >= 0:
                raise ConfigError(f"{key}.country_weights.{c}", w, "must be a number >= 0")

    def __init__(self, engine, params):
        super().__init__(engine, params)
        self.grants = None
        self.by_year: dict[int, dict] = {}
        self.projects = None

    def setup(self, engine) -> None:
        """The member countries (the engine's regions at level ``country``) and the grant
        channel, closed until ``start_year``: the initial stock is bought without the fund."""
        p = self.params
        self.countries, self.country = engine.regions("country")
        cat = engine.catalogue
        measure_ok = np.array(["all" in p.technologies or m in p.technologies for m in cat.names])
        country_ok = np.array([not p.countries or c in p.countries for c in self.countries])
        self.grants = FundGrants(engine, p, measure_ok, self.country, country_ok)
        engine.add_grants(self.grants)
        self.code = engine.grant_code(self.grants)  # instrument code in adoption batches
        C, K = len(self.countries), cat.k
        self.projects = np.zeros((C, K), dtype=np.int64)
        self.grant_usd = np.zeros((C, K))
        self.t_co2_per_yr = 0.0
        self.contributed_usd = p.capital_pool_usd

    def new_year(self, engine) -> None:
        g, p = self.grants, self.params
        ready = engine.year >= p.start_year
        if ready and engine.year > p.start_year:
            g.budget_usd += p.contributions_usd_per_yr
            self.contributed_usd += p.contributions_usd_per_yr
        g.open = ready and g.remaining_usd > 0
        g.committed_year[:] = 0.0
        if p.rule == "country_envelopes":
            w = np.array([p.country_weights.get(c, 1.0) for c in self.countries]) * g.country_ok
            g.envelope = g.remaining_usd * w / max(w.sum(), 1e-12)
        if ready:
            self.by_year.setdefault(engine.year, {"committed_usd": np.zeros(len(self.countries)), "projects": 0})

    def after_adoptions(self, engine, batch) -> None:
        if len(batch) == 0:
            return
        sel = batch.instrument == self.code
        if not sel.any():
            return
        f, k, gr = batch.firm[sel], batch.measure[sel], batch.grant_usd[sel]
        c = self.country[f]
        np.add.at(self.projects, (c, k), 1)
        np.add.at(self.grant_usd, (c, k), gr)
        self.t_co2_per_yr += float(batch.abatement_t_per_yr[sel].sum())
        h = self.by_year[engine.year]
        h["committed_usd"] += np.bincount(c, weights=gr, minlength=len(self.countries))
        h["projects"] += int(sel.sum())

    def monthly_row(self, engine) -> dict:
        return {"green_fund_committed_usd": float(self.grants.spent_usd),
                "green_fund_pool_left_usd": float(self.grants.remaining_usd),
                "green_fund_projects": int(self.projects.sum())}

    def summary(self, engine) -> dict:
        cat = engine.catalogue
        g = self.grants
        nz = lambda a, fmt: {c: {cat.names[k]: fmt(a[i, k]) for k in np.flatnonzero(a[i])} for i, c in enumerate(self.countries) if a[i].any()}  # noqa: E731
        return {
            "headline": {"rule": self.params.rule, "contributed_usd": float(self.contributed_usd),
                         "committed_usd": float(g.spent_usd), "projects": int(self.projects.sum()),
                         "countries_reached": int((g.committed > 0).sum())},
            "rule": self.params.rule,
            "contributed_usd": float(self.contributed_usd),
            "committed_usd": float(g.spent_usd),
            "pool_left_usd": float(g.remaining_usd),
            "use_share": float(g.spent_usd / self.contributed_usd) if self.contributed_usd > 0 else 0.0,
            "projects": int(self.projects.sum()),
            "committed_usd_by_country": {c: float(v) for c, v in zip(self.countries, g.committed) if v},
            "projects_by_country_and_technology": nz(self.projects, int),
            "grant_usd_by_country_and_technology": nz(self.grant_usd, float),
            "abatement_t_co2_per_yr_financed": self.t_co2_per_yr,
            "usd_per_t_co2_per_yr": float(g.spent_usd / self.t_co2_per_yr) if self.t_co2_per_yr > 0 else None,
            "by_year": {str(y): {"committed_usd": float(h["committed_usd"].sum()), "projects": h["projects"]} for y, h in sorted(self.by_year.items())},
        }
