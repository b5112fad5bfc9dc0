"""Workshop roles in the live model (sim/mechanisms/players.py, sim/viz/rooms.py): a firm
player's choice goes through the rule's adoption path (grants paid and recorded, counters,
the adoption table), a played firm is not decided by the rule, an own company's energy
replaces a firm's, an association's promotion informs its members, the government's
allocation moves each instrument's budget, a lever change replays the role schedule, and
bad role actions are refused in one clear line."""
from __future__ import annotations

import numpy as np
import pytest

from sim.mechanisms.players import Schedule, allocation
from sim.results import adoptions_table
from sim.viz.levers import Settings
from sim.viz.roles import budget_rows, decisions, measure_rows
from sim.viz.rooms import RoomError, RoomRegistry
from sim.viz.state import Simulation

SMALL = dict(n_firms=240)


def room_with(sim=None):
    reg = RoomRegistry()
    sim = sim or Simulation(Settings(**SMALL))
    room = reg.open("fac", sim)
    room.join("ana")
    room.join("ben")
    return room


def choice_for(sim, worth_it: bool | None = False):
    """A firm outside next month's review group and a measure it may choose (CHOOSABLE),
    preferably one the rule finds not worth it (so only a player would adopt it)."""
    m = sim.model
    nxt = sim.steps_done
    for f in range(m.n_firms):
        if f % m.behaviour.review_interval_months == nxt % m.behaviour.review_interval_months:
            continue
        for r in measure_rows(m, f):
            if r["choosable"] and (worth_it is None or (r["status"] == "not_worth_it") != worth_it):
                return f, r
    raise AssertionError("no choosable pair")


def test_a_firm_players_choice_is_adopted_at_the_next_step_through_the_rules_path():
    room = room_with()
    sim = room.sim
    sim.step(3)
    firm, row = choice_for(sim)
    k = sim.model.catalogue.names.index(row["measure"])
    room.take_firm("ana", firm, name="Ana")
    room.firm_adopt("ana", [row["measure"]])
    count = int(sim.model.adopter_count[k])
    spent = sim.model.total_spending_usd()
    assert not sim.model.firms.adopted[firm, k]  # nothing happens before the step
    sim.step()
    m = sim.model
    assert m.firms.adopted[firm, k] and m.adopter_count[k] >= count + 1
    df = adoptions_table(m).to_pandas()
    mine = df[(df.firm == firm) & (df.measure == row["measure"])]
    assert len(mine) == 1 and mine.decided_by.iloc[0] == "firm_player" and mine.month.iloc[0] == 3
    assert set(df.decided_by.cat.categories) == {"rule", "firm_player"}
    if row["grant_usd"] > 0:  # the grant on offer was paid and booked like a model firm's
        assert mine.subsidy_usd.iloc[0] == pytest.approx(row["grant_usd"], rel=1e-5)
        assert str(mine.instrument.iloc[0]) != "none" and m.total_spending_usd() > spent
    assert decisions(m)[-1]["outcome_names"] == ("adopted",)


def test_a_played_firm_is_not_decided_by_the_rule_and_released_it_is_again():
    sim = Simulation(Settings(**SMALL))
    ref = Simulation(Settings(**SMALL))
    room = room_with(sim)
    ref.step(1)
    sim.step(1)
    # a firm the rule adopts something for in the coming year
    ref.step(12)
    df = adoptions_table(ref.model).to_pandas()
    firm = int(df[df.month >= 1].firm.iloc[0])
    room.take_firm("ana", firm)
    sim.step(12)
    played = adoptions_table(sim.model).to_pandas()
    assert not ((played.firm == firm) & (played.month >= 1)).any()
    assert sim.model.played[firm]
    room.release_role("fac", "ana")  # the facilitator releases the role
    sim.step()
    assert not sim.model.played[firm] and room.role_of("ana") is None


