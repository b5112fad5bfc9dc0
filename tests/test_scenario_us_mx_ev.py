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


CN = "scenario.programmes.charging_network"
EV = "fleet_electrification"


_BASE = {}


def _config(*overrides, charging=None, seed=None, ev_capex_usd_per_unit=None):
    """The scenario (composed once) with charging-network overrides ``key=value`` below
    ``scenario.programmes.charging_network``, an optional edit ``charging(params dict)`` and an
    optional EV premium (USD per MWh/yr of diesel removed) instead of the catalogue's."""
    if "base" not in _BASE:
        _BASE["base"] = make_config(*SHORT)
    cfg = copy.deepcopy(_BASE["base"])
    if ev_capex_usd_per_unit is not None:
        next(m for m in cfg.measures.catalogue if m.name == EV).capex_usd_per_unit = ev_capex_usd_per_unit
    cn = cfg.scenario.programmes["charging_network"]
    for o in overrides:
        path, value = o.split("=", 1)
        *keys, last = path.removeprefix(CN + ".").split(".")
        node = cn
        for key in keys:
            node = node[key]
        node[last] = yaml.safe_load(value)
    if charging is not None:
        charging(cn)
    if seed is not None:
        cfg.seed = seed
    return check(cfg)


def _no_public_chargers(cn):
    """Zero capacity all run: no stock, no government programme, no industry build-out."""
    for c in cn["classes"].values():
        c["initial_chargers"] = {"us": 0, "mx": 0}
        c["government_chargers_per_yr"] = {"us": 0, "mx": 0}
    cn["industry_max_growth_share"] = 0.0


def _ev_adoptions(res, country=None):
    a = res.adoptions
    sel = a["measure"].astype(str) == EV
    if country:
        sel &= a["sector"].astype(str).str.endswith(f"_{country}")
    return int(sel.sum())


def test_charging_access_lowers_the_cost_of_electrifying():
    """With no public charger a fleet pays the whole charging gap (1 + gap share times the
    catalogue capex); with a very dense network next to none; only the EV measure changes."""
    gap = 0.5  # the scenario's charging_gap_capex_share
    k = None
    factors = {}
    for name, stock in (("none", 0), ("some", None), ("dense", 10 ** 7)):
        def charging(cn, stock=stock):
            if stock is not None:
                for c in cn["classes"].values():
                    c["initial_chargers"] = {"us": stock, "mx": stock}
        m = ClusterModel(_config(charging=charging))
        cn = _prog(m, "charging_network")
        assert cn.params.charging_gap_capex_share == gap
        k = m.catalogue.index(EV)
        firms = np.flatnonzero(m.firms.applicable[:, k])[:100]
        f = cn.capex_factor(m.engine, firms)
        assert (np.delete(f, k, axis=1) == 1).all()  # no other measure is affected
        factors[name] = f[:, k]
    np.testing.assert_allclose(factors["none"], 1 + gap, rtol=1e-6)
    assert ((factors["some"] < 1 + gap) & (factors["some"] > 1.001)).all()
    np.testing.assert_allclose(factors["dense"], 1.0, atol=1e-3)


def test_network_externality_changes_adoption():
    """Same seed, same draws: a larger charging gap means fewer electrified fleets, and
    industry builds fewer chargers (the feedback runs both ways)."""
    out = {}
    for gap in (0.0, 3.0):
        # a van-heavy fleet premium (~US$ 100k per 300 MWh/yr, the catalogue's value before the
        # Class 8 correction of issue 12) so that enough fleets electrify in five years to show
        # the feedback; the catalogue's ~700 makes few do so before 2030
        s = run_model(_config(f"{CN}.charging_gap_capex_share={gap}", ev_capex_usd_per_unit=330)).summary
        out[gap] = s["programmes"]["charging_network"]
    assert out[3.0]["fleet_ev_share_end_total"] < out[0.0]["fleet_ev_share_end_total"]
    assert sum(out[3.0]["chargers_built_by_industry"].values()) < sum(out[0.0]["chargers_built_by_industry"].values())


