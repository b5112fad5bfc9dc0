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
import urllib.parse
from pathlib import Path
from typing import Callable

# Import now, once, what sessions would otherwise import on first use from their own threads:
# concurrent first imports (e.g. reacton's lazy `pandas.DataFrame` check) raced under load
# ("partially initialized module 'pandas'") and left pages blank.
import pandas  # noqa: F401
import segno  # QR codes of room links (pure Python, SVG output: no image library, works offline)
import solara
import solara.lab
import solara.server.settings

import sim.model  # noqa: F401
import sim.viz.charts  # noqa: F401
from sim.viz.charts import PRESENTER_DPI, describe
import sim.viz.network_view  # noqa: F401
from sim.viz.network_view import firm_at

from sim.viz.i18n import LANG_NAMES, LANGS, choice, date, t, tn
from sim.viz.debrief import lever_name, write_debrief
from sim.viz.inspector import firm_report, largest_emitter, report_html
from sim.viz.levers import GROUPS, LEVERS, firm_count_for, policies, scenarios
from sim.viz.rooms import REGISTRY, RoomError
from sim.viz.roles_panel import RolesPanel
from sim.compose import BadInput
from sim.viz.state import MAX_APP_FIRMS, Simulation, default_settings

POLL_S = 0.1  # how often a page checks its simulation and room for changes

# No "Made with Solara" badge or branded loader: every visible word is the app's (and translated).
solara.server.settings.theme.show_banner = False
solara.server.settings.theme.loader = "plain"

# Per-page UI state. Solara scopes reactive variables to each browser page (virtual kernel),
# so these are per session, like the simulation. ``lang`` None = the browser's language.
lang = solara.reactive(None)
color_by = solara.reactive("adoption")

#: Layout: two columns (controls | views) that stack under 900 px; charts scale to their card;
#: slider labels above full-width sliders on narrow screens; a visible keyboard focus.
CSS = """
.sim-main, .sim-pair { display: grid !important; gap: 12px; align-items: start; width: 100%; }
.sim-main { grid-template-columns: minmax(300px, 1fr) minmax(0, 2.4fr); }
.sim-pair { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
.sim-main > *, .sim-pair > * { min-width: 0; max-width: 100%; }
.sim-main img, .sim-pair img { width: 100%; height: auto; }
.sim-kpis { flex-wrap: wrap; }
.sim-header { flex-wrap: wrap; row-gap: 4px; }
.sim-room-join { flex-wrap: nowrap; align-items: center; }
.sim-room-join .v-input { min-width: 9em; flex: 1 1 auto; }
.sim-levers .v-slider { min-width: 0; }
.sim-apply { position: sticky; bottom: 0; z-index: 3; background: white; padding: 6px 0; }
.sim-proposal { flex-wrap: wrap; align-items: center; border-top: 1px solid #ddd; padding: 4px 0; }
.sim-voted { color: #1b5e20; font-weight: bold; }
.sim-qr svg { width: 160px; height: 160px; }
.sim-code { font-size: 11px; word-break: break-all; }
.sim-presenter { grid-template-columns: minmax(0, 1fr) !important; }
.sim-presenter > .sim-views { order: -1; }
.sim-presenter .sim-pair { grid-template-columns: minmax(0, 1fr) !important; }
.sim-presenter .sim-kpis div { font-size: 18px !important; }
.sim-presenter .sim-kpis div div:last-child { font-size: 34px !important; }
:focus-visible { outline: 3px solid #1565c0 !important; outline-offset: 2px; }
@media (max-width: 900px) {
  .sim-main, .sim-pair { grid-template-columns: minmax(0, 1fr); }
  .sim-levers .v-input__slider .v-input__slot { flex-wrap: wrap; }
  .sim-levers .v-input__slider .v-input__slot > .v-label { width: 100%; max-width: 100%; white-space: normal; }
  h2 { font-size: 20px; }
}
"""


@solara.component_vue("page_lang.vue")
def PageLang(lang: str):
    """Sets ``<html lang>`` to the language shown."""


def browser_lang() -> str:
    """The first of the browser's Accept-Language the app speaks (else English)."""
    headers = solara.lab.headers.value or {}
    accept = ",".join(headers.get("accept-language", []) or headers.get("Accept-Language", []))
    for part in accept.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGS:
            return code
    return "en"


