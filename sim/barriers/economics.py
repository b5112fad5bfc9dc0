"""Economics: a firm adopts a measure only if its net present value at the firm's own
effective discount rate (``barriers/risk.py``) is positive. Switch: ``behaviour.terms.economics``.

    NPV = net value * annuity(r_eff, lifetime) - (capex - grant) - hidden costs
    net value = energy cost saving * (1 + non-energy benefit share)
                + carbon price * scope-1 t avoided (covered firms) - O&M share * capex
                + mechanisms' extra value (credits), USD/yr

Relieved by: grants (capex subsidy, cost-share projects, green funds), carbon prices and
credits (they raise the net value), green loans (cheaper money than the firm's own rate).
"""
from __future__ import annotations

import numpy as np
from numba import njit


def annuity_factor(rate, years):
    """Present value of 1 USD/yr for ``years`` years at ``rate`` per year."""
    rate = np.maximum(rate, 1e-6)
    return -np.expm1(-years * np.log1p(rate)) / rate


@njit(inline="always")
def annuity(r_eff, neg_lifetime_yr):
    """Present value of 1 USD/yr over the lifetime at ``r_eff`` (float32 kernel form)."""
    return -np.expm1(np.log1p(r_eff) * neg_lifetime_yr) / r_eff
