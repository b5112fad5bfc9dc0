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
    """A room action that is not allowed; ``str()`` says why."""


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
    kind: str  # "levers", "restart", "reset"
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
