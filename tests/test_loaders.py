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
    assert net.customers[s, t] == 1 and net.customers[t, s] == 0


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
    assert net.kind.tolist() == [EDGE_KINDS.index("supply")] and net.customers[3, 0] == 1


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


# (label, which file, how to break it, expected line, words the message must contain)
CASES = [
    ("missing column", "firms", lambda r: [x.pop(2 - 1) for x in r], 1, ["missing column 'sector'"]),
    ("unknown sector", "firms", lambda r: _set(r, 5, "sector", "bakery"), 5, ["unknown sector 'bakery'", "auto_parts"]),
    ("unknown size", "firms", lambda r: _set(r, 7, "size_class", "huge"), 7, ["unknown size_class 'huge'", "micro"]),
    ("negative energy", "firms", lambda r: _set(r, 9, "natural_gas_mwh_per_yr", "-12"), 9, ["natural_gas_mwh_per_yr", "negative"]),
    ("non-numeric energy", "firms", lambda r: _set(r, 3, "electricity_mwh_per_yr", "lots"), 3, ["'lots' is not a number"]),
    ("duplicate id", "firms", lambda r: _set(r, 4, "firm_id", r[1][0]), 4, ["appears twice"]),
    ("unknown carrier", "firms", lambda r: r[0].__setitem__(r[0].index("lpg_mwh_per_yr"), "petrol_mwh_per_yr"), 1, ["unknown carrier 'petrol'"]),
    ("edge to missing firm", "edges", lambda r: r[5].__setitem__(1, "F999"), 6, ["target 'F999' is not a firm_id"]),
    ("unknown edge kind", "edges", lambda r: r[2].__setitem__(2, "friendship"), 3, ["unknown kind 'friendship'", "supply"]),
    ("self tie", "edges", lambda r: r[4].__setitem__(1, r[4][0]), 5, ["same firm"]),
]


@pytest.mark.parametrize("label,which,edit,line,words", CASES, ids=[c[0] for c in CASES])
def test_malformed_files_raise_one_line_naming_file_and_line(tmp_path, label, which, edit, line, words):
    path = _bad_firms(tmp_path, edit) if which == "firms" else _bad_edges(tmp_path, edit)
    key = f"scenario.{which}_csv"
    with pytest.raises(ConfigError) as err:
        check(_cfg(f"{key}={path}"))
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"{key}: {path}, line {line}: "), msg
    for w in words:
        assert w in msg, msg


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
    words = "line 6: target 'F999' is not a firm_id"
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
