"""A live simulation the app shows: one ClusterModel, its settings, a player and a render cache.

Each browser session outside a room owns one :class:`Simulation`; a workshop room owns one
shared by everyone in it (``rooms.py``). Nothing here is module-level model state: the only
module-level object is a lock, because Hydra's compose API uses a process-wide singleton.

Threads: the Solara server runs each session's callbacks in its own thread, and a playing
simulation steps in a background thread. Every read or change of the model goes through
``Simulation.lock``; ``version`` increases with every change, so viewers know when to redraw.
Changes that replace the model (apply levers, reset, restart) also hold ``Simulation.changing``,
one at a time, and build the new model outside ``lock`` so steps and viewers are not held up;
a lever change catches up with every step taken meanwhile before it is installed, so no step is
lost and the step counter never goes back (only a reset or a restart returns to month 0).

"What if from here": the live run keeps its state at the start of each year (``YearStates``:
pickled, within ``YEAR_STATES_BUDGET_BYTES``). A lever change that only adds
instruments starting in a later year (a carbon price or a cost-share programme with a start
year, switched on under the levers of the run) continues the kept state of the latest year
allowed (``sim/snapshot.py``'s fork rule, and no role action before it that the new
instrument would have changed) instead of simulating again from the start year: the result is
the re-simulation's, table for table (``tests/test_fork_app.py``). Any other change re-simulates.
"""
from __future__ import annotations

import copy
import io
import logging
import pickle
import threading
import time
from collections import OrderedDict

import numpy as np

from ..compose import BadInput, load
from ..mechanisms.players import Action, Schedule, attach
from ..params import Config
from .levers import Settings, lever_values, policies, scenarios

#: Hydra's compose uses a global singleton: one composition at a time in this process
_COMPOSE_LOCK = threading.Lock()
_CONFIG_CACHE: "OrderedDict[tuple, Config]" = OrderedDict()
_CONFIG_CACHE_SIZE = 64
#: a playing simulation nobody has looked at for this long stops (closed tabs)
IDLE_STOP_S = 60.0
#: the largest population the app builds (memory and redraw of one session); larger runs: python -m sim.run
MAX_APP_FIRMS = 200_000
MAX_SPEED_STEPS_PER_S = 60.0
#: a lever change re-simulates outside the lock while the run goes on; once it is this close to
#: the current month (or no longer gaining on it, or after ``_CATCH_UP_ROUNDS`` rounds) it takes
#: the last steps under the lock
_CATCH_UP_UNDER_LOCK = 4
_CATCH_UP_ROUNDS = 8
#: memory the kept year-start states of one simulation may take (a room: one simulation); the
#: oldest go first. A state (the model pickled) is ~1.5 MB at 1,000 firms, ~10 MB at 10,000 and
#: ~22 MB at 32,174 (docs/fork.md). A choice of this app (free parameter), not data
YEAR_STATES_BUDGET_BYTES = 64 * 2**20

log = logging.getLogger("sim.viz")


def default_settings() -> Settings:
    sc = scenarios()
    pol = policies()
    return Settings(
        scenario="mx_cluster" if "mx_cluster" in sc else (sc[0] if sc else "mx_cluster"),
        policy="incentive_package" if "incentive_package" in pol else (pol[0] if pol else "none"),
    )


def build_config(settings: Settings) -> Config:
    """Compose and check the config of ``settings`` (raises :class:`BadInput`)."""
    key = tuple(settings.overrides())
    with _COMPOSE_LOCK:
        cached = _CONFIG_CACHE.get(key)
        if cached is not None:
            _CONFIG_CACHE.move_to_end(key)
            return copy.deepcopy(cached)
        cfg = load(list(key))
        _CONFIG_CACHE[key] = cfg
        if len(_CONFIG_CACHE) > _CONFIG_CACHE_SIZE:
            _CONFIG_CACHE.popitem(last=False)
        return copy.deepcopy(cfg)


