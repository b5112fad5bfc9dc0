"""Information: a firm adopts only measures it knows. Switch: ``behaviour.terms.information``
(off: every pair under review becomes aware).

Awareness arrives at a monthly hazard

    hazard = p_k + q * peer_share + customer-pressure awareness * customer pressure

(Bass: ``info_rate_per_month`` p_k of the measure = innovation; ``behaviour.peer_awareness_per_month``
q = imitation, switch ``peer_awareness``; ``behaviour.customer_pressure_awareness_per_month``,
switch ``customer_pressure``). An unaware applicable pair becomes aware at a review with
probability 1 - exp(-hazard * months since the firm's last review): when its uniform variate
u < 1 - exp(-hazard * months). u is the pair's counter-based number for the month
(``sim/draws.py``: a function of the seed, month, firm and measure), so policies compared on
one seed meet the same numbers.

Peer share = share of the firm's neighbours that adopted the measure (complete graph: of
all firms it applies to) + ``behaviour.cluster_broker_weight`` x adopter share of its
association's members, capped at 1. It also relieves the risk barrier (``risk.py``). The
peer share is evaluated inside the screening pass itself (``sim/screening.py``), reading the
neighbours' adopter counts in place: as an inlined helper it cost 3-20 % of the pass.

Relieved by: workshops, pre-assessments (cost-share programmes, the Cleaner Production
Centre), the climate alliance's diagnoses, roadmaps, audit obligations, technology
partnerships — every one through ``Engine.inform`` (which keeps the awareness counters).
"""
from __future__ import annotations

import numpy as np
from numba import njit

from ..draws import below_exposure_cdf

F32 = np.float32


@njit(inline="always")
def learns(information, peer_on, customer_on, info_rate, share, peer_rate, customer_hazard, months, u):
    """Whether an unaware applicable pair becomes aware at this review (``u``: its uniform variate)."""
    if not information:
        return True
    hazard = info_rate
    if peer_on:
        hazard = share * peer_rate + info_rate
    if customer_on:
        hazard += customer_hazard
    return below_exposure_cdf(u, np.float64(hazard * months))
