"""What an adoption and an expiry change, compiled (numba): the firm's energy use by carrier
and its captured share of scope-1 CO2; the installed-stock counters (by measure, by sector,
by association) and its neighbours' count of installed adopters of the measure (the peer
term of ``decision.py``). ``ClusterModel.apply`` calls :func:`record` and
:func:`change_energy` once a month with the month's adoptions, sorted by firm (a firm's
several adoptions act in turn on its current energy); ``ClusterModel.expire_measures``
calls :func:`unrecord` and :func:`reapply` with the month's expiries.

Energy is piecewise linear in the state x = [energy by carrier, process CO2]: an adoption
maps x to max(x + D_k x, 0) with the measure's ``state_change`` D_k of its adoption year.
So a firm's energy with a set of installed measures is its no-measure base with each
installed measure applied in adoption order; when one expires, :func:`reapply` rebuilds the
firm's energy from the base with the measures that remain.
"""
from __future__ import annotations

import numpy as np
from numba import njit

from .firms import NEVER16
from .parallel import run_all, threads_for

#: a month's installations (or removals) from which the neighbours' counts of a large
#: population are updated on several threads (the neighbours' rows are scattered over the
#: table: each update is a cache miss; ~4,000 a month at 1,000,000 firms)
PARALLEL_MIN_PAIRS = 2048


def neighbours_split(n_pairs: int, n_firms: int) -> int:
    """Threads for the neighbours' counts of ``n_pairs`` installations among ``n_firms`` firms
    (1: :func:`record` and :func:`unrecord` count them themselves)."""
    return threads_for(n_firms) if n_pairs >= PARALLEL_MIN_PAIRS else 1


def by_firm_slices(fn, firm, threads: int, *rows) -> None:
    """``fn(firm, *rows)`` (a kernel that writes only the rows of the firms it is given), on
    ``threads`` threads by slices of ``firm`` (sorted) cut at firm boundaries, each slice with the
    same slice of every array in ``rows`` (aligned with ``firm``): a firm's pairs stay together
    and in order, so the result is the same on any number of threads."""
    if threads <= 1 or len(firm) < PARALLEL_MIN_PAIRS:
        fn(firm, *rows)
        return
    cut = np.searchsorted(firm, firm[np.linspace(0, len(firm), threads + 1).astype(np.int64)[1:-1]], side="left")
    cut = np.concatenate([[0], cut, [len(firm)]])
    run_all(lambda t: fn(firm[cut[t]:cut[t + 1]], *[r[cut[t]:cut[t + 1]] for r in rows]), list(range(threads)), threads)


def count_dtype(degree: np.ndarray):
    """The dtype of the neighbours' adopter counts ([N, K]): uint16 while no firm has more than
    65,535 ties (a count never exceeds its firm's degree), else uint32."""
    return np.uint16 if len(degree) == 0 or degree.max() <= np.iinfo(np.uint16).max else np.uint32


def add_to_neighbour_counts(firm, measure, indptr, indices, neighbour_adopters, delta: int) -> None:
    """neighbour_adopters[j, k] += delta for every neighbour j of each (firm, measure), on the
    calling thread (``ClusterModel._count_neighbours_later`` calls it on the background thread)."""
    _add_to_neighbours(firm, measure, indptr, indices, neighbour_adopters, np.int64(delta), 0,
                       neighbour_adopters.shape[0])


@njit(cache=True, nogil=True)
def _add_to_neighbours(firm, measure, indptr, indices, neighbour_adopters, delta, lo, hi):
    for i in range(len(firm)):
        f, k = firm[i], measure[i]
        for p in range(indptr[f], indptr[f + 1]):
            j = indices[p]
            if lo <= j < hi:
                neighbour_adopters[j, k] += delta


@njit(cache=True, nogil=True)
def _apply_one(energy, f, x, D):
    """energy[f, c] = max(x[c] + (D @ x)[c], 0) for each carrier c (x: [C+1] state of f)."""
    C = energy.shape[1]
    for c in range(C):
        dx = 0.0
        for j in range(C + 1):
            dx += D[c, j] * x[j]
        energy[f, c] = max(x[c] + dx, 0.0)


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
        _apply_one(energy, f, x, state_change[k])
        capture[f] = max(capture[f], capture_share_by_measure[k])


@njit(cache=True, nogil=True)
def reapply(firms, base_energy, process, adopted, adoption_seq, adopted_year, state_change_by_year,
            capture_share_by_measure, energy, capture):
    """Rebuild each firm's energy from its base: its installed measures (``adopted``) act in
    adoption order (``adoption_seq``), each with the state change of its adoption year
    (``adopted_year[i, k]``, row i for ``firms[i]``: index into ``state_change_by_year``);
    capture = the largest capture share installed (0 if none)."""
    C = energy.shape[1]
    K = adopted.shape[1]
    x = np.empty(C + 1)
    ks = np.empty(K, np.int64)
    for i in range(len(firms)):
        f = firms[i]
        n = 0
        for k in range(K):  # installed measures by adoption order (a stable insertion sort of <= K)
            if adopted[f, k]:
                seq = adoption_seq[f, k]
                j = n
                while j > 0 and adoption_seq[f, ks[j - 1]] > seq:
                    ks[j] = ks[j - 1]
                    j -= 1
                ks[j] = k
                n += 1
        for c in range(C):
            energy[f, c] = base_energy[f, c]
        cap = 0.0
        for j in range(n):
            k = ks[j]
            for c in range(C):
                x[c] = energy[f, c]
            x[C] = process[f]
            _apply_one(energy, f, x, state_change_by_year[adopted_year[i, k], k])
            cap = max(cap, capture_share_by_measure[k])
        capture[f] = cap


