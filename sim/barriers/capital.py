"""Capital: a firm's share of capex (after grants) must fit its investment budget, its yearly
cash (``scenario.cash_per_energy_cost`` x its energy bill) plus its credit
(``scenario.credit_per_energy_cost`` by size class), plus any green loan; within a month a
firm funds its wanted measures most profitable first until the budget is spent
(``decision.group_prefix_ok``). Switch: ``behaviour.terms.capital``.

Relieved by: grants (capex subsidy, cost-share projects, green funds), green loans
(``mechanisms/green_loan.py``), green credit lines (``engine.extend_credit``).
"""
from __future__ import annotations

from numba import njit


@njit(inline="always")
def funds_usd(cash_usd_per_yr, credit_usd):
    """A firm's investment budget this month, USD."""
    return cash_usd_per_yr + credit_usd
