"""Training (``policy.training``): courses for local consultants. A course takes about two
months (12 modules of 4-5 days, source: 004_422d327f12c6e0c3.txt); its graduates then join
the region's consultant pool (``sim/barriers/skills.py``), each supporting
``projects_per_consultant_per_yr`` projects a year in firms that lack the skills, only for
the course topics (``measures``), for ``consultant_active_yr`` years."""
from __future__ import annotations

import numpy as np

from . import Mechanism, register
from .budget import Budget


@register("training")
class Training(Mechanism, Budget):
    COURSE_MONTHS = 2  # source: 004_422d327f12c6e0c3.txt (course of ~2 months)

    def __init__(self, engine, params):
        Mechanism.__init__(self, engine, params)
        self.open_budget(engine, "training", params.enabled, params.budget_usd)
        self.courses = 0
        #: [K] the course topics: what the graduates can implement
        self.measures = np.array(["all" in params.measures or k in params.measures for k in engine.catalogue.names])
        self._pending: list[tuple[int, int]] = []  # (graduation month, graduates)

    def new_year(self, engine) -> None:
        engine.consultants.new_year(engine.year)

    def programme_activities(self, engine) -> None:
        if not self.enabled:
            return
        m = engine.month % 12
        c = self.params.courses_per_yr
        starts = (m + 1) * c // 12 - m * c // 12
        for _ in range(starts):
            if self.charge(self.params.cost_per_course_usd):
                self.courses += 1
                self._pending.append((engine.month + self.COURSE_MONTHS, self.params.consultants_per_course))
        done = [p for p in self._pending if p[0] <= engine.month]
        self._pending = [p for p in self._pending if p[0] > engine.month]
        for _, n in done:
            engine.train_consultants(n, 12 - m, self.measures, self.params.consultant_active_yr)
