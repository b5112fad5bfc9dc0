"""Cost-share programme (``policy.cost_share``): pre-assessments of eligible SMEs, then
co-funded implementation projects under a yearly quota. An assessment recommends measures
by the auditor's rule (``engine.recommend``: applicable, on sale, not in place, simple
payback <= ``recommend_max_payback_yr``; recorded for the run's ``assessments`` table), which
relieves the information barrier for those measures (the firm learns what is recommended)
and part of the hidden-cost barrier, and gives the firm a project offer for 12 months; the
programme pays
(1 - copay_share) of a project's capex, up to ``max_grant_per_project_usd``, one project per
firm, with technical assistance (the skills barrier).

Subclasses (the Cleaner Production Centre) change who is assessed (``select``), the offer
window and the grant."""
from __future__ import annotations

import numpy as np

from ..params import SIZE_CLASSES
from . import Mechanism, register
from .budget import GrantInstrument, capped_grant_usd, f32_cap


@register("cost_share")
class CostShareProgramme(Mechanism, GrantInstrument):
    technical_assistance = True
    one_per_firm = True
    #: months an assessed firm's project offer stays open
    offer_months = 12

    def __init__(self, engine, params):
        Mechanism.__init__(self, engine, params)
        self.open_budget(engine, self.name, params.enabled, params.budget_usd)
        self.start_year = params.start_year or engine.start_year
        self.sector_ok = np.array(["all" in params.sectors or s in params.sectors for s in engine.sector_names])
        self.size_ok = np.array([s in params.size_classes for s in SIZE_CLASSES])
        self.stream = engine.spawn_stream(self.name)
        n = engine.n_firms
        #: [N] last month of the firm's project offer (-1: none)
        self.offer_until_month = np.full(n, -1, dtype=np.int32)
        #: [N] programme projects the firm has done
        self.projects_done = np.zeros(n, dtype=np.int16)
        self.quota_left = 0
        self.assessments = 0
        self.projects_by_year: dict[int, int] = {}
        self.assessments_by_year: dict[int, int] = {}
        self._queue = None
        self._next = 0
        engine.add_grants(self)

    # -- assessments -----------------------------------------------------------------------
    def new_year(self, engine) -> None:
        py = engine.year - self.start_year
        q = self.params.quota_projects_per_yr
        self.quota_left = 0 if py < 0 else int(q[min(py, len(q) - 1)])

    def eligible(self, engine, firm):
        ft = engine.firms
        return self.sector_ok[ft.sector[firm]] & self.size_ok[ft.size_class[firm]]

    def programme_activities(self, engine) -> None:
        """This month's pre-assessments: eligible firms not yet assessed, in random order."""
        if not self.active or engine.year < self.start_year:
            return
        m = engine.month % 12
        a = self.params.assessments_per_yr
        n_now = (m + 1) * a // 12 - m * a // 12
        if n_now == 0:
            return
        if self._queue is None:
            # assessment order: eligible firms in random order (= drawing without replacement)
            ft = engine.firms
            self._queue = self.stream.permutation(np.flatnonzero(self.sector_ok[ft.sector] & self.size_ok[ft.size_class]))
        pool = self._queue[self._next:]
        n_now = min(n_now, len(pool))
        cost = self.params.cost_per_assessment_usd
        if cost > 0:
            affordable = int(self.remaining_usd // cost)
            if affordable < n_now:
                self.stop()
            n_now = min(n_now, affordable)
        if n_now <= 0:
            return
        chosen = np.sort(pool[:n_now])
        self._next += n_now
        self.spent_usd += n_now * cost
        self.assess(engine, chosen, engine.month + self.offer_months - 1, self.params.hidden_cost_relief_share)
        self.assessments += n_now
        self.assessments_by_year[engine.year] = self.assessments_by_year.get(engine.year, 0) + n_now

    def assess(self, engine, firms: np.ndarray, offer_until_month: int, hidden_cost_relief_share: float,
               offered=None) -> np.ndarray:
        """A pre-assessment of ``firms``: they hold a project offer until
        ``offer_until_month``, learn the measures the assessment recommends
        (``engine.recommend``) and those the offer names (``offered``: [K] bool, None =
        none besides the recommendations), and shed part of their hidden costs. Returns the
        [R, K] recommendations."""
        self.offer_until_month[firms] = offer_until_month
        rec = engine.recommend(firms, self.name, self.params.recommend_max_payback_yr)
        engine.inform(firms, rec if offered is None else rec | offered[None, :], source=self.name)
        engine.relieve("hidden_costs", firms, hidden_cost_relief_share)
        engine.publish("assessment", month=engine.month, firms=firms, source=self.name)
        return rec

    # -- grants ----------------------------------------------------------------------------
    def offer(self, engine, firm, measure, capex):
        if not self.active or self.quota_left <= 0:
            return np.zeros(len(firm))
        grant = np.zeros(len(firm))
        # pre-assessed firms within their offer first: the few candidates the rest is asked of
        sel = np.flatnonzero(self.offer_until_month[firm] >= engine.month)
        f, k = firm[sel], measure[sel]
        sel = sel[(self.projects_done[f] == 0) & self.eligible(engine, f)
                  & ~engine.firms.adopted[f, k]]  # never a grant for a measure the firm has
        grant[sel] = capped_grant_usd(1.0 - self.params.copay_share, np.asarray(capex)[sel],
                                      self.params.max_grant_per_project_usd)
        return grant

    def grant_bound(self):
        if not self.active or self.quota_left <= 0:
            return None
        return 1.0 - self.params.copay_share, f32_cap(self.params.max_grant_per_project_usd)

    def allocate(self, mask, grant):
        got = self.allocate_prefix(mask, grant, count_left=self.quota_left)
        self.quota_left -= int(got.sum())
        return got

    def release(self, mask, grant):
        self.release_amount(mask, grant)
        self.quota_left += int(mask.sum())

    def record(self, engine, firms: np.ndarray) -> None:
        self.projects_done[firms] += 1
        self.projects_by_year[engine.year] = self.projects_by_year.get(engine.year, 0) + len(firms)

    def recommendation_summary(self, engine) -> dict:
        """The programme's assessments, recommendations and their implementation rate."""
        return engine.recommendations.stats(self.name)