def room_url(code: str, key: str | None = None) -> str:
    """The room's link as the browser reached this server (Host header)."""
    headers = solara.lab.headers.value or {}
    host = (headers.get("host") or headers.get("Host") or ["127.0.0.1:8765"])[0]
    q = {"room": code} if key is None else {"room": code, "key": key}
    return f"http://{host}/?{urllib.parse.urlencode(q)}"


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


def guard_value(error, fn):
    def run(v):
        try:
            fn(v)
        except (RoomError, BadInput) as exc:
            error.set(str(exc))
    return run


@solara.component
def ErrorBox(L: str, message):
    """An error in the page's language. ``message`` is a (key, fields) pair of the catalogue,
    or the program's own message (English, technical): that one is shown under a translated
    heading and, in other languages, folded under *Details* for whoever reproduces it."""
    if not message:
        return
    if isinstance(message, tuple):
        solara.Error(t(L, message[0], **message[1]))
    elif L == "en":
        solara.Error(f"{t(L, 'error')}: {message}")
    else:
        solara.HTML(unsafe_innerHTML=f"<div class='v-alert error--text' role='alert'><b>{html.escape(t(L, 'error_config'))}</b>"
                                     f"<details><summary>{html.escape(t(L, 'error_details'))}</summary>"
                                     f"<code class='sim-code'>{html.escape(message)}</code></details></div>")


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
                           on_value=guard_value(error, (lambda v: room.set_speed(member, v)) if room else sim.set_speed),
                           disabled=not can_drive)
        with sim.lock:
            steps, total, start_year = sim.steps_done, sim.total_steps, sim.model.start_year


        solara.HTML(unsafe_innerHTML=f"<b>{html.escape(t(L, 'step_counter', step=steps, total=total))}</b>"
                                     + (f" · {html.escape(date(L, steps - 1, start_year))}" if steps else ""),
                    classes=["sim-step-counter"])
        if steps == 0:
            solara.Text(t(L, "not_started"))
        elif sim.finished:
            solara.Text(t(L, "finished"))
        ErrorBox(L, error.value)