_MODEL_LOCK = threading.Lock()
_PRISTINE: "OrderedDict[tuple, object]" = OrderedDict()
_PRISTINE_SIZE = 4


def fresh_model(settings: Settings, cfg: Config):
    """A new ClusterModel of ``settings`` at its first month, owned by the caller.

    Every page opens with the default settings, so a workshop of twenty arriving at once
    would build the same model twenty times. The first build is kept, never stepped, as a
    template, and each caller gets its own deep copy (identical to a fresh build, RNG state
    included, and ~7x faster). No caller ever holds the template itself."""
    from ..model import ClusterModel

    key = tuple(settings.overrides())
    with _MODEL_LOCK:
        template = _PRISTINE.get(key)
        if template is None:
            template = ClusterModel(cfg)
            _PRISTINE[key] = template
            if len(_PRISTINE) > _PRISTINE_SIZE:
                _PRISTINE.popitem(last=False)
        else:
            _PRISTINE.move_to_end(key)
        return copy.deepcopy(template)


_FIRST_FRAMES: "OrderedDict[tuple, bytes]" = OrderedDict()
_FIRST_FRAMES_LOCK = threading.Lock()


def _first_frame(sim: "Simulation", key: tuple) -> bytes:
    """The pictures of a run that has not started are the same for every page with the same
    settings: drawn once and reused, so twenty pages opening at once cost one drawing."""
    fkey = (tuple(sim.settings.overrides()),) + key
    with _FIRST_FRAMES_LOCK:
        png = _FIRST_FRAMES.get(fkey)
        if png is None:
            from . import charts, network_view

            kind, lang, opts = key
            with sim.lock:
                png = (network_view.render(sim, lang, **dict(opts)) if kind == "network"
                       else charts.render(sim, kind, lang, **dict(opts)))
            _FIRST_FRAMES[fkey] = png
            if len(_FIRST_FRAMES) > 256:
                _FIRST_FRAMES.popitem(last=False)
        return png


def _advance_to(model, steps_done: int, on_year=None) -> None:
    """Step ``model`` until ``steps_done`` months are simulated (or its run ends);
    ``on_year(model)`` after each December."""
    while model.running and model.month + 1 < steps_done:
        model.step()
        if on_year is not None and model.month % 12 == 11:
            on_year(model)


class _Pickler(pickle.Pickler):
    """Pickles a live model without its players' schedule (a reference to the simulation's)."""

    def __init__(self, file, schedule):
        super().__init__(file, protocol=5)
        self.schedule = schedule

    def persistent_id(self, obj):
        return "schedule" if obj is self.schedule else None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, schedule):
        super().__init__(file)
        self.schedule = schedule

    def persistent_load(self, pid):
        return self.schedule