def test_no_public_chargers_and_a_prohibitive_gap_mean_no_fleet_electrification():
    """Zero public capacity all run: access stays 0, no charger appears, and when building
    one's own charging costs 20 times the vehicle premium no fleet electrifies, while the
    same fleets do with a dense public network (same seed); other measures are unaffected."""
    gap = f"{CN}.charging_gap_capex_share=20"
    cheap = 330  # the van-heavy premium (see test_network_externality_changes_adoption)
    res = run_model(_config(gap, charging=_no_public_chargers, ev_capex_usd_per_unit=cheap))
    cn = res.summary["programmes"]["charging_network"]
    assert sum(sum(v.values()) for v in cn["chargers_end"].values()) == 0
    assert (res.timeseries["charging_access_share_us"] == 0).all() and (res.timeseries["charging_access_share_mx"] == 0).all()
    assert cn["government_spending_usd"] == {"us": 0.0, "mx": 0.0}
    assert _ev_adoptions(res) == 0
    assert len(res.adoptions) > 50  # the other measures are still adopted

    def dense(c):
        for cls in c["classes"].values():
            cls["initial_chargers"] = {"us": 10 ** 7, "mx": 10 ** 7}
    assert _ev_adoptions(run_model(_config(gap, charging=dense, ev_capex_usd_per_unit=cheap))) > 5


@pytest.mark.parametrize("seed", [0, 1])
def test_more_charging_budget_never_lowers_ev_adoption(seed):
    """Same seed, Mexico's charger budget raised from nothing to plenty (a programme of 40
    DC-fast and 40 truck chargers a year): Mexican fleet electrification never falls and,
    with a charging gap of twice the vehicle premium, rises."""
    counts, spent = [], []
    for budget in (0, 1e6, 1e7, 1e8):
        res = run_model(_config(f"{CN}.government_budget_usd.mx={budget}",
                                f"{CN}.classes.corridor_truck.government_chargers_per_yr.mx=40",
                                f"{CN}.classes.urban_dcfc.government_chargers_per_yr.mx=40",
                                f"{CN}.charging_gap_capex_share=2.0", seed=seed))
        counts.append(_ev_adoptions(res, "mx"))
        spent.append(res.summary["programmes"]["charging_network"]["government_spending_usd"]["mx"])
        assert spent[-1] <= budget
    assert all(b >= a for a, b in zip(counts, counts[1:])), counts
    assert counts[-1] > counts[0], counts
    assert all(b > a for a, b in zip(spent, spent[1:])), spent


def test_government_builds_its_programme_at_the_cited_charger_costs():
    """Five years of the configured programme (chargers per year by class), paid at the
    installed costs of Nicholas (2019, ICCT): Level 2 US$ 7,000, DC fast US$ 120,000, truck
    US$ 250,000. Neither country's budget binds in five years."""
    res = run_model(_config())
    cn = res.summary["programmes"]["charging_network"]
    years = 5
    per_yr = {"us": {"urban_l2": 40, "urban_dcfc": 10, "corridor_truck": 2},
              "mx": {"urban_l2": 10, "urban_dcfc": 2, "corridor_truck": 1}}
    cost = {"urban_l2": 7_000, "urban_dcfc": 120_000, "corridor_truck": 250_000}
    for c in ("us", "mx"):
        assert cn["chargers_built_by_government"][c] == years * sum(per_yr[c].values())
        assert cn["government_spending_usd"][c] == pytest.approx(years * sum(n * cost[j] for j, n in per_yr[c].items()))
    assert cn["government_spending_usd"] == {"us": 9_900_000.0, "mx": 2_800_000.0}
    assert res.summary["public_spending_usd_by_instrument"]["chargers_government"] == pytest.approx(12_700_000.0)


def test_a_tight_charger_budget_buys_what_it_can_and_never_more():
    res = run_model(_config(f"{CN}.government_budget_usd.mx=1000000"))
    cn = res.summary["programmes"]["charging_network"]
    # 1,000,000 buys the full first year (560,000); then cheapest classes first:
    # year 2 (440,000 left): 10 x 7,000 + 2 x 120,000, no truck charger (130,000 left);
    # year 3: 10 x 7,000 (60,000 left); year 4: 8 x 7,000 (4,000 left); year 5: nothing
    assert cn["government_spending_usd"]["mx"] == pytest.approx(996_000.0)
    assert cn["chargers_built_by_government"]["mx"] == 13 + 12 + 10 + 8
    assert cn["government_spending_usd"]["us"] == pytest.approx(9_900_000.0)  # the other country is untouched


