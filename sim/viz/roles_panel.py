"""The Roles card of a workshop room: a participant takes a role (a firm of the scenario,
their own company, a cluster association, the government) and decides with the controls of
that role; the facilitator sees who plays what and releases roles. Usable at 360 px width
(one column, wrapping text, full-width controls). Every word from ``i18n.py``."""
from __future__ import annotations

import html

import solara

from sim.params import CARRIERS, SIZE_CLASSES
from sim.results import adoptions_table
from sim.viz.i18n import date, name, t, tn
from sim.viz.inspector import change_text, money
from sim.viz.roles import (EMPLOYEES, archetypes, association_measures, budget_rows, decision_lines, firm_facts,
                           measure_label, measure_rows, role_label)
from sim.viz.rooms import RoomError

SMALL = {"display": "block", "font-size": "12px", "color": "#555"}
KINDS = ("firm", "own", "association", "government")


def error_text(L: str, exc: Exception, model) -> str:
    """A refused role action in the room's language (its catalogue key), else its own text."""
    key = getattr(exc, "key", None)
    if not key:
        return str(exc)
    fields = dict(exc.fields)
    if "measure" in fields and fields["measure"] in model.catalogue.names:
        k = model.catalogue.names.index(fields["measure"])
        fields["measure"] = name(L, "measure", fields["measure"], model.catalogue.labels[k])
    if "sector" in fields and fields["sector"] in model.sector_names:
        fields["sector"] = name(L, "sector", fields["sector"])
    return t(L, key, **fields)


def use_guard(sim, L: str):
    """(error reactive, guard): ``guard(fn)`` runs a role action and shows a refusal in ``L``."""
    error = solara.use_reactive("")

    def guard(fn):
        def run(*args):
            try:
                fn(*args)
                error.set("")
            except RoomError as exc:
                error.set(error_text(L, exc, sim.model))
        return run

    return error, guard


def _energy_text(L: str, energy: dict) -> str:
    return ", ".join(f"{name(L, 'carrier', c, t(L, 'carrier_' + c).split(' (')[0])} {v:,.{0 if v >= 10 else 1}f} MWh"
                     for c, v in energy.items()) or t(L, "none")


def _lines(items: list[str], cls: str) -> None:
    if items:
        solara.HTML(unsafe_innerHTML="<ul style='margin:2px 0 6px 18px;padding:0;font-size:13px'>"
                    + "".join(f"<li>{html.escape(x)}</li>" for x in items) + "</ul>", classes=[cls])


@solara.component
def RolesPanel(room, member: str, L: str, tick=None, room_version=None):
    """The Roles card (rooms only)."""
    error, guard = use_guard(room.sim if room is not None else None, L)
    if room is None:
        return
    sim = room.sim
    with solara.Card(t(L, "roles_title"), classes=["sim-roles"], style={"overflow-wrap": "anywhere", "min-width": "0"}):
        if room.is_facilitator(member):
            Players(room, member, L, guard, tick=tick)
        role = room.role_of(member)
        if role is None and not room.is_facilitator(member):
            TakeRole(room, member, L, guard, tick=tick)
        elif role is not None and role.kind == "firm":
            FirmRole(room, member, L, role, guard, tick=tick)
        elif role is not None and role.kind == "association":
            AssociationRole(room, member, L, role, guard, tick=tick)
        elif role is not None:
            GovernmentRole(room, member, L, guard, tick=tick)
        if role is not None:
            with sim.lock:
                lines = decision_lines(L, sim.model, member)
            if lines:
                solara.HTML(unsafe_innerHTML=f"<b>{html.escape(t(L, 'role_decisions_title'))}</b>")
            _lines(lines, "sim-role-decisions")
            solara.Button(t(L, "role_release"), on_click=guard(lambda: room.release_role(member, member)),
                          outlined=True, small=True, classes=["sim-role-release"])
        if error.value:
            solara.Error(error.value, classes=["sim-role-error"])