def test_own_company_replaces_the_closest_firm_of_its_sector_and_its_energy():
    room = room_with()
    sim = room.sim
    sim.step(2)
    m = sim.model
    sector = m.sector_names[0]
    role = room.take_own_company("ana", sector, "medium", {"electricity": 5000.0, "natural_gas": 20000.0}, name="Ana")
    f = role.target
    assert m.sector_names[m.firms.sector[f]] == sector and role.own
    before = float(m.scope1_rate[f] + m.scope2_rate[f])
    sim.step()
    m = sim.model
    base = m.firms.base_energy_mwh_per_yr[f]
    assert base[0] == pytest.approx(5000.0) and base[1] == pytest.approx(20000.0) and base[2:].sum() == 0
    after = float(m.scope1_rate[f] + m.scope2_rate[f])
    assert after != pytest.approx(before)
    # scope 2 follows the electricity the firm uses now (its measures in place act on the new base)
    assert m.scope2_rate[f] == pytest.approx(m.firms.energy_mwh_per_yr[f, 0] * m.ef[0])
    assert m.energy_total.sum() == pytest.approx(m.firms.energy_mwh_per_yr.sum(), rel=1e-9)
    with pytest.raises(RoomError, match="at least one above zero"):
        room.take_own_company("ben", sector, "small", {"electricity": -1})


def test_an_association_promotion_informs_its_members_once_a_year():
    sim = Simulation(Settings(**SMALL))
    room = room_with(sim)
    sim.step(1)
    m = sim.model
    c = max(range(len(m.clusters)), key=lambda i: len(m.clusters[i].members))
    members = m.clusters[c].members
    app = m.firms.applicable[members]
    unaware = (app & ~m.firms.aware[members]).sum(axis=0)
    k = int(np.argmax(unaware))
    assert unaware[k] > 0
    room.take_association("ben", c, name="Ben")
    room.association_promote("ben", [m.catalogue.names[k]])
    with pytest.raises(RoomError, match="already promoted measures in"):
        room.association_promote("ben", [m.catalogue.names[k]])
    sim.step()
    m = sim.model
    assert (m.firms.aware[members, k] | ~app[:, k]).all()  # every member it applies to knows it
    rec = decisions(m)[-1]
    assert rec["kind"] == "promote" and rec["firms_informed"] == unaware[k]  # (players act first in the month)
    # the association's own money, in kind: not public spending
    assert m.gov.in_kind_usd()["association_promotions"] == pytest.approx(2000.0)
    assert "association_promotions" not in m.spending_usd()


def test_the_governments_allocation_changes_each_instruments_budget_and_spending():
    sim = Simulation(Settings(**SMALL))
    other = Simulation(Settings(**SMALL))
    room = room_with(sim)
    for s in (sim, other):
        s.step(2)
    rows = {r["name"]: r for r in budget_rows(sim.model)}
    assert {"capex_subsidy", "workshops", "green_loan"} <= set(rows)
    total = sum(r["budget_usd"] * r["public_cost_share"] for r in rows.values())
    room.take_government("ana", name="Ana")
    room.government_allocate("ana", {"capex_subsidy": 0, "workshops": 100})
    for s in (sim, other):
        s.step(14)
    new = {r["name"]: r for r in budget_rows(sim.model)}
    # the same public total; capex subsidy keeps only what it had spent; workshops get the rest
    assert sum(r["budget_usd"] * r["public_cost_share"] for r in new.values()) == pytest.approx(total, rel=1e-9)
    assert new["capex_subsidy"]["budget_usd"] == pytest.approx(rows["capex_subsidy"]["spent_usd"])
    assert new["workshops"]["budget_usd"] > rows["workshops"]["budget_usd"] * 2
    mine, theirs = sim.model.spending_usd(), other.model.spending_usd()
    assert mine["capex_subsidy"] == pytest.approx(rows["capex_subsidy"]["spent_usd"])
    assert mine["capex_subsidy"] < theirs["capex_subsidy"]
    assert mine["workshops"] >= theirs["workshops"]


def test_allocation_keeps_the_public_total_and_counts_loans_at_their_concession():
    class B:
        def __init__(self, budget, spent, pcs=1.0, enabled=True):
            self.budget_usd, self.spent_usd, self.public_cost_share, self.enabled = budget, spent, pcs, enabled

    budgets = {"capex_subsidy": B(1000, 400), "green_loan": B(10000, 2000, 0.25), "workshops": B(500, 0),
               "training": B(300, 0, enabled=False)}
    new = allocation(budgets, {"capex_subsidy": 1, "green_loan": 1, "workshops": 2, "training": 5})
    assert "training" not in new  # an instrument that is off gets no money
    left = (1000 - 400) + (10000 - 2000) * 0.25 + 500
    assert new["capex_subsidy"] == pytest.approx(400 + left / 4)
    assert new["green_loan"] == pytest.approx(2000 + left / 4 / 0.25)
    assert new["workshops"] == pytest.approx(left / 2)


