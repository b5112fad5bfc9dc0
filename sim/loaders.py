"""Load a user's own cluster: firms from a CSV file and ties from a CSV edge list.

Firms CSV (one row per firm; header names are case-insensitive)::

    firm_id,sector,size_class,electricity_mwh_per_yr,natural_gas_mwh_per_yr,diesel_mwh_per_yr
    F001,auto_parts,medium,2400,1900,120

required columns
    ``firm_id``     unique identifier (any text), used by the edge list
    ``sector``      one of the scenario's sector names (``scenario.sectors``)
    ``size_class``  micro, small, medium or large
    at least one ``<carrier>_mwh_per_yr`` column, carrier one of ``params.CARRIERS``
    (electricity, natural_gas, fuel_oil, diesel, lpg, coal_coke, hydrogen, biomass);
    final energy use in MWh/yr, >= 0; an empty cell or an absent carrier column is 0.
optional columns (drawn or derived as for a synthetic population when absent)
    ``process_t_co2_per_yr``  process CO2 (not from combustion), t/yr, >= 0
                              (absent: the sector's ``process_t_co2_per_mwh`` x energy)
    ``cluster``               name of one of ``scenario.clusters`` or empty (no association)
                              (absent: membership drawn from the clusters' membership_share)
    ``sets_supplier_target``  1/0 or true/false: the firm asks its suppliers to cut emissions
                              (absent: drawn for large firms, ``network.supplier_target_share_of_large``)
    Any other column (a name, a note) is ignored.

Heterogeneity the file does not give - hurdle rate, risk aversion, technical capability,
cash and credit, initial awareness, review month - is drawn from the scenario's
distributions exactly as :func:`sim.firms.generate` draws it, from the model's Generator.

Edges CSV: ``source,target[,kind]`` with firm ids from the firms file; ``kind`` is supply
(source = supplier, target = customer), partnership or knowledge (``network.EDGE_KINDS``);
without a ``kind`` column every tie is knowledge. Self-ties are an error; duplicates are
merged (a pair listed with two kinds keeps the first of supply, partnership, knowledge).

Relative paths resolve against the repository root (not the working directory), so
``scenario.firms_csv=examples/my_cluster/firms.csv`` works from anywhere.

Every problem raises :class:`FileFormatError` (a :class:`sim.params.ConfigError`) whose one
line names the file, the line (the header is line 1) and what is wrong; the command line
prints it and exits with code 2 before any results folder exists.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .params import CARRIERS, SIZE_CLASSES, ConfigError

REPO_DIR = Path(__file__).resolve().parent.parent
ENERGY_SUFFIX = "_mwh_per_yr"
FIRM_REQUIRED = ("firm_id", "sector", "size_class")
EDGE_REQUIRED = ("source", "target")
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}


class FileFormatError(ConfigError):
    """A user data file is malformed. ``str(err)``: ``<key>: <file>, line <n>: <problem>``."""

    def __init__(self, key: str, path, line: int | None, problem: str):
        self.key, self.value, self.allowed = key, str(path), problem
        where = f"{path}, line {line}" if line is not None else f"{path}"
        ValueError.__init__(self, f"{key}: {where}: {problem}")


def resolve_path(p: str) -> Path:
    """A data path from a config: absolute as given (``~`` expanded), relative to the repo root."""
    path = Path(os.path.expanduser(str(p)))
    return path if path.is_absolute() else REPO_DIR / path



def _read_csv(key: str, raw_path: str) -> pd.DataFrame:
    path = resolve_path(raw_path)
    if not path.exists():
        raise FileFormatError(key, raw_path, None, f"file not found (looked for {path})")
    if path.is_dir():
        raise FileFormatError(key, raw_path, None, "is a folder, not a CSV file")
    st = path.stat()
    return _read_csv_cached(str(path), st.st_mtime_ns, st.st_size, key, raw_path).copy()


@lru_cache(maxsize=8)
def _read_csv_cached(path: str, mtime_ns: int, size: int, key: str, raw_path: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise FileFormatError(key, raw_path, None, "file is empty (expected a header line)") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        msg = str(exc).strip().splitlines()[0]
        raise FileFormatError(key, raw_path, None, f"not a readable CSV file ({msg})") from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    return df


def _require_columns(key, raw_path, df, required) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise FileFormatError(key, raw_path, 1, f"missing column {missing[0]!r} (header has: {', '.join(df.columns)})")
    dup = df.columns[df.columns.duplicated()]
    if len(dup):
        raise FileFormatError(key, raw_path, 1, f"column {dup[0]!r} appears twice")


def _first_bad(mask: np.ndarray) -> int | None:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if len(idx) else None


def _line(row: int) -> int:
    return row + 2  # header is line 1


def _numeric(key, raw_path, df, col, ids) -> np.ndarray:
    """Column ``col`` as float: empty cells are 0; text, negative or non-finite values are errors."""
    s = df[col].str.strip()
    vals = pd.to_numeric(s.where(s != "", "0"), errors="coerce").to_numpy(dtype=float)
    bad = _first_bad(~np.isfinite(vals))
    if bad is not None:
        raise FileFormatError(key, raw_path, _line(bad), f"firm {ids[bad]!r}: {col} = {df[col].iloc[bad]!r} is not a number")
    bad = _first_bad(vals < 0)
    if bad is not None:
        raise FileFormatError(key, raw_path, _line(bad), f"firm {ids[bad]!r}: {col} = {df[col].iloc[bad]!r} is negative (must be >= 0)")
    return vals


class ParsedFirms:
    """The content of a firms CSV, checked against a scenario (columns as arrays)."""

    def __init__(self, cfg):
        sc = cfg.scenario
        key, raw = "scenario.firms_csv", sc.firms_csv
        df = _read_csv(key, raw)
        _require_columns(key, raw, df, FIRM_REQUIRED)
        energy_cols = [c for c in df.columns if c.endswith(ENERGY_SUFFIX)]
        for c in energy_cols:
            carrier = c[: -len(ENERGY_SUFFIX)]
            if carrier not in CARRIERS:
                raise FileFormatError(key, raw, 1, f"column {c!r}: unknown carrier {carrier!r}; allowed: {', '.join(CARRIERS)}")
        if not energy_cols:
            raise FileFormatError(key, raw, 1, "missing energy columns: need at least one of "
                                  + ", ".join(c + ENERGY_SUFFIX for c in CARRIERS))
        if len(df) == 0:
            raise FileFormatError(key, raw, None, "has a header but no firms")
        ids = df["firm_id"].str.strip().to_numpy(dtype=object)
        bad = _first_bad(ids == "")
        if bad is not None:
            raise FileFormatError(key, raw, _line(bad), "empty firm_id")
        dup = pd.Series(ids).duplicated().to_numpy()
        bad = _first_bad(dup)
        if bad is not None:
            raise FileFormatError(key, raw, _line(bad), f"firm_id {ids[bad]!r} appears twice")

        names = [s.name for s in sc.sectors]
        sector_raw = df["sector"].str.strip()
        sector = pd.Categorical(sector_raw, categories=names).codes
        bad = _first_bad(sector < 0)
        if bad is not None:
            raise FileFormatError(key, raw, _line(bad), f"firm {ids[bad]!r}: unknown sector {sector_raw.iloc[bad]!r}; "
                                  f"the scenario's sectors are: {', '.join(names)}")
        size_raw = df["size_class"].str.strip().str.lower()
        size = pd.Categorical(size_raw, categories=list(SIZE_CLASSES)).codes
        bad = _first_bad(size < 0)
        if bad is not None:
            raise FileFormatError(key, raw, _line(bad), f"firm {ids[bad]!r}: unknown size_class {df['size_class'].iloc[bad]!r}; "
                                  f"allowed: {', '.join(SIZE_CLASSES)}")
        energy = np.zeros((len(df), len(CARRIERS)))
        for c in energy_cols:
            energy[:, CARRIERS.index(c[: -len(ENERGY_SUFFIX)])] = _numeric(key, raw, df, c, ids)
        self.process = _numeric(key, raw, df, "process_t_co2_per_yr", ids) if "process_t_co2_per_yr" in df.columns else None
        self.cluster = None
        if "cluster" in df.columns:
            cnames = [c.name for c in sc.clusters]
            craw = df["cluster"].str.strip()
            codes = pd.Categorical(craw.where(craw != "", None), categories=cnames).codes
            bad = _first_bad((codes < 0) & (craw != "").to_numpy())
            if bad is not None:
                raise FileFormatError(key, raw, _line(bad), f"firm {ids[bad]!r}: unknown cluster {craw.iloc[bad]!r}; "
                                      f"allowed: {', '.join(cnames) or '(the scenario has no clusters)'} or empty")
            self.cluster = codes.astype(np.int16)
        self.target = None
        if "sets_supplier_target" in df.columns:
            t = df["sets_supplier_target"].str.strip().str.lower()
            ok = t.isin(_TRUE | _FALSE).to_numpy()
            bad = _first_bad(~ok)
            if bad is not None:
                raise FileFormatError(key, raw, _line(bad), f"firm {ids[bad]!r}: sets_supplier_target = "
                                      f"{df['sets_supplier_target'].iloc[bad]!r}; allowed: 1/0, true/false, yes/no or empty")
            self.target = t.isin(_TRUE).to_numpy()
        self.ids = ids
        self.sector = sector.astype(np.int16)
        self.size = size.astype(np.int8)
        self.energy = energy

    @property
    def n(self) -> int:
        return len(self.ids)


class ParsedEdges:
    """The content of an edge-list CSV, with firm ids mapped to rows of the firm table."""

    def __init__(self, cfg, firm_ids: np.ndarray):
        from .network import EDGE_KINDS

        key, raw = "scenario.edges_csv", cfg.scenario.edges_csv
        df = _read_csv(key, raw)
        _require_columns(key, raw, df, EDGE_REQUIRED)
        row_of = pd.Index(firm_ids)
        src_raw, dst_raw = df["source"].str.strip(), df["target"].str.strip()
        src, dst = row_of.get_indexer(src_raw), row_of.get_indexer(dst_raw)
        for name, raw_col, idx in (("source", src_raw, src), ("target", dst_raw, dst)):
            bad = _first_bad(idx < 0)
            if bad is not None:
                what = "empty" if raw_col.iloc[bad] == "" else f"{raw_col.iloc[bad]!r} is not a firm_id in {cfg.scenario.firms_csv}"
                raise FileFormatError(key, raw, _line(bad), f"{name} {what}")
        bad = _first_bad(src == dst)
        if bad is not None:
            raise FileFormatError(key, raw, _line(bad), f"source and target are the same firm ({src_raw.iloc[bad]!r})")
        if "kind" in df.columns:
            kraw = df["kind"].str.strip().str.lower()
            kind = pd.Categorical(kraw, categories=list(EDGE_KINDS)).codes
            bad = _first_bad(kind < 0)
            if bad is not None:
                raise FileFormatError(key, raw, _line(bad), f"unknown kind {df['kind'].iloc[bad]!r}; allowed: {', '.join(EDGE_KINDS)}")
        else:
            kind = np.full(len(df), EDGE_KINDS.index("knowledge"))
        self.src, self.dst, self.kind = src.astype(np.int64), dst.astype(np.int64), kind.astype(np.int8)


def check_files(cfg) -> None:
    """Parse the scenario's firm (and edge) files and raise :class:`FileFormatError` on the
    first problem. Called by :func:`sim.compose.check`."""
    sc = cfg.scenario
    if not sc.firms_csv:
        return
    firms = ParsedFirms(cfg)
    if sc.edges_csv:
        ParsedEdges(cfg, firms.ids)


def load_firm_table(cfg, catalogue, energy, rng: np.random.Generator):
    """The firm table of the scenario's firms CSV; what the file does not give is drawn from
    the scenario's distributions (as :func:`sim.firms.generate`) with ``rng``."""
    from .firms import NEVER, NEVER16, FirmTable, _beta_from_mean

    sc = cfg.scenario
    p = ParsedFirms(cfg)
    n, K = p.n, catalogue.k
    sector, size, energy_mwh = p.sector, p.size, p.energy
    total = energy_mwh.sum(axis=1)
    if p.process is not None:
        process = p.process
    else:
        rate = np.array([s.process_t_co2_per_mwh for s in sc.sectors])
        process = total * rate[sector]

    bill = energy_mwh @ energy.price_usd_per_mwh[0]
    cash = bill * sc.cash_per_energy_cost * np.exp(0.5 * rng.standard_normal(n))
    credit = bill * np.asarray(sc.credit_per_energy_cost, dtype=float)[size]
    f32 = np.float32
    hurdle = (np.asarray(sc.hurdle_rate_median_per_yr)[size] * np.exp(sc.hurdle_rate_sigma_log * rng.standard_normal(n))).astype(f32)
    capability = _beta_from_mean(rng, np.asarray(sc.capability_mean)[size], 6.0).astype(f32)
    risk_aversion = _beta_from_mean(rng, np.full(n, sc.risk_aversion_mean), 4.0).astype(f32)
    applicable = catalogue.applies_to_sector[sector] & (size[:, None] >= catalogue.min_size_class[None, :])
    aware = (rng.random((n, K), dtype=np.float32) < catalogue.initial_awareness_share[None, :].astype(np.float32)) & applicable

    names = [s.name for s in sc.sectors]
    u_member = rng.random(n)
    if p.cluster is not None:
        cluster = p.cluster.copy()
    else:
        cluster = np.full(n, -1, dtype=np.int16)
        for ci, cl in enumerate(sc.clusters):
            in_sectors = np.isin(sector, [names.index(s) for s in cl.sectors if s in names])
            cluster[in_sectors & (cluster < 0) & (u_member < cl.membership_share)] = ci
    reporting = np.full(n, NEVER, dtype=np.int32)
    for ci, cl in enumerate(sc.clusters):
        members = cluster == ci
        if cl.info_collection_rate_per_month > 0 and members.any():
            wait = rng.geometric(cl.info_collection_rate_per_month, size=int(members.sum())) - 1
            reporting[members] = np.minimum(wait, NEVER - 1).astype(np.int32)
    if p.target is not None:
        target = p.target
    else:
        large = SIZE_CLASSES.index("large")
        target = (size == large) & (rng.random(n) < sc.network.supplier_target_share_of_large)
    interval = cfg.behaviour.review_interval_months
    phase = (np.arange(n) % interval).astype(np.int16)

    ft = FirmTable(
        sector=sector, size_class=size, cluster=cluster, energy_mwh_per_yr=energy_mwh,
        process_t_co2_per_yr=process.astype(float), capture_share=np.zeros(n), cash_usd_per_yr=cash,
        credit_usd=credit, hurdle_rate_per_yr=hurdle, risk_aversion=risk_aversion, capability=capability,
        aware=aware, adopted=np.zeros((n, K), dtype=bool), adopted_month=np.full((n, K), NEVER16, dtype=np.int16),
        applicable=applicable, last_review_month=(phase.astype(np.int32) - interval),
        hidden_cost_relief=np.zeros(n, dtype=np.float32), risk_relief=np.zeros(n, dtype=np.float32),
        reporting_from_month=reporting, sets_supplier_target=target,
    )
    ft.firm_id = p.ids  # the user's identifiers, row by row (not a dataclass field)
    return ft


def load_network(cfg, n: int):
    """The firm network of the scenario's edge-list CSV (rows in the order of the firms CSV)."""
    from .network import from_edges

    firms = ParsedFirms(cfg)
    if firms.n != n:
        raise FileFormatError("scenario.edges_csv", cfg.scenario.edges_csv, None,
                              f"the firm table has {n} firms but {cfg.scenario.firms_csv} has {firms.n}")
    e = ParsedEdges(cfg, firms.ids)
    # a pair listed twice keeps one tie: supply first (it carries customer pressure), then
    # partnership, then knowledge
    order = np.argsort(e.kind, kind="stable")
    return from_edges(n, e.src[order], e.dst[order], e.kind[order])
