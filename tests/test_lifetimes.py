"""Measure lifetimes, savings persistence and output growth (issue 12, items 1-2).

An installation saves energy for its lifetime, then leaves the installed stock and the firm
decides again; operational measures may lapse earlier; sector output scales energy use.
"""
from __future__ import annotations

import numpy as np
import pytest

from conftest import make_config
from sim.energy import NATURAL_GAS, SCOPE1_CARRIERS
from sim.model import ClusterModel
from sim.results import collect

SMALL = ("n_firms=300", "start_year=2025", "end_year=2031")
LEAKS = "compressed_air_leaks"


def _measure(cfg, name):
    return next(m for m in cfg.measures.catalogue if m.name == name)


def _step_checking(model, check):
    """Run the model month by month (as ``step`` does) calling ``check(model, phase)`` before
    ("before") and after ("expired") the expiry phase and after the month ("month")."""
    while model.running:
        model.advance_month()
        check(model, "before")
        model.expire_measures()
        check(model, "expired")
        model.cluster_activities()
        model.programme_activities()
        model.firm_decisions()
        model.account_emissions()
        model.collect_data()
        check(model, "month")
        if model.month + 1 >= model.n_months:
            model.running = False


def test_a_three_year_measure_expires_and_is_re_decided_after_three_years():
    cfg = make_config(*SMALL)
    assert _measure(cfg, LEAKS).lifetime_yr == 3
    model = ClusterModel(cfg)
    k = model.catalogue.index(LEAKS)
    drops = []

    def check(m, phase):
        if phase == "expired":
            ex = [e for e in m.expiry_log if e[0] == m.month]
            n_k = sum(int((e[2] == k).sum()) for e in ex)
            drops.append((m.month, n_k, int(m.adopter_count[k]), int(m.firms.adopted[:, k].sum())))

    _step_checking(model, check)
    res = collect(model)
    ad, ex = res.adoptions, res.expiries
    leaks_ad = ad[ad["measure"] == LEAKS]
    in_run = leaks_ad[leaks_ad["month"] < model.n_months - 36]
    assert len(in_run) > 5
    for _, row in in_run.iterrows():  # each adoption in the run ends exactly 36 months later
        e = ex[(ex["firm"] == row["firm"]) & (ex["measure"] == LEAKS) & (ex["month"] == row["month"] + 36)]
        assert len(e) == 1 and e["reason"].iloc[0] == "end_of_life" and e["installed_month"].iloc[0] == row["month"]
    # replacements: the firm adopts the same measure again, as a new row, in the month it expired
    ended = ex[(ex["measure"] == LEAKS) & (ex["installed_month"] >= 0)]
    again = ended.merge(leaks_ad, on=["firm", "month"])
    assert len(again) > 0
    # the installed count falls by the expiries (before the month's decisions)
    assert any(n > 0 for _, n, _, _ in drops)
    for _, _, count, flags in drops:
        assert count == flags


