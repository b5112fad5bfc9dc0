"""The four pillars of the WEF Transitioning Industrial Clusters initiative as switches.

Source of the pillars: 002_fa6de494a3b7967c.txt (partnerships, policy, technology, finance;
finance named as the critical first step). Each pillar is a lever a user switches on or
off (``scenario.programmes.wef_pillars.<pillar>=true|false``); it acts from ``start_year``
(the year the cluster joins the initiative), so the calibrated base year is untouched.

partnerships  the cluster works as a partnership: (a) denser collaboration ties among the
              association's members (``extra_partner_links_per_member`` new partnership
              edges each, so adoptions spread faster through peer effects); (b) a joint
              decarbonisation roadmap makes every firm that can use a heavy measure aware of
              it; (c) shared infrastructure is planned jointly: commitments of all firms are
              pooled for a network's investment decision (the engine fact
              ``infrastructure_coordinated``). Off: no new ties, no roadmap, and only a
              single large emitter can anchor a network (``shared_infrastructure.py``).
policy        carbon pricing and technology credits. The existing carbon price
              (``existing_carbon_price_usd_per_t_co2``, e.g. the EU ETS) applies whatever the
              switch; with the pillar on, the higher ``policy_carbon_price_usd_per_t_co2``
              path applies from ``start_year``, and credits per t CO2 stored
              (``storage_credit_usd_per_t_co2``, e.g. US 45Q) and per MWh of low-carbon
              hydrogen used (``hydrogen_credit_usd_per_mwh``, e.g. US 45V) are paid. The
              hydrogen credit goes to producers whose plant began construction by
              ``hydrogen_credit_construction_deadline_year`` (45V as amended in 2025: before
              2028) and reaches users through the price (``hydrogen_credit_pass_through_share``);
              a user adopting in year Y is supplied by a plant begun
              ``hydrogen_producer_construction_yr`` earlier. The price
              goes through the engine's carbon-price channel (covered firms value abated
              scope-1 CO2 at the price); credits are public spending. Optionally an
              emissions performance standard: covered firms pay a penalty on scope-1
              emissions above a benchmark that falls from their own ``start_year`` level
              (``standard_reduction_share``, ``standard_penalty_usd_per_t_co2``).
technology    availability and cost of the heavy technologies (CCS, hydrogen, electrified
              high-temperature heat). The catalogue holds the paths with a technology
              programme (demonstration, RD&D, shared learning). Off: heavy measures arrive
              ``delay_without_technology_yr`` later, cost ``capex_premium_without_technology_share``
              more (first-of-a-kind premium), and the hydrogen price stays at its
              ``start_year`` level instead of falling. On, firms that can use a heavy measure
              gain ``technology_capability_uplift`` of technical capability (technology
              partnerships with providers and demonstration projects: the skills barrier).
finance       access to green finance: medium and large firms get a green credit line of
              ``green_credit_per_energy_cost`` times their energy bill on top of their
              credit, and a lower cost of capital (``cost_of_capital_relief_per_yr`` off the
              hurdle rate: green bonds, sustainability-linked and blended finance), and,
              where the scenario sets it, public co-funding of heavy measures
              (``heavy_capex_grant_share`` of capex within ``heavy_grant_budget_usd``).

All pillar effects are vectorised over firms (one-off column updates at ``start_year``,
[K] or [R, K] arrays in the decision hooks). Magnitudes are free parameters (levers), not
data; the carbon prices and credits cite their sources in the scenario files.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np

from ..energy import SCOPE1_CARRIERS
from ..firms import NEVER16
from ..network import EDGE_KINDS, from_edges
from ..params import CARRIERS, SIZE_CLASSES, ConfigError, nonneg
from .budget import GrantInstrument
from . import Mechanism, register

HYDROGEN = CARRIERS.index("hydrogen")


def _path(points: Dict[int, float], year: int) -> float:
    """Linear interpolation of {year: value} points, flat outside; 0 without points."""
    if not points:
        return 0.0
    pts = sorted((int(y), float(v)) for y, v in points.items())
    return float(np.interp(year, [p[0] for p in pts], [p[1] for p in pts]))


class _Spending:
    """Public money paid out (``engine.report_spending``: ``spent_usd`` is read)."""

    def __init__(self):
        self.spent_usd = 0.0


class HeavyMeasureGrant(GrantInstrument):
    """Public co-funding of heavy measures (finance pillar): a share of capex, capped per
    project, while the budget lasts, from the year the cluster joins the initiative."""

    name = "green_finance_grant"

    def __init__(self, engine, heavy: np.ndarray, params):
        self.engine = engine
        self.open_budget(engine, self.name, True, params.heavy_grant_budget_usd)
        self.heavy = heavy
        self.share = float(params.heavy_capex_grant_share)
        self.cap = float(params.heavy_grant_max_per_project_usd)
        self.start_year = params.start_year

    def offer(self, engine, firm, measure, capex):
        if not self.active or engine.year < self.start_year:
            return np.zeros(len(firm))
        return np.where(self.heavy[measure], np.minimum(self.share * capex, self.cap), 0.0)

    def grant_bound(self):
        if not self.active or self.engine.year < self.start_year:
            return None
        return np.where(self.heavy, self.share, 0.0), np.where(self.heavy, min(self.cap, 3e38), 0.0)


@register("wef_pillars")
class WefPillars(Mechanism):
    """The WEF four-pillar programme of a transitioning industrial cluster (see module doc)."""

    @dataclass
    class Params:
        #: year the cluster joins the initiative; pillars act from then on
        start_year: int = 2024
        #: the heavy (deep-decarbonisation) measures the technology and partnership pillars concern
        heavy_measures: List[str] = field(default_factory=list)
        # partnerships ------------------------------------------------------------------
        partnerships: bool = True
        #: new partnership ties per association member (mean, Poisson)
        extra_partner_links_per_member: float = 3.0  # free parameter, range 1-5
        # policy ------------------------------------------------------------------------
        policy: bool = True
        #: carbon price in force whatever the switch, {year: USD/t CO2}
        existing_carbon_price_usd_per_t_co2: Dict[int, float] = field(default_factory=dict)
        #: carbon price path with the policy pillar, {year: USD/t CO2} (the higher one applies)
        policy_carbon_price_usd_per_t_co2: Dict[int, float] = field(default_factory=dict)
        #: sectors the carbon price covers (["all"] = every sector)
        carbon_price_sectors: List[str] = field(default_factory=lambda: ["all"])
        #: smallest size class the carbon price covers (emissions-trading thresholds)
        carbon_price_min_size_class: str = "medium"
        carbon_price_source: str = ""
        #: credit per t CO2 captured and stored, USD/t, paid for ``storage_credit_years``
        storage_credit_usd_per_t_co2: float = 0.0  # 0 = none; IRA 2022 section 45Q: US$ 85/t
        storage_credit_years: float = 12.0  # source: IRA 2022 section 45Q (12 years)
        #: credit per MWh of low-carbon hydrogen a measure uses, USD/MWh, for ``hydrogen_credit_years``;
        #: paid to the hydrogen's producers (US 45V), reaching users through the hydrogen price
        #: (``hydrogen_credit_pass_through_share`` of it)
        hydrogen_credit_usd_per_mwh: float = 0.0  # 0 = none; IRA 2022 section 45V: up to US$ 3/kg
        hydrogen_credit_years: float = 10.0  # source: IRA 2022 section 45V (10 years)
        #: last year a producing facility may begin construction and still earn the credit
        #: (US 45V as amended by the One Big Beautiful Bill Act of 2025: before 1 January 2028);
        #: a large year (e.g. 9999) = no deadline
        hydrogen_credit_construction_deadline_year: int = 9999
        #: years from a producer's start of construction to the supply a new user contracts
        hydrogen_producer_construction_yr: int = 2  # free parameter, range 1-3
        #: share of the producers' credit passed on to buyers in the hydrogen price
        hydrogen_credit_pass_through_share: float = 1.0  # free parameter, range 0.5-1
        credit_source: str = ""
        #: emissions performance standard: covered firms pay ``standard_penalty_usd_per_t_co2`` on
        #: scope-1 emissions above a benchmark that falls from their own emissions in ``start_year``
        #: by the required share, {year: share}; penalty 0 = no standard
        standard_reduction_share: Dict[int, float] = field(default_factory=dict)
        standard_penalty_usd_per_t_co2: float = 0.0  # 0 = none (lever)
        standard_source: str = ""
        # technology --------------------------------------------------------------------
        technology: bool = True
        delay_without_technology_yr: int = 5  # free parameter, range 2-10
        capex_premium_without_technology_share: float = 0.3  # free parameter, range 0.1-0.5
        #: capability (0-1) firms that can use a heavy measure gain from technology partnerships
        #: (technology providers, demonstration projects) when the pillar is on
        technology_capability_uplift: float = 0.15  # free parameter, range 0.05-0.3
        # finance -----------------------------------------------------------------------
        finance: bool = True
        #: green credit line as a multiple of the firm's yearly energy bill
        green_credit_per_energy_cost: float = 2.0  # lever
        #: reduction of the hurdle rate, per year
        cost_of_capital_relief_per_yr: float = 0.03  # lever
        finance_min_size_class: str = "medium"
        #: public co-funding of heavy measures (grant share of capex; 0 = none), within a budget
        heavy_capex_grant_share: float = 0.0
        heavy_grant_budget_usd: float = 0.0  # 0 = none (lever)
        heavy_grant_max_per_project_usd: float = nonneg(float("inf"), unit="USD", allow_inf=True)
        heavy_grant_source: str = ""

    @classmethod
    def validate(cls, params, cfg, key: str) -> None:
        mnames = [m.name for m in cfg.measures.catalogue]
        for m in params.heavy_measures:
            if m not in mnames:
                raise ConfigError(f"{key}.heavy_measures", m, f"unknown measure; catalogue has: {', '.join(mnames)}")
        sectors = [s.name for s in cfg.scenario.sectors]
        for s in params.carbon_price_sectors:
            if s != "all" and s not in sectors:
                raise ConfigError(f"{key}.carbon_price_sectors", s, f"unknown sector; allowed: all, {', '.join(sectors)}")
        for name in ("carbon_price_min_size_class", "finance_min_size_class"):
            v = getattr(params, name)
            if v not in SIZE_CLASSES:
                raise ConfigError(f"{key}.{name}", v, f"must be one of {', '.join(SIZE_CLASSES)}")
        for name in ("extra_partner_links_per_member", "storage_credit_usd_per_t_co2", "storage_credit_years",
                     "hydrogen_credit_usd_per_mwh", "hydrogen_credit_years", "capex_premium_without_technology_share",
                     "technology_capability_uplift", "standard_penalty_usd_per_t_co2",
                     "green_credit_per_energy_cost", "cost_of_capital_relief_per_yr"):
            v = getattr(params, name)
            if not v >= 0:
                raise ConfigError(f"{key}.{name}", v, "must be a number >= 0")
        if not 0 <= params.hydrogen_credit_pass_through_share <= 1:
            raise ConfigError(f"{key}.hydrogen_credit_pass_through_share", params.hydrogen_credit_pass_through_share,
                              "must be a share in [0, 1]")
        if params.hydrogen_producer_construction_yr < 0:
            raise ConfigError(f"{key}.hydrogen_producer_construction_yr", params.hydrogen_producer_construction_yr,
                              "must be an integer >= 0")
        if not 0 <= params.heavy_capex_grant_share <= 1:
            raise ConfigError(f"{key}.heavy_capex_grant_share", params.heavy_capex_grant_share, "must be a share in [0, 1]")
        for name in ("heavy_grant_budget_usd", "heavy_grant_max_per_project_usd"):
            if not getattr(params, name) >= 0:
                raise ConfigError(f"{key}.{name}", getattr(params, name), "must be a number >= 0")
        if params.heavy_capex_grant_share > 0 and not params.heavy_grant_source.strip():
            raise ConfigError(f"{key}.heavy_grant_source", "", "cite the source of the co-funding share")
        if params.delay_without_technology_yr < 0:
            raise ConfigError(f"{key}.delay_without_technology_yr", params.delay_without_technology_yr, "must be an integer >= 0")
        for name in ("existing_carbon_price_usd_per_t_co2", "policy_carbon_price_usd_per_t_co2"):
            for y, v in getattr(params, name).items():
                if not v >= 0:
                    raise ConfigError(f"{key}.{name}[{y}]", v, "must be a price >= 0")
        priced = any(getattr(params, n) for n in ("existing_carbon_price_usd_per_t_co2", "policy_carbon_price_usd_per_t_co2"))
        if priced and not params.carbon_price_source.strip():
            raise ConfigError(f"{key}.carbon_price_source", "", "cite the source of the carbon prices")
        for y, v in params.standard_reduction_share.items():
            if not 0 <= v <= 1:
                raise ConfigError(f"{key}.standard_reduction_share[{y}]", v, "must be a share in [0, 1]")
        if params.standard_penalty_usd_per_t_co2 > 0 and not params.standard_reduction_share:
            raise ConfigError(f"{key}.standard_reduction_share", {}, "a standard needs {year: required reduction share} points")
        if params.standard_penalty_usd_per_t_co2 > 0 and not params.standard_source.strip():
            raise ConfigError(f"{key}.standard_source", "", "cite the source or label the standard an assumption")
        if (params.storage_credit_usd_per_t_co2 or params.hydrogen_credit_usd_per_mwh) and not params.credit_source.strip():
            raise ConfigError(f"{key}.credit_source", "", "cite the source of the credits")

    def __init__(self, engine, params):
        super().__init__(engine, params)
        cat, ft = engine.catalogue, engine.firms
        self.heavy = np.zeros(cat.k, dtype=bool)
        for m in params.heavy_measures:
            self.heavy[cat.index(m)] = True
        sector_ok = np.array(["all" in params.carbon_price_sectors or s in params.carbon_price_sectors
                              for s in engine.sector_names])
        self.covers = sector_ok[ft.sector] & (ft.size_class >= SIZE_CLASSES.index(params.carbon_price_min_size_class))
        self.capture = cat.capture_share > 0
        self.lifetime_yr = cat.lifetime_yr
        self.h2_price_frozen = None
        self.started = False
        self.ties_rng = engine.spawn_stream(self.name)  # child stream: new partnership ties
        self.new_ties = 0
        self.roadmap_aware = 0
        self.green_credit_usd = 0.0
        self.green_credit_firms = 0
        self.capability_firms = 0
        self.benchmark_base = None  # [N] scope-1 t/yr in start_year (performance standard)
        self.benchmark = None
        self.w_scope1 = None  # [C+1, K] float32 scope-1 t/yr a measure avoids per unit of state
        self.standard_penalties_usd = 0.0
        self.carbon_price_by_year: dict[int, float] = {}
        self.storage_credits = _Spending()
        self.hydrogen_credits = _Spending()
        self.heavy_grant = None
        if params.finance and params.heavy_capex_grant_share > 0:
            self.heavy_grant = HeavyMeasureGrant(engine, self.heavy, params)
            engine.add_grants(self.heavy_grant)
        if params.policy and (params.storage_credit_usd_per_t_co2 or params.hydrogen_credit_usd_per_mwh):
            engine.report_spending("storage_credit", self.storage_credits, kind="transfer")
            engine.report_spending("hydrogen_credit", self.hydrogen_credits, kind="transfer")  # paid to producers (45V)
        # the partnership pillar: the cluster plans shared infrastructure jointly (a fact
        # ``shared_infrastructure`` reads; declared now, whatever the mechanisms' order)
        engine.declare("infrastructure_coordinated", bool(params.partnerships))

    # ----------------------------------------------------------------------------------
    def active(self, engine) -> bool:
        return engine.year >= self.params.start_year

    def hydrogen_credit_qualifies(self, adoption_year) -> np.ndarray | bool:
        """Whether hydrogen supplied to a user from ``adoption_year`` on earns the producers'
        credit: its producing facility began construction ``hydrogen_producer_construction_yr``
        earlier, by the deadline year."""
        p = self.params
        return np.asarray(adoption_year) - p.hydrogen_producer_construction_yr <= p.hydrogen_credit_construction_deadline_year

    def carbon_price_usd_per_t(self, year: int) -> float:
        p = self.params
        price = _path(p.existing_carbon_price_usd_per_t_co2, year)
        if p.policy and year >= p.start_year:
            price = max(price, _path(p.policy_carbon_price_usd_per_t_co2, year))
        return price

    # hooks ------------------------------------------------------------------------------
    def setup(self, engine) -> None:
        """Before the initial stock: the start year's carbon price, and the pillars if the
        cluster joined by the start year."""
        self._open_year(engine)

    def new_year(self, engine) -> None:
        self._open_year(engine)

    def _open_year(self, engine) -> None:
        """This year's carbon price (the cluster's own; an engine policy's price adds on top,
        ``engine.set_carbon_price``), the pillars' one-off effects in the year the cluster
        joins, and the performance standard's benchmark."""
        p = self.params
        own = self.carbon_price_usd_per_t(engine.year)
        self.carbon_price_by_year[engine.year] = own
        engine.set_carbon_price(self.name, own, self.covers)
        self.w_scope1 = np.ascontiguousarray(engine.valuation.abated_scope1_t.T, dtype=np.float32)
        if self.active(engine) and not self.started:
            self.started = True
            self.h2_price_frozen = float(engine.price[HYDROGEN])
            if p.partnerships:
                self._densify_partnerships(engine)
                self._joint_roadmap(engine)
            if p.finance:
                self._green_finance(engine)
            if p.technology:
                self._technology_partnerships(engine)
            if p.policy and p.standard_penalty_usd_per_t_co2 > 0:
                self.benchmark_base = np.array(engine.scope1_rate)
        if self.benchmark_base is not None:
            self.benchmark = self.benchmark_base * (1.0 - _path(p.standard_reduction_share, engine.year))

    def _densify_partnerships(self, engine) -> None:
        """Draw ``extra_partner_links_per_member`` new partnership ties per association member
        to random fellow members (the engine rebuilds the peer structures the decision reads)."""
        ft, net = engine.firms, engine.network
        rng = self.ties_rng
        members = np.flatnonzero(ft.cluster >= 0)
        if len(members) < 2 or self.params.extra_partner_links_per_member <= 0:
            return
        order = members[np.argsort(ft.cluster[members], kind="stable")]
        cl = ft.cluster[order]
        first = np.searchsorted(cl, cl, side="left")
        last = np.searchsorted(cl, cl, side="right")
        m = rng.poisson(self.params.extra_partner_links_per_member, size=len(order))
        a = np.repeat(np.arange(len(order)), m)
        b = first[a] + (rng.random(len(a)) * (last[a] - first[a])).astype(np.int64)
        kind = np.full(len(a), EDGE_KINDS.index("partnership"), np.int8)
        new = from_edges(net.n, np.concatenate([net.src, order[a]]), np.concatenate([net.dst, order[b]]),
                         np.concatenate([net.kind, kind]))
        self.new_ties = int(new.peers.nnz - net.peers.nnz) // 2
        engine.add_ties(new)

    def _joint_roadmap(self, engine) -> None:
        """The cluster's roadmap: every firm a heavy measure applies to learns it."""
        learned = engine.inform(slice(None), self.heavy, source=self.name)
        self.roadmap_aware = int(learned.any(axis=1).sum())

    def _technology_partnerships(self, engine) -> None:
        """Firms a heavy measure applies to gain ``technology_capability_uplift`` of capability."""
        ok = (engine.firms.applicable & self.heavy[None, :]).any(axis=1)
        engine.raise_capability(ok, self.params.technology_capability_uplift)
        self.capability_firms = int(ok.sum())

    def _green_finance(self, engine) -> None:
        """Medium and large firms: a green credit line and a lower hurdle rate (floor 2 %/yr)."""
        ft = engine.firms
        ok = ft.size_class >= SIZE_CLASSES.index(self.params.finance_min_size_class)
        bill = ft.energy_mwh_per_yr[ok] @ engine.price
        extra = self.params.green_credit_per_energy_cost * bill
        engine.extend_credit(ok, extra)
        engine.lower_hurdle_rate(ok, self.params.cost_of_capital_relief_per_yr, 0.02)
        self.green_credit_usd = float(extra.sum())
        self.green_credit_firms = int(ok.sum())

    def capex_factor(self, engine, firms):
        p = self.params
        if p.technology or not self.active(engine) or p.capex_premium_without_technology_share == 0:
            return None
        return np.where(self.heavy, 1.0 + p.capex_premium_without_technology_share, 1.0).astype(np.float32)

    def available(self, engine):
        p = self.params
        if p.technology or p.delay_without_technology_yr == 0:
            return None
        late = engine.catalogue.available_from_year + p.delay_without_technology_yr > engine.year
        return ~(self.heavy & late)

    def extra_value_usd_per_yr(self, engine, firms):
        """Credits (policy pillar) and the hydrogen cost decline not realised (technology
        pillar off) for each (firm, measure), USD/yr."""
        p = self.params
        if not self.active(engine):
            return None
        credit_h2 = p.hydrogen_credit_usd_per_mwh * p.hydrogen_credit_pass_through_share if p.policy else 0.0
        if not self.hydrogen_credit_qualifies(engine.year):
            credit_h2 = 0.0  # new supply comes from plants begun after the deadline
        credit_co2 = p.storage_credit_usd_per_t_co2 if p.policy else 0.0
        premium_h2 = 0.0
        if not p.technology and self.h2_price_frozen is not None:
            premium_h2 = max(self.h2_price_frozen - float(engine.price[HYDROGEN]), 0.0)
        standard = self.benchmark is not None
        if not (credit_h2 or credit_co2 or premium_h2 or standard):
            return None
        x = engine.state_matrix(firms).astype(np.float32)
        out = np.zeros((x.shape[0], engine.catalogue.k), dtype=np.float32)
        if standard:
            # abatement is worth the penalty up to the firm's excess over its benchmark
            excess = np.maximum(engine.scope1_rate[firms] - self.benchmark[firms], 0.0) * self.covers[firms]
            abated = x @ self.w_scope1
            out += np.minimum(abated, excess.astype(np.float32)[:, None]) * np.float32(p.standard_penalty_usd_per_t_co2)
        if credit_h2 or premium_h2:
            h2_added = x @ engine.valuation.state_change[:, HYDROGEN, :].T.astype(np.float32)  # [R, K] MWh/yr
            span = np.minimum(p.hydrogen_credit_years / self.lifetime_yr, 1.0).astype(np.float32)
            out += h2_added * (np.float32(credit_h2) * span - np.float32(premium_h2))
        if credit_co2:
            e1 = np.concatenate([np.where(SCOPE1_CARRIERS, engine.ef, 0.0), [1.0]]).astype(np.float32)
            captured = (x @ e1)[:, None] * (engine.catalogue.capture_share * self.capture).astype(np.float32)[None, :]
            # a credit paid for N years, spread over the measure's lifetime (undiscounted share)
            span = np.minimum(p.storage_credit_years / self.lifetime_yr, 1.0).astype(np.float32)
            out += captured * np.float32(credit_co2) * span
        return out

    def end_month(self, engine) -> None:
        """Pay this month's credits on CO2 stored and hydrogen used by firms whose measure is
        within its credit period."""
        p = self.params
        if not (p.policy and self.active(engine)):
            return
        ft, month = engine.firms, engine.month
        if self.benchmark is not None:
            excess = np.maximum(engine.scope1_rate - self.benchmark, 0.0)[self.covers]
            self.standard_penalties_usd += float(excess.sum()) * p.standard_penalty_usd_per_t_co2 / 12.0
        if p.storage_credit_usd_per_t_co2 and self.capture.any():
            since = np.where(ft.adopted[:, self.capture], ft.adopted_month[:, self.capture], NEVER16).min(axis=1)  # (int16 months)
            ok = (since <= month) & (month - since < 12 * p.storage_credit_years)
            if ok.any():
                cap = ft.capture_share[ok]
                stored = engine.scope1_rate[ok] * cap / np.maximum(1.0 - cap, 1e-9)
                self.storage_credits.spent_usd += float(stored.sum()) * p.storage_credit_usd_per_t_co2 / 12.0
        if p.hydrogen_credit_usd_per_mwh:
            h2 = ft.energy_mwh_per_yr[:, HYDROGEN]
            users = np.flatnonzero(h2 > 0)
            if len(users):
                adds = engine.catalogue.adds_carrier == HYDROGEN
                since = np.where(ft.adopted[users][:, adds], ft.adopted_month[users][:, adds], NEVER16).min(axis=1)
                ok = (since <= month) & (month - since < 12 * p.hydrogen_credit_years)
                ok &= self.hydrogen_credit_qualifies(engine.start_year + np.maximum(since, 0) // 12)
                self.hydrogen_credits.spent_usd += float(h2[users][ok].sum()) * p.hydrogen_credit_usd_per_mwh / 12.0

    def monthly_row(self, engine) -> dict:
        return {"wef_carbon_price_usd_per_t_co2": float(self.carbon_price_by_year.get(engine.year, 0.0))}

    def spending_usd_by_pillar(self) -> dict:
        """Public money each pillar paid, USD: the policy pillar's credits (per t CO2 stored,
        per MWh of low-carbon hydrogen), the finance pillar's co-funding grants; the
        partnership and technology pillars spend no public money here (ties, roadmaps,
        capability). The green credit line is lenders' money, not public spending."""
        return {"partnerships": 0.0,
                "policy": self.storage_credits.spent_usd + self.hydrogen_credits.spent_usd,
                "technology": 0.0,
                "finance": self.heavy_grant.spent_usd if self.heavy_grant else 0.0}

    def summary(self, engine) -> dict:
        p = self.params
        by_pillar = self.spending_usd_by_pillar()
        on = [k for k in ("partnerships", "policy", "technology", "finance") if getattr(p, k)]
        total = float(sum(by_pillar.values()))
        return {
            "pillars": {"partnerships": p.partnerships, "policy": p.policy, "technology": p.technology, "finance": p.finance},
            # what the run is: the pillars switched on and the public money they spend (a run
            # that spends public money is never a "no policy" run)
            "label": "wef_pillars: " + ("+".join(on) or "no pillar") + (f" (US$ {total:,.0f} public money)" if total > 0 else " (no public money)"),
            "public_spending_usd": total,
            "public_spending_usd_by_pillar": by_pillar,
            "public_spending_usd_by_item": {"storage_credit": self.storage_credits.spent_usd,
                                            "hydrogen_credit": self.hydrogen_credits.spent_usd,
                                            "green_finance_grant": by_pillar["finance"]},
            "start_year": p.start_year,
            "new_partnership_ties": self.new_ties,
            "firms_aware_through_roadmap": self.roadmap_aware,
            "firms_with_technology_partnerships": self.capability_firms,
            "green_credit_line_usd": self.green_credit_usd,
            "green_finance_firms": self.green_credit_firms,
            "carbon_price_usd_per_t_co2_by_year": {str(y): v for y, v in self.carbon_price_by_year.items()},
            "storage_credits_paid_usd": self.storage_credits.spent_usd,
            "hydrogen_credits_paid_usd": self.hydrogen_credits.spent_usd,
            "hydrogen_credits_paid_to": "producers (reaching users through the hydrogen price)",
            "hydrogen_credit_construction_deadline_year": p.hydrogen_credit_construction_deadline_year,
            "standard_penalties_paid_usd": self.standard_penalties_usd,
            "heavy_grant_spent_usd": self.heavy_grant.spent_usd if self.heavy_grant else 0.0,
            "heavy_measure_adopters": {m: int(engine.adopter_count[i]) for i, m in enumerate(engine.catalogue.names) if self.heavy[i]},
        }
