"""Morris and Sobol over a declared parameter space, each sample a real run through a Hydra
launcher; a parameter that cannot matter gets zero indices, one that does gets positive ones."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.compose import BadInput
from sim.sensitivity import analyse, design, load_space, run

REPO = Path(__file__).resolve().parent.parent
TINY = {
    "name": "tiny",
    "overrides": ["policy=none", "n_firms=150", "end_year=2026", "write_firm_panel=false"],
    "seed": 0,
    "parameters": {
        # under policy=none no subsidy is paid: this parameter cannot change anything
        "policy.capex_subsidy.subsidy_share": [0.1, 0.5],
        "behaviour.peer_awareness_per_month": [0.01, 0.2],
    },
    "outcomes": ["cumulative_emissions_t_co2", "adoptions"],
    "morris": {"trajectories": 4, "levels": 4},
    "sobol": {"base_samples": 4},
}


def write_space(tmp_path, **changes) -> Path:
    space = {**TINY, **changes}
    p = tmp_path / "space.yaml"
    p.write_text(yaml.safe_dump(space))
    return p


@pytest.mark.slow
def test_morris_on_real_runs_separates_an_inert_from_an_active_parameter(tmp_path):
    out = tmp_path / "morris"
    indices, out = run(write_space(tmp_path), "morris", ["hydra/launcher=local", "hydra.launcher.n_jobs=2"], out)
    assert len(list(out.glob("sample_*/summary.json"))) == (2 + 1) * 4
    em = indices[indices["outcome"] == "cumulative_emissions_t_co2"].set_index("parameter")
    assert em.loc["policy.capex_subsidy.subsidy_share", "mu_star"] == 0
    assert em.loc["behaviour.peer_awareness_per_month", "mu_star"] > 0
    assert em.loc["behaviour.peer_awareness_per_month", "mu"] < 0  # more peer learning, less CO2
    assert (indices["mu_star_ci95"] >= 0).all()
    samples = pd.read_parquet(out / "samples.parquet")
    assert len(samples) == 12 and {"cumulative_emissions_t_co2", "behaviour.peer_awareness_per_month"} <= set(samples.columns)
    assert "| morris |" in (out / "indices.md").read_text() and (out / "indices.png").stat().st_size > 0
    # resume: a second call reuses the complete runs and gives the same indices
    mtime = (out / "sample_0" / "summary.json").stat().st_mtime_ns
    again, _ = run(write_space(tmp_path), "morris", ["hydra/launcher=local", "hydra.launcher.n_jobs=2"], out)
    assert (out / "sample_0" / "summary.json").stat().st_mtime_ns == mtime
    pd.testing.assert_frame_equal(indices, again)


@pytest.mark.slow
def test_sobol_on_real_runs_through_the_local_launcher(tmp_path):
    indices, out = run(write_space(tmp_path), "sobol", ["hydra/launcher=local", "hydra.launcher.n_jobs=2"], tmp_path / "sobol")
    assert len(list(out.glob("sample_*/summary.json"))) == 4 * (2 + 2)
    ad = indices[indices["outcome"] == "adoptions"].set_index("parameter")
    assert ad.loc["policy.capex_subsidy.subsidy_share", "ST"] == pytest.approx(0, abs=1e-12)
    assert ad.loc["behaviour.peer_awareness_per_month", "ST"] > 0.5


def test_sobol_indices_of_a_known_function():
    """Y = 4 x1 + x2 (uniform on [0,1]): S1 = 16/17 and 1/17, no interactions."""
    space = load_space(write_space_tmp(Path(__import__("tempfile").mkdtemp()), {"parameters": {"a": [0, 1], "b": [0, 1]}, "sobol": {"base_samples": 1024}}))
    X = design(space, "sobol")
    ind = analyse(space, "sobol", X, 4 * X[:, 0] + X[:, 1]).set_index("parameter")
    assert ind.loc["a", "S1"] == pytest.approx(16 / 17, abs=0.05)
    assert ind.loc["b", "S1"] == pytest.approx(1 / 17, abs=0.05)
    assert ind.loc["a", "ST"] == pytest.approx(16 / 17, abs=0.05)
    assert (ind["S1_ci95"] > 0).all()


def write_space_tmp(d: Path, changes) -> Path:
    p = d / "s.yaml"
    p.write_text(yaml.safe_dump({**TINY, **changes}))
    return p


@pytest.mark.parametrize("changes, argv, expect", [
    ({"parameters": {}}, [], "parameters: empty"),
    ({"parameters": {"behaviour.peer_awareness_per_month": [0.1, 0.1]}}, [], "empty range"),
    ({"parameters": {"behaviour.no_such_thing": [0, 1]}}, [], "parameters.behaviour.no_such_thing: unknown parameter"),
    ({"parameters": {"policy.capex_subsidy.subsidy_share": [0.5, 1.5]}}, [], "policy.capex_subsidy.subsidy_share = 1.5"),
    ({}, ["method=fast99"], "method = 'fast99'"),
    ({}, ["hydra/launcher=slurm"], "hydra/launcher=slurm: SLURM"),
])
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, changes, argv, expect):
    space = write_space(tmp_path, **changes)
    out = tmp_path / "out"
    conf = tmp_path / "slurm.conf"  # a controller nobody runs
    conf.write_text("ClusterName=none\nSlurmctldHost=localhost(127.0.0.1)\nSlurmctldPort=9\n"
                    "NodeName=nobody CPUs=1 State=UNKNOWN\nPartitionName=p Nodes=nobody Default=YES\nMessageTimeout=2\n")
    env = {"SLURM_CONF": str(conf)}
    r = subprocess.run([sys.executable, "-m", "sim.sensitivity", str(space), *argv, f"out={out}"], cwd=REPO,
                       capture_output=True, text=True, timeout=120, env={**__import__("os").environ, **env})
    assert r.returncode == 2, r.stderr[-2000:]
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expect in lines[0], r.stderr
    assert not out.exists()
