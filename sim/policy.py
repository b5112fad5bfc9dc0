"""Policy instruments: what each offers a firm, and the budgets, quotas and credit lines that bind.

Every instrument spends from its own budget. Allocation is in candidate order; the first
request the remaining money cannot cover stops the instrument for good, and the month is
recorded (``exhausted_month``). Spending therefore never exceeds a budget, and stops within
one grant of it.
"""
from __future__ import annotations

import numpy as np

from .decision import annuity_factor
from .params import SIZE_CLASSES, PolicyConfig


class Instrument:
    """A budgeted instrument. ``budget_usd`` may be ``inf``."""

    name = "instrument"

    def __init__(self, enabled: bool, budget_usd: float):
        self.enabled = bool(enabled)
        self.budget_usd = float(budget_usd)
        self.spent_usd = 0.0
        self.exhausted_month: int | None = None
        self._month = 0

    @property
    def active(self) -> bool:
        return self.enabled and self.exhausted_month is None

    @property
    def remaining_usd(self) -> float:
        return self.budget_usd - self.spent_usd

    def _stop(self, month: int) -> None:
        if self.exhausted_month is None:
            self.exhausted_month = month

    def charge(self, amount_usd: float, month: int) -> bool:
        """Spend a lump sum if the budget covers it; otherwise stop the instrument."""
        if not self.active:
            return False
        if amount_usd > self.remaining_usd + 1e-9:
            self._stop(month)
            return False
        self.spent_usd += amount_usd
        return True

    def _allocate_prefix(self, mask: np.ndarray, amount: np.ndarray, count_left: float = np.inf) -> np.ndarray:
        """Grant ``amount`` to the masked requests in order while money (and count) last."""
        got = np.zeros(len(mask), bool)
        if not self.active or not mask.any():
            return got
        idx = np.flatnonzero(mask)
        cum = np.cumsum(amount[idx])
        fit = (cum <= self.remaining_usd + 1e-9) & (np.arange(1, len(idx) + 1) <= count_left)
        # prefix: the first refusal ends the allocation
        n_ok = int(np.argmin(fit)) if not fit.all() else len(idx)
        got[idx[:n_ok]] = True
        self.spent_usd += float(cum[n_ok - 1]) if n_ok else 0.0
        if n_ok < len(idx) and not (np.arange(1, len(idx) + 1)[n_ok] > count_left):
            self._stop(self._month)
        return got

    def _release(self, mask: np.ndarray, amount: np.ndarray) -> None:
        if mask.any():
            self.spent_usd -= float(amount[mask].sum())


class GrantInstrument(Instrument):
    """An instrument that pays part of a measure's capex. The decision asks every grant
    instrument for its ``offer``; the largest wins, then ``allocate`` grants it in candidate
    order while money (and quota) last, and ``release`` gives back what dropped candidates held.
    Programme actors (``sim/programmes``) add their own grant instruments to
    ``Government.grant_instruments``."""

    #: the grant comes with technical assistance (relaxes the skills barrier)
    technical_assistance = False
    #: at most one funded project per firm
    one_per_firm = False

    def offer(self, model, firm, measure, capex) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def grant_bound(self):
        """Upper bound of the grant on a capex, as (share, cap): the grant is at most
        min(share * capex, cap) USD (share = inf: a fixed grant of cap); scalars or [K]
        arrays; None = no grant now. A cheap pre-filter of the decision (``screening``)."""
        return None

    def allocate(self, mask, grant):
        return self._allocate_prefix(mask, grant)

    def release(self, mask, grant):
        self._release(mask, grant)

    def record(self, model, firms: np.ndarray) -> None:
        """Book-keeping for funded projects (called once they are adopted)."""


def _f32_cap(x: float) -> np.float32:
    return np.float32(min(x, 3e38))


class CapexSubsidy(GrantInstrument):
    """A share of capex paid to eligible adopters while the budget lasts."""

    name = "capex_subsidy"

    def __init__(self, cfg, measure_names, n_firms):
        super().__init__(cfg.enabled, cfg.budget_usd)
        self.cfg = cfg
        self.measure_ok = np.array(["all" in cfg.measures or m in cfg.measures for m in measure_names])
        self.size_ok = np.array([s in cfg.size_classes for s in SIZE_CLASSES])

    def offer(self, model, firm, measure, capex):
        if not self.active:
            return np.zeros(len(firm))
        ok = self.measure_ok[measure] & self.size_ok[model.firms.size_class[firm]]
        return np.where(ok, np.minimum(self.cfg.subsidy_share * capex, self.cfg.max_grant_per_project_usd), 0.0)

    def grant_bound(self):
        if not self.active:
            return None
        return self.cfg.subsidy_share, _f32_cap(self.cfg.max_grant_per_project_usd)


