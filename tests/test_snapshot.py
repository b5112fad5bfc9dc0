"""Snapshots (sim/snapshot.py): a run continued from its snapshot, and a fork under a policy
whose instruments start at the snapshot year, equal the full runs table for table; unusable
snapshots and forks no full run describes are one line of bad input."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import make_config
from sim import snapshot
from sim.job import run_model

REPO = Path(__file__).resolve().parent.parent
BASE = ("scenario=mx_cluster", "n_firms=600", "start_year=2025", "end_year=2030", "seed=4")
YEAR = 2028
#: carbon price and cost-share programme from the snapshot year: inert before it
LATER = ("policy=carbon_price", f"policy.carbon_price.start_year={YEAR}", "policy.carbon_price.price_usd_per_t_co2=60",
         "policy.cost_share.enabled=true", f"policy.cost_share.start_year={YEAR}", "policy.cost_share.budget_usd=400000")


def _same(a, b):
    for name in ("adoptions", "timeseries", "firms"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=name)
    assert a.summary == b.summary


@pytest.fixture(scope="module")
def snap(tmp_path_factory):
    path = tmp_path_factory.mktemp("snap") / "s.simsnap"
    over = list(BASE) + ["policy=none"]
    full = run_model(make_config(*over), pause_at_month=snapshot.snapshot_month(2025, YEAR),
                     at_pause=lambda m: snapshot.save(m, path, over))
    return path, full


def test_a_run_continued_from_its_snapshot_equals_the_uninterrupted_run(snap):
    path, with_snapshot = snap
    plain = run_model(make_config(*BASE, "policy=none"))
    _same(with_snapshot, plain)  # taking the snapshot changes nothing
    header, model = snapshot.load(path)
    assert header["snapshot_year"] == YEAR and model.month == 12 * (YEAR - 2025) - 1
    _same(snapshot.continue_run(model), plain)


def test_a_fork_equals_the_full_run_of_a_policy_starting_at_the_snapshot_year(snap):
    path, base = snap
    full = run_model(make_config(*BASE, *LATER))
    header, model = snapshot.load(path)
    forked = snapshot.continue_run(snapshot.fork(model, header, make_config(*BASE, *LATER)))
    _same(forked, full)
    # ... and the policy did act after the snapshot year (else the test proves nothing)
    assert len(full.adoptions) != len(base.adoptions)
    assert (full.adoptions["instrument"].astype(str) == "cost_share").any()
    before = lambda r: r.adoptions[r.adoptions.year < YEAR].reset_index(drop=True)
    pd.testing.assert_frame_equal(before(full), before(base))  # the same history up to the snapshot


def test_forks_no_full_run_describes_are_refused(snap):
    path, _ = snap
    header, model = snapshot.load(path)
    cases = {("policy=incentive_package",): "cost_share .* starts in 2025, before the snapshot",
             ("policy=none", "policy.capex_subsidy.enabled=true"): "capex_subsidy .* no start year",
             ("policy=carbon_price", "policy.carbon_price.start_year=2026"): "before the snapshot",
             (*LATER, "n_firms=700"): "n_firms"}
    for over, why in cases.items():
        base = [o for o in BASE if not o.startswith(tuple(o2.split("=")[0] + "=" for o2 in over))]
        with pytest.raises(snapshot.SnapshotError, match=why):
            snapshot.fork(model, header, make_config(*base, *over))


def test_damaged_or_foreign_files_are_one_line_of_bad_input(snap, tmp_path):
    path, _ = snap
    data = path.read_bytes()
    cases = {"truncated": (data[:-100], "truncated"), "flipped": (data[:-10] + bytes(10), "checksum"),
             "not a snapshot": (b"PK\x03\x04 zip", "not a snapshot"),
             "other code": (data.replace(b'"code_fingerprint": "', b'"code_fingerprint": "0', 1), "other code"),
             "header": (data[:20], "damaged header")}
    for name, (content, msg) in cases.items():
        bad = tmp_path / f"{name}.simsnap"
        bad.write_bytes(content)
        with pytest.raises(snapshot.SnapshotError, match=msg):
            snapshot.load(bad)
    with pytest.raises(snapshot.SnapshotError, match="cannot read"):
        snapshot.load(tmp_path / "missing.simsnap")


def test_compare_from_a_damaged_snapshot_exits_2_with_one_line(tmp_path):
    bad = tmp_path / "x.simsnap"
    bad.write_bytes(b"SIMSNAP\n{not json")
    p = subprocess.run([sys.executable, "-m", "sim.compare", f"from_snapshot={bad}", "policies=[carbon_price]"],
                       cwd=REPO, capture_output=True, text=True)
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip().count("\n") == 0 and "damaged header" in p.stderr


@pytest.mark.slow
def test_cli_snapshot_then_compare_from_snapshot_equals_the_full_run(tmp_path):
    """The commands of the README: a run writes its snapshot at the start of 2026; sim.compare
    forks it under carbon_price (its price starts in 2026): the forked run's tables equal
    those of ``python -m sim.run ... policy=carbon_price``."""
    run = lambda *a: subprocess.run([sys.executable, "-m", *a], cwd=REPO, capture_output=True, text=True)
    p = run("sim.run", *BASE, "policy=none", "snapshot_at=2026", f"hydra.run.dir={tmp_path / 'base'}")
    assert p.returncode == 0, p.stderr[-2000:]
    snap_file = tmp_path / "base" / "snapshot-2026.simsnap"
    assert snap_file.exists() and (tmp_path / "base" / "summary.json").exists()
    p = run("sim.run", *BASE, "snapshot_at=2040", f"hydra.run.dir={tmp_path / 'x'}")
    assert p.returncode == 2 and "snapshot_at = 2040" in p.stderr and not (tmp_path / "x").exists()
    p = run("sim.compare", f"from_snapshot={snap_file}", "policies=[carbon_price]", f"out={tmp_path / 'cmp'}")
    assert p.returncode == 0, p.stderr[-2000:]
    assert (tmp_path / "cmp" / "compare.parquet").exists()
    p = run("sim.run", *BASE, "policy=carbon_price", f"hydra.run.dir={tmp_path / 'full'}")
    assert p.returncode == 0, p.stderr[-2000:]
    forked = tmp_path / "cmp" / "runs" / "carbon_price" / "seed=4"
    for table in ("adoptions", "timeseries", "firms"):
        pd.testing.assert_frame_equal(pd.read_parquet(forked / f"{table}.parquet"),
                                      pd.read_parquet(tmp_path / "full" / f"{table}.parquet"), check_exact=True)
    assert (forked / "summary.json").read_text() == (tmp_path / "full" / "summary.json").read_text()
    p = run("sim.compare", f"from_snapshot={snap_file}", "policies=[incentive_package]", f"out={tmp_path / 'c2'}")
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "before the snapshot" in p.stderr, p.stderr
    assert not (tmp_path / "c2").exists()  # refused before anything was written
