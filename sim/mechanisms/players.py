"""Workshop role players (HubNet-style roles in the live model): participants of a workshop
room who play a firm, a cluster association or the government.

A room's actions are kept in a :class:`Schedule`: each action is due in the month after the
step it was taken at (``month`` = months simulated when it was taken), and this mechanism
applies the actions due in each month, first of every mechanism, in the month's cluster
activities (before programmes and the firm decisions). The schedule belongs to the room's
simulation, not to one model: when a lever change re-simulates the run from the start year
(``sim/viz/state.py``), the rebuilt model gets the same schedule and replays every action at
its month, so role decisions survive lever changes and are deterministic. The mechanism draws
no random numbers; without players it is not attached at all (headless runs are unchanged).

Actions (``Action.kind``):

play      a player takes firm ``target``: the rule no longer decides it (``Engine.set_played``)
release   the rule decides firm ``target`` again
energy    the player's own company: firm ``target``'s energy use before measures becomes
          ``payload`` (MWh/yr by carrier, ``sim.params.CARRIERS``; ``Engine.replace_firm_energy``)
adopt     firm ``target`` adopts the measures ``payload`` (catalogue indices) with the month's
          firm decisions (``Engine.adopt``: the same offers, budgets, funds and skills as the
          rule's candidates; the economics test is the player's). Outcomes: ``decision.CHOICE_OUTCOMES``
promote   association ``target`` promotes the measures ``payload`` to its members: each member
          it applies to learns of them (``Engine.inform``, source ``association_player``)
budget    the government allocates the programme money not yet spent among the instruments
          with a budget, by the shares ``payload`` ((name, share), ...): see :func:`allocation`

Costs. A promotion is the association's own activity (a member mailing and a session), paid
from members' dues: it is booked as a contribution in kind by a non-public partner
(``Engine.report_spending`` kind ``in_kind``), at ``promotion_cost_usd`` each, as the
workshops count ``cost_per_workshop_usd`` per workshop held. The government's allocation
moves money between instruments and costs nothing itself.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from . import Mechanism, register

#: the instruments the government player allocates money among (those with a Budget)
ALLOCATABLE = ("capex_subsidy", "cost_share", "green_loan", "training", "workshops")
KINDS = ("play", "release", "energy", "adopt", "promote", "budget")
SOURCES = {"adopt": "firm_player", "promote": "association_player"}


@dataclass(frozen=True)
class Action:
    """One role action, due in month ``month`` (0 = January of the start year)."""
    month: int
    kind: str
    target: int  # firm index (play, release, energy, adopt), association index (promote), -1 (budget)
    payload: tuple = ()
    member: str = ""  # the room member who took it (for the room's log)


class Schedule:
    """Role actions in the order they were taken, shared by a live model and the models
    rebuilt from it (appended under the simulation's lock; read by the model stepping)."""

    def __init__(self, actions=()):
        self._lock = threading.Lock()
        self.actions: list[Action] = list(actions)

    def add(self, action: Action) -> None:
        if action.kind not in KINDS:
            raise ValueError(f"{action.kind}: not a role action; actions: {', '.join(KINDS)}")
        with self._lock:
            self.actions.append(action)

    def due(self, month: int) -> list[Action]:
        with self._lock:
            return [a for a in self.actions if a.month == month]

    def __len__(self) -> int:
        return len(self.actions)

    def played(self) -> dict[int, Action]:
        """The firms played at the end of the schedule: firm -> its ``play`` action."""
        out: dict[int, Action] = {}
        with self._lock:
            for a in self.actions:
                if a.kind == "play":
                    out[a.target] = a
                elif a.kind == "release":
                    out.pop(a.target, None)
        return out

    def standing(self) -> "Schedule":
        """What holds at the start of a new run of the same firms (a reset): the firms played
        now and their own-company energy, from month 0; decisions are not carried over."""
        played = self.played()
        with self._lock:
            energy = {a.target: a for a in self.actions if a.kind == "energy" and a.target in played}
        return Schedule([Action(0, a.kind, a.target, a.payload, a.member)
                         for a in list(played.values()) + list(energy.values())])


class _Ledger:
    def __init__(self):
        self.spent_usd = 0.0


def allocation(budgets: dict, shares: dict[str, float]) -> dict[str, float]:
    """New budgets (USD) of the instruments ``shares`` names: the public money of their
    budgets not yet spent is divided by the shares (normalised over the instruments that are
    enabled, with a finite budget and a public cost); what each has spent stays spent. Money
    is counted as public money: a credit line's budget at the grant equivalent of its
    concession (``public_cost_share``), so moving money into or out of green loans keeps the
    public total. ``budgets``: ``Engine.budgets()``."""
    pool = {n: b for n, b in budgets.items() if n in shares and n in ALLOCATABLE and b.enabled
            and np.isfinite(b.budget_usd) and b.public_cost_share > 0}
    weight = sum(max(float(shares[n]), 0.0) for n in pool)
    if not pool or weight <= 0:
        return {}
    total = sum(b.budget_usd * b.public_cost_share for b in pool.values())
    spent = sum(b.spent_usd * b.public_cost_share for b in pool.values())
    left = max(total - spent, 0.0)
    return {n: (b.spent_usd * b.public_cost_share + left * max(float(shares[n]), 0.0) / weight) / b.public_cost_share
            for n, b in pool.items()}


@register("players")
class Players(Mechanism):
    """Applies a workshop's role actions (module docstring) month by month."""

    @dataclass
    class Params:
        #: USD an association spends on one promotion to its members (staff time for a member
        #: mailing and a short session); free parameter, range 0-10,000 USD: no programme
        #: reports it. Booked in kind (the association's money, not public)
        promotion_cost_usd: float = 2000.0
        #: measures one promotion may name (a focused campaign); free parameter, range 1-5
        max_measures_per_promotion: int = 3
        #: promotions an association may make per year; free parameter, range 1-4
        promotions_per_yr: int = 1

    def __init__(self, engine, params, schedule: Schedule | None = None):
        super().__init__(engine, params)
        self.schedule = schedule if schedule is not None else Schedule()
        self.promotions = _Ledger()
        engine.report_spending("association_promotions", self.promotions, kind="in_kind")
        engine.subscribe("choice", self._on_choice)
        #: what became of each action: (month, action, outcome dict), in order
        self.records: list[tuple[int, Action, dict]] = []
        self._pending_adopt: dict[int, list[int]] = {}

    def cluster_activities(self, engine) -> None:
        for a in self.schedule.due(engine.month):
            getattr(self, "_" + a.kind)(engine, a)

    # the actions ------------------------------------------------------------------------
    def _play(self, engine, a: Action) -> None:
        engine.set_played([a.target], True)
        self.records.append((engine.month, a, {}))

    def _release(self, engine, a: Action) -> None:
        engine.set_played([a.target], False)
        self.records.append((engine.month, a, {}))

    def _energy(self, engine, a: Action) -> None:
        before = float(engine.scope1_rate[a.target] + engine.scope2_rate[a.target])
        engine.replace_firm_energy(a.target, np.asarray(a.payload, float))
        after = float(engine.scope1_rate[a.target] + engine.scope2_rate[a.target])
        self.records.append((engine.month, a, {"emissions_before_t_per_yr": before, "emissions_t_per_yr": after}))

    def _adopt(self, engine, a: Action) -> None:
        ks = [int(k) for k in a.payload]
        engine.adopt([a.target] * len(ks), ks, source=SOURCES["adopt"])
        self.records.append((engine.month, a, {"outcomes": None}))
        self._pending_adopt[len(self.records) - 1] = ks

    def _on_choice(self, month, firms, measures, outcomes, source) -> None:
        if source != SOURCES["adopt"]:
            return
        for i, ks in list(self._pending_adopt.items()):
            m, a, out = self.records[i]
            if m != month:
                continue
            sel = firms == a.target
            got = dict(zip(measures[sel].tolist(), outcomes[sel].tolist()))
            if all(k in got for k in ks):
                out["outcomes"] = tuple(got[k] for k in ks)
                del self._pending_adopt[i]

    def _promote(self, engine, a: Action) -> None:
        members = engine.clusters[a.target].members
        learn = np.zeros(engine.catalogue.k, bool)
        learn[list(a.payload)] = True
        new = engine.inform(members, learn[None, :], source=SOURCES["promote"]) if len(members) else np.zeros((0, 0), bool)
        self.promotions.spent_usd += self.params.promotion_cost_usd
        self.records.append((engine.month, a, {"members": int(len(members)),
                                               "firms_informed": int(new.any(axis=1).sum()) if new.size else 0,
                                               "pairs_informed": int(new.sum())}))

    def _budget(self, engine, a: Action) -> None:
        new = allocation(engine.budgets(), dict(a.payload))
        for name, usd in new.items():
            engine.set_budget(name, usd)
        self.records.append((engine.month, a, {"budgets_usd": {n: float(v) for n, v in new.items()}}))

    # reporters ----------------------------------------------------------------------------
    def promotions_in_year(self, association: int, year_start_month: int) -> int:
        """Promotions association ``association`` made from month ``year_start_month`` on."""
        return sum(1 for m, a, _ in self.records if a.kind == "promote" and a.target == association
                   and m >= year_start_month)

    def summary(self, engine) -> dict:
        counts = {k: sum(1 for _, a, _ in self.records if a.kind == k) for k in KINDS}
        return {"actions": counts, "promotion_cost_usd": self.promotions.spent_usd,
                "player_adoptions": int(sum(len(f) for _, f, _, _ in engine.player_adoptions))}


def attach(engine, schedule: Schedule, params: Players.Params | None = None) -> Players:
    """The players of ``schedule`` join a built run (before its first step for a replay)."""
    p = Players(engine, params or Players.Params(), schedule)
    engine.add_mechanism(p)
    return p