@njit(cache=True, nogil=True)
def record(firm, measure, month, expiry, sector, cluster, indptr, indices, adopted, adopted_month, expiry_month,
           adoption_seq, adopter_count, adopters_by_sector, cluster_adopters, neighbour_adopters, neighbours=True):
    """Mark each (firm, measure) installed in ``month`` (expiring in ``expiry[i]``; its place in
    the firm's adoption order: one more than the firm's latest) and count it: by measure, by
    the firm's sector, by its association (cluster >= 0), and for every neighbour of the firm
    (``neighbours=False``: not the neighbours; the caller counts them with
    :func:`add_to_neighbour_counts`)."""
    K = adopted.shape[1]
    for i in range(len(firm)):
        f, k = firm[i], measure[i]
        latest = adoption_seq[f, 0]
        for j in range(1, K):
            latest = max(latest, adoption_seq[f, j])
        adopted[f, k] = True
        adopted_month[f, k] = month
        expiry_month[f, k] = expiry[i]
        adoption_seq[f, k] = latest + 1
        adopter_count[k] += 1
        adopters_by_sector[sector[f], k] += 1
        if cluster[f] >= 0:
            cluster_adopters[cluster[f], k] += 1
        if neighbours:
            for p in range(indptr[f], indptr[f + 1]):
                neighbour_adopters[indices[p], k] += 1


@njit(cache=True, nogil=True)
def unrecord(firm, measure, never, sector, cluster, indptr, indices, adopted, adopted_month, expiry_month,
             adopter_count, adopters_by_sector, cluster_adopters, neighbour_adopters, neighbours=True):
    """Remove each installed (firm, measure) from the stock (it expired or lapsed): the
    counters :func:`record` raised fall again (``neighbours=False``: not the neighbours'); the
    month columns go back to ``never``."""
    for i in range(len(firm)):
        f, k = firm[i], measure[i]
        adopted[f, k] = False
        adopted_month[f, k] = never
        expiry_month[f, k] = never
        adopter_count[k] -= 1
        adopters_by_sector[sector[f], k] -= 1
        if cluster[f] >= 0:
            cluster_adopters[cluster[f], k] -= 1
        if neighbours:
            for p in range(indptr[f], indptr[f + 1]):
                neighbour_adopters[indices[p], k] -= 1


def departures_of(idx, month, interval, lapse_col, u, survive, ft, threads: int):
    """:func:`departures` of the review group ``idx`` from the firm table ``ft``, on ``threads``
    threads by slices of the group (joined in order: the same pairs in the same order)."""
    if threads <= 1:
        return departures(idx, month, interval, lapse_col, u, survive, NEVER16, ft.adopted_month, ft.expiry_month)
    cut = np.linspace(0, len(idx), threads + 1).astype(np.int64)
    parts = run_all(lambda t: departures(idx[cut[t]:cut[t + 1]], month, interval, lapse_col, u[cut[t]:cut[t + 1]],
                                         survive, NEVER16, ft.adopted_month, ft.expiry_month),
                    list(range(threads)), threads)
    return tuple(np.concatenate(p) for p in zip(*parts))


@njit(cache=True, nogil=True)
def departures(idx, month, interval, lapse_col, u, survive, never, adopted_month, expiry_month):
    """The installations of the firms ``idx`` (this month's review group, sorted) that leave
    the stock at the start of ``month``, in (firm, measure) order, with their reason (0: end of
    life, 1: lapsed):

    * end of life: ``expiry_month`` is this month (set at installation, review-aligned: an
      installation's expiry month is one of its firm's review months, so the review group
      holds every pair due);
    * lapsed: a measure whose savings may lapse (``lapse_col[k]`` >= 0: its column in ``u`` and
      ``survive``), installed for at least one review period (or since before the run), not at
      its end of life this month, whose draw ``u[r, lapse_col[k]]`` is at or above its
      survival probability. ``u`` holds a number for every (firm, lapsing measure) whatever
      the stock (``LifetimeDraws.persistence_uniforms``); only installed pairs read theirs."""
    R, K = len(idx), expiry_month.shape[1]
    cap = 64
    firm = np.empty(cap, np.int64)
    measure = np.empty(cap, np.int64)
    reason = np.empty(cap, np.int8)
    n = 0
    lapsing = np.flatnonzero(lapse_col >= 0)
    for r in range(R):
        f = idx[r]
        # most firms lose nothing this month: a branch-free look at the row first
        due = False
        for k in range(K):
            due |= expiry_month[f, k] == month
        if not due:
            for k in lapsing:
                due |= expiry_month[f, k] != never
            if not due:
                continue
        for k in range(K):
            ends = expiry_month[f, k]  # (NEVER16 exactly when not installed: no need to read ``adopted``)
            if ends == month:
                why = 0
            elif lapse_col[k] >= 0 and ends != never:
                since = adopted_month[f, k]
                if not ((since <= month - interval or since < 0) and u[r, lapse_col[k]] >= survive[lapse_col[k]]):
                    continue
                why = 1
            else:
                continue
            if n == cap:  # (grow: a month's departures are a small share of the group's pairs)
                cap *= 2
                firm, measure, reason = _grown(firm, cap), _grown(measure, cap), _grown(reason, cap)
            firm[n], measure[n], reason[n] = f, k, why
            n += 1
    return firm[:n], measure[:n], reason[:n]


