"""Risk: a firm discounts a measure at its effective rate, above its hurdle rate by the
measure's risk premium. Switches: ``behaviour.terms.risk``, ``peer_risk``, ``customer_pressure``.

    r_eff = max(hurdle - customer_pressure_per_yr * customer pressure
                + risk_aversion * (1 - risk relief) * premium_k * (1 - peer_risk_relief_share * peer_share),
                MIN_RATE_PER_YR)

``hurdle_rate_per_yr`` and ``risk_aversion`` are the firm's; ``risk_premium_per_yr`` the
measure's; ``behaviour.peer_risk_relief_share`` (neighbours that adopted show it works) and
``behaviour.customer_pressure_per_yr`` (customers that set supplier targets) the behaviour's.

Relieved by: workshops (``engine.relieve("risk", ...)``), peers, customer pressure, green
finance (``engine.lower_hurdle_rate``).
"""
from __future__ import annotations

import numpy as np
from numba import njit

F32 = np.float32

#: floor of the effective discount rate, per year (keeps the annuity finite; model choice)
MIN_RATE_PER_YR = 0.005


@njit(inline="always")
def base_rate(customer_on, hurdle, pressure_rate, pressure):
    """The hurdle rate less the customer-pressure reduction (float32)."""
    if customer_on:
        return hurdle - F32(pressure_rate * pressure)
    return hurdle


@njit(inline="always")
def effective_rate(risk_on, peer_risk_on, base, share, neg_peer_relief, premium, risk_weight):
    """r_eff of one pair (float32); ``risk_weight`` = risk aversion x (1 - risk relief)."""
    r_eff = base
    if risk_on:
        rr = share * neg_peer_relief if peer_risk_on else F32(0.0)
        rr += F32(1.0)
        rr *= premium
        rr *= risk_weight
        r_eff = rr + base
    return max(r_eff, F32(MIN_RATE_PER_YR))
