"""Scenario nuevo_leon: Alianzas Climaticas (source: 000_921f8effd5da221e.txt).

Three cluster associations hold barrier workshops of ~21 firms, build MAC-curve roadmaps with
yearly targets that never rise, and the alliance reads each cluster's emissions from the
state registry - which must add up to the firm table and to the monthly time series.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import make_config, run_cli

PROG = "scenario.programmes.climate_alliance"
CLUSTERS = ["energy_cluster", "home_appliance_cluster", "automotive_cluster"]  # source: 000_921f8effd5da221e.txt


def _model(*overrides):
    from sim.model import ClusterModel

    return ClusterModel(make_config("scenario=nuevo_leon", *overrides))


def _alliance(m):
    return next(p for p in m.mechanisms if p.name == "climate_alliance")


@pytest.fixture(scope="module")
def run():
    from sim.results import collect

    m = _model("end_year=2029")
    m.run()
    return m, collect(m)


def test_three_partner_clusters_with_supply_links_from_suppliers_to_oems(run):
    m, res = run
    s = res.summary["programmes"]["climate_alliance"]
    assert list(s["clusters"]) == CLUSTERS
    assert all(c["members"] > 21 for c in s["clusters"].values())
    net, ft = m.network, m.firms
    sup = net.kind == 0
    names = np.array(m.sector_names)
    oem = np.isin(names[ft.sector[net.dst[sup]]], ["automotive", "home_appliances"])
    assert oem.sum() > 0.3 * sup.sum()  # a large share of supply ties end at the OEMs
    assert not np.isin(names[ft.sector[net.src[sup]]], ["automotive"]).any()  # OEMs buy, they do not supply


def test_workshops_of_21_firms_per_cluster_report_barriers(run):
    m, res = run
    s = res.summary["programmes"]["climate_alliance"]
    for name in CLUSTERS:
        c = s["clusters"][name]
        assert c["workshop_participants"] == 21  # source: 000_921f8effd5da221e.txt
        b = c["workshop_barriers"]
        assert b["open_pairs"] > 0
        for k in ("information_share", "economics_share", "capital_share", "skills_share", "unblocked_share"):
            assert 0.0 <= b[k] <= 1.0
        assert b["information_share"] > 0  # unaware firms are why workshops are held


def test_a_workshop_lifts_awareness_and_relieves_only_its_participants():
    m = _model("end_year=2025", "n_firms=1500")
    m.advance_month()  # month 0: the start year opens
    aware0 = m.firms.aware.copy()
    m.cluster_activities()  # month 0: the workshops
    risk = m.firms.risk_relief
    part = np.flatnonzero(risk > 0)
    assert len(part) == 3 * 21
    assert (np.bincount(m.firms.cluster[part], minlength=3) == 21).all()
    assert np.allclose(risk[part], 0.3) and np.allclose(m.firms.hidden_cost_relief[part], 0.5)
    changed = np.flatnonzero((m.firms.aware != aware0).any(axis=1))
    assert len(changed) > 0 and np.isin(changed, part).all()
    assert (m.firms.aware >= aware0).all()
    assert m.aware_count.sum() == m.firms.aware.sum()


def test_roadmaps_rank_measures_by_cost_and_targets_never_rise(run):
    m, res = run
    s = res.summary["programmes"]["climate_alliance"]
    for name in CLUSTERS:
        rm = s["clusters"][name]["roadmap"]
        costs = [r["cost_usd_per_t_co2"] for r in rm["mac_curve"]]
        assert costs == sorted(costs) and len(costs) >= 3
        assert all((r["cost_usd_per_t_co2"] <= 0) == r["in_roadmap"] for r in rm["mac_curve"])  # profitable only
        cum = [r["cumulative_t_co2_per_yr"] for r in rm["mac_curve"]]
        assert np.all(np.diff(cum) >= 0) and all(r["potential_t_co2_per_yr"] >= 0 for r in rm["mac_curve"])
        assert 0 < rm["potential_t_co2_per_yr"] <= rm["base_emissions_t_co2"]
        t = rm["target_t_co2_by_year"]
        years = sorted(int(y) for y in t)
        vals = np.array([t[str(y)] for y in years])
        assert years[0] == rm["base_year"] and vals[0] == pytest.approx(rm["base_emissions_t_co2"])
        assert np.all(np.diff(vals) <= 1e-9)  # monotone: targets never rise
        assert t["2030"] == pytest.approx(rm["base_emissions_t_co2"] - rm["potential_t_co2_per_yr"])
        a = rm["ambition_t_co2_by_year"]
        assert np.all(np.diff([a[str(y)] for y in years]) <= 1e-9)
        assert 0 < rm["coverage_share"] < 1  # built from the members reporting after a year


def test_cheaper_first_potentials_do_not_double_count():
    """The stacked potential of all measures is what adopting them in MAC order really saves."""
    m = _model("end_year=2026", "n_firms=1500")
    for _ in range(13):
        m.step()
    al = _alliance(m)
    members = al.members[2]
    rows = al.mac_curve(m.engine, members)
    x0 = m.state_matrix(members)
    before = (m.scope1_rate[members] + m.scope2_rate[members]).sum()
    stacked = sum(r[2] for r in rows)
    # a separately summed potential (each measure on today's state) is larger when measures overlap
    ab = x0 @ (m.val.abated_scope1_t + m.val.abated_scope2_t).T
    can = m.firms.applicable[members] & ~m.firms.adopted[members] & m.available[None, :]
    can &= (x0 @ m.val.size_basis.T) > 0
    separate = sum(float(np.where(can[:, k], ab[:, k], 0).sum()) for k, _, _ in rows)
    assert 0 < stacked < separate
    assert stacked < before


def test_a_higher_cost_ceiling_never_shrinks_the_roadmap():
    pots = []
    for ceiling in (0, 100000):
        m = _model("end_year=2026", "n_firms=1500", f"{PROG}.roadmap_max_cost_usd_per_t_co2={ceiling}")
        for _ in range(13):
            m.step()
        pots.append({k: r.potential_t_co2_per_yr for k, r in _alliance(m).roadmaps.items()})
    for name in CLUSTERS:
        assert pots[1][name] >= pots[0][name]
    assert sum(pots[1].values()) > sum(pots[0].values())


def test_registry_sums_equal_the_firm_table_and_the_time_series(run):
    m, res = run
    s = res.summary["programmes"]["climate_alliance"]["clusters"]
    panel = res.firms
    by = panel.groupby(["cluster", "year"], observed=True)["emissions_t_co2"].sum()
    rep = panel[panel["reporting"]].groupby(["cluster", "year"], observed=True)["emissions_t_co2"].sum()
    cov = panel.groupby(["cluster", "year"], observed=True)["reporting"].mean()
    for name in CLUSTERS:
        for y, row in s[name]["by_year"].items():
            assert row["emissions_t_co2"] == pytest.approx(float(by[(name, int(y))]), rel=1e-6)
            assert row["reported_t_co2"] == pytest.approx(float(rep.get((name, int(y)), 0.0)), rel=1e-6)
            assert row["registry_coverage_share"] == pytest.approx(float(cov[(name, int(y))]))
            assert row["reported_t_co2"] <= row["emissions_t_co2"] * (1 + 1e-9)
        covs = [r["registry_coverage_share"] for _, r in sorted(s[name]["by_year"].items())]
        assert np.all(np.diff(covs) >= 0)  # clusters keep collecting: coverage never falls
    # registry totals = firm panel = the integral of the monthly time series
    reg = res.summary["emissions_t_co2_by_year"]
    annual_ts = res.timeseries.groupby("year")["emissions_t_co2"].sum()
    annual_panel = panel.groupby("year")["emissions_t_co2"].sum()
    for y, v in reg.items():
        assert v == pytest.approx(float(annual_ts[int(y)]), rel=1e-9)
        assert v == pytest.approx(float(annual_panel[int(y)]), rel=1e-6)
    # the alliance's cluster split is the registry's own grouping
    yi = len(reg) - 1
    g = m.registry.group_totals(m.firms.cluster.astype(np.int64), 3)[yi]
    assert g == pytest.approx([s[n]["by_year"][str(m.start_year + yi)]["emissions_t_co2"] for n in CLUSTERS], rel=1e-6)


def test_bad_alliance_input_names_the_key():
    from sim.params import ConfigError

    for override, key in ((f"{PROG}.clusters=[steel_cluster]", f"{PROG}.clusters"),
                          (f"{PROG}.roadmap_target_year=2020", f"{PROG}.roadmap_target_year"),
                          (f"{PROG}.ambition_reduction_share=1.7", f"{PROG}.ambition_reduction_share")):
        with pytest.raises(ConfigError) as err:
            make_config("scenario=nuevo_leon", override)
        assert key in str(err.value)


def test_cli_run_reports_each_clusters_emissions_against_its_roadmap(tmp_path):
    out = tmp_path / "run"
    p = run_cli("scenario=nuevo_leon", "end_year=2027", "n_firms=1500", f"hydra.run.dir={out}")
    assert p.returncode == 0, p.stderr
    s = json.loads((out / "summary.json").read_text())
    al = s["programmes"]["climate_alliance"]
    for name in CLUSTERS:
        rows = al["clusters"][name]["by_year"]
        assert set(rows) == {"2025", "2026", "2027"}
        assert "target_t_co2" in rows["2027"] and "ambition_t_co2" in rows["2027"]
    assert "climate_alliance: clusters=3" in p.stdout + p.stderr
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert ts["alliance_roadmaps"].iloc[-1] == 3
    from sim.mechanisms import climate_alliance

    png = tmp_path / "nl.png"
    assert climate_alliance.main([str(out), str(png)]) == 0 and png.stat().st_size > 10000
    assert climate_alliance.main([str(tmp_path / "nowhere"), str(png)]) == 2


def test_no_information_no_roadmap():
    """A cluster whose members never report has nothing to build a roadmap on."""
    m = _model("end_year=2026", "n_firms=1500", "scenario.clusters.0.info_collection_rate_per_month=0")
    for _ in range(13):
        m.step()
    assert set(_alliance(m).roadmaps) == set(CLUSTERS[1:])


def test_with_full_coverage_the_roadmap_base_is_the_registry_total():
    over = [f"scenario.clusters.{i}.{k}=1.0" for i in range(3)
            for k in ("info_collection_rate_per_month", "voluntary_reporting_share")]
    m = _model("end_year=2026", "n_firms=1500", *over)
    for _ in range(13):
        m.step()
    al = _alliance(m)
    for name, rm in al.roadmaps.items():
        assert rm.coverage_share == 1.0
        assert rm.base_emissions_t_co2 == pytest.approx(al.base_actual[name], rel=1e-9)
    # with partial coverage each reporting member stands for its stratum's members
    ci = 2
    members = al.members[ci]
    rep = members[::3]
    w = al.extrapolation_weights(m.engine, members, rep)
    assert w.sum() <= len(members) and (w >= 1).all()


def test_the_alliance_lowers_its_clusters_emissions_against_no_alliance():
    from sim.run import run_model

    on = run_model(make_config("scenario=nuevo_leon", "end_year=2028", "n_firms=1500")).summary
    off = run_model(make_config("scenario=nuevo_leon", "end_year=2028", "n_firms=1500", f"{PROG}.enabled=false")).summary
    a, b = on["programmes"]["climate_alliance"], off["programmes"]["climate_alliance"]
    assert b["headline"]["workshop_participants"] == 0 and b["headline"]["roadmaps"] == 0
    assert set(b["clusters"][CLUSTERS[0]]["by_year"]) == {"2025", "2026", "2027", "2028"}  # still tracked
    total = lambda s: sum(r["emissions_t_co2"] for c in s["clusters"].values() for r in c["by_year"].values())
    assert total(a) < total(b)
    assert on["cumulative_emissions_t_co2"] < off["cumulative_emissions_t_co2"]
