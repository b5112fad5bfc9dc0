"""Design search (sim.design) and scenario discovery (sim.discover): strict design files, a search
whose Pareto set is non-dominated and which finds a constraint's boundary, resumption from the
cache, common random numbers, and PRIM recovering a planted box."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.design import design_command, main as design_main
from sim.design_eval import candidate_runs, execute, plan, read_runs
from sim.design_spec import load_design
from sim.discover import find_boxes, main as discover_main

REPO = Path(__file__).resolve().parent.parent

TINY = {
    "name": "tiny",
    "scenario": "mx_cluster",
    "overrides": ["n_firms=150", "end_year=2026", "write_firm_panel=false", "policy=incentive_package"],
    "baseline": ["policy=none"],
    "levers": {
        "policy.capex_subsidy.subsidy_share": {"kind": "real", "range": [0.0, 0.6]},
        "policy.training.enabled": {"kind": "switch"},
        "split": {"kind": "split", "total_usd": 3000000,
                  "keys": ["policy.capex_subsidy.budget_usd", "policy.cost_share.budget_usd"]},
    },
    "uncertainties": {"behaviour.peer_awareness_per_month": [0.02, 0.06]},
    "samples": 1,
    "seeds": 2,
    "objectives": {
        "abatement_t_co2": {"outcome": "cumulative_emissions_t_co2", "versus_baseline": "reduction", "sense": "maximize"},
        "public_cost_usd": {"outcome": "public_spending_usd", "versus_baseline": "increase", "sense": "minimize"},
    },
    "search": {"generations": 2, "population": 4, "seed": 0},
}


def write(tmp_path: Path, d: dict, name: str = "d.yaml") -> Path:
    f = tmp_path / name
    f.write_text(yaml.safe_dump(d, sort_keys=False))
    return f


# -- bad design files: one line, exit 2, nothing written ------------------------------------------
def _with(**changes):
    d = yaml.safe_load(yaml.safe_dump(TINY))
    for path, v in changes.items():
        obj = d
        keys = path.split("/")
        for k in keys[:-1]:
            obj = obj[k]
        obj[keys[-1]] = v
    return d


BAD = [
    (_with(levers={"policy.capex_subsidy.subsidy_shar": {"kind": "real", "range": [0, 1]}}), "not a config key"),
    (_with(levers={"policy.capex_subsidy.subsidy_share": {"kind": "real", "range": [0.5, 0.5]}}), "empty or inverted range"),
    (_with(levers={"policy.capex_subsidy.subsidy_share": {"kind": "real", "range": [0.6, 0.1]}}), "empty or inverted range"),
    (_with(levers={"policy.carbon_price.min_size_class": {"kind": "categorical", "options": []}}), "at least one option"),
    (_with(levers={"policy.capex_subsidy.subsidy_share": {"kind": "real", "range": [0, 1], "step": 2}}), "step: unknown key"),
    (_with(levers={"policy.capex_subsidy.subsidy_share": {"kind": "real", "range": [0, 1.5]}}), "subsidy_share"),
    (_with(objectives={"x": {"outcome": "cumulative_emisions_t_co2", "sense": "minimize"}, "y": {"outcome": "adoptions", "sense": "maximize"}}),
     "not a number in a run's summary.json"),
    (_with(objectives={"x": {"outcome": "adoptions", "sense": "biggest"}}), "sense"),
    (_with(levers_typo={}), "levers_typo: unknown key"),
]


@pytest.mark.parametrize("design,words", BAD, ids=[w for _, w in BAD])
def test_a_bad_design_file_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, design, words):
    out = tmp_path / "out"
    rc = design_main([str(write(tmp_path, design)), f"out={out}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and err[0].startswith("error: ") and words in err[0], err
    assert not out.exists()


def test_a_constraint_no_design_meets_is_named_after_the_first_generation(tmp_path, capsys):
    d = _with(constraints={"public_cost_usd": {"max": -1.0}})
    d["search"] = {"generations": 2, "population": 2, "seed": 0}
    out = tmp_path / "out"
    rc = design_main([str(write(tmp_path, d)), f"out={out}"])
    err = [l for l in capsys.readouterr().err.strip().splitlines() if l.strip() and not l.startswith("runs:")]  # the progress bar
    assert rc == 2 and len(err) == 1 and "constraints.public_cost_usd: no design of the first generation" in err[0], err
    assert not (out / "report.md").exists() and not (out / "pareto.parquet").exists()


# -- the search ----------------------------------------------------------------------------------
def _dominates(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(a <= b) and np.any(a < b))


def _minimised(t: pd.DataFrame) -> np.ndarray:
    return np.c_[-t["abatement_t_co2"].to_numpy(float), t["public_cost_usd"].to_numpy(float)]


@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("design")
    f = write(tmp, TINY)
    out = tmp / "out"
    search, _ = design_command([str(f), f"out={out}"])
    return f, out, search


def test_the_search_writes_its_outputs_and_its_pareto_set_is_non_dominated(searched):
    _, out, search = searched
    for name in ("pareto.parquet", "evaluations.parquet", "convergence.png", "pareto.png", "report.md"):
        assert (out / name).is_file(), name
    ev = pd.read_parquet(out / "evaluations.parquet")
    par = pd.read_parquet(out / "pareto.parquet")
    des = ev[ev["role"] == "design"]
    assert len(des) >= 6 and len(par) >= 1
    assert set(ev["role"]) >= {"baseline", "as_designed", "design"}
    P, D = _minimised(par), _minimised(des)
    for i in range(len(P)):  # no evaluated design dominates a Pareto design
        assert not any(_dominates(D[j], P[i]) for j in range(len(D)))
    rest = des[~des["candidate"].isin(par["candidate"])]
    for r in _minimised(rest):  # every other design is dominated by (or equal to) a Pareto design
        assert any(_dominates(p, r) or np.array_equal(p, r) for p in P)
    # the objectives are paired differences with the baseline of the same scenarios
    runs = read_runs(out, search.candidates[0].keys)  # the baseline's runs
    assert (runs["role"] == "baseline").all() and len(runs) == 2
    pick = par.iloc[0]
    c = next(c for c in search.designs() if c.x is not None and
             abs(c.row["abatement_t_co2"] - pick["abatement_t_co2"]) < 1e-9)
    mine = read_runs(out, c.keys)
    want = (runs["cumulative_emissions_t_co2"].to_numpy() - mine["cumulative_emissions_t_co2"].to_numpy()).mean()
    assert pick["abatement_t_co2"] == pytest.approx(want, rel=1e-12)
    report = (out / "report.md").read_text()
    assert "Cheapest design per tonne" in report and "programme as designed" in report


def test_a_killed_search_resumes_and_a_longer_one_continues_from_the_cache(searched, tmp_path):
    f, out, search = searched
    par = pd.read_parquet(out / "pareto.parquet")
    # killed: the outputs never written, three runs lost mid-way (a fragment exists only when complete)
    for name in ("pareto.parquet", "evaluations.parquet", "report.md"):
        (out / name).unlink()
    frags = sorted((out / "dataset" / "table=runs").glob("run=*"))
    for d in frags[:3]:
        shutil.rmtree(d)
    again, _ = design_command([str(f), f"out={out}"])
    assert again.runs_executed == 3  # only what was lost
    pd.testing.assert_frame_equal(pd.read_parquet(out / "pareto.parquet"), par)
    n_before = len(list((out / "dataset" / "table=runs").glob("run=*")))
    longer, _ = design_command([str(f), f"out={out}", "generations=3"])
    ev = pd.read_parquet(out / "evaluations.parquet")
    new = ev[(ev["role"] == "design") & (ev["generation"] == 3)]
    assert longer.runs_executed == len(new) * 2 == len(list((out / "dataset" / "table=runs").glob("run=*"))) - n_before


def test_common_random_numbers_the_same_candidate_twice_gives_identical_objectives(tmp_path):
    d = load_design(write(tmp_path, TINY))
    p = plan(d, [], [], 1)
    x = {"policy.capex_subsidy.subsidy_share": 0.4, "policy.training.enabled": True, "split": [0.7, 0.3]}
    a, b = tmp_path / "a", tmp_path / "b"
    ra, rb = candidate_runs(p, x), candidate_runs(p, x)
    assert [r.key for r in ra] == [r.key for r in rb]
    assert execute(ra, p, a, progress=False) == 2 and execute(rb, p, b, progress=False) == 2  # two fresh evaluations
    ta, tb = read_runs(a, [r.key for r in ra]), read_runs(b, [r.key for r in rb])
    pd.testing.assert_frame_equal(ta, tb)
    # another design meets the same scenarios: same seeds and uncertainty values (the model draws
    # firms, network and awareness from their own child streams of the seed: tests/test_compare.py)
    y = {**x, "policy.capex_subsidy.subsidy_share": 0.1}
    ry = candidate_runs(p, y)
    assert [(r.meta["sample"], r.meta["seed"], r.meta["behaviour.peer_awareness_per_month"]) for r in ry] == \
           [(r.meta["sample"], r.meta["seed"], r.meta["behaviour.peer_awareness_per_month"]) for r in ra]
    execute(ry, p, a, progress=False)
    ty = read_runs(a, [r.key for r in ry])
    assert (ty["cumulative_emissions_t_co2"].to_numpy() != ta["cumulative_emissions_t_co2"].to_numpy()).any()


def test_one_lever_and_a_monotone_cost_the_search_finds_the_budget_boundary(tmp_path):
    """Workshops cost US$ 15,000 each (schema default) with no budget cap; 2 years: public cost
    = 30,000 x workshops a year; <= 100,000 allows at most 3 a year: the most workshops held
    within the constraint is the boundary, 3."""
    d = {
        "name": "boundary", "scenario": "mx_cluster",
        "overrides": ["n_firms=80", "end_year=2026", "write_firm_panel=false", "policy.workshops.enabled=true",
                      "policy.workshops.budget_usd=1e9"],
        "baseline": ["policy.workshops.enabled=false"],
        "levers": {"policy.workshops.workshops_per_yr": {"kind": "integer", "range": [0, 12]}},
        "objectives": {
            "workshops_held": {"outcome": "workshops_held", "sense": "maximize"},
            "public_cost_usd": {"outcome": "public_spending_usd", "versus_baseline": "increase", "sense": "minimize"},
        },
        "constraints": {"public_cost_usd": {"max": 100000}},
        "search": {"generations": 4, "population": 6, "seed": 1},
    }
    search, out = design_command([str(write(tmp_path, d)), f"out={tmp_path / 'out'}"])
    ev = pd.read_parquet(out / "evaluations.parquet")
    des = ev[ev["role"] == "design"]
    lever = "policy.workshops.workshops_per_yr"
    assert (des["public_cost_usd"] == 30000.0 * des[lever]).all()  # the monotone cost, independently
    par = pd.read_parquet(out / "pareto.parquet")
    assert par[lever].max() == 3
    assert not des.loc[des[lever] > 3, "feasible"].any()


# -- scenario discovery ----------------------------------------------------------------------------
def test_prim_recovers_a_planted_box():
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a": rng.random(1500), "b": rng.random(1500), "c": rng.random(1500)})
    y = ((x["a"] > 0.6) & (x["b"] < 0.3)).to_numpy()
    (box, i), *_ = find_boxes(x, y, n_boxes=1, min_coverage=0.9)
    lim = box.limits
    assert set(lim.index) == {"a", "b"}  # c is not restricted
    assert lim.loc["a", "min"] == pytest.approx(0.6, abs=0.03) and lim.loc["b", "max"] == pytest.approx(0.3, abs=0.03)
    st = box.peeling_trajectory.iloc[i]
    assert st["coverage"] >= 0.9 and st["density"] >= 0.9


def test_discover_on_a_design_folder_and_bad_conditions(searched, capsys):
    _, out, _ = searched
    ev = pd.read_parquet(out / "evaluations.parquet")
    thr = float(ev.loc[ev["role"] == "design", "abatement_t_co2"].median())
    assert discover_main([str(out), f"abatement_t_co2<{thr}"]) == 0
    capsys.readouterr()
    d = out / "discover" / f"abatement_t_co2_lt_{thr:g}"
    assert (d / "boxes.csv").is_file() and (d / "tradeoff.png").is_file() and (d / "boxes.md").is_file()
    for cond, words in (("abatement<1", "not in the runs"), ("abatement_t_co2 is small", "outcome<threshold"),
                        ("abatement_t_co2<-1e12", "no run meets it")):
        assert discover_main([str(out), cond]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0], err


def test_an_unreachable_launcher_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    rc = design_main([str(write(tmp_path, TINY)), f"out={out}", "hydra/launcher=ray_tasks",
                      "hydra.launcher.ray.init.address=127.0.0.1:9"])  # nothing listens on port 9
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and ("not reachable" in err[0] or "not installed" in err[0]), err
    assert not out.exists()


def test_posterior_draws_enter_every_candidate_by_seed(tmp_path):
    """posterior=FILE: seed s of every candidate (and the baseline) runs at posterior draw s, so
    candidates stay paired; the draws change the runs' keys (the cache) and a bad posterior key
    is one line."""
    from sim.errors import BadInput
    from sim.posterior import updates_by_seed, write_posterior

    d = load_design(write(tmp_path, _with(uncertainties={})))
    p = plan(d, [], [], 1)
    x = {"policy.capex_subsidy.subsidy_share": 0.4, "policy.training.enabled": True, "split": [0.7, 0.3]}
    plain = candidate_runs(p, x)
    f = write_posterior(tmp_path / "post.parquet",
                        pd.DataFrame({"behaviour.peer_awareness_per_month": [0.01, 0.09], "weight": [0.5, 0.5]}), {"name": "t"})
    p.posterior = updates_by_seed(f, list(d.seeds), p.base_overrides, seed=1)
    drawn, base = candidate_runs(p, x), candidate_runs(p, None, role="baseline")
    for runs in (drawn, base):
        assert {r.meta["seed"]: r.updates["behaviour.peer_awareness_per_month"] for r in runs} == \
               {s: u["behaviour.peer_awareness_per_month"] for s, u in p.posterior.items()}
    assert {r.key for r in drawn}.isdisjoint(r.key for r in plain)
    bad = write_posterior(tmp_path / "bad.parquet", pd.DataFrame({"behaviour.peer_awarenes": [0.1], "weight": [1.0]}), {})
    with pytest.raises(BadInput, match="peer_awarenes"):
        updates_by_seed(bad, list(d.seeds), p.base_overrides)
