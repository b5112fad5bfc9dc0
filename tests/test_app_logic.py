"""The live app's logic without a browser: translations, levers as config overrides,
per-session simulations, workshop rooms, and the views' data."""
from __future__ import annotations

import string
import time
from pathlib import Path

import numpy as np
import pytest

from sim.viz import i18n
from sim.viz.levers import LEVERS, Settings, get_key, lever, scenarios
from sim.viz.rooms import CODE_ALPHABET, CODE_LENGTH, RoomError, RoomRegistry
from sim.compose import BadInput
from sim.viz.state import Simulation, build_config

REPO = Path(__file__).resolve().parent.parent
SMALL = dict(n_firms=300)
PNG = b"\x89PNG\r\n\x1a\n"


def small(**kw) -> Settings:
    return Settings(**{**SMALL, **kw})


# ---------------------------------------------------------------------------- i18n
def test_both_languages_have_the_same_keys_and_no_empty_text():
    en, es = i18n.TEXT["en"], i18n.TEXT["es"]
    assert set(en) == set(es)
    assert all(v.strip() for v in en.values()) and all(v.strip() for v in es.values())


def test_spanish_is_a_translation_not_a_copy():
    en, es = i18n.TEXT["en"], i18n.TEXT["es"]
    same = [k for k in en if en[k] == es[k] and not k.startswith("unit_usd") and k not in ("date", "sector", "color_sector")]
    assert len(same) <= 3, same
    assert i18n.t("es", "step") == "Paso" and i18n.t("en", "step") == "Step"
    assert i18n.t("es", "step_counter", step=3, total=312) == "Paso 3 de 312"


def test_every_lever_label_unit_and_group_is_translated():
    for lv in LEVERS:
        for lang in i18n.LANGS:
            assert i18n.t(lang, lv.label_key)
            assert i18n.t(lang, "lever_group_" + lv.group)
            if lv.unit:
                assert i18n.t(lang, lv.unit)


def test_every_measure_of_the_catalogue_has_a_spanish_name():
    cfg = build_config(small())
    names = [m.name for m in cfg.measures.catalogue]
    missing = [n for n in names if n not in i18n.NAMES_ES["measure"]]
    assert not missing, missing
    assert i18n.name("es", "measure", "led_lighting") == "Iluminación LED"
    assert i18n.name("en", "measure", "led_lighting", "LED lighting") == "LED lighting"


def test_dates_follow_the_language():
    assert i18n.date("en", 14, 2025) == "Mar 2026"
    assert i18n.date("es", 14, 2025) == "mar 2026"


# ---------------------------------------------------------------------------- levers
def test_scenario_picker_lists_every_scenario_file():
    assert scenarios() == sorted(p.stem for p in (REPO / "configs" / "scenario").glob("*.yaml"))


def test_a_lever_is_the_config_key_it_sets():
    s = small().with_levers({"policy.capex_subsidy.subsidy_share": 0.55, "policy.carbon_price.enabled": True,
                             "policy.workshops.workshops_per_yr": 9})
    assert "policy.capex_subsidy.subsidy_share=0.55" in s.overrides()
    cfg = build_config(s)
    assert get_key(cfg, "policy.capex_subsidy.subsidy_share") == pytest.approx(0.55)
    assert get_key(cfg, "policy.carbon_price.enabled") is True
    assert get_key(cfg, "policy.workshops.workshops_per_yr") == 9
    assert s.command().startswith("python -m sim.run scenario=")


def test_lever_values_are_clipped_and_bad_values_refused():
    assert lever("policy.capex_subsidy.subsidy_share").coerce(1.7) == 1.0
    assert lever("policy.workshops.workshops_per_yr").coerce("4.6") == 5
    with pytest.raises(ValueError):
        lever("policy.capex_subsidy.enabled").coerce("maybe")
    with pytest.raises(KeyError, match="not a lever"):
        lever("seed")


def test_bad_settings_give_one_line_naming_the_key():
    with pytest.raises(BadInput, match="n_firms") as err:
        build_config(Settings(n_firms=-5))
    assert "\n" not in str(err.value)
    with pytest.raises(BadInput, match="scenario"):
        build_config(Settings(scenario="no_such_place"))


# ---------------------------------------------------------------------------- simulations
def test_step_advances_the_model_and_the_version():
    sim = Simulation(small())
    v0 = sim.version
    assert sim.steps_done == 0
    assert sim.step(3) == 3
    assert sim.steps_done == 3 and sim.version > v0
    assert len(sim.emissions_series()[1]) == 3


