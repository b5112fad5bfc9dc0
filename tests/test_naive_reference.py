"""The naive reference of the benchmark (benchmarks/naive_reference.py) implements the
engine's decision rules: the speed-up the benchmark reports is like for like.

1. Without random draws (information barrier off, peer risk off, no workshops or
   assessments, firms stepping in row order) the naive model reproduces the engine's
   adoptions event for event (month, firm, measure) and its spending by instrument, with
   binding subsidy and loan budgets and consultants from training.
2. With every term and instrument on, adoption totals by measure, summed over seeds, agree
   within sampling noise: |engine - naive| <= Z_TOL * sqrt(engine + naive + 1) per measure
   and for the total (counts are Poisson-scale; the random streams differ).
3. The same comparison rejects a naive model whose rules differ (hidden costs ignored).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from naive_reference import NaiveModel, engine_new_adoptions  # noqa: E402

from sim.model import ClusterModel  # noqa: E402
from sim.params import to_config  # noqa: E402
from sim.run import compose  # noqa: E402

N_FIRMS, MONTHS, SEEDS = 500, 36, range(4)
Z_TOL = 3.5  # tolerance in Poisson standard deviations of the difference


def _cfg(seed, *overrides):
    return to_config(compose([f"n_firms={N_FIRMS}", f"seed={seed}", "policy=incentive_package", *overrides]))


def _events_engine(model):
    return {(m, int(f), int(k)) for m, b in model.adoption_log for f, k in zip(b.firm, b.measure)}


def _events_naive(model):
    return {(m, f, k) for m, f, k, *_ in model.adoption_log}


def test_naive_reproduces_engine_without_random_draws():
    overrides = ["policy.workshops.enabled=false", "policy.cost_share.enabled=false",
                 "policy.capex_subsidy.budget_usd=300000", "policy.green_loan.credit_line_usd=6000000",
                 "behaviour.terms.information=false", "behaviour.terms.peer_risk=false"]
    cfg = _cfg(0, *overrides)
    for m in cfg.measures.catalogue:  # savings lapses are random draws (each model its own stream)
        m.persistence_share_per_yr = 1.0
    engine = ClusterModel(cfg)
    naive = NaiveModel(cfg, engine, activation="ordered")
    for _ in range(MONTHS):
        engine.step()
    naive.run(MONTHS)

    ev_e, ev_n = _events_engine(engine), _events_naive(naive)
    assert len(ev_e) > 100
    assert ev_e == ev_n
    # the instruments were exercised: budgets bound, consultants were used
    assert engine.instruments["capex_subsidy"].exhausted_month is not None
    assert naive.gov.subsidy.exhausted_month == engine.instruments["capex_subsidy"].exhausted_month
    assert naive.gov.loan.exhausted_month == engine.instruments["green_loan"].exhausted_month
    assert sum(int(b.consultant.sum()) for _, b in engine.adoption_log) > 0
    se, sn = engine.gov.spending_usd(), naive.gov.spending_usd()
    for name in ("capex_subsidy", "green_loan", "training"):
        assert se[name] > 0
        assert sn[name] == pytest.approx(se[name], rel=1e-5), name


@pytest.fixture(scope="module")
def engine_totals():
    """Engine adoption totals over the seeds, and per seed the naive models built from the
    engine's population before it runs (so every model starts from the same state)."""
    starts, per_seed = {}, []
    for seed in SEEDS:
        cfg = _cfg(seed)
        engine = ClusterModel(cfg)
        starts[seed] = {"same": NaiveModel(cfg, engine),
                        "hidden_costs_ignored": NaiveModel(_cfg(seed, "behaviour.terms.hidden_costs=false"), engine)}
        for _ in range(MONTHS):
            engine.step()
        per_seed.append(engine_new_adoptions(engine))
    return np.sum(per_seed, axis=0), starts


def _naive_totals(starts, variant):
    out = None
    for seed in SEEDS:
        model = starts[seed][variant]
        model.run(MONTHS)
        a = np.array(model.new_adoptions)
        out = a if out is None else out + a
    return out


def _z(e, n):
    return (e - n) / np.sqrt(e + n + 1.0)


def test_naive_adoption_by_measure_matches_engine(engine_totals):
    e, starts = engine_totals
    n = _naive_totals(starts, "same")
    assert e.sum() > 1000  # enough adoptions for the comparison to mean something
    z = _z(e, n)
    assert np.abs(z).max() <= Z_TOL, dict(engine=e.tolist(), naive=n.tolist(), z=z.round(2).tolist())
    assert abs(_z(e.sum(), n.sum())) <= Z_TOL


def test_comparison_rejects_diverging_rules(engine_totals):
    e, starts = engine_totals
    n = _naive_totals(starts, "hidden_costs_ignored")
    assert np.abs(_z(e, n)).max() > Z_TOL
    assert abs(_z(e.sum(), n.sum())) > Z_TOL
