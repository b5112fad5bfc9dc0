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
    """Trained consultants: each supports ``projects_per_consultant_per_yr`` projects a year
    in firms that lack the capability for a measure (``policy.training``)."""

    def __init__(self, projects_per_consultant_per_yr: int):
        self.projects_per_consultant_per_yr = projects_per_consultant_per_yr
        self.consultants = 0
        #: projects the pool can still support this year
        self.capacity = 0

    def new_year(self) -> None:
        self.capacity = self.consultants * self.projects_per_consultant_per_yr

    def add(self, n: int, months_left: float) -> None:
        """``n`` graduates join; they support projects for ``months_left`` of this year's months."""
        self.consultants += n
        self.capacity += int(n * self.projects_per_consultant_per_yr * months_left / 12)

    @property
    def available(self) -> bool:
        return self.capacity > 0

    def allocate(self, mask: np.ndarray) -> np.ndarray:
        """A consultant for the masked candidates, in order, while capacity lasts."""
        got = np.zeros(len(mask), bool)
        idx = np.flatnonzero(mask)[: max(self.capacity, 0)]
        got[idx] = True
        self.capacity -= len(idx)
        return got

    def release(self, mask: np.ndarray) -> None:
        self.capacity += int(mask.sum())