@solara.component
def SettingsPanel(sim: Simulation, room, member: str, L: str, settings=None):
    can_drive = room is None or room.is_facilitator(member)
    s = sim.settings
    scenario = solara.use_reactive(s.scenario)
    policy = solara.use_reactive(s.policy)
    seed = solara.use_reactive(s.seed)
    n_firms = solara.use_reactive(int(sim.cfg.n_firms))
    n_firms_edited = solara.use_reactive(False)  # typed by the user (else: the scenario's own)
    error = solara.use_reactive("")

    def sync():  # follow changes made elsewhere (the facilitator, a reset)
        scenario.set(s.scenario)
        policy.set(s.policy)
        seed.set(s.seed)
        n_firms.set(int(sim.cfg.n_firms))
        n_firms_edited.set(False)

    def type_n_firms(v):
        n_firms.set(v)
        n_firms_edited.set(True)

    solara.use_effect(sync, [id(sim), s])
    fixed_firms = bool(sim.cfg.scenario.firms_csv)

    def apply():
        try:
            n = firm_count_for(s, scenario.value, None if n_firms.value is None else int(n_firms.value),
                               n_firms_edited.value and not fixed_firms)
            if n is not None and not 1 <= n <= MAX_APP_FIRMS:
                error.set(("n_firms_range", {"max": f"{MAX_APP_FIRMS:,}"}))
                return
            if room is not None:
                room.restart(member, scenario.value, policy.value, int(seed.value), n)
            else:
                sim.restart(scenario.value, policy.value, int(seed.value), n)
            error.set("")
        except (BadInput, RoomError, ValueError, TypeError) as exc:
            error.set(str(exc))

    with solara.Card(t(L, "settings")):
        for kind, files, chosen in (("scenario", scenarios(), scenario), ("policy", policies(), policy)):
            # shown by name (translated), with a description; the file name stays in the command line
            by_name = {choice(L, kind, f)[0]: f for f in files}
            shown = choice(L, kind, chosen.value)[0]
            solara.Select(t(L, kind), values=list(by_name), value=shown if shown in by_name else None,
                          on_value=lambda v, chosen=chosen, by_name=by_name: chosen.set(by_name[v]),
                          disabled=not can_drive)
            solara.Text(choice(L, kind, chosen.value)[1], style={"display": "block", "font-size": "13px"}, classes=[f"sim-{kind}-description"])
            solara.Text(t(L, f"{kind}_help"), style={"display": "block", "font-size": "12px", "color": "#555"})
        solara.InputInt(t(L, "seed"), value=seed, disabled=not can_drive)
        solara.InputInt(t(L, "n_firms"), value=n_firms.value, on_value=type_n_firms, disabled=not can_drive or fixed_firms)
        solara.Text(t(L, "n_firms_fixed") if fixed_firms else t(L, "n_firms_help"), style={"display": "block", "font-size": "12px", "color": "#555"})
        solara.Button(t(L, "apply_settings"), on_click=apply, disabled=not can_drive, outlined=True)
        ErrorBox(L, error.value)


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
                room.propose(member, pending.value)  # several levers: one proposal
            elif room is not None:
                room.apply_levers(member, pending.value)
            else:
                sim.apply_levers(pending.value)
            pending.set({})
            error.set("")
        except (BadInput, RoomError, KeyError, ValueError) as exc:
            error.set(str(exc))

    with solara.Card(t(L, "levers"), classes=["sim-levers"]):
        solara.Text(t(L, "levers_help"), style={"display": "block", "font-size": "12px", "color": "#555"})
        for group in GROUPS:
            solara.HTML(unsafe_innerHTML=f"<b>{html.escape(t(L, 'lever_group_' + group))}</b>")
            on_key = f"policy.{group}.enabled"
            is_on = bool(pending.value.get(on_key, current.get(on_key, True)))
            for lv in LEVERS:
                if lv.group != group:
                    continue
                value = pending.value.get(lv.key, current[lv.key])
                label = t(L, lv.label_key)  # every lever label names its unit
                if lv.kind == "bool":
                    solara.Checkbox(label=label, value=bool(value), on_value=setter(lv.key))
                    if not is_on:
                        solara.Text(t(L, "lever_off_help"), style={"display": "block", "font-size": "12px", "color": "#777"})
                    continue
                label = f"{label}: {_fmt_value(value)}" + (" •" if lv.key in pending.value else "")
                if lv.kind in ("int", "year"):  # a year: within the run's years (the config's rule allows earlier)
                    lo, hi = (sim.model.start_year, sim.model.end_year) if lv.kind == "year" else (lv.lo, lv.hi)
                    solara.SliderInt(label, value=int(value), min=int(min(lo, value)), max=int(max(hi, value)),
                                     step=int(lv.step), on_value=setter(lv.key), thumb_label=False, disabled=not is_on)
                else:
                    solara.SliderFloat(label, value=float(value), min=lv.lo, max=lv.hi, step=lv.step,
                                       on_value=setter(lv.key), thumb_label=False, disabled=not is_on)
        label = t(L, "propose") if is_participant else t(L, "apply_levers")
        with solara.Div(classes=["sim-apply"]):  # stays in view while the levers scroll past
            solara.Button(f"{label} ({len(pending.value)})", on_click=apply, disabled=not pending.value, color="primary",
                          block=True)
            ErrorBox(L, error.value)
        done = sim.last_apply  # how the last lever change was simulated (state.Simulation.apply_levers)
        if done:
            how = (t(L, "levers_continued", year=done["forked_from"], seconds=f"{done['seconds']:.2f}")
                   if done["forked_from"] is not None else t(L, "levers_resimulated", seconds=f"{done['seconds']:.2f}"))
            solara.Text(how, style={"display": "block", "font-size": "12px", "color": "#555"}, classes=["sim-apply-how"])
        solara.Text(t(L, "overrides"), style={"display": "block", "font-size": "12px", "color": "#555"})
        solara.HTML(tag="code", unsafe_innerHTML=html.escape(sim.settings.command()), classes=["sim-command", "sim-code"])


