"""The validation suite (sim/validation) at CI size: the same checks `make validate` runs,
on smaller populations. Each check must pass; the tests below also show the checks can fail
(a wrong closed form, a tampered ledger)."""
from __future__ import annotations

import numpy as np
import pytest

from sim.validation import SIZES, run_suite, write_report
from sim.validation import bass, conservation

SMALL = SIZES["small"]


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("validation")


@pytest.fixture(scope="module")
def bass_checks(out_dir):
    return {c.name: c for c in run_suite("small", out_dir, ("bass",), log=lambda *_: None)}


def test_bass_mean_field_matches_closed_form(bass_checks):
    c = bass_checks["bass_mean_field"]
    assert c.passed, c.line()
    rows = c.data["rows"]
    assert [(r["p"], r["q"]) for r in rows][0] == (0.03, 0.38)
    assert len(rows) >= 3
    # the least-squares fit of the closed form recovers (p, q) of the engine's inputs
    for r in rows:
        assert r["p_hat"] == pytest.approx(r["p"], rel=0.25)
        assert r["q_hat"] == pytest.approx(r["q"], rel=0.15)


def test_bass_sparse_graphs_are_slower(bass_checks):
    c = bass_checks["bass_sparse_graphs"]
    assert c.passed, c.line()
    t50 = c.data["t50"]
    assert t50["small_world"] > t50["complete"] and t50["scale_free"] > t50["complete"]


def test_bass_check_rejects_a_wrong_imitation_coefficient():
    """The same simulated curve is far from the closed form of another q: the check can fail."""
    years, n = 15, SMALL["bass_n"]
    t = np.arange(1, 12 * years + 1) / 12
    sim = bass.simulate(0.03, 0.38, n, years)
    tol = bass.CLOSED_FORM_TOL + 8 * 0.5 / np.sqrt(n)
    assert np.max(np.abs(sim - bass.bass_F(t, 0.03, 0.38))) <= tol
    assert np.max(np.abs(sim - bass.bass_F(t, 0.03, 0.60))) > tol


def test_discrete_recursion_converges_to_closed_form():
    """The engine's expected path approaches the continuous closed form as the step shrinks."""
    gaps = []
    for steps in (12, 48, 192):
        t = np.arange(1, 20 * steps + 1) / steps
        gaps.append(np.max(np.abs(bass.discrete_recursion(0.03, 0.38, len(t), steps) - bass.bass_F(t, 0.03, 0.38))))
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 0.003


@pytest.fixture(scope="module")
def conservation_check(out_dir):
    return run_suite("small", out_dir, ("conservation",), log=lambda *_: None)[0]


def test_conservation_identities_hold(conservation_check):
    c = conservation_check
    assert c.passed, c.table
    assert c.data["adoptions"] > 100  # the run exercises the ledger
    assert all(v > 0 for k, v in c.data["spending"].items() if k in ("capex_subsidy", "cost_share", "green_loan", "workshops"))


def test_energy_replay_detects_a_tampered_firm_table():
    from sim.validation.common import compose_config
    from sim.model import ClusterModel

    m = ClusterModel(compose_config(conservation.overrides(400, 4)))
    m.run()
    assert sum(len(b) for _, b in m.adoption_log) > 0 and m.expiries_total > 0
    replay = conservation.replay_energy(m)
    np.testing.assert_allclose(replay, m.firms.energy_mwh_per_yr, rtol=1e-9, atol=1e-9)
    f, _ = m.adoption_log[-1][1].firm[0], None
    m.firms.energy_mwh_per_yr[f, 0] *= 1.01  # a measure's saving booked twice would look like this
    assert conservation._rel(conservation.replay_energy(m), m.firms.energy_mwh_per_yr) > 1e-6


def test_report_lists_every_check_with_its_figure(bass_checks, conservation_check, out_dir):
    checks = list(bass_checks.values()) + [conservation_check]
    path = write_report(checks, out_dir, "small")
    text = path.read_text()
    for c in checks:
        assert f"`{c.name}`" in text and c.tolerance in text
        assert (out_dir / c.figure).stat().st_size > 10_000
    assert "PASS" in text
    assert len({c.figure for c in checks}) == len(checks)  # one PNG per check


@pytest.mark.parametrize("args", [["--size", "huge"], ["--only", "bass,nope"]])
def test_cli_rejects_bad_arguments_with_one_line_and_exit_2(args, tmp_path):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "sim.validation", *args, "--out", str(tmp_path)], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: ")
    assert not (tmp_path / "report.md").exists()


@pytest.fixture(scope="module")
def barrier_checks(out_dir):
    return {c.name: c for c in run_suite("small", out_dir, ("barriers",), log=lambda *_: None)}


def test_each_prohibitive_barrier_alone_stops_adoption_of_affected_measures(barrier_checks):
    c = barrier_checks["barriers_prohibitive"]
    assert c.passed, c.table
    rows = {r["barrier"]: r for r in c.data["rows"]}
    assert set(rows) == {"information", "capital", "skills", "hidden_costs", "risk", "economics"}
    for r in rows.values():
        assert r["affected_blocked"] == 0
        assert r["affected_free"] > 0 and r["unaffected_blocked"] > 0  # the zero is the barrier's doing


def test_instrument_levers_have_the_expected_sign(barrier_checks):
    c = barrier_checks["instrument_signs"]
    assert c.passed, c.table
    for r in c.data["rows"]:
        a = r["adoptions"]
        direction = np.sign(r["grid"][-1] - r["grid"][0]) * r["sign"]
        assert (a[-1] - a[0]) * direction > 0, r


def test_binding_budgets_cap_spending(barrier_checks):
    c = barrier_checks["budget_cap"]
    assert c.passed, c.table
    for r in c.data["rows"]:
        assert r["spent"] <= r["budget"] and r["exhausted_month"] is not None
        assert r["budget"] - r["spent"] < r["one_grant"]


@pytest.fixture(scope="module")
def field_check(out_dir):
    return run_suite("small", out_dir, ("field",), log=lambda *_: None)[0]


def test_field_evidence_hurdle_rates_and_rejection_reasons(field_check):
    c = field_check
    assert c.passed, c.line()
    d = c.data["default"]
    assert 0.5 <= d["implied_hurdle_per_yr"] <= 1.0  # Anderson & Newell (2004): 50-100 %/yr
    assert d["rejected_for_economics_share"] >= 0.5
    assert d["n_recommended"] > 500
    # a stricter auditor (shorter paybacks recommended) sees a higher implementation rate
    rates = [r for *_, r in d["by_cutoff"] if np.isfinite(r)]
    assert rates[0] > rates[-1]
    # calibration moves the revealed threshold towards 15 months as hurdle rates rise
    runs = c.data["runs"]
    lams = sorted(runs)
    thresholds = [runs[l]["payback_threshold_yr"] for l in lams]
    assert thresholds[0] > thresholds[-1]


def test_logit_fit_recovers_known_coefficients():
    rng = np.random.default_rng(0)
    from sim.validation.field import logit_fit

    x = rng.normal(size=(20000, 2))
    p = 1 / (1 + np.exp(-(0.5 + 1.5 * x[:, 0] - 2.0 * x[:, 1])))
    y = (rng.random(20000) < p).astype(float)
    b = logit_fit(x, y)
    np.testing.assert_allclose(b, [0.5, 1.5, -2.0], atol=0.1)
