"""The app's "what if from here" (sim/viz/state.py): a live run keeps its state at the start of
each year, and a lever change that only adds an instrument starting in a later year continues
the kept state instead of re-simulating from the start year -- with the re-simulation's result,
table for table, also with workshop roles; any other change, or a role action the added
instrument would have changed, re-simulates. No browser."""
from __future__ import annotations

import pandas as pd
import pytest

from sim.results import collect
from sim.viz import state
from sim.viz.levers import Settings, lever_values
from sim.viz.state import Simulation

BASE = dict(scenario="mx_cluster", policy="incentive_package", n_firms=240, levers=(("policy.cost_share.enabled", False),))
MID_2028 = 12 * 3 + 5  # 41 months: June 2028
CARBON_2028 = {"policy.carbon_price.enabled": True, "policy.carbon_price.start_year": 2028,
               "policy.carbon_price.price_usd_per_t_co2": 80}
COST_SHARE_2028 = {"policy.cost_share.enabled": True, "policy.cost_share.start_year": 2028}


def _pair(actions=()):
    """Two live runs of the same settings stepped to June 2028 with the same role actions: one
    keeps its year-start states, the other keeps none (every lever change re-simulates)."""
    sims = []
    for budget in (state.YEAR_STATES_BUDGET_BYTES, 0):
        sim = Simulation(Settings(**BASE), year_states_budget_bytes=budget)
        for month, kind, target, payload in actions:
            sim.step(month - sim.steps_done)
            sim.add_role_action(kind, target, payload)
        sim.step(MID_2028 - sim.steps_done)
        sims.append(sim)
    return sims


def _same_run(a: Simulation, b: Simulation) -> None:
    assert a.steps_done == b.steps_done
    for s in (a, b):
        s.step(s.total_steps)
    ra, rb = collect(a.model), collect(b.model)
    for t in ("adoptions", "timeseries", "firms"):
        pd.testing.assert_frame_equal(getattr(ra, t), getattr(rb, t), check_exact=True, obj=t)
    assert ra.summary == rb.summary


def test_a_later_carbon_price_continues_the_kept_year_and_equals_the_re_simulation():
    kept, plain = _pair()
    assert list(kept.years.states) == [2026, 2027, 2028] and not plain.years.states
    before = collect(kept.model).summary["cumulative_emissions_t_co2"]
    for s in (kept, plain):
        s.apply_levers(CARBON_2028)
    assert kept.last_apply["forked_from"] == 2028 and plain.last_apply["forked_from"] is None
    assert kept.steps_done == MID_2028 and kept.previous is not None  # the previous run stays on the chart
    # a second change from the new run's own kept years: a cost-share programme from 2029, at June 2030
    for s in (kept, plain):
        s.step(24)
        s.apply_levers({**COST_SHARE_2028, "policy.cost_share.start_year": 2029})
    assert kept.last_apply["forked_from"] == 2029
    assert list(kept.years.states) == [2026, 2027, 2028, 2029, 2030]
    _same_run(kept, plain)
    # the levers did act (else equal runs prove nothing)
    assert collect(kept.model).summary["cumulative_emissions_t_co2"] != before
    assert collect(kept.model).adoptions["instrument"].astype(str).eq("cost_share").any()


def test_changes_no_kept_year_describes_re_simulate():
    a, b = Simulation(Settings(**BASE)), Simulation(Settings(**BASE))
    for s in (a, b):
        s.step(MID_2028)
    assert list(b.years.states) == [2026, 2027, 2028]
    b.apply_levers({**CARBON_2028, "policy.carbon_price.start_year": 2025})  # the start year: no kept year before it
    assert b.last_apply["forked_from"] is None
    a.apply_levers({**CARBON_2028, "policy.carbon_price.start_year": 2040})  # later than now: this year's state
    assert a.last_apply["forked_from"] == 2028
    a.apply_levers({"policy.carbon_price.price_usd_per_t_co2": 10})  # the kept years were taken with the price off
    assert a.last_apply["forked_from"] == 2028
    for change in ({"policy.capex_subsidy.subsidy_share": 0.5},  # acts from the first month
                   {"policy.carbon_price.price_usd_per_t_co2": 20},  # on (from 2040) in every kept year now
                   {"policy.workshops.enabled": False}):
        a.apply_levers(change)
        assert a.last_apply["forked_from"] is None, change
    assert list(a.years.states) == [2026, 2027, 2028]  # re-simulated: the new run's own years