@solara.component
def RoomPanel(own: Simulation, room, member: str, go_to_room: Callable, L: str, room_version=None):
    code_in = solara.use_reactive("")
    message = solara.use_reactive("")

    def open_room():
        r = REGISTRY.open(member, own, lang=L)
        go_to_room(r.code, r.token)
        message.set("")

    def join():
        r = REGISTRY.get(code_in.value)
        if r is None:
            message.set(t(L, "room_not_found", code=code_in.value.upper()))
            return
        go_to_room(r.code, None)
        message.set("")

    def leave():
        if room is not None:
            if room.is_facilitator(member):
                REGISTRY.close(room.code, member)
            else:
                room.leave(member)
        go_to_room(None, None)

    with solara.Card(t(L, "rooms_title"), classes=["sim-room"]):
        if room is None:
            solara.Text(t(L, "rooms_help"), style={"display": "block", "font-size": "12px", "color": "#555"})
            solara.Button(t(L, "open_room"), on_click=open_room, outlined=True)
            with solara.Row(classes=["sim-room-join"]):
                solara.InputText(t(L, "room_code"), value=code_in, continuous_update=True)
                solara.Button(t(L, "join_room"), on_click=join)
        else:
            is_fac = room.is_facilitator(member)
            solara.HTML(unsafe_innerHTML=f"<div class='sim-room-code' style='font-size:22px'>"
                                         f"{html.escape(t(L, 'in_room', code=room.code))}</div>")
            role = t(L, "role_facilitator") if is_fac else t(L, "role_participant")
            solara.HTML(unsafe_innerHTML=f"<div style='font-size:13px'>{html.escape(role)}</div>"
                                         f"<div style='font-size:13px'>{html.escape(tn(L, 'room_members', room.connected()))}</div>")
            if not is_fac and (room.paused_for_absence or room.facilitator_away()):
                solara.Warning(t(L, "facilitator_away"), classes=["sim-facilitator-away"])
            if is_fac:
                url = room_url(room.code)
                svg = segno.make(url, error="m").svg_inline(scale=4, title=t(L, "qr_alt", url=url))
                solara.HTML(unsafe_innerHTML=f"<div class='sim-qr' role='img' aria-label='{html.escape(t(L, 'qr_alt', url=url))}'>"
                                             f"{svg}</div><div style='font-size:13px'>{html.escape(t(L, 'room_link', url=url))}</div>")
                solara.HTML(unsafe_innerHTML=html.escape(t(L, "facilitator_link", url=room_url(room.code, room.token))),
                            classes=["sim-code", "sim-facilitator-link"])
            solara.Button(t(L, "close_room") if is_fac else t(L, "leave_room"), on_click=leave, outlined=True)
            if is_fac:
                Debrief(room, L)
            Proposals(room, member, L, room_version=room_version, settings=room.sim.settings)
        if message.value:
            solara.Warning(message.value)


@solara.component
def Debrief(room, L: str):
    """The facilitator exports the room's session as a printable page (and downloads it)."""
    written = solara.use_reactive(None)  # (path, html bytes)

    def export():
        path = write_debrief(room)
        written.set((str(path), path.read_bytes()))

    solara.Button(t(L, "export_debrief"), on_click=export, outlined=True, classes=["sim-export-debrief"])
    if written.value is not None:
        path, data = written.value
        solara.HTML(unsafe_innerHTML=html.escape(t(L, "debrief_saved", path=path)), classes=["sim-code", "sim-debrief-path"])
        solara.FileDownload(data, filename=Path(path).name, label=t(L, "debrief_download"))


@solara.component
def Proposals(room, member: str, L: str, room_version=None, settings=None):
    solara.HTML(unsafe_innerHTML=f"<b>{html.escape(t(L, 'proposals'))}</b>")
    props = room.open_proposals()
    if not props:
        solara.Text(t(L, "no_proposals"))
    current = room.sim.lever_values()
    for p in props:
        voted = member in p.votes
        changes = "<br>".join(html.escape(f"{lever_name(L, k)}: {_shown(L, current.get(k))} → {_shown(L, v)}")
                              for k, v in p.changes)
        with solara.Row(classes=["sim-proposal"] + (["sim-proposal-voted"] if voted else [])):
            state = t(L, "you_voted") if voted else t(L, "you_not_voted")
            solara.HTML(unsafe_innerHTML=f"<div>{changes}</div><div><span class='sim-votes'>"
                                         f"{html.escape(tn(L, 'votes', len(p.votes)))}</span> · "
                                         f"<span class='{'sim-voted' if voted else 'sim-not-voted'}'>{html.escape(state)}</span></div>")
            if voted:
                solara.Button(t(L, "vote_withdraw"), on_click=lambda p=p: room.vote(member, p.id, in_favour=False),
                              outlined=True, small=True)
            else:
                solara.Button(t(L, "vote_for"), on_click=lambda p=p: room.vote(member, p.id), color="primary",
                              small=True)
            if room.is_facilitator(member):
                solara.Button(t(L, "apply_proposal"), on_click=lambda p=p: room.apply(member, p.id), text=True,
                              color="primary", small=True)


