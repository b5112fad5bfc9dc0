"""The supply and partnership network among firms.

Edges are typed: ``supply`` (supplier -> customer), ``partnership`` (members of the same
cluster association), ``knowledge`` (other regional ties). The engine keeps them as arrays
and as 0/1 adjacency in CSR form (:class:`Adjacency`: each firm's neighbours, or customers,
as a sorted run of ``indices``), which the compiled kernels walk; ``to_networkx`` gives the
NetworkX graph for analysis, Mesa's network space and the app. (Not ``scipy.sparse``: its
import alone took ~0.11 s of every command-line run, for two arrays and a count.)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

if TYPE_CHECKING:  # NetworkX and SciPy are imported where they are used (time a command-line run need not pay)
    import networkx as nx
    import scipy.sparse as sp

EDGE_KINDS = ("supply", "partnership", "knowledge")


@dataclass
class Adjacency:
    """A square 0/1 matrix in CSR form: row ``i``'s ones are in the columns
    ``indices[indptr[i]:indptr[i + 1]]`` (sorted, no repeats)."""

    n: int
    indptr: np.ndarray  # [n + 1] int32
    indices: np.ndarray  # [nnz] int32

    @property
    def nnz(self) -> int:
        return len(self.indices)

    def row_lengths(self) -> np.ndarray:
        """[n] the number of ones in each row (a firm's ties, or customers)."""
        return np.diff(self.indptr)

    def count(self, flags: np.ndarray) -> np.ndarray:
        """[n] or [n, K] int64: in each row, how many of its columns are flagged (``flags``: [n]
        or [n, K] bool), e.g. each firm's neighbours that have adopted each measure."""
        flags = np.asarray(flags, dtype=bool)
        row = np.repeat(np.arange(self.n), self.row_lengths())
        if flags.ndim == 1:
            return np.bincount(row[flags[self.indices]], minlength=self.n)
        return np.stack([np.bincount(row[flags[self.indices, k]], minlength=self.n) for k in range(flags.shape[1])],
                        axis=1).reshape(self.n, flags.shape[1])

    def share(self, flags: np.ndarray) -> np.ndarray:
        """[n] float64: the share of each row's columns that are flagged (0 for an empty row),
        e.g. each supplier's customers that set targets."""
        n_cols = self.row_lengths()
        return np.where(n_cols > 0, self.count(flags) / np.maximum(n_cols, 1), 0.0)

    def to_scipy(self) -> sp.csr_matrix:
        """The same matrix as ``scipy.sparse.csr_matrix`` (bool), for analysis."""
        import scipy.sparse as sp

        return sp.csr_matrix((np.ones(self.nnz, bool), self.indices, self.indptr), shape=(self.n, self.n))


@dataclass
class FirmNetwork:
    n: int
    src: np.ndarray  # [E] int32 (for supply: the supplier)
    dst: np.ndarray  # [E] int32 (for supply: the customer)
    kind: np.ndarray  # [E] int8 index into EDGE_KINDS
    peers: Adjacency  # [N, N] symmetric: any tie (peer effects)
    customers: Adjacency  # [N, N] supplier -> customer

    @property
    def degree(self) -> np.ndarray:
        return self.peers.row_lengths()

    def neighbours(self, firms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position in ``firms``, neighbour index) for every tie of each firm in ``firms``."""
        ip = self.peers.indptr
        starts, ends = ip[firms], ip[firms + 1]
        lens = ends - starts
        owner = np.repeat(np.arange(len(firms)), lens)
        offs = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
        return owner, self.peers.indices[np.repeat(starts, lens) + offs]

    def to_networkx(self) -> nx.Graph:
        """Undirected graph; each edge has ``kind`` and, for supply ties, ``supplier``."""
        import networkx as nx

        g = nx.Graph()
        g.add_nodes_from(range(self.n))
        kinds = np.array(EDGE_KINDS)[self.kind]
        # later kinds overwrite earlier ones on a shared pair; add supply last so it wins
        order = np.argsort(-self.kind, kind="stable")
        g.add_edges_from(
            (int(s), int(d), {"kind": str(k), "supplier": int(s)} if k == "supply" else {"kind": str(k)})
            for s, d, k in zip(self.src[order], self.dst[order], kinds[order])
        )
        return g


def _dedupe(src, dst, kind, n):
    """The ties without self-ties and repeats: the first of each (src, dst) pair, in the
    order given."""
    keep = src != dst
    src, dst, kind = src[keep], dst[keep], kind[keep]
    first = np.flatnonzero(_first_ties(src, dst, n))
    return src[first], dst[first], kind[first]


#: a firm's ties are compared pairwise up to this many (more: sorted)
_SMALL_BUCKET = 64


@njit(cache=True, nogil=True)
def _first_ties(src, dst, n):
    """[E] bool: True at the first occurrence of each (src, dst) pair. The ties are bucketed by
    ``src`` (a stable counting sort: each bucket keeps the given order), then each bucket's
    ``dst`` values are compared with the earlier ones (sorted, stably, in a bucket of more
    than ``_SMALL_BUCKET``). The same pairs as the first indices of ``np.unique(src * n +
    dst, return_index=True)``, without sorting every tie (~0.1 s instead of ~0.8 s for the
    3.4 million ties of 1,000,000 firms)."""
    E = len(src)
    start = np.zeros(n + 1, np.int64)
    for i in range(E):
        start[src[i] + 1] += 1
    for v in range(n):
        start[v + 1] += start[v]
    fill = start[:-1].copy()
    order = np.empty(E, np.int64)
    for i in range(E):
        order[fill[src[i]]] = i
        fill[src[i]] += 1
    first = np.zeros(E, np.bool_)
    for v in range(n):
        lo, hi = start[v], start[v + 1]
        if hi - lo <= _SMALL_BUCKET:
            for p in range(lo, hi):
                d = dst[order[p]]
                seen = False
                for q in range(lo, p):
                    if dst[order[q]] == d:
                        seen = True
                        break
                first[order[p]] = not seen
        else:
            idx = order[lo:hi]
            ds = dst[idx]
            o = np.argsort(ds, kind="mergesort")  # (stable: equal values keep the given order)
            for j in range(hi - lo):
                if j == 0 or ds[o[j]] != ds[o[j - 1]]:
                    first[idx[o[j]]] = True
    return first


def from_edges(n: int, src: np.ndarray, dst: np.ndarray, kind: np.ndarray) -> FirmNetwork:
    src, dst, kind = _dedupe(np.asarray(src, np.int64), np.asarray(dst, np.int64), np.asarray(kind, np.int8), n)
    peers = Adjacency(n, *_csr01(src, dst, n, True))  # a tie either way
    sup = kind == EDGE_KINDS.index("supply")
    customers = Adjacency(n, *_csr01(src[sup], dst[sup], n, False))
    return FirmNetwork(n, src.astype(np.int32), dst.astype(np.int32), kind, peers, customers)


@njit(cache=True, nogil=True)
def _csr01(rows, cols, n, symmetric):
    """(indptr [n + 1], indices) int32 of the n x n 0/1 matrix with a one at each (rows[i],
    cols[i]), and with ``symmetric`` also at each (cols[i], rows[i]); repeats count once, each
    row's columns sorted. A counting sort by row, then each row sorted in place."""
    E = len(rows)
    start = np.zeros(n + 1, np.int64)
    for i in range(E):
        start[rows[i] + 1] += 1
        if symmetric:
            start[cols[i] + 1] += 1
    for v in range(n):
        start[v + 1] += start[v]
    fill = start[:-1].copy()
    col = np.empty(start[n], np.int32)
    for i in range(E):
        col[fill[rows[i]]] = cols[i]
        fill[rows[i]] += 1
        if symmetric:
            col[fill[cols[i]]] = rows[i]
            fill[cols[i]] += 1
    indptr = np.zeros(n + 1, np.int32)
    out = 0
    for v in range(n):
        lo, hi = start[v], start[v + 1]
        if hi - lo <= _SMALL_BUCKET:  # insertion sort
            for p in range(lo + 1, hi):
                c, q = col[p], p - 1
                while q >= lo and col[q] > c:
                    col[q + 1] = col[q]
                    q -= 1
                col[q + 1] = c
        else:
            col[lo:hi].sort()
        for p in range(lo, hi):  # (out <= p: the kept columns move down in place)
            if p == lo or col[p] != col[p - 1]:
                col[out] = col[p]
                out += 1
        indptr[v + 1] = out
    return indptr, col[:out].copy()


def generate(
    rng: np.random.Generator,
    sector: np.ndarray,
    cluster: np.ndarray,
    weight: np.ndarray,
    supplies_to: list[list[int]],
    supply_links_per_firm: float,
    partner_links_per_member: float,
    random_links_per_firm: float,
) -> FirmNetwork:
    """Draw the cluster network.

    Supply: each firm has Poisson(``supply_links_per_firm``) customers in the sectors its sector
    sells to, chosen with probability proportional to ``weight`` (bigger buyers have more
    suppliers). Partnership: each association member has Poisson(``partner_links_per_member``)
    ties to random fellow members. Knowledge: Poisson(``random_links_per_firm``) ties to
    random firms of the region.
    """
    n = len(sector)
    srcs, dsts, kinds = [], [], []

    # supply ------------------------------------------------------------------------
    S = max(len(supplies_to), int(sector.max()) + 1 if n else 0)
    order = np.argsort(sector, kind="stable")
    w_sorted = weight[order]
    cum = np.cumsum(w_sorted)
    bounds = np.searchsorted(sector[order], np.arange(S + 1))
    cum0 = np.concatenate([[0.0], cum])
    sec_lo, sec_hi = cum0[bounds[:-1]], cum0[bounds[1:]]
    n_targets = np.array([len(t) for t in supplies_to] + [0] * (S - len(supplies_to)))
    m = rng.poisson(supply_links_per_firm, size=n) * (n_targets[sector] > 0)
    supplier = np.repeat(np.arange(n), m)
    if len(supplier):
        flat = np.array([x for t in supplies_to for x in t] or [0])
        starts = np.concatenate([[0], np.cumsum(n_targets)[:-1]])
        pick = (rng.random(len(supplier)) * n_targets[sector[supplier]]).astype(np.int64)
        cust_sector = flat[starts[sector[supplier]] + pick]
        lo, hi = sec_lo[cust_sector], sec_hi[cust_sector]
        ok = hi > lo
        u = lo + rng.random(len(supplier)) * (hi - lo)
        pos = np.minimum(np.searchsorted(cum, u, side="right"), n - 1)
        customer = order[pos]
        srcs.append(supplier[ok]); dsts.append(customer[ok]); kinds.append(np.zeros(ok.sum(), np.int8))

    # partnership within cluster associations --------------------------------------
    members = np.flatnonzero(cluster >= 0)
    if len(members) > 1 and partner_links_per_member > 0:
        corder = members[np.argsort(cluster[members], kind="stable")]
        ccl = cluster[corder]
        first = np.searchsorted(ccl, ccl, side="left")
        last = np.searchsorted(ccl, ccl, side="right")
        m = rng.poisson(partner_links_per_member, size=len(corder))
        a = np.repeat(np.arange(len(corder)), m)
        b = first[a] + (rng.random(len(a)) * (last[a] - first[a])).astype(np.int64)
        srcs.append(corder[a]); dsts.append(corder[b]); kinds.append(np.ones(len(a), np.int8))

    # knowledge ties -----------------------------------------------------------------
    if random_links_per_firm > 0 and n > 1:
        m = rng.poisson(random_links_per_firm, size=n)
        a = np.repeat(np.arange(n), m)
        b = rng.integers(0, n, size=len(a))
        srcs.append(a); dsts.append(b); kinds.append(np.full(len(a), 2, np.int8))

    if srcs:
        return from_edges(n, np.concatenate(srcs), np.concatenate(dsts), np.concatenate(kinds))
    return from_edges(n, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int8))


