"""Applying levers while the run steps (issue 13, "App race"): no step is lost, the step
counter never goes back, and in a workshop room every page ends on the facilitator's step.

No browser: the app's state object is driven from threads the way the Solara server drives
it (a player thread or a facilitator's rapid *Step* clicks, and an *Apply* from another
session's callback thread), while observers poll it the way every page does."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from sim.viz import state
from sim.viz.levers import Settings
from sim.viz.rooms import RoomRegistry
from sim.viz.state import Simulation

SHARE = "policy.capex_subsidy.subsidy_share"
N_STEPS = 40
TIMEOUT_S = 30.0


def small(**kw) -> Settings:
    return Settings(**{**dict(n_firms=300), **kw})


@pytest.fixture(scope="module", autouse=True)
def _warm():
    """The first model of a process compiles and loads (seconds): once, before the races."""
    Simulation(small(policy="none")).step(1)


class Watcher(threading.Thread):
    """A page: polls the simulation and records the step counter whenever the version changes
    (what ``app.use_poll`` does), until stopped; then looks one last time."""

    def __init__(self, sim: Simulation, room=None, member: str | None = None):
        super().__init__(daemon=True)
        self.sim, self.room, self.member = sim, room, member
        self.seen: list[int] = []
        self.stop = threading.Event()

    def look(self, last):
        if self.room is not None:
            self.room.seen(self.member)
        with self.sim.lock:
            cur = (self.sim.version, self.sim.steps_done)
        if cur[0] != last:
            self.seen.append(cur[1])
        return cur[0]

    def run(self):
        last = None
        while not self.stop.is_set():
            last = self.look(last)
            time.sleep(0.001)
        self.look(last)


def _clean_run(settings: Settings, n: int) -> np.ndarray:
    sim = Simulation(settings)
    sim.step(n)
    return sim.emissions_series()[1]


def _apply_until(done: threading.Event, apply, values) -> int:
    """Apply lever values in turn until ``done``; returns how many applies finished."""
    k = 0
    while not done.is_set():
        apply(values[k % len(values)])
        k += 1
    return k


def _assert_non_decreasing(seen: list[int], who: str) -> None:
    back = [(a, b) for a, b in zip(seen, seen[1:]) if b < a]
    assert not back, f"{who}: step counter went back {back[:5]} in {seen}"


@pytest.mark.parametrize("rounds_outside_lock", [None, 0], ids=["catch-up", "all-under-lock"])
def test_apply_while_stepping_loses_no_step_and_never_goes_back(monkeypatch, rounds_outside_lock):
    if rounds_outside_lock is not None:  # the path taken when the run steps as fast as we catch up
        monkeypatch.setattr(state, "_CATCH_UP_ROUNDS", rounds_outside_lock, raising=False)
    sim = Simulation(small(policy="none"))
    sim.step(2)
    watcher = Watcher(sim)
    watcher.start()
    after_each_step: list[int] = []
    stepped = threading.Event()

    def stepper():
        try:
            for _ in range(N_STEPS - 2):
                sim.step()
                with sim.lock:
                    after_each_step.append(sim.steps_done)
                time.sleep(0.01)
        finally:
            stepped.set()

    t = threading.Thread(target=stepper, daemon=True)
    t.start()
    applies = _apply_until(stepped, lambda v: sim.apply_levers({SHARE: v}), [0.55, 0.7, 0.85])
    t.join(TIMEOUT_S)
    watcher.stop.set()
    watcher.join(TIMEOUT_S)

    assert applies >= 1
    _assert_non_decreasing(after_each_step, "stepper")
    _assert_non_decreasing(watcher.seen, "page")
    assert sim.steps_done == N_STEPS, (sim.steps_done, after_each_step)
    assert watcher.seen[-1] == N_STEPS
    # the run shown is the run of the final levers, month for month
    np.testing.assert_array_equal(sim.emissions_series()[1], _clean_run(sim.settings, N_STEPS))


def test_apply_while_playing_never_moves_the_counter_back():
    sim = Simulation(small(policy="none"))
    watcher = Watcher(sim)
    watcher.start()
    sim.play(30.0)
    try:
        for v in (0.5, 0.6, 0.7):
            time.sleep(0.1)
            sim.apply_levers({SHARE: v})
    finally:
        sim.pause()
    time.sleep(0.05)
    watcher.stop.set()
    watcher.join(TIMEOUT_S)
    _assert_non_decreasing(watcher.seen, "page")
    assert watcher.seen[-1] == sim.steps_done > 0
    assert dict(sim.settings.levers) == {SHARE: 0.7}


def test_in_a_room_every_page_ends_on_the_facilitators_step():
    reg = RoomRegistry()
    room = reg.open("fac", Simulation(small(policy="none")))
    members = ["p1", "p2", "p3"]
    for m in members:
        room.join(m)
    proposals = [room.propose(m, {SHARE: v}) for m, v in zip(members, (0.5, 0.65, 0.8))]
    pages = [Watcher(room.sim, room, m) for m in ["fac", *members]]
    for p in pages:
        p.start()

    facilitator_saw: list[int] = []
    stepped = threading.Event()

    def facilitator_steps():
        try:
            for _ in range(N_STEPS):
                room.step("fac")
                with room.sim.lock:
                    facilitator_saw.append(room.sim.steps_done)
                time.sleep(0.005)
        finally:
            stepped.set()

    t = threading.Thread(target=facilitator_steps, daemon=True)
    t.start()
    time.sleep(0.02)
    for p in proposals:  # applied at the same moment as the rapid steps
        room.apply("fac", p.id)
    t.join(TIMEOUT_S)
    for p in pages:
        p.stop.set()
    for p in pages:
        p.join(TIMEOUT_S)

    assert all(p.applied for p in proposals) and not room.open_proposals()
    _assert_non_decreasing(facilitator_saw, "facilitator")
    final = facilitator_saw[-1]
    assert final == N_STEPS == room.sim.steps_done
    for p in pages:
        _assert_non_decreasing(p.seen, p.member)
        assert p.seen[-1] == final, (p.member, p.seen)
    assert dict(room.sim.settings.levers) == {SHARE: 0.8}
    np.testing.assert_array_equal(room.sim.emissions_series()[1], _clean_run(room.sim.settings, N_STEPS))


def test_concurrent_applies_keep_every_lever_and_a_reset_is_not_undone():
    """Two sessions' callbacks applying at once (or an Apply racing a Reset) must not drop a
    lever change or resurrect the run the reset discarded."""
    sim = Simulation(small(policy="none"))
    sim.step(5)
    keys = [SHARE, "policy.workshops.workshops_per_yr"]
    threads = [threading.Thread(target=sim.apply_levers, args=({k: v},), daemon=True)
               for k, v in zip(keys, (0.6, 12))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(TIMEOUT_S)
    assert set(dict(sim.settings.levers)) == set(keys)
    assert sim.steps_done == 5

    applying = threading.Thread(target=sim.apply_levers, args=({SHARE: 0.9},), daemon=True)
    applying.start()
    time.sleep(0.01)
    sim.reset()
    applying.join(TIMEOUT_S)
    # whichever came first, the later one wins: a reset after the apply leaves month 0
    # (and the reset model of the same settings); an apply after the reset re-simulates to 0
    assert sim.steps_done == 0
