"""The state emissions registry: each firm's annual scope-1 and scope-2 emissions (t CO2),
and which firms report to it (monitoring, reporting and verification coverage)."""
from __future__ import annotations

import numpy as np


class Registry:
    def __init__(self, n_firms: int, years: np.ndarray):
        self.years = years
        self.scope1_t = np.zeros((len(years), n_firms), dtype=np.float32)
        self.scope2_t = np.zeros((len(years), n_firms), dtype=np.float32)
        self.energy_mwh = np.zeros((len(years), n_firms), dtype=np.float32)
        self.reporting_share = np.zeros(len(years))
        self.recorded = np.zeros(len(years), dtype=bool)
        # exact (float64) yearly totals, for the conservation checks
        self.total_scope1_t = np.zeros(len(years))
        self.total_scope2_t = np.zeros(len(years))

    def record(self, y: int, scope1_t: np.ndarray, scope2_t: np.ndarray, energy_mwh: np.ndarray, reporting: np.ndarray) -> None:
        self.scope1_t[y] = scope1_t
        self.scope2_t[y] = scope2_t
        self.energy_mwh[y] = energy_mwh
        self.total_scope1_t[y] = scope1_t.sum()
        self.total_scope2_t[y] = scope2_t.sum()
        self.reporting_share[y] = reporting.mean() if len(reporting) else 0.0
        self.recorded[y] = True

    def totals(self) -> np.ndarray:
        """[years] total emissions (scope 1 + 2) of all firms, t CO2."""
        return self.total_scope1_t + self.total_scope2_t

    def group_totals(self, group: np.ndarray, n_groups: int) -> np.ndarray:
        """[years, groups] emissions summed by a firm grouping (e.g. cluster association)."""
        out = np.zeros((len(self.years), n_groups))
        ok = group >= 0
        for y in np.flatnonzero(self.recorded):
            out[y] = np.bincount(group[ok], weights=(self.scope1_t[y] + self.scope2_t[y])[ok].astype(float), minlength=n_groups)
        return out