def test_a_lever_change_replays_the_role_schedule_at_the_same_months():
    sim = Simulation(Settings(**SMALL))
    room = room_with(sim)
    sim.step(2)
    firm, row = choice_for(sim)
    room.take_firm("ana", firm)
    room.firm_adopt("ana", [row["measure"]])
    room.take_government("ben")
    room.government_allocate("ben", {"capex_subsidy": 1, "workshops": 3})
    sim.step(5)
    before = adoptions_table(sim.model).to_pandas()
    lever = {"policy.carbon_price.enabled": False}  # already off: the same run, rebuilt
    room.apply_levers("fac", lever)
    after = adoptions_table(sim.model).to_pandas()
    assert sim.steps_done == 7
    assert before.equals(after)  # the same tables for the months already simulated
    assert after[after.decided_by == "firm_player"].firm.tolist() == [firm]
    # and a real lever change keeps the player's adoption at its month (more workshops: the
    # firm still knows the measure; a grant that runs out first would void the choice)
    room.apply_levers("fac", {"policy.workshops.workshops_per_yr": 12})
    df = adoptions_table(sim.model).to_pandas()
    mine = df[df.decided_by == "firm_player"]
    assert mine.firm.tolist() == [firm] and mine.month.tolist() == [2]
    assert [d["kind"] for d in decisions(sim.model)] == ["play", "adopt", "budget"]


def test_bad_role_actions_are_refused_in_one_plain_line():
    room = room_with()
    sim = room.sim
    sim.step(1)
    m = sim.model

    def refused(fn, text):
        with pytest.raises(RoomError) as exc:
            fn()
        msg = str(exc.value)
        assert text in msg and "\n" not in msg, (text, msg)
        assert exc.value.key is None or exc.value.key.startswith("role_err_")

    refused(lambda: room.firm_adopt("ana", ["led_lighting"]), "Only the player of a firm")
    refused(lambda: room.take_firm("ana", m.n_firms + 5), "There is no firm")
    refused(lambda: room.take_own_company("ana", "no_such_sector", "small", {"electricity": 10}), "not a sector of this scenario")
    refused(lambda: room.take_own_company("ana", m.sector_names[0], "huge", {"electricity": 10}), "not a size class")
    refused(lambda: room.take_own_company("ana", m.sector_names[0], "small", {"electricity": "lots"}), "MWh per year")
    refused(lambda: room.government_allocate("ana", {"capex_subsidy": 1}), "Only the player of the government")
    room.take_firm("ana", 1)
    refused(lambda: room.release_role("ben", "ana"), "only the facilitator")
    refused(lambda: room.take_firm("ben", 1), "already played by")
    refused(lambda: room.take_government("ana"), "already play a role")
    refused(lambda: room.firm_adopt("ana", ["no_such_measure"]), "not a measure of the catalogue")
    refused(lambda: room.firm_adopt("ana", []), "at least one measure")
    adopted = [r["measure"] for r in m.firm_agents[1].explain() if r["adopted"] or r["status"] == "not_applicable"]
    refused(lambda: room.firm_adopt("ana", adopted[:1]), "cannot choose")
    room.take_government("ben")
    refused(lambda: room.government_allocate("ben", {"capex_subsidy": -1}), "zero or more")
    refused(lambda: room.government_allocate("ben", {"carbon_price": 1}), "not an instrument with a budget")
    refused(lambda: room.government_allocate("ben", {"capex_subsidy": 0}), "above zero")
    sim.step(sim.total_steps)
    refused(lambda: room.firm_adopt("ana", ["led_lighting"]), "The run is over")


