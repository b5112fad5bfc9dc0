"""A climate alliance between a state government and its industrial cluster associations
(modelled on Nuevo Leon's "Alianzas Climaticas", source: 000_921f8effd5da221e.txt).

The state government (public partner) and cluster associations (private partners) sign
agreements: the clusters collect information from their member firms (the state emissions
registry's coverage grows as members start reporting; see ``ClusterSpec.
info_collection_rate_per_month``) and build, from their members' characteristics, roadmaps
for cutting the emissions of their members' energy use; the government tracks the cuts in
its registry. The model's mechanics:

Barrier workshops  In ``workshop_month`` each alliance cluster holds a workshop of
    ``firms_per_workshop`` members (about 21 firms per sector over three days, source:
    000_921f8effd5da221e.txt). The workshop first diagnoses the participants' barriers: for
    every open (participant, measure) pair, which decision term blocks it (information,
    economics, capital, skills; ``decision.terms``). Then each participant learns each
    applicable measure with probability ``awareness_lift_share`` and sheds part of its hidden
    costs and perceived risk.
Roadmap  In ``roadmap_month`` each cluster builds its roadmap from the information it has
    collected: the members reporting to the registry. It values every measure those members
    could still adopt at this year's prices: annualised capex at ``discount_rate_per_yr``
    plus O&M minus energy-cost savings, per tonne of scope 1+2 CO2 avoided. Measures are
    ranked by that cost per tonne (a marginal-abatement-cost curve); each measure's
    potential is evaluated on the state left by the measures ranked before it (no double
    counting of stacked measures). Base emissions and potentials are extrapolated from the
    reporting members to all members by strata (sector x size class, which an association
    knows of every member): each reporting member stands for the members of its stratum.
    Measures costing at most ``roadmap_max_cost_usd_per_t_co2`` (0 = profitable, "de forma
    rentable", source: 000_921f8effd5da221e.txt) are the roadmap's measures; the yearly
    emission targets fall linearly from the base-year emissions (estimated from the registry)
    by their potential until ``roadmap_target_year``, so they never rise. Publishing the
    roadmap makes each member aware of each roadmap measure with probability
    ``roadmap_awareness_share``.
Roadmap instruments  The workshops identify "the barriers to implementing energy-efficiency
    actions and the possible contributions of the public and private sectors to remove them"
    (000_921f8effd5da221e.txt). When a roadmap is published, the alliance finds the barrier
    that binds most for the cluster's members on the roadmap's measures (engine state: for
    each barrier, the share of open (member, roadmap measure) pairs blocked by that barrier
    alone, i.e. that removing it would unblock; ties and zeros fall back to the share it
    blocks at all) and adds the instrument that removes it, for ``instrument_years``:
    information -> energy audits of members (``audits_per_yr_per_cluster``; they recommend
    measures by the auditor's rule, ``engine.recommend``); economics -> a co-funding grant on
    roadmap measures (``grant_share`` of capex, at most ``grant_max_per_project_usd``, within
    ``instrument_budget_usd_per_cluster``); capital -> a credit line of
    ``credit_per_energy_cost`` times each member's energy bill (a bank's money: reported, not
    public spending); skills -> a course training ``consultants_per_cluster`` consultants in
    the roadmap's measures. Switch: ``roadmap_instruments``.
Costs  The alliance's public costs are counted (``engine.report_spending``): the Danish
    Energy Agency's support (``dea_support_usd_per_yr`` for ``dea_support_years``), the state
    registry and MRV (``registry_cost_usd_per_yr``), and the roadmap instruments' money.
Tracking  Every December the alliance reads each cluster's emissions from the registry (all
    members, and the reporting members only, with the coverage) and compares them with the
    roadmap's target and with the ambition line of the Danish reference: a cut of
    ``ambition_reduction_share`` (70 %, source: 000_921f8effd5da221e.txt) reached by
    ``ambition_year``. The ambition line is a reference for the plot; nothing forces it.

Vectorised over firms; Python loops run over clusters and measures only.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List

import numpy as np

from ..barriers.economics import annuity_factor
from ..params import SIZE_CLASSES, ConfigError, CostShareConfig
from . import Mechanism, register
from .budget import GrantInstrument, capped_grant_usd

BARRIERS = ("information", "economics", "capital", "skills")
#: the instrument a roadmap adds against each barrier
INSTRUMENT_FOR = {"information": "energy_audits", "economics": "co_funding_grant", "capital": "credit_line",
                  "skills": "consultant_training"}


class _Spending:
    """Public money under one name (``engine.report_spending`` reads ``spent_usd``)."""

    def __init__(self):
        self.spent_usd = 0.0


class RoadmapGrant(GrantInstrument):
    """The roadmaps' co-funding grant: ``grant_share`` of the capex of a roadmap measure, at
    most ``grant_max_per_project_usd``, for members of the clusters whose binding barrier is
    economics, while their instrument runs and the budget lasts."""

    name = "roadmap_grant"

    def __init__(self, engine, params):
        self.open_budget(engine, self.name, True, 0.0)
        self.share = float(params.grant_share)
        self.cap = float(params.grant_max_per_project_usd)
        #: [N, K] member firm x roadmap measure the grant covers (while its cluster's instrument runs)
        self.covers = np.zeros((engine.n_firms, engine.catalogue.k), bool)
        self.until_month = np.full(engine.n_firms, -1, dtype=np.int64)
        self.projects = 0

    def record(self, engine, firms: np.ndarray) -> None:
        self.projects += len(firms)

    def offer(self, engine, firm, measure, capex):
        if not self.active:
            return np.zeros(len(firm))
        ok = self.covers[firm, measure] & (self.until_month[firm] >= engine.month) & ~engine.firms.adopted[firm, measure]
        return np.where(ok, capped_grant_usd(self.share, capex, self.cap), 0.0)

    def grant_bound(self):
        if not self.active or not self.covers.any():
            return None
        return self.share, min(self.cap, 3e38)


@dataclass
class Roadmap:
    """A cluster's roadmap: its MAC curve and yearly emission targets (t CO2, scope 1+2)."""

    cluster: str
    built_month: int
    base_year: int
    coverage_share: float  # share of members reporting when the roadmap was built
    base_emissions_t_co2: float  # members' base-year emissions, estimated from the registry
    mac: list  # rows: measure, cost_usd_per_t_co2, potential_t_co2_per_yr, cumulative_t_co2_per_yr, in_roadmap
    potential_t_co2_per_yr: float  # potential of the roadmap's measures
    target_t_co2_by_year: dict  # {year: t CO2}
    ambition_t_co2_by_year: dict


