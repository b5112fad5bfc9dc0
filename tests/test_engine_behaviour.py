"""The engine's behaviour: each mechanism does what the model description says."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import make_config
from sim.energy import ELECTRICITY, SCOPE1_CARRIERS
from sim.model import ClusterModel
from sim.params import CARRIERS
from sim.run import run_model

SHORT = ("n_firms=1500", "end_year=2029")


def test_no_awareness_means_no_adoption():
    cfg = make_config(*SHORT, "policy=incentive_package")
    for m in cfg.measures.catalogue:
        m.initial_awareness_share = 0.0
        m.info_rate_per_month = 0.0
    # every other channel of awareness is shut: workshops and pre-assessments inform firms
    cfg.policy.workshops.enabled = False
    cfg.policy.cost_share.enabled = False
    cfg.behaviour.customer_pressure_awareness_per_month = 0.0  # customers' supplier targets inform too
    model = ClusterModel(cfg)
    assert not model.firms.aware.any()
    model.run()
    assert not model.firms.aware.any()
    assert not model.firms.adopted.any()
    assert model.adopter_count.sum() == 0


def test_awareness_is_required_even_when_everything_else_is_free():
    """With the information term on, a measure nobody knows is never adopted, even at a 100 %
    subsidy with an unlimited budget; with the term off, the same measure is adopted."""
    def run(information: bool):
        cfg = make_config(*SHORT)
        for m in cfg.measures.catalogue:
            m.initial_awareness_share = 0.0
            m.info_rate_per_month = 0.0
        cfg.behaviour.customer_pressure_awareness_per_month = 0.0
        cfg.behaviour.terms.information = information
        cfg.policy.capex_subsidy.enabled = True
        cfg.policy.capex_subsidy.subsidy_share = 1.0
        cfg.policy.capex_subsidy.budget_usd = 1e12
        return run_model(cfg)

    assert len(run(True).adoptions) == 0
    assert len(run(False).adoptions) > 0


@pytest.mark.parametrize("shares", [(0.0, 0.25, 0.5, 0.9)])
def test_raising_a_subsidy_never_lowers_adoption(shares):
    counts = []
    for s in shares:
        cfg = make_config(*SHORT, "seed=3")
        cfg.policy.capex_subsidy.enabled = s > 0
        cfg.policy.capex_subsidy.subsidy_share = s
        cfg.policy.capex_subsidy.budget_usd = 1e12  # not binding: isolate the price effect
        cfg.policy.capex_subsidy.max_grant_per_project_usd = float("inf")
        res = run_model(cfg)
        counts.append(len(res.adoptions))
    assert all(b >= a for a, b in zip(counts, counts[1:])), counts
    assert counts[-1] > counts[0], counts  # and a large subsidy does raise it


def test_binding_budget_stops_spending_exactly_at_the_budget():
    budget = 250_000.0
    cfg = make_config(*SHORT, "seed=1")
    cfg.policy.capex_subsidy.enabled = True
    cfg.policy.capex_subsidy.subsidy_share = 0.6
    cfg.policy.capex_subsidy.budget_usd = budget
    cfg.policy.capex_subsidy.max_grant_per_project_usd = float("inf")
    res = run_model(cfg)
    spent = res.summary["public_spending_usd_by_instrument"]["capex_subsidy"]
    granted = res.adoptions.loc[res.adoptions["instrument"] == "capex_subsidy", "subsidy_usd"].sum()
    assert spent <= budget + 1e-6
    assert spent == pytest.approx(granted, rel=1e-9)
    # the budget binds: it ran out, the run recorded when, and no grant came after
    exhausted = res.summary["instrument_exhausted"]["capex_subsidy"]
    assert exhausted is not None
    late = res.adoptions[(res.adoptions["month"] > exhausted["month"]) & (res.adoptions["instrument"] == "capex_subsidy")]
    assert late.empty
    # no single project could have fitted in what was left
    assert budget - spent < res.adoptions["capex_usd"].max() * 0.6


def test_peers_raise_adoption_compared_with_no_edges():
    def total(kind):
        out = 0
        for seed in (0, 1):
            cfg = make_config("n_firms=3000", "end_year=2034", f"seed={seed}", f"scenario.network.kind={kind}")
            out += len(run_model(cfg).adoptions)
        return out

    with_peers, without = total("cluster"), total("none")
    assert with_peers > without * 1.05, (with_peers, without)


def test_peer_channels_switched_off_equal_no_edges():
    """Switching both peer terms off removes the network's effect entirely (same seed)."""
    def run(kind):
        cfg = make_config("n_firms=1000", "end_year=2030", f"scenario.network.kind={kind}")
        cfg.behaviour.terms.peer_awareness = False
        cfg.behaviour.terms.peer_risk = False
        cfg.behaviour.terms.customer_pressure = False
        return run_model(cfg).adoptions[["month", "firm", "measure"]].reset_index(drop=True)

    pd.testing.assert_frame_equal(run("cluster"), run("none"))


