"""A regional Cleaner Production Centre running a donor-funded cleaner-production programme
(modelled on the Bajio Cleaner Production Implementation programme, source:
004_422d327f12c6e0c3.txt).

The centre is a Mesa agent with a small staff and a fixed budget from several funders. Over
the programme's months it runs the programme's three components:

1. Awareness: a launch event, awareness events spread over each year and a final
   conference. Each event reaches ``firms_reached_per_event`` firms of the target sectors;
   each learns each cleaner-production (project) measure with probability
   ``awareness_lift_share``. Aware firms apply first for pre-assessments (demand).
2. Training: one course a year of about two months; when it ends, its graduates join the
   region's pool of trained consultants (``engine.train_consultants``). They implement only
   the measures the course taught (``course_measures``, by default the project measures),
   ``projects_per_consultant_per_yr`` a year each (``policy.training``, a free parameter),
   for ``consultant_active_yr`` years, in firms that lack the capability for them.
3. Implementation: pre-assessments of target-sector SMEs (the priority sector first in
   programme year 1). The projects are a cost-share programme
   (:class:`CleanerProductionProjects` subclasses ``cost_share.CostShareProgramme``) and a
   pre-assessment is its ``assess``: it recommends measures by the auditor's rule
   (``engine.recommend``: applicable, not in place, simple payback <=
   ``recommend_max_payback_yr``; recorded for ``assessments.parquet``), the firm learns them
   and the project measure, sheds part of its hidden costs and holds, for ``offer_months``,
   an offer of a cleaner-production project: a package costing ``project_cost_usd`` that
   implements the project measure, of which the firm pays ``copay_share`` and the programme
   the rest. The firm takes it at its next investment review if it is worth it at the
   firm's own hurdle rate (``decision.py``).

The seed's numbers of pre-assessments (50 a year) and projects (7, 11, 12) are **minimum
targets** (004_422d327f12c6e0c3.txt: "a minimum of"), reported met or missed per programme
year. The technical staff (the CP Technical Coordinator, ``technical_staff``) does the
pre-assessments and manages the projects; each month their days go first to projects at the
pace the year's minimum needs, then to the pre-assessments the year's minimum needs by now
(a short month is caught up), then - with money beyond what the rest of the plan needs
(``spare_usd``) - to more pre-assessments of firms that applied and to more projects. The
other staff run the courses, events and evaluations. Money comes in yearly tranches
(``tranche_share_by_programme_year``; the seed's annual plan and budget); a spent tranche
idles the centre until the next, and it closes only when the contributions are spent.
Every expense is charged to the funders in the order ``funding_order`` gives for its
category; an expense no funder can cover is refused, so spending never exceeds any
funder's contribution. In-kind contributions (``in_kind_funders``) are reported as
``in_kind_usd``, not as public money.

The centre also tracks what programme projects abate and save, and the firms that copied a
project measure after a network neighbour did it under the programme (spillover).
All work is vectorised over firms; the only Python loops are over events, categories and
funders.

Known simplification: a firm holding an offer values the project measure at the project's
price. If, in a month with more takers than quota, it loses the grant to an earlier
candidate, the engine re-decides it without the grant but still at that price.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np

from ..params import SIZE_CLASSES, ConfigError, CostShareConfig
from . import Mechanism, register
from .cost_share import CostShareProgramme

#: expense categories of the centre
CATEGORIES = ("staff", "awareness", "training", "pre_assessment", "project", "evaluation")


class FunderLedger:
    """Contributions and spending by funder, charged in a per-category funder order. Money is
    released in yearly tranches (:meth:`release`): by programme year y a funder has released
    its contribution times the cumulative tranche share up to y; unspent money carries over."""

    def __init__(self, contributions_usd: Dict[str, float], funding_order: Dict[str, List[str]],
                 tranche_share: List[float] | None = None):
        self.budget_usd = {k: float(v) for k, v in contributions_usd.items()}
        self.spent_usd = {k: 0.0 for k in contributions_usd}
        self.by_category_usd = {c: {k: 0.0 for k in contributions_usd} for c in CATEGORIES}
        self.order = {c: list(funding_order.get(c, [])) for c in CATEGORIES}
        self.refused = {c: 0 for c in CATEGORIES}
        self.tranche_share = list(tranche_share) if tranche_share else [1.0]
        self.released_usd = dict(self.budget_usd) if tranche_share is None else {k: 0.0 for k in contributions_usd}

    def release(self, programme_year: int) -> None:
        """The tranches up to ``programme_year`` (0-based) are released."""
        cum = min(float(sum(self.tranche_share[:programme_year + 1])), 1.0)
        if programme_year + 1 >= len(self.tranche_share):
            cum = 1.0  # the last tranche releases the rest
        for f, v in self.budget_usd.items():
            self.released_usd[f] = max(self.released_usd[f], v * cum)

    def available_usd(self, category: str) -> float:
        return float(sum(self.released_usd[f] - self.spent_usd[f] for f in self.order[category]))

    def left_usd(self, category: str) -> float:
        """What the category's funders have left of their whole contributions (released or not)."""
        return float(sum(self.budget_usd[f] - self.spent_usd[f] for f in self.order[category]))

    def charge(self, category: str, amount_usd: float) -> bool:
        """Pay ``amount_usd`` from the category's funders in order; refuse (False) if they
        cannot cover it together."""
        if amount_usd <= 0:
            return True
        if amount_usd > self.available_usd(category) + 1e-9:
            self.refused[category] += 1
            return False
        left = amount_usd
        for f in self.order[category]:
            take = min(left, self.released_usd[f] - self.spent_usd[f])
            if take > 0:
                self.spent_usd[f] += take
                self.by_category_usd[category][f] += take
                left -= take
            if left <= 1e-9:
                break
        return True

    @property
    def total_spent_usd(self) -> float:
        return float(sum(self.spent_usd.values()))


class _InKind:
    """The in-kind contributions a centre has used so far (``spent_usd``), reported to the
    engine as in-kind money (not public)."""

    def __init__(self, centre):
        self.centre = centre

    @property
    def spent_usd(self) -> float:
        return self.centre.in_kind_usd


