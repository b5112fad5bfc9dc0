"""A user's own cluster from CSV files: round trip, and one clear line + exit 2 for every
malformed file."""
from __future__ import annotations

import copy
import csv
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from sim import loaders
from sim.energy import EnergyPaths
from sim.measures import Catalogue
from sim.network import EDGE_KINDS
from sim.compose import check
from sim.params import CARRIERS, SIZE_CLASSES, ConfigError, to_config
from sim.run import compose

REPO = Path(__file__).resolve().parent.parent
FIRMS = REPO / "examples" / "my_cluster" / "firms.csv"
EDGES = REPO / "examples" / "my_cluster" / "edges.csv"


@lru_cache(maxsize=1)
def _base():
    return to_config(compose(["scenario=example_csv", "end_year=2027"]))


def _cfg(*overrides):
    """The example scenario with ``scenario.<key>=<value>`` overrides (composed once)."""
    cfg = copy.deepcopy(_base())
    for o in overrides:
        key, value = o.split("=", 1)
        setattr(cfg.scenario, key.removeprefix("scenario."), value)
    return cfg


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.reader(fh))


def _write(path, rows):
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return str(path)


def test_example_round_trip():
    cfg = check(_cfg())
    sector_names = [s.name for s in cfg.scenario.sectors]
    cat = Catalogue.from_config(cfg.measures, sector_names)
    energy = EnergyPaths.from_scenario(cfg.scenario, cfg.start_year, cfg.end_year)
    ft = loaders.load_firm_table(cfg, cat, energy, np.random.default_rng(0))
    rows = _rows(FIRMS)
    header, body = rows[0], rows[1:]
    assert ft.n == len(body) == 40
    assert list(ft.firm_id) == [r[0] for r in body]
    assert [sector_names[s] for s in ft.sector] == [r[header.index("sector")] for r in body]
    assert [SIZE_CLASSES[s] for s in ft.size_class] == [r[header.index("size_class")] for r in body]
    for col in header:
        if col.endswith("_mwh_per_yr"):
            c = CARRIERS.index(col[: -len("_mwh_per_yr")])
            np.testing.assert_allclose(ft.energy_mwh_per_yr[:, c], [float(r[header.index(col)]) for r in body])
    in_cluster = np.array([r[header.index("cluster")] != "" for r in body])
    assert np.array_equal(ft.cluster >= 0, in_cluster)
    # heterogeneity the file does not give is drawn from the scenario's distributions
    assert ft.hurdle_rate_per_yr.std() > 0 and ft.capability.std() > 0
    large = ft.size_class == SIZE_CLASSES.index("large")
    micro = ft.size_class == SIZE_CLASSES.index("micro")
    assert np.median(ft.hurdle_rate_per_yr[large]) < np.median(ft.hurdle_rate_per_yr[micro])
    # same seed -> same draws
    ft2 = loaders.load_firm_table(cfg, cat, energy, np.random.default_rng(0))
    assert np.array_equal(ft.hurdle_rate_per_yr, ft2.hurdle_rate_per_yr)

    net = loaders.load_network(cfg, ft.n)
    ids = {fid: i for i, fid in enumerate(ft.firm_id)}
    erows = _rows(EDGES)[1:]
    expected = {(ids[s], ids[t], EDGE_KINDS.index(k)) for s, t, k in erows}
    got = set(zip(net.src.tolist(), net.dst.tolist(), net.kind.tolist()))
    assert got == expected
    # supply ties point supplier -> customer: the customer matrix has them in that direction
    s, t = next((ids[s], ids[t]) for s, t, k in erows if k == "supply")
    cust = net.customers.to_scipy()
    assert cust[s, t] == 1 and cust[t, s] == 0


def test_model_runs_on_the_example_and_uses_its_firms():
    from sim.run import run_model

    res = run_model(_cfg())
    assert res.summary["n_firms"] == 40
    assert res.summary["emissions_t_co2_by_year"][2025] > 0
    assert set(res.firms["year"]) == {2025, 2026, 2027}


def test_relative_paths_resolve_against_repo_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert loaders.resolve_path("examples/my_cluster/firms.csv") == FIRMS
    assert loaders.resolve_path(str(FIRMS)) == FIRMS
    check(_cfg())  # would fail with "file not found" if resolved against the cwd


