"""Capex subsidy: a share of capex paid to eligible adopters while the budget lasts
(``policy.capex_subsidy``). Relieves the economics and capital barriers."""
from __future__ import annotations

import numpy as np

from ..params import SIZE_CLASSES
from . import Mechanism, register
from .budget import GrantInstrument, f32_cap


@register("capex_subsidy")
class CapexSubsidy(Mechanism, GrantInstrument):
    def __init__(self, engine, params):
        Mechanism.__init__(self, engine, params)
        self.open_budget(engine, "capex_subsidy", params.enabled, params.budget_usd)
        self.measure_ok = np.array(["all" in params.measures or m in params.measures for m in engine.catalogue.names])
        self.size_ok = np.array([s in params.size_classes for s in SIZE_CLASSES])
        engine.add_grants(self)

    def offer(self, engine, firm, measure, capex):
        if not self.active:
            return np.zeros(len(firm))
        p = self.params
        ok = self.measure_ok[measure] & self.size_ok[engine.firms.size_class[firm]]
        return np.where(ok, np.minimum(p.subsidy_share * capex, p.max_grant_per_project_usd), 0.0)

    def grant_bound(self):
        if not self.active:
            return None
        return self.params.subsidy_share, f32_cap(self.params.max_grant_per_project_usd)
