"""Workshop rooms: one live simulation shared by a facilitator and participants.

A facilitator opens a room and gets a short code; participants join with it from their own
browser and watch the same :class:`~sim.viz.state.Simulation` (same step, same charts: the
charts are rendered once per step and sent to everyone). The facilitator alone plays,
pauses, resets, changes the scenario and applies proposals; participants propose lever
changes and vote on them.

The registry is server-side and process-wide (it is the meeting place of sessions); every
change to it or to a room holds a lock. Members are identified by an id the app draws per
browser page.
"""
from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

from .levers import lever
from .state import Simulation

#: unambiguous characters (no 0/O, 1/I/L) for codes read aloud or off a projector
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 5
#: a room nobody has looked at for this long is closed
ROOM_IDLE_CLOSE_S = 6 * 3600.0
#: a member who has not polled for this long is no longer counted as connected
MEMBER_STALE_S = 15.0
#: a page polls every 0.1 s; a facilitator silent for this long (closed tab, reload, lost
#: network) is gone: the shared run pauses and participants are told (free parameter, 5-30 s:
#: long enough for a reload, short enough that the run does not play on unattended)
FACILITATOR_AWAY_S = 8.0
#: a room's run plays slower than a solo one: a workshop discusses while it plays (free
#: parameter, 0.5-2 steps/s; the facilitator changes it with the speed slider)
ROOM_SPEED_STEPS_PER_S = 1.0


class RoomError(Exception):
    """A room action that is not allowed; ``str()`` says why (in English). Role errors also
    carry their catalogue ``key`` and ``fields`` (``i18n.t``), shown in the room's language."""

    def __init__(self, message: str, key: str | None = None, **fields):
        super().__init__(message)
        self.key, self.fields = key, fields


def role_error(key: str, **fields) -> RoomError:
    """A RoomError with its text from the catalogue (English) and its key for other languages."""
    from .i18n import t

    return RoomError(t("en", key, **fields), key, **fields)


@dataclass
class Role:
    """What a room member plays: a firm (``target``: its row; ``own``: their own company
    entered on the spot), a cluster association (``target``: its index) or the government."""
    kind: str  # "firm", "association", "government"
    target: int
    name: str
    since_step: int
    own: bool = False


@dataclass
class Proposal:
    """One or several lever changes proposed together (voted and applied as one)."""
    id: int
    changes: tuple[tuple[str, object], ...]  # (lever key, value), sorted by key
    author: str
    votes: set[str] = field(default_factory=set)
    applied: bool = False
    applied_step: int | None = None


@dataclass(frozen=True)
class LogEntry:
    """A change of the shared run: lever changes applied (with the votes they had) or a restart."""
    step: int
    kind: str  # "levers", "restart", "reset", "role_take", "role_release" (changes: kind, target; detail: name)
    changes: tuple[tuple[str, object], ...] = ()
    votes: int = 0
    detail: str = ""
    before: tuple[tuple[str, object], ...] = ()  # the changed levers' values before