def test_pair_listed_twice_keeps_the_supply_tie(tmp_path):
    ids = [r[0] for r in _rows(FIRMS)[1:]]
    e = _write(tmp_path / "e.csv", [["source", "target", "kind"], [ids[3], ids[0], "knowledge"], [ids[3], ids[0], "supply"]])
    cfg = check(_cfg(f"scenario.edges_csv={e}"))
    net = loaders.load_network(cfg, len(ids))
    assert net.kind.tolist() == [EDGE_KINDS.index("supply")] and net.customers.to_scipy()[3, 0] == 1


def test_missing_kind_column_means_knowledge_ties(tmp_path):
    ids = [r[0] for r in _rows(FIRMS)[1:]]
    e = _write(tmp_path / "e.csv", [["source", "target"], [ids[0], ids[1]], [ids[2], ids[3]]])
    cfg = check(_cfg(f"scenario.edges_csv={e}"))
    net = loaders.load_network(cfg, len(ids))
    assert (net.kind == EDGE_KINDS.index("knowledge")).all() and len(net.src) == 2


def _bad_firms(tmp_path, edit):
    rows = [list(r) for r in _rows(FIRMS)]
    edit(rows)
    return _write(tmp_path / "firms.csv", rows)


def _bad_edges(tmp_path, edit):
    rows = [list(r) for r in _rows(EDGES)]
    edit(rows)
    return _write(tmp_path / "edges.csv", rows)


def _set(rows, line, col, value):
    rows[line - 1][rows[0].index(col)] = value


def _raw_firms(tmp_path, data: bytes):
    p = tmp_path / "firms.csv"
    p.write_bytes(data)
    return str(p)


def _firms_text() -> str:
    return FIRMS.read_text(encoding="utf-8")


def _with_name_column(text: str, line: int, name: str) -> str:
    """The example firms text with a ``name`` column (ignored by the loader) holding ``name``
    on line ``line`` (1 = header) and ``-`` elsewhere."""
    out = []
    for i, l in enumerate(text.splitlines(), start=1):
        out.append(l + "," + ("name" if i == 1 else name if i == line else "-"))
    return "\n".join(out) + "\n"


def _dup_header(r, col, as_written):
    r[0].append(as_written)
    for row in r[1:]:
        row.append(row[r[0].index(col)])


def _add_col(r, col, value_at_line, line, default=""):
    r[0].append(col)
    for i, row in enumerate(r[1:], start=2):
        row.append(value_at_line if i == line else default)


