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

Reading (both files)
    encoding  UTF-8 with or without a byte-order mark, else Windows-1252 / Latin-1 (what
              Excel saves as "CSV (delimitado por comas)"): accents are kept either way. A file
              that mixes the two, or has bytes that are neither, is refused naming its line.
    header    the first non-blank line; each name once (two columns whose names match by the
              rule below are refused, naming both positions); an unnamed column is ignored.
    rows      blank lines and lines of empty cells are skipped; a short row's missing trailing
              cells are empty; a non-empty cell beyond the header is an error.
    names     ONE rule (:func:`name_key`) for headers, sector, size_class, cluster, kind and
              yes/no cells: case, surrounding spaces and space-vs-underscore are ignored
              (``" Auto Parts "`` is ``auto_parts``). Firm ids are identifiers: matched exactly
              (surrounding spaces dropped).
    numbers   finite, >= 0 and at most :data:`MAX_ENERGY_MWH_PER_YR` per carrier
              (:data:`MAX_PROCESS_T_CO2_PER_YR` for process CO2).
    all zero  a file in which every firm uses 0 MWh/yr of everything loads, with one warning
              line on stderr (the run continues: emissions can still come from process CO2).

Every problem raises :class:`FileFormatError` (a :class:`sim.params.ConfigError`) whose one
line is ``<key>: <file>:<line>: <column>: <value>: <what is allowed>`` (the header is line
1); the command line prints it and exits with code 2 before any results folder exists.
"""
from __future__ import annotations

import csv
import io
import os
import re
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import reviews
from .params import CARRIERS, SIZE_CLASSES, ConfigError

REPO_DIR = Path(__file__).resolve().parent.parent
ENERGY_SUFFIX = "_mwh_per_yr"
FIRM_REQUIRED = ("firm_id", "sector", "size_class")
EDGE_REQUIRED = ("source", "target")
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}

#: Plausibility bound on one firm's use of one carrier, MWh/yr. The largest industrial sites
#: use ~1e7-1e8 MWh/yr: a 1 Mt/yr aluminium smelter ~1.4e7 MWh of electricity (~14 MWh/t,
#: International Aluminium Institute); an integrated steel works of ~20 Mt/yr (POSCO
#: Gwangyang) ~1e8 MWh at ~20 GJ/t (worldsteel energy-intensity indicator). Ten times that is
#: no firm; it is a typo, a unit mix-up or an overflow (1e308 gives Infinity emissions).
MAX_ENERGY_MWH_PER_YR = 1e9
#: Plausibility bound on one firm's process CO2, t/yr: the largest single industrial
#: emitters (integrated steel works, ~20-40 Mt CO2/yr in all) are well below it.
MAX_PROCESS_T_CO2_PER_YR = 1e8
_NO_VALUE = object()


class FileFormatError(ConfigError):
    """A user data file is malformed. ``str(err)``:
    ``<key>: <file>[:<line>][: <column>][: <value>]: <what is allowed>``."""

    def __init__(self, key: str, path, line: int | None, problem: str, column: str | None = None, value=_NO_VALUE):
        self.key, self.value, self.allowed = key, str(path), problem
        self.path, self.line, self.column = str(path), line, column
        self.cell = None if value is _NO_VALUE else value
        parts = [key, f"{path}:{line}" if line is not None else f"{path}"]
        if column is not None:
            parts.append(str(column))
        if value is not _NO_VALUE:
            parts.append(repr(value))
        parts.append(problem)
        ValueError.__init__(self, " ".join(": ".join(parts).splitlines()))  # one line, whatever the file holds


def name_key(text: str) -> str:
    """THE rule matching a name written in a user's file to a name the model knows (column
    headers, sector, size_class, cluster, edge kind, yes/no): Unicode NFC, case-folded,
    surrounding spaces dropped, each run of spaces and underscores one underscore.
    ``name_key(" Auto  Parts ") == name_key("auto_parts") == "auto_parts"``."""
    return re.sub(r"[\s_]+", "_", unicodedata.normalize("NFC", str(text)).strip()).casefold()


def resolve_path(p: str) -> Path:
    """A data path from a config: absolute as given (``~`` expanded), relative to the repo root."""
    path = Path(os.path.expanduser(str(p)))
    return path if path.is_absolute() else REPO_DIR / path


class _Table:
    """A CSV file read as text: ``df`` (columns named by :func:`name_key`, cells as text)
    and the line each row starts on (``line(row)``)."""

    def __init__(self, df: pd.DataFrame, lines: np.ndarray, header_line: int, ident: tuple):
        self.df, self.lines, self.header_line, self.ident = df, lines, header_line, ident

    def line(self, row: int) -> int:
        return int(self.lines[row])

    @property
    def columns(self) -> list[str]:
        return list(self.df.columns)


def _read_csv(key: str, raw_path: str) -> _Table:
    path = resolve_path(raw_path)
    if not path.exists():
        raise FileFormatError(key, raw_path, None, f"file not found (looked for {path})")
    if path.is_dir():
        raise FileFormatError(key, raw_path, None, "is a folder, not a CSV file")
    st = path.stat()
    t = _read_csv_cached(str(path), st.st_mtime_ns, st.st_size, key, raw_path)
    return _Table(t.df.copy(), t.lines, t.header_line, t.ident)


_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_SAVE_AS = "allowed: text saved as 'CSV UTF-8' or 'CSV (comma delimited)' (Windows-1252/Latin-1)"


def _line_of(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def _decode(key: str, raw_path: str, data: bytes) -> str:
    """The file's text: UTF-8 (with or without BOM), else Windows-1252 (a superset of
    Latin-1's printable characters); anything else is refused naming the line."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileFormatError(key, raw_path, 1, _SAVE_AS, "encoding", "UTF-16 ('Unicode text')")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise FileFormatError(key, raw_path, _line_of(data, nul), "a NUL byte: not a text file (a workbook such as .xlsx?); "
                              + _SAVE_AS, "encoding")
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        return data[3:].decode("utf-8") if bom else data.decode("utf-8")
    except UnicodeDecodeError as exc:
        pos = exc.start + (3 if bom else 0)
    byte = f"byte 0x{data[pos]:02x}"
    if bom or _UTF8_MULTIBYTE.search(data):  # UTF-8 elsewhere: decoding all as cp1252 would garble it
        raise FileFormatError(key, raw_path, _line_of(data, pos), "not UTF-8 though the rest of the file is UTF-8 "
                              "(mixed encodings: save the file again); " + _SAVE_AS, "encoding", byte)
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise FileFormatError(key, raw_path, _line_of(data, exc.start), "neither UTF-8 nor Windows-1252/Latin-1; "
                              + _SAVE_AS, "encoding", f"byte 0x{data[exc.start]:02x}") from None