class YearStates:
    """States of one run at the start of its years: year -> (its config, the model pickled;
    the role schedule left out, it is the simulation's). Within ``budget``
    bytes, the oldest dropped first; a run whose one state exceeds the budget keeps none."""

    def __init__(self, budget_bytes: int, kept=()):
        self.budget = budget_bytes
        self.states: "OrderedDict[int, tuple]" = OrderedDict(kept)
        self.too_big = False

    @property
    def nbytes(self) -> int:
        return sum(len(b) for _, b in self.states.values())

    def keep(self, model, cfg, schedule) -> None:
        """Keep ``model``'s state (just after a December: the start of the next year)."""
        if self.too_big or self.budget <= 0 or not model.running or model.month % 12 != 11:
            return
        buf = io.BytesIO()
        _Pickler(buf, schedule).dump(model)
        blob = buf.getvalue()  # not compressed: zlib would triple the time of the year's last step
        if len(blob) > self.budget:
            self.too_big = True
            return
        self.states[model.start_year + (model.month + 1) // 12] = (cfg, blob)
        while self.nbytes > self.budget:
            self.states.popitem(last=False)

    @staticmethod
    def restore(blob: bytes, schedule):
        """The model of a kept state, with ``schedule`` as its players' schedule."""
        return _Unpickler(io.BytesIO(blob), schedule).load()

    def fork_point(self, cfg, schedule, months_done: int):
        """(year, config, state) of the latest kept year from which a run of ``cfg`` continues
        the kept history exactly, or None: ``sim.snapshot``'s fork rule against the state's
        config, and no role action in that history that the instruments added could have
        changed (:func:`roles_allow_fork`)."""
        from ..snapshot import fork_plan, latest_fork_year, snapshot_month

        for year, (old, blob) in reversed(self.states.items()):
            latest = latest_fork_year(old, cfg)
            month = snapshot_month(old.start_year, year)
            if latest is None or year > latest or month >= months_done:
                continue
            if roles_allow_fork(schedule, fork_plan(old, cfg)[0], month):
                return year, old, blob
        return None


def roles_allow_fork(schedule: Schedule, changed: list[str], last_month: int) -> bool:
    """Whether the role actions of months up to ``last_month`` act the same with the
    instruments ``changed`` added later: the government's allocation (``budget``) shares the
    unspent money among the enabled instruments with a budget, so an allocation before the
    fork year would have given an added cost-share programme money (and taken it from the
    others); the other actions do not read the instruments a fork may add (a firm player's
    choice goes through the grant channels, which a programme offers nothing from before it
    starts, and a carbon price before its start year is 0)."""
    from ..mechanisms.players import ALLOCATABLE

    if not set(changed) & set(ALLOCATABLE):
        return True
    return not any(a.kind == "budget" and a.month <= last_month for a in schedule.actions)


class Simulation:
    """One live model and what the app needs around it.

    ``steps_done`` is the number of months simulated (0 before the first step).
    """

    def __init__(self, settings: Settings | None = None, year_states_budget_bytes: int = YEAR_STATES_BUDGET_BYTES):
        self.lock = threading.RLock()
        #: held by a change that replaces the model (apply levers, reset, restart), outside ``lock``
        self.changing = threading.RLock()
        self.version = 0
        self.settings = settings or default_settings()
        self.previous: tuple[np.ndarray, np.ndarray] | None = None  # (x years, kt CO2/yr) of the last settings
        self.playing = False
        self.speed_steps_per_s = 5.0
        self.step_seconds = 0.0  # wall time of the last step
        self._player: threading.Thread | None = None
        self.last_seen = time.monotonic()
        self._renders: dict = {}
        self._render_version = -1
        self.extras: dict = {}  # per-model caches of the views (network layout), cleared on rebuild
        #: a workshop's role actions (``sim/mechanisms/players.py``): replayed by every model
        #: rebuilt from this one (a lever change), so role decisions survive it
        self.schedule = Schedule()
        #: the live run's states at the start of its years ("what if from here" lever changes)
        self.years = YearStates(year_states_budget_bytes)
        #: how the last lever change was made: {"forked_from": year or None, "seconds": wall time}
        self.last_apply: dict = {}
        self.cfg, self.model = self._build(self.settings)
        self._with_players(self.model, self.schedule)

    # construction ------------------------------------------------------------------
    @staticmethod
    def _build(settings: Settings):
        cfg = build_config(settings)
        return cfg, fresh_model(settings, cfg)

    def _with_players(self, model, schedule: Schedule):
        """``model`` with the players of ``schedule`` attached (idle while it is empty: the
        mechanism draws nothing and acts only on due actions)."""
        attach(model.engine, schedule)
        return model

    def add_role_action(self, kind: str, target: int, payload: tuple = (), member: str = "") -> Action:
        """A role action, due at the next step (month = months simulated now). Raises
        ValueError once the run is over."""
        with self.lock:
            if not self.model.running:
                raise ValueError("the run is over")
            action = Action(self.steps_done, kind, int(target), tuple(payload), member)
            self.schedule.add(action)
            self.version += 1
            return action

    def _install(self, settings: Settings, cfg, model, keep_previous: bool, years: YearStates | None = None) -> None:
        if keep_previous and self.steps_done > 0:
            self.previous = self.emissions_series()
        elif not keep_previous:
            self.previous = None
            self.last_apply = {}
        self.settings, self.cfg, self.model = settings, cfg, model
        self.years = years if years is not None else YearStates(self.years.budget)
        self.extras = {}
        self.version += 1

    @property
    def steps_done(self) -> int:
        return self.model.month + 1

    @property
    def total_steps(self) -> int:
        return self.model.n_months

    @property
    def finished(self) -> bool:
        return not self.model.running

    def lever_values(self) -> dict[str, object]:
        return lever_values(self.cfg)

    # changes -------------------------------------------------------------------------
    def step(self, n: int = 1) -> int:
        """Advance ``n`` months (fewer at the end of the run); returns the months advanced."""
        done = 0
        with self.lock:
            for _ in range(n):
                if not self.model.running:
                    break
                t0 = time.perf_counter()
                self.model.step()
                self.step_seconds = time.perf_counter() - t0
                self.years.keep(self.model, self.cfg, self.schedule)
                done += 1
            if done:
                self.version += 1
            if not self.model.running:
                self.playing = False
        return done

    def reset(self) -> None:
        """Start the same settings again from the first month. Firms played keep their players
        (and own-company energy) from month 0; the players' decisions are not carried over."""
        with self.changing:
            settings = self.settings
            cfg, model = self._build(settings)
            with self.lock:
                self.schedule = self.schedule.standing()
                self._with_players(model, self.schedule)
                self.playing = False
                self._install(settings, cfg, model, keep_previous=False)

    def restart(self, scenario: str, policy: str, seed: int, n_firms: int | None) -> None:
        """New scenario, policy package, seed or firm count: a new run from the first month.
        Lever changes are kept when the scenario and the package stay the same."""
        if n_firms is not None and not 1 <= int(n_firms) <= MAX_APP_FIRMS:
            raise BadInput(f"n_firms = {int(n_firms)}: the app runs 1 to {MAX_APP_FIRMS:,} firms "
                                "(larger populations: python -m sim.run)")
        with self.changing:
            s = self.settings
            keep = scenario == s.scenario and policy == s.policy
            new = Settings(scenario=scenario, policy=policy, seed=int(seed),
                           n_firms=None if n_firms is None else int(n_firms), levers=s.levers if keep else ())
            cfg, model = self._build(new)
            with self.lock:
                self.schedule = Schedule()  # other firms: the room releases firm and association roles
                self._with_players(model, self.schedule)
                self.playing = False
                self._install(new, cfg, model, keep_previous=False)

    def apply_levers(self, changes: dict[str, object]) -> None:
        """Apply lever changes: the run is simulated again from the start year up to the
        current month with the new levers (the policy holds over the whole run); the previous
        run's emissions are kept for comparison. When the new levers only add instruments
        that start in a later year, the run continues from its kept state at the start of the
        latest year allowed instead (:meth:`YearStates.fork_point`; the same result).

        The run may go on meanwhile (the player, a facilitator's steps): the new model is
        stepped outside the lock towards the current month until it is close, then the last
        months are taken under the lock and it is installed at exactly the month the run had
        reached. No step is lost and the step counter never goes back. Lever changes, resets
        and restarts happen one at a time (none is lost or undone by another)."""
        from ..snapshot import fork

        with self.changing:
            t0 = time.perf_counter()
            with self.lock:
                new = self.settings.with_levers(changes)
                kept, schedule, months_done = YearStates(self.years.budget, self.years.states), self.schedule, self.steps_done
            cfg = build_config(new)
            point = kept.fork_point(cfg, schedule, months_done)
            if point is not None:  # continue the shared history (the schedule: the simulation's, replayed on)
                year, old, blob = point
                model = fork(YearStates.restore(blob, schedule), {"snapshot_year": year, "policy": old.policy.name}, cfg)
                years = YearStates(kept.budget, [(y, v) for y, v in kept.states.items() if y <= year])
            else:
                model = fresh_model(new, cfg)
                with self.lock:  # the same schedule: actions taken while it catches up are replayed too
                    self._with_players(model, self.schedule)
                years = YearStates(kept.budget)
            keep = lambda m: years.keep(m, cfg, schedule)  # noqa: E731
            gap_before = None
            for _ in range(_CATCH_UP_ROUNDS):
                with self.lock:
                    target = self.steps_done
                gap = target - (model.month + 1)
                if gap <= _CATCH_UP_UNDER_LOCK or (gap_before is not None and gap >= gap_before):
                    break  # close enough, or the run steps as fast as we catch up
                _advance_to(model, target, keep)
                gap_before = gap
            with self.lock:
                _advance_to(model, self.steps_done, keep)
                self.last_apply = {"forked_from": None if point is None else point[0], "seconds": time.perf_counter() - t0}
                self._install(new, cfg, model, keep_previous=True, years=years)
                if not self.model.running:
                    self.playing = False
            log.info("levers applied in %.2f s (%s)", self.last_apply["seconds"],
                     "re-simulated from the start year" if point is None else f"continued from the start of {point[0]}")

    # play ------------------------------------------------------------------------------
    def play(self, speed_steps_per_s: float | None = None) -> None:
        with self.lock:
            if speed_steps_per_s is not None:
                self.set_speed(speed_steps_per_s)
            if not self.model.running:
                return
            self.playing = True
            self.last_seen = time.monotonic()
            self.version += 1
            if self._player is None or not self._player.is_alive():
                self._player = threading.Thread(target=self._play_loop, name="sim-player", daemon=True)
                self._player.start()

    def pause(self) -> None:
        with self.lock:
            if self.playing:
                self.playing = False
                self.version += 1

    def set_speed(self, speed_steps_per_s: float) -> None:
        self.speed_steps_per_s = float(min(max(speed_steps_per_s, 0.2), MAX_SPEED_STEPS_PER_S))

    def touch(self) -> None:
        """A viewer is looking (keeps a playing simulation going)."""
        self.last_seen = time.monotonic()

    def _play_loop(self) -> None:
        next_t = time.perf_counter()
        while True:
            with self.lock:
                if not self.playing:
                    return
                if time.monotonic() - self.last_seen > IDLE_STOP_S:
                    self.playing = False
                    self.version += 1
                    return
            self.step()
            next_t = max(next_t + 1.0 / self.speed_steps_per_s, time.perf_counter() - 0.5)
            time.sleep(max(0.0, next_t - time.perf_counter()))

    # views -----------------------------------------------------------------------------
    def emissions_series(self) -> tuple[np.ndarray, np.ndarray]:
        """(decimal year, kt CO2/yr) of the months simulated so far."""
        m = self.model
        n = m.month + 1
        x = m.start_year + (np.arange(n) + 0.5) / 12.0
        y = m.series["emissions_t_co2"][:n] * 12.0 / 1e3 if n > 0 else np.zeros(0)
        return x, np.asarray(y, dtype=float)

    def render(self, kind: str, lang: str, **opts) -> bytes:
        """PNG of a view (``network``, ``emissions``, ``adoption``, ``spending``), rendered once
        per model version and shared by every viewer (a room's participants, repeated polls)."""
        from . import charts, network_view

        key = (kind, lang, tuple(sorted(opts.items())))
        if self.steps_done == 0 and self.previous is None:
            return _first_frame(self, key)
        with self.lock:
            if self._render_version != self.version:
                self._renders.clear()
                self._render_version = self.version
            png = self._renders.get(key)
            if png is None:
                if kind == "network":
                    png = network_view.render(self, lang, **opts)
                else:
                    png = charts.render(self, kind, lang, **opts)
                self._renders[key] = png
            return png
