"""us_mx_ev: charging network (government + industry, network externality), LCFS-style
credit, OEM supplier targets flowing down supply edges."""
from __future__ import annotations

import copy

import numpy as np
import yaml
import pytest

from sim.model import ClusterModel
from sim.compose import check
from sim.params import CARRIERS, ConfigError
from sim.mechanisms.charging_network import ev_displaced_diesel_mwh
from sim.run import run_model

from conftest import make_config

SHORT = ("scenario=us_mx_ev", "n_firms=800", "end_year=2029")


def _prog(model, name):
    return next(p for p in model.mechanisms if p.name == name)


@pytest.fixture(scope="module")
def base_config():
    return make_config(*SHORT)


@pytest.fixture(scope="module")
def result():
    return run_model(make_config(*SHORT))


def test_runs_and_reports_ev_share_chargers_emissions_and_credit_flows(result):
    s = result.summary
    assert s["scenario"] == "us_mx_ev" and s["months_run"] == 5 * 12
    cn, lc = s["programmes"]["charging_network"], s["programmes"]["lcfs_credit"]
    assert set(cn["fleet_ev_share_end"]) == {"us", "mx"}
    assert 0 < cn["fleet_ev_share_end_total"] <= 1
    for c in ("us", "mx"):
        # stock = initial + built by government + built by industry (nothing appears from nowhere)
        end = sum(cn["chargers_end"][c].values())
        assert end == sum(cn["chargers_initial"][c].values()) + cn["chargers_built_by_government"][c] + cn["chargers_built_by_industry"][c]
        assert cn["government_spending_usd"][c] <= cn["government_budget_usd"][c]
    assert lc["credits_t_co2"]["us"] > 0 and lc["credits_t_co2"]["mx"] == 0  # Mexico not covered by default
    # flat credit price: payments are credits x price
    assert lc["payments_usd_total"] == pytest.approx(70.0 * lc["credits_t_co2_total"])
    assert s["public_spending_usd_by_instrument"]["chargers_government"] == pytest.approx(sum(cn["government_spending_usd"].values()))
    ts = result.timeseries
    for col in ("fleet_ev_share", "chargers_us", "chargers_mx", "lcfs_credits_t_co2_us", "lcfs_payments_usd_mx", "emissions_t_co2"):
        assert col in ts.columns
    assert ts["fleet_ev_share"].iloc[-1] >= ts["fleet_ev_share"].iloc[0]


def test_charging_access_lowers_the_cost_of_electrifying():
    m = ClusterModel(make_config(*SHORT))
    cn = _prog(m, "charging_network")
    mx = np.flatnonzero(cn.country == cn.countries.index("mx"))[:50]
    before = cn.capex_factor(m.engine, mx)[:, cn.k].copy()
    other = np.delete(np.arange(m.catalogue.k), cn.k)
    assert (cn.capex_factor(m.engine, mx)[:, other] == 1).all()
    expected = 1 + cn.params.charging_gap_capex_share * (1 - cn.access[cn.countries.index("mx")])
    np.testing.assert_allclose(before, expected, rtol=1e-6)
    cn.chargers[cn.countries.index("mx")] *= 20  # a big charger build-out in Mexico
    cn._update_access()
    after = cn.capex_factor(m.engine, mx)[:, cn.k]
    assert (after < before).all() and (after >= 1).all()


def test_network_externality_changes_adoption():
    """Same seed, same draws: a larger charging gap means fewer electrified fleets, and
    industry builds fewer chargers (the feedback runs both ways)."""
    out = {}
    for gap in (0.0, 3.0):
        s = run_model(make_config(*SHORT, f"scenario.programmes.charging_network.charging_gap_capex_share={gap}")).summary
        out[gap] = s["programmes"]["charging_network"]
    assert out[3.0]["fleet_ev_share_end_total"] < out[0.0]["fleet_ev_share_end_total"]
    assert sum(out[3.0]["chargers_built_by_industry"].values()) < sum(out[0.0]["chargers_built_by_industry"].values())