def test_sessions_have_their_own_models():
    a, b = Simulation(small()), Simulation(small())
    assert a.model is not b.model and a.model.firms.adopted is not b.model.firms.adopted
    assert a.model.rng is not b.model.rng
    a.step(5)
    assert b.steps_done == 0
    b.step(5)
    np.testing.assert_array_equal(a.emissions_series()[1], b.emissions_series()[1])  # same seed, same run
    a.apply_levers({"policy.capex_subsidy.subsidy_share": 0.9})
    assert b.settings.levers == ()


def test_a_model_from_the_template_cache_equals_a_fresh_build():
    from sim.model import ClusterModel

    settings = small(seed=7)
    Simulation(settings).step(5)  # builds the template, steps only its own copy
    copied = Simulation(settings)
    built = ClusterModel(build_config(settings))
    copied.step(12)
    for _ in range(12):
        built.step()
    np.testing.assert_array_equal(copied.model.series["emissions_t_co2"], built.series["emissions_t_co2"])
    np.testing.assert_array_equal(copied.model.firms.adopted, built.firms.adopted)


def test_a_lever_change_changes_the_next_steps():
    base, changed = Simulation(small(policy="none")), Simulation(small(policy="none"))
    base.step(12)
    changed.step(12)
    changed.apply_levers({"policy.carbon_price.enabled": True, "policy.carbon_price.price_usd_per_t_co2": 300})
    assert changed.steps_done == 12  # re-simulated up to the current month
    assert changed.previous is not None and len(changed.previous[1]) == 12
    base.step(24)
    changed.step(24)
    assert changed.model.adopter_count.sum() > base.model.adopter_count.sum()
    assert changed.emissions_series()[1][-1] < base.emissions_series()[1][-1]


def test_reset_and_restart():
    sim = Simulation(small())
    sim.step(4)
    sim.reset()
    assert sim.steps_done == 0
    sim.restart(sim.settings.scenario, "none", 3, 200)
    assert sim.model.n_firms == 200 and sim.cfg.seed == 3 and sim.cfg.policy.name == "none"
    with pytest.raises(BadInput, match="n_firms = 5000000"):
        sim.restart(sim.settings.scenario, "none", 3, 5_000_000)
    assert sim.model.n_firms == 200  # a refused change leaves the run as it was


def test_play_steps_in_the_background_until_paused():
    sim = Simulation(small())
    sim.play(30.0)
    time.sleep(0.6)
    sim.pause()
    n = sim.steps_done
    assert n >= 3
    time.sleep(0.3)
    assert sim.steps_done <= n + 1
    assert not sim.playing


# ---------------------------------------------------------------------------- views
def test_views_render_png_that_change_with_the_model():
    sim = Simulation(small())
    before = {k: sim.render(k, "en") for k in ("network", "emissions", "adoption", "spending")}
    assert all(png.startswith(PNG) for png in before.values())
    sim.step(6)
    after = {k: sim.render(k, "en") for k in ("network", "emissions", "adoption", "spending")}
    assert after["emissions"] != before["emissions"] and after["adoption"] != before["adoption"]
    assert sim.render("emissions", "es") != after["emissions"]  # labels in Spanish
    assert sim.render("network", "en", color_by="sector") != after["network"]


def test_network_sample_is_capped_and_keeps_every_group():
    from sim.viz.network_view import MAX_SHOWN, build_layout

    sim = Simulation(Settings(n_firms=5000))
    lay = build_layout(sim.model)
    assert len(lay.sample) <= MAX_SHOWN and len(np.unique(lay.sample)) == len(lay.sample)
    assert set(np.unique(sim.model.firms.cluster[lay.sample])) == set(np.unique(sim.model.firms.cluster))
    shares = np.bincount(sim.model.firms.sector[lay.sample], minlength=len(sim.model.sector_names)) / len(lay.sample)
    full = np.bincount(sim.model.firms.sector, minlength=len(sim.model.sector_names)) / sim.model.n_firms
    assert np.abs(shares - full).max() < 0.05


