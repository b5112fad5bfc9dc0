"""The command line as a user meets it: one run, a multirun, and every kind of bad input
(one line on stderr naming key, value and what is allowed; exit code 2; no results folder)."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import run_cli

BAD = [
    ("policy.capex_subsidy.subsidy_share=1.5", "policy.capex_subsidy.subsidy_share", "[0, 1]"),
    ("policy.workshops.awareness_lift_share=-0.1", "policy.workshops.awareness_lift_share", "[0, 1]"),
    ("policy.workshops.cost_per_workshop_usd=-5", "policy.workshops.cost_per_workshop_usd", ">= 0"),
    ("measures.catalogue.2.capex_fixed_usd=-100", "measures.catalogue[led_lighting].capex_fixed_usd", ">= 0"),
    ("policy.cost_share.sectors=[spaceships]", "policy.cost_share.sectors", "unknown name"),
    ("measures.catalogue.0.sectors=[spaceships]", "measures.catalogue[motors_vsd].sectors", "unknown name"),
    ("policy.capex_subsidy.measures=[teleporter]", "policy.capex_subsidy.measures", "unknown name"),
    ("end_year=2020", "end_year", "start_year"),
    ("end_year=2400", "end_year", "2300"),
    ("measures.catalogue.0.source=''", "measures.catalogue[motors_vsd].source", "cite"),
    ("scenario=atlantis", "scenario=atlantis", "unknown scenario"),
    ("policy=free_money", "policy=free_money", "unknown policy"),
    ("n_firms=0", "n_firms", "[1, 1,000,000,000]"),
    ("n_firms=abc", "n_firms", "abc"),
    ("nonsense_key=3", "nonsense_key", "not in"),
    ("scenario.network.kind=hypercube", "scenario.network.kind", "must be one of"),
    ("seed=-1", "seed", "must be an integer in [0, 2**63 - 1]"),
    ("policy.carbon_price.price_usd_per_t_co2=inf", "policy.carbon_price.price_usd_per_t_co2", "(finite)"),
    ("+policy.capex_subsidy.extra=1", "policy.capex_subsidy.extra", "unknown key"),
]


@pytest.mark.parametrize("override,key,allowed", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_exit_2_and_no_folder(tmp_path, override, key, allowed):
    out = tmp_path / "run"
    p = run_cli(override, "n_firms=100" if not override.startswith("n_firms") else "seed=0", f"hydra.run.dir={out}")
    assert p.returncode == 2, p.stderr
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr
    assert key in lines[0] and allowed in lines[0], lines[0]
    assert not out.exists()


def test_bad_value_in_one_job_of_a_multirun_stops_all_before_any_folder(tmp_path):
    sweep = tmp_path / "sweep"
    p = run_cli("--multirun", "policy.capex_subsidy.subsidy_share=0.2,1.7", "n_firms=100", "end_year=2026",
                f"hydra.sweep.dir={sweep}")
    assert p.returncode == 2
    assert "policy.capex_subsidy.subsidy_share = 1.7" in p.stderr
    assert not sweep.exists()


def test_one_run_writes_a_complete_folder(tmp_path):
    out = tmp_path / "run"
    p = run_cli("policy=incentive_package", "n_firms=800", "start_year=2025", "end_year=2031", "seed=4",
                f"hydra.run.dir={out}")
    assert p.returncode == 0, p.stderr
    for f in ("config.yaml", "timeseries.parquet", "firms.parquet", "adoptions.parquet", "summary.json"):
        assert (out / f).exists(), f
    s = json.loads((out / "summary.json").read_text())
    assert s["n_firms"] == 800 and s["seed"] == 4 and s["policy"] == "incentive_package"
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert len(ts) == 12 * 7
    firms = pd.read_parquet(out / "firms.parquet")
    assert set(firms["year"]) == set(range(2025, 2032)) and len(firms) == 800 * 7
    ad = pd.read_parquet(out / "adoptions.parquet")
    assert {"month", "firm", "measure", "capex_usd", "subsidy_usd", "instrument"} <= set(ad.columns)
    # progress is logged by simulated year
    assert "2031 done" in p.stdout + p.stderr


def test_multirun_and_report(tmp_path):
    sweep = tmp_path / "sweep"
    p = run_cli("--multirun", "policy=none,incentive_package", "n_firms=600", "end_year=2030",
                f"hydra.sweep.dir={sweep}")
    assert p.returncode == 0, p.stderr
    runs = sorted(d.name for d in sweep.iterdir() if (d / "summary.json").exists())
    assert runs == ["end_year=2030,n_firms=600,policy=incentive_package", "end_year=2030,n_firms=600,policy=none"]
    r = run_cli(str(sweep), module="sim.report")
    assert r.returncode == 0, r.stderr
    assert "incentive_package" in r.stdout and "usd_per_t_avoided" in r.stdout and "abatement_mt" in r.stdout
    assert (sweep / "emissions_adoption.png").exists()


def test_report_on_a_missing_folder_is_one_line_exit_2(tmp_path):
    r = run_cli(str(tmp_path / "nothing_here"), module="sim.report")
    assert r.returncode == 2
    assert len([l for l in r.stderr.splitlines() if l.strip()]) == 1


def test_an_interrupted_write_never_looks_complete(tmp_path, monkeypatch):
    """A run folder is complete only when summary.json exists, and it is written last; a write
    that fails half-way leaves neither a summary nor temp files, and an old summary is gone."""
    from conftest import make_config
    from sim.results import is_complete, write_run
    from sim.run import run_model

    res = run_model(make_config("n_firms=200", "end_year=2026"))
    out = tmp_path / "run"
    write_run(out, res, "x: 1\n")
    assert is_complete(out)

    import pyarrow.parquet as pq

    calls = {"n": 0}
    real = pq.write_table  # every table is written through it (run tables and DataFrames alike)

    def failing(*a, **k):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        return real(*a, **k)

    monkeypatch.setattr(pq, "write_table", failing)
    with pytest.raises(OSError):
        write_run(out, res, "x: 2\n")
    assert not is_complete(out)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


# issue 13: every value checked before anything is created; Hydra's own errors name the key
BAD_13 = [
    (["policy.carbon_price.start_year=1000"], "policy.carbon_price.start_year = 1000", "between 1900 and 2200"),
    (["policy.cost_share.start_year=1500"], "policy.cost_share.start_year = 1500", "0 = the run's start year"),
    (["policy=carbon_price", "policy.carbon_price.start_year=1960"], "policy.carbon_price.start_year = 1960",
     "from 50 years before start_year to end_year"),
    (["policy=incentive_package", "policy.cost_share.start_year=2060"], "policy.cost_share.start_year = 2060",
     "or 0 = start_year"),
    (["seed=9223372036854775808"], "seed = 9223372036854775808", "[0, 2**63 - 1]"),
    (["behaviour.terms.peer_risk=2"], "behaviour.terms.peer_risk = 2", "must be true or false"),
    (["policy.capex_subsidy.enabled=yes"], "policy.capex_subsidy.enabled = 'yes'", "must be true or false"),
    (["n_firms=true"], "n_firms = True", "must be a number"),
    (["policy={}"], "policy = {}", "must name a policy: one of carbon_price, incentive_package, none"),
    (["scenario.prices_usd_per_mwh.electricity.points={}"], "scenario.prices_usd_per_mwh.electricity.points = {}",
     "needs at least one entry"),
    (["policy=null"], "policy = None", "must name a policy"),
    (["policy.capex_subsidy.subsidy_share=["], "policy.capex_subsidy.subsidy_share = '['", "cannot be parsed"),
    (["n_firms=${n_firms}"], "n_firms = '${n_firms}'", "Recursive interpolation"),
    (["seed=${oc.env:UNSET_CFG13_VARIABLE}"], "seed = '${oc.env:UNSET_CFG13_VARIABLE}'", "not found"),
    (["policy.name=../../../somewhere"], "policy.name = '../../../somewhere'", "names a folder under results/"),
    (["scenario.name=a/b"], "scenario.name = 'a/b'", "names a folder under results/"),
    (["n_firms=1000000000"], "n_firms = 1000000000", "GB of memory"),
    (["n_firms=1000000001"], "n_firms = 1000000001", "[1, 1,000,000,000]"),
    (["scenario.network.supply_links_per_firm=inf"], "scenario.network.supply_links_per_firm = inf", "[0, 1000]"),
    (["scenario.network.random_links_per_firm=5000"], "scenario.network.random_links_per_firm = 5000.0", "[0, 1000]"),
    (["policy.workshops.workshops_per_yr=100000000"], "policy.workshops.workshops_per_yr = 100000000", "[0, 10,000]"),
    (["policy.cost_share.quota_projects_per_yr=[5,2000000]"], "policy.cost_share.quota_projects_per_yr[1] = 2000000",
     "[0, 1,000,000]"),
    (["scenario.currency_year=20230"], "scenario.currency_year = 20230", "between 1900 and 2200"),
    (["+scenario.programmes.cleaner_production_centre.bogus=1"],
     "scenario.programmes.cleaner_production_centre.bogus = 1", "unknown key"),
    (["scenario=bajio_cpi", "scenario.programmes.cleaner_production_centre.enabled=2"],
     "scenario.programmes.cleaner_production_centre.enabled = 2", "must be true or false"),
]


@pytest.mark.parametrize("overrides,head,allowed", BAD_13, ids=[" ".join(b[0]) for b in BAD_13])
def test_issue13_bad_values_are_one_line_naming_the_key(tmp_path, overrides, head, allowed):
    out = tmp_path / "run"
    extra = [] if any(o.startswith("n_firms") for o in overrides) else ["n_firms=100"]
    p = run_cli(*overrides, *extra, "end_year=2026", f"hydra.run.dir={out}")
    assert p.returncode == 2, p.stderr
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, p.stderr
    assert "Traceback" not in p.stderr
    assert lines[0].startswith(f"error: {head}:") and allowed in lines[0], lines[0]
    assert not out.exists()


@pytest.mark.parametrize("name", ["policy.name=../../somewhere", "scenario.name=../../somewhere"])
def test_a_name_cannot_move_the_default_run_folder_out_of_results(tmp_path, name):
    """No hydra.run.dir: the default results/<scenario>/<policy>/seed=<s> is what a name would move."""
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    p = run_cli(name, "n_firms=100", "end_year=2026", cwd=work)
    assert p.returncode == 2, p.stderr
    assert len([l for l in p.stderr.splitlines() if l.strip()]) == 1, p.stderr
    assert [str(x.relative_to(tmp_path)) for x in tmp_path.rglob("*")] == ["a", "a/b"]


def test_a_new_programme_with_default_parameters_is_still_allowed():
    """`+scenario.programmes.<name>={}` adds an entry (not a no-op merge): not refused."""
    from conftest import make_config

    cfg = make_config("+scenario.programmes.net_zero_tracker={}")
    assert "net_zero_tracker" in cfg.scenario.programmes
