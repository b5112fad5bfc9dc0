"""Budgets and grant channels: the money side every instrument shares.

Every budgeted instrument spends from its own budget. Allocation is in candidate order; the
first request the remaining money cannot cover stops the instrument for good, and the month
is recorded (``exhausted_month``) and published (``budget_exhausted``). Spending therefore
never exceeds a budget, and stops within one grant of it.
"""
from __future__ import annotations

import numpy as np


class Budget:
    """Money an instrument may spend (``budget_usd`` may be ``inf``). A mixin: the owner
    calls :meth:`open_budget` in its constructor."""

    def open_budget(self, engine, name: str, enabled: bool, budget_usd: float) -> None:
        self._engine = engine
        self.budget_name = name
        self.enabled = bool(enabled)
        self.budget_usd = float(budget_usd)
        self.spent_usd = 0.0
        self.exhausted_month: int | None = None

    @property
    def active(self) -> bool:
        """Open for business: enabled, money left, and not while the engine builds the
        initial stock (measures in place before the run are bought without support)."""
        return self.enabled and self.exhausted_month is None and not self._engine.setting_up

    @property
    def public_spending_usd(self) -> float:
        """Public money this instrument has cost so far, USD."""
        return self.spent_usd

    #: public money per USD of budget used (a credit line lends: its cost is the concession)
    public_cost_share = 1.0

    def set_budget_usd(self, budget_usd: float) -> None:
        """A new budget from now on (a reallocation: ``Engine.set_budget``), never below what
        is spent; money left opens a stopped instrument again."""
        self.budget_usd = max(float(budget_usd), self.spent_usd)
        if self.exhausted_month is not None and self.remaining_usd > 0:
            self.exhausted_month = None

    @property
    def remaining_usd(self) -> float:
        return self.budget_usd - self.spent_usd

    def stop(self) -> None:
        """The money is gone: the instrument stops for good this month."""
        if self.exhausted_month is None:
            self.exhausted_month = self._engine.month
            self._engine.publish("budget_exhausted", month=self.exhausted_month, name=self.budget_name)

    def charge(self, amount_usd: float) -> bool:
        """Spend a lump sum if the budget covers it; otherwise stop the instrument."""
        if not self.active:
            return False
        if amount_usd > self.remaining_usd + 1e-9:
            self.stop()
            return False
        self.spent_usd += amount_usd
        return True

    def allocate_prefix(self, mask: np.ndarray, amount: np.ndarray, count_left: float = np.inf) -> np.ndarray:
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
            self.stop()
        return got

    def release_amount(self, mask: np.ndarray, amount: np.ndarray) -> None:
        if mask.any():
            self.spent_usd -= float(amount[mask].sum())


class GrantInstrument(Budget):
    """A grant channel: pays part of a measure's capex. The decision asks every channel
    for its ``offer``; the largest wins, then ``allocate`` grants it in candidate order while
    money (and quota) last, and ``release`` gives back what dropped candidates held. A
    mechanism adds its channels with ``engine.add_grants``."""

    #: the grant comes with technical assistance (relieves the skills barrier)
    technical_assistance = False
    #: at most one funded project per firm
    one_per_firm = False

    def offer(self, engine, firm, measure, capex) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def grant_bound(self):
        """Upper bound of the grant on a capex, as (share, cap): the grant is at most
        min(share * capex, cap) USD (share = inf: a fixed grant of cap); scalars or [K]
        arrays; None = no grant now. A cheap pre-filter of the decision (``screening``)."""
        return None

    def allocate(self, mask, grant):
        return self.allocate_prefix(mask, grant)

    def release(self, mask, grant):
        self.release_amount(mask, grant)

    def record(self, engine, firms: np.ndarray) -> None:
        """Book-keeping for funded projects (called once they are adopted)."""


def capped_grant_usd(share, capex_usd, cap_usd) -> np.ndarray:
    """A grant of ``share`` of capex, at most ``cap_usd`` per project (the per-project cap
    programmes set; inf = none), USD."""
    return np.minimum(share * np.asarray(capex_usd), cap_usd)


def f32_cap(x: float) -> np.float32:
    """A grant cap as float32 (inf stays representable)."""
    return np.float32(min(x, 3e38))
