"""The live workshop app.

    solara run sim/viz/app.py --host 127.0.0.1 --port 8765      (or: make app)

Each browser page gets its own simulation (``Simulation`` created per page, never at module
level); a workshop room shares one simulation between a facilitator and participants
(``rooms.py``). Every label comes from ``i18n.py``; levers carry their config names.
"""
from __future__ import annotations

import base64
import html
import secrets
from typing import Callable

# Import now, once, what sessions would otherwise import on first use from their own threads:
# concurrent first imports (e.g. reacton's lazy `pandas.DataFrame` check) raced under load
# ("partially initialized module 'pandas'") and left pages blank.
import pandas  # noqa: F401
import solara

import sim.model  # noqa: F401
import sim.viz.charts  # noqa: F401
import sim.viz.network_view  # noqa: F401
from sim.viz.network_view import firm_at

from sim.viz.i18n import LANG_NAMES, LANGS, date, t
from sim.viz.inspector import firm_report, largest_emitter, report_html
from sim.viz.levers import GROUPS, LEVERS, policies, scenarios
from sim.viz.rooms import REGISTRY, RoomError
from sim.compose import BadInput
from sim.viz.state import Simulation, default_settings

POLL_S = 0.1  # how often a page checks its simulation and room for changes

# Per-page UI state. Solara scopes reactive variables to each browser page (virtual kernel),
# so these are per session, like the simulation.
lang = solara.reactive("en")
color_by = solara.reactive("adoption")


def use_poll(sim: Simulation, room, member: str):
    """Re-render this page when the simulation or the room changes (a step taken by the
    player thread or by a room's facilitator in another session)."""
    state, set_state = solara.use_state(None)

    def loop(cancel):
        last = None
        while not cancel.is_set():
            if room is not None:
                room.seen(member)
            else:
                sim.touch()
            cur = (id(sim), sim.version, None if room is None else (room.version, room.closed))
            if cur != last:
                last = cur
                set_state(cur)
            cancel.wait(POLL_S)

    solara.use_thread(loop, dependencies=[id(sim), None if room is None else room.code], intrusive_cancel=False)
    return state


def _table(rows: list[dict], classes: str = "") -> str:
    if not rows:
        return ""
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{html.escape(k)}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td style='padding:2px 8px'>{html.escape(str(v))}</td>" for v in r.values()) + "</tr>"
                   for r in rows)
    return f"<table class='{classes}' style='font-size:13px;border-collapse:collapse'><tr>{head}</tr>{body}</table>"


def _fmt_value(v) -> str:
    if isinstance(v, float) and abs(v) >= 1000:
        return f"{v:,.0f}"
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _shown(L: str, v) -> str:
    if isinstance(v, bool):
        return t(L, "enabled") if v else t(L, "disabled")
    return _fmt_value(v)


@solara.component
def Kpis(sim: Simulation, L: str, tick=None):
    with sim.lock:  # the model is read under the lock: an Apply may install a new one
        m = sim.model
        n = m.month + 1
        now_kt = (m.total_scope1 + m.total_scope2) / 1e3
        start_kt = float(m.series["emissions_t_co2"][0] * 12 / 1e3) if n else now_kt
        adoptions = int(m.adopter_count.sum() - m.initial_adopters.sum())
        spend = m.total_spending_usd() / 1e6
    change = (now_kt / start_kt - 1.0) * 100 if start_kt > 0 else 0.0
    items = [
        (t(L, "kpi_emissions"), f"{now_kt:,.1f} {t(L, 'unit_kt_per_yr')}"),
        (t(L, "kpi_change"), f"{change:+.1f} %"),
        (t(L, "kpi_adopters"), f"{adoptions:,}"),
        (t(L, "kpi_spending"), f"{spend:,.2f} {t(L, 'unit_musd')}"),
    ]
    with solara.Row(classes=["sim-kpis"]):
        for label, value in items:
            solara.HTML(unsafe_innerHTML=f"<div style='padding:4px 14px'><div style='font-size:12px;color:#555'>"
                                         f"{html.escape(label)}</div><div style='font-size:20px'>{html.escape(value)}</div></div>")