@njit(cache=True, nogil=True)
def _grown(a, cap):
    out = np.empty(cap, a.dtype)
    out[:len(a)] = a
    return out


@njit(cache=True, nogil=True)
def rows_before(firms_u, firm, scope1_rate, scope2_rate, energy, process):
    """What the books of a month's changes compare against, gathered once (the firms' rows are
    scattered over the table): the rates and energy of the firms ``firms_u`` (unique, sorted)
    and the state [energy by carrier, process CO2] of each firm of ``firm`` (sorted, its runs
    are ``firms_u``; empty: none wanted). Returns old scope-1 [U], old scope-2 [U], old energy
    [U, C] and the state [P, C+1]."""
    U, P, C = len(firms_u), len(firm), energy.shape[1]
    s1 = np.empty(U)
    s2 = np.empty(U)
    e = np.empty((U, C))
    x = np.empty((P, C + 1))
    for u in range(U):
        f = firms_u[u]
        s1[u], s2[u] = scope1_rate[f], scope2_rate[f]
        for c in range(C):
            e[u, c] = energy[f, c]
    u = -1
    for i in range(P):
        f = firm[i]
        if u < 0 or firms_u[u] != f:
            u += 1
        for c in range(C):
            x[i, c] = e[u, c]
        x[i, C] = process[f]
    return s1, s2, e, x


@njit(cache=True, nogil=True)
def row_sum(a):
    """``a.sum()`` of a short contiguous float64 row (<= 128 values) in numpy's own order
    (its pairwise summation: one running sum below 8 values, else eight interleaved partial
    sums joined pairwise, then the rest), so compiled books equal numpy's to the last bit."""
    n = len(a)
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[i]
        return res
    r0, r1, r2, r3, r4, r5, r6, r7 = a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]
    i = 8
    while i < n - n % 8:
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[i]
        i += 1
    return res


@njit(cache=True, nogil=True)
def book_rates(firms, energy_rows, scope1_energy, process, capture, ef_electricity, electricity, frac, old_s1, old_s2,
               scope1_rate, scope2_rate, annual_scope1, annual_scope2, state32, old_energy, annual_energy, energy_total):
    """The firms ``firms`` (unique) changed energy or capture this month: each one's emission
    rates from its energy (``energy_rows[i]``; ``scope1_energy[i]``: its scope-1 t CO2/yr from
    energy, the energy times the year's scope-1 factors), scope1 = (energy part + process) x
    (1 - captured share), scope2 = electricity x its factor; its float32 state; this year's
    running sums by ``frac`` (the rest of the year) of the changes of its rates and of its
    energy use (from ``old_energy[i]``: the row's sum in numpy's order, :func:`row_sum`), and the
    energy changes summed by carrier, firm after firm (numpy's order for a table's columns),
    added to ``energy_total``.
    Returns the changes of the scope-1 and scope-2 rates ([len(firms)] each; the caller adds
    them to the totals)."""
    C = energy_rows.shape[1]
    d1 = np.empty(len(firms))
    d2 = np.empty(len(firms))
    dsum = np.zeros(C)
    row = np.empty(C)
    for i in range(len(firms)):
        f = firms[i]
        s1 = (scope1_energy[i] + process[f]) * (1.0 - capture[f])
        s2 = energy_rows[i, electricity] * ef_electricity
        scope1_rate[f], scope2_rate[f] = s1, s2
        d1[i] = s1 - old_s1[i]
        d2[i] = s2 - old_s2[i]
        annual_scope1[f] += d1[i] * frac
        annual_scope2[f] += d2[i] * frac
        for c in range(C):
            row[c] = energy_rows[i, c] - old_energy[i, c]
            dsum[c] += row[c]
        annual_energy[f] += row_sum(row) * frac
        for c in range(C):
            state32[f, c] = np.float32(energy_rows[i, c])
        state32[f, C] = np.float32(process[f])
    for c in range(C):
        energy_total[c] += dsum[c]
    return d1, d2