def _col_name(j: int) -> str:
    """Column ``j`` (0-based) as a person counts it: ``4 (D)``."""
    letters, n = "", j + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return f"{j + 1} ({letters})"


@lru_cache(maxsize=8)
def _read_csv_cached(path: str, mtime_ns: int, size: int, key: str, raw_path: str) -> _Table:
    text = _decode(key, raw_path, Path(path).read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True, strict=True)
    header, hline, rows, lines, prev = None, None, [], [], 0
    try:
        for rec in reader:
            start, prev = prev + 1, reader.line_num
            if not any(c.strip() for c in rec):
                continue  # a blank line, or a spreadsheet's row of empty cells
            if header is None:
                header, hline = rec, start
            else:
                rows.append(rec)
                lines.append(start)
    except csv.Error as exc:
        raise FileFormatError(key, raw_path, prev + 1, f"not readable as CSV ({exc}); allowed: a cell in quotes "
                              "ends with a quote followed by a comma or the end of the line") from None
    if header is None:
        raise FileFormatError(key, raw_path, None, "file is empty (expected a header line)")
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        sep = "';'" if ";" in header[0] else "a tab"
        raise FileFormatError(key, raw_path, hline, f"one cell: the file separates cells with {sep}; allowed: "
                              "commas (save as 'CSV UTF-8' or 'CSV (comma delimited)' with '.' as the decimal mark)",
                              "header", header[0][:60])
    names = [name_key(h) for h in header]
    seen: dict[str, int] = {}
    for j, n in enumerate(names):
        if not n:
            continue  # an unnamed column is ignored, like any column the loader does not read
        if n in seen:
            i = seen[n]
            raise FileFormatError(key, raw_path, hline, f"appears twice: column {_col_name(i)} {header[i].strip()!r} and "
                                  f"column {_col_name(j)} {header[j].strip()!r} (names match ignoring case and spaces); "
                                  "allowed: each column once", n)
        seen[n] = j
    width = len(header)
    for rec, line in zip(rows, lines):
        extra = next((j for j in range(width, len(rec)) if rec[j].strip()), None)
        if extra is not None:
            raise FileFormatError(key, raw_path, line, f"a cell beyond the header's {width} columns; allowed: at most "
                                  f"{width} cells (a comma inside a value needs quotes)", f"column {_col_name(extra)}", rec[extra])
    cols = {n: [r[j] if j < len(r) else "" for r in rows] for n, j in seen.items()}
    df = pd.DataFrame(cols, columns=list(seen), dtype=object)
    return _Table(df, np.asarray(lines, dtype=np.int64), hline, (path, mtime_ns, size))


