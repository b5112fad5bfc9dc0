"""The compiled screening pass (sim/screening.py) against the decision terms it evaluates:
its candidates are exactly the open pairs that pass the pre-filter computed from the dense
terms, so the shortcuts it takes (skipping pairs early, bounding the annuity before the exact
log/exp) never drop or add a pair."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import make_config
from sim import decision, screening
from sim.model import ClusterModel

CASES = {
    "capex subsidy, cost share, green loan, carbon price": ("policy=incentive_package", "n_firms=3000", "end_year=2030"),
    "fixed-size programme grants (Bajio centre)": ("scenario=bajio_cpi", "n_firms=4000", "end_year=2029"),
    "per-measure grants, programme capex factors and values (WEF)": ("scenario=wef_dunkerque", "end_year=2032"),
    "no peers, no risk term": ("policy=incentive_package", "n_firms=2000", "end_year=2029", "scenario.network.kind=none",
                               "behaviour.terms.risk=false", "behaviour.terms.peer_risk=false"),
}


def _expected(model, idx):
    """Candidates by the module docstring of decision.py, from the dense terms (numpy)."""
    tm = decision.terms(model, idx)
    gov = model.gov
    g_max = gov.max_grant_bound(tm.capex)
    loan_max = gov.green_loan.cfg.max_loan_per_firm_usd if gov.green_loan.active else 0.0
    bound = tm.net_value * tm.annuity - tm.capex - tm.hidden + g_max
    if loan_max:
        bound += np.minimum(tm.capex, np.float32(loan_max))
    ok = tm.open & (bound > 0)
    ok &= tm.capex - g_max <= (tm.funds + loan_max).astype(np.float32)[:, None]
    r, k = np.nonzero(ok)
    return idx[r], k, tm


@pytest.mark.parametrize("overrides", list(CASES.values()), ids=list(CASES))
def test_candidates_are_the_open_pairs_that_pass_the_prefilter(overrides):
    model = ClusterModel(make_config(*overrides, "seed=5"), lazy_firm_agents=True)
    checked = 0
    for month in range(30):
        model.step()
        if month % 7:
            continue
        idx = np.arange(month % 12, model.n_firms, 12)
        firm, measure, tm = _expected(model, idx)
        got_f, got_k, val = screening.candidates(model, idx, None)  # no awareness update: same state
        assert list(zip(got_f, got_k)) == list(zip(firm, measure))
        rows = np.searchsorted(idx, got_f)
        np.testing.assert_array_equal(val[:, screening.C_CAPEX], tm.capex[rows, got_k])
        np.testing.assert_array_equal(val[:, screening.C_ANN], tm.annuity[rows, got_k])
        np.testing.assert_array_equal(val[:, screening.C_NET], tm.net_value[rows, got_k])
        np.testing.assert_array_equal(val[:, screening.C_FUNDS], tm.funds[rows])
        checked += len(got_f)
    assert checked > 0  # the comparison had pairs to compare


def test_annuity_and_rates_match_the_closed_form():
    model = ClusterModel(make_config("n_firms=1500", "end_year=2027", "seed=2"), lazy_firm_agents=True)
    model.step()
    tm = decision.terms(model, np.arange(200))
    life = model.catalogue.lifetime_yr[None, :]
    expected = decision.annuity_factor(tm.r_eff.astype(float), life)
    np.testing.assert_allclose(tm.annuity, expected, rtol=2e-6)
    assert (tm.r_eff >= np.float32(0.005)).all()
    # the effective rate is never below the firm's own hurdle rate less customer pressure
    b = model.behaviour
    floor = model.firms.hurdle_rate_per_yr[:200] - b.customer_pressure_per_yr * model.customer_pressure[:200]
    assert (tm.r_eff >= np.maximum(floor, 0.005)[:, None].astype(np.float32) - 1e-6).all()


def test_awareness_update_learns_only_unaware_applicable_pairs():
    model = ClusterModel(make_config("n_firms=2000", "end_year=2027", "seed=4"), lazy_firm_agents=True)
    model.step()
    ft = model.firms
    idx = np.arange(0, model.n_firms, 12)
    before = ft.aware.copy()
    count_before = model.aware_count.copy()
    draws = np.zeros((len(idx), model.catalogue.k), np.float32)  # zero draws: every hazard > 0 wins
    screening.candidates(model, idx, draws)
    learned = ft.aware & ~before
    assert not learned[np.setdiff1d(np.arange(model.n_firms), idx)].any()  # firms not under review
    expected = ft.applicable[idx] & ~before[idx]
    np.testing.assert_array_equal(learned[idx], expected)
    np.testing.assert_array_equal(model.aware_count - count_before, expected.sum(axis=0))
    huge = np.full_like(draws, 1e30)  # nobody learns at infinite draws
    before = ft.aware.copy()
    screening.candidates(model, np.arange(1, model.n_firms, 12), huge)
    np.testing.assert_array_equal(ft.aware, before)
