"""Output locations and I/O faults (issue 13): a run folder that cannot be one is refused
before anything is created (exit 2, one line); a full disk or an I/O error gives one line,
exit 1, no traceback and no folder that looks complete; a sweep finishes its other runs and
names the failed ones; summary.json is strict JSON."""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import tmpfs

REPO = Path(__file__).resolve().parent.parent
SMALL = ("n_firms=100", "end_year=2026")


def run_cli(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "sim.run", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": str(REPO)})


def error_lines(stderr: str) -> list[str]:
    """stderr without the sweep progress bar (tqdm redraws with carriage returns)."""
    lines = [l.split("\r")[-1] for l in stderr.splitlines()]
    return [l for l in lines if l.strip() and not l.startswith("runs:")]


def assert_one_line(r, code: int, *words: str) -> str:
    assert r.returncode == code, r.stderr[-2000:]
    lines = error_lines(r.stderr)
    assert len(lines) == 1, r.stderr[-2000:]
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout
    assert lines[0].startswith("error: ")
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def complete_looking(d: Path) -> bool:
    return (d / "summary.json").exists()


# -- the output folder is checked before anything is created ---------------------------------
def test_run_folder_that_is_an_existing_file_is_refused(tmp_path):
    f = tmp_path / "run"
    f.write_text("mine\n")
    r = run_cli(*SMALL, f"hydra.run.dir={f}")
    assert_one_line(r, 2, str(f), "existing file")
    assert f.read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_run_folder_under_a_file_is_refused(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    r = run_cli(*SMALL, f"hydra.run.dir={f}/sub/run")
    assert_one_line(r, 2, f"{f} is a file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"] and f.read_text() == "x"


def test_run_folder_on_a_read_only_file_system_is_refused(tmp_path):
    with tmpfs(tmp_path / "ro", ro=True) as ro:
        r = run_cli(*SMALL, f"hydra.run.dir={ro}/a/run")
        assert_one_line(r, 2, str(ro), "read-only")
        assert not any(ro.iterdir())


def test_run_folder_under_an_immutable_folder_is_refused(tmp_path):
    d = tmp_path / "frozen"
    d.mkdir()
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(d)], capture_output=True).returncode:
        pytest.skip("chattr +i not available here (needs root and a file system with attributes)")
    try:
        r = run_cli(*SMALL, f"hydra.run.dir={d}/run")
        assert_one_line(r, 2, str(d), "not writable")
        assert not any(d.iterdir())
    finally:
        subprocess.run(["chattr", "-i", str(d)], capture_output=True)


def test_a_name_cannot_move_the_default_folder_out_of_results():
    r = run_cli(*SMALL, "policy.name=../../../out13_escape")
    assert_one_line(r, 2, "policy.name", "../../../out13_escape", "results")
    assert not (REPO / ".." / "out13_escape").exists() and not (REPO.parent.parent / "out13_escape").exists()


def test_a_sweep_job_folder_that_is_a_file_stops_the_sweep_before_it_starts(tmp_path):
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "end_year=2026,n_firms=100,seed=1").write_text("x")
    r = run_cli("--multirun", *SMALL, "seed=0,1", f"hydra.sweep.dir={sweep}", "hydra.launcher.n_jobs=1")
    assert_one_line(r, 2, "seed=1", "existing file")
    assert sorted(p.name for p in sweep.iterdir()) == ["end_year=2026,n_firms=100,seed=1"]


# -- a full disk -----------------------------------------------------------------------------
def test_a_full_disk_fails_fast_with_one_line_and_nothing_written(tmp_path):
    """3000 firms need more than a 200 kB file system: refused before simulating (exit 1)."""
    with tmpfs(tmp_path / "small", "200k") as small:
        r = run_cli("n_firms=3000", "end_year=2026", f"hydra.run.dir={small}/run")
        assert_one_line(r, 1, f"{small}/run", "not enough free space")
        assert not any(small.iterdir())