def _require_columns(key, raw_path, t: _Table, required) -> None:
    missing = [c for c in required if c not in t.df.columns]
    if missing:
        raise FileFormatError(key, raw_path, t.header_line, f"missing column; the header has: {', '.join(t.columns)} "
                              f"(required: {', '.join(required)})", missing[0])


def _first_bad(mask: np.ndarray) -> int | None:
    idx = np.flatnonzero(mask)
    return int(idx[0]) if len(idx) else None


def _match(key, raw_path, t: _Table, col: str, names: list[str], what: str, empty_ok: bool = False) -> np.ndarray:
    """Codes of column ``col`` in ``names`` by :func:`name_key` (-1 for an empty cell if
    ``empty_ok``); the first cell matching none is an error."""
    keys = [name_key(n) for n in names]
    if len(set(keys)) < len(keys):
        dup = next(n for n in names if keys.count(name_key(n)) > 1)
        raise ConfigError(what, names, f"names must differ by more than case and spaces ({dup!r}) to be matched in {raw_path}")
    cells = t.df[col]
    codes_u, uniques = pd.factorize(cells, sort=False)
    lookup = {k: i for i, k in enumerate(keys)}
    mapped = np.array([lookup.get(name_key(u), -1 if (empty_ok and name_key(u) == "") else -2) for u in uniques], dtype=np.int64)
    codes = mapped[codes_u] if len(cells) else np.zeros(0, dtype=np.int64)
    bad = _first_bad(codes == -2)
    if bad is not None:
        allowed = ", ".join(names) or "(none)"
        raise FileFormatError(key, raw_path, t.line(bad), f"unknown; allowed: {allowed}"
                              f"{' or empty' if empty_ok else ''} (case and spaces ignored)", col, cells.iloc[bad])
    return codes


def _numeric(key, raw_path, t: _Table, col: str, unit: str, hi: float) -> np.ndarray:
    """Column ``col`` as float: empty cells are 0; text, non-finite, negative or implausibly
    large (> ``hi``) values are errors."""
    s = t.df[col].str.strip()
    vals = pd.to_numeric(s.where(s != "", "0"), errors="coerce").to_numpy(dtype=float)
    top = f"{hi:.0e}".replace("e+0", "e").replace("e+", "e")
    allowed = f"allowed: a number of {unit} from 0 to {top} or empty (= 0)"
    bad = _first_bad(~np.isfinite(vals))
    if bad is not None:
        try:
            float(s.iloc[bad])
            what = "not finite"
        except ValueError:
            what = "not a number"
        raise FileFormatError(key, raw_path, t.line(bad), f"{what}; {allowed}", col, t.df[col].iloc[bad])
    bad = _first_bad(vals < 0)
    if bad is not None:
        raise FileFormatError(key, raw_path, t.line(bad), f"negative; {allowed}", col, t.df[col].iloc[bad])
    bad = _first_bad(vals > hi)
    if bad is not None:
        raise FileFormatError(key, raw_path, t.line(bad), f"implausibly large (above {top} {unit}, beyond the largest "
                              f"industrial sites: a typo or a unit mix-up?); {allowed}", col, t.df[col].iloc[bad])
    return vals


_WARNED: set = set()


def _warn_once(ident: tuple, line: str) -> None:
    """Print ``warning: <line>`` on stderr once per process and file version."""
    if ident not in _WARNED:
        _WARNED.add(ident)
        print(f"warning: {line}", file=sys.stderr)


