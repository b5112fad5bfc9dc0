"""What assessments recommend, and whether firms implement it: the record every assessing
mechanism shares (a cost-share programme's pre-assessments, a Cleaner Production Centre's,
mandatory energy audits).

The rule an auditor applies (written once, :func:`recommended`): a measure is recommended to a
firm when it applies to the firm, is on sale, the firm does not have it now, it saves money
(annual net saving > 0: energy cost saved, non-energy benefits and any carbon-price value,
less O&M), and its **simple payback** (capex / annual net saving, years) is at most the
programme's ``max_payback_yr``. Simple payback at gross capex is what assessment reports list
(US DOE Industrial Assessment Centers: each recommendation's implementation cost, annual
savings and simple payback; e.g. https://iac.university, IAC report format).

The record (:class:`RecommendationLog`) holds one row per (assessment, firm, recommended
measure): month, firm, measure, payback, programme; and the month the firm first adopted
the measure at or after the recommendation (-1: not within the run). It follows the
engine's ``adoption`` events, so a measure that expires and is bought again later (measure
lifetimes) counts from its first adoption after the recommendation. Programme summaries
report the **implementation rate**: the share of recommended measures adopted, as
assessment programmes do (IAC follow-up surveys ~6 months after the report; plants adopt
about half of the recommended projects: Anderson & Newell 2004, Resource and Energy
Economics 26(1), 27-50).

The payback ceiling (``recommend_max_payback_yr``, default 3 yr in ``policy.cost_share`` and
the programmes that assess) is a free parameter, range 1-5 yr: IAC reports list measures
with their simple paybacks, and plants mostly adopt those paying back within about 15 months
(Anderson & Newell 2002, RFF DP 02-58: "most require a payback of 15 months or less"), so an
auditor's list reaches beyond what plants take; audit programmes commonly screen at 2-4
years (EN 16247-1 reports list each measure with its payback; the threshold is the auditor's).
"""
from __future__ import annotations

import numpy as np



def simple_payback_yr(capex_usd: np.ndarray, net_saving_usd_per_yr: np.ndarray) -> np.ndarray:
    """capex / annual net saving, years (inf where nothing is saved)."""
    capex = np.asarray(capex_usd, dtype=float)
    saving = np.asarray(net_saving_usd_per_yr, dtype=float)
    return np.where(saving > 0, capex / np.where(saving > 0, saving, 1.0), np.inf)


def recommended(applicable: np.ndarray, adopted: np.ndarray, available: np.ndarray, payback_yr: np.ndarray,
                max_payback_yr: float) -> np.ndarray:
    """[R, K] bool: the auditor's rule (module docstring)."""
    return applicable & ~adopted & available[None, :] & (payback_yr <= max_payback_yr)


class RecommendationLog:
    """Every recommendation of the run, with the month it was implemented (-1: not yet)."""

    def __init__(self, k: int):
        self.k = k
        self._blocks: list[tuple] = []  # (month, firm, measure, payback, source)
        self._month = np.zeros(0, np.int32)
        self._key = np.zeros(0, np.int64)  # firm * K + measure
        self.adopted_month = np.zeros(0, np.int32)
        self.payback_yr = np.zeros(0)
        self.source = np.zeros(0, np.int16)
        self.sources: list[str] = []
        #: firms assessed by each programme (with or without a recommendation)
        self.assessed: dict[str, int] = {}

    def add(self, month: int, firms: np.ndarray, rec: np.ndarray, payback_yr: np.ndarray, source: str) -> None:
        """Record the [R, K] recommendations ``rec`` made to ``firms`` in ``month``."""
        self.assessed[source] = self.assessed.get(source, 0) + len(rec)
        if source not in self.sources:
            self.sources.append(source)
        r, k = np.nonzero(rec)
        if len(r) == 0:
            return
        firm = np.asarray(firms, dtype=np.int64)[r]
        self._month = np.concatenate([self._month, np.full(len(r), month, np.int32)])
        self._key = np.concatenate([self._key, firm * self.k + k])
        self.adopted_month = np.concatenate([self.adopted_month, np.full(len(r), -1, np.int32)])
        self.payback_yr = np.concatenate([self.payback_yr, payback_yr[r, k].astype(float)])
        self.source = np.concatenate([self.source, np.full(len(r), self.sources.index(source), np.int16)])

    def on_adoption(self, month, batch) -> None:
        """An ``adoption`` event: open recommendations of the adopted pairs are implemented."""
        if len(self._key) == 0 or len(batch) == 0:
            return
        open_ = np.flatnonzero(self.adopted_month < 0)
        if len(open_) == 0:
            return
        adopted = np.sort(np.asarray(batch.firm, np.int64) * self.k + np.asarray(batch.measure, np.int64))
        keys = self._key[open_]  # (np.isin by binary search in the month's few adoptions: no sort of the log)
        hit = open_[adopted[np.minimum(np.searchsorted(adopted, keys), len(adopted) - 1)] == keys]
        hit = hit[self._month[hit] <= month]
        self.adopted_month[hit] = month

    def __len__(self) -> int:
        return len(self._key)

    @property
    def month(self) -> np.ndarray:
        return self._month

    @property
    def firm(self) -> np.ndarray:
        return self._key // self.k

    @property
    def measure(self) -> np.ndarray:
        return self._key % self.k

    def stats(self, source: str | None = None) -> dict:
        """Assessed firms, recommendations, those implemented and the implementation rate
        (of one programme, or of all)."""
        sel = np.ones(len(self), bool) if source is None else (
            self.source == self.sources.index(source) if source in self.sources else np.zeros(len(self), bool))
        n = int(sel.sum())
        done = int((self.adopted_month[sel] >= 0).sum())
        with_rec = int(np.unique(self._month[sel].astype(np.int64) * (1 << 32) + self.firm[sel]).size)
        assessed = sum(self.assessed.values()) if source is None else self.assessed.get(source, 0)
        return {"assessments": assessed, "assessments_with_recommendations": with_rec, "recommendations": n,
                "recommendations_per_assessment": n / assessed if assessed else None, "implemented": done,
                "implementation_rate": done / n if n else None,
                "median_payback_yr": float(np.median(self.payback_yr[sel])) if n else None}
