"""ClusterModel: an industrial cluster's firms deciding, month by month, whether to adopt
abatement measures under a policy.

One step is one month. Firm state is columnar (``firms.py``); each phase of ``step`` is one
vectorised computation over all firms (no per-firm Python loop).
"""
from __future__ import annotations

import copy

import mesa
import numpy as np

from . import adoption, decision, firms as firm_table, network as firm_network, reviews
from .agents import Cluster, Firm, Government
from .allocator import map_large_blocks, reuse_month_blocks
from .draws import LifetimeDraws, awareness_key, check_counter_range
from .energy import ELECTRICITY, SCOPE1_CARRIERS, EnergyPaths, output_index
from .measures import Catalogue
from .barriers.skills import ConsultantPool
from .engine import Engine
from .mechanisms import POLICY_INSTRUMENTS, POLICY_LAST, build as build_mechanisms
from .firms import NEVER16
from .parallel import PARALLEL_MIN_FIRMS, in_background, threads_for
from .params import CARRIERS, Config, validate
from .registry import Registry
from .mechanism_keys import population_key, without_mechanisms
from .reporters import scalar_row, vector_rows


#: why an installation left the stock (codes of the expiries table's ``reason`` and the
#: ``expiry`` event's ``reasons``)
EXPIRED, LAPSED = 0, 1
EXPIRY_REASONS = ("end_of_life", "lapsed")
_NO_DRAWS = np.zeros((0, 0), np.float32)
_NO_FIRMS = np.zeros(0, np.int64)


def _run_starts(firm: np.ndarray) -> np.ndarray:
    """[n] bool: True where a run of equal ``firm`` values (sorted pairs) starts."""
    first = np.ones(len(firm), bool)
    np.not_equal(firm[1:], firm[:-1], out=first[1:])
    return first