def test_lcfs_credits_follow_the_carb_benchmark_and_price():
    """With a zero-carbon grid each MWh of diesel a fleet stops burning earns the electricity
    that replaces it (0.35 MWh) times the EER (5.0, CARB) times the CARB benchmark for 2025
    (100.45 g/MJ x (1 - 0.2275) = 0.2794 t/MWh): 0.35 x 5 x 0.2794 = 0.489 t, paid at US$ 70/t;
    with a grid dirtier than EER x benchmark nothing is earned; Mexico is credited only once
    it is covered. (Was 0.262: the 2019 standard taken for the baseline, and no EER.)"""
    def model(grid_t_per_mwh, covered="[us,mx]"):
        cfg = make_config(*SHORT, f"scenario.programmes.lcfs_credit.covered_countries={covered}")
        cfg.scenario.emission_factors_t_co2_per_mwh["electricity"].points = {2025: grid_t_per_mwh, 2050: grid_t_per_mwh}
        cfg.scenario.programmes["energy_zones"]["zones"]["us"]["grid_ef_t_co2_per_mwh"] = {2025: grid_t_per_mwh}
        return ClusterModel(cfg)

    credit = 0.35 * 5.0 * 100.45 * (1 - 0.2275) * 0.0036
    m = model(0.0)
    m.step()
    lc = _prog(m, "lcfs_credit")
    np.testing.assert_allclose(lc.credit_t_per_mwh_displaced(m.engine), credit, rtol=3e-4)  # the YAML rounds to 0.2794
    k = m.catalogue.index(EV)
    firms = np.flatnonzero(m.firms.applicable[:, k])[:40]
    diesel = m.firms.energy_mwh_per_yr[firms, CARRIERS.index("diesel")]
    removed = m.catalogue.removes_share[k, CARRIERS.index("diesel")]
    # counted revenue = removed diesel x benchmark x price x the counted share (0.5, assumption)
    np.testing.assert_allclose(lc.extra_value_usd_per_yr(m.engine, firms)[:, k], diesel * removed * credit * 70.0 * 0.5, rtol=3e-4)
    dirty = model(5.0 * 0.2794 + 0.01)  # above EER x benchmark
    dirty.step()
    assert (_prog(dirty, "lcfs_credit").credit_t_per_mwh_displaced(dirty.engine) == 0).all()
    res_us = run_model(make_config(*SHORT))
    res_both = run_model(make_config(*SHORT, "scenario.programmes.lcfs_credit.covered_countries=[us,mx]"))
    assert res_us.summary["programmes"]["lcfs_credit"]["credits_t_co2"]["mx"] == 0
    assert res_both.summary["programmes"]["lcfs_credit"]["credits_t_co2"]["mx"] > 0
    assert (res_us.timeseries["lcfs_payments_usd_mx"] == 0).all()


def test_oem_targets_flow_down_supply_edges():
    m = ClusterModel(make_config(*SHORT))
    ot = _prog(m, "oem_supplier_targets")
    ft = m.firms
    assert not ft.sets_supplier_target.any()  # before the targets start (2026)
    for _ in range(24):
        m.step()
    assert (ft.sets_supplier_target & ot.is_oem).sum() == ot.oem_sets.sum() > 0
    # direct suppliers of target-setting OEMs are under pressure, firms with no such customer are not
    oem_rows = np.flatnonzero(ot.oem_sets)
    suppliers = np.unique(m.network.customers.to_scipy()[:, oem_rows].nonzero()[0])
    assert len(suppliers) and (m.customer_pressure[suppliers] > 0).all()
    setters = np.flatnonzero(ft.sets_supplier_target)
    unpressed = np.setdiff1d(np.arange(ft.n), np.unique(m.network.customers.to_scipy()[:, setters].nonzero()[0]))
    assert len(unpressed) and (m.customer_pressure[unpressed] == 0).all()
    for _ in range(24):
        m.step()
    # flow-down: non-OEM firms have started passing targets on, as the yearly record says
    passing = int((ft.sets_supplier_target & ~ot.is_oem).sum())
    assert passing > 0
    assert sum(h["suppliers_passing_targets_on"] for h in ot.history.values()) == passing
    setting = [ot.history[y]["firms_setting_supplier_targets"] for y in sorted(ot.history)]
    assert setting == sorted(setting) and setting[-1] == int(ft.sets_supplier_target.sum())


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
