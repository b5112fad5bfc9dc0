"""Skills: a firm can implement a measure itself when its technical capability (0-1) is at
least the measure's complexity (``complexity_share``); otherwise it needs outside help:
a trained consultant from the region's pool (:class:`ConsultantPool`), or a grant channel
that comes with technical assistance (a cost-share programme's projects). Switch:
``behaviour.terms.skills`` (off: every firm is skilled enough).

Relieved by: ``training`` (courses whose graduates join the pool), the Cleaner Production
Centre's courses (same pool), technology partnerships (``engine.raise_capability``).
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(inline="always")
def skilled(on, capability, complexity):
    """The firm can implement the measure itself."""
    return capability >= complexity if on else True


class ConsultantPool:
    """Trained consultants, in cohorts: each cohort supports ``projects_per_consultant_per_yr``
    projects a year per consultant (``policy.training``; a free parameter, range 2-10: a
    cleaner-production or energy consultant's implementation projects in a year - no
    programme reports it), only for the measures its course taught (``measures``: [K] bool),
    in firms that lack the capability for them, for ``active_yr`` years after graduating
    (inf: for good)."""

    def __init__(self, projects_per_consultant_per_yr: int, k: int):
        self.projects_per_consultant_per_yr = projects_per_consultant_per_yr
        self.k = k
        #: cohorts: consultants, [K] measures they can implement, projects left this year,
        #: last year they work
        self._n: list[int] = []
        self._measures: list[np.ndarray] = []
        self._capacity: list[int] = []
        self._until_year: list[float] = []
        self.year = 0

    @property
    def consultants(self) -> int:
        """Consultants trained so far (active or not)."""
        return int(sum(self._n))

    @property
    def capacity(self) -> int:
        """Projects the pool can still support this year (all measures)."""
        return int(sum(self._capacity))

    def new_year(self, year: int = 0) -> None:
        self.year = year
        for i, n in enumerate(self._n):
            self._capacity[i] = n * self.projects_per_consultant_per_yr if year <= self._until_year[i] else 0

    def add(self, n: int, months_left: float, measures: np.ndarray | None = None, active_yr: float = float("inf")) -> None:
        """``n`` graduates join, able to implement ``measures`` ([K] bool; None = every
        measure); they support projects for ``months_left`` of this year's months and work
        as consultants for ``active_yr`` years."""
        self._n.append(int(n))
        self._measures.append(np.ones(self.k, bool) if measures is None else np.asarray(measures, bool).copy())
        self._capacity.append(int(n * self.projects_per_consultant_per_yr * months_left / 12))
        self._until_year.append(self.year + active_yr - 1 if active_yr != float("inf") else float("inf"))

    @property
    def available(self) -> bool:
        return self.capacity > 0

    def available_for(self, measure: np.ndarray) -> np.ndarray:
        """[P] bool: a consultant trained in each pair's measure has capacity left."""
        measure = np.asarray(measure, dtype=np.int64)
        ok = np.zeros(self.k, bool)
        for m, c in zip(self._measures, self._capacity):
            if c > 0:
                ok |= m
        return ok[measure]

    def allocate(self, mask: np.ndarray, measure: np.ndarray) -> np.ndarray:
        """A consultant trained in the pair's measure for the masked candidates, in order,
        while each cohort's capacity lasts (earlier cohorts first)."""
        got = np.zeros(len(mask), bool)
        measure = np.asarray(measure, dtype=np.int64)
        self._lent = []
        for i, m in enumerate(self._measures):
            if self._capacity[i] <= 0:
                continue
            idx = np.flatnonzero(mask & ~got & m[measure])[: self._capacity[i]]
            got[idx] = True
            self._capacity[i] -= len(idx)
            self._lent.append((i, idx))
        return got

    def release(self, mask: np.ndarray) -> None:
        """Give back the consultants of the last allocation's pairs in ``mask``."""
        for i, idx in getattr(self, "_lent", []):
            self._capacity[i] += int(mask[idx].sum())
        self._lent = []