def test_inspector_explains_a_firm_in_the_chosen_language():
    from sim.viz.inspector import firm_report, largest_emitter

    sim = Simulation(small())
    sim.step(12)
    fid = largest_emitter(sim.model)
    en, es = firm_report(sim.model, fid, "en"), firm_report(sim.model, fid, "es")
    assert en["facts"]["Firm id"] == str(fid) and es["facts"]["Id de la empresa"] == str(fid)
    assert en["facts"]["Sector"] == sim.model.firm_agents[fid].sector.replace("_", " ")
    assert en["table"] and all("What would change it" in r for r in en["table"])
    assert all("Qué la haría cambiar" in r for r in es["table"])
    adopted = sim.model.firm_agents[fid].adopted
    assert sum(r["Status"] == "adopted" for r in en["table"]) == len(adopted)
    assert sum(r["Estado"] == "adoptada" for r in es["table"]) == len(adopted)
    # an adopted measure is only "adopted" (it used to be explained as "not worth it")
    assert all(r["What would change it"] == "—" for r in en["table"] if r["Status"] == "adopted")


# ---------------------------------------------------------------------------- rooms
def test_room_codes_are_short_and_unambiguous():
    reg = RoomRegistry()
    sim = Simulation(small())
    codes = {reg.open(f"f{i}", sim).code for i in range(30)}
    assert len(codes) == 30
    for c in codes:
        assert len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET)
        assert not set(c) & set("01ILO")
    assert set(CODE_ALPHABET) <= set(string.ascii_uppercase + string.digits)


def test_participants_see_the_facilitators_simulation_and_cannot_drive_it():
    reg = RoomRegistry()
    own = Simulation(small())
    room = reg.open("fac", own)
    joined = reg.join(room.code.lower(), "p1")  # codes are case-insensitive
    assert joined is room and joined.sim is own
    room.step("fac", 2)
    assert joined.sim.steps_done == 2
    for action in (lambda: room.step("p1"), lambda: room.play("p1"), lambda: room.reset("p1"),
                   lambda: room.apply_levers("p1", {"policy.capex_subsidy.subsidy_share": 0.5})):
        with pytest.raises(RoomError, match="facilitator"):
            action()
    assert own.steps_done == 2
    with pytest.raises(RoomError):
        reg.join("ZZZZZ", "p2")


def test_proposals_votes_and_applying():
    reg = RoomRegistry()
    room = reg.open("fac", Simulation(small()))
    for m in ("p1", "p2", "p3"):
        room.join(m)
    a = room.propose("p1", {"policy.capex_subsidy.subsidy_share": 0.6})
    again = room.propose("p2", {"policy.capex_subsidy.subsidy_share": 0.6})  # same proposal: a vote
    b = room.propose("p3", {"policy.workshops.workshops_per_yr": 12})
    assert again is a and a.votes == {"p1", "p2"} and b.votes == {"p3"}
    room.vote("p3", a.id)
    room.vote("p3", a.id)  # voting twice is one vote
    room.vote("p2", b.id)
    room.vote("p2", b.id, in_favour=False)  # an explicit withdrawal
    room.vote("p2", b.id, in_favour=False)  # withdrawing twice changes nothing
    assert [p.id for p in room.open_proposals()] == [a.id, b.id]
    assert len(a.votes) == 3 and b.votes == {"p3"}
    with pytest.raises(RoomError):
        room.apply("p1", a.id)
    room.apply("fac", a.id)
    assert dict(room.sim.settings.levers) == {"policy.capex_subsidy.subsidy_share": 0.6}
    assert room.sim.cfg.policy.capex_subsidy.subsidy_share == pytest.approx(0.6)
    assert [p.id for p in room.open_proposals()] == [b.id]
    with pytest.raises(KeyError):
        room.propose("p1", {"n_firms": 10})
    with pytest.raises(RoomError):
        room.propose("p1", {})
    assert [e.kind for e in room.log] == ["levers"] and room.log[0].votes == 3


def test_one_proposal_changes_several_levers_together():
    reg = RoomRegistry()
    room = reg.open("fac", Simulation(small(policy="none")))
    both = {"policy.carbon_price.enabled": True, "policy.carbon_price.price_usd_per_t_co2": 50}
    p = room.propose("p1", both)
    assert room.propose("p2", dict(reversed(list(both.items())))) is p  # same changes, any order
    room.step("fac", 2)
    room.apply("fac", p.id)
    assert dict(room.sim.settings.levers) == {"policy.carbon_price.enabled": True,
                                              "policy.carbon_price.price_usd_per_t_co2": 50.0}
    assert p.applied_step == 2 and room.log[-1].changes == p.changes and room.log[-1].votes == 2