def _roles():
    """A firm player's choice in month 2, the government's allocation in month 3 and an
    association's promotion in month 13."""
    from test_app_roles import choice_for

    sim = Simulation(Settings(**BASE))
    sim.step(2)
    firm, row = choice_for(sim)
    k = list(sim.model.catalogue.names).index(row["measure"])
    return [(2, "play", firm, ()), (2, "adopt", firm, (k,)),
            (3, "budget", -1, (("capex_subsidy", 1.0), ("cost_share", 1.0), ("workshops", 3.0))),
            (13, "promote", 0, (1, 2))]


def test_role_actions_replay_on_a_fork_and_an_allocation_before_it_forces_a_re_simulation(monkeypatch):
    ROLES = _roles()
    kept, plain = _pair(ROLES)
    for s in (kept, plain):
        s.apply_levers(CARBON_2028)  # a carbon price does not change what the roles did before 2028
    assert kept.last_apply["forked_from"] == 2028
    _same_run(kept, plain)
    assert (collect(kept.model).adoptions["decided_by"] == "firm_player").sum() == 1

    # the government's allocation in 2025 would have given a cost-share programme money: no fork
    kept, plain = _pair(ROLES)
    kept.apply_levers(COST_SHARE_2028)
    plain.apply_levers(COST_SHARE_2028)
    assert kept.last_apply["forked_from"] is None
    _same_run(kept, plain)
    # ... and the check is needed: forking there would give another run
    kept, plain = _pair(ROLES)
    monkeypatch.setattr(state, "roles_allow_fork", lambda *a: True)
    kept.apply_levers(COST_SHARE_2028)
    plain.apply_levers(COST_SHARE_2028)
    assert kept.last_apply["forked_from"] == 2028
    with pytest.raises(AssertionError):
        _same_run(kept, plain)


def test_kept_states_stay_within_their_budget_oldest_first():
    sim = Simulation(Settings(**BASE))
    sim.step(12 * 2)
    one = max(len(b) for _, b in sim.years.states.values())
    sim.years.budget = int(2.5 * one)
    sim.step(12 * 4)
    assert list(sim.years.states) == [2030, 2031] and sim.years.nbytes <= sim.years.budget
    sim.years.budget = one // 2  # a run whose one state exceeds the budget keeps none
    sim.step(12)
    assert list(sim.years.states) == [2030, 2031] and sim.years.too_big
    sim.reset()
    assert not sim.years.states and not sim.years.too_big


def test_start_year_levers_show_the_run_start_for_zero():
    sim = Simulation(Settings(**BASE))
    v = lever_values(sim.cfg)
    assert v["policy.cost_share.start_year"] == sim.model.start_year  # 0 in the config: "the run's start year"
    assert v["policy.carbon_price.start_year"] == sim.cfg.policy.carbon_price.start_year
    assert "policy.carbon_price.start_year=2031" in sim.settings.with_levers({"policy.carbon_price.start_year": 2031}).command()


def _widgets(w, out):
    out.append(w)
    for c in getattr(w, "children", None) or []:
        if not isinstance(c, str):
            _widgets(c, out)
    return out


def test_the_levers_panel_says_how_the_change_was_simulated_and_bounds_start_years_by_the_run():
    import solara

    from sim.viz.app import LeversPanel

    sim = Simulation(Settings(**BASE))
    sim.step(MID_2028)
    sim.apply_levers(CARBON_2028)
    box, _ = solara.render(LeversPanel(sim, None, "", "en"), handle_error=False)
    ws = _widgets(box, [])
    texts = [c for w in ws for c in (getattr(w, "children", None) or []) if isinstance(c, str)]
    assert any(x.startswith("Continued from January 2028") for x in texts), texts
    years = [w for w in ws if str(getattr(w, "label", "")).startswith("Start year")]
    assert len(years) == 2 and all((w.min, w.max) == (2025, sim.model.end_year) for w in years)
    sim.apply_levers({"policy.capex_subsidy.subsidy_share": 0.5})
    box, _ = solara.render(LeversPanel(sim, None, "", "es"), handle_error=False)
    texts = [c for w in _widgets(box, []) for c in (getattr(w, "children", None) or []) if isinstance(c, str)]
    assert any(x.startswith("Simulada de nuevo desde el año inicial") for x in texts), texts