def test_emissions_equal_energy_times_factor_for_a_hand_computed_firm():
    cfg = make_config("n_firms=300", "end_year=2027")
    model = ClusterModel(cfg)
    model.step()  # first month: prices and factors of the start year are set
    ft = model.firms
    ef = model.energy.ef_t_co2_per_mwh[0]
    for i in (0, 7, 123):
        e = ft.energy_mwh_per_yr[i]
        scope1 = sum(e[c] * ef[c] for c in range(len(CARRIERS)) if SCOPE1_CARRIERS[c])
        scope1 = (scope1 + ft.process_t_co2_per_yr[i]) * (1 - ft.capture_share[i])
        scope2 = e[ELECTRICITY] * ef[ELECTRICITY]
        assert model.scope1_rate[i] == pytest.approx(scope1, rel=1e-12)
        assert model.scope2_rate[i] == pytest.approx(scope2, rel=1e-12)
        assert model.firm_agents[i].emissions_t_co2_per_yr == pytest.approx(scope1 + scope2, rel=1e-12)


def test_hand_computed_firm_with_explicit_energy_and_factors():
    """Set one firm's energy by hand and check the registry's annual record."""
    cfg = make_config("n_firms=50", "end_year=2025")
    for m in cfg.measures.catalogue:  # nothing changes during the year
        m.initial_awareness_share = 0.0
        m.info_rate_per_month = 0.0
    cfg.behaviour.customer_pressure_awareness_per_month = 0.0
    model = ClusterModel(cfg)
    ft = model.firms
    e = np.zeros(len(CARRIERS))
    e[CARRIERS.index("electricity")] = 1000.0
    e[CARRIERS.index("natural_gas")] = 2000.0
    e[CARRIERS.index("diesel")] = 100.0
    ft.energy_mwh_per_yr[5] = e
    ft.process_t_co2_per_yr[5] = 50.0
    ft.capture_share[5] = 0.0
    model._refresh_state32(slice(None))
    model.run()
    # factors of 2025 by linear interpolation between the scenario's sourced points
    pts = {c: sorted(cfg.scenario.emission_factors_t_co2_per_mwh[c].points.items()) for c in CARRIERS}
    f = {c: float(np.interp(2025, [y for y, _ in p], [v for _, v in p])) for c, p in pts.items()}
    expected_s1 = 2000.0 * f["natural_gas"] + 100.0 * f["diesel"] + 50.0
    expected_s2 = 1000.0 * f["electricity"]
    assert model.registry.scope1_t[0, 5] == pytest.approx(expected_s1, rel=1e-5)
    assert model.registry.scope2_t[0, 5] == pytest.approx(expected_s2, rel=1e-5)


def test_registry_totals_equal_firm_table_and_timeseries():
    """Three records of the same emissions, built by different code: the registry's annual
    per-firm rows (the firm table), the monthly reporters (the timeseries, t CO2 per month)
    and the summary's yearly totals agree, scope by scope."""
    res = run_model(make_config("n_firms=2000", "end_year=2029", "policy=incentive_package"))
    assert len(res.adoptions) > 100  # emissions change during the years (adoptions mid-year)
    firms = res.firms.groupby("year")[["scope1_t_co2", "scope2_t_co2", "emissions_t_co2"]].sum()
    ts = res.timeseries.groupby("year")[["scope1_t_co2", "emissions_t_co2"]].sum()
    years = list(range(2025, 2030))
    assert list(firms.index) == years and list(ts.index) == years
    assert (res.timeseries.groupby("year").size() == 12).all()
    np.testing.assert_allclose(firms["emissions_t_co2"], ts["emissions_t_co2"], rtol=2e-6)
    np.testing.assert_allclose(firms["scope1_t_co2"], ts["scope1_t_co2"], rtol=2e-6)
    by_year = res.summary["emissions_t_co2_by_year"]
    assert sorted(by_year) == years
    np.testing.assert_allclose([by_year[y] for y in years], firms["emissions_t_co2"], rtol=2e-6)
    assert res.summary["cumulative_emissions_t_co2"] == pytest.approx(res.timeseries["emissions_t_co2"].sum(), rel=2e-6)
    # emissions fall as firms adopt, so a mis-timed adoption would show in the comparison
    assert (np.diff(ts["emissions_t_co2"]) < 0).all()
    # a pair is adopted again only after its installation ended (replacement or re-adoption)
    again = res.adoptions[res.adoptions.duplicated(["firm", "measure"])]
    for _, row in again.iterrows():
        ended = res.expiries[(res.expiries["firm"] == row["firm"]) & (res.expiries["measure"] == row["measure"])
                             & (res.expiries["month"] <= row["month"])]
        assert len(ended) > 0