def test_start_year_stock_has_vintages():
    """Installations in place before the run expire spread over their lifetime, not all at once."""
    model = ClusterModel(make_config(*SMALL))
    ft = model.firms
    stock = ft.adopted_month == -1
    k = model.catalogue.index(LEAKS)
    months = ft.expiry_month[stock[:, k], k]
    assert len(months) > 10
    assert months.min() >= 0 and months.max() <= 36 + cfg_interval(model)
    assert len(np.unique(months // 12)) >= 3  # spread over the three years of the lifetime


def cfg_interval(model):
    return model.behaviour.review_interval_months


def test_installed_stock_counters_equal_the_firm_table_every_month():
    cfg = make_config(*SMALL, "policy=incentive_package")
    _measure(cfg, "energy_management_system").persistence_share_per_yr = 0.6  # lapses too
    model = ClusterModel(cfg)
    peers = model.network.peers.to_scipy()
    seen = {"expiries": 0}

    def check(m, phase):
        ft = m.firms
        a = ft.adopted
        np.testing.assert_array_equal(m.adopter_count, a.sum(axis=0))
        by_sector = np.zeros_like(m.adopters_by_sector)
        np.add.at(by_sector, ft.sector, a.astype(np.int64))
        np.testing.assert_array_equal(m.adopters_by_sector, by_sector)
        by_cluster = np.zeros_like(m.cluster_adopters)
        member = ft.cluster >= 0
        np.add.at(by_cluster, ft.cluster[member], a[member].astype(float))
        np.testing.assert_array_equal(m.cluster_adopters, by_cluster)
        np.testing.assert_array_equal(m.neighbour_adopters, (peers @ a.astype(np.float32)))
        assert ((ft.expiry_month != np.iinfo(np.int16).max) == a).all()
        seen["expiries"] = m.expiries_total

    _step_checking(model, check)
    assert seen["expiries"] > 0
    res = collect(model)
    assert res.summary["installed_measures"] == int(model.firms.adopted.sum())
    assert res.summary["adoptions"] - res.summary["expiries"] == res.summary["installed_measures"]
    assert res.timeseries["installed_measures"].iloc[-1] == res.summary["installed_measures"]
    # never adopted (nor granted) while installed: per (firm, measure), the running stock of
    # start-year installation, expiries (start of month) and adoptions stays 0 or 1
    K = model.catalogue.k
    ev = [(-1, 1, int(f) * K + int(k)) for f, k in zip(*model.initial_stock)]
    ev += [(int(mo), 0, int(f) * K + int(k)) for mo, f, k in zip(res.expiries["month"], res.expiries["firm"], res.expiries["measure"].cat.codes)]
    ev += [(int(mo), 1, int(f) * K + int(k)) for mo, f, k in zip(res.adoptions["month"], res.adoptions["firm"], res.adoptions["measure"].cat.codes)]
    level = {}
    for _, up, pair in sorted(ev):
        level[pair] = level.get(pair, 0) + (1 if up else -1)
        assert level[pair] in (0, 1)
    assert (res.adoptions["subsidy_usd"] > 0).any() and res.adoptions.duplicated(["firm", "measure"]).any()
    # the firm panel counts installed measures at each year end
    last = res.firms[res.firms["year"] == res.firms["year"].max()]
    np.testing.assert_array_equal(last["measures_adopted"].to_numpy(), model.firms.adopted.sum(axis=1))


def _rebuild(model):
    """Each firm's energy from its base with its installed measures in adoption order, from the
    catalogue's shares and the emission factors of each adoption year (numpy, not the engine's
    state-change matrices)."""
    cat, ft = model.catalogue, model.firms
    e = ft.base_energy_mwh_per_yr.copy()
    order = np.argsort(np.where(ft.adopted, ft.adoption_seq, np.iinfo(np.int32).max), axis=1, kind="stable")
    for r in range(cat.k):
        k = order[:, r]
        f = np.flatnonzero(ft.adopted[np.arange(ft.n), k])
        if not len(f):
            continue
        k = k[f]
        x = e[f]
        removed = cat.removes_share[k] * x
        new = x - removed
        has = cat.adds_carrier[k] >= 0
        new[np.flatnonzero(has), cat.adds_carrier[k][has]] += cat.adds_mwh_per_mwh_removed[k][has] * removed[has].sum(axis=1)
        year = np.maximum(ft.adopted_month[f, k], 0) // 12
        ef = model.energy.ef_t_co2_per_mwh[year]
        scope1 = (x * np.where(SCOPE1_CARRIERS[None, :], ef, 0.0)).sum(axis=1) + ft.process_t_co2_per_yr[f]
        new[:, NATURAL_GAS] += cat.capture_penalty_mwh_per_t_co2[k] * cat.capture_share[k] * scope1
        e[f] = np.maximum(new, 0.0)
    return e


@pytest.mark.parametrize("growth", [False, True])
def test_energy_after_expiries_is_the_base_with_the_remaining_measures(growth):
    over = [*SMALL, "policy=incentive_package", "policy.carbon_price.enabled=true", "policy.carbon_price.start_year=2025",
            "policy.carbon_price.price_usd_per_t_co2=80", "policy.carbon_price.min_size_class=micro"]
    cfg = make_config(*over)
    if not growth:
        cfg.scenario.growth.output_index.clear()
    model = ClusterModel(cfg)
    model.run()
    assert model.expiries_total > 0
    ft = model.firms
    np.testing.assert_allclose(ft.energy_mwh_per_yr, _rebuild(model), rtol=1e-9, atol=1e-9)
    cap = np.where(ft.adopted, model.catalogue.capture_share[None, :], 0.0).max(axis=1)
    np.testing.assert_array_equal(ft.capture_share, cap)
    np.testing.assert_allclose(model.energy_total, ft.energy_mwh_per_yr.sum(axis=0), rtol=1e-9)
    model._recompute_rates(slice(None))
    assert model.total_scope1 == pytest.approx(model.scope1_rate.sum(), rel=1e-9)
    assert model.total_scope2 == pytest.approx(model.scope2_rate.sum(), rel=1e-9)


def test_persistence_lapses_at_the_stated_rate():
    """With persistence p per year and yearly reviews, a share 1 - p of the installations at risk
    (installed a year or more, or before the run) lapses at each review."""
    p = 0.6
    cfg = make_config("n_firms=1200", "start_year=2025", "end_year=2030")
    leaks = _measure(cfg, LEAKS)
    leaks.persistence_share_per_yr, leaks.lifetime_yr = p, 30.0  # lapses only (no end of life in the run)
    model = ClusterModel(cfg)
    k = model.catalogue.index(LEAKS)
    at_risk, lapsed = [0], [0]

    def check(m, phase):
        ft = m.firms
        if phase == "before":  # at risk at this month's review: installed >= 12 months, or before the run
            idx = np.arange(m.month % 12, m.n_firms, 12)
            since = ft.adopted_month[idx, k]
            at_risk[0] += int((ft.adopted[idx, k] & ((since <= m.month - 12) | (since < 0))).sum())
        elif phase == "expired":
            lapsed[0] += sum(int(((e[2] == k) & (e[4] == 1)).sum()) for e in m.expiry_log if e[0] == m.month)

    _step_checking(model, check)
    assert at_risk[0] > 300
    rate = lapsed[0] / at_risk[0]
    sd = np.sqrt(p * (1 - p) / at_risk[0])
    assert abs(rate - (1 - p)) < 4 * sd, (rate, at_risk[0])
    # a lapsed measure is decided again: some firms re-install it
    res = collect(model)
    lap = res.expiries[(res.expiries["reason"] == "lapsed")]
    assert len(lap.merge(res.adoptions, on=["firm", "measure", "month"])) > 0


def test_no_lapse_when_savings_persist():
    cfg = make_config(*SMALL)
    for m in cfg.measures.catalogue:
        m.persistence_share_per_yr = 1.0
    model = ClusterModel(cfg)
    model.run()
    assert model.expiry_log and all((e[4] == 0).all() for e in model.expiry_log)


def test_output_growth_raises_no_policy_emissions_and_keeps_the_start_year():
    def run(index_2031):
        cfg = make_config(*SMALL)
        cfg.scenario.growth.output_index.clear()
        if index_2031 is not None:
            from sim.params import TrajectoryConfig

            cfg.scenario.growth.output_index["all"] = TrajectoryConfig(points={2025: 1.0, 2031: index_2031}, unit="index", source="test")
        m = ClusterModel(cfg)
        m.run()
        return m, collect(m).summary["emissions_t_co2_by_year"]

    m0, flat = run(None)
    m1, grow = run(1.6)
    assert grow[2025] == pytest.approx(flat[2025], rel=1e-9)  # the base year: where calibration holds
    for y in range(2026, 2032):
        assert grow[y] > flat[y] * (1.0 + 0.5 * 0.6 * (y - 2025) / 6)
    assert grow[2031] > grow[2025]  # no-policy emissions rise with output
    # energy scales with the output index (same adoptions up to the budget effect)
    assert m1.firms.cash_usd_per_yr.sum() == pytest.approx(1.6 * m0.firms.cash_usd_per_yr.sum(), rel=1e-9)


def test_growth_names_a_sector_of_the_scenario():
    from sim.params import ConfigError, TrajectoryConfig, validate

    cfg = make_config(*SMALL)
    cfg.scenario.growth.output_index["no_such_sector"] = TrajectoryConfig(points={2025: 1.0}, unit="index", source="x")
    with pytest.raises(ConfigError, match="scenario.growth.output_index"):
        validate(cfg)