class Room:
    def __init__(self, code: str, facilitator: str, sim: Simulation, lang: str = "en"):
        self.code = code
        self.facilitator = facilitator
        #: the facilitator's key: whoever presents it takes the room back (a reload, another device)
        self.token = secrets.token_urlsafe(12)
        self.sim = sim
        self.lang = lang
        self.facilitator_seen = time.monotonic()
        #: the run was paused because the facilitator went away (told to participants)
        self.paused_for_absence = False
        self.log: list[LogEntry] = []
        self.lock = threading.RLock()
        self.members: dict[str, float] = {facilitator: time.monotonic()}
        self.proposals: list[Proposal] = []
        #: who plays what: member -> Role (one role per member; one player per firm and association)
        self.roles: dict[str, Role] = {}
        #: the name each member gave when taking a role (kept after the role ends: the debrief)
        self.player_names: dict[str, str] = {}
        self.version = 0  # changes of members and proposals (the model has its own)
        self.closed = False
        self._next_id = 1

    # membership -----------------------------------------------------------------------
    def is_facilitator(self, member: str) -> bool:
        return member == self.facilitator

    def require_facilitator(self, member: str) -> None:
        if not self.is_facilitator(member):
            raise RoomError("only the facilitator can do this")

    def reclaim(self, member: str, token: str) -> None:
        """``member`` becomes the facilitator if ``token`` is the room's facilitator key."""
        if not secrets.compare_digest(str(token), self.token):
            raise RoomError("this is not the facilitator's link of the room")
        with self.lock:
            if self.closed:
                raise RoomError(f"room {self.code} is closed")
            self.members.pop(self.facilitator, None)  # the page it replaces (reloaded, closed)
            self.facilitator = member
            self.members[member] = self.facilitator_seen = time.monotonic()
            self.paused_for_absence = False
            self.version += 1

    def facilitator_away(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self.lock:
            return now - self.facilitator_seen > FACILITATOR_AWAY_S

    def set_lang(self, member: str, lang: str) -> None:
        self.require_facilitator(member)
        with self.lock:
            self.lang = lang
            self.version += 1

    def join(self, member: str) -> None:
        with self.lock:
            if self.closed:
                raise RoomError(f"room {self.code} is closed")
            self.members[member] = time.monotonic()
            self.version += 1

    def leave(self, member: str) -> None:
        with self.lock:
            if self.members.pop(member, None) is not None:
                self.version += 1

    def seen(self, member: str) -> None:
        """A member polled: it is connected, and the shared simulation is being watched."""
        now = time.monotonic()
        pause = False
        with self.lock:
            if member not in self.members and not self.closed:
                self.version += 1
            self.members[member] = now
            if member == self.facilitator:
                self.facilitator_seen = now
                if self.paused_for_absence:
                    self.paused_for_absence = False
                    self.version += 1
            elif self.facilitator_away(now) and not self.paused_for_absence:
                self.paused_for_absence = pause = True
                self.version += 1
        if pause:
            self.sim.pause()
        self.sim.touch()

    def connected(self) -> int:
        now = time.monotonic()
        with self.lock:
            return sum(1 for t in self.members.values() if now - t < MEMBER_STALE_S)

    def last_activity(self) -> float:
        with self.lock:
            return max(self.members.values(), default=0.0)

    # simulation control (facilitator) ------------------------------------------------------
    def step(self, member: str, n: int = 1) -> int:
        self.require_facilitator(member)
        return self.sim.step(n)

    def play(self, member: str, speed_steps_per_s: float | None = None) -> None:
        self.require_facilitator(member)
        self.sim.play(speed_steps_per_s)

    def pause(self, member: str) -> None:
        self.require_facilitator(member)
        self.sim.pause()

    def set_speed(self, member: str, speed_steps_per_s: float) -> None:
        self.require_facilitator(member)
        self.sim.set_speed(speed_steps_per_s)

    def reset(self, member: str) -> None:
        self.require_facilitator(member)
        self.sim.reset()
        self._log("reset")

    def restart(self, member: str, scenario: str, policy: str, seed: int, n_firms: int | None) -> None:
        self.require_facilitator(member)
        self.sim.restart(scenario, policy, seed, n_firms)
        with self.lock:  # other firms and associations: those roles end (the government stays)
            for m in [m for m, r in self.roles.items() if r.kind != "government"]:
                del self.roles[m]
            self.version += 1
        self._log("restart", detail=" ".join(self.sim.settings.overrides()))

    def apply_levers(self, member: str, changes: dict) -> None:
        self.require_facilitator(member)
        before = self.sim.lever_values()
        self.sim.apply_levers(changes)
        self._log("levers", _sorted_changes(changes), before=before)

    def _log(self, kind: str, changes=(), votes: int = 0, detail: str = "", before: dict | None = None) -> None:
        was = tuple((k, before[k]) for k, _ in changes) if before else ()
        with self.lock:
            self.log.append(LogEntry(self.sim.steps_done, kind, tuple(changes), votes, detail, was))

    # roles (sim/mechanisms/players.py) ------------------------------------------------------
    def role_of(self, member: str) -> Role | None:
        with self.lock:
            return self.roles.get(member)

    def _holder(self, kind: str, target: int) -> str | None:
        return next((m for m, r in self.roles.items() if r.kind == kind and r.target == target), None)

    def _check_can_take(self, member: str, name: str) -> str:
        if self.closed:
            raise RoomError(f"room {self.code} is closed")
        if member in self.roles:
            raise role_error("role_err_has_role")
        if not self.sim.model.running:
            raise role_error("role_err_run_over")
        return name.strip()[:40] or f"#{len(self.roles) + 1}"

    def _schedule(self, kind: str, target: int, payload=(), member: str = ""):
        try:
            return self.sim.add_role_action(kind, target, payload, member)
        except ValueError:
            raise role_error("role_err_run_over") from None

    def take_firm(self, member: str, firm: int, name: str = "") -> Role:
        """``member`` plays model firm ``firm`` from the next step: the rule no longer decides it."""
        with self.sim.lock, self.lock:
            name = self._check_can_take(member, name)
            n = self.sim.model.n_firms
            if not 0 <= int(firm) < n:
                raise role_error("role_err_no_firm", firm=firm, max=n - 1)
            if self._holder("firm", int(firm)) is not None:
                raise role_error("role_err_firm_taken", firm=firm, name=self.roles[self._holder("firm", int(firm))].name)
            self._schedule("play", int(firm), member=member)
            role = self.roles[member] = Role("firm", int(firm), name, self.sim.steps_done)
            self.player_names[member] = name
            self.version += 1
        self._log("role_take", (("kind", "firm"), ("target", int(firm))), detail=name)
        return role

    def take_own_company(self, member: str, sector: str, size_class: str, mwh_by_carrier: dict, name: str = "") -> Role:
        """``member`` enters their own company: it takes the place of the model firm of the same
        sector closest in size (``roles.firm_for_company``), with the energy use entered
        (MWh/yr by carrier) as its use before measures, from the next step."""
        from ..params import CARRIERS, SIZE_CLASSES
        from .roles import firm_for_company

        with self.sim.lock, self.lock:
            name = self._check_can_take(member, name)
            model = self.sim.model
            if sector not in model.sector_names:
                raise role_error("role_err_sector", sector=sector, sectors=", ".join(model.sector_names))
            if size_class not in SIZE_CLASSES:
                raise role_error("role_err_size", size=size_class, sizes=", ".join(SIZE_CLASSES))
            bad = [c for c in mwh_by_carrier if c not in CARRIERS]
            if bad:
                raise role_error("role_err_carrier", carrier=bad[0], carriers=", ".join(CARRIERS))
            try:
                e = [float(mwh_by_carrier.get(c, 0.0) or 0.0) for c in CARRIERS]
            except (TypeError, ValueError):
                raise role_error("role_err_energy") from None
            if any(x != x or x < 0 or x == float("inf") for x in e) or sum(e) <= 0:
                raise role_error("role_err_energy")
            taken = [r.target for r in self.roles.values() if r.kind == "firm"]
            firm = firm_for_company(model, model.sector_names.index(sector), SIZE_CLASSES.index(size_class), e, taken)
            if firm < 0:
                raise role_error("role_err_no_sector_firm", sector=sector)
            self._schedule("play", firm, member=member)
            self._schedule("energy", firm, tuple(e), member=member)
            role = self.roles[member] = Role("firm", firm, name, self.sim.steps_done, own=True)
            self.player_names[member] = name
            self.version += 1
        self._log("role_take", (("kind", "own_company"), ("target", firm)), detail=name)
        return role

    def take_association(self, member: str, association: int, name: str = "") -> Role:
        with self.sim.lock, self.lock:
            name = self._check_can_take(member, name)
            clusters = self.sim.model.clusters
            if not 0 <= int(association) < len(clusters):
                raise role_error("role_err_no_association")
            holder = self._holder("association", int(association))
            if holder is not None:
                raise role_error("role_err_association_taken", name=self.roles[holder].name)
            role = self.roles[member] = Role("association", int(association), name, self.sim.steps_done)
            self.player_names[member] = name
            self.version += 1
        self._log("role_take", (("kind", "association"), ("target", clusters[int(association)].name)), detail=name)
        return role

    def take_government(self, member: str, name: str = "") -> Role:
        from .roles import budget_rows

        with self.sim.lock, self.lock:
            name = self._check_can_take(member, name)
            holder = self._holder("government", -1)
            if holder is not None:
                raise role_error("role_err_government_taken", name=self.roles[holder].name)
            if len(budget_rows(self.sim.model)) < 2:
                raise role_error("role_err_no_budgets")
            role = self.roles[member] = Role("government", -1, name, self.sim.steps_done)
            self.player_names[member] = name
            self.version += 1
        self._log("role_take", (("kind", "government"), ("target", "")), detail=name)
        return role

    def release_role(self, member: str, holder: str) -> None:
        """The role of ``holder`` ends (the holder themself or the facilitator); a released
        firm is decided by the rule again from the next step."""
        if member != holder:
            self.require_facilitator(member)
        with self.sim.lock, self.lock:
            role = self.roles.get(holder)
            if role is None:
                raise role_error("role_err_no_role")
            if role.kind == "firm" and self.sim.model.running:
                self._schedule("release", role.target, member=holder)
            del self.roles[holder]
            self.version += 1
        target = self.sim.model.clusters[role.target].name if role.kind == "association" else role.target
        self._log("role_release", (("kind", role.kind), ("target", target)), detail=role.name)

    def _require_role(self, member: str, kind: str) -> Role:
        role = self.roles.get(member)
        if role is None or role.kind != kind:
            raise role_error("role_err_not_" + kind)
        return role

    def _measure_indices(self, measures) -> list[int]:
        names = self.sim.model.catalogue.names
        out = []
        for m in measures:
            if m not in names:
                raise role_error("role_err_measure", measure=m)
            out.append(names.index(m))
        if not out:
            raise role_error("role_err_no_measures")
        return sorted(set(out))

    def firm_adopt(self, member: str, measures) -> None:
        """The firm player chooses ``measures`` (catalogue names) to adopt at the next step;
        each must be one its firm knows, that applies, is on sale, and that it can pay for
        and implement with the support on offer (``roles.CHOOSABLE``)."""
        from .roles import measure_rows

        with self.sim.lock, self.lock:
            role = self._require_role(member, "firm")
            ks = self._measure_indices(measures)
            model = self.sim.model
            if not model.running:
                raise role_error("role_err_run_over")
            rows = {r["measure"]: r for r in measure_rows(model, role.target)}
            pending = {k for a in self.sim.schedule.due(self.sim.steps_done) if a.kind == "adopt" and a.target == role.target
                       for k in a.payload}
            for k in ks:
                mname = model.catalogue.names[k]
                r = rows.get(mname)
                label = mname  # (the catalogue name: shown in the page's language, ``roles_panel.error_text``)
                if r is None:
                    raise role_error("role_err_not_open", measure=label)
                if not r["choosable"]:
                    raise role_error("role_err_not_feasible_" + r["blocked"], measure=label)
                if k in pending:
                    raise role_error("role_err_already_chosen", measure=label)
            self._schedule("adopt", role.target, tuple(ks), member=member)
            self.version += 1

    def association_promote(self, member: str, measures) -> None:
        """The association player promotes ``measures`` to its members at the next step (at
        most ``players.Players.Params.max_measures_per_promotion``, ``promotions_per_yr`` a year)."""
        from ..mechanisms.players import Players

        p = Players.Params()
        with self.sim.lock, self.lock:
            role = self._require_role(member, "association")
            ks = self._measure_indices(measures)
            if len(ks) > p.max_measures_per_promotion:
                n = p.max_measures_per_promotion
                raise role_error("role_err_too_many_one" if n == 1 else "role_err_too_many_other", n=n)
            model = self.sim.model
            applies = model.firms.applicable[model.clusters[role.target].members].any(axis=0)
            for k in ks:
                if not applies[k]:
                    raise role_error("role_err_not_for_members", measure=model.catalogue.names[k])
            month = self.sim.steps_done
            year_start = month - month % 12
            done = sum(1 for a in self.sim.schedule.actions if a.kind == "promote" and a.target == role.target
                       and year_start <= a.month < year_start + 12)
            if done >= p.promotions_per_yr:
                raise role_error("role_err_promoted", year=model.start_year + month // 12,
                                 next=model.start_year + month // 12 + 1)
            self._schedule("promote", role.target, tuple(ks), member=member)
            self.version += 1

    def government_allocate(self, member: str, shares: dict) -> None:
        """The government player divides the programme money not yet spent among the
        instruments by ``shares`` (name -> share >= 0, any scale) from the next step
        (``players.allocation``)."""
        from .roles import budget_rows

        with self.sim.lock, self.lock:
            self._require_role(member, "government")
            names = [r["name"] for r in budget_rows(self.sim.model)]
            clean = {}
            for k, v in dict(shares).items():
                if k not in names:
                    raise role_error("role_err_instrument", instrument=k, instruments=", ".join(names))
                try:
                    x = float(v)
                except (TypeError, ValueError):
                    raise role_error("role_err_share", instrument=k) from None
                if not x >= 0 or x == float("inf"):
                    raise role_error("role_err_share", instrument=k)
                clean[k] = x
            if sum(clean.values()) <= 0:
                raise role_error("role_err_shares_zero")
            self._schedule("budget", -1, tuple(sorted(clean.items())), member=member)
            self.version += 1

    # proposals and votes ---------------------------------------------------------------
    def propose(self, member: str, changes: dict) -> Proposal:
        """Propose lever changes ``{key: value}`` together (voted on and applied as one). The
        same open proposal twice is one proposal with one more vote; the author votes for
        their own proposal."""
        if not changes:
            raise RoomError("a proposal changes at least one lever")
        changes = _sorted_changes(changes)  # KeyError names the allowed levers
        with self.lock:
            if self.closed:
                raise RoomError(f"room {self.code} is closed")
            for p in self.proposals:
                if not p.applied and p.changes == changes:
                    p.votes.add(member)
                    self.version += 1
                    return p
            p = Proposal(self._next_id, changes, member, {member})
            self._next_id += 1
            self.proposals.append(p)
            self.version += 1
            return p

    def vote(self, member: str, proposal_id: int, in_favour: bool = True) -> Proposal:
        """Vote for a proposal (``in_favour``) or withdraw one's vote (``in_favour=False``):
        one vote per member and proposal; each is an explicit action, never a toggle."""
        with self.lock:
            p = self._proposal(proposal_id)
            if p.applied:
                raise RoomError(f"proposal {proposal_id} is already applied")
            if in_favour and member not in p.votes:
                p.votes.add(member)
                self.version += 1
            elif not in_favour and member in p.votes:
                p.votes.discard(member)
                self.version += 1
            return p

    def apply(self, member: str, proposal_id: int) -> Proposal:
        """The facilitator applies a proposal to the shared simulation."""
        self.require_facilitator(member)
        with self.lock:
            p = self._proposal(proposal_id)
            if p.applied:
                return p
        before = self.sim.lever_values()
        self.sim.apply_levers(dict(p.changes))
        with self.lock:
            p.applied = True
            p.applied_step = self.sim.steps_done
            self.version += 1
        self._log("levers", p.changes, votes=len(p.votes), before=before)
        return p

    def open_proposals(self) -> list[Proposal]:
        """Proposals not yet applied, most votes first."""
        with self.lock:
            return sorted((p for p in self.proposals if not p.applied), key=lambda p: (-len(p.votes), p.id))

    def _proposal(self, proposal_id: int) -> Proposal:
        for p in self.proposals:
            if p.id == proposal_id:
                return p
        raise RoomError(f"no proposal {proposal_id} in room {self.code}")


class RoomRegistry:
    """The open rooms of this server process, by code."""

    def __init__(self):
        self.lock = threading.Lock()
        self.rooms: dict[str, Room] = {}

    def _new_code(self) -> str:
        while True:
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            if code not in self.rooms:
                return code

    def open(self, facilitator: str, sim: Simulation, lang: str = "en") -> Room:
        """Open a room around ``sim`` (the facilitator's simulation becomes the room's); the
        room plays at the slower room speed until the facilitator changes it."""
        self.prune()
        sim.set_speed(ROOM_SPEED_STEPS_PER_S)
        with self.lock:
            room = Room(self._new_code(), facilitator, sim, lang)
            self.rooms[room.code] = room
            return room

    def get(self, code: str | None) -> Room | None:
        if not code:
            return None
        with self.lock:
            room = self.rooms.get(normalise(code))
        return room if room is not None and not room.closed else None

    def join(self, code: str, member: str) -> Room:
        room = self.get(code)
        if room is None:
            raise RoomError(f"no open room with code {normalise(code)}")
        room.join(member)
        return room

    def close(self, code: str, member: str) -> None:
        room = self.get(code)
        if room is None:
            return
        room.require_facilitator(member)
        room.sim.pause()
        with self.lock:
            room.closed = True
            room.version += 1
            self.rooms.pop(room.code, None)

    def prune(self, idle_s: float = ROOM_IDLE_CLOSE_S) -> int:
        """Close rooms nobody has looked at for ``idle_s`` seconds; returns how many."""
        now = time.monotonic()
        with self.lock:
            stale = [c for c, r in self.rooms.items() if now - r.last_activity() > idle_s]
            for c in stale:
                r = self.rooms.pop(c)
                r.closed = True
                r.sim.pause()
        return len(stale)


def _sorted_changes(changes: dict) -> tuple[tuple[str, object], ...]:
    """Lever changes checked and coerced (KeyError names the levers), sorted by key."""
    return tuple(sorted((k, lever(k).coerce(v)) for k, v in dict(changes).items()))


def normalise(code: str) -> str:
    return "".join(ch for ch in str(code).upper() if ch.isalnum())


#: the rooms of this server process (shared by all sessions by design)
REGISTRY = RoomRegistry()