class CostShareProgramme(GrantInstrument):
    """Pre-assessments of eligible SMEs, then co-funded implementation projects under a
    yearly quota: the programme pays (1 - copay_share) of a project's capex, up to
    ``max_grant_per_project_usd``, one project per firm, with technical assistance."""

    name = "cost_share"
    technical_assistance = True
    one_per_firm = True

    def __init__(self, cfg, sector_names, start_year, rng):
        super().__init__(cfg.enabled, cfg.budget_usd)
        self.cfg = cfg
        self.start_year = cfg.start_year or start_year
        self.sector_ok = np.array(["all" in cfg.sectors or s in cfg.sectors for s in sector_names])
        self.size_ok = np.array([s in cfg.size_classes for s in SIZE_CLASSES])
        self.rng = rng
        self.quota_left = 0
        self.assessments = 0
        self.projects_by_year: dict[int, int] = {}
        self.assessments_by_year: dict[int, int] = {}

    def programme_year(self, year: int) -> int:
        return year - self.start_year

    def new_year(self, year: int) -> None:
        py = self.programme_year(year)
        q = self.cfg.quota_projects_per_yr
        self.quota_left = 0 if py < 0 else int(q[min(py, len(q) - 1)])

    def eligible(self, model, firm):
        ft = model.firms
        return self.sector_ok[ft.sector[firm]] & self.size_ok[ft.size_class[firm]]

    def assess(self, model) -> np.ndarray:
        """This month's pre-assessments: eligible firms not yet assessed learn every applicable
        measure, lose part of their hidden costs and receive a project offer for 12 months."""
        if not self.active or model.year < self.start_year:
            return np.zeros(0, dtype=np.int64)
        m = model.month % 12
        a = self.cfg.assessments_per_yr
        n_now = (m + 1) * a // 12 - m * a // 12
        if n_now == 0:
            return np.zeros(0, dtype=np.int64)
        ft = model.firms
        if self._queue is None:
            # assessment order: eligible firms in random order (= drawing without replacement)
            eligible = np.flatnonzero(self.sector_ok[ft.sector] & self.size_ok[ft.size_class])
            self._queue = self.prioritise(model, self.rng.permutation(eligible))
            self._next = 0
        pool = self._queue[self._next:]
        n_now = min(n_now, len(pool))
        if self.cfg.cost_per_assessment_usd > 0:
            affordable = int(self.remaining_usd // self.cfg.cost_per_assessment_usd)
            if affordable < n_now:
                self._stop(model.month)
            n_now = min(n_now, affordable)
        if n_now <= 0:
            return np.zeros(0, dtype=np.int64)
        chosen = np.sort(pool[:n_now])
        self._next += n_now
        self.spent_usd += n_now * self.cfg.cost_per_assessment_usd
        ft.offer_until_month[chosen] = model.month + 11
        new = ft.applicable[chosen] & ~ft.aware[chosen]
        ft.aware[chosen] |= ft.applicable[chosen]
        model.aware_count += new.sum(axis=0)
        ft.hidden_cost_relief[chosen] = np.maximum(ft.hidden_cost_relief[chosen], self.cfg.hidden_cost_relief_share)
        self.assessments += n_now
        self.assessments_by_year[model.year] = self.assessments_by_year.get(model.year, 0) + n_now
        return chosen

    _queue = None

    def prioritise(self, model, queue):
        """Reorder the assessment queue (scenarios may override, e.g. a priority sector first)."""
        return queue

    def offer(self, model, firm, measure, capex):
        if not self.active or self.quota_left <= 0:
            return np.zeros(len(firm))
        ft = model.firms
        ok = (ft.offer_until_month[firm] >= model.month) & (ft.programme_projects[firm] == 0) & self.eligible(model, firm)
        grant = np.minimum((1.0 - self.cfg.copay_share) * capex, self.cfg.max_grant_per_project_usd)
        return np.where(ok, grant, 0.0)

    def grant_bound(self):
        if not self.active or self.quota_left <= 0:
            return None
        return 1.0 - self.cfg.copay_share, _f32_cap(self.cfg.max_grant_per_project_usd)

    def allocate(self, mask, grant):
        got = self._allocate_prefix(mask, grant, count_left=self.quota_left)
        self.quota_left -= int(got.sum())
        return got

    def release(self, mask, grant):
        self._release(mask, grant)
        self.quota_left += int(mask.sum())

    def record(self, model, firms: np.ndarray) -> None:
        model.firms.programme_projects[firms] += 1
        self.projects_by_year[model.year] = self.projects_by_year.get(model.year, 0) + len(firms)


class GreenLoan(Instrument):
    """Concessional loans from a credit line. The public cost is the grant equivalent of the
    interest-rate concession: L * (1 - annuity(market) / annuity(green)) over the term."""

    name = "green_loan"

    def __init__(self, cfg):
        super().__init__(cfg.enabled, cfg.credit_line_usd)
        self.cfg = cfg
        r_m = np.array([cfg.market_rate_per_yr])
        r_g = np.array([cfg.interest_rate_per_yr])
        self.concession_share = float(1.0 - annuity_factor(r_m, cfg.term_yr)[0] / annuity_factor(r_g, cfg.term_yr)[0])
        self.lent_usd = 0.0
        self.public_cost_usd = 0.0

    def offer(self, model, firm, firm_cost, r_eff):
        if not self.active:
            return np.zeros(len(firm))
        useful = r_eff > self.cfg.interest_rate_per_yr
        return np.where(useful, np.minimum(np.maximum(firm_cost, 0.0), self.cfg.max_loan_per_firm_usd), 0.0)

    def allocate(self, mask, loan):
        return self._allocate_prefix(mask, loan)

    def release(self, mask, loan):
        self._release(mask, loan)

    def grant_equivalent(self, loan):
        return loan * self.concession_share


class Training(Instrument):
    """Training courses for local consultants. A course takes about two months
    (12 modules of 4-5 days, source: 004_422d327f12c6e0c3.txt); its graduates then each
    support ``projects_per_consultant_per_yr`` projects a year in firms that lack the skills."""

    name = "training"
    COURSE_MONTHS = 2  # source: 004_422d327f12c6e0c3.txt (course of ~2 months)

    def __init__(self, cfg):
        super().__init__(cfg.enabled, cfg.budget_usd)
        self.cfg = cfg
        self.consultants = 0
        self.capacity = 0
        self.courses = 0

    def new_year(self) -> None:
        self.capacity = self.consultants * self.cfg.projects_per_consultant_per_yr

    def monthly(self, model) -> None:
        if not self.enabled:
            return
        m = model.month % 12
        c = self.cfg.courses_per_yr
        starts = (m + 1) * c // 12 - m * c // 12
        for _ in range(starts):
            if self.charge(self.cfg.cost_per_course_usd, model.month):
                self.courses += 1
                self._pending.append((model.month + self.COURSE_MONTHS, self.cfg.consultants_per_course))
        done = [p for p in self._pending if p[0] <= model.month]
        self._pending = [p for p in self._pending if p[0] > model.month]
        for _, n in done:
            self.consultants += n
            self.capacity += int(n * self.cfg.projects_per_consultant_per_yr * (12 - m) / 12)

    _pending: list

    def allocate(self, mask):
        got = np.zeros(len(mask), bool)
        idx = np.flatnonzero(mask)[: max(self.capacity, 0)]
        got[idx] = True
        self.capacity -= len(idx)
        return got

    def release(self, mask):
        self.capacity += int(mask.sum())


class Workshops(Instrument):
    """Awareness workshops: each participant learns each applicable measure with probability
    ``awareness_lift_share`` and sheds part of its hidden costs and perceived risk."""

    name = "workshops"

    def __init__(self, cfg, rng):
        super().__init__(cfg.enabled, cfg.budget_usd)
        self.cfg = cfg
        self.rng = rng
        self.held = 0
        self.participants = 0

    def due(self, model) -> int:
        if not self.enabled:
            return 0
        m = model.month % 12
        w = self.cfg.workshops_per_yr
        return (m + 1) * w // 12 - m * w // 12

    def run(self, model, pool: np.ndarray, host: int = -1) -> np.ndarray:
        """Hold one workshop for firms drawn from ``pool``; returns the participants."""
        if len(pool) == 0 or not self.charge(self.cfg.cost_per_workshop_usd, model.month):
            return np.zeros(0, dtype=np.int64)
        n = min(self.cfg.firms_per_workshop, len(pool))
        part = np.sort(self.rng.choice(pool, size=n, replace=False))
        ft, K = model.firms, model.catalogue.k
        u = self.rng.random((n, K))
        learn = (u < self.cfg.awareness_lift_share) & ft.applicable[part] & ~ft.aware[part]
        ft.aware[part] |= learn
        model.aware_count += learn.sum(axis=0)
        ft.hidden_cost_relief[part] = np.maximum(ft.hidden_cost_relief[part], self.cfg.hidden_cost_relief_share)
        ft.risk_relief[part] = np.maximum(ft.risk_relief[part], self.cfg.risk_relief_share)
        self.held += 1
        self.participants += n
        return part


class CarbonPrice:
    """A carbon price on scope-1 (combustion and process) CO2 of covered firms, USD/t."""

    name = "carbon_price"

    def __init__(self, cfg):
        self.cfg = cfg
        self.revenue_usd = 0.0

    def price(self, year: int) -> float:
        c = self.cfg
        if not c.enabled or year < c.start_year:
            return 0.0
        return c.price_usd_per_t_co2 + c.growth_usd_per_t_co2_per_yr * (year - c.start_year)


def build_instruments(cfg: PolicyConfig, measure_names, sector_names, n_firms, start_year, rng):
    """The instrument objects of a policy; ``rng`` is the policy's child Generator."""
    r_ws, r_cs = rng.spawn(2)
    tr = Training(cfg.training)
    tr._pending = []
    return {
        "capex_subsidy": CapexSubsidy(cfg.capex_subsidy, measure_names, n_firms),
        "cost_share": CostShareProgramme(cfg.cost_share, sector_names, start_year, r_cs),
        "green_loan": GreenLoan(cfg.green_loan),
        "workshops": Workshops(cfg.workshops, r_ws),
        "training": tr,
        "carbon_price": CarbonPrice(cfg.carbon_price),
    }
