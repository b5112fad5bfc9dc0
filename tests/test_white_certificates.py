"""White certificates (energy-efficiency obligation) as a mechanism added through the Engine
alone: it raises adoption, counts exactly the certified measures' savings, prices scarcity,
and costs no public money."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import make_config, run_cli

WC = "+scenario.programmes.white_certificates"
BASE = ("scenario=mx_cluster", "policy=none", "n_firms=400", "end_year=2034", "seed=3")


def _run(*overrides, snapshots=False):
    from sim.model import ClusterModel
    from sim.results import collect

    m = ClusterModel(make_config(*BASE, *overrides))
    energy = []
    while m.running:
        if not snapshots:
            m.step()
            continue
        m.advance_month()  # step()'s phases, with the state the month's decisions see
        m.expire_measures()  # (installations that ended this month are gone before decisions)
        energy.append(m.engine.firms.energy_mwh_per_yr.copy())
        m.cluster_activities()
        m.programme_activities()
        m.firm_decisions()
        m.account_emissions()
        m.collect_data()
        if m.month + 1 >= m.n_months:
            m.running = False
            for mech in m.mechanisms:
                mech.end(m.engine)
    return m, collect(m), energy


@pytest.fixture(scope="module")
def off():
    return _run()


@pytest.fixture(scope="module")
def on():
    return _run(f"{WC}.enabled=true", snapshots=True)


def _wc(res):
    return res.summary["programmes"]["white_certificates"]


def test_scheme_raises_adoptions_and_abatement(off, on):
    (_, r0, _), (_, r1, _) = off, on
    assert r1.summary["adoptions"] > r0.summary["adoptions"]
    assert r1.summary["cumulative_emissions_t_co2"] < r0.summary["cumulative_emissions_t_co2"]
    assert (r1.adoptions["instrument"].astype(str) == "white_certificates").sum() > 0


def test_certified_savings_recomputed_from_adoptions_and_catalogue(on):
    m, res, energy = on
    cat = m.catalogue
    a = res.adoptions[res.adoptions["instrument"].astype(str) == "white_certificates"]
    k = a["measure"].cat.codes.to_numpy()
    x = np.stack([energy[mo][f] for mo, f in zip(a["month"].to_numpy(), a["firm"].to_numpy())])  # [P, C]
    removed = (x * cat.removes_share[k]).sum(axis=1)
    added = np.where(cat.adds_carrier[k] >= 0, removed * cat.adds_mwh_per_mwh_removed[k], 0.0)
    assert (cat.capture_share[k] == 0).all()  # capture uses energy: never certified
    saving = removed - added  # final-energy MWh/yr
    life = cat.lifetime_yr[k]
    cumac = saving * sum(1.04 ** -t * (t < life) for t in range(int(life.max())))  # 4 %/yr, first year undiscounted
    w = _wc(res)
    yrs = a["year"].to_numpy()
    for y in np.unique(yrs):
        assert w["certified_savings_mwh_per_yr_by_year"][str(y)] == pytest.approx(saving[yrs == y].sum(), rel=1e-6)
        assert w["certified_mwh_by_year"][str(y)] == pytest.approx(cumac[yrs == y].sum(), rel=1e-6)
        assert w["certified_adoptions_by_year"][str(y)] == (yrs == y).sum()
    # the firms were paid the certificate value (80 % of price x certificates, capped at capex)
    price = np.array([w["certificate_price_usd_per_mwh_by_year"][str(y)] for y in yrs])
    expect = np.minimum(0.8 * price * cumac, a["capex_usd"].to_numpy())
    np.testing.assert_allclose(a["subsidy_usd"].to_numpy(), expect, rtol=1e-4)
    ts = res.timeseries
    assert ts["wc_certified_mwh"].sum() == pytest.approx(cumac.sum(), rel=1e-6)
    assert ts["wc_payments_to_firms_usd"].sum() == pytest.approx(w["payments_to_firms_usd"], rel=1e-9)


def test_no_public_spending(off, on):
    (_, r0, _), (_, r1, _) = off, on
    assert r1.summary["public_spending_usd"] == r0.summary["public_spending_usd"] == 0.0
    w = _wc(r1)
    assert w["public_cost_usd"] == 0.0
    assert w["payments_to_firms_usd"] > 0
    assert w["cost_to_energy_consumers_usd"] == pytest.approx(w["payments_to_firms_usd"] + w["penalty_paid_usd"])


def test_higher_certificate_price_never_lowers_adoptions():
    adoptions = []
    for price in (2.0, 8.99, 16.24):
        _, res, _ = _run(f"{WC}.price_rule=fixed", f"{WC}.certificate_price_usd_per_mwh={price}", "end_year=2030")
        adoptions.append(res.summary["adoptions"])
    assert adoptions == sorted(adoptions) and adoptions[-1] > adoptions[0]


def test_shortfall_raises_price_and_surplus_lowers_it(on):
    w = _wc(on[1])
    years = sorted(w["shortfall_mwh_by_year"])
    price = w["certificate_price_usd_per_mwh_by_year"]
    short = [y for y in years[:-1] if w["shortfall_mwh_by_year"][y] > 0]
    assert short  # the default obligation is not met by the cluster's own measures
    for y in short:
        assert price[str(int(y) + 1)] > price[y]
        assert w["penalty_paid_usd_by_year"][y] == pytest.approx(w["shortfall_mwh_by_year"][y] * 16.24)
    # a tiny obligation: surplus every year, banked, and the price falls toward the floor
    _, res, _ = _run(f"{WC}.obligation_per_mwh_sold={{electricity: 0.0001}}", "end_year=2029")
    w = _wc(res)
    p = [w["certificate_price_usd_per_mwh_by_year"][y] for y in sorted(w["certificate_price_usd_per_mwh_by_year"])]
    assert all(b < a for a, b in zip(p, p[1:]))
    assert w["penalty_paid_usd"] == 0.0 and w["bank_mwh"] > 0


@pytest.mark.parametrize("override, key", [
    (f"{WC}.counting=lifetime", "scenario.programmes.white_certificates.counting"),
    (f"{WC}.certificate_price_usd_per_mwh=50", "scenario.programmes.white_certificates.certificate_price_usd_per_mwh"),
    (f"{WC}.obligation_per_mwh_sold={{steam: 0.2}}", "scenario.programmes.white_certificates.obligation_per_mwh_sold"),
    (f"{WC}.share_of_value_to_firm=1.5", "scenario.programmes.white_certificates.share_of_value_to_firm"),
])
def test_bad_parameters_one_line_error_exit_2(override, key):
    r = run_cli(*BASE, override)
    assert r.returncode == 2, r.stderr[-500:]
    lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and key in lines[0], r.stderr