@solara.component_vue("chart_image.vue")
def ChartImage(src: str, alt: str, kind: str, title: str, event_enlarge: Callable[[dict], None]):
    """A chart picture with its numbers as ``alt`` text; a click (or Enter) enlarges it."""


def chart_src(sim: Simulation, kind: str, L: str, big: bool) -> tuple[str, str]:
    """(data URL of the chart's PNG, its text alternative)."""
    png = sim.render(kind, L, **({"dpi": PRESENTER_DPI} if big else {}))
    with sim.lock:
        alt = describe(sim, kind, L)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii"), alt


@solara.component
def ChartCard(sim: Simulation, kind: str, L: str, presenter: bool, enlarged, tick=None):
    src, alt = chart_src(sim, kind, L, presenter)
    with solara.Card(classes=["sim-chart"]):
        ChartImage(src=src, alt=alt, kind=f"sim-{kind}", title=t(L, "enlarge"), event_enlarge=lambda _: enlarged.set(kind))


@solara.component
def Enlarged(sim: Simulation, L: str, enlarged, tick=None):
    """The chart ``enlarged`` names, across the screen at the presenter resolution."""
    if enlarged.value is None:
        return
    src, alt = chart_src(sim, enlarged.value, L, True)
    with solara.v.Dialog(v_model=True, on_v_model=lambda v: None if v else enlarged.set(None), max_width="96vw"):
        with solara.Card(classes=["sim-enlarged"]):
            solara.Button(t(L, "close"), on_click=lambda: enlarged.set(None), outlined=True)
            ChartImage(src=src, alt=alt, kind=f"sim-enlarged-{enlarged.value}", title="", event_enlarge=lambda _: None)


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
                    style={"display": "block", "font-size": "12px"})
        solara.Text(t(L, "network_help"), style={"display": "block", "font-size": "12px", "color": "#555"})


@solara.component
def Inspector(sim: Simulation, L: str, selected, tick=None):
    n = sim.model.n_firms
    with solara.Card(t(L, "inspector_title"), classes=["sim-inspector"], style={"overflow-wrap": "anywhere", "min-width": "0"}):
        with solara.Row(style={"flex-wrap": "wrap"}):
            solara.InputInt(t(L, "firm_id"), value=selected)
            solara.Button(t(L, "firm_largest"), on_click=lambda: selected.set(largest_emitter(sim.model)), text=True)
        solara.Text(t(L, "firm_id_help", max=n - 1), style={"display": "block", "font-size": "12px", "color": "#555"})
        fid = selected.value
        if fid is None or not 0 <= int(fid) < n:
            solara.Warning(t(L, "firm_id_help", max=n - 1))
            return
        with sim.lock:
            rep = firm_report(sim.model, int(fid), L)
        solara.HTML(unsafe_innerHTML=report_html(rep, L), style={"max-width": "100%", "overflow-wrap": "anywhere"})


def use_room_from_url(member: str, own_lang: str, notice, was_in_room):
    """The room in the page's address (``?room=CODE``, and the facilitator's ``&key=...``):
    a reload or a shared link lands in the room; the key takes the room back as facilitator.
    Returns (the room or None, ``go_to_room(code, key)`` which changes the address)."""
    router = solara.use_router()
    query = urllib.parse.parse_qs(router.search or "")
    url_code = (query.get("room") or [None])[0]
    url_key = (query.get("key") or [None])[0]
    room_code = solara.use_reactive(None)

    def enter_from_url():
        if not url_code:
            room_code.set(None)
            return
        r = REGISTRY.get(url_code)
        if r is None:
            notice.set(t(own_lang, "room_not_found", code=url_code.upper()))
            room_code.set(None)
            return
        if url_key and not r.is_facilitator(member):
            try:
                r.reclaim(member, url_key)
                notice.set(t(r.lang, "facilitator_back"))
            except RoomError:
                r.join(member)
        elif not r.is_facilitator(member):
            r.join(member)
        room_code.set(r.code)
        was_in_room.set(False)

    solara.use_effect(enter_from_url, [url_code, url_key])

    def go_to_room(code, key):
        if code is None:
            router.push("/")
            return
        q = {"room": code} if key is None else {"room": code, "key": key}
        router.push("/?" + urllib.parse.urlencode(q))

    room = REGISTRY.get(room_code.value)
    if room_code.value and room is None:  # the facilitator closed the room
        room_code.set(None)
        was_in_room.set(True)
        router.push("/")
    return room, go_to_room