@register("climate_alliance")
class ClimateAlliance(Mechanism):
    """The state-cluster climate alliance: barrier workshops, cluster roadmaps (MAC curves
    and targets), and tracking of each cluster's emissions in the state registry."""

    @dataclass
    class Params:
        #: switch the alliance's workshops and roadmaps off (the counterfactual run; the
        #: registry readings per cluster are still reported)
        enabled: bool = True
        #: scenario clusters that sign the alliance ([] = all of them)
        clusters: List[str] = field(default_factory=list)
        #: month (from the start) of the barrier workshops (source: 000_921f8effd5da221e.txt:
        #: held with the signing of the agreements)
        workshop_month: int = 0
        #: workshop length, days (source: 000_921f8effd5da221e.txt: 8-10 July, three days); informative
        workshop_days: int = 3
        #: participants per cluster (source: 000_921f8effd5da221e.txt: about 21 firms from each sector)
        firms_per_workshop: int = 21
        #: probability that a participant learns each applicable measure (free parameter)
        awareness_lift_share: float = 0.6  # free parameter, range 0.3-0.9
        #: share of hidden costs a participant no longer faces (free parameter)
        hidden_cost_relief_share: float = 0.5  # free parameter, range 0.2-0.8
        #: share of perceived risk premium a participant no longer faces (free parameter)
        risk_relief_share: float = 0.3  # free parameter, range 0.1-0.6
        #: month (from the start) the roadmaps are built and published (assumption: after a
        #: year of collecting information)
        roadmap_month: int = 12  # free parameter, range 6-24
        #: discount rate of the roadmap's cost per tonne, per year (assumption: a social
        #: discount rate; MAC studies use 4-10 %, e.g. McKinsey & Company 2009, Pathways to a
        #: Low-Carbon Economy, 4 %)
        discount_rate_per_yr: float = 0.10
        #: measures up to this cost per tonne enter the roadmap, USD/t CO2 (0: profitable ones,
        #: source: 000_921f8effd5da221e.txt "de forma rentable")
        roadmap_max_cost_usd_per_t_co2: float = 0.0
        #: year by which the roadmap's measures are all in place (assumption)
        roadmap_target_year: int = 2030  # free parameter, range 2028-2035
        #: probability that a member learns each roadmap measure when it is published (free parameter)
        roadmap_awareness_share: float = 0.5  # free parameter, range 0.2-0.8
        #: cut of the Danish reference (source: 000_921f8effd5da221e.txt: 70 % of energy-use GHG)
        ambition_reduction_share: float = 0.70
        #: year the ambition line reaches that cut (assumption)
        ambition_year: int = 2050  # free parameter, range 2040-2060
        # roadmap instruments (the barrier that binds most selects one per cluster) ----------
        roadmap_instruments: bool = True
        #: years each roadmap instrument runs (free parameter, range 2-5)
        instrument_years: int = 3
        #: information: energy audits of members a year per cluster (free parameter, range 10-50)
        audits_per_yr_per_cluster: int = 20
        #: cost of one audit, USD (free parameter, range 1,500-10,000: a walk-through SME audit)
        cost_per_audit_usd: float = 3000.0
        #: simple-payback ceiling of an audit's recommendations, years (free parameter, range 1-5; sim/recommendations.py)
        recommend_max_payback_yr: float = CostShareConfig.recommend_max_payback_yr
        #: economics: co-funding share of a roadmap measure's capex (free parameter, range 0.2-0.5)
        grant_share: float = 0.3
        #: cap on one grant, USD (free parameter)
        grant_max_per_project_usd: float = 50000.0  # free parameter, range 20,000-100,000
        #: money of a cluster's grant (or audits, or course), USD (free parameter, range 0.1-2 M)
        instrument_budget_usd_per_cluster: float = 500000.0
        #: capital: credit line per member as a multiple of its yearly energy bill (free parameter, range 0.5-3)
        credit_per_energy_cost: float = 1.0
        #: skills: consultants a cluster's course trains in the roadmap's measures (free parameter, range 5-30)
        consultants_per_cluster: int = 10
        #: net cost of that course, USD (free parameter; as the Bajio centre's course)
        cost_per_course_usd: float = 40000.0  # free parameter, range 20,000-80,000
        #: years a trained consultant works (free parameter, range 2-10)
        consultant_active_yr: float = 5.0
        # the alliance's own costs ------------------------------------------------------
        #: Danish Energy Agency support, USD/yr: the whole Mexican-Danish energy partnership had
        #: DKK 34 million for 2017-2020 (State of Green, 23 June 2017; ~US$ 5.1 M at 6.6 DKK/USD,
        #: ~US$ 1.7 M/yr); the Nuevo Leon alliance's share is a free parameter (~10 %, range 5-25 %)
        dea_support_usd_per_yr: float = 170000.0
        #: years of that support (the partnership's three-year phases, same source)
        dea_support_years: int = 3
        #: the state registry and MRV, USD/yr (free parameter, range 50,000-300,000: staff and system)
        registry_cost_usd_per_yr: float = 100000.0

    @classmethod
    def validate(cls, p, cfg, key: str) -> None:
        names = [c.name for c in cfg.scenario.clusters]
        if not names:
            raise ConfigError("scenario.clusters", [], f"{key} needs at least one cluster association in the scenario")
        for c in p.clusters:
            if c not in names:
                raise ConfigError(f"{key}.clusters", c, f"unknown cluster; scenario clusters: {', '.join(names)}")
        for name in ("workshop_month", "workshop_days", "firms_per_workshop", "roadmap_month"):
            if getattr(p, name) < 0:
                raise ConfigError(f"{key}.{name}", getattr(p, name), "must be an integer >= 0")
        for name in ("awareness_lift_share", "hidden_cost_relief_share", "risk_relief_share", "roadmap_awareness_share",
                     "ambition_reduction_share"):
            v = getattr(p, name)
            if not 0.0 <= v <= 1.0:
                raise ConfigError(f"{key}.{name}", v, "must be a share in [0, 1]")
        if not 0.0 <= p.discount_rate_per_yr <= 1.0:
            raise ConfigError(f"{key}.discount_rate_per_yr", p.discount_rate_per_yr, "must be a rate in [0, 1] per year")
        if not (p.roadmap_max_cost_usd_per_t_co2 == p.roadmap_max_cost_usd_per_t_co2):
            raise ConfigError(f"{key}.roadmap_max_cost_usd_per_t_co2", p.roadmap_max_cost_usd_per_t_co2, "must be a number (USD/t CO2)")
        for name in ("instrument_years", "audits_per_yr_per_cluster", "consultants_per_cluster", "dea_support_years"):
            if getattr(p, name) < 0:
                raise ConfigError(f"{key}.{name}", getattr(p, name), "must be an integer >= 0")
        for name in ("cost_per_audit_usd", "grant_max_per_project_usd", "instrument_budget_usd_per_cluster",
                     "credit_per_energy_cost", "cost_per_course_usd", "dea_support_usd_per_yr", "registry_cost_usd_per_yr"):
            if not getattr(p, name) >= 0:
                raise ConfigError(f"{key}.{name}", getattr(p, name), "must be a number >= 0")
        if not 0.0 <= p.grant_share <= 1.0:
            raise ConfigError(f"{key}.grant_share", p.grant_share, "must be a share in [0, 1]")
        if not p.recommend_max_payback_yr > 0:
            raise ConfigError(f"{key}.recommend_max_payback_yr", p.recommend_max_payback_yr, "must be a number of years > 0")
        if not p.consultant_active_yr >= 1:
            raise ConfigError(f"{key}.consultant_active_yr", p.consultant_active_yr, "must be a number of years >= 1")
        for name in ("roadmap_target_year", "ambition_year"):
            v = getattr(p, name)
            if v <= cfg.start_year:
                raise ConfigError(f"{key}.{name}", v, f"must be a year after start_year ({cfg.start_year})")

    # ---------------------------------------------------------------------------------
    def __init__(self, engine, params):
        super().__init__(engine, params)
        p = params
        self.stream = engine.spawn_stream(self.name)  # the alliance's own child stream
        all_names = [c.name for c in engine.clusters]
        chosen = p.clusters or all_names
        self.cluster_index = np.array([all_names.index(c) for c in chosen], dtype=np.int64)
        self.cluster_names = list(chosen)
        L = len(all_names)
        Y = len(engine.energy.years)
        self.members = [np.flatnonzero(engine.firms.cluster == i) for i in range(L)]
        self.roadmaps: dict[str, Roadmap] = {}
        #: all members' base-year emissions in the registry (what the cluster estimates), t CO2
        self.base_actual: dict[str, float] = {}
        self.workshop_participants: dict[str, int] = {}
        self.barriers: dict[str, dict] = {}
        #: [years, clusters] read from the registry each December
        self.emissions_t = np.full((Y, L), np.nan)
        self.reported_t = np.full((Y, L), np.nan)
        self.coverage = np.full((Y, L), np.nan)
        # roadmap instruments and costs
        self.instruments: dict[str, dict] = {}  # cluster -> {barrier, instrument, shares, from/until month, ...}
        self.dea_support, self.registry, self.audits_spent = _Spending(), _Spending(), _Spending()
        self.courses_spent = _Spending()
        self.credit_line_usd = 0.0
        self.grant = None
        if p.enabled:
            engine.report_spending("alliance_dea_support", self.dea_support)
            engine.report_spending("alliance_registry_mrv", self.registry)
            if p.roadmap_instruments:
                self.grant = RoadmapGrant(engine, p)
                engine.add_grants(self.grant)
                engine.report_spending("alliance_energy_audits", self.audits_spent)
                engine.report_spending("alliance_consultant_training", self.courses_spent)

    # ---------------------------------------------------------------------------------
    def cluster_activities(self, engine) -> None:
        p = self.params
        if not p.enabled:
            return
        # the alliance's running costs: the Danish Energy Agency's support, the registry and MRV
        if engine.month < 12 * p.dea_support_years:
            self.dea_support.spent_usd += p.dea_support_usd_per_yr / 12.0
        self.registry.spent_usd += p.registry_cost_usd_per_yr / 12.0
        self._audits(engine)
        if engine.month == p.workshop_month:
            for ci, name in zip(self.cluster_index, self.cluster_names):
                self._workshop(engine, int(ci), name)
        if engine.month == p.roadmap_month:
            for ci, name in zip(self.cluster_index, self.cluster_names):
                members = self.members[int(ci)]
                if (engine.firms.reporting_from_month[members] <= engine.month).any():
                    self.roadmaps[name] = self._roadmap(engine, int(ci), name)
                # a cluster without any reporting member has no information to build a roadmap on

    def _workshop(self, engine, ci: int, name: str) -> None:
        p = self.params
        pool = self.members[ci]
        n = min(p.firms_per_workshop, len(pool))
        if n == 0:
            self.workshop_participants[name] = 0
            return
        part = np.sort(self.stream.choice(pool, size=n, replace=False))
        self.barriers[name] = self._diagnose(engine, part)
        engine.inform(part, self.stream.random((n, engine.catalogue.k)) < p.awareness_lift_share, source=self.name)
        engine.relieve("hidden_costs", part, p.hidden_cost_relief_share)
        engine.relieve("risk", part, p.risk_relief_share)
        self.workshop_participants[name] = n

    @staticmethod
    def _diagnose(engine, part: np.ndarray) -> dict:
        """Share of the participants' open (firm, measure) pairs each barrier blocks, and the
        share no barrier blocks (measures the firm would take up)."""
        ft = engine.firms
        tm = engine.terms(part)
        open_ = ft.applicable[part] & ~ft.adopted[part] & engine.available[None, :]
        n_open = int(open_.sum())
        if n_open == 0:
            return {"open_pairs": 0}
        npv = tm.npv()
        blocked = {
            "information": ~ft.aware[part],
            "economics": npv <= 0,
            "capital": tm.capex > tm.funds[:, None],
            "skills": ~tm.skilled,
        }
        out = {"open_pairs": n_open}
        none = open_.copy()
        for b in BARRIERS:
            out[f"{b}_share"] = float((blocked[b] & open_).sum() / n_open)
            none &= ~blocked[b]
        out["unblocked_share"] = float(none.sum() / n_open)
        return out

    # ---------------------------------------------------------------------------------
    @staticmethod
    def extrapolation_weights(engine, members: np.ndarray, reporting: np.ndarray) -> np.ndarray:
        """[len(reporting)] how many members each reporting member stands for: members over
        reporting members of its stratum (sector x size class, which an association knows of
        every member). A stratum without any reporting member is unknown and gets no weight."""
        ft = engine.firms
        S = len(SIZE_CLASSES)
        st_m = ft.sector[members].astype(np.int64) * S + ft.size_class[members]
        st_r = ft.sector[reporting].astype(np.int64) * S + ft.size_class[reporting]
        n = int(st_m.max()) + 1 if len(st_m) else 1
        cm, cr = np.bincount(st_m, minlength=n), np.bincount(st_r, minlength=n)
        return cm[st_r] / np.maximum(cr[st_r], 1)

    def mac_curve(self, engine, firms: np.ndarray, weights: np.ndarray | None = None):
        """The MAC curve of ``firms`` at this year's prices: measures sorted by cost per tonne,
        each with its potential (t CO2/yr) on the state the cheaper measures leave; each firm
        counts ``weights`` times (default once). Returns (measure index, USD/t, t/yr) rows.

        The cost per tonne is the analyst's (a social cost, not a firm's NPV): catalogue capex
        annualised at ``discount_rate_per_yr`` plus O&M minus energy-cost savings, per tonne
        of scope 1+2 CO2, without the firms' hurdle rates, hidden costs or non-energy
        benefits (those are the decision's, ``engine.terms``)."""
        p, cat, val = self.params, engine.catalogue, engine.valuation
        ft = engine.firms
        w = np.ones(len(firms)) if weights is None else np.asarray(weights, dtype=float)
        x = engine.state_matrix(firms)  # [M, C+1] energy by carrier and process CO2
        ab_w = (val.abated_scope1_t + val.abated_scope2_t).T  # [C+1, K]
        can = ft.applicable[firms] & ~ft.adopted[firms] & engine.available[None, :]
        crf = 1.0 / annuity_factor(np.full(cat.k, p.discount_rate_per_yr), cat.lifetime_yr)  # [K] capital recovery
        capex_mult = engine.capex_multiplier

        def cost_and_abatement(x):
            ab = x @ ab_w
            basis = x @ val.size_basis.T
            capex = (cat.capex_fixed_usd + cat.capex_usd_per_unit * basis) * capex_mult
            cost = capex * (crf + cat.om_share_of_capex_per_yr) - x @ val.saving_usd.T  # USD/yr
            ok = can & (basis > 0)
            return w @ np.where(ok, cost, 0.0), w @ np.where(ok, ab, 0.0), ok

        cost, ab, _ = cost_and_abatement(x)
        usd_per_t = np.where(ab > 0, cost / np.where(ab > 0, ab, 1.0), np.inf)
        order = [int(k) for k in np.argsort(usd_per_t, kind="stable") if ab[k] > 0]
        rows = []
        for k in order:  # potentials in MAC order, each on what the cheaper measures left
            ab_k = np.where(can[:, k], x @ ab_w[:, k], 0.0)
            ab_k = np.where((x @ val.size_basis[k]) > 0, ab_k, 0.0)
            rows.append((k, float(usd_per_t[k]), float(max(w @ ab_k, 0.0))))
            dx = np.einsum("ij,pj->pi", val.state_change[k], x)
            x = np.where(can[:, k:k + 1], x + dx, x)
            x[:, :-1] = np.maximum(x[:, :-1], 0.0)
        return rows

    def _roadmap(self, engine, ci: int, name: str) -> Roadmap:
        p, reg = self.params, engine.registry
        members = self.members[ci]
        reporting = members[engine.firms.reporting_from_month[members] <= engine.month]
        coverage = len(reporting) / max(len(members), 1)
        w = self.extrapolation_weights(engine, members, reporting)
        done = np.flatnonzero(reg.recorded)
        if len(done):  # base year: the last year in the registry
            y = int(done[-1])
            base_year = int(reg.years[y])
            e_rep = reg.scope1_t[y, reporting].astype(float) + reg.scope2_t[y, reporting]
            self.base_actual[name] = float((reg.scope1_t[y, members].astype(float) + reg.scope2_t[y, members]).sum())
        else:  # no registry year yet: the reporting members' current emission rates
            base_year = engine.year
            e_rep = engine.scope1_rate[reporting] + engine.scope2_rate[reporting]
            self.base_actual[name] = float((engine.scope1_rate[members] + engine.scope2_rate[members]).sum())
        base = float(w @ e_rep)  # stratified estimate of all members' emissions
        rows = self.mac_curve(engine, reporting, w) if len(reporting) else []
        mac, cum, potential = [], 0.0, 0.0
        for k, usd_per_t, pot in rows:
            cum += pot
            inside = usd_per_t <= p.roadmap_max_cost_usd_per_t_co2
            if inside:
                potential += pot
            mac.append({"measure": engine.catalogue.names[k], "cost_usd_per_t_co2": usd_per_t,
                        "potential_t_co2_per_yr": pot, "cumulative_t_co2_per_yr": cum, "in_roadmap": bool(inside)})
        potential = min(potential, base)
        # the plan runs to the target year even when the simulation stops earlier
        years = list(range(base_year, max(int(engine.energy.years[-1]), p.roadmap_target_year) + 1))
        span = max(p.roadmap_target_year - base_year, 1)
        a_span = max(p.ambition_year - base_year, 1)
        target = {y: base - potential * min(1.0, (y - base_year) / span) for y in years}
        ambition = {y: base * (1.0 - p.ambition_reduction_share * min(1.0, (y - base_year) / a_span)) for y in years}
        # publish: members learn the roadmap's measures
        in_rm = np.zeros(engine.catalogue.k, bool)
        for r in mac:
            if r["in_roadmap"]:
                in_rm[engine.catalogue.index(r["measure"])] = True
        if in_rm.any() and len(members):
            learn = (self.stream.random((len(members), engine.catalogue.k)) < p.roadmap_awareness_share)
            engine.inform(members, learn & in_rm[None, :], source=self.name)
        if p.roadmap_instruments and in_rm.any() and len(members):
            self._start_instrument(engine, name, members, in_rm)
        return Roadmap(name, engine.month, base_year, coverage, base, mac, potential, target, ambition)

    # -- roadmap instruments --------------------------------------------------------------
    @staticmethod
    def binding_barrier(engine, members: np.ndarray, measures: np.ndarray) -> tuple[str, dict, dict]:
        """The barrier that binds most for ``members`` on ``measures`` ([K] bool) now: for each
        barrier the share of open pairs it alone blocks (removing it would unblock them), and
        the share it blocks at all; the largest sole share wins (ties and all-zero: the
        largest share blocked). Returns (barrier, sole shares, blocked shares)."""
        ft = engine.firms
        tm = engine.terms(members)
        open_ = ft.applicable[members] & ~ft.adopted[members] & engine.available[None, :] & measures[None, :]
        consultant = engine.consultants.available_for(np.arange(engine.catalogue.k))[None, :]
        blocked = {"information": ~ft.aware[members], "economics": tm.npv() <= 0,
                   "capital": tm.capex > tm.funds[:, None], "skills": ~tm.skilled & ~consultant}
        n = max(int(open_.sum()), 1)
        on = engine.behaviour.terms  # a barrier switched off blocks nothing
        any_ = {b: (v & open_ & bool(getattr(on, b))) for b, v in blocked.items()}
        share = {b: float(v.sum() / n) for b, v in any_.items()}
        sole = {}
        for b in BARRIERS:
            others = np.zeros_like(open_)
            for o in BARRIERS:
                if o != b:
                    others |= any_[o]
            sole[b] = float((any_[b] & ~others).sum() / n)
        best = max(BARRIERS, key=lambda b: (sole[b], share[b]))
        return best, sole, share

    def _start_instrument(self, engine, name: str, members: np.ndarray, in_rm: np.ndarray) -> None:
        """The roadmap's instrument against the cluster's binding barrier, from now on for
        ``instrument_years``."""
        p = self.params
        barrier, sole, share = self.binding_barrier(engine, members, in_rm)
        inst = INSTRUMENT_FOR[barrier]
        until = engine.month + 12 * p.instrument_years - 1
        rec = {"binding_barrier": barrier, "instrument": inst, "barrier_sole_block_share": sole,
               "barrier_block_share": share, "from_month": engine.month, "until_month": until,
               "measures": [engine.catalogue.names[k] for k in np.flatnonzero(in_rm)], "members": int(len(members))}
        if inst == "co_funding_grant":
            self.grant.covers[members] |= in_rm[None, :]
            self.grant.until_month[members] = until
            self.grant.budget_usd += p.instrument_budget_usd_per_cluster
        elif inst == "credit_line":
            extra = p.credit_per_energy_cost * (engine.firms.energy_mwh_per_yr[members] @ engine.price)
            engine.extend_credit(members, extra)
            self.credit_line_usd += float(extra.sum())
            rec["credit_line_usd"] = float(extra.sum())
        elif inst == "consultant_training":
            if p.cost_per_course_usd <= p.instrument_budget_usd_per_cluster:
                self.courses_spent.spent_usd += p.cost_per_course_usd
                engine.train_consultants(p.consultants_per_cluster, 11 - engine.month % 12, in_rm, p.consultant_active_yr)
                rec["consultants_trained"] = p.consultants_per_cluster
        else:  # energy audits, monthly (``_audits``)
            rec["audit_queue"] = self.stream.permutation(members)
            rec["audits"] = 0
            rec["audit_spent_usd"] = 0.0
        self.instruments[name] = rec

    def _audits(self, engine) -> None:
        """This month's energy audits of the clusters whose roadmap instrument is audits: each
        recommends measures by the auditor's rule (``engine.recommend``), which the firm learns."""
        p = self.params
        m = engine.month
        for name, rec in self.instruments.items():
            if rec["instrument"] != "energy_audits" or not rec["from_month"] <= m <= rec["until_month"]:
                continue
            k = (m - rec["from_month"]) % 12
            a = p.audits_per_yr_per_cluster
            n = (k + 1) * a // 12 - k * a // 12
            if p.cost_per_audit_usd > 0:
                n = min(n, int((p.instrument_budget_usd_per_cluster - rec["audit_spent_usd"]) // p.cost_per_audit_usd))
            firms = np.sort(rec["audit_queue"][rec["audits"]:rec["audits"] + max(n, 0)])
            if len(firms) == 0:
                continue
            rec["audits"] += len(firms)
            rec["audit_spent_usd"] += len(firms) * p.cost_per_audit_usd
            self.audits_spent.spent_usd += len(firms) * p.cost_per_audit_usd
            recd = engine.recommend(firms, self.name, p.recommend_max_payback_yr)
            engine.inform(firms, recd, source=self.name)
            engine.publish("assessment", month=m, firms=firms, source=self.name)

    def spending_usd(self) -> dict:
        """The alliance's public money by name, USD (the credit line is a bank's, not counted)."""
        out = {"dea_support_usd": self.dea_support.spent_usd, "registry_mrv_usd": self.registry.spent_usd,
               "energy_audits_usd": self.audits_spent.spent_usd, "consultant_training_usd": self.courses_spent.spent_usd,
               "co_funding_grants_usd": self.grant.spent_usd if self.grant is not None else 0.0}
        return out

    # ---------------------------------------------------------------------------------
    def end_month(self, engine) -> None:
        """Each December (after the registry recorded the year): every cluster's emissions."""
        if engine.month % 12 != 11:
            return
        y = engine.year - engine.start_year
        reg, ft = engine.registry, engine.firms
        L = len(self.members)
        em = (reg.scope1_t[y].astype(float) + reg.scope2_t[y])
        reporting = ft.reporting_from_month <= engine.month
        ok = ft.cluster >= 0
        self.emissions_t[y] = np.bincount(ft.cluster[ok], weights=em[ok], minlength=L)
        self.reported_t[y] = np.bincount(ft.cluster[ok], weights=(em * reporting)[ok], minlength=L)
        self.coverage[y] = np.bincount(ft.cluster[ok], weights=reporting[ok].astype(float), minlength=L) / np.maximum(
            np.bincount(ft.cluster[ok], minlength=L), 1)

    def monthly_row(self, engine) -> dict:
        return {"alliance_workshop_participants": int(sum(self.workshop_participants.values())),
                "alliance_roadmaps": len(self.roadmaps)}

    def summary(self, engine) -> dict:
        years = engine.energy.years
        rec = ~np.isnan(self.emissions_t[:, 0]) if self.emissions_t.shape[1] else np.zeros(len(years), bool)
        out_clusters = {}
        headline = {"clusters": len(self.cluster_names),
                    "workshop_participants": int(sum(self.workshop_participants.values())),
                    "roadmaps": len(self.roadmaps)}
        for ci, name in zip(self.cluster_index, self.cluster_names):
            rm = self.roadmaps.get(name)
            em = {int(y): float(self.emissions_t[i, ci]) for i, y in enumerate(years) if rec[i]}
            rows = {}
            for y, e in em.items():
                i = y - engine.start_year
                row = {"emissions_t_co2": e, "reported_t_co2": float(self.reported_t[i, ci]),
                       "registry_coverage_share": float(self.coverage[i, ci])}
                if rm is not None and y in rm.target_t_co2_by_year:
                    row["target_t_co2"] = rm.target_t_co2_by_year[y]
                    row["ambition_t_co2"] = rm.ambition_t_co2_by_year[y]
                    row["gap_to_target_t_co2"] = e - rm.target_t_co2_by_year[y]
                    row["on_track"] = bool(e <= rm.target_t_co2_by_year[y])
                rows[str(y)] = row
            c = {"members": int(len(self.members[ci])), "workshop_participants": self.workshop_participants.get(name, 0),
                 "workshop_barriers": self.barriers.get(name, {}), "by_year": rows}
            if rm is not None:
                c["roadmap"] = {
                    "built_month": rm.built_month, "base_year": rm.base_year, "coverage_share": rm.coverage_share,
                    "base_emissions_t_co2": rm.base_emissions_t_co2, "potential_t_co2_per_yr": rm.potential_t_co2_per_yr,
                    "base_emissions_registry_all_members_t_co2": self.base_actual.get(name),
                    "target_year": self.params.roadmap_target_year, "mac_curve": rm.mac,
                    "target_t_co2_by_year": {str(y): v for y, v in rm.target_t_co2_by_year.items()},
                    "ambition_t_co2_by_year": {str(y): v for y, v in rm.ambition_t_co2_by_year.items()},
                }
                last = max(em) if em else None
                if last is not None and last in rm.target_t_co2_by_year:
                    tg = rm.target_t_co2_by_year[last]
                    headline[f"{name}_emissions_vs_target_{last}"] = em[last] / tg if tg > 0 else None
            if em:
                first, last = min(em), max(em)
                headline[f"{name}_cut_{first}_{last}_share"] = 1.0 - em[last] / em[first] if em[first] > 0 else None
            out_clusters[name] = c
        spend = self.spending_usd()
        headline["public_spending_usd"] = float(sum(spend.values()))
        for name, rec in self.instruments.items():
            out_clusters[name]["roadmap_instrument"] = {k: v for k, v in rec.items() if k != "audit_queue"}
        if self.grant is not None:
            headline["co_funded_projects"] = int(self.grant.projects)
        return {"headline": headline, "enabled": bool(self.params.enabled), "spending_usd_by_item": spend,
                "credit_line_usd": self.credit_line_usd,
                "recommendations": engine.recommendations.stats(self.name),
                "ambition_reduction_share": self.params.ambition_reduction_share,
                "ambition_year": self.params.ambition_year, "clusters": out_clusters}


def plot(summary: dict, out, title: str = "") -> None:
    """Each cluster's registry emissions against its roadmap target and the ambition line, and
    the clusters' MAC curves (from a run's ``summary.json``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from matplotlib.ticker import MaxNLocator

    prog = summary["programmes"]["climate_alliance"]
    clusters = prog["clusters"]
    n = max(len(clusters), 1)
    fig, axes = plt.subplots(2, n, figsize=(5.2 * n, 8.6), squeeze=False)
    for i, (name, c) in enumerate(clusters.items()):
        ax = axes[0, i]
        by = c["by_year"]
        ys = sorted(int(y) for y in by)
        ax.plot(ys, [by[str(y)]["emissions_t_co2"] / 1e3 for y in ys], "o-", ms=4, label="registry: all members")
        ax.plot(ys, [by[str(y)]["reported_t_co2"] / 1e3 for y in ys], ".:", color="grey", label="registry: reporting members")
        rm = c.get("roadmap")
        if rm:
            t = sorted(int(y) for y in rm["target_t_co2_by_year"])
            ax.plot(t, [rm["target_t_co2_by_year"][str(y)] / 1e3 for y in t], "--", color="C2",
                    label=f"roadmap target (base estimated at {rm['coverage_share']:.0%} coverage)")
            ax.plot(t, [rm["ambition_t_co2_by_year"][str(y)] / 1e3 for y in t], "-.", color="C3",
                    label=f"ambition: -{prog['ambition_reduction_share']:.0%} by {prog['ambition_year']} (Danish reference)")
        ax.set(title=f"{name}: {c['members']} members", xlabel="year", ylabel="kt CO2 / yr (scope 1+2)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower left")
        ax = axes[1, i]
        if rm and rm["mac_curve"]:
            x0 = 0.0
            for r in rm["mac_curve"]:
                w = r["potential_t_co2_per_yr"] / 1e3
                cost = float(np.clip(r["cost_usd_per_t_co2"], -1000, 1000))
                ax.bar(x0, cost, width=w, align="edge", color="C2" if r["in_roadmap"] else "C7", alpha=0.85,
                       edgecolor="k", linewidth=0.4)
                if w > 0.04 * max(rm["mac_curve"][-1]["cumulative_t_co2_per_yr"] / 1e3, 1e-9):
                    ax.text(x0 + w / 2, cost / 2, r["measure"].replace("_", " "), rotation=90, fontsize=7,
                            ha="center", va="center")
                x0 += w
        ax.axhline(0, color="k", lw=0.8)
        ax.set(title=f"{name}: roadmap MAC curve", xlabel="abatement potential, kt CO2 / yr (green: in the roadmap)",
               ylabel="USD / t CO2 (clipped at +-1000)")
        ax.grid(alpha=0.3)
    fig.suptitle(title or f"{summary['scenario']}: {summary['n_firms']} firms, {summary['start_year']}-{summary['end_year']}")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main(argv=None) -> int:
    """python -m sim.mechanisms.climate_alliance <run dir> <out.png>"""
    import json
    import sys
    from pathlib import Path

    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m sim.mechanisms.climate_alliance <run dir> <out.png>", file=sys.stderr)
        return 2
    f = Path(argv[0]) / "summary.json"
    if not f.exists():
        print(f"error: {argv[0]}: not a complete run folder (no summary.json)", file=sys.stderr)
        return 2
    s = json.loads(f.read_text())
    if "climate_alliance" not in s.get("programmes", {}):
        print(f"error: {argv[0]}: the run has no climate_alliance programme", file=sys.stderr)
        return 2
    plot(s, argv[1])
    print(argv[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