def small_world(rng: np.random.Generator, n: int, k: int, rewire_share: float) -> FirmNetwork:
    """Watts-Strogatz: a ring where each firm is tied to its ``k`` nearest firms, with each
    tie's far end rewired to a random firm with probability ``rewire_share``."""
    half = k // 2
    src = np.repeat(np.arange(n), half)
    dst = (src + np.tile(np.arange(1, half + 1), n)) % n
    rewire = rng.random(len(dst)) < rewire_share
    dst = np.where(rewire, rng.integers(0, n, size=len(dst)), dst)
    return from_edges(n, src, dst, np.full(len(src), EDGE_KINDS.index("knowledge"), np.int8))


def scale_free(rng: np.random.Generator, n: int, m: int) -> FirmNetwork:
    """Barabasi-Albert preferential attachment with ``m`` ties per new firm (NetworkX)."""
    import networkx as nx

    g = nx.barabasi_albert_graph(n, min(m, max(n - 1, 1)), seed=int(rng.integers(0, 2**31 - 1)))
    e = np.array(g.edges(), dtype=np.int64).reshape(-1, 2)
    return from_edges(n, e[:, 0], e[:, 1], np.full(len(e), EDGE_KINDS.index("knowledge"), np.int8))


def empty(n: int) -> FirmNetwork:
    return from_edges(n, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int8))