@solara.component
def Header(room, member: str, L: str, presenter):
    is_fac = room is not None and room.is_facilitator(member)

    def set_lang(v):
        code = next(k for k, n in LANG_NAMES.items() if n == v)
        if room is not None and is_fac:
            room.set_lang(member, code)
        lang.set(code)

    with solara.Row(style={"align-items": "center"}, classes=["sim-header"]):
        solara.HTML(tag="h2", unsafe_innerHTML=html.escape(t(L, "title")), style="margin:0")
        solara.v.Spacer()
        solara.Switch(label=t(L, "presenter"), value=presenter, classes=["sim-presenter-switch"])
        solara.Text(t(L, "language"))
        if room is not None and not is_fac:  # the room's language is the facilitator's choice
            solara.Text(LANG_NAMES[L], style={"font-weight": "bold"})
        else:
            solara.ToggleButtonsSingle(value=LANG_NAMES[L], values=[LANG_NAMES[x] for x in LANGS], on_value=set_lang)
    if room is not None and not is_fac:
        solara.Text(t(L, "room_lang_help"), style={"display": "block", "font-size": "12px", "color": "#555"})
    solara.Text(t(L, "subtitle"))


@solara.component
def Page():
    member = solara.use_memo(lambda: secrets.token_hex(8), [])
    own = solara.use_memo(lambda: Simulation(default_settings()), [])  # this page's own model
    notice = solara.use_reactive("")
    selected = solara.use_reactive(0)
    presenter = solara.use_reactive(False)
    enlarged = solara.use_reactive(None)  # the chart shown across the screen, if any
    was_in_room = solara.use_reactive(False)
    from_browser = solara.use_memo(browser_lang, [])  # (a hook: called on every render)
    own_lang = lang.value or from_browser
    room, go_to_room = use_room_from_url(member, own_lang, notice, was_in_room)
    sim = room.sim if room is not None else own
    tick = use_poll(sim, room, member)  # passed down: children showing the model re-render when it changes
    room_version = None if room is None else (room.code, room.version, room.connected(), room.facilitator_away())
    L = room.lang if room is not None else own_lang

    solara.Title(t(L, "title"))
    solara.Style(CSS)
    PageLang(lang=L)
    with solara.Column(style={"padding": "8px"}):
        Header(room, member, L, presenter)
        if was_in_room.value and room is None:
            solara.Info(t(L, "room_closed"))
        if notice.value:
            solara.Info(notice.value)
        Enlarged(sim, L, enlarged, tick=tick)
        with solara.Div(classes=["sim-main"] + (["sim-presenter"] if presenter.value else [])):
            with solara.Column(classes=["sim-side"]):
                RoomPanel(own, room, member, go_to_room, L, room_version=room_version)
                RolesPanel(room, member, L, tick=tick, room_version=room_version)
                if not presenter.value:
                    Controls(sim, room, member, L, tick=tick)
                SettingsPanel(sim, room, member, L, settings=sim.settings)
                LeversPanel(sim, room, member, L, settings=sim.settings, room_version=room_version)
            with solara.Column(classes=["sim-views"]):
                Kpis(sim, L, tick=tick)
                if presenter.value:  # the facilitator's controls stay at hand above the charts
                    Controls(sim, room, member, L, tick=tick)
                with solara.Div(classes=["sim-pair"]):
                    NetworkPanel(sim, L, selected, tick=(tick, selected.value))
                    with solara.Column():
                        ChartCard(sim, "emissions", L, presenter.value, enlarged, tick=tick)
                        ChartCard(sim, "spending", L, presenter.value, enlarged, tick=tick)
                with solara.Div(classes=["sim-pair"]):
                    ChartCard(sim, "adoption", L, presenter.value, enlarged, tick=tick)
                    Inspector(sim, L, selected, tick=tick)