class CleanerProductionProjects(CostShareProgramme):
    """The centre's implementation projects, a cost-share programme: a pre-assessment is
    :meth:`CostShareProgramme.assess` (the firm learns the measures it recommends, sheds part of
    its hidden costs, holds a project offer; an ``assessment`` event with source
    ``cp_projects``). The programme pays (1 - copay_share) x project_cost_usd of a
    project-measure investment by a firm holding an open offer, one project per firm, with
    technical assistance; under the programme year's quota, the month's staff capacity and
    the money the funders have left. The centre chooses whom to assess and when (its staff,
    priorities and funders), so this channel has no schedule of its own."""

    name = "cp_projects"

    def __init__(self, engine, centre: "CleanerProductionCentre"):
        # not CostShareProgramme.__init__: the centre owns the stream, the eligibility and the
        # money (its funders' ledger); the channel's own budget is unbounded
        Mechanism.__init__(self, engine, centre.params)
        self.open_budget(engine, self.name, True, float("inf"))
        self.centre = centre
        p = centre.params
        self.grant_usd = (1.0 - p.copay_share) * p.project_cost_usd
        #: [N] last month of the firm's project offer (-1: none)
        self.offer_until_month = np.full(engine.n_firms, -1, dtype=np.int32)
        self.quota_left = 0
        self.month_capacity = 0

    # the centre schedules assessments and sets the quota
    def new_year(self, engine) -> None: ...
    def programme_activities(self, engine) -> None: ...

    @property
    def open_(self) -> bool:
        c = self.centre
        return c.in_programme and not c.closed and min(self.quota_left, self.month_capacity) > 0

    def offer(self, engine, firm, measure, capex):
        c = self.centre
        if not self.open_:
            return np.zeros(len(firm))
        ok = (self.offer_until_month[firm] >= engine.month) & ~c.project_firm[firm] & c.is_project_measure[measure]
        ok &= ~engine.firms.adopted[firm, measure]  # never a grant for a measure the firm has
        return np.where(ok, self.grant_usd, 0.0)

    def grant_bound(self):
        return (np.inf, self.grant_usd) if self.open_ else None

    def allocate(self, mask, grant):
        got = np.zeros(len(mask), bool)
        if not self.open_ or not mask.any():
            return got
        idx = np.flatnonzero(mask)
        money = self.centre.ledger.available_usd("project")
        n_ok = int(min(len(idx), self.quota_left, self.month_capacity, money // self.grant_usd if self.grant_usd > 0 else len(idx)))
        got[idx[:n_ok]] = True
        self.quota_left -= n_ok
        self.month_capacity -= n_ok
        return got

    def release(self, mask, grant):
        n = int(mask.sum())
        self.quota_left += n
        self.month_capacity += n

    def record(self, engine, firms: np.ndarray) -> None:
        # allocate checked the money in this same phase: the charge always fits
        ok = self.centre.ledger.charge("project", self.grant_usd * len(firms))
        assert ok, "project grants exceed the funders' money"
        self.spent_usd += self.grant_usd * len(firms)
        self.centre.book_projects(engine, firms)


@register("cleaner_production_centre")
class CleanerProductionCentre(Mechanism):
    """A Cleaner Production Centre with a small staff running awareness, training and
    implementation projects for SMEs of target sectors, on a budget by funder."""

    @dataclass
    class Params:
        #: switch the whole programme off (the counterfactual run)
        enabled: bool = True
        #: months after the scenario start when the programme begins
        start_month: int = 0
        #: programme length, months (source: 004_422d327f12c6e0c3.txt, "32 months")
        duration_months: int = 32
        #: target sectors (source: 004_422d327f12c6e0c3.txt: automotive, chemical, hospital, hotel, tanning)
        target_sectors: List[str] = field(default_factory=lambda: ["automotive", "chemicals", "hospitals", "hotels", "tanning"])
        #: sector served first in programme year 1 (source: 004_422d327f12c6e0c3.txt: tanning); "" = none
        priority_sector_year1: str = "tanning"
        #: SMEs (source: 004_422d327f12c6e0c3.txt targets SMEs; small and medium per Mexico's
        #: size bands, DOF 30 June 2009: 11-250 employees in industry)
        size_classes: List[str] = field(default_factory=lambda: ["small", "medium"])
        #: minimum pre-assessments a programme year (source: 004_422d327f12c6e0c3.txt: "a
        #: minimum of 50 ... per year"); the centre does more when staff time and money allow
        assessments_per_yr: int = 50
        #: minimum projects by programme year (source: 004_422d327f12c6e0c3.txt: 7, 11, 12, "a
        #: minimum of 30"); the last repeats; more when firms take offers and staff and money allow
        quota_projects_per_yr: List[int] = field(default_factory=lambda: [7, 11, 12])
        #: simple-payback ceiling of a pre-assessment's recommendations, years (free parameter,
        #: range 1-5; sim/recommendations.py)
        recommend_max_payback_yr: float = CostShareConfig.recommend_max_payback_yr
        #: cost of one implementation project, USD (source: 004_422d327f12c6e0c3.txt: US$ 8,000)
        project_cost_usd: float = 8000.0
        #: share of a project's cost the SME pays (source: 004_422d327f12c6e0c3.txt: up to 50 %, US$ 4,000)
        copay_share: float = 0.5
        #: measures a project implements (catalogue names)
        project_measures: List[str] = field(default_factory=lambda: ["cleaner_production"])
        #: measures the courses teach ([] = the project measures: the seed's course trains
        #: professionals "in the methodology for implementing cleaner production",
        #: 004_422d327f12c6e0c3.txt); the graduates implement only these
        course_measures: List[str] = field(default_factory=list)
        #: years a graduate works as a consultant for the region's firms (free parameter, range 2-10)
        consultant_active_yr: float = 5.0
        #: months an assessed firm's project offer stays open (assumption; ends with the programme)
        offer_months: int = 12  # free parameter, range 6-18
        #: share of hidden costs an assessed firm no longer faces (free parameter)
        hidden_cost_relief_share: float = 0.5  # free parameter, range 0.2-0.8
        #: contributions by funder, USD (source: 004_422d327f12c6e0c3.txt: IDB MIF 465,000,
        #: SEMARNAT 400,000, in kind 78,000 by the USMCOC Binational Office; total 943,000)
        funders_usd: Dict[str, float] = field(default_factory=lambda: {"idb_mif": 465000.0, "semarnat": 400000.0, "in_kind": 78000.0})
        #: funders whose contribution is in kind, not money (source: 004_422d327f12c6e0c3.txt: the
        #: US$ 78,000 "in-kind contribution by the USMCOC Binational Office"); reported as
        #: ``in_kind_usd``, not as public spending
        in_kind_funders: List[str] = field(default_factory=lambda: ["in_kind"])
        #: share of each funder's contribution released in each programme year, cumulated; unspent
        #: money carries over ([] = in proportion to the programme year's months: 12/32, 12/32,
        #: 8/32). Yearly tranches: the seed's annual planning workshop "develop[s] the plan and
        #: budget for the following year" (004_422d327f12c6e0c3.txt); the split is an assumption
        tranche_share_by_programme_year: List[float] = field(default_factory=list)
        #: funders charged for each expense category, in order (assumption: the seed gives only
        #: totals; in-kind office and staff time pays staff first, cash pays the rest)
        funding_order: Dict[str, List[str]] = field(default_factory=lambda: {
            "staff": ["in_kind", "semarnat", "idb_mif"], "awareness": ["idb_mif", "semarnat"],
            "training": ["idb_mif", "semarnat"], "pre_assessment": ["idb_mif", "semarnat"],
            "project": ["idb_mif", "semarnat"], "evaluation": ["idb_mif", "semarnat"]})
        #: staff (source: 004_422d327f12c6e0c3.txt: director, technical coordinator, assistant)
        staff: int = 3
        #: of whom conduct pre-assessments and manage projects (source: 004_422d327f12c6e0c3.txt:
        #: "The PEU PC Technical Coordinator will conduct the pre-assessments assisted by a CP
        #: expert, and manage the CPI projects"); the others run courses, events and evaluations
        technical_staff: int = 1
        #: working days per staff member and month (assumption)
        staff_days_per_month: float = 20.0  # free parameter, range 18-22
        #: staff cost of the centre, USD/month (assumption: three salaries plus office running costs)
        staff_cost_usd_per_month: float = 7000.0  # free parameter, range 4,000-12,000
        #: technical staff-days per pre-assessment (assumption, range 1-4: a site visit and the
        #: review of the report the CP expert, paid per assessment, writes)
        staff_days_per_assessment: float = 2.0  # free parameter, range 1-4
        #: technical staff-days per project (assumption, range 4-15: selection, contracting with
        #: the Selection and Contracts Committee, and managing the project, 004_422d327f12c6e0c3.txt)
        staff_days_per_project: float = 6.0
        #: cost of one pre-assessment (CP expert fees), USD (assumption)
        cost_per_assessment_usd: float = 1500.0  # free parameter, range 1,000-4,000
        #: awareness events a year besides the launch event and the final conference (assumption)
        awareness_events_per_yr: int = 4  # free parameter, range 0-12
        staff_days_per_awareness_event: float = 5.0  # assumption; free parameter, range 2-10
        cost_per_awareness_event_usd: float = 6000.0  # assumption; free parameter, range 2,000-15,000
        #: target-sector firms reached by one event (assumption)
        firms_reached_per_event: int = 40  # free parameter, range 20-100
        #: probability that a reached firm learns each project measure (free parameter)
        awareness_lift_share: float = 0.5  # free parameter, range 0.2-0.8
        #: CP courses a year (source: 004_422d327f12c6e0c3.txt: one course a year, three in all)
        courses_per_yr: int = 1
        #: course length, months (source: 004_422d327f12c6e0c3.txt: 12 modules of 4-5 days, ~2 months)
        course_months: int = 2
        #: programme month (of each programme year) in which the course starts (assumption)
        course_start_month_of_year: int = 3  # free parameter, range 1-9
        #: graduates who work as CP consultants afterwards (assumption)
        consultants_per_course: int = 15  # free parameter, range 5-25
        #: net cost of a course after participants' fees, USD (assumption; the seed says fee-paying)
        cost_per_course_usd: float = 40000.0  # free parameter, range 20,000-80,000
        #: staff-days per course month (assumption)
        staff_days_per_course_month: float = 10.0  # free parameter, range 5-20
        #: independent evaluations at the end of programme years 2 and 3 and the final audit
        #: (source: 004_422d327f12c6e0c3.txt), USD each (assumption)
        cost_per_evaluation_usd: float = 15000.0

    # ---------------------------------------------------------------------------------
    @classmethod
    def validate(cls, p, cfg, key: str) -> None:
        sectors = [s.name for s in cfg.scenario.sectors]
        measures = [m.name for m in cfg.measures.catalogue]
        if p.start_month < 0:
            raise ConfigError(f"{key}.start_month", p.start_month, "must be an integer >= 0")
        if p.duration_months < 1:
            raise ConfigError(f"{key}.duration_months", p.duration_months, "must be an integer >= 1")
        if not p.target_sectors:
            raise ConfigError(f"{key}.target_sectors", [], "must list at least one sector")
        for s in p.target_sectors:
            if s not in sectors:
                raise ConfigError(f"{key}.target_sectors", s, f"unknown sector; scenario sectors: {', '.join(sectors)}")
        if p.priority_sector_year1 and p.priority_sector_year1 not in p.target_sectors:
            raise ConfigError(f"{key}.priority_sector_year1", p.priority_sector_year1,
                              f"must be one of the target sectors ({', '.join(p.target_sectors)}) or empty")
        if not p.size_classes:
            raise ConfigError(f"{key}.size_classes", [], f"must list size classes from {', '.join(SIZE_CLASSES)}")
        for s in p.size_classes:
            if s not in SIZE_CLASSES:
                raise ConfigError(f"{key}.size_classes", s, f"must be one of {', '.join(SIZE_CLASSES)}")
        if not p.quota_projects_per_yr or any(q < 0 for q in p.quota_projects_per_yr):
            raise ConfigError(f"{key}.quota_projects_per_yr", list(p.quota_projects_per_yr),
                              "must be a non-empty list of integers >= 0 (one per programme year; the last repeats)")
        if not p.project_measures:
            raise ConfigError(f"{key}.project_measures", [], "must list at least one catalogue measure")
        for m in p.project_measures:
            if m not in measures:
                raise ConfigError(f"{key}.project_measures", m, f"unknown measure; catalogue: {', '.join(measures)}")
        if not 0.0 <= p.copay_share <= 1.0:
            raise ConfigError(f"{key}.copay_share", p.copay_share, "must be a share in [0, 1]")
        for name in ("hidden_cost_relief_share", "awareness_lift_share"):
            v = getattr(p, name)
            if not 0.0 <= v <= 1.0:
                raise ConfigError(f"{key}.{name}", v, "must be a share in [0, 1]")
        for name in ("assessments_per_yr", "offer_months", "staff", "awareness_events_per_yr", "firms_reached_per_event",
                     "courses_per_yr", "course_months", "consultants_per_course"):
            if getattr(p, name) < 0:
                raise ConfigError(f"{key}.{name}", getattr(p, name), "must be an integer >= 0")
        if not 0 <= p.course_start_month_of_year <= 11:
            raise ConfigError(f"{key}.course_start_month_of_year", p.course_start_month_of_year, "must be an integer in [0, 11]")
        for name in ("project_cost_usd", "staff_days_per_month", "staff_cost_usd_per_month", "staff_days_per_assessment",
                     "staff_days_per_project", "cost_per_assessment_usd", "staff_days_per_awareness_event",
                     "cost_per_awareness_event_usd", "cost_per_course_usd", "staff_days_per_course_month", "cost_per_evaluation_usd"):
            v = getattr(p, name)
            if not (v >= 0):
                raise ConfigError(f"{key}.{name}", v, "must be a number >= 0")
        if not p.funders_usd:
            raise ConfigError(f"{key}.funders_usd", {}, "must name at least one funder and its contribution in USD")
        for f, v in p.funders_usd.items():
            if not (v >= 0):
                raise ConfigError(f"{key}.funders_usd.{f}", v, "must be a number >= 0")
        for c, order in p.funding_order.items():
            if c not in CATEGORIES:
                raise ConfigError(f"{key}.funding_order", c, f"unknown expense category; allowed: {', '.join(CATEGORIES)}")
            for f in order:
                if f not in p.funders_usd:
                    raise ConfigError(f"{key}.funding_order.{c}", f, f"unknown funder; funders: {', '.join(p.funders_usd)}")
        for f in p.in_kind_funders:
            if f not in p.funders_usd:
                raise ConfigError(f"{key}.in_kind_funders", f, f"unknown funder; funders: {', '.join(p.funders_usd)}")
        tr = list(p.tranche_share_by_programme_year)
        if tr and (any(not 0 <= t <= 1 for t in tr) or abs(sum(tr) - 1.0) > 1e-6):
            raise ConfigError(f"{key}.tranche_share_by_programme_year", tr, "must be shares in [0, 1] that sum to 1 (or [] for shares by months)")
        if not 0 <= p.technical_staff <= p.staff:
            raise ConfigError(f"{key}.technical_staff", p.technical_staff, f"must be an integer in [0, staff = {p.staff}]")
        for m in p.course_measures:
            if m not in measures:
                raise ConfigError(f"{key}.course_measures", m, f"unknown measure; catalogue: {', '.join(measures)}")
        if not p.consultant_active_yr >= 1:
            raise ConfigError(f"{key}.consultant_active_yr", p.consultant_active_yr, "must be a number of years >= 1 (.inf: for good)")
        if not p.recommend_max_payback_yr > 0:
            raise ConfigError(f"{key}.recommend_max_payback_yr", p.recommend_max_payback_yr, "must be a number of years > 0")
        for c in CATEGORIES:
            if not p.funding_order.get(c):
                raise ConfigError(f"{key}.funding_order.{c}", [], "every expense category needs at least one funder")

    # ---------------------------------------------------------------------------------
    def __init__(self, engine, params):
        super().__init__(engine, params)
        p = params
        ft = engine.firms
        n = ft.n
        self.stream = engine.spawn_stream(self.name)  # the centre's own child stream
        n_py0 = (p.duration_months + 11) // 12
        tranche = list(p.tranche_share_by_programme_year) or [min(12, p.duration_months - 12 * y) / p.duration_months for y in range(n_py0)]
        self.ledger = FunderLedger(p.funders_usd, p.funding_order, tranche)
        names = engine.sector_names
        self.target_sector = np.isin(np.arange(len(names)), [names.index(s) for s in p.target_sectors])
        self.priority_sector = names.index(p.priority_sector_year1) if p.priority_sector_year1 else -1
        size_ok = np.isin(np.arange(len(SIZE_CLASSES)), [SIZE_CLASSES.index(s) for s in p.size_classes])
        #: [N] firm is a target-sector SME (eligible for pre-assessments and projects)
        self.eligible = self.target_sector[ft.sector] & size_ok[ft.size_class]
        cat = engine.catalogue
        self.is_project_measure = np.isin(np.arange(cat.k), [cat.index(m) for m in p.project_measures])
        #: [K] the measures the centre's courses teach (its consultants implement only these)
        self.course_measures = np.isin(np.arange(cat.k), [cat.index(m) for m in (p.course_measures or p.project_measures)])
        self.assessed = np.zeros(n, bool)
        self.project_firm = np.zeros(n, bool)
        self.project_month = np.full(n, -1, dtype=np.int32)
        self.copier = np.zeros(n, bool)
        self.closed = False
        self.closed_month: int | None = None
        self.last_month = p.start_month + p.duration_months - 1  # last programme month (model month)
        self.in_programme = False
        # counters
        n_py = (p.duration_months + 11) // 12
        S = len(names)
        self.pre_assessments_by_py = np.zeros(n_py, dtype=np.int64)
        self.pre_assessments_by_sector = np.zeros(S, dtype=np.int64)
        self.projects_by_sector_py = np.zeros((S, n_py), dtype=np.int64)
        self.firms_reached = 0
        self.events_held = 0
        self.courses_started = 0
        self.courses_completed = 0
        self.consultants_trained = 0
        self.evaluations_held = 0
        self._course_end: list[int] = []
        self.staff_days_used = 0.0
        self.staff_days_available = 0.0
        self.technical_days_used = 0.0
        self.months_waiting_for_tranche = 0
        self.technical_days_available = 0.0
        #: planned pre-assessments not done for lack of technical staff time or money, by programme year
        self.short_of = {"staff": np.zeros(n_py, np.int64), "money": np.zeros(n_py, np.int64)}
        # outcomes, t CO2/yr and MWh/yr (first-order, on each firm's state before adoption)
        self.project_abatement_t_per_yr = 0.0
        self.project_energy_saving_mwh_per_yr = 0.0
        self.project_energy_cost_saving_usd_per_yr = 0.0
        self.spill_abatement_t_per_yr = 0.0
        self.spill_energy_saving_mwh_per_yr = 0.0
        self.copiers = 0
        self.projects = CleanerProductionProjects(engine, self)
        if p.enabled:
            engine.add_grants(self.projects)
            engine.report_spending("cp_centre_operations", self)
            engine.report_spending("cp_centre_in_kind", _InKind(self), kind="in_kind")

    # public spending of the centre other than project grants (``engine.report_spending``):
    # the cash funders' money; in-kind contributions are not public money (``in_kind_usd``)
    @property
    def spent_usd(self) -> float:
        return self.ledger.total_spent_usd - self.projects.spent_usd - self.in_kind_usd

    @property
    def in_kind_usd(self) -> float:
        """In-kind contributions used (office, staff time of the executing chamber), USD."""
        return float(sum(v for f, v in self.ledger.spent_usd.items() if f in self.params.in_kind_funders))

    def programme_month(self, engine) -> int:
        return engine.month - self.params.start_month

    # ---------------------------------------------------------------------------------
    def programme_activities(self, engine) -> None:
        p = self.params
        pm = self.programme_month(engine)
        self.in_programme = p.enabled and 0 <= pm <= p.duration_months - 1 and not self.closed
        self.projects.month_capacity = 0
        if not self.in_programme:
            return
        py, m = divmod(pm, 12)
        months = min(12, p.duration_months - 12 * py)  # months of this programme year (year 3 of 32 months: 8)
        if m == 0:
            self.ledger.release(py)  # the year's tranche (annual plan and budget)
        if not self.ledger.charge("staff", p.staff_cost_usd_per_month):
            if self.ledger.left_usd("staff") < p.staff_cost_usd_per_month - 1e-9:
                self._close(engine)  # the contributions are spent: the centre closes
            else:
                self.months_waiting_for_tranche += 1  # this year's tranche is spent: idle until the next
            return
        general = (p.staff - p.technical_staff) * p.staff_days_per_month
        technical = p.technical_staff * p.staff_days_per_month
        self.staff_days_available += general + technical
        self.technical_days_available += technical
        general -= self._training(engine, pm, m)
        general -= self._awareness(engine, pm, m, general)
        general -= self._evaluation(pm)
        # technical staff: projects at the pace the year's minimum needs, then the
        # pre-assessments the year's minimum needs by now; then, with staff time and money
        # beyond what the rest of the plan needs, more pre-assessments of firms that applied
        # and more projects (the targets are minimums, not caps)
        per_project = p.staff_days_per_project
        proj_left = max(self.project_target(py) - int(self.projects_by_sector_py[:, py].sum()), 0)
        want = min(proj_left, int(np.ceil(proj_left / max(months - m, 1))))
        n_proj = want if per_project == 0 else int(min(want, max(technical, 0) // per_project))
        technical -= n_proj * per_project
        technical -= self._pre_assessments(engine, py, m, months, technical, extra_usd=None)
        spare = self.spare_usd(py, pm)
        used = self._pre_assessments(engine, py, m, months, technical, extra_usd=spare)
        technical -= used
        spare = self.spare_usd(py, pm)
        extra_proj = int(max(technical, 0) // per_project) if per_project > 0 else proj_left + 10 ** 6
        extra_money = int(spare // self.projects.grant_usd) if self.projects.grant_usd > 0 else 10 ** 6
        self.projects.month_capacity = n_proj + extra_proj
        self.projects.quota_left = proj_left + extra_money
        self.technical_days_used += p.technical_staff * p.staff_days_per_month - technical
        self.staff_days_used += p.staff * p.staff_days_per_month - technical - general

    def project_target(self, py: int) -> int:
        """The minimum number of projects of programme year ``py`` (0-based)."""
        q = self.params.quota_projects_per_yr
        return int(q[min(py, len(q) - 1)])

    def spare_usd(self, py: int, pm: int) -> float:
        """Money the centre can spend beyond its plan: the released money left for projects,
        less what the rest of the plan still needs (staff to the end, the minimum
        pre-assessments and projects still due this year and in later years, courses,
        awareness events and evaluations not yet held), never below 0."""
        p = self.params
        n_py = len(self.pre_assessments_by_py)
        months_left = max(p.duration_months - 1 - pm, 0)
        assess_due = max(p.assessments_per_yr - int(self.pre_assessments_by_py[py]), 0) + p.assessments_per_yr * (n_py - 1 - py)
        proj_due = sum(max(self.project_target(y) - int(self.projects_by_sector_py[:, y].sum()), 0) for y in range(py, n_py))
        courses_due = max(p.courses_per_yr * n_py - self.courses_started, 0)
        reserve = (p.staff_cost_usd_per_month * months_left + assess_due * p.cost_per_assessment_usd
                   + proj_due * self.projects.grant_usd + courses_due * p.cost_per_course_usd
                   + (p.awareness_events_per_yr * months_left / 12 + 1) * p.cost_per_awareness_event_usd
                   + max(3 - self.evaluations_held, 0) * p.cost_per_evaluation_usd)
        led = self.ledger
        cash = [f for f in led.order["project"]]
        total_left = sum(led.budget_usd[f] - led.spent_usd[f] for f in led.budget_usd)
        return float(max(min(led.available_usd("project"), sum(led.budget_usd[f] - led.spent_usd[f] for f in cash),
                             total_left - reserve), 0.0))

    def _close(self, engine) -> None:
        self.closed = True
        self.closed_month = engine.month
        self.in_programme = False
        self.projects.offer_until_month[:] = -1

    def _training(self, engine, pm: int, m: int) -> float:
        """Courses: start, run (staff time), graduate consultants into the region's pool."""
        p = self.params
        used = 0.0
        starts = 0
        if p.courses_per_yr > 0:
            # courses_per_yr starts spread over the year, the first in course_start_month_of_year
            offs = [(p.course_start_month_of_year + i * 12 // p.courses_per_yr) % 12 for i in range(p.courses_per_yr)]
            starts = sum(1 for o in offs if o == m)
        for _ in range(starts):
            if pm + p.course_months > p.duration_months:
                break  # a course that cannot finish within the programme is not started
            if self.ledger.charge("training", p.cost_per_course_usd):
                self.courses_started += 1
                self._course_end.append(engine.month + p.course_months)
        # a course started in month t0 runs t0 .. t0 + course_months - 1; it graduates at the end
        running = [e for e in self._course_end if e > engine.month]
        used += len(running) * p.staff_days_per_course_month
        for e in [e for e in running if e == engine.month + 1]:
            self._graduate(engine)
            self._course_end.remove(e)
        return used

    def _graduate(self, engine) -> None:
        n = self.params.consultants_per_course
        # they join the region's pool for the months left in this calendar year (the course
        # ends at the end of this month)
        engine.train_consultants(n, 11 - engine.month % 12, self.course_measures, self.params.consultant_active_yr)
        self.courses_completed += 1
        self.consultants_trained += n

    def _awareness(self, engine, pm: int, m: int, days: float) -> float:
        """Launch event (programme month 0), awareness events spread over each year, final
        conference (last programme month)."""
        p = self.params
        a = p.awareness_events_per_yr
        n_events = (m + 1) * a // 12 - m * a // 12
        if pm == 0:
            n_events += 1  # launch event
        if pm == p.duration_months - 1:
            n_events += 1  # final conference
        used = 0.0
        pool = np.flatnonzero(self.target_sector[engine.firms.sector])
        for _ in range(n_events):
            if days - used < p.staff_days_per_awareness_event:
                self.ledger.refused["awareness"] += 1
                break
            if not self.ledger.charge("awareness", p.cost_per_awareness_event_usd):
                break
            used += p.staff_days_per_awareness_event
            self.events_held += 1
            n = min(p.firms_reached_per_event, len(pool))
            if n == 0:
                continue
            reached = np.sort(self.stream.choice(pool, size=n, replace=False))
            u = self.stream.random((n, engine.catalogue.k))
            engine.inform(reached, (u < p.awareness_lift_share) & self.is_project_measure[None, :], source=self.name)
            self.firms_reached += n
        return used

    def _evaluation(self, pm: int) -> float:
        """Independent evaluations at the end of programme years 2 and 3, audit in the final
        month (source: 004_422d327f12c6e0c3.txt)."""
        p = self.params
        last = p.duration_months - 1
        due = [min(23, last), min(35, last), last]  # evaluations after years 2 and 3, audit
        for _ in range(due.count(pm)):
            if self.ledger.charge("evaluation", p.cost_per_evaluation_usd):
                self.evaluations_held += 1
        return 0.0

    def _pre_assessments(self, engine, py: int, m: int, months: int, days: float, extra_usd: float | None) -> float:
        """Pre-assessments this month, within staff time (``days``) and money. Planned
        (``extra_usd`` None): what the year's minimum needs by the end of this month (spread
        over the programme year's ``months``; a month that fell short is caught up). Extra
        (``extra_usd``: money beyond the plan): firms that applied (they know a project
        measure) and are not assessed yet; in programme year 1 only those of the priority
        sector (the seed's year-1 priority).
        Candidates: eligible firms not yet assessed; the priority sector first in programme
        year 1, then firms that know a project measure (they apply), then by energy use (the
        centre picks cases that demonstrate the most)."""
        p = self.params
        a = p.assessments_per_yr
        if extra_usd is None:
            n_now = max((m + 1) * a // months - int(self.pre_assessments_by_py[py]), 0)
        else:
            n_now = int(extra_usd // p.cost_per_assessment_usd) if p.cost_per_assessment_usd > 0 else len(self.eligible)
        if p.staff_days_per_assessment > 0:
            by_staff = int(max(days, 0) // p.staff_days_per_assessment)
            if extra_usd is None:  # planned pre-assessments due by now that the staff cannot do (the year's last month: the year's shortfall)
                self.short_of["staff"][py] = max(n_now - by_staff, 0)
            n_now = min(n_now, by_staff)
        if p.cost_per_assessment_usd > 0:
            afford = int(self.ledger.available_usd("pre_assessment") // p.cost_per_assessment_usd)
            if extra_usd is None:
                self.short_of["money"][py] = max(n_now - afford, 0)
            if afford < n_now and extra_usd is None:
                self.ledger.refused["pre_assessment"] += n_now - afford
            n_now = min(n_now, afford)
        if n_now <= 0:
            return 0.0
        ft = engine.firms
        cand = np.flatnonzero(self.eligible & ~self.assessed)
        if extra_usd is not None:  # beyond the plan: only firms that asked (in year 1, of the priority sector)
            cand = cand[(ft.aware[cand] & self.is_project_measure[None, :]).any(axis=1)]
            if py == 0 and self.priority_sector >= 0:
                cand = cand[ft.sector[cand] == self.priority_sector]
        if len(cand) == 0:
            return 0.0
        priority = (ft.sector[cand] == self.priority_sector) if py == 0 else np.zeros(len(cand), bool)
        knows = (ft.aware[cand] & self.is_project_measure[None, :]).any(axis=1)
        size = ft.energy_mwh_per_yr[cand].sum(axis=1)
        order = np.lexsort((self.stream.random(len(cand)), -size, ~knows, ~priority))
        chosen = np.sort(cand[order[:n_now]])
        n = len(chosen)
        self.ledger.charge("pre_assessment", n * p.cost_per_assessment_usd)
        self.assessed[chosen] = True
        # the cost-share programme's assessment: inform, relieve hidden costs, offer, event
        self.projects.assess(engine, chosen, min(engine.month + p.offer_months - 1, self.last_month), p.hidden_cost_relief_share,
                             offered=self.is_project_measure)
        self.pre_assessments_by_py[py] += n
        self.pre_assessments_by_sector += np.bincount(ft.sector[chosen], minlength=len(self.pre_assessments_by_sector))
        return n * p.staff_days_per_assessment

    # ---------------------------------------------------------------------------------
    def capex_factor(self, engine, firms):
        """A firm holding an open offer sees the project measure at the project's price."""
        if not self.projects.open_:
            return None
        rows = np.flatnonzero((self.projects.offer_until_month[firms] >= engine.month) & ~self.project_firm[firms])
        if len(rows) == 0:
            return None
        cols = np.flatnonzero(self.is_project_measure)
        capex = engine.base_capex_usd(np.asarray(firms)[rows], cols)  # float32, before capex factors
        factor = np.ones((len(engine.firms.sector[firms]), engine.catalogue.k), dtype=np.float32)
        factor[np.ix_(rows, cols)] = np.float32(self.params.project_cost_usd) / np.maximum(capex, np.float32(1.0))
        return factor

    def book_projects(self, engine, firms: np.ndarray) -> None:
        pm = self.programme_month(engine)
        self.project_firm[firms] = True
        self.project_month[firms] = engine.month
        self.projects_by_sector_py[:, pm // 12] += np.bincount(engine.firms.sector[firms], minlength=self.projects_by_sector_py.shape[0])

    def after_adoptions(self, engine, batch) -> None:
        if len(batch) == 0:
            return
        x = engine.batch_state_before  # each adoption's firm before the month's adoptions
        C = x.shape[1] - 1
        dx = np.einsum("pij,pj->pi", engine.valuation.state_change[batch.measure], x)[:, :C]
        saving_mwh = -dx.sum(axis=1)
        saving_usd = -(dx @ engine.price)
        proj = batch.instrument == engine.grant_code(self.projects)
        self.project_abatement_t_per_yr += float(batch.abatement_t_per_yr[proj].sum())
        self.project_energy_saving_mwh_per_yr += float(saving_mwh[proj].sum())
        self.project_energy_cost_saving_usd_per_yr += float(saving_usd[proj].sum())
        # spillover: a project measure adopted outside the programme by a firm with a
        # neighbour that did a programme project in an earlier month
        cand = ~proj & self.is_project_measure[batch.measure] & ~self.project_firm[batch.firm]
        if cand.any() and self.project_firm.any():
            pos = np.flatnonzero(cand)
            owner, nbr = engine.network.neighbours(batch.firm[pos])
            src = self.project_firm[nbr] & (self.project_month[nbr] < engine.month)
            has = np.bincount(owner, weights=src, minlength=len(pos)) > 0
            hit = pos[has]
            self.spill_abatement_t_per_yr += float(batch.abatement_t_per_yr[hit].sum())
            self.spill_energy_saving_mwh_per_yr += float(saving_mwh[hit].sum())
            new = ~self.copier[batch.firm[hit]]
            self.copiers += int(np.unique(batch.firm[hit][new]).size)
            self.copier[batch.firm[hit]] = True

    # ---------------------------------------------------------------------------------
    def monthly_row(self, engine) -> dict:
        row = {
            "cpc_pre_assessments": int(self.pre_assessments_by_py.sum()),
            "cpc_projects": int(self.projects_by_sector_py.sum()),
            "cpc_spending_usd": self.ledger.total_spent_usd,
            "cpc_consultants_trained": self.consultants_trained,
            "cpc_spillover_copiers": self.copiers,
        }
        for f, v in self.ledger.spent_usd.items():
            row[f"cpc_spent_{f}_usd"] = v
        return row

    def targets_by_programme_year(self, engine, quota: list, projects_py: np.ndarray) -> dict:
        """The seed's minimum targets, each programme year: met or missed (and the planned
        pre-assessments the technical staff's time or the money could not cover); a year the
        run did not reach, or a switched-off programme, is not judged (``met`` None)."""
        p = self.params
        targets = {}
        for i in range(len(self.pre_assessments_by_py)):
            reached = p.enabled and self.programme_month(engine) >= min(12 * (i + 1), p.duration_months) - 1
            done_a, done_p = int(self.pre_assessments_by_py[i]), int(projects_py[i])
            targets[str(i + 1)] = {
                "pre_assessments": {"target_min": p.assessments_per_yr, "done": done_a,
                                    "met": (done_a >= p.assessments_per_yr) if reached else None},
                "projects": {"target_min": quota[i], "done": done_p, "met": (done_p >= quota[i]) if reached else None},
                "planned_pre_assessments_short_of_staff": int(self.short_of["staff"][i]),
                "planned_pre_assessments_short_of_money": int(self.short_of["money"][i]),
            }
        return targets

    def summary(self, engine) -> dict:
        p = self.params
        names = engine.sector_names
        n_py = len(self.pre_assessments_by_py)
        quota = [int(p.quota_projects_per_yr[min(i, len(p.quota_projects_per_yr) - 1)]) for i in range(n_py)]
        projects_py = self.projects_by_sector_py.sum(axis=0)
        n_proj = int(projects_py.sum())
        budget = sum(self.ledger.budget_usd.values())
        targets = self.targets_by_programme_year(engine, quota, projects_py)
        rec = engine.recommendations.stats(self.projects.name)
        headline = {
            "pre_assessments": int(self.pre_assessments_by_py.sum()),
            "projects": n_proj,
            "spending_usd": self.ledger.total_spent_usd,
            "budget_usd": budget,
            "consultants_trained": self.consultants_trained,
            "awareness_events": self.events_held,
            "project_abatement_t_co2_per_yr": self.project_abatement_t_per_yr,
            "project_energy_saving_mwh_per_yr": self.project_energy_saving_mwh_per_yr,
            "spillover_copiers": self.copiers,
            "spillover_abatement_t_co2_per_yr": self.spill_abatement_t_per_yr,
            "spillover_energy_saving_mwh_per_yr": self.spill_energy_saving_mwh_per_yr,
            "targets_met": sum(1 for t in targets.values() for k in ("pre_assessments", "projects") if t[k]["met"]),
            "targets_missed": sum(1 for t in targets.values() for k in ("pre_assessments", "projects") if t[k]["met"] is False),
            "recommendation_implementation_rate": rec["implementation_rate"],
            "public_spending_usd": self.ledger.total_spent_usd - self.in_kind_usd,
            "in_kind_usd": self.in_kind_usd,
        }
        return {
            "headline": headline,
            "enabled": bool(p.enabled),
            "programme_months": p.duration_months,
            "closed_month": self.closed_month,
            "pre_assessments_by_programme_year": {str(i + 1): int(v) for i, v in enumerate(self.pre_assessments_by_py)},
            "pre_assessments_by_sector": {s: int(v) for s, v in zip(names, self.pre_assessments_by_sector) if v},
            "project_quota_by_programme_year": {str(i + 1): q for i, q in enumerate(quota)},
            "targets_by_programme_year": targets,
            "recommendations": rec,
            # spending by category of money: public (the cash funders: IDB MIF, SEMARNAT),
            # in kind (not public money), and the firms' co-pay (private)
            "spending_by_money_category_usd": {"public_usd": self.ledger.total_spent_usd - self.in_kind_usd,
                                               "in_kind_usd": self.in_kind_usd,
                                               "firms_copay_usd": n_proj * p.copay_share * p.project_cost_usd},
            "released_usd_by_funder": dict(self.ledger.released_usd),
            "projects_by_programme_year": {str(i + 1): int(v) for i, v in enumerate(projects_py)},
            "projects_by_sector_and_programme_year": {
                s: {str(i + 1): int(v) for i, v in enumerate(self.projects_by_sector_py[j])}
                for j, s in enumerate(names) if self.projects_by_sector_py[j].any()},
            "project_cost_usd": p.project_cost_usd,
            "programme_grant_per_project_usd": self.projects.grant_usd,
            "sme_copay_per_project_usd": p.copay_share * p.project_cost_usd,
            "sme_copay_total_usd": n_proj * p.copay_share * p.project_cost_usd,
            "budget_usd_by_funder": dict(self.ledger.budget_usd),
            "spending_usd_by_funder": dict(self.ledger.spent_usd),
            "spending_usd_by_category": {c: float(sum(v.values())) for c, v in self.ledger.by_category_usd.items()},
            "spending_usd_by_funder_and_category": {c: dict(v) for c, v in self.ledger.by_category_usd.items()},
            "refused_expenses": dict(self.ledger.refused),
            "staff_days_used_or_reserved": self.staff_days_used,
            "staff_days_available": self.staff_days_available,
            "technical_staff_days_used": self.technical_days_used,
            "months_waiting_for_tranche": self.months_waiting_for_tranche,
            "technical_staff_days_available": self.technical_days_available,
            "courses_started": self.courses_started,
            "courses_completed": self.courses_completed,
            "evaluations_held": self.evaluations_held,
            "firms_reached_by_events": self.firms_reached,
            "project_energy_cost_saving_usd_per_yr": self.project_energy_cost_saving_usd_per_yr,
            "programme_usd_per_t_co2_per_yr_of_projects": (self.projects.spent_usd / self.project_abatement_t_per_yr
                                                            if self.project_abatement_t_per_yr > 0 else None),
        }


# ---------------------------------------------------------------------------------------
def plot(run_dir, out, baseline_dir=None) -> None:
    """The programme from a run folder: delivery against the quotas, spending by funder
    against each contribution, projects by sector and programme year, and what projects and
    their network copiers abate (plus, given a run without the programme, the difference in
    cleaner-production adopters)."""
    import json
    from pathlib import Path

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    run_dir = Path(run_dir)
    s = json.loads((run_dir / "summary.json").read_text())
    c = s["programmes"]["cleaner_production_centre"]
    ts = pd.read_parquet(run_dir / "timeseries.parquet")
    months = ts["month"].to_numpy()
    fig, ax = plt.subplots(2, 2, figsize=(12, 8.5))
    a = ax[0, 0]
    a.plot(months, ts["cpc_pre_assessments"], label="pre-assessments (cumulative)")
    a.plot(months, ts["cpc_projects"], label="projects (cumulative)")
    q = list(c["project_quota_by_programme_year"].values())
    edges = [min(12 * i, c["programme_months"]) for i in range(len(q) + 1)]
    a.step(edges, list(np.cumsum(q)) + [sum(q)], where="post", ls="--", color="C1", alpha=0.6,
           label="minimum projects by now (targets " + "/".join(map(str, q)) + ")")
    a.axvline(c["programme_months"], color="k", lw=0.8, ls=":")
    a.plot(edges[1:], np.cumsum([c["targets_by_programme_year"][str(i + 1)]["pre_assessments"]["target_min"] for i in range(len(q))]),
           "o", color="C0", alpha=0.6, label="minimum pre-assessments by year end")
    a.set(title="Delivery (programme ends at the dotted line)", xlabel="month", ylabel="count")
    a.legend(fontsize=8)
    a.grid(alpha=0.3)
    a = ax[0, 1]
    funders = list(c["budget_usd_by_funder"])
    a.stackplot(months, *[ts[f"cpc_spent_{f}_usd"] / 1e3 for f in funders], labels=funders, alpha=0.8)
    a.axhline(sum(c["budget_usd_by_funder"].values()) / 1e3, color="k", ls="--", lw=0.8, label="total budget")
    a.set(title="Spending by funder (cumulative)", xlabel="month", ylabel="thousand USD")
    a.legend(fontsize=8, loc="lower right")
    a.grid(alpha=0.3)
    a = ax[1, 0]
    by = c["projects_by_sector_and_programme_year"]
    years = list(c["projects_by_programme_year"])
    bottom = np.zeros(len(years))
    for i, (sector, v) in enumerate(by.items()):
        h = np.array([v[y] for y in years], dtype=float)
        a.bar(years, h, bottom=bottom, label=sector, color=f"C{i}")
        bottom += h
    a.plot(years, list(c["project_quota_by_programme_year"].values()), "k_", ms=30, mew=2, label="minimum target")
    a.set(title="Projects by sector and programme year", xlabel="programme year", ylabel="projects",
          ylim=(0, max(list(c["project_quota_by_programme_year"].values()) + [bottom.max()]) * 1.6))
    a.legend(fontsize=8)
    a = ax[1, 1]
    h = c["headline"]
    labels = ["projects", "network copiers"]
    vals = [h["project_abatement_t_co2_per_yr"], h["spillover_abatement_t_co2_per_yr"]]
    a.bar(labels, vals, color=["C2", "C4"])
    for i, v in enumerate(vals):
        a.text(i, v, f"{v:,.0f} t/yr", ha="center", va="bottom", fontsize=9)
    title = "Abatement of programme projects and copiers"
    if baseline_dir is not None:
        b = json.loads((Path(baseline_dir) / "summary.json").read_text())
        k = "cleaner_production"
        on = sum(v.get(k, 0) for v in s["adopters_by_sector_and_measure"].values())
        off = sum(v.get(k, 0) for v in b["adopters_by_sector_and_measure"].values())
        title += f"\ncleaner-production adopters by {s['end_year']}: {on} with, {off} without"
    a.set(title=title, ylabel="t CO2 / yr (scope 1+2)")
    fig.suptitle(f"{s['scenario']}: {s['n_firms']:,} firms, {s['start_year']}-{s['end_year']}; "
                 f"{h['pre_assessments']} pre-assessments, {h['projects']} projects, US$ {h['spending_usd']:,.0f} of {h['budget_usd']:,.0f}")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main(argv=None) -> int:
    """python -m sim.mechanisms.cleaner_production_centre <run dir> <out.png> [<run dir without the programme>]"""
    import sys
    from pathlib import Path

    argv = sys.argv[1:] if argv is None else argv
    if len(argv) not in (2, 3):
        print("usage: python -m sim.mechanisms.cleaner_production_centre <run dir> <out.png> [<run dir without the programme>]", file=sys.stderr)
        return 2
    for d in [argv[0]] + argv[2:]:
        if not (Path(d) / "summary.json").exists():
            print(f"error: {d}: not a complete run folder (no summary.json)", file=sys.stderr)
            return 2
    plot(argv[0], argv[1], argv[2] if len(argv) == 3 else None)
    print(argv[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
