"""Issue 13, damaged results and output locations: a truncated parquet file or an empty /
invalid summary.json in a run folder is skipped by gather and report with one line naming the
folder, what is wrong and how to re-run it (the good runs are still gathered / reported);
nothing usable -> one line, exit 2. An unwritable or impossible output location -> one line,
exit 2, before any work; ``sim.compare`` validates every seed before creating its folder.
JSON written is strict (no NaN / Infinity)."""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import tmpfs

from sim import compare as compare_mod
from sim import gather as gather_mod
from sim import report as report_mod
from sim import sensitivity as sensitivity_mod

REPO = Path(__file__).resolve().parent.parent
SMALL = ["n_firms=150", "start_year=2025", "end_year=2026", "write_firm_panel=false"]
RUNS = {"policy=none,seed=0": ("none", 0), "policy=incentive_package,seed=0": ("incentive_package", 0),
        "policy=incentive_package,seed=1": ("incentive_package", 1)}
VICTIM = "policy=incentive_package,seed=1"


def _run(d: Path, policy: str, seed: int) -> None:
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    from sim.params import to_config
    from sim.results import write_run
    from sim.run import compose, run_model

    cfg = compose(SMALL + [f"policy={policy}", f"seed={seed}"])
    GlobalHydra.instance().clear()
    write_run(d, run_model(to_config(cfg)), OmegaConf.to_yaml(cfg, resolve=True))


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("g13") / "sweep"
    for name, (pol, seed) in RUNS.items():
        _run(root / name, pol, seed)
    (root / "multirun.yaml").write_text(
        "hydra:\n  job:\n    name: run\n  overrides:\n    task:\n    - policy=none,incentive_package\n    - seed=0,1\n")
    return root


@pytest.fixture
def sweep(template, tmp_path) -> Path:
    d = tmp_path / "sweep"
    shutil.copytree(template, d)
    return d


def _garbage_parquet(d: Path):
    (d / "timeseries.parquet").write_bytes(b"PAR1\x00\x17garbage")


def _truncated_parquet(d: Path):
    f = d / "timeseries.parquet"
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])


DAMAGE = {
    "garbage timeseries.parquet": (_garbage_parquet, "timeseries.parquet"),
    "truncated timeseries.parquet": (_truncated_parquet, "timeseries.parquet"),
    "empty summary.json": (lambda d: (d / "summary.json").write_text(""), "summary.json is empty"),
    "invalid summary.json": (lambda d: (d / "summary.json").write_text('{"scenario": "mx'), "summary.json is not valid JSON"),
    "summary.json with Infinity": (
        lambda d: (d / "summary.json").write_text((d / "summary.json").read_text().replace(
            '"carbon_revenue_usd": 0.0', '"carbon_revenue_usd": Infinity')), "Infinity"),
    "summary.json a list": (lambda d: (d / "summary.json").write_text("[]"), "summary.json holds a list"),
}


