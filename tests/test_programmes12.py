"""Programme evaluation from a run folder (issue 12, items 6 and 7): assessments recommend
measures by the auditor's rule and are written to ``assessments.parquet`` with whether each
recommendation was implemented; the Bajio centre's minimum targets are reported met or
missed; consultants implement only what their course taught; no grant is ever paid for a
measure a firm already has."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import make_config

PROG = "scenario.programmes.cleaner_production_centre"


def _model(*overrides):
    from sim.model import ClusterModel

    return ClusterModel(make_config(*overrides))


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    """The incentive package (cost-share pre-assessments) on 1,500 firms, 2025-2027, with each
    assessment event checked against the rule at the moment it happens."""
    from sim.recommendations import simple_payback_yr
    from sim.results import collect, write_run

    m = _model("policy=incentive_package", "n_firms=1000", "end_year=2027")
    seen = []

    def check(month, firms, source):
        e = m.engine
        tm = e.terms(firms)
        pb = simple_payback_yr(tm.capex, tm.net_value)
        ft = m.firms
        rule = ft.applicable[firms] & ~ft.adopted[firms] & m.available[None, :] & (pb <= m.config.policy.cost_share.recommend_max_payback_yr)
        log = e.recommendations
        rows = np.flatnonzero((log.month == month) & np.isin(log.firm, firms))
        got = np.zeros_like(rule)
        got[np.searchsorted(firms, log.firm[rows]), log.measure[rows]] = True
        seen.append((np.array_equal(got, rule), int(rule.sum()), pb[rule], ft.aware[firms][rule]))

    m.engine.subscribe("assessment", check)
    m.run()
    res = collect(m)
    out = write_run(tmp_path_factory.mktemp("pkg") / "run", res, "seed: 0\n")
    return m, res, out, seen


def test_assessments_table_rows_match_the_programmes_counts(package):
    m, res, out, _ = package
    a = pd.read_parquet(out / "assessments.parquet")
    assert list(a.columns) == ["month", "firm", "measure", "payback_yr", "programme", "adopted_month"]
    cs = a[a["programme"] == "cost_share"]
    stats = res.summary["recommendations_by_programme"]["cost_share"]
    assert len(cs) == stats["recommendations"] > 0
    assert stats["assessments"] == res.summary["assessments"] == m.instruments["cost_share"].assessments
    assert cs.groupby(["month", "firm"]).ngroups == stats["assessments_with_recommendations"] <= stats["assessments"]
    assert cs["adopted_month"].notna().sum() == stats["implemented"]
    assert stats["implementation_rate"] == pytest.approx(stats["implemented"] / stats["recommendations"])
    # implemented recommendations are adoptions of the same pair, at or after the recommendation
    ad = res.adoptions
    pairs = set(zip(ad["firm"], ad["measure"].astype(str), ad["month"]))
    done = cs[cs["adopted_month"].notna()]
    assert all((f, k, t) in pairs for f, k, t in zip(done["firm"], done["measure"].astype(str), done["adopted_month"]))
    assert (done["adopted_month"] >= done["month"]).all()
    # and one never implemented was not adopted after it was recommended
    first = ad.groupby(["firm", "measure"], observed=True)["month"].min()
    for f, k, t in zip(*[cs[cs["adopted_month"].isna()][c] for c in ("firm", "measure", "month")]):
        assert (f, k) not in first.index or first[(f, k)] < t


def test_each_recommendation_meets_the_rule_when_it_is_made(package):
    m, _, _, seen = package
    assert seen and sum(n for _, n, _, _ in seen) > 0
    threshold = m.config.policy.cost_share.recommend_max_payback_yr
    for same, _, pb, aware in seen:
        assert same  # recorded = applicable, on sale, not in place, payback under the threshold
        assert (pb <= threshold).all()
        assert aware.all()  # the firm learned what was recommended


def test_a_lower_payback_threshold_recommends_fewer_measures():
    from sim.run import run_model

    n = []
    for yr in (3.0, 0.5):
        r = run_model(make_config("policy=incentive_package", "n_firms=600", "end_year=2025",
                                  f"policy.cost_share.recommend_max_payback_yr={yr}"))
        n.append(len(r.assessments))
        assert (r.assessments["payback_yr"] <= yr).all()
    assert n[0] > n[1]


def test_no_grant_is_paid_for_a_measure_the_firm_already_has(package):
    m, res, _, _ = package
    ad = res.adoptions
    assert (ad["subsidy_usd"] > 0).any()
    # every adopted pair appears once (none bought again while in place), and none of the
    # measures in place before the run were bought with a grant
    assert not ad.duplicated(["firm", "measure"]).any()
    had = m.firms.adopted_month == -1
    k = np.array([m.catalogue.index(x) for x in ad["measure"].astype(str)])
    assert not had[ad["firm"].to_numpy(), k].any()
    # the channels themselves offer nothing on a pair in place
    cs = m.instruments["cost_share"]
    f, kk = np.nonzero(m.firms.adopted)
    cs.offer_until_month[f] = m.month
    cs.quota_left = 10 ** 6
    cs.exhausted_month, cs.enabled = None, True
    assert (cs.offer(m.engine, f, kk, np.full(len(f), 1e4)) == 0).all()


def test_bajio_targets_reported_and_a_starved_budget_misses_them():
    from sim.run import run_model

    full = run_model(make_config("scenario=bajio_cpi", "n_firms=4000", "end_year=2025")).summary
    starved = run_model(make_config("scenario=bajio_cpi", "n_firms=4000", "end_year=2025",
                                    f"{PROG}.funders_usd={{idb_mif: 40000, semarnat: 20000, in_kind: 10000}}")).summary
    t_full = full["programmes"]["cleaner_production_centre"]["targets_by_programme_year"]["1"]
    t_st = starved["programmes"]["cleaner_production_centre"]["targets_by_programme_year"]
    assert t_full["pre_assessments"]["met"] and t_full["projects"]["met"]
    s1 = t_st["1"]
    assert s1["pre_assessments"]["met"] is False and s1["pre_assessments"]["done"] < 50
    assert s1["planned_pre_assessments_short_of_money"] > 0
    assert t_st["2"]["pre_assessments"]["met"] is None  # a year the run did not reach is not judged


def test_yearly_tranches_bound_spending_by_programme_year():
    m = _model("scenario=bajio_cpi", "n_firms=3000", "end_year=2026",
               f"{PROG}.tranche_share_by_programme_year=[0.2,0.4,0.4]")
    centre = next(p for p in m.mechanisms if p.name == "cleaner_production_centre")
    for _ in range(12):
        m.step()
    for f, v in centre.ledger.spent_usd.items():
        assert v <= 0.2 * centre.ledger.budget_usd[f] + 1e-6
    assert centre.ledger.spent_usd["idb_mif"] > 0.15 * centre.ledger.budget_usd["idb_mif"]  # the tranche binds
    m.step()
    assert centre.ledger.released_usd["idb_mif"] == pytest.approx(0.6 * 465000)


def test_a_consultant_trained_in_one_measure_cannot_implement_another():
    from sim.barriers.skills import ConsultantPool

    pool = ConsultantPool(4, 3)
    pool.new_year(2025)
    pool.add(2, 12, measures=np.array([True, False, False]), active_yr=2)  # 8 projects, measure 0 only
    measure = np.array([1, 1, 0, 2, 0])
    got = pool.allocate(np.ones(5, bool), measure)
    assert got.tolist() == [False, False, True, False, True]
    assert pool.available_for(np.array([0, 1, 2])).tolist() == [True, False, False]
    pool.release(np.array([False, False, True, False, False]))
    assert pool.capacity == 7
    pool.new_year(2026)
    assert pool.capacity == 8
    pool.new_year(2027)  # their two working years are over
    assert pool.capacity == 0 and not pool.available


def test_the_centres_consultants_unlock_only_the_course_measures():
    from sim.run import run_model

    r = run_model(make_config("scenario=bajio_cpi", "n_firms=4000", "end_year=2027"))
    via = r.adoptions[r.adoptions["consultant"]]
    assert len(via) > 0 and set(via["measure"].astype(str)) == {"cleaner_production"}
    # taught every measure, they unlock others too (the course topics bind)
    every = run_model(make_config("scenario=bajio_cpi", "n_firms=4000", "end_year=2027",
                                  f"{PROG}.course_measures=[cleaner_production,motors_vsd,compressed_air_leaks,led_lighting,boiler_steam_upgrade]"))
    via_all = every.adoptions[every.adoptions["consultant"]]
    assert set(via_all["measure"].astype(str)) - {"cleaner_production"}


NL = "scenario.programmes.climate_alliance"


def _alliance_run(*overrides):
    from sim.run import run_model

    return run_model(make_config("scenario=nuevo_leon", "n_firms=1200", "end_year=2027", *overrides))


@pytest.mark.parametrize("switches", [(), ("behaviour.terms.economics=false",),
                                      ("behaviour.terms.economics=false", "behaviour.terms.capital=false",
                                       "behaviour.terms.skills=false")])
def test_the_binding_barrier_selects_the_roadmaps_instrument(switches):
    from sim.mechanisms.climate_alliance import BARRIERS, INSTRUMENT_FOR

    r = _alliance_run(*switches)
    a = r.summary["programmes"]["climate_alliance"]
    off = {s.split(".")[2].split("=")[0] for s in switches}
    for name, c in a["clusters"].items():
        inst = c["roadmap_instrument"]
        sole = inst["barrier_sole_block_share"]
        assert inst["instrument"] == INSTRUMENT_FOR[inst["binding_barrier"]]
        assert sole[inst["binding_barrier"]] == max(sole[b] for b in BARRIERS)
        assert inst["binding_barrier"] not in off and all(sole[b] == 0 for b in off)
    instruments = {c["roadmap_instrument"]["instrument"] for c in a["clusters"].values()}
    spend = a["spending_usd_by_item"]
    if "co_funding_grant" in instruments:
        assert spend["co_funding_grants_usd"] == r.summary["public_spending_usd_by_instrument"]["roadmap_grant"] > 0
    else:
        assert spend["co_funding_grants_usd"] == 0
    if len(off) == 3:  # only information can bind: audits, which recommend, recorded like every assessment
        assert instruments == {"energy_audits"}
        rec = r.assessments[r.assessments["programme"] == "climate_alliance"]
        assert len(rec) == a["recommendations"]["recommendations"] > 0
        assert spend["energy_audits_usd"] == a["recommendations"]["assessments"] * 3000.0


def test_the_alliances_costs_are_counted_and_off_means_none():
    on = _alliance_run().summary
    off = _alliance_run(f"{NL}.enabled=false").summary
    a = on["programmes"]["climate_alliance"]
    months = 36
    assert a["spending_usd_by_item"]["dea_support_usd"] == pytest.approx(170000.0 * months / 12)
    assert a["spending_usd_by_item"]["registry_mrv_usd"] == pytest.approx(100000.0 * months / 12)
    assert a["headline"]["public_spending_usd"] == pytest.approx(on["public_spending_usd"])
    assert off["public_spending_usd"] == 0.0


def test_wef_summary_names_the_pillars_spending_and_never_says_no_public_money_when_it_spends():
    from sim.run import run_model

    r = run_model(make_config("scenario=wef_lfec", "n_firms=300", "end_year=2032"))
    w = r.summary["programmes"]["wef_pillars"]
    by = w["public_spending_usd_by_pillar"]
    sp = r.summary["public_spending_usd_by_instrument"]
    assert by["policy"] == pytest.approx(sp.get("storage_credit", 0.0) + sp.get("hydrogen_credit", 0.0))
    assert w["public_spending_usd"] == pytest.approx(sum(by.values())) and w["public_spending_usd"] > 0
    assert "public money" in w["label"] and "no public money" not in w["label"]
    off = run_model(make_config("scenario=wef_lfec", "n_firms=300", "end_year=2032",
                                "scenario.programmes.wef_pillars.policy=false", "scenario.programmes.wef_pillars.finance=false")).summary
    wo = off["programmes"]["wef_pillars"]
    assert wo["public_spending_usd_by_pillar"]["policy"] == 0.0 and wo["label"].endswith("(no public money)") == (wo["public_spending_usd"] == 0)


def test_mandatory_audits_recommend_within_their_scope_and_are_recorded():
    m = _model("scenario=wef_dunkerque", "n_firms=200", f"end_year={make_config('scenario=wef_dunkerque').start_year + 1}")
    m.run()
    audits = next(p for p in m.mechanisms if p.name == "energy_audit_obligation")
    log = m.engine.recommendations
    assert log.assessed["energy_audit_obligation"] == audits.audits > 0
    sel = log.source == log.sources.index("energy_audit_obligation")
    assert sel.any()
    assert audits.listed[log.measure[sel]].all() and np.isin(log.firm[sel], audits.obliged).all()
    assert (log.payback_yr[sel] <= audits.params.recommend_max_payback_yr).all()