@solara.component
def Controls(sim: Simulation, room, member: str, L: str, tick=None):
    can_drive = room is None or room.is_facilitator(member)
    error = solara.use_reactive("")

    def guard(fn):
        def run():
            try:
                fn()
                error.set("")
            except (RoomError, BadInput) as exc:
                error.set(str(exc))
        return run

    def do_step():
        (room.step(member) if room else sim.step())

    def do_play():
        if sim.playing:
            room.pause(member) if room else sim.pause()
        else:
            room.play(member) if room else sim.play()

    def do_reset():
        room.reset(member) if room else sim.reset()

    with solara.Card(t(L, "controls")):
        with solara.Row():
            solara.Button(t(L, "step"), on_click=guard(do_step), disabled=not can_drive or sim.finished, color="primary")
            solara.Button(t(L, "pause") if sim.playing else t(L, "play"), on_click=guard(do_play),
                          disabled=not can_drive or (sim.finished and not sim.playing))
            solara.Button(t(L, "reset"), on_click=guard(do_reset), disabled=not can_drive)
        solara.SliderFloat(t(L, "speed"), value=sim.speed_steps_per_s, min=0.5, max=30.0, step=0.5,
                           on_value=sim.set_speed, disabled=not can_drive)
        with sim.lock:
            steps, total, start_year = sim.steps_done, sim.total_steps, sim.model.start_year


        solara.HTML(unsafe_innerHTML=f"<b>{html.escape(t(L, 'step_counter', step=steps, total=total))}</b>"
                                     + (f" · {html.escape(date(L, steps - 1, start_year))}" if steps else ""),
                    classes=["sim-step-counter"])
        if steps == 0:
            solara.Text(t(L, "not_started"))
        elif sim.finished:
            solara.Text(t(L, "finished"))
        if error.value:
            solara.Error(error.value)


@solara.component
def SettingsPanel(sim: Simulation, room, member: str, L: str, settings=None):
    can_drive = room is None or room.is_facilitator(member)
    s = sim.settings
    scenario = solara.use_reactive(s.scenario)
    policy = solara.use_reactive(s.policy)
    seed = solara.use_reactive(s.seed)
    n_firms = solara.use_reactive(int(sim.cfg.n_firms))
    error = solara.use_reactive("")

    def sync():  # follow changes made elsewhere (the facilitator, a reset)
        scenario.set(s.scenario)
        policy.set(s.policy)
        seed.set(s.seed)
        n_firms.set(int(sim.cfg.n_firms))

    solara.use_effect(sync, [id(sim), s])
    fixed_firms = bool(sim.cfg.scenario.firms_csv)

    def apply():
        try:
            n = None if fixed_firms else int(n_firms.value)
            if room is not None:
                room.restart(member, scenario.value, policy.value, int(seed.value), n)
            else:
                sim.restart(scenario.value, policy.value, int(seed.value), n)
            error.set("")
        except (BadInput, RoomError, ValueError, TypeError) as exc:
            error.set(str(exc))

    with solara.Card(t(L, "settings")):
        solara.Select(t(L, "scenario"), values=scenarios(), value=scenario, disabled=not can_drive)
        solara.Text(t(L, "scenario_help"), style={"font-size": "12px", "color": "#555"})
        solara.Select(t(L, "policy"), values=policies(), value=policy, disabled=not can_drive)
        solara.Text(t(L, "policy_help"), style={"font-size": "12px", "color": "#555"})
        solara.InputInt(t(L, "seed"), value=seed, disabled=not can_drive)
        solara.InputInt(t(L, "n_firms"), value=n_firms, disabled=not can_drive or fixed_firms)
        solara.Text(t(L, "n_firms_fixed") if fixed_firms else t(L, "n_firms_help"), style={"font-size": "12px", "color": "#555"})
        solara.Button(t(L, "apply_settings"), on_click=apply, disabled=not can_drive, outlined=True)
        if error.value:
            solara.Error(f"{t(L, 'error')}: {error.value}")


