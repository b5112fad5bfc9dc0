"""Calibration (sim.calibrate, sim.posterior, sim.outcomes): recovery of known Bass parameters
from the model's own series, resuming a stored calibration, posterior draws widening a
comparison's spread, and the bad inputs."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
BASS = REPO / "experiments" / "calibration" / "bass_recovery.yaml"
IAC = REPO / "experiments" / "calibration" / "iac_assessments.yaml"


def tiny_bass(tmp_path: Path) -> Path:
    """The shipped recovery file at a tiny size: 200 firms, 2025-2030, three targets (sd widened
    to the noise of a 200-firm series: binomial sd at F = 1/2 is 0.035)."""
    d = yaml.safe_load(BASS.read_text())
    d["overrides"] = [o for o in d["overrides"] if not o.startswith(("n_firms=", "end_year="))] + ["n_firms=200", "end_year=2030"]
    d["targets"] = [dict(t, sd=0.06) for t in d["targets"] if t["year"] <= 2030]
    d["abc"] = {"population": 30, "generations": 3, "predictive_draws": 4, "workers": 1}
    f = tmp_path / "bass_tiny.yaml"
    f.write_text(yaml.safe_dump(d, sort_keys=False))
    return f


def populations(out: Path) -> pd.DataFrame:
    from pyabc import History

    h = History("sqlite:///" + str((out / "calibration.db").resolve()), _id=1)
    return pd.concat([h.get_distribution(0, t)[0].assign(t=t) for t in range(h.max_t + 1)])


def test_bass_recovery_and_resume(tmp_path):
    """Two generations, then the same command asked for three: the stored generations are
    kept (same particles) and one more is added; the known truth lies inside the posterior's
    90 % interval of both Bass coefficients, and the interval is narrower than the prior."""
    from sim.calibrate import calibrate, parse_args

    f, out = tiny_bass(tmp_path), tmp_path / "cal"
    # pyabc's single-core sampler draws from numpy's global generator: seeded here, the test is
    # reproducible (worker processes reseed from the OS, so CI uses one worker)
    np.random.seed(20261129)
    calibrate(*parse_args([str(f), f"out={out}", "generations=2"]))
    first = populations(out)
    assert sorted(first["t"].unique()) == [0, 1]
    calibrate(*parse_args([str(f), f"out={out}", "generations=3"]))
    both = populations(out)
    assert sorted(both["t"].unique()) == [0, 1, 2]
    pd.testing.assert_frame_equal(both[both["t"] < 2].reset_index(drop=True), first.reset_index(drop=True))
    import json

    sessions = json.loads((out / "calibration.json").read_text())["sessions"]
    assert [(s["generations_before"], s["generations_after"]) for s in sessions] == [(0, 2), (2, 3)]
    ident = pd.read_parquet(out / "identification.parquet")
    assert ident["truth_in_90"].all(), ident
    assert (ident["width_ratio"] < 0.9).all(), ident  # the series says something about p and q
    post = pd.read_parquet(out / "posterior.parquet")
    assert abs(post["weight"].sum() - 1) < 1e-9 and len(post) == 30
    for name in ("marginals.png", "pairs.png", "predictive.png", "report.md"):
        assert (out / name).stat().st_size > 0


def test_posterior_draws_widen_a_compared_outcome(tmp_path):
    """sim.compare posterior=...: seed s of both policies runs at posterior draw s; with a
    posterior spread over the peer-awareness rate (none, or every adopting neighbour teaching
    within a month) the baseline's adoptions vary more across seeds than with the seeds alone,
    and each run's config holds its draw."""
    from sim.compare import compare, parse_args
    from sim.posterior import write_posterior

    post = pd.DataFrame({"behaviour.peer_awareness_per_month": [0.0, 1.0], "weight": [0.5, 0.5]})
    pfile = write_posterior(tmp_path / "posterior.parquet", post, {"name": "hand-made"})
    common = ["policies=[incentive_package]", "seeds=4", "n_firms=600", "end_year=2030", "write_firm_panel=false"]
    _, plain, _ = compare(parse_args(common + [f"out={tmp_path / 'plain'}", "attribution=none"]))
    _, drawn, out = compare(parse_args(common + [f"out={tmp_path / 'drawn'}", f"posterior={pfile}", "attribution=none"]))
    peer = {s: yaml.safe_load((out / "runs" / p / f"seed={s}" / "config.yaml").read_text())["behaviour"]["peer_awareness_per_month"]
            for p in ("none", "incentive_package") for s in range(4)}
    assert set(peer.values()) == {0.0, 1.0}  # both draws occur; each seed's policies share theirs
    for p in ("none", "incentive_package"):
        assert {s: yaml.safe_load((out / "runs" / p / f"seed={s}" / "config.yaml").read_text())["behaviour"]
                ["peer_awareness_per_month"] for s in range(4)} == peer
    # paired by seed (same firms and draws): the posterior's draw moves each seed's outcome in
    # its direction, which widens the spread across seeds
    shift = (drawn.set_index("seed")["baseline_adoptions"] - plain.set_index("seed")["baseline_adoptions"])
    assert shift[[s for s in peer if peer[s] == 1.0]].min() > shift[[s for s in peer if peer[s] == 0.0]].max()
    assert drawn["baseline_adoptions"].std() > plain["baseline_adoptions"].std()