def test_lcfs_credit_value_and_monthly_credits_follow_the_formula():
    m = ClusterModel(make_config(*SHORT, "scenario.programmes.lcfs_credit.covered_countries=[us,mx]"))
    m.step()
    lc = _prog(m, "lcfs_credit")
    per_mwh = max(lc.benchmark - lc.elec_per_diesel * float(m.ef[CARRIERS.index("electricity")]), 0.0)
    assert lc.credit_t_per_mwh_displaced(m.engine) == pytest.approx(per_mwh)
    assert lc.benchmark == pytest.approx(0.262) and lc.price == pytest.approx(70.0)
    firms = np.arange(40)
    ev = lc.extra_value_usd_per_yr(m.engine, firms)
    diesel = m.state32[firms, CARRIERS.index("diesel")]
    np.testing.assert_allclose(ev[:, lc.k], diesel * lc.removes * per_mwh * 70.0 * 0.5, rtol=1e-5)
    assert (np.delete(ev, lc.k, axis=1) == 0).all()
    d = ev_displaced_diesel_mwh(m.engine, lc.k)
    assert lc.month_credits_t.sum() == pytest.approx(d[lc.covered].sum() * per_mwh / 12)


def test_oem_targets_flow_down_supply_edges():
    m = ClusterModel(make_config(*SHORT))
    ot = _prog(m, "oem_supplier_targets")
    ft = m.firms
    assert not ft.sets_supplier_target.any()  # before the targets start (2026)
    for _ in range(24):
        m.step()
    assert (ft.sets_supplier_target & ot.is_oem).sum() == ot.oem_sets.sum() > 0
    # pressure is the share of a firm's customers that set targets (one sparse product)
    nc = np.diff(m.network.customers.indptr)
    expect = np.where(nc > 0, m.network.customers @ ft.sets_supplier_target.astype(float) / np.maximum(nc, 1), 0.0)
    np.testing.assert_allclose(m.customer_pressure, expect, rtol=1e-6)
    # direct suppliers of target-setting OEMs are under pressure
    oem_rows = np.flatnonzero(ot.oem_sets)
    suppliers = np.unique(m.network.customers[:, oem_rows].nonzero()[0])
    assert len(suppliers) and (m.customer_pressure[suppliers] > 0).all()
    for _ in range(24):
        m.step()
    # flow-down: non-OEM firms have started passing targets on
    assert (ft.sets_supplier_target & ~ot.is_oem).sum() > 0
    assert ot.history[2028]["suppliers_passing_targets_on"] >= 0


@pytest.mark.parametrize("override,start", [
    ("scenario.programmes.charging_network.countries=[us,ca]", "scenario.programmes.charging_network.countries = 'ca'"),
    ("scenario.programmes.lcfs_credit.covered_countries=[us,gt]", "scenario.programmes.lcfs_credit.covered_countries = 'gt'"),
    ("scenario.programmes.charging_network.ev_measure=led_lighting", "scenario.programmes.charging_network.ev_measure = 'led_lighting'"),
    ("scenario.programmes.oem_supplier_targets.oem_target_share=1.5", "scenario.programmes.oem_supplier_targets.oem_target_share = 1.5"),
    ("scenario.programmes.charging_network.classes.urban_l2.cost_usd_per_charger=0", "scenario.programmes.charging_network.classes.urban_l2.cost_usd_per_charger = 0"),
])
def test_bad_parameters_are_one_line_errors(base_config, override, start):
    cfg = copy.deepcopy(base_config)
    path, value = override.split("=", 1)
    keys = path.split(".")[2:]  # below scenario.programmes
    node = cfg.scenario.programmes
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = yaml.safe_load(value)
    with pytest.raises(ConfigError) as err:
        check(cfg)
    assert str(err.value).startswith(start) and "\n" not in str(err.value)


def test_plot_from_a_run_folder(result, tmp_path):
    from sim.mechanisms.charging_network import plot
    from sim.results import write_run

    write_run(tmp_path / "run", result, "scenario: us_mx_ev\n")
    plot({"base": tmp_path / "run"}, str(tmp_path / "f.png"))
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