@solara.component
def LeversPanel(sim: Simulation, room, member: str, L: str, settings=None, room_version=None):
    is_participant = room is not None and not room.is_facilitator(member)
    pending = solara.use_reactive({})
    error = solara.use_reactive("")
    current = sim.lever_values()

    def reset_pending():
        pending.set({})

    solara.use_effect(reset_pending, [id(sim), sim.settings])

    def setter(key):
        def on_value(v):
            d = dict(pending.value)
            if v == current[key]:
                d.pop(key, None)
            else:
                d[key] = v
            pending.set(d)
        return on_value

    def apply():
        try:
            if is_participant:
                for k, v in pending.value.items():
                    room.propose(member, k, v)
            elif room is not None:
                room.apply_levers(member, pending.value)
            else:
                sim.apply_levers(pending.value)
            pending.set({})
            error.set("")
        except (BadInput, RoomError, KeyError, ValueError) as exc:
            error.set(str(exc))

    with solara.Card(t(L, "levers"), classes=["sim-levers"]):
        solara.Text(t(L, "levers_help"), style={"font-size": "12px", "color": "#555"})
        for group in GROUPS:
            solara.HTML(unsafe_innerHTML=f"<b>{html.escape(t(L, 'lever_group_' + group))}</b>")
            for lv in LEVERS:
                if lv.group != group:
                    continue
                value = pending.value.get(lv.key, current[lv.key])
                label = t(L, lv.label_key)  # every lever label names its unit
                if lv.kind == "bool":
                    solara.Checkbox(label=label, value=bool(value), on_value=setter(lv.key))
                    continue
                label = f"{label}: {_fmt_value(value)}" + (" •" if lv.key in pending.value else "")
                if lv.kind == "int":
                    solara.SliderInt(label, value=int(value), min=int(lv.lo), max=int(lv.hi), step=int(lv.step),
                                     on_value=setter(lv.key), thumb_label=False)
                else:
                    solara.SliderFloat(label, value=float(value), min=lv.lo, max=lv.hi, step=lv.step,
                                       on_value=setter(lv.key), thumb_label=False)
        label = t(L, "propose") if is_participant else t(L, "apply_levers")
        solara.Button(f"{label} ({len(pending.value)})", on_click=apply, disabled=not pending.value, color="primary")
        if error.value:
            solara.Error(f"{t(L, 'error')}: {error.value}")
        solara.Text(t(L, "overrides"), style={"font-size": "12px", "color": "#555"})
        solara.HTML(tag="code", unsafe_innerHTML=html.escape(sim.settings.command()), classes=["sim-command"],
                    style="font-size:11px;word-break:break-all")


@solara.component
def RoomPanel(own: Simulation, room, member: str, room_code, L: str, room_version=None):
    code_in = solara.use_reactive("")
    message = solara.use_reactive("")

    def open_room():
        r = REGISTRY.open(member, own)
        room_code.set(r.code)
        message.set("")

    def join():
        try:
            r = REGISTRY.join(code_in.value, member)
            room_code.set(r.code)
            message.set("")
        except RoomError:
            message.set(t(L, "room_not_found", code=code_in.value.upper()))

    def leave():
        if room is not None:
            if room.is_facilitator(member):
                REGISTRY.close(room.code, member)
            else:
                room.leave(member)
        room_code.set(None)

    with solara.Card(t(L, "rooms_title"), classes=["sim-room"]):
        if room is None:
            solara.Text(t(L, "rooms_help"), style={"font-size": "12px", "color": "#555"})
            solara.Button(t(L, "open_room"), on_click=open_room, outlined=True)
            with solara.Row():
                solara.InputText(t(L, "room_code"), value=code_in, continuous_update=True)
                solara.Button(t(L, "join_room"), on_click=join)
        else:
            solara.HTML(unsafe_innerHTML=f"<div class='sim-room-code' style='font-size:22px'>"
                                         f"{html.escape(t(L, 'in_room', code=room.code))}</div>")
            role = t(L, "role_facilitator") if room.is_facilitator(member) else t(L, "role_participant")
            solara.HTML(unsafe_innerHTML=f"<div style='font-size:13px'>{html.escape(role)}</div>"
                                         f"<div style='font-size:13px'>{html.escape(t(L, 'room_members', n=room.connected()))}</div>")
            solara.Button(t(L, "close_room") if room.is_facilitator(member) else t(L, "leave_room"), on_click=leave, outlined=True)
            Proposals(room, member, L, room_version=room_version, settings=room.sim.settings)
        if message.value:
            solara.Warning(message.value)


@solara.component
def Proposals(room, member: str, L: str, room_version=None, settings=None):
    solara.HTML(unsafe_innerHTML=f"<b>{html.escape(t(L, 'proposals'))}</b>")
    props = room.open_proposals()
    if not props:
        solara.Text(t(L, "no_proposals"))
    current = room.sim.lever_values()
    for p in props:
        lv_label = t(L, "lever_group_" + p.key.split(".")[1]) + ": " + t(L, "lever_enabled" if p.key.endswith(".enabled")
                                                                        else "lever_" + p.key.split(".")[-1])
        with solara.Row(classes=["sim-proposal"]):
            solara.Text(f"{lv_label}: {_shown(L, current.get(p.key))} → {_shown(L, p.value)} · {t(L, 'votes', n=len(p.votes))}")
            solara.Button(t(L, "vote"), on_click=lambda p=p: room.vote(member, p.id), text=True)
            if room.is_facilitator(member):
                solara.Button(t(L, "apply_proposal"), on_click=lambda p=p: room.apply(member, p.id), text=True, color="primary")


@solara.component_vue("network_image.vue")
def NetworkImage(src: str, title: str, event_pick: Callable[[dict], None]):
    """The network picture; a click reports where it fell (``pick``)."""