# (label, which file, how to break it (rows -> None, or tmp_path -> bytes), line, column, value,
#  words the message must contain). Every message is `<key>: <file>:<line>: <column>: <value>: <allowed>`.
CASES = [
    ("missing column", "firms", lambda r: [x.pop(2 - 1) for x in r], 1, "sector", None, ["missing column", "the header has: firm_id, size_class"]),
    ("unknown sector", "firms", lambda r: _set(r, 5, "sector", "bakery"), 5, "sector", "bakery", ["unknown", "auto_parts", "case and spaces ignored"]),
    ("unknown size", "firms", lambda r: _set(r, 7, "size_class", "huge"), 7, "size_class", "huge", ["unknown", "micro, small, medium, large"]),
    ("unknown cluster", "firms", lambda r: _set(r, 8, "cluster", "moon_base"), 8, "cluster", "moon_base", ["unknown", "or empty"]),
    ("negative energy", "firms", lambda r: _set(r, 9, "natural_gas_mwh_per_yr", "-12"), 9, "natural_gas_mwh_per_yr", "-12", ["negative", "from 0 to 1e9"]),
    ("non-numeric energy", "firms", lambda r: _set(r, 3, "electricity_mwh_per_yr", "lots"), 3, "electricity_mwh_per_yr", "lots", ["not a number"]),
    ("thousands separator", "firms", lambda r: _set(r, 3, "electricity_mwh_per_yr", "2,400"), 3, "electricity_mwh_per_yr", "2,400", ["not a number"]),
    ("energy 1e308", "firms", lambda r: _set(r, 6, "electricity_mwh_per_yr", "1e308"), 6, "electricity_mwh_per_yr", "1e308", ["implausibly large", "MWh/yr from 0 to 1e9"]),
    ("energy 2e9 (kWh?)", "firms", lambda r: _set(r, 6, "diesel_mwh_per_yr", "2e9"), 6, "diesel_mwh_per_yr", "2e9", ["implausibly large", "unit mix-up"]),
    ("energy inf", "firms", lambda r: _set(r, 4, "lpg_mwh_per_yr", "inf"), 4, "lpg_mwh_per_yr", "inf", ["not finite"]),
    ("energy nan", "firms", lambda r: _set(r, 4, "lpg_mwh_per_yr", "NaN"), 4, "lpg_mwh_per_yr", "NaN", ["not finite"]),
    ("energy 1e400 overflows", "firms", lambda r: _set(r, 4, "lpg_mwh_per_yr", "1e400"), 4, "lpg_mwh_per_yr", "1e400", ["not finite"]),
    ("process CO2 too large", "firms", lambda r: _add_col(r, "process_t_co2_per_yr", "5e8", 10, "0"), 10, "process_t_co2_per_yr", "5e8", ["implausibly large", "t CO2/yr from 0 to 1e8"]),
    ("empty id", "firms", lambda r: _set(r, 4, "firm_id", ""), 4, "firm_id", "", ["empty"]),
    ("duplicate id", "firms", lambda r: _set(r, 4, "firm_id", r[1][0]), 4, "firm_id", "F001", ["already on line 2", "each firm_id once"]),
    ("unknown carrier", "firms", lambda r: r[0].__setitem__(r[0].index("lpg_mwh_per_yr"), "petrol_mwh_per_yr"), 1, "petrol_mwh_per_yr", None, ["unknown carrier 'petrol'"]),
    ("bad yes/no", "firms", lambda r: _add_col(r, "sets_supplier_target", "maybe", 12), 12, "sets_supplier_target", "maybe", ["1/0, true/false"]),
    ("duplicate header", "firms", lambda r: _dup_header(r, "electricity_mwh_per_yr", "electricity_mwh_per_yr"), 1, "electricity_mwh_per_yr", None,
     ["appears twice", "column 4 (D)", "column 10 (J)", "each column once"]),
    ("duplicate header by case and spaces", "firms", lambda r: _dup_header(r, "sector", " Sector "), 1, "sector", None,
     ["appears twice", "column 2 (B) 'sector'", "column 10 (J) 'Sector'"]),
    ("cell beyond the header", "firms", lambda r: r[6].append("oops"), 7, "column 10 (J)", "oops", ["beyond the header's 9 columns"]),
    ("edge to missing firm", "edges", lambda r: r[5].__setitem__(1, "F999"), 6, "target", "F999", ["not a firm_id; allowed: a firm_id of examples/my_cluster/firms.csv"]),
    ("edge id differs in case", "edges", lambda r: r[5].__setitem__(1, "f002"), 6, "target", "f002", ["ids match exactly: 'F002' is"]),
    ("empty source", "edges", lambda r: r[3].__setitem__(0, ""), 4, "source", "", ["empty"]),
    ("unknown edge kind", "edges", lambda r: r[2].__setitem__(2, "friendship"), 3, "kind", "friendship", ["unknown", "supply"]),
    ("self tie", "edges", lambda r: r[4].__setitem__(1, r[4][0]), 5, "target", "F003", ["same firm"]),
    ("duplicate edge header", "edges", lambda r: [x.append(x[1]) for x in r] and r[0].__setitem__(3, "TARGET"), 1, "target", None, ["appears twice"]),
    # encodings and bytes (the file as bytes)
    ("not UTF-8 nor cp1252", "bytes", lambda tp: _firms_text().replace("F007,", "F\x81,").encode("latin-1"), 8, "encoding", "byte 0x81",
     ["neither UTF-8 nor Windows-1252"]),
    ("mixed encodings", "bytes", lambda tp: _with_name_column(_firms_text(), 3, "Café").encode("utf-8").replace(b"F009,", b"F\xe909,"), 10, "encoding", "byte 0xe9", ["mixed encodings"]),
    ("BOM then Latin-1", "bytes", lambda tp: b"\xef\xbb\xbf" + _with_name_column(_firms_text(), 5, "Peña").encode("latin-1"), 5, "encoding", "byte 0xf1",
     ["not UTF-8"]),
    ("UTF-16", "bytes", lambda tp: _firms_text().encode("utf-16"), 1, "encoding", "UTF-16 ('Unicode text')", ["CSV UTF-8"]),
    ("NUL byte (a workbook?)", "bytes", lambda tp: b"PK\x03\x04\n\x00\x00", 2, "encoding", None, ["NUL byte", ".xlsx"]),
    ("semicolons", "bytes", lambda tp: _firms_text().replace(",", ";").encode(), 1, "header", None, ["separates cells with ';'"]),
    ("open quote", "bytes", lambda tp: _firms_text().replace("F011,", '"F011,').encode(), 12, None, None, ["not readable as CSV"]),
    ("error line counts blank lines", "bytes", lambda tp: _firms_text().replace("\nF003,", "\n\n,,,,,,,,\nF003,").replace("F005,auto_parts", "F005,bakery").encode(),
     8, "sector", "bakery", ["unknown"]),
]