@solara.component
def Players(room, member: str, L: str, guard, tick=None):
    """The facilitator's list of who plays what, each with a Release button."""
    solara.HTML(unsafe_innerHTML=f"<b>{html.escape(t(L, 'role_players_title'))}</b>")
    with room.sim.lock:
        roles = [(m, r, role_label(L, room.sim.model, r)) for m, r in list(room.roles.items())]
    if not roles:
        solara.Text(t(L, "role_players_none"), style=SMALL)
    for m, r, label in roles:
        with solara.Row(classes=["sim-role-row"], style={"flex-wrap": "wrap", "align-items": "center"}):
            solara.Text(t(L, "role_row", name=r.name, role=label, step=r.since_step), style={"font-size": "13px"})
            solara.Button(t(L, "role_release_other"), on_click=guard(lambda m=m: room.release_role(member, m)),
                          text=True, small=True)
    solara.Text(t(L, "role_pause_help"), style=SMALL)


@solara.component
def TakeRole(room, member: str, L: str, guard, tick=None):
    model = room.sim.model
    who = solara.use_reactive(room.player_names.get(member, ""))  # the name given for an earlier role
    kind = solara.use_reactive("firm")
    firm_choice = solara.use_reactive(None)
    sector = solara.use_reactive(model.sector_names[0])
    size = solara.use_reactive("small")
    energy = solara.use_reactive({c: 0.0 for c in CARRIERS})
    assoc = solara.use_reactive(0)

    solara.Text(t(L, "roles_help"), style=SMALL)
    solara.Text(t(L, "role_none_taken"), style={"display": "block", "font-size": "13px"})
    solara.InputText(t(L, "role_your_name"), value=who, continuous_update=True, classes=["sim-role-name"])
    labels = [t(L, "role_kind_" + k) for k in KINDS]
    solara.Select(t(L, "role_kind"), values=labels, value=labels[KINDS.index(kind.value)],
                  on_value=lambda v: kind.set(KINDS[labels.index(v)]), classes=["sim-role-kind"])
    taken = tuple(sorted(r.target for r in list(room.roles.values()) if r.kind == "firm"))

    def representative():
        with room.sim.lock:
            return [firm_facts(room.sim.model, f) for f in archetypes(room.sim.model, taken)]

    # the list of firms to play: rebuilt when firms are taken, the model changes, or yearly
    facts = solara.use_memo(representative, [id(model), taken, room.sim.steps_done // 12])
    if kind.value == "firm":
        options = {}
        for x in facts:
            f = x["firm"]
            options[t(L, "role_firm_option", sector=name(L, "sector", x["sector"]), size=name(L, "size", x["size"]),
                      employees=x["employees"], energy=f"{sum(x['energy_mwh_per_yr'].values()):,.0f}",
                      emissions=f"{x['emissions_t_per_yr']:,.0f}", firm=f)] = f
        shown = next((k for k, v in options.items() if v == firm_choice.value), None)
        solara.Select(t(L, "role_pick_firm"), values=list(options), value=shown,
                      on_value=lambda v: firm_choice.set(options[v]), classes=["sim-role-firm"])
        solara.Button(t(L, "role_take"), color="primary", disabled=firm_choice.value is None,
                      on_click=guard(lambda: room.take_firm(member, firm_choice.value, who.value)),
                      classes=["sim-role-take"])
    elif kind.value == "own":
        sectors = {name(L, "sector", s): s for s in model.sector_names}
        solara.Select(t(L, "sector"), values=list(sectors), value=name(L, "sector", sector.value),
                      on_value=lambda v: sector.set(sectors[v]), classes=["sim-role-sector"])
        sizes = {f"{name(L, 'size', s)} ({EMPLOYEES[s]})": s for s in SIZE_CLASSES}
        solara.Select(t(L, "size_class"), values=list(sizes),
                      value=next(k for k, v in sizes.items() if v == size.value), on_value=lambda v: size.set(sizes[v]))
        solara.Text(t(L, "role_energy_help"), style=SMALL)
        for c in CARRIERS:
            solara.InputFloat(t(L, "carrier_" + c), value=energy.value[c],
                              on_value=lambda v, c=c: energy.set({**energy.value, c: v}), classes=[f"sim-energy-{c}"])
        solara.Button(t(L, "role_take"), color="primary",
                      on_click=guard(lambda: room.take_own_company(member, sector.value, size.value, dict(energy.value),
                                                                   who.value)), classes=["sim-role-take"])
    elif kind.value == "association":
        if not model.clusters:
            solara.Text(t(L, "role_no_associations"), style=SMALL)
            return
        names = [name(L, "cluster", c.name) for c in model.clusters]
        solara.Select(t(L, "role_pick_association"), values=names, value=names[assoc.value],
                      on_value=lambda v: assoc.set(names.index(v)), classes=["sim-role-association"])
        solara.Button(t(L, "role_take"), color="primary",
                      on_click=guard(lambda: room.take_association(member, assoc.value, who.value)),
                      classes=["sim-role-take"])
    else:
        solara.Text(t(L, "role_you_play_government"), style=SMALL)
        solara.Button(t(L, "role_take"), color="primary", on_click=guard(lambda: room.take_government(member, who.value)),
                      classes=["sim-role-take"])


@solara.component
def FirmRole(room, member: str, L: str, role, guard, tick=None):
    sim = room.sim
    chosen = solara.use_reactive(frozenset())
    with sim.lock:
        _firm_role(room, member, L, role, guard, chosen)


def _firm_role(room, member: str, L: str, role, guard, chosen):
    sim = room.sim
    model = sim.model
    f = firm_facts(model, role.target)
    sector, size = name(L, "sector", f["sector"]), name(L, "size", f["size"])
    if role.own:
        have = ", ".join(measure_label(L, model, k) for k in f["adopted"]) or t(L, "none")
        solara.Text(t(L, "role_you_play_own", firm=role.target, sector=sector, size=size, measures=have),
                    style={"display": "block", "font-size": "13px"}, classes=["sim-role-you"])
    else:
        solara.Text(t(L, "role_you_play_firm", firm=role.target, sector=sector, size=size, employees=f["employees"]),
                    style={"display": "block", "font-size": "13px"}, classes=["sim-role-you"])
    solara.Text(t(L, "role_firm_state", energy=_energy_text(L, f["energy_mwh_per_yr"]),
                  emissions=f"{f['emissions_t_per_yr']:,.1f}", funds=money(L, f["funds_usd"], up=False)),
                style={"display": "block", "font-size": "13px"})
    solara.Text(t(L, "role_firm_rule_off"), style=SMALL)
    solara.HTML(unsafe_innerHTML=f"<b>{html.escape(t(L, 'role_measures_title'))}</b>")
    rows = measure_rows(model, role.target)
    if not rows:
        solara.Text(t(L, "role_no_measures"), style=SMALL)
    for r in rows:
        r["month"] = model.month
        label = measure_label(L, model, r["measure"])
        v = r.get("npv_with_support_usd", r["npv_usd"])
        npv = ("−" if v < 0 else "") + money(L, abs(v), up=False)
        payback = (tn(L, "role_payback", round(r["payback_yr"], 1)) if r["payback_yr"] is not None
                   else t(L, "role_payback_never"))
        terms = t(L, "role_measure_terms", capex=money(L, r["capex_usd"], up=False), grant=money(L, r["grant_usd"], up=False),
                  pays=money(L, r["pays_usd"], up=False), loan=money(L, r["loan_usd"], up=False),
                  saving=money(L, r["saving_usd_per_yr"], up=False), payback=payback, npv=npv)
        rule = t(L, "role_rule_says", status=t(L, "status_" + r["status"]))
        with solara.Column(classes=["sim-role-measure"], style={"border-top": "1px solid #e4e4e4", "padding": "4px 0",
                                                                  "gap": "0"}):
            solara.Checkbox(label=label, value=r["measure"] in chosen.value, disabled=not r["choosable"],
                            on_value=lambda v, k=r["measure"]: chosen.set(chosen.value | {k} if v else chosen.value - {k}))
            solara.Text(terms, style={"display": "block", "font-size": "12px"})
            solara.Text(f"{rule} — {change_text(L, r)}", style=SMALL)
            if r["blocked"] and r["blocked"] != r["status"]:  # the rule stops earlier; the player would stop here
                solara.Text(t(L, "status_" + r["blocked"]), style=SMALL)
    pending = [measure_label(L, model, model.catalogue.names[k]) for a in sim.schedule.due(sim.steps_done)
               if a.kind == "adopt" and a.target == role.target for k in a.payload]
    if pending:
        solara.Info(t(L, "role_chosen", measures=", ".join(pending)), classes=["sim-role-pending"])

    def adopt():
        room.firm_adopt(member, sorted(chosen.value))
        chosen.set(frozenset())

    solara.Button(f"{t(L, 'role_choose')} ({len(chosen.value)})", color="primary", disabled=not chosen.value,
                  on_click=guard(adopt), classes=["sim-role-adopt"])
    AdoptionRows(sim, role.target, L, tick=sim.version)


@solara.component
def AdoptionRows(sim, firm: int, L: str, tick=None):
    """This firm's rows of the model's adoption table (``results.adoptions_table``)."""
    with sim.lock:
        model = sim.model
        df = adoptions_table(model).to_pandas()
    df = df[df.firm == firm]
    if not len(df):
        return
    solara.HTML(unsafe_innerHTML=f"<b>{html.escape(t(L, 'role_model_table'))}</b>")
    who = df["decided_by"].astype(str) if "decided_by" in df else ["rule"] * len(df)
    lines = [t(L, "role_table_row", date=date(L, int(r.month), model.start_year),
               measure=measure_label(L, model, str(r.measure)), grant=money(L, float(r.subsidy_usd), up=False),
               instrument=name(L, "instrument", str(r.instrument)) if str(r.instrument) != "none" else t(L, "none"),
               who=t(L, "decided_by_" + w))
             for r, w in zip(df.itertuples(), who)]
    _lines(lines, "sim-role-table")


@solara.component
def AssociationRole(room, member: str, L: str, role, guard, tick=None):
    from sim.mechanisms.players import Players as PlayersMechanism

    model = room.sim.model
    p = PlayersMechanism.Params()
    chosen = solara.use_reactive(frozenset())
    with room.sim.lock:
        measures = association_measures(model, role.target)
    c = model.clusters[role.target]
    solara.Text(tn(L, "role_you_play_association", len(c.members), name=name(L, "cluster", c.name)),
                style={"display": "block", "font-size": "13px"}, classes=["sim-role-you"])
    solara.Text(tn(L, "role_promote_help", p.max_measures_per_promotion, cost=money(L, p.promotion_cost_usd, up=False)),
                style=SMALL)
    for k, applies, aware in measures:
        key = model.catalogue.names[k]
        with solara.Column(classes=["sim-role-measure"], style={"gap": "0"}):
            solara.Checkbox(label=measure_label(L, model, key), value=key in chosen.value,
                            on_value=lambda v, key=key: chosen.set(chosen.value | {key} if v else chosen.value - {key}))
            solara.Text(t(L, "role_measure_members", applies=applies, aware=aware), style=SMALL)

    def promote():
        room.association_promote(member, sorted(chosen.value))
        chosen.set(frozenset())

    solara.Button(f"{t(L, 'role_promote')} ({len(chosen.value)})", color="primary", disabled=not chosen.value,
                  on_click=guard(promote), classes=["sim-role-promote"])


@solara.component
def GovernmentRole(room, member: str, L: str, guard, tick=None):
    with room.sim.lock:
        rows = budget_rows(room.sim.model)
    shares = solara.use_reactive({r["name"]: int(round(100 * r["share"])) for r in rows})
    left = sum(max(r["budget_usd"] - r["spent_usd"], 0.0) * r["public_cost_share"] for r in rows)
    loan = next((r["public_cost_share"] for r in rows if r["name"] == "green_loan"), None)
    solara.Text(t(L, "role_you_play_government"), style={"display": "block", "font-size": "13px"}, classes=["sim-role-you"])
    solara.Text(t(L, "role_budget_help", left=money(L, left, up=False),
                  share=f"{100 * loan:.0f}" if loan is not None else "—"), style=SMALL)
    for r in rows:
        n = name(L, "instrument", r["name"])
        solara.Text(t(L, "role_budget_row", name=n, budget=money(L, r["budget_usd"], up=False),
                      spent=money(L, r["spent_usd"], up=False)), style={"display": "block", "font-size": "13px"},
                    classes=["sim-budget-row"])
        with solara.Div(classes=[f"sim-share-{r['name']}"]):
            solara.SliderInt(t(L, "role_share_of", name=n), value=shares.value.get(r["name"], 0), min=0, max=100,
                             on_value=lambda v, key=r["name"]: shares.set({**shares.value, key: v}))
    solara.Button(t(L, "role_allocate"), color="primary",
                  on_click=guard(lambda: room.government_allocate(member, dict(shares.value))),
                  classes=["sim-role-allocate"])