def _annuity(rate, years):
    return (1 - (1 + rate) ** -years) / rate


def test_spending_by_instrument_equals_grants_loans_and_running_costs():
    """Each instrument's spending in the summary, recomputed from the adoptions table and the
    policy's own numbers: grants paid, the concession on loans (closed-form annuities),
    assessments, workshops and courses held (counted from the calendar and the budgets)."""
    cfg = make_config("n_firms=2000", "end_year=2029", "policy=incentive_package")
    p = cfg.policy
    years = cfg.end_year - cfg.start_year + 1
    res = run_model(cfg)
    a, spent = res.adoptions, res.summary["public_spending_usd_by_instrument"]
    grants = a.groupby("instrument", observed=False)["subsidy_usd"].sum()
    assert grants["capex_subsidy"] > 0 and grants["cost_share"] > 0 and grants.get("none", 0) == 0
    # capex subsidy: its grants only
    assert spent["capex_subsidy"] == pytest.approx(grants["capex_subsidy"], rel=1e-9)
    # cost share: its grants + every pre-assessment (the quota of each year, 2025-2029; the
    # eligible pool and the budget are large enough for all of them)
    eligible = res.firms[res.firms["year"] == cfg.start_year]["size_class"].isin(p.cost_share.size_classes).sum()
    n_assessed = p.cost_share.assessments_per_yr * years
    assert eligible > n_assessed
    assert spent["cost_share"] == pytest.approx(grants["cost_share"] + n_assessed * p.cost_share.cost_per_assessment_usd, rel=1e-9)
    # green loans: the grant equivalent of the interest concession, L * (1 - a(market) / a(green))
    gl = p.green_loan
    concession = 1 - _annuity(gl.market_rate_per_yr, gl.term_yr) / _annuity(gl.interest_rate_per_yr, gl.term_yr)
    assert a["loan_usd"].sum() > 0 and res.summary["green_loans_usd"] == pytest.approx(a["loan_usd"].sum(), rel=1e-9)
    assert spent["green_loan"] == pytest.approx(a["loan_usd"].sum() * concession, rel=1e-9)
    np.testing.assert_allclose(a["loan_grant_equivalent_usd"], a["loan_usd"] * concession, rtol=1e-9)
    # workshops and training courses: as many as the calendar schedules, while the budget lasts
    ws, tr = p.workshops, p.training
    n_ws = min(ws.workshops_per_yr * years, int(ws.budget_usd // ws.cost_per_workshop_usd))
    assert spent["workshops"] == pytest.approx(n_ws * ws.cost_per_workshop_usd)
    n_tr = min(tr.courses_per_yr * years, int(tr.budget_usd // tr.cost_per_course_usd))
    assert spent["training"] == pytest.approx(n_tr * tr.cost_per_course_usd)
    assert res.summary["public_spending_usd"] == pytest.approx(sum(spent.values()))


def test_same_config_and_seed_give_byte_identical_tables(tmp_path):
    from sim.results import write_run

    def run_to(d, seed):
        cfg = make_config("n_firms=1500", "end_year=2030", "policy=incentive_package", f"seed={seed}")
        write_run(d, run_model(cfg), "x\n")
        return {f: (d / f).read_bytes() for f in ("timeseries.parquet", "firms.parquet", "adoptions.parquet", "summary.json")}

    a = run_to(tmp_path / "a", 7)
    b = run_to(tmp_path / "b", 7)
    c = run_to(tmp_path / "c", 8)
    assert a == b
    assert a["adoptions.parquet"] != c["adoptions.parquet"]


@pytest.mark.skipif(__import__("platform").machine() not in ("x86_64", "AMD64"), reason="x86-64 kernels and SIMD paths")
def test_another_cpus_arithmetic_gives_the_same_adoptions_and_values_to_rounding(tmp_path):
    """Byte-identical tables hold on one machine. Another CPU's arithmetic (OpenBLAS's AVX2
    kernels and numpy without its AVX-512 paths, as on an AVX2-only laptop) rounds some sums
    differently in the last bits: the adoptions must be the same, firm for firm, and every
    value the same to rounding -- of float32 for the decision's terms (capex, NPV: ~1e-7
    relative), of float64 for the sums (the README's claim)."""
    import os
    import subprocess
    import sys

    from conftest import REPO
    from sim.results import write_run

    over = ("n_firms=3000", "end_year=2029", "policy=incentive_package", "seed=3")
    write_run(tmp_path / "here", run_model(make_config(*over)), "x\n")
    code = ("import sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/tests']; from conftest import make_config; "
            "from sim.job import run_model; from sim.results import write_run; from pathlib import Path; "
            "write_run(Path(sys.argv[2]), run_model(make_config(*sys.argv[3:])), 'x\\n')")
    env = dict(os.environ, OPENBLAS_CORETYPE="Haswell", NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR")
    r = subprocess.run([sys.executable, "-c", code, str(REPO), str(tmp_path / "avx2"), *over], env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    for table, keys in (("adoptions", ["month", "firm", "measure", "instrument"]), ("timeseries", ["month"])):
        a, b = (pd.read_parquet(tmp_path / d / f"{table}.parquet") for d in ("here", "avx2"))
        pd.testing.assert_frame_equal(a[keys], b[keys])
        if table == "adoptions":  # (an NPV is a difference of float32 terms: its rounding is that of the capex)
            assert ((a.npv_usd - b.npv_usd).abs() <= 1e-5 * (a.capex_usd + a.npv_usd.abs())).all()
            a, b = a.drop(columns="npv_usd"), b.drop(columns="npv_usd")
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-6, atol=1e-6)


def test_carbon_price_raises_adoption_of_emission_cutting_measures():
    def adopt(price):
        cfg = make_config(*SHORT, "policy=carbon_price")
        cfg.policy.carbon_price.price_usd_per_t_co2 = price
        cfg.policy.carbon_price.growth_usd_per_t_co2_per_yr = 0.0
        return len(run_model(cfg).adoptions)

    assert adopt(150.0) > adopt(0.0)


def test_step_is_a_no_op_after_the_end():
    model = ClusterModel(make_config("n_firms=200", "end_year=2025", "policy=incentive_package"))
    model.run()
    assert model.month == 11 and not model.running
    ft = model.firms
    series = {k: v.copy() for k, v in model.series.items()}
    assert "emissions_t_co2" in series and series["emissions_t_co2"][11] > 0
    state = [a.copy() for a in (ft.aware, ft.adopted, ft.energy_mwh_per_yr, ft.last_review_month,
                                model.registry.scope1_t, model.adopter_count)]
    spent = model.total_spending_usd()
    model.step()
    assert model.month == 11 and not model.running
    assert series.keys() == model.series.keys()
    for k, v in series.items():
        np.testing.assert_array_equal(v, model.series[k], err_msg=k)
    for before, after in zip(state, (ft.aware, ft.adopted, ft.energy_mwh_per_yr, ft.last_review_month,
                                     model.registry.scope1_t, model.adopter_count)):
        np.testing.assert_array_equal(before, after)
    assert model.total_spending_usd() == spent


def test_firm_agents_are_views_and_explain_names_decisive_terms():
    model = ClusterModel(make_config("n_firms=500", "end_year=2026", "policy=incentive_package"))
    model.run()
    firm = model.firm_agents[10]
    assert firm.sector == model.sector_names[model.firms.sector[10]]
    model.firms.capability[10] = 0.123
    assert firm.capability == pytest.approx(0.123)
    rows = firm.explain()
    assert rows and all("measure" in r for r in rows)
    # the network space holds every firm in its node's cell
    assert len(model.space.all_cells) == model.n_firms


def test_lazy_firm_agents_give_the_same_run_and_appear_on_first_use():
    cfg = make_config("n_firms=800", "end_year=2027", "policy=incentive_package")
    eager, lazy = ClusterModel(cfg), ClusterModel(cfg, lazy_firm_agents=True)
    assert len(eager.agents) > len(lazy.agents)  # lazy: the Firm views are not built yet
    eager.run()
    lazy.run()
    assert np.array_equal(eager.firms.adopted_month, lazy.firms.adopted_month)
    assert lazy.firm_agents[5].row == 5 and len(lazy.firm_agents) == 800
    assert lazy.firm_agents[5].emissions_t_co2_per_yr == pytest.approx(eager.firm_agents[5].emissions_t_co2_per_yr)