def test_draw_overrides_follow_the_weights(tmp_path):
    from sim.posterior import draw_overrides, write_posterior

    post = pd.DataFrame({"behaviour.review_interval_months": [6, 24], "weight": [0.9, 0.1]})
    f = write_posterior(tmp_path / "p.parquet", post, {"integer_keys": ["behaviour.review_interval_months"]})
    draws = draw_overrides(f, 400, seed=3)
    values = [d[0].split("=")[1] for d in draws]
    assert set(values) == {"6", "24"}  # integers stay integers
    assert 0.85 < values.count("6") / 400 < 0.95


def _bad(tmp_path, edit) -> tuple[int, str, Path]:
    from sim.calibrate import main

    d = yaml.safe_load(IAC.read_text())
    edit(d)
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(d, sort_keys=False))
    out = tmp_path / "out"
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = main([str(f), f"out={out}"])
    return rc, err.getvalue(), out


@pytest.mark.parametrize("edit, says", [
    (lambda d: d["targets"][0].update(outcome="implementation_share"), "outcome 'implementation_share' unknown"),
    (lambda d: d["targets"][1].update(window=[2025, 2031]), "outside the run"),
    (lambda d: d["parameters"]["scenario.risk_aversion_mean"].update(low=0.6, high=0.6), "empty prior range"),
    (lambda d: d["parameters"].update({"behaviour.peer_learning_strength": {"low": 0, "high": 1}}), "not a config key"),
], ids=["unknown-outcome", "year-outside-run", "empty-prior", "not-a-config-key"])
def test_bad_input_one_line_exit_2_nothing_written(tmp_path, edit, says):
    rc, err, out = _bad(tmp_path, edit)
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and says in err, err
    assert not out.exists()


def test_outcomes_read_the_run_tables():
    """Outcome functions against the tables computed by hand: adopted share at a year's last
    month, adoptions per year, emissions of a year; the implementation rate is the share of
    recommended pairs adopted within 12 months."""
    from sim.compose import load
    from sim.outcomes import evaluate, simulate

    cfg = load(["n_firms=300", "end_year=2027", "write_firm_panel=false", "policy=none", "policy.cost_share.enabled=true",
                "policy.cost_share.copay_share=1.0", "policy.cost_share.assessments_per_yr=60", "policy.cost_share.budget_usd=1e12",
                "policy.cost_share.cost_per_assessment_usd=0"])
    run = simulate(cfg)
    ts, ad = run.results.timeseries, run.results.adoptions
    assert evaluate("adopted_share", run, (2026, 2026), {"measure": "led_lighting"}) == ts.loc[ts["year"] == 2026, "adopted_share_led_lighting"].iloc[-1]
    assert evaluate("adoptions_per_yr", run, (2025, 2026)) == ((ad["year"] >= 2025) & (ad["year"] <= 2026)).sum() / 2
    assert evaluate("emissions_t_co2", run, (2027, 2027)) == run.results.summary["emissions_t_co2_by_year"][2027]
    a = run.assessments
    rec = a[a["recommended"] & (a["month"] < 24)]
    assert len(rec) > 0
    adopted = [((ad["firm"] == f) & (ad["measure"].cat.codes == k) & (ad["month"] >= m) & (ad["month"] < m + 12)).any()
               for f, k, m in zip(rec["firm"], rec["measure"], rec["month"])]
    assert evaluate("implementation_rate_after_assessment", run, (2025, 2026)) == pytest.approx(np.mean(adopted))
