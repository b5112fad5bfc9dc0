"""Paired policy evaluation: common random numbers across policies, the paired metrics, the
written table/plot, and bad input."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra.core.global_hydra import GlobalHydra

from sim.compare import Request, compare, paired_metrics, parse_args
from sim.model import ClusterModel
from sim.compose import BadInput
from sim.params import to_config
from sim.run import compose

REPO = Path(__file__).resolve().parent.parent
SMALL = ["n_firms=300", "end_year=2027", "write_firm_panel=false"]


def model(*over):
    cfg = compose(list(over))
    GlobalHydra.instance().clear()
    return ClusterModel(to_config(cfg))


def test_same_seed_same_firms_network_and_awareness_draws_under_different_policies():
    a = model("n_firms=400", "seed=3", "policy=none")
    b = model("n_firms=400", "seed=3", "policy=incentive_package")
    c = model("n_firms=400", "seed=4", "policy=none")
    for col in ("sector", "size_class", "cluster", "hurdle_rate_per_yr", "capability", "risk_aversion",
                "energy_mwh_per_yr", "cash_usd_per_yr", "credit_usd", "aware", "last_review_month", "sets_supplier_target"):
        assert np.array_equal(getattr(a.firms, col), getattr(b.firms, col)), col
    assert not np.array_equal(a.firms.hurdle_rate_per_yr, c.firms.hurdle_rate_per_yr)  # another seed, other firms
    for col in ("src", "dst", "kind"):
        assert np.array_equal(getattr(a.network, col), getattr(b.network, col)), col
    assert (a.network.peers.to_scipy() != b.network.peers.to_scipy()).nnz == 0
    # a year of steps: the policy changes decisions, the awareness draws are the seed's
    for _ in range(12):
        a.step()
        b.step()
    assert a.awareness_key == b.awareness_key != c.awareness_key  # the same numbers per (month, firm, measure)
    assert a.adopter_count.sum() != b.adopter_count.sum()  # ... and the policy did change something


def test_a_policy_that_changes_nothing_has_exactly_zero_effect_in_every_seed(tmp_path):
    """With common random numbers a no-op policy (a carbon price of 0) shows no noise at all."""
    req = Request(policies=["carbon_price"], seeds=[0, 1], out=tmp_path,
                  overrides=SMALL + ["policy.carbon_price.price_usd_per_t_co2=0", "policy.carbon_price.growth_usd_per_t_co2_per_yr=0"])
    table, by_seed, _ = compare(req)
    assert (by_seed["abatement_t_co2"] == 0).all() and (by_seed["emissions_abated_t_co2"] == 0).all()
    assert (by_seed["additional_adoptions"] == 0).all() and (by_seed["public_cost_usd"] == 0).all()
    assert (by_seed["energy_cost_saving_usd"] == 0).all()


@pytest.mark.slow
def test_paired_metrics_and_outputs(tmp_path):
    from sim.evaluation.additionality import in_baseline_within, supported
    from sim.evaluation.runs import load_run

    req = Request(policies=["incentive_package"], seeds=[0, 1, 2], out=tmp_path, overrides=SMALL, attribution="none")
    table, by_seed, out = compare(req)
    assert list(table["policy"]) == ["incentive_package"] and len(by_seed) == 3
    for f in ("compare.parquet", "compare_by_seed.parquet", "compare.md", "compare.png", "cost_effectiveness.parquet",
              "distribution.parquet", "distribution.png"):
        assert (out / f).stat().st_size > 0, f
    assert not (out / "instruments.parquet").exists()  # attribution=none
    assert pd.read_parquet(out / "compare.parquet").equals(table)
    r = table.iloc[0]
    assert r["abatement_t_co2_lo95"] <= r["abatement_t_co2"] <= r["abatement_t_co2_hi95"]
    assert r["abatement_t_co2"] == pytest.approx(by_seed["abatement_t_co2"].mean())
    assert r["public_cost_usd"] > 0 and r["abatement_t_co2"] > 0
    assert r["public_usd_per_t_co2"] == pytest.approx(r["public_cost_usd"] / r["abatement_t_co2"])
    # additionality and free riding recomputed by hand from the adoption tables of seed 1
    b = pd.read_parquet(out / "runs/none/seed=1/adoptions.parquet")
    p = pd.read_parquet(out / "runs/incentive_package/seed=1/adoptions.parquet")
    base = set(zip(b["firm"], b["measure"].astype(str)))
    in_base = np.array([k in base for k in zip(p["firm"], p["measure"].astype(str))])
    life = load_run(out / "runs/incentive_package/seed=1").lifetime_yr
    # within 2 years of the policy adoption or installed before it and in service: a subset of "ever in the baseline"
    within = in_baseline_within(p, b, 2.0, life)
    assert (within <= in_base).all()
    sup = supported(p)
    m = paired_metrics(out / "runs/none/seed=1", out / "runs/incentive_package/seed=1")
    assert m["additional_adoptions"] == (~within).sum() > 0
    assert m["free_riders"] == (sup & within).sum()
    assert 0 <= m["free_rider_share"] <= 1 and 0 < m["additionality_share"] <= 1
    md = (out / "compare.md").read_text()
    assert "| incentive_package |" in md and "free-rider share" in md
    # a second call reuses the complete runs (same configs) and gives the same table
    mtime = (out / "runs/none/seed=0/summary.json").stat().st_mtime_ns
    table2, _, _ = compare(req)
    assert (out / "runs/none/seed=0/summary.json").stat().st_mtime_ns == mtime
    pd.testing.assert_frame_equal(table, table2)


@pytest.mark.parametrize("argv, msg", [
    (["seeds=3"], "policies: missing"),
    (["policies=[]"], "policies = []"),
    (["policies=[incentive_package]", "seeds=0"], "seeds: no seeds"),
    (["policies=[incentive_package]", "seeds=abc"], "seeds = 'abc'"),
    (["policies=[none]"], "baseline = 'none' is also in policies"),
    (["policies=[incentive_package]", "policy=none"], "policy: set by the comparison"),
    (["policies=[incentive_package]", "discount_rate=2"], "discount_rate = 2: a number in [0, 1]"),
    (["policies=[incentive_package]", "attribution=shapley"], "attribution = 'shapley': one of remove_one, none"),
    (["policies=[incentive_package]", "drivers=no/such.yaml"], "drivers = 'no/such.yaml': no such file"),
    (["policies=[incentive_package]", "horizons=[2030,x]"], "horizons = "),
])
def test_argument_errors(argv, msg):
    with pytest.raises(BadInput, match=msg.replace("[", r"\[").replace("]", r"\]")):
        parse_args(argv)


def test_cli_bad_input_one_line_exit_2(tmp_path):
    for args, expect in ((["policies=[no_such_policy]", "seeds=2"], "policy=no_such_policy: unknown policy"),
                         (["policies=[incentive_package]", "seeds=2", "n_firms=0"], "n_firms = 0")):
        r = subprocess.run([sys.executable, "-m", "sim.compare", *args, f"out={tmp_path / 'x'}"], cwd=REPO,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and expect in lines[0], r.stderr
        assert not (tmp_path / "x").exists()