def _one_line(err: str) -> str:
    lines = [l for l in err.splitlines() if l.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("case", list(DAMAGE))
def test_gather_skips_a_damaged_run_names_it_and_gathers_the_rest(sweep, case, capsys):
    damage, what = DAMAGE[case]
    if case == "summary.json with Infinity":
        assert '"carbon_revenue_usd": 0.0' in (sweep / VICTIM / "summary.json").read_text()
    damage(sweep / VICTIM)
    out = sweep / "t.parquet"
    assert gather_mod.main([str(sweep), "--out", str(out)]) == 0
    line = _one_line(capsys.readouterr().err)
    assert line.startswith(f"warning: skipped {sweep / VICTIM}: ") and what in line
    # how to re-run it: drop the damaged summary, re-launch the sweep (its task overrides)
    assert f"rm {sweep / VICTIM / 'summary.json'}" in line
    assert f"python -m sim.run --multirun policy=none,incentive_package seed=0,1 hydra.sweep.dir={sweep}" in line
    t = pd.read_parquet(out)
    assert sorted(t["run"].unique()) == sorted(set(RUNS) - {VICTIM})
    assert len(t) == 2 * 2  # two good runs x years 2025..2026


@pytest.mark.parametrize("case", list(DAMAGE))
def test_report_skips_a_damaged_run_names_it_and_reports_the_rest(sweep, case, capsys):
    damage, what = DAMAGE[case]
    damage(sweep / VICTIM)
    assert report_mod.main([str(sweep)]) == 0
    cap = capsys.readouterr()
    line = _one_line(cap.err)
    assert line.startswith(f"warning: skipped {sweep / VICTIM}: ") and what in line and "re-run:" in line
    assert "2 run(s)" in cap.out and "incentive_package" in cap.out and "none" in cap.out
    table = pd.read_csv(sweep / "summary_table.csv", index_col=0)
    assert sorted(table.index) == ["incentive_package", "none"]
    assert (sweep / "emissions_adoption.png").stat().st_size > 0


def test_a_standalone_damaged_run_gets_a_sim_run_command_from_its_config(sweep, capsys):
    (sweep / "multirun.yaml").unlink()
    (sweep / VICTIM / "summary.json").write_text("")
    assert gather_mod.main([str(sweep), "--out", str(sweep / "t.parquet")]) == 0
    line = _one_line(capsys.readouterr().err)
    assert (f"python -m sim.run scenario=mx_cluster policy=incentive_package seed=1 n_firms=150 start_year=2025 "
            f"end_year=2026 hydra.run.dir={sweep / VICTIM}") in line


@pytest.mark.parametrize("module", ["gather", "report"])
def test_nothing_usable_left_is_one_line_exit_2_and_nothing_written(sweep, module, capsys):
    for name in RUNS:
        _garbage_parquet(sweep / name)
    mod = gather_mod if module == "gather" else report_mod
    assert mod.main([str(sweep)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("error: ") and "no usable run" in line and "timeseries.parquet" in line
    assert "and 2 more damaged run folders" in line
    assert not (sweep / "gathered.parquet").exists() and not (sweep / "summary_table.csv").exists()


@pytest.mark.parametrize("module", ["sim.gather", "sim.report"])
def test_the_command_line_prints_one_line_and_no_traceback(sweep, module):
    _truncated_parquet(sweep / VICTIM)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    p = subprocess.run([sys.executable, "-m", module, str(sweep)], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    line = _one_line(p.stderr)
    assert str(sweep / VICTIM) in line and "timeseries.parquet" in line


# -- output locations ------------------------------------------------------------------------
@pytest.fixture
def readonly_dir(tmp_path):
    """A folder on a read-only tmpfs (root only); skipped where mounting is not permitted."""
    with tmpfs(tmp_path / "ro", size="1m", ro=True) as d:
        yield d


def _bad_out(kind: str, tmp_path: Path, request) -> Path:
    if kind == "under a file":
        f = tmp_path / "a_file"
        f.write_text("x")
        return f / "sub" / "out"
    if kind == "read-only mount":
        return request.getfixturevalue("readonly_dir") / "out"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["under a file", "read-only mount", "is a folder"])
def test_gather_out_unwritable_is_one_line_exit_2_before_any_work(sweep, tmp_path, kind, request, capsys, monkeypatch):
    if kind == "is a folder":
        out = tmp_path / "a_folder"
        out.mkdir()
    else:
        out = _bad_out(kind, tmp_path, request)
    monkeypatch.setattr(gather_mod, "gather", lambda *a, **k: pytest.fail("gathered before checking --out"))
    assert gather_mod.main([str(sweep), "--out", str(out)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith(f"error: --out = '{out}'")
    assert not (sweep / "gathered.parquet").exists()


@pytest.mark.parametrize("kind", ["under a file", "read-only mount"])
def test_gather_csv_unwritable_is_one_line_exit_2(sweep, tmp_path, kind, request, capsys):
    csv = _bad_out(kind, tmp_path, request)
    assert gather_mod.main([str(sweep), "--csv", str(csv)]) == 2
    assert _one_line(capsys.readouterr().err).startswith(f"error: --csv = '{csv}'")
    assert not (sweep / "gathered.parquet").exists()


@pytest.mark.parametrize("kind", ["under a file", "read-only mount"])
def test_report_out_unwritable_is_one_line_exit_2_before_any_work(sweep, tmp_path, kind, request, capsys, monkeypatch):
    out = _bad_out(kind, tmp_path, request)
    monkeypatch.setattr(report_mod, "load_runs", lambda *a, **k: pytest.fail("read runs before checking --out"))
    assert report_mod.main([str(sweep), "--out", str(out)]) == 2
    assert _one_line(capsys.readouterr().err).startswith(f"error: --out = '{out}'")


def test_report_out_elsewhere_leaves_the_runs_folder_untouched(sweep, tmp_path, capsys):
    out = tmp_path / "elsewhere"
    assert report_mod.main([str(sweep), "--out", str(out)]) == 0
    assert (out / "summary_table.csv").exists() and (out / "emissions_adoption.png").exists()
    assert not (sweep / "summary_table.csv").exists()


@pytest.mark.parametrize("kind", ["existing file", "under a file", "read-only mount"])
def test_compare_out_unusable_is_one_line_exit_2_before_any_work(tmp_path, kind, request, capsys, monkeypatch):
    if kind == "existing file":
        out = tmp_path / "a_file"
        out.write_text("keep me")
    else:
        out = _bad_out(kind, tmp_path, request)
    monkeypatch.setattr(compare_mod, "preflight", lambda *a, **k: pytest.fail("composed before checking out"))
    rc = compare_mod.main(["policies=[incentive_package]", "seeds=2", "n_firms=100", f"out={out}"])
    assert rc == 2
    assert _one_line(capsys.readouterr().err).startswith(f"error: out = '{out}'")
    if kind == "existing file":
        assert out.read_text() == "keep me"


@pytest.mark.parametrize("seeds", ["[0,-1]", "[-1]", "[0,1,-5]"])
def test_compare_validates_every_seed_before_creating_its_folder(tmp_path, seeds, capsys, monkeypatch):
    out = tmp_path / "cmp"
    monkeypatch.setattr(compare_mod, "run_all", lambda *a, **k: pytest.fail("ran before validating every seed"))
    rc = compare_mod.main(["policies=[incentive_package]", f"seeds={seeds}", "n_firms=100", "end_year=2026", f"out={out}"])
    assert rc == 2
    line = _one_line(capsys.readouterr().err)
    bad = [s for s in json.loads(seeds) if s < 0][0]
    assert f"seed = {bad}" in line and "must be an integer in [0," in line
    assert not out.exists()


def test_compare_names_a_damaged_reused_run_before_running_anything(sweep, tmp_path):
    d = tmp_path / "cmp" / "runs" / "none" / "seed=0"
    shutil.copytree(sweep / "policy=none,seed=0", d)
    (d / "adoptions.parquet").write_bytes(b"PAR1broken")
    with pytest.raises(compare_mod.BadInput) as e:
        compare_mod.check_reused([d])
    assert str(e.value).startswith(f"{d}: adoptions.parquet cannot be read")
    assert "python -m sim.compare" in str(e.value) and f"out={tmp_path / 'cmp'}" in str(e.value)


@pytest.mark.parametrize("kind", ["existing file", "under a file", "read-only mount"])
def test_sensitivity_out_unusable_is_one_line_exit_2_before_any_work(tmp_path, kind, request, capsys, monkeypatch):
    if kind == "existing file":
        out = tmp_path / "a_file"
        out.write_text("keep me")
    else:
        out = _bad_out(kind, tmp_path, request)
    monkeypatch.setattr(sensitivity_mod, "load_space", lambda *a, **k: pytest.fail("read the space before checking out"))
    space = REPO / "experiments" / "sensitivity" / "cluster_behaviour.yaml"
    assert sensitivity_mod.main([str(space), "method=morris", f"out={out}"]) == 2
    assert _one_line(capsys.readouterr().err).startswith(f"error: out = '{out}'")


def test_sensitivity_names_a_damaged_sample_summary(tmp_path):
    d = tmp_path / "sa" / "sample_1"
    d.mkdir(parents=True)
    (d / "summary.json").write_text("")
    with pytest.raises(sensitivity_mod.BadInput) as e:
        sensitivity_mod.check_reused(tmp_path / "sa", 3)
    assert str(e.value).startswith(f"{d}: summary.json is empty; re-run: rm {d / 'summary.json'} && python -m sim.run ")
    (tmp_path / "sa" / "multirun.yaml").write_text("hydra:\n  job:\n    name: sim.sensitivity\n")  # as launch() saves it
    with pytest.raises(sensitivity_mod.BadInput) as e:
        sensitivity_mod.check_reused(tmp_path / "sa", 3)
    assert f"re-run the same python -m sim.sensitivity <space.yaml> ... out={tmp_path / 'sa'}" in str(e.value)


# -- strict JSON -------------------------------------------------------------------------------
def test_strict_json_writes_null_for_non_finite_numbers():
    import numpy as np

    obj = {"a": float("inf"), "b": [1.0, float("nan"), -float("inf")], "c": {"d": np.float64("nan"), "e": 2.5},
           "f": np.int64(3)}
    text = gather_mod.strict_json(obj, sort_keys=True)
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"non-strict token {c}")) == {
        "a": None, "b": [1.0, None, None], "c": {"d": None, "e": 2.5}, "f": 3}
    assert "NaN" not in text and "Infinity" not in text
    # a list-valued config key becomes strict JSON text in the gathered table
    assert gather_mod._flatten({"k": [1.0, math.inf]}) == {"k": "[1.0, null]"}
