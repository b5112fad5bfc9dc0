"""Gather: one tidy row per run x year with the swept parameters as columns; a sweep killed
mid-way and relaunched on the same folder gives the same table as an uninterrupted one."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.gather import gather, main as gather_main

REPO = Path(__file__).resolve().parent.parent
SMALL = ["n_firms=150", "start_year=2025", "end_year=2027", "write_firm_panel=false"]


def sweep(out: Path, *extra: str, wait: bool = True, launcher: str = "hydra/launcher=local"):
    cmd = [sys.executable, "-m", "sim.run", "--multirun", *SMALL, *extra, launcher,
           "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={out}"]
    p = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    if wait:
        out_, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
    return p


def summaries(d: Path) -> list[Path]:
    return sorted(d.rglob("summary.json"))


@pytest.mark.slow
def test_killed_sweep_resumes_to_the_same_table(tmp_path):
    axes = ["seed=0,1,2", "policy=none,incentive_package"]  # 6 runs
    ref = tmp_path / "ref"
    sweep(ref, *axes)
    assert len(summaries(ref)) == 6

    killed = tmp_path / "killed"
    p = sweep(killed, *axes, wait=False)
    t0 = time.time()
    while len(summaries(killed)) < 2 and time.time() - t0 < 240:
        assert p.poll() is None, p.stderr.read()[-2000:]
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL)  # the launcher and its worker processes
    p.wait()
    before = {s: s.stat().st_mtime_ns for s in summaries(killed)}
    assert 2 <= len(before) < 6, "the sweep must be killed mid-way"
    partial = gather(killed)
    assert partial["run"].nunique() == len(before)  # only complete runs, at any moment

    sweep(killed, *axes)  # relaunch on the same folder
    assert len(summaries(killed)) == 6
    for s, mtime in before.items():  # finished runs were not redone
        assert s.stat().st_mtime_ns == mtime

    a, b = gather(ref), gather(killed)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 6 * 3  # runs x years 2025..2027
    assert {"policy", "seed"} <= set(a.columns)
    assert sorted(a["policy"].unique()) == ["incentive_package", "none"]
    assert sorted(a["seed"].unique()) == [0, 1, 2]
    assert a["seed"].dtype.kind == "i"
    # a tidy row: a run's yearly emissions add up to the summary's cumulative figure
    one = a[(a["policy"] == "none") & (a["seed"] == 1)]
    assert one["emissions_t_co2"].sum() == pytest.approx(one["run_cumulative_emissions_t_co2"].iloc[0], rel=1e-9)


def _fake_run(d: Path, seed: int, share: float, quota: list[int], complete: bool = True):
    """A run folder from a real run's tables, with a given config (for gather's column logic)."""
    from sim.params import to_config
    from sim.results import write_run
    from sim.run import compose, run_model
    from omegaconf import OmegaConf
    from hydra.core.global_hydra import GlobalHydra

    over = SMALL + ["end_year=2026", "policy=incentive_package", f"seed={seed}",
                    f"policy.cost_share.copay_share={share}", f"policy.cost_share.quota_projects_per_yr={quota}"]
    cfg = compose(over)
    GlobalHydra.instance().clear()
    res = run_model(to_config(cfg))
    write_run(d, res, OmegaConf.to_yaml(cfg, resolve=True))
    if not complete:
        (d / "summary.json").unlink()


def test_swept_keys_become_columns_and_incomplete_runs_are_left_out(tmp_path):
    _fake_run(tmp_path / "a", 0, 0.25, [5])
    _fake_run(tmp_path / "b", 0, 0.5, [5])
    _fake_run(tmp_path / "c", 1, 0.5, [10])
    _fake_run(tmp_path / "d", 2, 0.75, [10], complete=False)
    t = gather(tmp_path)
    assert sorted(t["run"].unique()) == ["a", "b", "c"]
    assert t["policy.cost_share.copay_share"].tolist() == [0.25] * 2 + [0.5] * 2 + [0.5] * 2
    assert t["policy.cost_share.quota_projects_per_yr"].tolist() == ["[5]"] * 4 + ["[10]"] * 2
    assert t["seed"].tolist() == [0, 0, 0, 0, 1, 1]
    assert t["year"].tolist() == [2025, 2026] * 3
    # keys that do not vary are not columns
    assert "policy.capex_subsidy.subsidy_share" not in t.columns


def test_cli_writes_parquet_and_csv_and_rejects_bad_dirs(tmp_path, capsys):
    _fake_run(tmp_path / "s" / "x", 0, 0.5, [5])
    out, csv = tmp_path / "t.parquet", tmp_path / "t.csv"
    assert gather_main([str(tmp_path / "s"), "--out", str(out), "--csv", str(csv)]) == 0
    assert pd.read_parquet(out).shape[0] == pd.read_csv(csv).shape[0] == 2
    assert gather_main([str(tmp_path / "nope")]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert gather_main([str(empty)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(l.startswith("error: sweep_dir") for l in err)
    assert not (empty / "gathered.parquet").exists()
