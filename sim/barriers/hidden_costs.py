"""Hidden costs: search, disruption and management time, a share of capex the firm bears on
top of it (``hidden_cost_share`` of the measure). Switch: ``behaviour.terms.hidden_costs``.

    hidden = hidden_cost_share_k * capex * (1 - hidden-cost relief), USD

Relieved by: workshops, pre-assessments and diagnoses (the assessor did the search):
``engine.relieve("hidden_costs", firms, share)``; a firm keeps the largest relief it got.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(inline="always")
def hidden_cost(on, capex, share_k, relief):
    """Hidden costs of one pair, USD (float32); ``relief`` = 1 - the firm's relief share."""
    if on:
        return capex * share_k * relief
    return np.float32(0.0)