def _results(nrows: int, summary: dict):
    from sim.results import RunResults

    rng = np.random.default_rng(0)
    big = pd.DataFrame({"x": rng.random(nrows), "y": rng.random(nrows)})
    return RunResults(big, big, big.head(3), summary)


def test_disk_full_while_writing_leaves_no_complete_folder_nor_temp_files(tmp_path):
    """A write that runs out of room (ENOSPC on a 200 kB tmpfs) removes what it wrote and its
    temp files and raises OSError; no summary.json, no empty folder."""
    from sim.results import write_run

    with tmpfs(tmp_path / "small", "200k") as small:
        out = small / "run"
        with pytest.raises(OSError) as e:
            write_run(out, _results(200_000, {"a": 1}), "x: 1\n")
        assert e.value.errno == 28  # ENOSPC
        assert not out.exists()
        assert not any(small.iterdir())
        # a folder that held a complete run: no summary left after the failed rewrite
        out.mkdir()
        write_run(out, _results(10, {"a": 1}), "x: 1\n")
        assert complete_looking(out)
        with pytest.raises(OSError):
            write_run(out, _results(200_000, {"a": 2}), "x: 2\n")
        assert not complete_looking(out)
        assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_the_task_turns_an_io_error_into_a_noted_failure(tmp_path, monkeypatch):
    """In the task (what Hydra calls, in workers too) an OSError does not escape: it is noted
    with the folder and one line, and no folder is left behind."""
    import sim.run as run
    import sim.results as results
    from hydra.core.hydra_config import HydraConfig
    from omegaconf import OmegaConf

    from sim.compose import compose

    cfg = compose(list(SMALL))
    out = tmp_path / "run"
    out.mkdir()

    class _HC:
        class runtime:
            output_dir = str(out)

    monkeypatch.setattr(HydraConfig, "get", staticmethod(lambda: _HC))
    monkeypatch.setattr(run, "run_model", lambda cfg, progress=None: _results(10, {}))

    def broken(*a, **k):
        raise OSError(5, "Input/output error", str(out / "timeseries.parquet"))

    monkeypatch.setattr(results, "write_run", broken)
    monkeypatch.setattr(run, "_failures", [])
    monkeypatch.delenv(run.FAILURES_ENV, raising=False)
    run.task(OmegaConf.create(OmegaConf.to_container(cfg)))
    assert run._failures == [(str(out), f"Input/output error ({out / 'timeseries.parquet'})")]
    assert not out.exists()
    line = run.failure_line(run._failures, 1, multirun=False)
    assert line.startswith(str(out)) and "\n" not in line


# -- a sweep finishes the other runs ---------------------------------------------------------
@pytest.mark.slow
def test_a_sweep_with_a_full_disk_for_one_job_finishes_the_rest_and_exits_1(tmp_path):
    sweep = tmp_path / "sweep"
    job = sweep / "end_year=2026,n_firms=100,seed=1"
    with tmpfs(job, "60k"):
        r = run_cli("--multirun", *SMALL, "seed=0,1,2", f"hydra.sweep.dir={sweep}", "hydra.launcher.n_jobs=2")
        line = assert_one_line(r, 1, "1 of 3 runs failed", str(job), "re-run the same command")
        assert "seed=0" not in line and "seed=2" not in line
        assert not any(job.iterdir())
    for s in (0, 2):
        assert complete_looking(sweep / f"end_year=2026,n_firms=100,seed={s}")


# -- strict JSON -----------------------------------------------------------------------------
def test_summary_json_is_strict_json(tmp_path):
    from sim.results import write_run

    summary = {"ok": 1.5, "nan": math.nan, "inf": math.inf, "nested": {"x": [1.0, -math.inf, np.float64("nan")]}}
    write_run(tmp_path / "run", _results(5, summary), "x: 1\n")
    text = (tmp_path / "run" / "summary.json").read_text()

    def refuse(c):
        raise ValueError(f"non-strict JSON constant {c}")

    s = json.loads(text, parse_constant=refuse)
    assert s == {"ok": 1.5, "nan": None, "inf": None, "nested": {"x": [1.0, None, None]}}