@pytest.mark.parametrize("label,which,edit,line,column,value,words", CASES, ids=[c[0] for c in CASES])
def test_malformed_files_raise_one_line_naming_file_line_column_value(tmp_path, label, which, edit, line, column, value, words):
    if which == "bytes":
        path, which = _raw_firms(tmp_path, edit(tmp_path)), "firms"
    else:
        path = _bad_firms(tmp_path, edit) if which == "firms" else _bad_edges(tmp_path, edit)
    key = f"scenario.{which}_csv"
    with pytest.raises(ConfigError) as err:
        check(_cfg(f"{key}={path}"))
    msg = str(err.value)
    assert "\n" not in msg and "\r" not in msg
    head = f"{key}: {path}:{line}: " + (f"{column}: " if column is not None else "") + (f"{value!r}: " if value is not None else "")
    assert msg.startswith(head), msg
    for w in words:
        assert w in msg, msg


def _spelled_loosely(r):
    """Every name written another way the one rule accepts: case, spaces, space for underscore."""
    r[0] = [{"firm_id": " Firm ID ", "sector": "SECTOR", "electricity_mwh_per_yr": "Electricity MWh per yr"}.get(c, c) for c in r[0]]
    for row in r[1:]:
        row[1] = " " + row[1].replace("_", " ").title() + " "
        row[2] = row[2].upper() + "  "
        if row[-1]:
            row[-1] = row[-1].replace("_", " ").upper()


def test_names_match_ignoring_case_and_spaces_with_one_rule(tmp_path):
    assert loaders.name_key(" Textiles ") == loaders.name_key("textiles") == "textiles"
    assert loaders.name_key(" Auto  Parts ") == loaders.name_key("AUTO_PARTS") == "auto_parts"
    ref = loaders.ParsedFirms(check(_cfg()))
    f = _bad_firms(tmp_path, _spelled_loosely)
    e = _bad_edges(tmp_path, lambda r: [row.__setitem__(2, f" {row[2].upper()} ") for row in r[1:]])
    cfg = check(_cfg(f"scenario.firms_csv={f}", f"scenario.edges_csv={e}"))
    got = loaders.ParsedFirms(cfg)
    for a in ("ids", "sector", "size", "energy", "cluster"):
        assert np.array_equal(getattr(got, a), getattr(ref, a)), a
    assert np.array_equal(loaders.ParsedEdges(cfg, got.ids).kind, loaders.ParsedEdges(check(_cfg()), ref.ids).kind)