def test_the_facilitator_takes_the_room_back_with_the_token_and_absence_pauses_the_run(monkeypatch):
    import sim.viz.rooms as rooms_mod

    reg = RoomRegistry()
    room = reg.open("fac", Simulation(small()))
    assert room.sim.speed_steps_per_s == rooms_mod.ROOM_SPEED_STEPS_PER_S  # rooms play slower
    room.join("p1")
    room.play("fac")
    room.seen("p1")
    assert room.sim.playing and not room.paused_for_absence
    monkeypatch.setattr(rooms_mod, "FACILITATOR_AWAY_S", 0.0)  # the facilitator's page went away
    time.sleep(0.01)
    room.seen("p1")
    assert room.paused_for_absence and not room.sim.playing
    with pytest.raises(RoomError, match="facilitator"):
        room.reclaim("p1", "a-guess")
    assert not room.is_facilitator("p1")
    room.reclaim("fac-reloaded", room.token)  # the facilitator's new page (reload, other device)
    assert room.is_facilitator("fac-reloaded") and not room.is_facilitator("fac")
    assert not room.paused_for_absence
    room.play("fac-reloaded")
    with pytest.raises(RoomError):
        room.pause("fac")
    room.set_lang("fac-reloaded", "es")
    assert room.lang == "es"
    with pytest.raises(RoomError):
        room.set_lang("p1", "en")


def test_closing_and_pruning_rooms():
    reg = RoomRegistry()
    room = reg.open("fac", Simulation(small()))
    with pytest.raises(RoomError):
        reg.close(room.code, "p1")
    reg.close(room.code, "fac")
    assert reg.get(room.code) is None and room.closed
    with pytest.raises(RoomError):
        room.propose("p1", {"policy.capex_subsidy.subsidy_share": 0.2})
    old = reg.open("fac2", Simulation(small()))
    assert reg.prune(idle_s=3600) == 0
    assert reg.prune(idle_s=0.0) == 1 and reg.get(old.code) is None


def test_roadmaps_the_scenario_provides_are_drawn_and_labelled():
    from types import SimpleNamespace as NS

    from sim.viz.charts import roadmap_lines

    alliance = NS(roadmaps={"a": NS(target_t_co2_by_year={2026: 100.0, 2030: 60.0}),
                            "b": NS(target_t_co2_by_year={2026: 50.0, 2030: 40.0})})
    tracker = NS(params=NS(net_zero_year=2045), path_t_co2_per_yr=lambda model, y: 1000.0 * (2045 - y) / 20)
    sim = NS(model=NS(mechanisms=[alliance, tracker], start_year=2025, engine=None), cfg=NS(scenario=NS()))
    lines = {label: (list(x), list(v)) for label, x, v in roadmap_lines(sim, "en")}
    assert lines["Cluster roadmaps: members' targets (sum)"] == ([2026.0, 2030.0], [150.0, 100.0])
    assert lines["Scenario's path to net zero in 2045"] == ([2025.0, 2045.0], [1000.0, 0.0])
    assert roadmap_lines(NS(model=NS(mechanisms=[], start_year=2025, engine=None), cfg=NS(scenario=NS())), "es") == []


