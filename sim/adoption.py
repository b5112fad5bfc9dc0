"""What an adoption changes, compiled (numba): the adopting firm's energy use by carrier and
its captured share of scope-1 CO2, and its neighbours' count of adopters of the measure (the
peer term of ``decision.py``). Called once a month by ``ClusterModel.apply`` with the month's
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
def count_neighbour_adopters(indptr, indices, firm, measure, neighbour_adopters):
    """Every neighbour of each adopting firm counts one more adopter of the measure."""
    for i in range(len(firm)):
        f, k = firm[i], measure[i]
        for p in range(indptr[f], indptr[f + 1]):
            neighbour_adopters[indices[p], k] += 1