@pytest.mark.parametrize("encoding,bom", [("utf-8", False), ("utf-8", True), ("cp1252", False), ("latin-1", False)])
def test_encodings_load_with_accents_preserved(tmp_path, encoding, bom):
    names = "Café Águila ñandú ’"[: None if encoding == "cp1252" else -2]  # ’ (0x92) exists in cp1252 only
    text = _with_name_column(_firms_text(), 5, names)
    p = _raw_firms(tmp_path, (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    cfg = check(_cfg(f"scenario.firms_csv={p}"))
    assert loaders.ParsedFirms(cfg).n == 40
    t = loaders._read_csv("scenario.firms_csv", p)
    assert t.df["name"].iloc[3] == names and t.columns[0] == "firm_id"


def test_blank_lines_and_empty_rows_are_skipped(tmp_path):
    text = _firms_text().replace("\nF003,", "\n\n,,,,,,,,\nF003,") + ",,,,,,,,\n\n"
    cfg = check(_cfg(f"scenario.firms_csv={_raw_firms(tmp_path, text.encode())}"))
    assert loaders.ParsedFirms(cfg).n == 40


def test_all_zero_population_warns_once_on_one_line_and_loads(tmp_path, capsys):
    def zero(r):
        for row in r[1:]:
            for j, c in enumerate(r[0]):
                if c.endswith("_mwh_per_yr"):
                    row[j] = "0"
    cfg = check(_cfg(f"scenario.firms_csv={_bad_firms(tmp_path, zero)}", "scenario.edges_csv="))
    assert loaders.ParsedFirms(cfg).n == 40  # parsed a second time: still one warning
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("warning: scenario.firms_csv: ") and "every firm uses 0 MWh/yr" in err[0], err


def test_missing_file_and_edges_without_firms():
    with pytest.raises(ConfigError, match=r"scenario.firms_csv: nowhere/firms.csv: file not found"):
        check(_cfg("scenario.firms_csv=nowhere/firms.csv"))
    with pytest.raises(ConfigError, match="needs scenario.firms_csv"):
        check(_cfg("scenario.firms_csv=", f"scenario.edges_csv={EDGES}"))


def _cli(tmp_path, *overrides):
    out = tmp_path / "run_out"
    proc = subprocess.run(
        [sys.executable, "-m", "sim.run", "scenario=example_csv", "end_year=2026", f"hydra.run.dir={out}", *overrides],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    return proc, out


def test_cli_prints_one_line_and_exits_2_without_results_folder(tmp_path):
    path = _bad_edges(tmp_path, lambda r: r[5].__setitem__(1, "F999"))
    words = ":6: target: 'F999': not a firm_id"
    proc, out = _cli(tmp_path, f"scenario.edges_csv={path}")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists()


def test_cli_missing_file_exits_2(tmp_path):
    proc, out = _cli(tmp_path, "scenario.firms_csv=no/such/firms.csv")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: scenario.firms_csv: no/such/firms.csv: file not found (looked for {REPO / 'no/such/firms.csv'})"]
    assert not out.exists()


def test_spreadsheet_exports_with_byte_order_mark_load(tmp_path):
    p = tmp_path / "firms.csv"
    p.write_bytes(b"\xef\xbb\xbf" + FIRMS.read_bytes())  # Excel's "CSV UTF-8" adds a BOM
    cfg = check(_cfg(f"scenario.firms_csv={p}", "scenario.edges_csv="))
    assert loaders.ParsedFirms(cfg).n == 40


# through the command line: exit 2, one line `error: <key>: <file>:<line>: <column>: <value>: ...`,
# no traceback, no results folder
CLI_CASES = [
    ("duplicate header", lambda tp: _bad_firms(tp, lambda r: _dup_header(r, "natural_gas_mwh_per_yr", "Natural_Gas_MWh_per_yr")),
     ":1: natural_gas_mwh_per_yr: appears twice: column 5 (E)"),
    ("energy 1e308", lambda tp: _bad_firms(tp, lambda r: _set(r, 6, "electricity_mwh_per_yr", "1e308")),
     ":6: electricity_mwh_per_yr: '1e308': implausibly large"),
    ("undecodable byte", lambda tp: _raw_firms(tp, _firms_text().replace("F007,", "F\x81,").encode("latin-1")),
     ":8: encoding: 'byte 0x81': neither UTF-8 nor Windows-1252"),
]


@pytest.mark.parametrize("label,make,words", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_bad_firms_file_one_line_exit_2_no_folder(tmp_path, label, make, words):
    path = make(tmp_path)
    proc, out = _cli(tmp_path, f"scenario.firms_csv={path}", "scenario.edges_csv=")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: scenario.firms_csv: {path}{words}"), proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()


@pytest.mark.slow
def test_cli_all_zero_population_warns_once_and_runs(tmp_path):
    def zero(r):
        for row in r[1:]:
            for j, c in enumerate(r[0]):
                if c.endswith("_mwh_per_yr"):
                    row[j] = ""
    path = _bad_firms(tmp_path, zero)
    proc, out = _cli(tmp_path, f"scenario.firms_csv={path}", "scenario.edges_csv=", "end_year=2025")
    assert proc.returncode == 0, proc.stderr
    warn = [l for l in proc.stderr.splitlines() if "warning" in l.lower()]
    assert warn == [f"warning: scenario.firms_csv: {path}: every firm uses 0 MWh/yr of every carrier: no energy to save "
                    "or emit (the run continues)"], proc.stderr
    assert (out / "summary.json").exists()