class ClusterModel(mesa.Model):
    """The cluster transition model.

    Args:
        config: a validated :class:`sim.params.Config` (see ``configs/``); ``config.seed``
            seeds the one Generator everything random derives from.
        lazy_firm_agents: create the ``Firm`` agents (thin views; the monthly computation
            never uses them) on first access of ``firm_agents`` or ``space`` instead of at
            build time. Headless batch runs (``run_model``, sweeps) use it: registering
            32,174 Mesa agents is about half of building the Bajío region.
    """

    def __init__(self, config: Config, lazy_firm_agents: bool = False):
        validate(config)
        self._build_population(config)
        self._build_run(config, lazy_firm_agents)

    @classmethod
    def population(cls, config: Config) -> "ClusterModel":
        """A pristine population template of ``config`` (phase 1 of a build only: no agent, no
        mechanism, no initial stock); :meth:`from_population` makes runs of it
        (``sim/template.py``)."""
        validate(config)
        config = copy.deepcopy(config)  # its own: the caller may edit theirs later
        model = cls.__new__(cls)
        model._build_population(config)
        model.population_key = population_key(config)
        return model

    @classmethod
    def from_population(cls, template: "ClusterModel", config: Config, lazy_firm_agents: bool = False) -> "ClusterModel":
        """The model of ``config`` built on a copy of ``template`` (:meth:`population`): equal,
        table for table, to ``ClusterModel(config)``. ``config`` must differ from the
        template's only in mechanism keys (``sim/template.py``), else ValueError."""
        validate(config)
        if population_key(config) != template.population_key:
            raise ValueError("the config differs from the population template's in a key that is not a mechanism's")
        if template.n_firms >= PARALLEL_MIN_FIRMS:  # (a build again: see sim/allocator.py)
            map_large_blocks()
        model = copy.deepcopy(template)
        model._build_run(config, lazy_firm_agents)
        return model

    def _build_population(self, config: Config) -> None:
        """Phase 1 of a build, everything no mechanism parameter reaches: the generators and
        their child streams, energy paths, output growth, catalogue, firm table, awareness key,
        lifetime streams, network and peer state. It reads the config without its mechanism
        keys (reading one raises: ``sim/template.py``)."""
        cfg = without_mechanisms(config)
        if cfg.n_firms >= PARALLEL_MIN_FIRMS:  # (before its large blocks: see sim/allocator.py)
            map_large_blocks()
        super().__init__(rng=cfg.seed)
        self.config = cfg
        self.behaviour = cfg.behaviour
        r_firms, r_net, r_policy, r_aware = self.rng.spawn(4)  # child streams, one per component
        self._policy_rng = r_policy  # the mechanisms' (phase 2)
        self.sector_names = [s.name for s in cfg.scenario.sectors]
        self.start_year, self.end_year = cfg.start_year, cfg.end_year
        self.n_months = 12 * (cfg.end_year - cfg.start_year + 1)
        self.month = -1  # advanced at the start of each step
        self.year = cfg.start_year
        self.energy = EnergyPaths.from_scenario(cfg.scenario, cfg.start_year, cfg.end_year)
        #: [year, sector] output relative to the start year (energy use scales with it)
        self.output_index = output_index(cfg.scenario, cfg.start_year, cfg.end_year)
        self.catalogue = Catalogue.from_config(cfg.measures, self.sector_names)
        self.shift = self.catalogue.shift_matrix()
        network = self._build_firms(r_firms)
        self.set_energy_zones(np.full(self.n_firms, -1), None, None)  # until a mechanism declares zones
        #: the key of the awareness draws: each (month, firm, measure) has its own number (sim/draws.py)
        self.awareness_key = awareness_key(r_aware)
        check_counter_range(self.n_months, self.n_firms, self.catalogue.k)
        #: vintages of the start-year stock and savings-persistence lapses: children of the
        #: firm stream, so every other stream draws what it drew before lifetimes existed
        self.lifetime_draws = LifetimeDraws(*r_firms.spawn(2))
        self._build_peer_state(network if network is not None else self._build_network(cfg.scenario, self.firms, r_net))

    def _build_run(self, config: Config, lazy_firm_agents: bool) -> None:
        """Phase 2 of a build, on a population (phase 1): the agents and every mechanism of
        ``config``, the bookkeeping, the initial stock and the emissions calibration."""
        self.config = config
        self.behaviour = config.behaviour
        policy_rng = self.__dict__.pop("_policy_rng")
        self._build_agents(policy_rng, lazy_firm_agents)
        self._build_bookkeeping()
        self._initial_stock()
        if self.n_firms >= PARALLEL_MIN_FIRMS:  # (built: the months reuse their blocks, sim/allocator.py)
            reuse_month_blocks()

    def _build_firms(self, rng):
        """The firm table: a user's own firms (CSV) or a synthetic population. Returns the
        user's network (edge list) if given, else None."""
        cfg, sc = self.config, self.config.scenario
        network = None
        if sc.firms_csv:
            from . import loaders

            self.firms = loaders.load_firm_table(cfg, self.catalogue, self.energy, rng)
            if sc.edges_csv:
                network = loaders.load_network(cfg, self.firms.n)
        else:
            self.firms = firm_table.generate(
                sc, self.catalogue, self.energy, cfg.n_firms, rng, cfg.behaviour.review_interval_months)
        self.n_firms = self.firms.n
        return network

    def _build_peer_state(self, network) -> None:
        """The network and what the peer effects read: degrees, neighbours' adopters,
        customer pressure, associations' adopters."""
        ft, K, sc = self.firms, self.catalogue.k, self.config.scenario
        self.mean_field = sc.network.kind == "complete"  # peers = all firms: adopter share of the population
        self.network = network
        self.degree = network.degree.astype(np.float32)
        self.inv_degree = (1.0 / np.maximum(self.degree, 1.0)).astype(np.float32)
        #: [N, K] adopters among each firm's neighbours (counts: 2 bytes each while no firm has
        #: more than 65,535 ties)
        self.neighbour_adopters = np.zeros((ft.n, K), dtype=adoption.count_dtype(self.degree))
        self.customer_pressure = network.customers.share(ft.sets_supplier_target)
        L = len(sc.clusters)
        self.cluster_size = np.bincount(ft.cluster[ft.cluster >= 0], minlength=L).astype(float)
        self.cluster_adopters = np.zeros((L, K))

    def _build_agents(self, policy_rng, lazy_firm_agents: bool) -> None:
        """The Mesa agents: government, associations, firm views, and every mechanism."""
        cfg, ft = self.config, self.firms
        self.registry = Registry(ft.n, self.energy.years)
        self.gov = Government(self, self.registry)
        self.clusters = [Cluster(self, i, c.name, np.flatnonzero(ft.cluster == i)) for i, c in enumerate(cfg.scenario.clusters)]
        self._firm_agents = None if lazy_firm_agents else [Firm(self, i) for i in range(ft.n)]
        self._space = None
        self._graph = None
        self.calibration_factor = 1.0
        #: the skills barrier's pool of trained consultants (``barriers/skills.py``)
        self.consultants = ConsultantPool(cfg.policy.training.projects_per_consultant_per_yr, self.catalogue.k)
        #: the policy instruments' own child streams (``Engine.spawn_stream``)
        self.policy_streams = dict(zip(("workshops", "cost_share"), policy_rng.spawn(2)))
        self.setting_up = True
        self.engine = Engine(self)
        self.mechanisms = build_mechanisms(self.engine, cfg)
        #: the engine's own instruments by name (reporters)
        self.instruments = {m.name: m for m in self.mechanisms if m.name in POLICY_INSTRUMENTS + POLICY_LAST}
        self.assessments_this_month = 0
        self.engine.subscribe("assessment", self._count_assessments)

    def _build_bookkeeping(self) -> None:
        """Running totals the reporters read (so reporting never loops over firms)."""
        ft, K, n = self.firms, self.catalogue.k, self.firms.n
        self.batch_state_before = None  # the month's adopting firms before their adoptions (``apply``)
        self.applicable_count = ft.applicable.sum(axis=0)
        self.aware_count = ft.aware.sum(axis=0).astype(np.int64)
        self.adopter_count = np.zeros(K, dtype=np.int64)
        self.adopters_by_sector = np.zeros((len(self.sector_names), K), dtype=np.int64)
        self.base_energy_total = ft.energy_mwh_per_yr.sum(axis=0)
        self.energy_total = self.base_energy_total.copy()
        self.scope1_rate = np.zeros(n)
        self.scope2_rate = np.zeros(n)
        self.annual_scope1 = np.zeros(n)
        self.annual_scope2 = np.zeros(n)
        self.annual_energy = np.zeros(n)
        self.reporting_sorted = np.sort(ft.reporting_from_month)
        self.total_scope1 = self.total_scope2 = 0.0
        self.adoption_log: list[tuple[int, decision.Batch]] = []
        #: energy-cost saving of each logged adoption at the month's prices, USD/yr (aligned with
        #: ``adoption_log``; first-order, on the firm's state before the month's adoptions)
        self.adoption_saving_log: list[np.ndarray] = []
        #: adoption events so far (start-year stock and replacements included)
        self.adoptions_total = 0
        #: installations that left the stock so far (end of lifetime or lapse)
        self.expiries_total = 0
        #: installations that ended: (month, firm, measure, installed-since month, reason code), arrays per month
        self.expiry_log: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        #: [year, K, C+1, C+1] each year's state change of each measure (an installation keeps
        #: its adoption year's, so a firm's energy can be rebuilt from its base)
        self.state_change_by_year = np.zeros((len(self.energy.years), K, len(CARRIERS) + 1, len(CARRIERS) + 1))
        self.lapsing = np.flatnonzero(self.catalogue.persistence_share_per_yr < 1.0)
        #: [K] each lapsing measure's column in the month's persistence draws (-1: never lapses), and
        #: [lapsing] the share of installations that survive one review period
        self.lapse_col = np.full(K, -1, np.int64)
        self.lapse_col[self.lapsing] = np.arange(len(self.lapsing))
        self.survive_per_review = self.catalogue.persistence_share_per_yr[self.lapsing] ** (
            self.behaviour.review_interval_months / 12.0)
        self.series = {}
        self._series_blocks: list = []
        self.running = True
        #: [N] bool: firms a workshop player decides for (``Engine.set_played``); None: none
        self.played = None
        self.state32 = np.zeros((n, len(CARRIERS) + 1), dtype=np.float32)
        self._refresh_state32(slice(None))

    def _initial_stock(self) -> None:
        """Measures firms already have in the start year: every firm that knows a measure and
        finds it worth it and affordable at start-year prices, without any grant or loan, has
        adopted it before the run starts (``adopted_month`` = -1). Without this, the first
        review would release a backlog of old, profitable measures and credit it to the first
        year. Mechanisms' ``setup`` runs first (what already holds in the start year: prices,
        infrastructure, credits)."""
        self.month, self.year = 0, self.start_year
        self._open_year(lambda m: m.setup(self.engine))
        self._update_availability()
        chunk = 1 << 16  # bounded memory for large populations
        stock = []
        for lo in range(0, self.n_firms, chunk):
            ids = np.arange(lo, min(lo + chunk, self.n_firms))
            batch = decision.decide(self, ids)
            age = self.lifetime_draws.vintage_age_share((len(ids), self.catalogue.k))  # drawn whatever the stock
            if len(batch):
                self.apply(batch)
                f, k = batch.firm, batch.measure
                self.firms.adopted_month[f, k] = -1
                remaining_yr = self.catalogue.lifetime_yr[k] * (1.0 - age[f - lo, k])
                self._schedule_expiries(f, k, np.ceil(12.0 * remaining_yr - 1e-9).astype(np.int64))
                stock.append((f.astype(np.int32), k.astype(np.int16)))
        #: the installations in place before the run (adopted_month -1), as (firm, measure) arrays
        self.initial_stock = (np.concatenate([s[0] for s in stock]) if stock else np.zeros(0, np.int32),
                              np.concatenate([s[1] for s in stock]) if stock else np.zeros(0, np.int16))
        self.adoption_log.clear()
        self.adoption_saving_log.clear()
        if self.config.scenario.base_year_emissions_t_co2 > 0:
            self._calibrate_emissions(self.config.scenario.base_year_emissions_t_co2)
        self.mandatory_reporters = firm_table.apply_reporting_threshold(  # e.g. RENE's 25 kt
            self.firms, self.scope1_rate + self.scope2_rate, self.config.scenario.registry_threshold_t_co2_per_yr)
        self.reporting_sorted = np.sort(self.firms.reporting_from_month)
        self.setting_up = False
        self.initial_adopters = self.adopter_count.copy()
        # the start-year energy by sector (measures in place): the reference of the energy-cost saving
        # (one bincount per carrier: the sums of np.add.at, in the same order, ~10x faster)
        e, S = self.firms.energy_mwh_per_yr, len(self.sector_names)
        self.start_energy_by_sector = np.stack(
            [np.bincount(self.firms.sector, weights=e[:, c], minlength=S) for c in range(len(CARRIERS))], axis=1)
        self.base_energy_total = self.start_energy_by_sector.sum(axis=0)
        self.energy_total = self.firms.energy_mwh_per_yr.sum(axis=0)
        self.month = -1

    # ------------------------------------------------------------------------------------
    def step(self) -> None:
        """One month (does nothing once the end year is over)."""
        if not self.running:
            return
        self.advance_month()  # the clock; in January: prices, grid factor, output, mechanisms' new year
        self.expire_measures()  # installations at the end of their lifetime (or lapsed) leave the stock
        self.cluster_activities()  # workshops, peer brokerage, information collection
        self.programme_activities()  # pre-assessments, training courses, programme projects
        self.firm_decisions()  # vectorised adoption decision of firms under review
        self.account_emissions()  # energy and emissions by carrier; registry at year end
        self.collect_data()  # monthly reporters
        if self.month + 1 >= self.n_months:
            self.running = False
            for m in self.mechanisms:  # the run is over: final settlements
                m.end(self.engine)

    def run(self) -> None:
        while self.running:
            self.step()

    # phases ------------------------------------------------------------------------------
    def advance_month(self) -> None:
        self.month += 1
        self.year = self.start_year + self.month // 12
        if self.month % 12 == 0:
            self._open_year(lambda m: m.new_year(self.engine))

    def expire_measures(self) -> None:
        """Installations leave the stock at the start of a month: those whose lifetime ended
        (their expiry month, set when installed: the firm's first investment review at or after
        the end of the lifetime, so the firm decides on a replacement that same month) and, for measures
        whose savings do not persist (``persistence_share_per_yr`` < 1), those of the firms
        under review this month whose draw says they lapsed. The firm keeps its awareness and
        decides again at then-current costs and prices with the same rule."""
        ft, m = self.firms, self.month
        idx = self.engine.review_group()
        interval = self.behaviour.review_interval_months
        if len(self.lapsing):
            u = self.lifetime_draws.persistence_uniforms((len(idx), len(self.lapsing)))  # drawn whatever the stock
        else:
            u = _NO_DRAWS
        f, k, reason = adoption.departures_of(idx, m, interval, self.lapse_col, u, self.survive_per_review, ft,
                                              threads_for(self.n_firms))
        if len(f):
            self._remove(f, k, reason)

    def _remove(self, f: np.ndarray, k: np.ndarray, reason: np.ndarray) -> None:
        """Take installed (firm, measure) pairs (sorted by firm; ``reason``: [n] EXPIRED or
        LAPSED) out of the stock: counters, peers, the firms' energy rebuilt from their base
        with the measures that remain."""
        ft = self.firms
        since = ft.adopted_month[f, k]  # (a copy: fancy indexing)
        peers = self.network.peers
        split = adoption.neighbours_split(len(f), self.n_firms)
        adoption.unrecord(f, k, NEVER16, ft.sector, ft.cluster, peers.indptr, peers.indices, ft.adopted,
                          ft.adopted_month, ft.expiry_month, self.adopter_count, self.adopters_by_sector,
                          self.cluster_adopters, self.neighbour_adopters, split == 1)
        if split > 1:
            self._count_neighbours_later(f, k, -1)
        firms_u = f[_run_starts(f)]  # f is sorted
        old = self._state_before(firms_u)[:3]
        self._reapply(firms_u)
        self._book_state_change(firms_u, *old)
        self.expiry_log.append((self.month, f.astype(np.int32), k.astype(np.int16), since, reason))  # (compact: Batch.for_log)
        self.expiries_total += len(f)
        self.engine.publish("expiry", month=self.month, firms=f, measures=k, reasons=reason)

    def _reapply(self, firms_u) -> None:
        """Rebuild the energy of ``firms_u`` from their base with the measures they have."""
        ft, cat = self.firms, self.catalogue
        adopted_year = np.maximum(ft.adopted_month.take(firms_u, axis=0), 0) // 12  # [U, K] (stock before the run: start year)
        adoption.by_firm_slices(  # (each firm's energy rebuilt from its own rows)
            lambda fs, years: adoption.reapply(fs, ft.base_energy_mwh_per_yr, ft.process_t_co2_per_yr, ft.adopted,
                                               ft.adoption_seq, years, self.state_change_by_year, cat.capture_share,
                                               ft.energy_mwh_per_yr, ft.capture_share),
            firms_u, threads_for(self.n_firms), adopted_year)

    def replace_base_energy(self, firm: int, mwh_by_carrier) -> None:
        """Firm ``firm``'s energy use before measures becomes ``mwh_by_carrier`` ([C] MWh/yr this
        year; its process CO2 scales with its total energy): its energy is rebuilt from the new
        base with the measures it has (as when an installation ends), then its rates, this
        year's sums and the totals are booked; the start-year reference of the energy-cost
        saving moves with it (a new use is not a saving)."""
        ft = self.firms
        f = np.array([int(firm)])
        new = np.asarray(mwh_by_carrier, float)
        old_total = float(ft.base_energy_mwh_per_yr[f].sum())
        old = self._state_before(f)[:3]
        e_before = ft.energy_mwh_per_yr[f].copy()
        ft.process_t_co2_per_yr[f] *= new.sum() / old_total if old_total > 0 else 0.0
        ft.base_energy_mwh_per_yr[f] = new
        self._reapply(f)
        self._book_state_change(f, *old)
        self.start_energy_by_sector[ft.sector[f[0]]] += ft.energy_mwh_per_yr[f[0]] - e_before[0]
        self.base_energy_total = self.start_energy_by_sector.sum(axis=0)

    def _grow_output(self, y: int) -> None:
        """A new year's output: each firm's energy use, base, process CO2 and investment budget
        scale with its sector's output index (installed measures save the same shares of a
        larger use). Bank credit is not scaled (a negotiated line; mechanisms extend it)."""
        ratio = self.output_index[y] / self.output_index[y - 1]
        if np.all(ratio == 1.0):
            return
        self.energy_total = firm_table.scale_output(self.firms, ratio, self.state32)  # (and the float32 state)
        self.start_energy_by_sector *= ratio[:, None]
        self.base_energy_total = self.start_energy_by_sector.sum(axis=0)

    def _open_year(self, hook) -> None:
        """A new year: this year's prices, emission factors and valuation, then each
        mechanism's ``hook`` (``setup`` or ``new_year``), then the year's emission rates."""
        y = self.year - self.start_year
        self.price = self.energy.price_usd_per_mwh[y]
        self.ef = self.energy.ef_t_co2_per_mwh[y]
        self.price_by_zone, self.ef_by_zone = self.zone_price_paths[:, y], self.zone_ef_paths[:, y]
        self.val = decision.valuation(self.catalogue, self.shift, self.price, self.ef)
        self.state_change_by_year[y] = self.val.state_change
        if y > 0:
            self._grow_output(y)
        self.capex_mult = self.catalogue.capex_multiplier(y)
        self.available = self.catalogue.available_from_year <= self.year
        self.c32 = self._float32_terms()
        for m in self.mechanisms:
            hook(m)
        self._recompute_rates(slice(None))
        self.total_scope1 = float(self.scope1_rate.sum())
        self.total_scope2 = float(self.scope2_rate.sum())
        self.annual_scope1[:] = self.scope1_rate
        self.annual_scope2[:] = self.scope2_rate
        np.matmul(self.firms.energy_mwh_per_yr, np.ones(len(CARRIERS)), out=self.annual_energy)  # (a row sum; BLAS is faster)

    def _update_availability(self) -> None:
        """Measures that can be bought now: the catalogue's years and every mechanism's limits
        (e.g. infrastructure not yet built)."""
        avail = self.catalogue.available_from_year <= self.year
        for m in self.mechanisms:
            a = m.available(self.engine)
            if a is not None:
                avail = avail & a
        self.available = avail

    def _count_assessments(self, month, firms, source) -> None:
        if source == "cost_share":
            self.assessments_this_month += len(firms)

    def cluster_activities(self) -> None:
        for m in self.mechanisms:
            m.cluster_activities(self.engine)

    def programme_activities(self) -> None:
        self.assessments_this_month = 0
        for m in self.mechanisms:
            m.programme_activities(self.engine)
        self._update_availability()

    def firm_decisions(self) -> None:
        """Firms whose investment review falls in this month decide (firm i reviews in the
        months of its phase: sim/reviews.py). A pre-assessed firm takes up its
        programme offer at its next review, within the offer's 12 months."""
        idx = self.engine.review_group()
        batch = decision.decide(self, idx, update_awareness=True)  # information term first, then the others
        batch = self.engine.with_choices(batch)  # workshop players' choices for the firms they play
        self.firms.last_review_month[idx] = self.month
        self.batch_state_before = None
        if len(batch):
            self.apply(batch)
        for m in self.mechanisms:
            m.after_adoptions(self.engine, batch)

    def account_emissions(self) -> None:
        if self.month % 12 == 11:
            y = self.year - self.start_year
            reporting = self.firms.reporting_from_month <= self.month
            self.registry.record(y, self.annual_scope1, self.annual_scope2, self.annual_energy, reporting)
            self.engine.publish("year_closed", year=self.year)
        for m in self.mechanisms:
            m.end_month(self.engine)

    def collect_data(self) -> None:
        """Monthly reporters into ``self.series`` (name -> [months] column). Vector reporters
        (per carrier, measure, instrument) are written as one row of a [months, n] block whose
        columns are the series' arrays."""
        m, series = self.month, self.series

        def put(key, value):
            col = series.get(key)
            if col is None:
                col = series[key] = np.zeros(self.n_months, dtype=np.asarray(value).dtype)
            col[m] = value

        for key, value in scalar_row(self).items():
            put(key, value)
        blocks = self._series_blocks
        for i, (cols, values) in enumerate(vector_rows(self)):
            if i >= len(blocks) or (blocks[i][0] is not cols and blocks[i][0] != cols):  # first month (or new columns)
                block = np.zeros((self.n_months, len(cols)))
                for j, c in enumerate(cols):
                    if c in series:
                        block[:, j] = series[c]
                    series[c] = block[:, j]
                blocks[i:i + 1] = [(cols, block)]
            blocks[i][1][m] = values
        for mech in self.mechanisms:
            for key, value in mech.monthly_row(self.engine).items():
                put(key, value)

    def __setstate__(self, state) -> None:
        """Unpickling (``sim/snapshot.py``): the vector reporters' series are columns (views)
        of their month blocks, which pickle stores as separate arrays: link them again. (A
        population template, ``sim/template.py``, has no series yet.)"""
        if "neighbour_adopters" in state:  # (snapshots written before the counts became a property)
            state["_neighbour_adopters"] = state.pop("neighbour_adopters")
        self.__dict__.update(state)
        for cols, block in state.get("_series_blocks", ()):
            for j, c in enumerate(cols):
                self.series[c] = block[:, j]

    # the neighbours' adopter counts ----------------------------------------------------
    @property
    def neighbour_adopters(self) -> np.ndarray:
        """[N, K] adopters of each measure among each firm's neighbours (the peer term). A
        large month's update may still be running on the background thread
        (:meth:`_count_neighbours_later`): reading the counts waits for it."""
        self._finish_neighbour_counts()
        return self._neighbour_adopters

    @neighbour_adopters.setter
    def neighbour_adopters(self, counts: np.ndarray) -> None:
        self._finish_neighbour_counts()
        self._neighbour_adopters = counts

    def _finish_neighbour_counts(self) -> None:
        pending = self.__dict__.get("_neighbours_pending")
        if pending is not None:
            self._neighbours_pending = None
            pending.result()

    def _count_neighbours_later(self, f: np.ndarray, k: np.ndarray, delta: int) -> None:
        """Add ``delta`` (+1 installed, -1 removed) to the neighbours' counts of each (firm,
        measure), on the background thread: at 1,000,000 firms a month's ~10,000 changes are
        ~70,000 scattered writes (~2-4 ms), which then overlap with the calling thread's
        books, activities and the next month's start. Nothing reads or writes the counts but
        through :attr:`neighbour_adopters`, which waits for the update: the counts every
        reader sees are those of the serial order."""
        counts = self.neighbour_adopters  # (the previous update finishes first: one writer at a time)
        peers = self.network.peers
        f, k = f.copy(), k.copy()  # (the batch's arrays go on to the mechanisms)
        self._neighbours_pending = in_background(lambda: adoption.add_to_neighbour_counts(
            f, k, peers.indptr, peers.indices, counts, delta))

    def __getstate__(self):
        self._finish_neighbour_counts()  # (pickles and copies hold finished counts, no pending update)
        state = self.__dict__.copy()
        state.pop("_neighbours_pending", None)
        return state

    # state helpers --------------------------------------------------------------------
    def state_matrix(self, firms: np.ndarray) -> np.ndarray:
        """[len(firms), C+1] energy by carrier (MWh/yr) and process CO2 (t/yr)."""
        ft = self.firms
        f = np.asarray(firms)
        if f.ndim == 1 and f.dtype.kind in "iu":  # (an index array: ``take``, ~3x faster on scattered rows of a 2-D table)
            return np.concatenate([ft.energy_mwh_per_yr.take(f, axis=0), ft.process_t_co2_per_yr.take(f)[:, None]], axis=1)
        return np.concatenate([ft.energy_mwh_per_yr[firms], ft.process_t_co2_per_yr[firms, None]], axis=1)

    def _refresh_state32(self, firms) -> None:
        """Keep the float32 copy of the state the decision reads in step with the firm table
        (column by column: no [len(firms), C+1] float64 temporary)."""
        ft, C = self.firms, self.firms.energy_mwh_per_yr.shape[1]
        self.state32[firms, :C] = ft.energy_mwh_per_yr[firms]
        self.state32[firms, C] = ft.process_t_co2_per_yr[firms]

    def _float32_terms(self):
        """This year's per-measure constants of the decision, as float32 rows for [R, K] math."""
        from types import SimpleNamespace

        from .screening import CAPEX_FIXED, CAPEX_UNIT

        cat, val, f, K = self.catalogue, self.val, np.float32, self.catalogue.k
        per_measure = np.stack([  # rows in the order of sim/screening.py's CAPEX_FIXED ... AVAILABLE
            cat.capex_fixed_usd * self.capex_mult, cat.capex_usd_per_unit * self.capex_mult,
            cat.non_energy_benefit_share, cat.om_share_of_capex_per_yr, cat.risk_premium_per_yr, -cat.lifetime_yr,
            cat.hidden_cost_share, cat.complexity_share, cat.info_rate_per_month, np.ones(cat.k)]).astype(f)
        # [C+1, 3K]: saving | size basis | scope-1 abatement; state32[firms] @ weights in one matmul
        weights = np.ascontiguousarray(
            np.concatenate([val.saving_usd.T, val.size_basis.T, val.abated_scope1_t.T], axis=1).astype(f))
        return SimpleNamespace(
            per_measure=per_measure, weights=weights,
            # views for the programmes' own terms
            w_basis=weights[:, K:2 * K], w_scope1=weights[:, 2 * K:],
            capex_fixed_usd=per_measure[CAPEX_FIXED], capex_unit_usd=per_measure[CAPEX_UNIT],
        )

    def _calibrate_emissions(self, target_t_co2: float) -> None:
        """Scale every firm's energy use and process CO2 by one factor so that the start-year
        emissions (with the measures already in place; scope 1+2, or scope 1 only if
        ``scenario.base_year_emissions_scope`` says so) equal ``target_t_co2``."""
        ft = self.firms
        self._recompute_rates(slice(None))
        scope2 = self.scope2_rate.sum() if self.config.scenario.base_year_emissions_scope == "scope1+2" else 0.0
        now = float(self.scope1_rate.sum() + scope2)
        if now <= 0:
            return
        factor = target_t_co2 / now
        ft.energy_mwh_per_yr *= factor
        ft.base_energy_mwh_per_yr *= factor
        ft.process_t_co2_per_yr *= factor
        ft.cash_usd_per_yr *= factor
        ft.credit_usd *= factor
        self.calibration_factor = factor
        self._refresh_state32(slice(None))
        self._recompute_rates(slice(None))

    def _build_network(self, sc, ft, rng):
        net = sc.network
        if net.kind in ("none", "complete"):
            return firm_network.empty(ft.n)
        if net.kind == "small_world":
            return firm_network.small_world(rng, ft.n, net.small_world_k, net.rewire_share)
        if net.kind == "scale_free":
            return firm_network.scale_free(rng, ft.n, net.scale_free_m)
        names = self.sector_names
        supplies = [[names.index(t) for t in s.supplies_to] for s in sc.sectors]
        return firm_network.generate(
            rng, ft.sector, ft.cluster, np.sqrt(ft.energy_mwh_per_yr.sum(axis=1) + 1.0), supplies,
            net.supply_links_per_firm, net.partner_links_per_member, net.random_links_per_firm)

    def cluster_share_table(self) -> np.ndarray:
        """[L+1, K] adopter share of each association's members (row 0: no association)."""
        t = np.zeros((len(self.clusters) + 1, self.catalogue.k), dtype=np.float32)
        t[1:] = self.cluster_adopters / np.maximum(self.cluster_size, 1.0)[:, None]
        return t

    def abatement_t_per_yr(self, firms: np.ndarray, measures: np.ndarray) -> np.ndarray:
        """Scope 1+2 t CO2/yr each (firm, measure) would avoid if adopted now."""
        x = self.state_matrix(firms)
        if self.has_zones:  # scope 2 at each firm's zone's grid factor
            per_mwh = -self.val.state_change[measures, ELECTRICITY, :]  # [P, C+1] electricity saved per unit of state
            grid = self.ef_by_zone[self.energy_zone[firms], ELECTRICITY]
            return np.einsum("pc,pc->p", x, self.val.abated_scope1_t[measures]) + grid * np.einsum("pc,pc->p", x, per_mwh)
        return np.einsum("pc,pc->p", x, self.val.abated_t[measures])

    def set_energy_zones(self, of_firm: np.ndarray, price, ef) -> None:
        """Regional energy (``Engine.set_energy_zones``): zone 0 is the scenario's paths,
        zone z + 1 the z-th declared zone; ``price``/``ef`` [Z, years, C] (None: no zones)."""
        n_zones = 1 + (0 if price is None else len(price))
        self.energy_zone = (np.asarray(of_firm) + 1).astype(np.int16 if n_zones <= np.iinfo(np.int16).max else np.int64)
        self.has_zones = price is not None
        base_p, base_e = self.energy.price_usd_per_mwh[None], self.energy.ef_t_co2_per_mwh[None]
        self.zone_price_paths = base_p if price is None else np.concatenate([base_p, price])
        self.zone_ef_paths = base_e if ef is None else np.concatenate([base_e, ef])
        y = min(max(self.year - self.start_year, 0), len(self.energy.years) - 1)
        self.price_by_zone, self.ef_by_zone = self.zone_price_paths[:, y], self.zone_ef_paths[:, y]

    def zone_rows(self, by_zone: np.ndarray, firms=None) -> np.ndarray:
        """[R, C] the rows of a [zones, C] table for ``firms`` (None: all)."""
        z = self.energy_zone if firms is None else self.energy_zone[firms]
        return by_zone[z]

    def _recompute_rates(self, firms) -> None:
        ft = self.firms
        e = ft.energy_mwh_per_yr[firms]
        if self.has_zones:  # each firm's zone's factors
            ef = self.ef_by_zone[self.energy_zone[firms]]
            s1 = (np.einsum("rc,rc->r", e, np.where(SCOPE1_CARRIERS, ef, 0.0)) + ft.process_t_co2_per_yr[firms])
            self.scope1_rate[firms] = s1 * (1.0 - ft.capture_share[firms])
            self.scope2_rate[firms] = e[..., ELECTRICITY] * ef[..., ELECTRICITY]
            return
        # (scope1 + process) * (1 - capture), in place: all firms write into the rates themselves
        every = isinstance(firms, slice) and firms == slice(None)
        w1 = np.where(SCOPE1_CARRIERS, self.ef, 0.0)
        s1 = np.matmul(e, w1, out=self.scope1_rate) if every else e @ w1
        s1 += ft.process_t_co2_per_yr[firms]
        s1 *= 1.0 - ft.capture_share[firms]
        if every:
            np.multiply(e[:, ELECTRICITY], self.ef[ELECTRICITY], out=self.scope2_rate)
        else:
            self.scope1_rate[firms] = s1
            self.scope2_rate[firms] = e[..., ELECTRICITY] * self.ef[ELECTRICITY]

    def apply(self, b: decision.Batch) -> None:
        """Put a month's adoptions into effect: energy, capture, peers, instruments, log."""
        ft, cat = self.firms, self.catalogue
        f, k = b.firm, b.measure
        peers = self.network.peers
        expiry = self._review_aligned(f, self.month + np.ceil(12.0 * cat.lifetime_yr[k] - 1e-9).astype(np.int64))
        split = adoption.neighbours_split(len(f), self.n_firms)
        adoption.record(f, k, self.month, expiry, ft.sector, ft.cluster, peers.indptr,
                        peers.indices, ft.adopted, ft.adopted_month, ft.expiry_month, ft.adoption_seq,
                        self.adopter_count, self.adopters_by_sector, self.cluster_adopters, self.neighbour_adopters,
                        split == 1)
        if split > 1:
            self._count_neighbours_later(f, k, 1)
        self.adoptions_total += len(f)

        firms_u = f[_run_starts(f)]  # batch is sorted by firm
        *old, x = self._state_before(firms_u, f)
        self.batch_state_before = x  # [P, C+1] (read by mechanisms: engine.batch_state_before)
        saving_usd_per_yr = np.einsum("pc,pc->p", x, self.val.saving_usd[k])
        # measures act on current energy, so a firm's several adoptions apply in turn
        adoption.by_firm_slices(  # (a firm's adoptions act in turn on its own rows)
            lambda fs, ks: adoption.change_energy(fs, ks, self.val.state_change, cat.capture_share, ft.energy_mwh_per_yr,
                                                  ft.process_t_co2_per_yr, ft.capture_share),
            f, threads_for(self.n_firms), k)
        self._book_state_change(firms_u, *old)

        for code, g in enumerate(self.gov.grant_instruments, start=1):
            sel = b.instrument == code
            if sel.any():
                g.record(self.engine, f[sel])
        self.adoption_log.append((self.month, b.for_log()))
        self.adoption_saving_log.append(saving_usd_per_yr)
        if not self.setting_up:
            self.engine.publish("adoption", month=self.month, batch=b)

    def _state_before(self, firms_u, firm=None):
        """Copies of what :meth:`_book_state_change` compares against (scope-1 and scope-2
        rates, energy of ``firms_u``) and, with ``firm`` (sorted, whose runs are ``firms_u``),
        its firms' state matrix, gathered once."""
        ft = self.firms
        return adoption.rows_before(firms_u, _NO_FIRMS if firm is None else firm, self.scope1_rate, self.scope2_rate,
                                    ft.energy_mwh_per_yr, ft.process_t_co2_per_yr)

    def _book_state_change(self, firms_u, old_s1, old_s2, old_e) -> None:
        """The firms ``firms_u`` (unique) changed energy or capture this month: their rates,
        the float32 state, this year's running sums (for the rest of the year) and the totals."""
        ft = self.firms
        frac = (12 - self.month % 12) / 12.0
        if self.has_zones:  # (each firm's zone's factors)
            self._recompute_rates(firms_u)
            self._refresh_state32(firms_u)
            d1 = self.scope1_rate[firms_u] - old_s1
            d2 = self.scope2_rate[firms_u] - old_s2
            self.annual_scope1[firms_u] += d1 * frac
            self.annual_scope2[firms_u] += d2 * frac
            de = ft.energy_mwh_per_yr[firms_u] - old_e
            self.annual_energy[firms_u] += de.sum(axis=1) * frac
            self.energy_total += de.sum(axis=0)
        else:  # the rates, float32 state, running sums and energy total in one pass (the same arithmetic)
            e = ft.energy_mwh_per_yr.take(firms_u, axis=0)
            d1, d2 = adoption.book_rates(
                firms_u, e, e @ np.where(SCOPE1_CARRIERS, self.ef, 0.0), ft.process_t_co2_per_yr, ft.capture_share,
                self.ef[ELECTRICITY], ELECTRICITY, frac, old_s1, old_s2, self.scope1_rate, self.scope2_rate,
                self.annual_scope1, self.annual_scope2, self.state32, old_e, self.annual_energy, self.energy_total)
        self.total_scope1 += float(d1.sum())
        self.total_scope2 += float(d2.sum())

    def _review_aligned(self, f: np.ndarray, due: np.ndarray) -> np.ndarray:
        """[len(f)] int16 expiry months: each firm's first investment review at or after ``due``
        (capped below NEVER16: beyond the run is never)."""
        interval = self.behaviour.review_interval_months
        m = reviews.first_review(f, np.maximum(due, 0), interval)
        return np.minimum(m, NEVER16 - 1).astype(np.int16)

    def _schedule_expiries(self, f: np.ndarray, k: np.ndarray, due: np.ndarray) -> None:
        """Set the expiry month of installations due in month ``due`` (review-aligned)."""
        self.firms.expiry_month[f, k] = self._review_aligned(f, due)

    def set_network(self, network) -> None:
        """Replace the firm network and rebuild the peer state the decision reads."""
        self.network = network
        self.degree = network.degree.astype(np.float32)
        self.inv_degree = (1.0 / np.maximum(self.degree, 1.0)).astype(np.float32)
        self.neighbour_adopters = network.peers.count(self.firms.adopted).astype(adoption.count_dtype(self.degree))
        self._graph = None
        self._space = None

    # views -----------------------------------------------------------------------------
    @property
    def graph(self):
        """The firm network as a NetworkX graph (built on first use)."""
        if self._graph is None:
            self._graph = self.network.to_networkx()
        return self._graph

    @property
    def firm_agents(self) -> list[Firm]:
        """One ``Firm`` Mesa agent per row of the firm table (``firm_agents[i].row == i``)."""
        if self._firm_agents is None:
            self._firm_agents = [Firm(self, i) for i in range(self.n_firms)]
        return self._firm_agents

    @property
    def space(self):
        """Mesa's network space with each Firm in its node's cell (built on first use: the
        monthly computation does not need it)."""
        if self._space is None:
            from mesa.discrete_space import Network

            self._space = Network(self.graph, random=self.random)
            for a in self.firm_agents:
                self._space._cells[a.row].add_agent(a)
        return self._space

    def spending_usd(self) -> dict[str, float]:
        return self.gov.spending_usd()

    def total_spending_usd(self) -> float:
        return float(sum(self.spending_usd().values()))