class ParsedFirms:
    """The content of a firms CSV, checked against a scenario (columns as arrays)."""

    def __init__(self, cfg):
        sc = cfg.scenario
        key, raw = "scenario.firms_csv", sc.firms_csv
        t = _read_csv(key, raw)
        df = t.df
        _require_columns(key, raw, t, FIRM_REQUIRED)
        energy_cols = [c for c in df.columns if c.endswith(ENERGY_SUFFIX)]
        for c in energy_cols:
            carrier = c[: -len(ENERGY_SUFFIX)]
            if carrier not in CARRIERS:
                raise FileFormatError(key, raw, t.header_line, f"unknown carrier {carrier!r}; allowed: "
                                      + ", ".join(x + ENERGY_SUFFIX for x in CARRIERS), c)
        if not energy_cols:
            raise FileFormatError(key, raw, t.header_line, "missing energy columns: need at least one of "
                                  + ", ".join(c + ENERGY_SUFFIX for c in CARRIERS))
        if len(df) == 0:
            raise FileFormatError(key, raw, None, "has a header but no firms")
        ids = df["firm_id"].str.strip().to_numpy(dtype=object)
        bad = _first_bad(ids == "")
        if bad is not None:
            raise FileFormatError(key, raw, t.line(bad), "empty; allowed: a unique identifier", "firm_id", df["firm_id"].iloc[bad])
        dup = pd.Series(ids).duplicated().to_numpy()
        bad = _first_bad(dup)
        if bad is not None:
            first = int(np.flatnonzero(ids == ids[bad])[0])
            raise FileFormatError(key, raw, t.line(bad), f"already on line {t.line(first)}; allowed: each firm_id once",
                                  "firm_id", ids[bad])

        sector = _match(key, raw, t, "sector", [s.name for s in sc.sectors], "scenario.sectors")
        size = _match(key, raw, t, "size_class", list(SIZE_CLASSES), "size_class")
        energy = np.zeros((len(df), len(CARRIERS)))
        for c in energy_cols:
            energy[:, CARRIERS.index(c[: -len(ENERGY_SUFFIX)])] = _numeric(key, raw, t, c, "MWh/yr", MAX_ENERGY_MWH_PER_YR)
        self.process = (_numeric(key, raw, t, "process_t_co2_per_yr", "t CO2/yr", MAX_PROCESS_T_CO2_PER_YR)
                        if "process_t_co2_per_yr" in df.columns else None)
        self.cluster = None
        if "cluster" in df.columns:
            codes = _match(key, raw, t, "cluster", [c.name for c in sc.clusters], "scenario.clusters", empty_ok=True)
            self.cluster = codes.astype(np.int16)
        self.target = None
        if "sets_supplier_target" in df.columns:
            tk = df["sets_supplier_target"].map(name_key)
            bad = _first_bad(~tk.isin(_TRUE | _FALSE).to_numpy())
            if bad is not None:
                raise FileFormatError(key, raw, t.line(bad), "allowed: 1/0, true/false, yes/no or empty",
                                      "sets_supplier_target", df["sets_supplier_target"].iloc[bad])
            self.target = tk.isin(_TRUE).to_numpy()
        if not energy.any():
            _warn_once(t.ident, f"{key}: {raw}: every firm uses 0 MWh/yr of every carrier: no energy to save "
                       "or emit (the run continues)")
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
        t = _read_csv(key, raw)
        df = t.df
        _require_columns(key, raw, t, EDGE_REQUIRED)
        row_of = pd.Index(firm_ids)
        src_raw, dst_raw = df["source"].str.strip(), df["target"].str.strip()
        src, dst = row_of.get_indexer(src_raw), row_of.get_indexer(dst_raw)
        firms_file = cfg.scenario.firms_csv
        for name, raw_col, idx in (("source", src_raw, src), ("target", dst_raw, dst)):
            bad = _first_bad(idx < 0)
            if bad is not None:
                v = raw_col.iloc[bad]
                if v == "":
                    problem = f"empty; allowed: a firm_id of {firms_file}"
                else:
                    near = next((f for f in firm_ids if name_key(f) == name_key(v)), None)
                    hint = f" (ids match exactly: {near!r} is)" if near is not None else ""
                    problem = f"not a firm_id; allowed: a firm_id of {firms_file}{hint}"
                raise FileFormatError(key, raw, t.line(bad), problem, name, v)
        bad = _first_bad(src == dst)
        if bad is not None:
            raise FileFormatError(key, raw, t.line(bad), "the same firm as source; allowed: a tie between two different firms",
                                  "target", dst_raw.iloc[bad])
        if "kind" in df.columns:
            kind = _match(key, raw, t, "kind", list(EDGE_KINDS), "kind")
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
    phase = reviews.phase(n, interval)

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
