"""Programme evaluation (sim.evaluation): lifetime abatement, discounting, per-instrument
attribution, the one free-rider definition, for-whom tables, in-kind money, run labels."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.compare import Request, compare
from sim.evaluation import LIFETIME
from sim.evaluation.additionality import additionality, in_baseline_within, supported
from sim.evaluation.cost_effectiveness import attribute, horizons, run_quantities
from sim.evaluation.distribution import by_group, concentration
from sim.evaluation.labels import run_label
from sim.evaluation.lifetime import lifetime_flows, present_value_of_flow
from sim.evaluation.runs import load_run
from sim.job import run_model

SMALL = ["n_firms=300", "end_year=2028", "write_firm_panel=false"]


def rows(**cols) -> pd.DataFrame:
    n = len(cols["month"])
    base = {"firm": np.arange(n), "measure": ["m3"] * n, "capex_usd": np.full(n, 1000.0), "subsidy_usd": np.zeros(n),
            "loan_grant_equivalent_usd": np.zeros(n), "abatement_t_co2_per_yr": np.ones(n),
            "energy_cost_saving_usd_per_yr": np.full(n, 100.0)}
    base.update(cols)
    return pd.DataFrame(base)


# -- lifetime and discounting (no runs) ---------------------------------------------------------
def test_an_installation_abates_over_its_lifetime_truncated_at_the_horizon():
    ad = rows(month=[0, 24, 60], measure=["m3", "m3", "m20"])
    life = {"m3": 3.0, "m20": 20.0}
    f = lifetime_flows(ad, life, {}, end_t=6.0, rate_per_yr=0.0)["abatement_t_co2"].to_numpy()
    # month 0: 3 years; month 24: years 2-5 (3 years, inside); month 60: year 5-6 (cut at the horizon)
    assert f == pytest.approx([3.0, 3.0, 1.0])
    whole = lifetime_flows(ad, life, {}, end_t=None, rate_per_yr=0.0)["abatement_t_co2"].to_numpy()
    assert whole == pytest.approx([3.0, 3.0, 20.0])
    # an installation after the horizon counts nothing, money included
    late = lifetime_flows(rows(month=[84]), {"m3": 3.0}, {}, end_t=6.0, rate_per_yr=0.03)
    assert late["abatement_t_co2"].sum() == 0 and late["capex_usd"].sum() == 0


def test_discounting_lowers_lifetime_tonnes_and_more_so_at_a_higher_rate():
    ad = rows(month=[0, 30, 100], measure=["m20"] * 3)
    t = [lifetime_flows(ad, {"m20": 20.0}, {}, None, r)["abatement_t_co2"].sum() for r in (0.0, 0.03, 0.07)]
    assert t[0] == pytest.approx(60.0)
    assert t[0] > t[1] > t[2] > 0
    # the closed form: one tonne a year for a year starting now, at 3 %
    assert present_value_of_flow(0.0, 1.0, 0.03) == pytest.approx((1 - 1.03 ** -1) / np.log(1.03))


def test_horizons_are_limited_to_the_run():
    assert [h for h, _ in horizons(2025, 2035, (2030, 2040, 2050))] == ["2030", LIFETIME]
    assert dict(horizons(2025, 2050, (2030,)))["2030"] == 6.0


# -- engine runs ---------------------------------------------------------------------------------
def _run(config, *over):
    return run_model(config(*SMALL, *over))


def test_removing_an_instrument_with_zero_budget_changes_nothing(config):
    a = _run(config, "policy=incentive_package", "seed=2", "policy.capex_subsidy.budget_usd=0")
    b = _run(config, "policy=incentive_package", "seed=2", "policy.capex_subsidy.enabled=false")
    cols = ["month", "firm", "measure", "capex_usd", "subsidy_usd", "loan_usd", "abatement_t_co2_per_yr"]
    pd.testing.assert_frame_equal(a.adoptions[cols], b.adoptions[cols])
    assert a.summary["emissions_t_co2_by_year"] == b.summary["emissions_t_co2_by_year"]
    assert a.summary["public_spending_usd"] == b.summary["public_spending_usd"]
    assert len(a.adoptions) > 0


def test_in_kind_money_is_not_public_cost(config, tmp_path):
    from omegaconf import OmegaConf

    from sim.compose import load_both
    from sim.results import write_run

    cfg, typed = load_both([*SMALL, "scenario=bajio_cpi", "policy=none", "seed=0"])
    r = run_model(typed)
    s = r.summary
    in_kind = s["in_kind_usd_by_name"]["cp_centre_in_kind"]
    assert in_kind > 0  # the chamber's in-kind office and staff time was used
    assert "cp_centre_in_kind" not in s["public_spending_usd_by_instrument"]
    assert s["public_spending_usd"] == pytest.approx(sum(s["public_spending_usd_by_instrument"].values()))
    by_funder = s["programmes"]["cleaner_production_centre"]["spending_usd_by_funder"]
    assert by_funder["in_kind"] == pytest.approx(in_kind)
    # the centre's funders spent public + in-kind money; only the public part is public spending
    assert sum(by_funder.values()) == pytest.approx(s["public_spending_usd_by_instrument"]["cp_centre_operations"]
                                                    + s["public_spending_usd_by_instrument"]["cp_projects"] + in_kind)
    write_run(tmp_path / "r", r, OmegaConf.to_yaml(cfg, resolve=True))
    q, by_name = run_quantities(load_run(tmp_path / "r"), (2030,), rate=0.0)
    assert q.loc[LIFETIME, "in_kind_usd"] == pytest.approx(in_kind)
    assert q.loc[LIFETIME, "public_cost_usd"] == pytest.approx(s["public_spending_usd"])
    assert "cp_centre_in_kind" not in by_name.columns
    # a run that spends public money under policy none is not called "none"
    assert run_label(s).startswith("scenario programmes only (")


# -- a small paired comparison shared by the tests below ---------------------------------------
@pytest.fixture(scope="module")
def cmp(tmp_path_factory):
    out = tmp_path_factory.mktemp("cmp")
    req = Request(policies=["incentive_package"], seeds=[0, 1, 2], out=out, overrides=list(SMALL))
    table, by_seed, out = compare(req)
    return req, table, by_seed, out


def _pair(out, seed):
    return load_run(out / f"runs/incentive_package/seed={seed}"), load_run(out / f"runs/none/seed={seed}")


def test_free_riders_within_n_years_at_least_those_of_the_same_month(cmp):
    _, _, _, out = cmp
    seen_more = False
    for s in (0, 1, 2):
        p, b = _pair(out, s)
        fr = [additionality(p, b, window_yr=n)["free_riders"] for n in (0.0, 1 / 12, 1.0, 2.0, 10.0)]
        assert fr == sorted(fr), fr
        seen_more |= fr[-1] > fr[0]
        sup = supported(p.adoptions)
        assert additionality(p, b, window_yr=2.0)["free_riders"] == int((sup & in_baseline_within(p.adoptions, b.adoptions, 2.0, p.lifetime_yr)).sum())
    assert seen_more  # the window matters in this cluster: some firms adopt later on their own


def test_a_baseline_adoption_long_expired_is_not_a_free_rider():
    life = {"m3": 3.0}
    pol = rows(month=[120, 120], firm=[1, 2], subsidy_usd=[10.0, 10.0])
    base = rows(month=[0, 130], firm=[1, 2])  # firm 1's baseline unit expired in month 36; firm 2 adopts 10 months later
    assert in_baseline_within(pol, base, 2.0, life).tolist() == [False, True]
    assert in_baseline_within(pol, base, 0.0, life).tolist() == [False, False]


def test_distribution_tables_sum_to_the_totals(cmp):
    _, _, _, out = cmp
    p, b = _pair(out, 1)
    t = by_group(p)
    tot = t[t["dimension"] == "all"].set_index("metric")["value"]
    for dim, g in t[t["dimension"] != "all"].groupby("dimension"):
        sums = g.groupby("metric")["value"].sum()
        for m in ("firms", "adopters", "adoptions", "grants_received_usd", "energy_cost_saving_usd", "abatement_t_co2"):
            assert sums[m] == pytest.approx(tot[m]), (dim, m)
    ad = p.adoptions
    assert tot["adoptions"] == len(ad) and tot["adopters"] == ad["firm"].nunique() and tot["firms"] == 300
    assert tot["grants_received_usd"] == pytest.approx((ad["subsidy_usd"] + ad["loan_grant_equivalent_usd"]).sum())
    d = pd.read_parquet(out / "distribution.parquet")
    assert set(d.columns) == {"policy", "seed", "run", "dimension", "group", "metric", "value"}
    one = d[(d["seed"] == 1) & (d["run"] == "difference")]
    for (dim, m), g in one[one["dimension"] != "all"].groupby(["dimension", "metric"]):
        total = one[(one["dimension"] == "all") & (one["metric"] == m)]["value"].sum()
        assert g["value"].sum() == pytest.approx(total), (dim, m)
    c = concentration(p)
    assert 0 < c["top10_recipients_share"] <= 1 and 0 <= c["gini_public_money"] < 1


def test_per_instrument_costs_sum_to_the_package(cmp):
    req, table, _, out = cmp
    inst = pd.read_parquet(out / "instruments.parquet")
    assert (out / "instruments_mac.png").stat().st_size > 0
    for hz, g in inst.groupby("horizon"):
        pkg = g[g["instrument"] == "package"].iloc[0]
        parts = g[~g["instrument"].isin(["package", "interactions"])]
        assert parts["own_public_cost_usd"].sum() == pytest.approx(pkg["own_public_cost_usd"], rel=1e-9)
        # marginals + interactions = the package's effect
        assert (parts["marginal_abatement_t_co2"].sum() + g[g["instrument"] == "interactions"]["marginal_abatement_t_co2"].sum()
                == pytest.approx(pkg["marginal_abatement_t_co2"]))
    assert set(inst["instrument"]) >= {"policy.capex_subsidy", "policy.green_loan", "policy.training", "package", "interactions"}
    # the package's public cost equals the compare table's (same seeds, whole lifetime)
    lt = inst[(inst["horizon"] == LIFETIME) & (inst["instrument"] == "package")].iloc[0]
    assert lt["own_public_cost_usd"] == pytest.approx(table.iloc[0]["public_cost_usd"])


def test_attribution_splits_interactions_explicitly():
    """Two instruments that only work together: each removal loses everything, so the
    marginals double-count and the interactions row takes the excess back (negative)."""
    def frame(ab, pub):
        return pd.DataFrame({"abatement_t_co2": [ab], "public_cost_usd": [pub], "social_cost_usd": [0.0]}, index=[LIFETIME])

    def names(**v):
        return pd.DataFrame([v], index=[LIFETIME])

    t = attribute([frame(100, 30)], [names(a=10.0, b=20.0)], [frame(0, 0)], [names()],
                  {"a": [frame(0, 20)], "b": [frame(0, 10)]}, {"a": [names(b=20.0)], "b": [names(a=10.0)]}, LIFETIME)
    t = t.set_index("instrument")
    assert t.loc["a", "marginal_abatement_t_co2"] == 100 and t.loc["b", "marginal_abatement_t_co2"] == 100
    assert t.loc["interactions", "marginal_abatement_t_co2"] == -100
    assert t.loc["a", "own_public_cost_usd"] == 10 and t.loc["b", "own_public_cost_usd"] == 20
    assert t.loc["a", "own_usd_per_t_co2"] == pytest.approx(0.1)


def test_headlines_carry_intervals_and_the_free_rider_share_is_one_definition(cmp):
    req, table, by_seed, out = cmp
    r = table.iloc[0]
    for k in ("abatement_t_co2", "public_usd_per_t_co2", "social_usd_per_t_co2", "free_rider_share", "net_to_gross_ratio"):
        assert np.isfinite(r[f"{k}_lo95"]) and r[f"{k}_lo95"] <= r[k] <= r[f"{k}_hi95"], k
    p, b = _pair(out, 0)
    assert by_seed.set_index("seed").loc[0, "free_rider_share"] == pytest.approx(additionality(p, b)["free_rider_share"])
    ce = pd.read_parquet(out / "cost_effectiveness.parquet")
    assert list(ce["horizon"]) == [LIFETIME]  # 2030 is after this run's end (2028): not reported
    md = (out / "compare.md").read_text()
    assert "Per instrument" in md and "For whom" in md and "limited to the run's end" in md
