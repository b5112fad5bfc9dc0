"""Named experiments and sweep pre-flight: every experiment declares and validates its sweep;
a tiny experiment runs on the local launcher and reports its outcomes; bad input stops the
sweep with one line and exit code 2 before anything is written."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from omegaconf import OmegaConf

from sim.compose import BadInput
from sim.sweep import check_experiment, outcome_table, preflight_sweep

REPO = Path(__file__).resolve().parent.parent
EXPERIMENTS = sorted(p.stem for p in (REPO / "experiments" / "experiment").glob("*.yaml"))


def run_cli(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "sim.run", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def test_the_named_experiments_exist_and_declare_their_sweep():
    assert {"bajio_copay_quota", "carbon_price_x_subsidy", "seed_ensemble"} <= set(EXPERIMENTS)
    for name in EXPERIMENTS:
        conf = yaml.safe_load((REPO / "experiments" / "experiment" / f"{name}.yaml").read_text())
        decl = conf["hydra"]["callbacks"]["experiment"]
        swept = set(conf["hydra"]["sweeper"]["params"])
        assert decl["name"] == name
        assert set(decl["levers"]) | set(decl["uncertainties"]) | {decl["replications"]} == swept
        assert decl["outcomes"], name
        assert conf["hydra"]["sweep"]["dir"] == f"results/experiments/{name}"  # fixed: re-run = resume


@pytest.mark.slow
def test_every_experiment_passes_preflight_with_its_full_size():
    sizes = {name: preflight_sweep([f"+experiment={name}", "hydra/launcher=local"]) for name in EXPERIMENTS}
    assert sizes["bajio_copay_quota"] == 3 * 3 * 2 * 5
    assert sizes["carbon_price_x_subsidy"] == 4 * 3 * 2 * 3
    assert sizes["seed_ensemble"] == 30


@pytest.mark.slow
def test_a_small_experiment_runs_locally_and_reports_its_outcomes(tmp_path):
    """What a user gets from a sweep: one complete folder per job (resolved config, the three
    tables, summary.json last), tables that read as one dataset, the experiment's outcome
    table; a re-launch after an interruption completes only the missing job."""
    import json

    import pyarrow.dataset as pads

    out = tmp_path / "exp"
    args = ("--multirun", "+experiment=carbon_price_x_subsidy", "n_firms=100", "end_year=2026",
            "policy.carbon_price.price_usd_per_t_co2=0,200", "policy.capex_subsidy.subsidy_share=0.3",
            "scenario.risk_aversion_mean=0.5", "seed=0,1", "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={out}")
    r = run_cli(*args)
    assert r.returncode == 0, r.stderr[-3000:]
    jobs = sorted(d for d in out.iterdir() if d.is_dir() and d.name != "dataset")  # dataset: the runs' Parquet fragments
    assert len(jobs) == 4
    combos = set()
    for d in jobs:
        assert {"config.yaml", "timeseries.parquet", "firms.parquet", "adoptions.parquet", "summary.json"} <= {f.name for f in d.iterdir()}
        s = json.loads((d / "summary.json").read_text())
        conf = yaml.safe_load((d / "config.yaml").read_text())
        assert s["months_run"] == 24 and s["seed"] == conf["seed"]
        combos.add((conf["policy"]["carbon_price"]["price_usd_per_t_co2"], conf["seed"]))
    assert combos == {(0, 0), (0, 1), (200, 0), (200, 1)}
    # every job's tables read as one dataset (same schema), one row per job and month
    ts = pads.dataset([str(d / "timeseries.parquet") for d in jobs], format="parquet").to_table()
    assert ts.num_rows == 4 * 24 and "emissions_t_co2" in ts.column_names
    adoptions = pads.dataset([str(d / "adoptions.parquet") for d in jobs], format="parquet").to_table()
    assert adoptions.num_rows == sum(len(pd.read_parquet(d / "adoptions.parquet")) for d in jobs) > 0
    decl = yaml.safe_load((out / "experiment.yaml").read_text())
    assert decl["levers"] == ["policy.carbon_price.price_usd_per_t_co2", "policy.capex_subsidy.subsidy_share"]
    table = pd.read_parquet(out / "gathered.parquet")
    assert table["run"].nunique() == 4 and sorted(table["year"].unique()) == [2025, 2026]
    assert sorted(table["policy.carbon_price.price_usd_per_t_co2"].unique()) == [0, 200]
    res = pd.read_parquet(out / "outcomes.parquet")
    assert list(res["policy.carbon_price.price_usd_per_t_co2"]) == [0, 200]
    assert (res["replications"] == 2).all()
    # a carbon price brings carbon revenue; none without it
    assert res["carbon_revenue_usd"].iloc[0] == 0 and res["carbon_revenue_usd"].iloc[1] > 0
    assert "| 200 |" in (out / "outcomes.md").read_text()

    # an interrupted job (no summary.json: incomplete) is the only one run again
    lost = jobs[-1]
    before = (lost / "timeseries.parquet").read_bytes()
    (lost / "summary.json").unlink()
    (lost / "timeseries.parquet").unlink()
    kept = {d: (d / "summary.json").stat().st_mtime_ns for d in jobs[:-1]}
    r = run_cli(*args)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (lost / "summary.json").exists() and (lost / "timeseries.parquet").read_bytes() == before
    assert {d: (d / "summary.json").stat().st_mtime_ns for d in jobs[:-1]} == kept
    assert pd.read_parquet(out / "gathered.parquet")["run"].nunique() == 4


def test_outcome_table_means_and_intervals():
    t = pd.DataFrame({"year": [2030] * 4 + [2029] * 4, "lever": [1, 1, 2, 2] * 2, "seed": [0, 1] * 4,
                      "y": [1.0, 3.0, 10.0, 10.0, 0, 0, 0, 0]})
    o = outcome_table(t, ["lever"], [], "seed", ["y"])
    assert list(o["y"]) == [2.0, 10.0]
    assert o["y_ci95"].iloc[0] == pytest.approx(1.96 * 2 ** 0.5 / 2 ** 0.5)
    assert o["y_ci95"].iloc[1] == 0


def _decl(**kw):
    base = dict(name="x", levers=["a"], uncertainties=[], replications="seed", outcomes=["emissions_t_co2"])
    base.update(kw)
    return OmegaConf.create({"hydra": {"callbacks": {"experiment": base}}})


def test_experiment_declaration_must_match_its_sweep():
    check_experiment(_decl(), {"a": "1,2", "seed": "0,1"})
    with pytest.raises(BadInput, match="b is swept but not declared"):
        check_experiment(_decl(), {"a": "1,2", "b": "3,4", "seed": "0,1"})
    with pytest.raises(BadInput, match="lever 'a' is declared but not in hydra.sweeper.params"):
        check_experiment(_decl(), {"seed": "0,1"})
    with pytest.raises(BadInput, match="outcome 'tonnes' unknown"):
        check_experiment(_decl(outcomes=["tonnes"]), {"a": "1", "seed": "0"})


@pytest.mark.parametrize("args, expect", [
    (["seed=0,1", "policy.no_such_key=1,2"], "no_such_key"),
    (["+experiment=seed_ensemble", "seed=range(0,0)"], "seed: empty sweep range"),
    (["seed=0,1", "policy.cost_share.copay_share=0.5,1.5"], "policy.cost_share.copay_share = 1.5"),
    (["seed=0,1", "hydra/launcher=no_such_launcher"], "hydra/launcher=no_such_launcher: unknown launcher"),
])
def test_bad_sweeps_stop_with_one_line_and_write_nothing(tmp_path, args, expect):
    out = tmp_path / "sweep"
    r = run_cli("--multirun", "n_firms=100", "end_year=2025", *args, f"hydra.sweep.dir={out}")
    assert r.returncode == 2, r.stderr[-2000:]
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expect in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists()


def test_slurm_launcher_that_cannot_reach_a_controller_stops_the_sweep(tmp_path):
    out = tmp_path / "sweep"
    # a slurm.conf naming a controller nobody runs (or no SLURM at all on this machine)
    conf = tmp_path / "slurm.conf"
    conf.write_text("ClusterName=none\nSlurmctldHost=localhost(127.0.0.1)\nSlurmctldPort=9\n"
                    "NodeName=nobody CPUs=1 State=UNKNOWN\nPartitionName=p Nodes=nobody Default=YES\nMessageTimeout=2\n")
    r = run_cli("--multirun", "n_firms=100", "end_year=2025", "seed=0,1", "hydra/launcher=slurm",
                f"hydra.sweep.dir={out}", env={"SLURM_CONF": str(conf)}, timeout=120)
    assert r.returncode == 2, r.stderr[-2000:]
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: hydra/launcher=slurm: SLURM"), r.stderr
    assert not out.exists()


def test_many_seeds_per_worker_write_the_same_runs_as_hydra(tmp_path):
    """sim.sweep.run_seeds (the benchmark's batched path) writes the folders a Hydra run
    would: same resolved config.yaml, same results; complete runs are kept on a re-run."""
    import json

    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    from sim.params import to_config
    from sim.run import compose, run_model
    from sim.sweep import run_seeds

    over = ["n_firms=120", "end_year=2026", "write_firm_panel=false"]
    dirs = run_seeds(over, [0, 3], tmp_path, jobs=2, chunk=1, progress=False)
    assert [d.name for d in dirs] == ["seed=0", "seed=3"]
    cfg = compose(over + ["seed=3"])
    GlobalHydra.instance().clear()
    assert (tmp_path / "seed=3" / "config.yaml").read_text() == OmegaConf.to_yaml(cfg, resolve=True)
    ref = run_model(to_config(cfg)).summary
    got = json.loads((tmp_path / "seed=3" / "summary.json").read_text())
    assert got["emissions_t_co2_by_year"] == {str(k): v for k, v in ref["emissions_t_co2_by_year"].items()}
    mtime = (tmp_path / "seed=0" / "summary.json").stat().st_mtime_ns
    run_seeds(over, [0, 3], tmp_path, jobs=1, progress=False)
    assert (tmp_path / "seed=0" / "summary.json").stat().st_mtime_ns == mtime


def test_finished_models_are_released_between_runs_of_a_worker():
    """mesa 3.3.1 keeps every model in Agent._ids; sweep workers drop the finished ones (a
    1,000-run sweep of the 32,174-firm region otherwise runs out of memory)."""
    import gc

    from hydra.core.global_hydra import GlobalHydra

    from sim.model import ClusterModel
    from sim.params import to_config
    from sim.run import compose, run_model
    from sim.sweep import release_finished_models

    cfg = to_config(compose(["n_firms=100", "end_year=2025", "write_firm_panel=false"]))
    GlobalHydra.instance().clear()
    gc.collect()
    # (type(), not isinstance: a dead weakref proxy left by another test raises on isinstance)
    before = {id(o) for o in gc.get_objects() if type(o) is ClusterModel}  # e.g. an app's module-level model
    live = ClusterModel(cfg)  # not finished: must be kept
    for _ in range(2):
        run_model(cfg)
    release_finished_models()
    gc.collect()
    alive = {id(o) for o in gc.get_objects() if type(o) is ClusterModel}
    assert alive - before == {id(live)}


def test_each_seeds_resolved_config_equals_a_full_resolution():
    """run_seeds resolves a config once and substitutes the seed: the text must be what
    resolving that seed gives, also when another key interpolates the seed (then it resolves each)."""
    from omegaconf import OmegaConf

    from sim.compose import compose
    from sim.sweep import resolved_yaml_by_seed

    cfg = compose(["scenario=mx_cluster", "n_firms=200"])
    interpolating = OmegaConf.create({"seed": 0, "run": {"name": "run-${seed}"}, "n_firms": 10})
    for c in (cfg, interpolating):
        of = resolved_yaml_by_seed(c)
        for s in (0, 3, 2**31 + 5):
            c.seed = s
            assert of(s) == OmegaConf.to_yaml(c, resolve=True)
    assert "run-7" in resolved_yaml_by_seed(interpolating)(7)


def test_a_sweep_worker_composes_once_for_all_its_tasks(tmp_path, monkeypatch):
    """A worker's tasks of one sweep share one composition (``sim.sweep._composed``) and
    write the same run folders and fragments as tasks that each compose their own; a new
    configuration is composed anew; outside a worker nothing is kept."""
    import sim.sweep as sweep

    calls = []
    real = sweep.load_both
    monkeypatch.setattr(sweep, "load_both", lambda over: calls.append(tuple(over)) or real(over))
    over = ["n_firms=120", "end_year=2026", "write_firm_panel=false"]
    sweep._seed_chunk(over + ["seed=9"], [0], str(tmp_path / "plain"), True)
    sweep._seed_chunk(over, [3], str(tmp_path / "plain"), True)
    assert len(calls) == 2 and sweep._worker_composed is None  # (not a worker: composed each time)

    monkeypatch.setattr(sweep, "_worker_composed", {})  # as worker_init makes a worker's
    calls.clear()
    sweep._seed_chunk(over, [0], str(tmp_path / "worker"), True)
    sweep._seed_chunk(over + ["seed=5"], [3], str(tmp_path / "worker"), True)
    assert len(calls) == 1
    for name in ("seed=0", "seed=3"):
        for f in ("config.yaml", "summary.json"):
            assert (tmp_path / "worker" / name / f).read_bytes() == (tmp_path / "plain" / name / f).read_bytes()
    frag = lambda root: sorted(p.relative_to(root).as_posix() for p in (root / "dataset").rglob("*.parquet"))
    assert frag(tmp_path / "worker") == frag(tmp_path / "plain") and len(frag(tmp_path / "plain")) >= 2
    for rel in frag(tmp_path / "plain"):
        assert (tmp_path / "worker" / rel).read_bytes() == (tmp_path / "plain" / rel).read_bytes()
    sweep._seed_chunk(over[:1] + ["end_year=2025"], [0], str(tmp_path / "other"), False)
    assert len(calls) == 2  # another configuration: composed anew
