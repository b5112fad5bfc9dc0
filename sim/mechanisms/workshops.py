"""Awareness workshops (``policy.workshops``), hosted in turn by the cluster associations
(or for all firms where there are none): each participant learns each applicable measure
with probability ``awareness_lift_share`` (the information barrier) and sheds part of its
hidden costs and perceived risk (those barriers)."""
from __future__ import annotations

import numpy as np

from . import Mechanism, register
from .budget import Budget


@register("workshops")
class Workshops(Mechanism, Budget):
    def __init__(self, engine, params):
        Mechanism.__init__(self, engine, params)
        self.open_budget(engine, "workshops", params.enabled, params.budget_usd)
        self.stream = engine.spawn_stream(self.name)
        self.held = 0
        self.participants = 0
        #: participants of this month's workshops
        self.participants_this_month = 0

    def cluster_activities(self, engine) -> None:
        self.participants_this_month = 0
        if not self.enabled:
            return
        m = engine.month % 12
        w = self.params.workshops_per_yr
        clusters = engine.clusters
        for i in range((m + 1) * w // 12 - m * w // 12):
            if clusters:
                pool = clusters[(self.held + i) % len(clusters)].members
            else:
                pool = np.arange(engine.n_firms)
            self.participants_this_month += len(self.hold(engine, pool))

    def hold(self, engine, pool: np.ndarray) -> np.ndarray:
        """Hold one workshop for firms drawn from ``pool``; returns the participants."""
        p = self.params
        if len(pool) == 0 or not self.charge(p.cost_per_workshop_usd):
            return np.zeros(0, dtype=np.int64)
        n = min(p.firms_per_workshop, len(pool))
        part = np.sort(self.stream.choice(pool, size=n, replace=False))
        u = self.stream.random((n, engine.catalogue.k))
        engine.inform(part, u < p.awareness_lift_share, source=self.name)
        engine.relieve("hidden_costs", part, p.hidden_cost_relief_share)
        engine.relieve("risk", part, p.risk_relief_share)
        self.held += 1
        self.participants += n
        return part
