"""What an adoption changes, compiled (numba): the adopting firm's energy use by carrier and
its captured share of scope-1 CO2; the adoption counters (by measure, by sector, by
association) and its neighbours' count of adopters of the measure (the peer term of
``decision.py``). Called once a month by ``ClusterModel.apply`` with the month's
adoptions, sorted by firm; a firm's several adoptions act in turn on its current energy.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def change_energy(firm, measure, state_change, capture_share_by_measure, energy, process, capture):
    """Apply each (firm, measure): energy[f] += state_change[k] @ [energy[f], process[f]]
    (floored at 0 per carrier), capture[f] = max(capture[f], capture share of k)."""
    C = energy.shape[1]
    x = np.empty(C + 1)
    for i in range(len(firm)):
        f, k = firm[i], measure[i]
        for c in range(C):
            x[c] = energy[f, c]
        x[C] = process[f]
        for c in range(C):
            dx = 0.0
            for j in range(C + 1):
                dx += state_change[k, c, j] * x[j]
            energy[f, c] = max(x[c] + dx, 0.0)
        capture[f] = max(capture[f], capture_share_by_measure[k])


@njit(cache=True, nogil=True)
def record(firm, measure, month, sector, cluster, indptr, indices, adopted, adopted_month, adopter_count,
           adopters_by_sector, cluster_adopters, neighbour_adopters):
    """Mark each (firm, measure) adopted in ``month`` and count it: by measure, by the firm's
    sector, by its association (cluster >= 0), and for every neighbour of the firm."""
    for i in range(len(firm)):
        f, k = firm[i], measure[i]
        adopted[f, k] = True
        adopted_month[f, k] = month
        adopter_count[k] += 1
        adopters_by_sector[sector[f], k] += 1
        if cluster[f] >= 0:
            cluster_adopters[cluster[f], k] += 1
        for p in range(indptr[f], indptr[f + 1]):
            neighbour_adopters[indices[p], k] += 1