def test_headless_models_have_no_players_and_a_schedule_survives_a_reset():
    from sim.viz.state import build_config
    from sim.model import ClusterModel

    m = ClusterModel(build_config(Settings(**SMALL)))
    assert not any(x.name == "players" for x in m.mechanisms) and m.played is None
    room = room_with()
    room.sim.step(1)
    f = room.take_own_company("ana", room.sim.model.sector_names[0], "small", {"electricity": 1234.0}).target
    room.take_government("ben")
    room.government_allocate("ben", {"capex_subsidy": 1})
    room.reset("fac")
    assert [a.kind for a in room.sim.schedule.actions] == ["play", "energy"]  # the roles hold, decisions do not
    room.sim.step()
    assert room.sim.model.played[f] and room.sim.model.firms.base_energy_mwh_per_yr[f, 0] == pytest.approx(1234.0)
    assert isinstance(room.sim.schedule, Schedule)


def test_the_debrief_lists_the_role_players_and_their_decisions_with_their_step(tmp_path, monkeypatch):
    from sim.viz.debrief import write_debrief

    monkeypatch.setenv("SIM_APP_RESULTS_DIR", str(tmp_path))
    room = room_with()
    sim = room.sim
    sim.step(2)
    firm, row = choice_for(sim)
    room.take_firm("ana", firm, name="Ana")
    room.firm_adopt("ana", [row["measure"]])
    room.take_government("ben", name="Ben")
    room.government_allocate("ben", {"capex_subsidy": 1, "workshops": 1})
    sim.step()
    room.release_role("fac", "ana")
    room.lang = "es"
    text = write_debrief(room).read_text(encoding="utf-8")
    assert "Decisiones de quienes jugaron papeles" in text
    assert "Ana" in text and "Paso 3: eligió" in text and "adoptada" in text
    assert "Ben" in text and "Paso 3: nuevos presupuestos" in text
    assert "tomó el papel: empresa" in text and "dejó el papel" in text


def test_a_measure_the_firm_cannot_pay_for_is_not_choosable_even_when_the_rule_stops_earlier():
    room = room_with(Simulation(Settings(policy="none", **SMALL)))  # no grant, no loan
    sim = room.sim
    sim.step(3)
    m = sim.model
    f = next(f for f in range(m.n_firms) if any(r["status"] == "not_worth_it" for r in measure_rows(m, f)))
    m.firms.cash_usd_per_yr[f] = 0.0  # a firm with no money to invest
    m.firms.credit_usd[f] = 0.0
    r = next(r for r in measure_rows(m, f) if r["status"] == "not_worth_it")  # the rule stops here first
    assert not r["capital_ok"] and not r["choosable"] and r["blocked"] == "cannot_finance"
    room.take_firm("ana", f)
    with pytest.raises(RoomError, match="can't finance"):
        room.firm_adopt("ana", [r["measure"]])


def test_a_new_run_of_other_firms_ends_firm_and_association_roles_but_not_the_government():
    room = room_with()
    room.sim.step(1)
    room.take_firm("ana", 3)
    room.take_government("ben")
    room.restart("fac", "mx_cluster", "incentive_package", 7, SMALL["n_firms"])  # another seed: other firms
    assert room.role_of("ana") is None and room.role_of("ben").kind == "government"
    assert len(room.sim.schedule) == 0 and room.sim.model.played is None
    assert [e.kind for e in room.log][-1] == "restart"


def test_two_choices_of_one_firm_for_the_same_step_share_its_funds():
    room = room_with(Simulation(Settings(policy="none", **SMALL)))  # no grant, no loan: funds alone
    sim = room.sim
    sim.step(3)
    m = sim.model
    for f in range(m.n_firms):
        rows = [r for r in measure_rows(m, f) if r["choosable"]]
        if len(rows) >= 2:
            break
    a, b = rows[0], rows[1]
    hi, lo = max(a["capex_usd"], b["capex_usd"]), min(a["capex_usd"], b["capex_usd"])
    m.firms.cash_usd_per_yr[f] = hi + 0.5 * lo  # enough for either, not for both
    m.firms.credit_usd[f] = 0.0
    room.take_firm("ana", f)
    room.firm_adopt("ana", [a["measure"]])
    room.firm_adopt("ana", [b["measure"]])
    sim.step()
    outcomes = [d["outcome_names"][0] for d in decisions(sim.model) if d["kind"] == "adopt"]
    assert sorted(outcomes) == ["adopted", "not_feasible"]