@solara.component
def NetworkPanel(sim: Simulation, L: str, selected, tick=None):
    from sim.viz.network_view import MAX_SHOWN

    modes = ["adoption", "sector"]
    labels = [t(L, "color_adoption"), t(L, "color_sector")]
    with solara.Card(t(L, "network_title")):
        with solara.Row():
            solara.Text(t(L, "color_by"))
            solara.ToggleButtonsSingle(value=labels[modes.index(color_by.value)], values=labels,
                                       on_value=lambda v: color_by.set(modes[labels.index(v)]))
        sel = selected.value if selected.value is not None else -1
        png = sim.render("network", L, color_by=color_by.value, selected=int(sel))

        def pick(where: dict):
            firm = firm_at(sim, L, color_by.value, float(where.get("x", -1)), float(where.get("y", -1)))
            if firm is not None:
                selected.set(firm)

        NetworkImage(src="data:image/png;base64," + base64.b64encode(png).decode("ascii"),
                     title=t(L, "network_click"), event_pick=pick)
        n = sim.model.n_firms
        solara.Text(t(L, "network_sample", shown=MAX_SHOWN, total=n) if n > MAX_SHOWN else t(L, "network_all", total=n),
                    style={"font-size": "12px"})
        solara.Text(t(L, "network_help"), style={"font-size": "12px", "color": "#555"})


@solara.component
def Inspector(sim: Simulation, L: str, selected, tick=None):
    n = sim.model.n_firms
    with solara.Card(t(L, "inspector_title"), classes=["sim-inspector"], style={"overflow-wrap": "anywhere", "min-width": "0"}):
        with solara.Row(style={"flex-wrap": "wrap"}):
            solara.InputInt(t(L, "firm_id"), value=selected)
            solara.Button(t(L, "firm_largest"), on_click=lambda: selected.set(largest_emitter(sim.model)), text=True)
        solara.Text(t(L, "firm_id_help", max=n - 1), style={"font-size": "12px", "color": "#555"})
        fid = selected.value
        if fid is None or not 0 <= int(fid) < n:
            solara.Warning(t(L, "firm_id_help", max=n - 1))
            return
        with sim.lock:
            rep = firm_report(sim.model, int(fid), L)
        solara.HTML(unsafe_innerHTML=report_html(rep, L), style={"max-width": "100%", "overflow-wrap": "anywhere"})


@solara.component
def Page():
    member = solara.use_memo(lambda: secrets.token_hex(8), [])
    own = solara.use_memo(lambda: Simulation(default_settings()), [])  # this page's own model
    room_code = solara.use_reactive(None)
    selected = solara.use_reactive(0)
    was_in_room = solara.use_reactive(False)
    room = REGISTRY.get(room_code.value)
    if room_code.value and room is None:  # the facilitator closed the room
        room_code.set(None)
        was_in_room.set(True)
    sim = room.sim if room is not None else own
    tick = use_poll(sim, room, member)  # passed down: children showing the model re-render when it changes
    room_version = None if room is None else (room.code, room.version, room.connected())
    L = lang.value

    solara.Title(t(L, "title"))
    with solara.Column(style={"padding": "8px"}):
        with solara.Row(style={"align-items": "center"}):
            solara.HTML(tag="h2", unsafe_innerHTML=html.escape(t(L, "title")), style="margin:0")
            solara.v.Spacer()
            solara.Text(t(L, "language"))
            solara.ToggleButtonsSingle(value=LANG_NAMES[L], values=[LANG_NAMES[x] for x in LANGS],
                                       on_value=lambda v: lang.set(next(k for k, n in LANG_NAMES.items() if n == v)))
        solara.Text(t(L, "subtitle"))
        if was_in_room.value and room is None:
            solara.Info(t(L, "room_closed"))
        with solara.Columns([1, 2.4]):
            with solara.Column():
                RoomPanel(own, room, member, room_code, L, room_version=room_version)
                Controls(sim, room, member, L, tick=tick)
                SettingsPanel(sim, room, member, L, settings=sim.settings)
                LeversPanel(sim, room, member, L, settings=sim.settings, room_version=room_version)
            with solara.Column():
                Kpis(sim, L, tick=tick)
                with solara.Columns([1, 1]):
                    NetworkPanel(sim, L, selected, tick=(tick, selected.value))
                    with solara.Column():
                        with solara.Card():
                            solara.Image(sim.render("emissions", L), classes=["sim-emissions"])
                        with solara.Card():
                            solara.Image(sim.render("spending", L), classes=["sim-spending"])
                with solara.Columns([1, 1]):
                    with solara.Card():
                        solara.Image(sim.render("adoption", L), classes=["sim-adoption"])
                    Inspector(sim, L, selected, tick=tick)
