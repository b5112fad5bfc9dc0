"""What a mechanism may see and do: the narrow interface between the engine and its plug-ins.

Every mechanism (``sim/mechanisms``: the government's instruments and the scenarios'
programme and finance actors) receives an :class:`Engine` in its hooks. Through it a
mechanism reads the cluster's state as **read-only** arrays and acts only through named
actions that keep the engine's bookkeeping right:

read      the clock (``year``, ``month``, ``setting_up``), the catalogue, sectors,
          associations, the firm table (``firms``: read-only views), this year's prices and
          emission factors, emission rates, adopter counts, the network, the month's review
          group, the decision terms of chosen firms (:meth:`terms`, with the one NPV), the
          measures on sale (``available``), the largest grant on offer (:meth:`max_grant_usd`),
          regions and facts other mechanisms declared (:meth:`regions`, :meth:`fact`)
act       :meth:`inform` (awareness, counters kept), :meth:`relieve` (a barrier's relief
          share), :meth:`raise_capability` (skills), :meth:`extend_credit` and
          :meth:`lower_hurdle_rate` (capital / cost of capital), :meth:`train_consultants`
          (the skills barrier's consultant pool), :meth:`set_carbon_price`,
          :meth:`set_customer_pressure`, :meth:`set_supplier_targets`, :meth:`add_ties`,
          :meth:`add_grants` (a grant channel the decision asks for offers),
          :meth:`report_spending` (money by name and kind: programme, transfer, in-kind),
          :meth:`define_regions`, :meth:`set_energy_zones` (regional prices and grid factors),
          :meth:`declare` (facts for other mechanisms, who never look each other up),
          :meth:`recommend` (an assessment's recommendations by the auditor's rule, recorded
          for the run's ``assessments`` table: ``sim/recommendations.py``)
events    :meth:`subscribe` to ``adoption`` (month, batch), ``expiry`` (month, firms,
          measures, reasons: installations that ended; codes of ``model.EXPIRY_REASONS``),
          ``assessment`` (month, firms,
          source), ``budget_exhausted`` (month, name), ``year_closed`` (year) and ``choice``
          (month, firms, measures, outcomes, source: players' choices and what became of them,
          codes of ``decision.CHOICE_OUTCOMES``)
players   a workshop's role players (``sim/mechanisms/players.py``) join a built run with
          :meth:`add_mechanism`; :meth:`set_played` (the rule no longer decides a firm),
          :meth:`adopt` (a player's choice, decided with the month's firm decisions),
          :meth:`replace_firm_energy` (a participant's own company), :meth:`budgets` and
          :meth:`set_budget` (the government's allocation)

The model owns the arrays; nothing here copies a firm column.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable

import numpy as np

from . import reviews
from .recommendations import RecommendationLog, recommended, simple_payback_yr

#: the events the engine publishes, with their keyword arguments
EVENTS = {
    "adoption": ("month", "batch"),
    "expiry": ("month", "firms", "measures", "reasons"),
    "assessment": ("month", "firms", "source"),
    "budget_exhausted": ("month", "name"),
    "year_closed": ("year",),
    "choice": ("month", "firms", "measures", "outcomes", "source"),
}

#: kinds of money a mechanism reports (:meth:`Engine.report_spending`)
SPENDING_KINDS = ("programme", "transfer", "in_kind")

#: barriers whose relief is a share of the barrier removed (per firm, the largest wins)
RELIEF_COLUMNS = {"hidden_costs": "hidden_cost_relief", "risk": "risk_relief"}


def _read_only(a: np.ndarray) -> np.ndarray:
    v = a.view()
    v.flags.writeable = False
    return v


class ReadOnlyTable:
    """Read-only views of a table's array attributes (``table.sector`` etc.); scalars and
    methods pass through."""

    def __init__(self, table):
        object.__setattr__(self, "_table", table)

    def __getattr__(self, name):
        if name.startswith("__") or name == "_table":  # copies and pickles build the object bare
            raise AttributeError(name)
        value = getattr(self._table, name)
        return _read_only(value) if isinstance(value, np.ndarray) else value

    def __setattr__(self, name, value):
        raise AttributeError(f"{name}: the firm table is read-only for mechanisms; use an Engine action")


class Engine:
    """The engine as its mechanisms see it (one per model)."""

    def __init__(self, model):
        self._m = model
        self._subscribers: dict[str, list[Callable]] = defaultdict(list)
        self._regions: dict[str, tuple[list[str], np.ndarray]] = {}
        self._facts: dict[str, object] = {}
        self.firms = ReadOnlyTable(model.firms)
        #: every assessment's recommendations and whether they were implemented
        self.recommendations = RecommendationLog(model.catalogue.k)
        self.subscribe("adoption", self.recommendations.on_adoption)
        #: players' choices queued for this month's firm decisions: (firms, measures, source)
        self._choices: list[tuple[np.ndarray, np.ndarray, str]] = []
        #: adoptions players decided: (month, firms, measures, source) (the adoptions table's ``decided_by``)
        self.player_adoptions: list[tuple[int, np.ndarray, np.ndarray, str]] = []

    # -- Mesa -----------------------------------------------------------------------------
    @property
    def mesa_model(self):
        """The Mesa model, for Mesa's agent registry only (``mesa.Agent.__init__``)."""
        return self._m

    # -- clock and fixed facts -----------------------------------------------------------
    @property
    def year(self) -> int:
        return self._m.year

    @property
    def month(self) -> int:
        """Months since the start (0 = January of the start year)."""
        return self._m.month

    @property
    def start_year(self) -> int:
        return self._m.start_year

    @property
    def end_year(self) -> int:
        return self._m.end_year

    @property
    def n_months(self) -> int:
        return self._m.n_months

    @property
    def n_firms(self) -> int:
        return self._m.n_firms

    @property
    def setting_up(self) -> bool:
        """True while the engine builds the initial stock (measures in place before the run)."""
        return self._m.setting_up

    @property
    def config(self):
        return self._m.config

    @property
    def behaviour(self):
        return self._m.behaviour

    @property
    def catalogue(self):
        return self._m.catalogue

    @property
    def sector_names(self) -> list[str]:
        return self._m.sector_names

    @property
    def clusters(self):
        """The cluster associations (``name``, ``index``, ``members``)."""
        return self._m.clusters

    @property
    def energy(self):
        """The scenario's price and emission-factor paths (``sim.energy.EnergyPaths``)."""
        return self._m.energy

    def spawn_stream(self, name: str = "") -> np.random.Generator:
        """A mechanism's own child stream. The policy's instruments draw from children of
        the policy stream (policies compared on one seed meet the same firms and draws);
        other mechanisms get a new child of the model's generator."""
        s = self._m.policy_streams.pop(name, None)
        return s if s is not None else self._m.rng.spawn(1)[0]

    # -- this year's economy ---------------------------------------------------------------
    @property
    def price(self) -> np.ndarray:
        """[C] energy prices this year, USD/MWh."""
        return _read_only(self._m.price)

    @property
    def ef(self) -> np.ndarray:
        """[C] emission factors this year, t CO2/MWh."""
        return _read_only(self._m.ef)

    def price_of(self, firms=None) -> np.ndarray:
        """[R, C] this year's energy prices each of ``firms`` (index array; None = all) pays,
        USD/MWh: its energy zone's (:meth:`set_energy_zones`), the scenario's where none."""
        return _read_only(self._m.zone_rows(self._m.price_by_zone, firms))

    def ef_of(self, firms=None) -> np.ndarray:
        """[R, C] this year's emission factors each of ``firms`` (None = all) faces, t CO2/MWh
        (its energy zone's grid factor; the scenario's where no zone)."""
        return _read_only(self._m.zone_rows(self._m.ef_by_zone, firms))

    @property
    def valuation(self):
        """This year's per-measure valuation maps (``sim.decision.Valuation``)."""
        return self._m.val

    @property
    def capex_multiplier(self) -> np.ndarray:
        """[K] this year's catalogue capex trend (technology learning)."""
        return _read_only(self._m.capex_mult)

    @property
    def carbon_price_usd_per_t(self) -> float:
        return self._m.gov.carbon_price_usd_per_t

    # -- state (read-only) ------------------------------------------------------------------
    @property
    def scope1_rate(self) -> np.ndarray:
        """[N] scope-1 emissions at the current state, t CO2/yr."""
        return _read_only(self._m.scope1_rate)

    @property
    def scope2_rate(self) -> np.ndarray:
        return _read_only(self._m.scope2_rate)

    @property
    def total_scope1(self) -> float:
        return self._m.total_scope1

    @property
    def total_scope2(self) -> float:
        return self._m.total_scope2

    @property
    def adopter_count(self) -> np.ndarray:
        return _read_only(self._m.adopter_count)

    @property
    def applicable_count(self) -> np.ndarray:
        return _read_only(self._m.applicable_count)

    @property
    def aware_count(self) -> np.ndarray:
        return _read_only(self._m.aware_count)

    @property
    def adopters_by_sector(self) -> np.ndarray:
        return _read_only(self._m.adopters_by_sector)

    @property
    def energy_total(self) -> np.ndarray:
        return _read_only(self._m.energy_total)

    @property
    def customer_pressure(self) -> np.ndarray:
        return _read_only(self._m.customer_pressure)

    @property
    def network(self):
        """The firm network (``sim.network.FirmNetwork``)."""
        return self._m.network

    @property
    def degree(self) -> np.ndarray:
        return _read_only(self._m.degree)

    @property
    def registry(self):
        return self._m.registry

    @property
    def consultants(self):
        """The trained consultants who relieve the skills barrier (``barriers.skills``)."""
        return self._m.consultants

    def review_group(self) -> np.ndarray:
        """The firms whose investment review falls in this month (sorted)."""
        return reviews.group(self._m.month, self._m.n_firms, self._m.behaviour.review_interval_months)

    @property
    def batch_state_before(self) -> np.ndarray | None:
        """In ``after_adoptions``: [P, C+1] energy by carrier (MWh/yr) and process CO2 (t/yr)
        of each adoption's firm just before the month's adoptions took effect (rows aligned
        with the batch); None in a month without adoptions."""
        return self._m.batch_state_before

    def deciders(self) -> np.ndarray:
        """The firms that may adopt this month (sorted): the review group and the firms whose
        player chose measures for this month (:meth:`adopt`, queued in ``cluster_activities``)."""
        group = self.review_group()
        if not self._choices:
            return group
        return np.union1d(group, np.concatenate([c[0] for c in self._choices]))

    @property
    def played(self) -> np.ndarray:
        """[N] bool: firms a workshop player decides for (:meth:`set_played`)."""
        p = self._m.played
        return _read_only(p if p is not None else np.zeros(self._m.n_firms, bool))

    def state_matrix(self, firms) -> np.ndarray:
        """[R, C+1] energy by carrier (MWh/yr) and process CO2 (t/yr) of ``firms``."""
        return self._m.state_matrix(firms)

    def abatement_t_per_yr(self, firms, measures) -> np.ndarray:
        """Scope 1+2 t CO2/yr each (firm, measure) would avoid if adopted now."""
        return self._m.abatement_t_per_yr(firms, measures)

    def base_capex_usd(self, firms, measures) -> np.ndarray:
        """[R, len(measures)] float32 catalogue capex of ``measures`` for ``firms`` at this
        year's prices, before any mechanism's capex factor."""
        c = self._m.c32
        x = self._m.state32[firms]
        return x @ c.w_basis[:, measures] * c.capex_unit_usd[measures] + c.capex_fixed_usd[measures]

    def terms(self, firms):
        """The decision terms of ``firms`` for every measure (``decision.Terms``; ``npv()``)."""
        from .decision import terms

        return terms(self._m, firms)

    # -- actions ------------------------------------------------------------------------------
    def inform(self, firms, learn=None, source: str = "") -> np.ndarray:
        """Make ``firms`` aware of measures: ``learn`` ([R, K] bool, or [K] for every firm;
        None = every applicable measure); only applicable measures they did not know count.
        Returns the [R, K] pairs that became aware."""
        ft = self._m.firms
        firms = _rows(firms)
        app = ft.applicable[firms]
        new = app & ~ft.aware[firms]
        if learn is not None:
            new &= learn
        ft.aware[firms] = ft.aware[firms] | new
        self._m.aware_count += new.sum(axis=0)
        return new

    def recommend(self, firms, source: str, max_payback_yr: float, measures=None) -> np.ndarray:
        """An assessment of ``firms`` by ``source``: the [R, K] measures it recommends by the
        auditor's rule (applicable, on sale, not in place, simple payback at this month's
        prices and capex <= ``max_payback_yr``; ``sim/recommendations.py``), among
        ``measures`` ([K] bool: the assessment's scope; None = every measure), recorded with
        their paybacks (not while the initial stock is built). The caller informs the firms
        of what it recommends (:meth:`inform`) and publishes the ``assessment`` event."""
        firms = np.atleast_1d(np.asarray(firms, dtype=np.int64))
        tm = self.terms(firms)
        payback = simple_payback_yr(tm.capex, tm.net_value)
        ft = self._m.firms
        rec = recommended(ft.applicable[firms], ft.adopted[firms], self._m.available, payback, max_payback_yr)
        if measures is not None:
            rec &= np.asarray(measures, bool)[None, :]
        if not self.setting_up:
            self.recommendations.add(self.month, firms, rec, payback, source)
        return rec

    def relieve(self, barrier: str, firms, share: float) -> None:
        """Remove ``share`` of a barrier (``hidden_costs`` or ``risk``) for ``firms``; a firm
        keeps the largest relief it was given."""
        col = getattr(self._m.firms, RELIEF_COLUMNS[barrier])
        firms = _rows(firms)
        col[firms] = np.maximum(col[firms], share)

    def raise_capability(self, firms, by: float) -> None:
        """Skills: ``firms`` gain ``by`` of technical capability (capped at 1)."""
        cap = self._m.firms.capability
        cap[firms] = np.minimum(cap[firms] + np.float32(by), np.float32(1.0))

    def extend_credit(self, firms, usd) -> None:
        """Capital: ``firms`` get ``usd`` more credit."""
        self._m.firms.credit_usd[firms] += usd

    def lower_hurdle_rate(self, firms, by_per_yr: float, floor_per_yr: float) -> None:
        """Cost of capital: ``firms``' hurdle rates fall by ``by_per_yr``, not below ``floor_per_yr``."""
        h = self._m.firms.hurdle_rate_per_yr
        h[firms] = np.maximum(h[firms] - np.float32(by_per_yr), np.float32(floor_per_yr))

    def train_consultants(self, n: int, months_left: float, measures=None, active_yr: float = float("inf")) -> None:
        """``n`` newly trained consultants join the skills barrier's pool; they support
        projects for the ``months_left`` twelfths of this year that remain, only for the
        ``measures`` ([K] bool) their course taught (None: every measure), for ``active_yr``
        years."""
        self._m.consultants.add(n, months_left, measures, active_yr)

    def set_carbon_price(self, source: str, usd_per_t: float, covers: np.ndarray) -> None:
        """The carbon price ``source`` puts on the scope-1 CO2 of the firms ``covers`` ([N]
        bool) this year. Prices of several sources add up; a firm is covered if a source
        with a positive price covers it."""
        self._m.gov.set_carbon_price(source, usd_per_t, covers)

    def set_supplier_targets(self, firms_mask: np.ndarray) -> None:
        """These firms ([N] bool) ask their suppliers to cut emissions (customer pressure)."""
        self._m.firms.sets_supplier_target |= firms_mask

    def set_customer_pressure(self, pressure: np.ndarray) -> None:
        """[N] share of each firm's customers that set supplier targets."""
        self._m.customer_pressure = pressure

    # -- a workshop's role players (sim/mechanisms/players.py) ---------------------------------
    def add_mechanism(self, mechanism) -> None:
        """A mechanism joins the built run (a workshop's players, before any of their actions
        is due): it runs first in each phase of every later month."""
        if mechanism not in self._m.mechanisms:
            self._m.mechanisms.insert(0, mechanism)

    def set_played(self, firms, played: bool = True) -> None:
        """``firms`` are decided by a player from now on (``played``), or by the rule again:
        the rule's decision skips them (their awareness still evolves at their reviews)."""
        m = self._m
        if m.played is None:
            if not played:
                return
            m.played = np.zeros(m.n_firms, bool)
        m.played[_rows(firms)] = played

    def adopt(self, firms, measures, source: str) -> None:
        """A player's choice: ``firms`` adopt ``measures`` (pairs) with this month's firm
        decisions (``decision.decide_chosen``: the rule's offers, budgets, funds and skills;
        the economics test is the player's). Call from ``cluster_activities``; what became
        of each pair is published as the ``choice`` event."""
        f, k = np.atleast_1d(np.asarray(firms, np.int64)), np.atleast_1d(np.asarray(measures, np.int64))
        if len(f) != len(k):
            raise ValueError("adopt: one measure per firm entry")
        if len(f):
            self._choices.append((f, k, str(source)))

    def with_choices(self, batch):
        """The month's batch with the players' queued choices decided after the rule's
        (called by the model's firm decisions); clears the queue."""
        from .decision import Batch, decide_chosen

        if not self._choices:
            return batch
        choices, self._choices = self._choices, []
        parts = [batch]
        for source in dict.fromkeys(c[2] for c in choices):  # one decision per source: a firm's funds count once
            f = np.concatenate([c[0] for c in choices if c[2] == source])
            k = np.concatenate([c[1] for c in choices if c[2] == source])
            chosen, outcomes = decide_chosen(self._m, f, k)
            if len(chosen):
                self.player_adoptions.append((self.month, chosen.firm, chosen.measure, source))
                parts.append(chosen)
            self.publish("choice", month=self.month, firms=f, measures=k, outcomes=outcomes, source=source)
        return Batch.concat(parts)

    def replace_firm_energy(self, firm: int, mwh_by_carrier) -> None:
        """A participant's own company takes the place of ``firm``: its energy use before
        measures becomes ``mwh_by_carrier`` ([C] MWh/yr, carriers of ``sim.params.CARRIERS``),
        rebuilt and booked as the model rebuilds a firm's energy (``model.replace_base_energy``)."""
        e = np.asarray(mwh_by_carrier, float)
        if e.shape != (self._m.firms.energy_mwh_per_yr.shape[1],) or not np.all(np.isfinite(e)) or (e < 0).any():
            raise ValueError("replace_firm_energy: one non-negative MWh/yr per carrier")
        self._m.replace_base_energy(int(firm), e)

    def budgets(self) -> dict:
        """The engine's budgeted instruments by name (``agents.SPENDING_ORDER``): objects with
        ``enabled``, ``budget_usd``, ``spent_usd``, ``public_spending_usd`` and
        ``public_cost_share`` (public money per USD of budget used), read-only."""
        from .agents import SPENDING_ORDER

        inst = self._m.gov.budgeted_instruments()
        return {name: _BudgetView(inst[name]) for name in SPENDING_ORDER}

    def set_budget(self, name: str, budget_usd: float) -> None:
        """Instrument ``name``'s budget (USD over the run) becomes ``budget_usd`` from now on,
        never below what it has spent; an instrument whose money had run out opens again if
        the new budget leaves money."""
        from .agents import SPENDING_ORDER

        if name not in SPENDING_ORDER:
            raise KeyError(f"{name}: not a budgeted instrument; budgeted: {', '.join(SPENDING_ORDER)}")
        self._m.gov.budgeted_instruments()[name].set_budget_usd(budget_usd)

    def add_ties(self, network) -> None:
        """Replace the firm network by ``network`` (which holds the old ties and new ones)."""
        self._m.set_network(network)

    def add_grants(self, channel) -> None:
        """Add a grant channel (``sim.mechanisms.budget.GrantInstrument``): the decision asks
        it for offers after the channels added before it."""
        self._m.gov.grant_instruments.append(channel)

    def grant_code(self, channel) -> int:
        """The adoption log's instrument code of ``channel`` (-1: not offering grants)."""
        gi = self._m.gov.grant_instruments
        return gi.index(channel) + 1 if channel in gi else -1

    def report_spending(self, name: str, ledger, kind: str = "programme") -> None:
        """Money spent under ``name``: ``ledger.spent_usd`` is read when reporting. ``kind``
        (``SPENDING_KINDS``): ``programme`` public money for the programme itself (staff,
        events, infrastructure), ``transfer`` public money paid to firms that is not a grant
        on an adoption (e.g. a credit per tonne stored), ``in_kind`` a contribution in kind
        by a non-public partner (not public money: reported apart)."""
        if kind not in SPENDING_KINDS:
            raise ValueError(f"spending {name!r}: kind {kind!r} is not one of {', '.join(SPENDING_KINDS)}")
        self._m.gov.other_spending[name] = ledger
        self._m.gov.spending_kind[name] = kind

    # -- events -------------------------------------------------------------------------------
    def subscribe(self, event: str, fn: Callable) -> None:
        """Call ``fn(**payload)`` whenever the engine publishes ``event`` (see ``EVENTS``)."""
        if event not in EVENTS:
            raise ValueError(f"unknown event {event!r}; events: {', '.join(EVENTS)}")
        self._subscribers[event].append(fn)

    def forget(self, owner) -> None:
        """Drop every subscription of ``owner``'s methods (a mechanism replaced by a fork,
        ``sim/snapshot.py``)."""
        for fns in self._subscribers.values():
            fns[:] = [fn for fn in fns if getattr(fn, "__self__", None) is not owner]

    def publish(self, event: str, **payload) -> None:
        for fn in self._subscribers.get(event, ()):
            fn(**payload)

    # -- shared facts: availability, geography, the most generous grant, cluster facts ----
    @property
    def available(self) -> np.ndarray:
        """[K] bool: measures firms can buy now (the catalogue's first years and every
        mechanism's ``available`` limits, e.g. infrastructure not yet built), as the decision
        sees them this month."""
        return _read_only(self._m.available)

    def define_regions(self, level: str, names, of_firm: np.ndarray) -> None:
        """Declare where the firms are at a geographic ``level`` (e.g. ``"country"``): the
        region ``names`` and ``of_firm`` ([N] int, each firm's index into ``names``). A
        mechanism that models geography (a multi-country alliance) declares it in its
        constructor; any mechanism then reads it with :meth:`regions` (from ``setup`` on),
        without knowing who declared it. A level is one partition: declaring it again with
        other regions is an error."""
        store = self._regions
        names, of_firm = list(names), np.asarray(of_firm, dtype=np.int64)
        if of_firm.shape != (self._m.n_firms,) or (len(of_firm) and not 0 <= of_firm.min() <= of_firm.max() < len(names)):
            raise ValueError(f"regions {level!r}: need one index into the {len(names)} names per firm")
        old = store.get(level)
        if old is not None and (old[0] != names or not np.array_equal(old[1], of_firm)):
            raise ValueError(f"regions {level!r} are already declared, with other regions")
        store[level] = (names, _read_only(of_firm))

    def set_energy_zones(self, names, of_firm: np.ndarray, price_usd_per_mwh: np.ndarray,
                         ef_t_co2_per_mwh: np.ndarray) -> None:
        """Regional energy prices and grid factors: ``of_firm`` ([N] int) each firm's index into
        the zone ``names`` (-1: the scenario's own paths); ``price_usd_per_mwh`` and
        ``ef_t_co2_per_mwh`` [Z, years, C] each zone's paths (year index = year - start
        year). The engine then accounts each firm's emissions with its zone's factors and
        reports them by :meth:`price_of` / :meth:`ef_of`; the zone's difference in a measure's
        value enters the decision through the declaring mechanism's
        ``extra_value_usd_per_yr``. Declares the regions ``"energy_zone"`` (names + "scenario").
        Call it from a mechanism's constructor; only one mechanism may."""
        names = list(names)
        of_firm = np.asarray(of_firm, dtype=np.int64)
        Y = len(self._m.energy.years)
        shape = (len(names), Y, self._m.energy.price_usd_per_mwh.shape[1])
        if np.shape(price_usd_per_mwh) != shape or np.shape(ef_t_co2_per_mwh) != shape:
            raise ValueError(f"energy zones: prices and factors must be [zones, years, carriers] = {shape}")
        self.define_regions("energy_zone", names + ["scenario"], np.where(of_firm < 0, len(names), of_firm))
        self._m.set_energy_zones(of_firm, np.asarray(price_usd_per_mwh, float), np.asarray(ef_t_co2_per_mwh, float))

    def region_levels(self) -> list[str]:
        """The geographic levels some mechanism declared (:meth:`define_regions`)."""
        return list(self._regions)

    def regions(self, level: str) -> tuple[list[str], np.ndarray]:
        """The regions declared at ``level`` (:meth:`define_regions`): (names, [N] read-only
        region index of each firm)."""
        store = self._regions
        if level not in store:
            raise KeyError(f"no mechanism declared regions {level!r}; declared: {', '.join(store) or 'none'}")
        names, of_firm = store[level]
        return list(names), of_firm

    def max_grant_usd(self, capex: np.ndarray) -> np.ndarray:
        """The largest grant any open grant channel could pay on each ``capex`` (USD, [R, K]
        float32): per channel its bound min(share * capex, cap) (share = inf: a fixed grant
        of cap), maxed over the channels; 0 where none is open. An upper bound for a
        mechanism that anticipates the most generous support on offer (e.g. firms weighing
        a commitment to shared infrastructure)."""
        share, cap = self._m.gov.grant_bounds()
        bound = np.zeros(capex.shape, np.float32)
        for s, c in zip(share, cap):
            g = np.where(np.isinf(s), c, np.minimum(np.where(np.isinf(s), 0, s) * capex, c))
            bound = np.maximum(bound, g)
        return bound

    def declare(self, fact: str, value) -> None:
        """State a fact about the cluster that other mechanisms may read with :meth:`fact`
        (e.g. ``infrastructure_coordinated``: the cluster plans shared infrastructure
        jointly). Declare it in ``setup`` (or earlier) so that every mechanism sees it from
        the initial stock on; a later declaration of the same fact replaces it."""
        self._facts[fact] = value

    def fact(self, name: str, default=None):
        """A fact some mechanism declared (:meth:`declare`), or ``default`` if none did."""
        return self._facts.get(name, default)


class _BudgetView:
    """A read-only view of an instrument's money (``Engine.budgets``)."""

    def __init__(self, inst):
        self.enabled = bool(inst.enabled)
        self.budget_usd = float(inst.budget_usd)
        self.spent_usd = float(inst.spent_usd)
        self.public_spending_usd = float(inst.public_spending_usd)
        self.public_cost_share = float(inst.public_cost_share)


def _rows(firms):
    return firms if isinstance(firms, slice) else np.asarray(firms)