def test_a_click_on_a_firm_in_the_picture_selects_it():
    from sim.viz.network_view import firm_at, picture

    sim = Simulation(small())
    sim.render("network", "en")
    pic = picture(sim, "en", "adoption")
    w, h = pic.blit.canvas.get_width_height()
    for i in (0, len(pic.lay.sample) // 2, len(pic.lay.sample) - 1):
        px, py = pic.ax.transData.transform(pic.lay.xy[i])
        assert firm_at(sim, "en", "adoption", px / w, 1.0 - py / h) == pic.lay.sample[i]
    assert firm_at(sim, "en", "adoption", 0.999, 0.999) is None  # a corner: no firm there


def test_sessions_share_drawers_but_each_sees_its_own_model():
    a, b = Simulation(small(seed=11)), Simulation(small(seed=11))
    a.step(6)
    b.step(2)
    views = ("network", "emissions", "adoption", "spending")
    pa = {k: a.render(k, "en") for k in views}
    pb = {k: b.render(k, "en") for k in views}
    assert pa["emissions"] != pb["emissions"] and pa["adoption"] != pb["adoption"]
    b.step(4)  # now in the same state as a (same settings, same seed)
    assert {k: b.render(k, "en") for k in views} == pa
    assert a.render("emissions", "en") == pa["emissions"]


def test_a_new_scenario_runs_its_own_firm_count_unless_one_was_typed():
    from sim.viz.levers import firm_count_for

    cur = Settings(scenario="mx_cluster", n_firms=None)
    assert firm_count_for(cur, "bajio_cpi", 3000, edited=False) is None  # the field showed mx_cluster's 3,000
    assert firm_count_for(cur, "bajio_cpi", 500, edited=True) == 500
    assert firm_count_for(Settings(scenario="mx_cluster", n_firms=800), "mx_cluster", 800, edited=False) == 800
    assert firm_count_for(Settings(scenario="mx_cluster", n_firms=800), "nuevo_leon", 800, edited=False) is None
    sim = Simulation(small())
    own = build_config(Settings(scenario="nuevo_leon")).n_firms
    sim.restart("nuevo_leon", "none", 0, firm_count_for(sim.settings, "nuevo_leon", int(sim.cfg.n_firms), False))
    assert sim.model.n_firms == own != SMALL["n_firms"]


def test_adoption_labels_sit_at_their_lines_and_never_overlap():
    from sim.viz.charts import label_positions

    pos = label_positions({"a": 0.0, "b": 0.0, "c": 50.0, "d": 51.0, "e": 100.0}, gap=0.06)
    ordered = sorted(pos.values())
    assert all(b - a >= 0.06 - 1e-12 for a, b in zip(ordered, ordered[1:]))
    assert pos["c"] == pytest.approx(0.5) and pos["d"] == pytest.approx(0.56)  # pushed just clear of c
    assert pos["e"] == pytest.approx(1.0) and pos["a"] < pos["b"] < pos["c"]
    crowded = label_positions({k: 100.0 for k in "abcdefghijklmn"}, gap=0.062)  # 14 labels at the top
    c = sorted(crowded.values())
    assert c[-1] == pytest.approx(1.0) and all(b - a >= 0.062 - 1e-12 for a, b in zip(c, c[1:])) and c[0] > 0


def test_chart_text_alternatives_carry_the_numbers_and_presenter_charts_are_sharper():
    from sim.viz.charts import PRESENTER_DPI, describe, spending_table

    sim = Simulation(small())
    sim.step(3)
    with sim.lock:
        alt_en, alt_es = describe(sim, "emissions", "en"), describe(sim, "emissions", "es")
        spend = describe(sim, "spending", "en")
    _, y = sim.emissions_series()
    assert f"{y[-1]:,.1f}" in alt_en and "Mar 2025" in alt_en and f"{y[-1]:,.1f}" in alt_es
    for key, spent, budget in spending_table(sim.model):
        assert f"{spent / 1e6:,.2f}" in spend
    from PIL import Image
    import io

    small_png, big_png = sim.render("emissions", "en"), sim.render("emissions", "en", dpi=PRESENTER_DPI)
    w_small, w_big = Image.open(io.BytesIO(small_png)).width, Image.open(io.BytesIO(big_png)).width
    assert w_big == pytest.approx(w_small * PRESENTER_DPI / 80, rel=0.01) and w_big >= 1200


def test_spending_uses_a_log_axis_when_one_budget_dwarfs_the_others():
    from sim.viz.charts import SpendingChart

    sim = Simulation(small())  # incentive package: a US$ 30 M credit line next to US$ 0.4 M budgets
    with sim.lock:
        chart = SpendingChart(sim, "en")
    assert chart.lo > 0 and chart.blit.fig.axes[0].get_xscale() == "log"
    flat = Simulation(small(levers=(("policy.green_loan.enabled", False),)))
    with flat.lock:
        assert SpendingChart(flat, "en").lo == 0.0


def test_the_debrief_lists_the_rooms_path_and_its_results_against_the_baseline(tmp_path, monkeypatch):
    from sim.viz.debrief import figures, write_debrief

    monkeypatch.setenv("SIM_APP_RESULTS_DIR", str(tmp_path))
    reg = RoomRegistry()
    room = reg.open("fac", Simulation(small(policy="none")), lang="es")
    room.step("fac", 2)
    p = room.propose("p1", {"policy.carbon_price.enabled": True, "policy.carbon_price.price_usd_per_t_co2": 150})
    room.vote("p2", p.id)
    room.apply("fac", p.id)
    room.step("fac", 10)
    path = write_debrief(room)
    assert path.parent == tmp_path / "rooms" / room.code and path.suffix == ".html"
    assert not list(path.parent.glob("*.part"))
    text = path.read_text(encoding="utf-8")
    assert "<html lang=\"es\">" in text and "Precio al carbono: Instrumento activo: inactivo → activo" in text
    assert "2 votos" in text and "150" in text
    ours = figures(room.sim)
    assert f"{ours['emissions_kt']:,.1f}" in text
    base = Simulation(small(policy="none"))
    base.step(12)
    assert f"{figures(base)['emissions_kt']:,.1f}" in text  # the baseline: same run without the levers
    assert figures(base)["emissions_kt"] != ours["emissions_kt"]
