"""Structured configuration: every parameter declared once, with its unit, and validated.

The dataclasses below are registered in Hydra's ConfigStore as the schema of
``configs/config.yaml``; YAML files fill them in. ``validate(cfg)`` checks the meaning of
every value before a model is built and raises :class:`ConfigError` naming the key, the
value and what is allowed; the command line turns that into one line on stderr and exit
code 2.

Naming: names carry their unit (``_usd``, ``_mwh_per_yr``, ``_t_co2_per_mwh``,
``_share`` for a number in [0, 1], ``_per_yr``/``_per_month`` for rates).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from omegaconf import MISSING, DictConfig, OmegaConf

# ---------------------------------------------------------------------------------------
# Fixed vocabularies
# ---------------------------------------------------------------------------------------
#: Energy carriers, in the column order of the firm table's energy block (MWh/yr each).
CARRIERS: tuple[str, ...] = (
    "electricity",
    "natural_gas",
    "fuel_oil",
    "diesel",
    "lpg",
    "coal_coke",
    "hydrogen",
    "biomass",
)
#: Firm size classes (INEGI / OECD employment bands: 0-10, 11-50, 51-250, >250 employees).
SIZE_CLASSES: tuple[str, ...] = ("micro", "small", "medium", "large")


class ConfigError(ValueError):
    """A configuration value is not allowed. ``str(err)`` is the one-line message."""

    def __init__(self, key: str, value: Any, allowed: str):
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key} = {value!r}: {allowed}")


# ---------------------------------------------------------------------------------------
# Measure catalogue (configs/measures/*.yaml)
# ---------------------------------------------------------------------------------------
@dataclass
class MeasureSpec:
    """One abatement measure. Energy effects act on the firm's *current* use of a carrier,
    so stacked measures interact (the second efficiency measure saves a share of what the
    first left)."""

    name: str = MISSING
    label: str = ""
    #: share of the firm's current use of each carrier the measure removes, e.g. {electricity: 0.2}
    removes_share: Dict[str, float] = field(default_factory=dict)
    #: carrier that supplies the removed service instead (fuel switch, electrification); "" = none
    adds_carrier: str = ""
    #: MWh of ``adds_carrier`` needed per MWh removed (e.g. boiler efficiency / heat-pump COP)
    adds_mwh_per_mwh_removed: float = 0.0
    #: share of scope-1 (combustion + process) CO2 captured (carbon capture only)
    capture_share: float = 0.0
    #: extra natural gas burnt per t CO2 captured (capture energy penalty), MWh/t
    capture_penalty_mwh_per_t_co2: float = 0.0
    #: fixed part of the investment, USD
    capex_fixed_usd: float = 0.0
    #: variable part, USD per unit of the size basis (MWh/yr removed, or t CO2/yr captured)
    capex_usd_per_unit: float = 0.0
    #: yearly change of capex (technology learning), share per year (negative = cheaper)
    capex_change_per_yr: float = 0.0
    #: operation and maintenance, share of capex per year
    om_share_of_capex_per_yr: float = 0.0
    lifetime_yr: float = 10.0
    #: non-energy benefits (water, materials, productivity) as a share of the energy cost saving
    non_energy_benefit_share: float = 0.0
    #: sectors where the measure applies; ["all"] = every sector
    sectors: List[str] = field(default_factory=lambda: ["all"])
    #: smallest size class that can use the measure
    min_size_class: str = "micro"
    #: first calendar year the technology can be bought
    available_from_year: int = 2000
    #: technical capability (0-1) a firm needs to implement it without outside help
    complexity_share: float = 0.3
    #: hidden costs (search, disruption, management time) as a share of capex
    hidden_cost_share: float = 0.1
    #: risk premium added to the hurdle rate of a fully risk-averse firm, per year
    risk_premium_per_yr: float = 0.05
    #: spontaneous awareness rate (Bass innovation coefficient p), per month
    info_rate_per_month: float = 0.003
    #: share of firms aware of the measure in the start year
    initial_awareness_share: float = 0.2
    #: public source of the numbers above (required)
    source: str = ""


@dataclass
class MeasuresConfig:
    name: str = MISSING
    source: str = ""
    catalogue: List[MeasureSpec] = field(default_factory=list)


# ---------------------------------------------------------------------------------------
# Scenario (configs/scenario/*.yaml)
# ---------------------------------------------------------------------------------------
@dataclass
class SectorSpec:
    """A sector of the cluster: its share of firms and its energy profile."""

    name: str = MISSING
    share_of_firms: float = MISSING
    #: multiplier on the size class's median energy use (energy intensity of the sector)
    energy_intensity_factor: float = 1.0
    #: shares of final energy by carrier (sum to 1)
    carrier_mix_share: Dict[str, float] = field(default_factory=dict)
    #: process CO2 (not from fuel combustion), t CO2 per MWh of final energy
    process_t_co2_per_mwh: float = 0.0
    #: sectors this sector sells to (supply edges point supplier -> customer)
    supplies_to: List[str] = field(default_factory=list)
    #: the sector's own share of firms in each size class (micro, small, medium, large);
    #: empty = the scenario's size_share (e.g. heavy industry: a few very large plants)
    size_share: List[float] = field(default_factory=list)
    source: str = ""


@dataclass
class ClusterSpec:
    """A cluster association and which firms are its members."""

    name: str = MISSING
    sectors: List[str] = field(default_factory=list)
    #: share of the firms of those sectors that are members
    membership_share: float = 0.5
    #: monthly probability that a member not yet reporting starts reporting to the registry
    info_collection_rate_per_month: float = 0.05


@dataclass
class TrajectoryConfig:
    """A yearly trajectory given as {year: value} points, linearly interpolated."""

    points: Dict[int, float] = field(default_factory=dict)
    unit: str = ""
    source: str = ""


NETWORK_KINDS = ("cluster", "none", "complete", "small_world", "scale_free")


@dataclass
class NetworkConfig:
    """How firms are tied. ``cluster``: supply, association and knowledge ties drawn from the
    scenario (below); ``none``: no ties; ``complete``: every firm sees every other (mean field:
    peer share = adopter share of all firms); ``small_world``: Watts-Strogatz ring with
    ``small_world_k`` neighbours and ``rewire_share`` of ties rewired; ``scale_free``:
    Barabasi-Albert with ``scale_free_m`` ties per new firm."""

    kind: str = "cluster"
    small_world_k: int = 6
    rewire_share: float = 0.1
    scale_free_m: int = 3
    #: supply links each firm has to customers (mean, Poisson)
    supply_links_per_firm: float = 2.0
    #: partnership links within the firm's cluster association (mean, Poisson)
    partner_links_per_member: float = 3.0
    #: knowledge links to random firms of the region (mean, Poisson)
    random_links_per_firm: float = 1.0
    #: probability that a large firm sets an emissions target for its suppliers
    supplier_target_share_of_large: float = 0.2


@dataclass
class ScenarioConfig:
    name: str = MISSING
    description: str = ""
    source: str = ""
    currency_year: int = 2023
    sectors: List[SectorSpec] = field(default_factory=list)
    clusters: List[ClusterSpec] = field(default_factory=list)
    #: share of firms in each size class (micro, small, medium, large)
    size_share: List[float] = field(default_factory=lambda: [0.7, 0.2, 0.07, 0.03])
    #: median final energy use per firm by size class, MWh/yr
    energy_median_mwh_per_yr: List[float] = field(default_factory=lambda: [50.0, 500.0, 5000.0, 50000.0])
    #: dispersion of energy use within a size class (sd of log)
    energy_sigma_log: float = 0.8
    #: concentration of the Dirichlet draw of each firm's carrier mix around its sector's mix
    carrier_mix_concentration: float = 20.0
    #: yearly internal investment budget as a multiple of the firm's energy bill
    cash_per_energy_cost: float = 0.3
    #: credit available by size class as a multiple of the energy bill
    credit_per_energy_cost: List[float] = field(default_factory=lambda: [0.0, 0.3, 0.8, 1.5])
    #: median hurdle rate by size class, per year
    hurdle_rate_median_per_yr: List[float] = field(default_factory=lambda: [0.6, 0.45, 0.3, 0.15])
    hurdle_rate_sigma_log: float = 0.3
    #: mean technical capability (0-1) by size class; drawn from a Beta with concentration 6
    capability_mean: List[float] = field(default_factory=lambda: [0.2, 0.35, 0.55, 0.75])
    #: mean risk aversion (0-1); Beta with concentration 4
    risk_aversion_mean: float = 0.5
    prices_usd_per_mwh: Dict[str, TrajectoryConfig] = field(default_factory=dict)
    emission_factors_t_co2_per_mwh: Dict[str, TrajectoryConfig] = field(default_factory=dict)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    #: programme and finance actors of the scenario (name -> parameters; see sim/programmes)
    programmes: Dict[str, Any] = field(default_factory=dict)
    #: scale every firm's energy use and process CO2 so the start-year scope 1+2 emissions
    #: equal this value, t CO2/yr (0 = no calibration); cite the source in the next field
    base_year_emissions_t_co2: float = 0.0
    base_year_emissions_source: str = ""
    #: which emissions the calibration target counts: "scope1+2" or "scope1" (e.g. a source
    #: that reports scope 1 only)
    base_year_emissions_scope: str = "scope1+2"
    #: a user's own firms (CSV: sector, size_class, <carrier>_mwh_per_yr ...) and ties (CSV edge list);
    #: "" = draw a synthetic population. See README "Load your own cluster".
    firms_csv: str = ""
    edges_csv: str = ""


# ---------------------------------------------------------------------------------------
# Policy instruments (configs/policy/*.yaml)
# ---------------------------------------------------------------------------------------
@dataclass
class CapexSubsidyConfig:
    enabled: bool = False
    subsidy_share: float = 0.3
    #: cap on the subsidy of one project, USD (.inf = no cap)
    max_grant_per_project_usd: float = float("inf")
    budget_usd: float = 0.0
    #: measures eligible; ["all"] = every measure
    measures: List[str] = field(default_factory=lambda: ["all"])
    size_classes: List[str] = field(default_factory=lambda: list(SIZE_CLASSES))


@dataclass
class CostShareConfig:
    """Cost-share programme: pre-assessments, then co-funded projects under a yearly quota."""

    enabled: bool = False
    assessments_per_yr: int = 50
    quota_projects_per_yr: List[int] = field(default_factory=lambda: [10])
    copay_share: float = 0.5
    max_grant_per_project_usd: float = 4000.0
    budget_usd: float = 0.0
    cost_per_assessment_usd: float = 0.0
    #: share of hidden costs an assessed firm no longer faces (the assessment did the search)
    hidden_cost_relief_share: float = 0.5
    sectors: List[str] = field(default_factory=lambda: ["all"])
    size_classes: List[str] = field(default_factory=lambda: ["micro", "small", "medium"])
    start_year: int = 0  # 0 = scenario start year


@dataclass
class CarbonPriceConfig:
    enabled: bool = False
    start_year: int = 2025
    price_usd_per_t_co2: float = 0.0
    growth_usd_per_t_co2_per_yr: float = 0.0
    #: firms below this size class are exempt (emissions-trading thresholds)
    min_size_class: str = "micro"


@dataclass
class GreenLoanConfig:
    enabled: bool = False
    interest_rate_per_yr: float = 0.06
    market_rate_per_yr: float = 0.12
    term_yr: float = 7.0
    credit_line_usd: float = 0.0
    max_loan_per_firm_usd: float = 500000.0


@dataclass
class WorkshopsConfig:
    enabled: bool = False
    workshops_per_yr: int = 4
    firms_per_workshop: int = 21
    #: probability that a participant becomes aware of each applicable measure
    awareness_lift_share: float = 0.6
    #: share of hidden costs a participant no longer faces
    hidden_cost_relief_share: float = 0.5
    #: share of perceived risk premium a participant no longer faces
    risk_relief_share: float = 0.3
    cost_per_workshop_usd: float = 15000.0
    budget_usd: float = 0.0


@dataclass
class TrainingConfig:
    enabled: bool = False
    courses_per_yr: int = 1
    consultants_per_course: int = 15
    projects_per_consultant_per_yr: int = 4
    cost_per_course_usd: float = 60000.0
    budget_usd: float = 0.0


@dataclass
class PolicyConfig:
    name: str = MISSING
    description: str = ""
    capex_subsidy: CapexSubsidyConfig = field(default_factory=CapexSubsidyConfig)
    cost_share: CostShareConfig = field(default_factory=CostShareConfig)
    carbon_price: CarbonPriceConfig = field(default_factory=CarbonPriceConfig)
    green_loan: GreenLoanConfig = field(default_factory=GreenLoanConfig)
    workshops: WorkshopsConfig = field(default_factory=WorkshopsConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)


# ---------------------------------------------------------------------------------------
# Behaviour: the decision terms and their weights
# ---------------------------------------------------------------------------------------
@dataclass
class DecisionTerms:
    """Switches for each term of the adoption decision (False = the barrier is absent or
    the peer channel is cut)."""

    information: bool = True
    capital: bool = True
    skills: bool = True
    hidden_costs: bool = True
    risk: bool = True
    economics: bool = True
    peer_awareness: bool = True
    peer_risk: bool = True
    customer_pressure: bool = True


@dataclass
class BehaviourConfig:
    terms: DecisionTerms = field(default_factory=DecisionTerms)
    #: months between a firm's investment reviews (12 = yearly capital-budgeting cycle)
    review_interval_months: int = 12
    #: awareness gained per month per unit share of neighbours that adopted (Bass q)
    peer_awareness_per_month: float = 0.04
    #: weight of the cluster association's adopter share in a member's peer signal
    cluster_broker_weight: float = 0.5
    #: share of the perceived risk premium removed when all neighbours have adopted
    peer_risk_relief_share: float = 0.6
    #: hurdle-rate reduction when all of a firm's customers set supplier targets, per year
    customer_pressure_per_yr: float = 0.1
    #: awareness per month added by full customer pressure
    customer_pressure_awareness_per_month: float = 0.02


@dataclass
class Config:
    """Root of a run's configuration."""

    seed: int = 0
    n_firms: int = 3000
    start_year: int = 2025
    end_year: int = 2050
    #: write the annual firm panel (firms.parquet); off for very large sweeps
    write_firm_panel: bool = True
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    measures: MeasuresConfig = field(default_factory=MeasuresConfig)
    behaviour: BehaviourConfig = field(default_factory=BehaviourConfig)


def register_configs() -> None:
    """Register the schema with Hydra's ConfigStore (idempotent)."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    cs.store(name="base_config", node=Config)


# ---------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------
def _share(key: str, v: float) -> None:
    if not (isinstance(v, (int, float)) and 0.0 <= v <= 1.0 and not math.isnan(v)):
        raise ConfigError(key, v, "must be a share in [0, 1]")


def _nonneg(key: str, v: float) -> None:
    if not (isinstance(v, (int, float)) and v >= 0 and not math.isnan(v)):
        raise ConfigError(key, v, "must be a number >= 0")


def _pos(key: str, v: float) -> None:
    if not (isinstance(v, (int, float)) and v > 0 and not math.isnan(v)):
        raise ConfigError(key, v, "must be a number > 0")


def _choice(key: str, v: str, allowed) -> None:
    if v not in allowed:
        raise ConfigError(key, v, f"must be one of {', '.join(sorted(allowed))}")


def _names(key: str, values, allowed) -> None:
    for v in values:
        if v != "all" and v not in allowed:
            raise ConfigError(key, v, f"unknown name; allowed: all, {', '.join(sorted(allowed))}")


def to_config(cfg: DictConfig | Config) -> Config:
    """A typed :class:`Config` object from a composed DictConfig."""
    if isinstance(cfg, Config):
        return cfg
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(Config), cfg))


def validate(cfg: Config) -> Config:
    """Check the meaning of every value; raise :class:`ConfigError` on the first bad one."""
    if cfg.n_firms < 1:
        raise ConfigError("n_firms", cfg.n_firms, "must be an integer >= 1")
    if not (1900 <= cfg.start_year <= 2200):
        raise ConfigError("start_year", cfg.start_year, "must be a year between 1900 and 2200")
    if cfg.end_year < cfg.start_year:
        raise ConfigError("end_year", cfg.end_year, f"must be >= start_year ({cfg.start_year})")
    if cfg.end_year > 2300:  # months of a run are stored as int16
        raise ConfigError("end_year", cfg.end_year, "must be a year <= 2300")

    sc = cfg.scenario
    if not sc.sectors:
        raise ConfigError("scenario.sectors", [], "must list at least one sector")
    sector_names = [s.name for s in sc.sectors]
    if len(set(sector_names)) != len(sector_names):
        raise ConfigError("scenario.sectors", sector_names, "sector names must be unique")
    total = 0.0
    for i, s in enumerate(sc.sectors):
        k = f"scenario.sectors[{s.name}]"
        _share(f"{k}.share_of_firms", s.share_of_firms)
        total += s.share_of_firms
        _pos(f"{k}.energy_intensity_factor", s.energy_intensity_factor)
        _nonneg(f"{k}.process_t_co2_per_mwh", s.process_t_co2_per_mwh)
        for c, v in s.carrier_mix_share.items():
            _choice(f"{k}.carrier_mix_share", c, CARRIERS)
            _share(f"{k}.carrier_mix_share.{c}", v)
        mix = sum(s.carrier_mix_share.values())
        if abs(mix - 1.0) > 1e-6:
            raise ConfigError(f"{k}.carrier_mix_share", round(mix, 6), "carrier shares must sum to 1")
        _names(f"{k}.supplies_to", s.supplies_to, sector_names)
        if s.size_share and (len(s.size_share) != len(SIZE_CLASSES) or any(not 0 <= v <= 1 for v in s.size_share)
                             or abs(sum(s.size_share) - 1.0) > 1e-6):
            raise ConfigError(f"{k}.size_share", list(s.size_share), f"needs one share per size class {SIZE_CLASSES}, summing to 1")
    if abs(total - 1.0) > 1e-6:
        raise ConfigError("scenario.sectors.share_of_firms", round(total, 6), "shares must sum to 1")
    for c in sc.clusters:
        k = f"scenario.clusters[{c.name}]"
        _names(f"{k}.sectors", c.sectors, sector_names)
        _share(f"{k}.membership_share", c.membership_share)
        _share(f"{k}.info_collection_rate_per_month", c.info_collection_rate_per_month)
    for name, lst in (
        ("size_share", sc.size_share),
        ("energy_median_mwh_per_yr", sc.energy_median_mwh_per_yr),
        ("credit_per_energy_cost", sc.credit_per_energy_cost),
        ("hurdle_rate_median_per_yr", sc.hurdle_rate_median_per_yr),
        ("capability_mean", sc.capability_mean),
    ):
        if len(lst) != len(SIZE_CLASSES):
            raise ConfigError(f"scenario.{name}", list(lst), f"needs one value per size class {SIZE_CLASSES}")
    for i, v in enumerate(sc.size_share):
        _share(f"scenario.size_share[{SIZE_CLASSES[i]}]", v)
    if abs(sum(sc.size_share) - 1.0) > 1e-6:
        raise ConfigError("scenario.size_share", list(sc.size_share), "shares must sum to 1")
    for i, v in enumerate(sc.energy_median_mwh_per_yr):
        _pos(f"scenario.energy_median_mwh_per_yr[{SIZE_CLASSES[i]}]", v)
    for i, v in enumerate(sc.credit_per_energy_cost):
        _nonneg(f"scenario.credit_per_energy_cost[{SIZE_CLASSES[i]}]", v)
    for i, v in enumerate(sc.hurdle_rate_median_per_yr):
        _pos(f"scenario.hurdle_rate_median_per_yr[{SIZE_CLASSES[i]}]", v)
    for i, v in enumerate(sc.capability_mean):
        if not 0 < v < 1:
            raise ConfigError(f"scenario.capability_mean[{SIZE_CLASSES[i]}]", v, "must be in (0, 1)")
    if not 0 < sc.risk_aversion_mean < 1:
        raise ConfigError("scenario.risk_aversion_mean", sc.risk_aversion_mean, "must be in (0, 1)")
    _nonneg("scenario.energy_sigma_log", sc.energy_sigma_log)
    _nonneg("scenario.hurdle_rate_sigma_log", sc.hurdle_rate_sigma_log)
    _pos("scenario.carrier_mix_concentration", sc.carrier_mix_concentration)
    _nonneg("scenario.cash_per_energy_cost", sc.cash_per_energy_cost)
    for group, unit in (("prices_usd_per_mwh", "price"), ("emission_factors_t_co2_per_mwh", "factor")):
        traj = getattr(sc, group)
        for c in CARRIERS:
            if c not in traj:
                raise ConfigError(f"scenario.{group}", c, f"missing trajectory for carrier {c}")
        for c, t in traj.items():
            _choice(f"scenario.{group}", c, CARRIERS)
            if not t.points:
                raise ConfigError(f"scenario.{group}.{c}.points", {}, "needs at least one {year: value}")
            if not t.source:
                raise ConfigError(f"scenario.{group}.{c}.source", "", "every trajectory must cite its source")
            for y, v in t.points.items():
                _nonneg(f"scenario.{group}.{c}.points[{y}]", v)
    net = sc.network
    _choice("scenario.network.kind", net.kind, NETWORK_KINDS)
    if net.small_world_k < 2 or net.small_world_k % 2:
        raise ConfigError("scenario.network.small_world_k", net.small_world_k, "must be an even integer >= 2")
    _share("scenario.network.rewire_share", net.rewire_share)
    if net.scale_free_m < 1:
        raise ConfigError("scenario.network.scale_free_m", net.scale_free_m, "must be an integer >= 1")
    _nonneg("scenario.network.supply_links_per_firm", net.supply_links_per_firm)
    _nonneg("scenario.network.partner_links_per_member", net.partner_links_per_member)
    _nonneg("scenario.network.random_links_per_firm", net.random_links_per_firm)
    _share("scenario.network.supplier_target_share_of_large", net.supplier_target_share_of_large)

    # measures
    if not cfg.measures.catalogue:
        raise ConfigError("measures.catalogue", [], "must list at least one measure")
    mnames = [m.name for m in cfg.measures.catalogue]
    if len(set(mnames)) != len(mnames):
        raise ConfigError("measures.catalogue", mnames, "measure names must be unique")
    for m in cfg.measures.catalogue:
        k = f"measures.catalogue[{m.name}]"
        if not m.source or not m.source.strip():
            raise ConfigError(f"{k}.source", m.source, "every measure must cite the public source of its numbers")
        for c, v in m.removes_share.items():
            _choice(f"{k}.removes_share", c, CARRIERS)
            _share(f"{k}.removes_share.{c}", v)
        if m.adds_carrier:
            _choice(f"{k}.adds_carrier", m.adds_carrier, CARRIERS)
        _nonneg(f"{k}.adds_mwh_per_mwh_removed", m.adds_mwh_per_mwh_removed)
        _share(f"{k}.capture_share", m.capture_share)
        _nonneg(f"{k}.capture_penalty_mwh_per_t_co2", m.capture_penalty_mwh_per_t_co2)
        if not m.removes_share and m.capture_share == 0:
            raise ConfigError(f"{k}.removes_share", {}, "a measure must remove energy or capture CO2")
        _nonneg(f"{k}.capex_fixed_usd", m.capex_fixed_usd)
        _nonneg(f"{k}.capex_usd_per_unit", m.capex_usd_per_unit)
        if not -0.5 <= m.capex_change_per_yr <= 0.5:
            raise ConfigError(f"{k}.capex_change_per_yr", m.capex_change_per_yr, "must be in [-0.5, 0.5]")
        _share(f"{k}.om_share_of_capex_per_yr", m.om_share_of_capex_per_yr)
        _pos(f"{k}.lifetime_yr", m.lifetime_yr)
        _nonneg(f"{k}.non_energy_benefit_share", m.non_energy_benefit_share)
        _names(f"{k}.sectors", m.sectors, sector_names + list(_KNOWN_SECTORS))
        _choice(f"{k}.min_size_class", m.min_size_class, SIZE_CLASSES)
        _share(f"{k}.complexity_share", m.complexity_share)
        _nonneg(f"{k}.hidden_cost_share", m.hidden_cost_share)
        _nonneg(f"{k}.risk_premium_per_yr", m.risk_premium_per_yr)
        _share(f"{k}.info_rate_per_month", m.info_rate_per_month)
        _share(f"{k}.initial_awareness_share", m.initial_awareness_share)

    # policy
    p = cfg.policy
    _share("policy.capex_subsidy.subsidy_share", p.capex_subsidy.subsidy_share)
    _nonneg("policy.capex_subsidy.budget_usd", p.capex_subsidy.budget_usd)
    _nonneg("policy.capex_subsidy.max_grant_per_project_usd", p.capex_subsidy.max_grant_per_project_usd)
    _names("policy.capex_subsidy.measures", p.capex_subsidy.measures, mnames)
    for s in p.capex_subsidy.size_classes:
        _choice("policy.capex_subsidy.size_classes", s, SIZE_CLASSES)
    cs = p.cost_share
    if cs.assessments_per_yr < 0:
        raise ConfigError("policy.cost_share.assessments_per_yr", cs.assessments_per_yr, "must be >= 0")
    if not cs.quota_projects_per_yr or any(q < 0 for q in cs.quota_projects_per_yr):
        raise ConfigError("policy.cost_share.quota_projects_per_yr", list(cs.quota_projects_per_yr),
                          "must be a non-empty list of integers >= 0 (one per programme year; the last repeats)")
    _share("policy.cost_share.copay_share", cs.copay_share)
    _nonneg("policy.cost_share.max_grant_per_project_usd", cs.max_grant_per_project_usd)
    _nonneg("policy.cost_share.budget_usd", cs.budget_usd)
    _nonneg("policy.cost_share.cost_per_assessment_usd", cs.cost_per_assessment_usd)
    _share("policy.cost_share.hidden_cost_relief_share", cs.hidden_cost_relief_share)
    _names("policy.cost_share.sectors", cs.sectors, sector_names)
    for s in cs.size_classes:
        _choice("policy.cost_share.size_classes", s, SIZE_CLASSES)
    cp = p.carbon_price
    _nonneg("policy.carbon_price.price_usd_per_t_co2", cp.price_usd_per_t_co2)
    _nonneg("policy.carbon_price.growth_usd_per_t_co2_per_yr", cp.growth_usd_per_t_co2_per_yr)
    _choice("policy.carbon_price.min_size_class", cp.min_size_class, SIZE_CLASSES)
    gl = p.green_loan
    _nonneg("policy.green_loan.interest_rate_per_yr", gl.interest_rate_per_yr)
    _nonneg("policy.green_loan.market_rate_per_yr", gl.market_rate_per_yr)
    _pos("policy.green_loan.term_yr", gl.term_yr)
    _nonneg("policy.green_loan.credit_line_usd", gl.credit_line_usd)
    _nonneg("policy.green_loan.max_loan_per_firm_usd", gl.max_loan_per_firm_usd)
    ws = p.workshops
    if ws.workshops_per_yr < 0 or ws.firms_per_workshop < 0:
        raise ConfigError("policy.workshops", f"{ws.workshops_per_yr} x {ws.firms_per_workshop}", "counts must be >= 0")
    _share("policy.workshops.awareness_lift_share", ws.awareness_lift_share)
    _share("policy.workshops.hidden_cost_relief_share", ws.hidden_cost_relief_share)
    _share("policy.workshops.risk_relief_share", ws.risk_relief_share)
    _nonneg("policy.workshops.cost_per_workshop_usd", ws.cost_per_workshop_usd)
    _nonneg("policy.workshops.budget_usd", ws.budget_usd)
    tr = p.training
    for name in ("courses_per_yr", "consultants_per_course", "projects_per_consultant_per_yr"):
        if getattr(tr, name) < 0:
            raise ConfigError(f"policy.training.{name}", getattr(tr, name), "must be >= 0")
    _nonneg("policy.training.cost_per_course_usd", tr.cost_per_course_usd)
    _nonneg("policy.training.budget_usd", tr.budget_usd)

    b = cfg.behaviour
    if not 1 <= b.review_interval_months <= 120:
        raise ConfigError("behaviour.review_interval_months", b.review_interval_months, "must be an integer in [1, 120]")
    _share("behaviour.peer_awareness_per_month", b.peer_awareness_per_month)
    _share("behaviour.cluster_broker_weight", b.cluster_broker_weight)
    _share("behaviour.peer_risk_relief_share", b.peer_risk_relief_share)
    _nonneg("behaviour.customer_pressure_per_yr", b.customer_pressure_per_yr)
    _share("behaviour.customer_pressure_awareness_per_month", b.customer_pressure_awareness_per_month)
    _nonneg("scenario.base_year_emissions_t_co2", sc.base_year_emissions_t_co2)
    if sc.base_year_emissions_t_co2 > 0 and not sc.base_year_emissions_source.strip():
        raise ConfigError("scenario.base_year_emissions_source", "", "a calibration target must cite its source")
    _choice("scenario.base_year_emissions_scope", sc.base_year_emissions_scope, ("scope1+2", "scope1"))
    if sc.edges_csv and not sc.firms_csv:
        raise ConfigError("scenario.edges_csv", sc.edges_csv, "needs scenario.firms_csv (edges refer to the firms' ids)")
    if sc.firms_csv:
        from .loaders import check_files  # one line per problem: file, row, what is wrong

        check_files(cfg)

    from .mechanisms import parse_params  # programme actors validate their own parameters

    #: parsed programme parameters, reused by ``programmes.build`` right after validation
    cfg._programme_params = {name: parse_params(name, raw, cfg) for name, raw in sc.programmes.items()}
    return cfg


#: Sector names a catalogue may mention even if the current scenario has no such firms.
_KNOWN_SECTORS = (
    "automotive", "auto_parts", "home_appliances", "electrical_equipment", "chemicals",
    "petrochemicals", "refining", "food_beverage", "textiles", "tanning", "metal_products",
    "steel", "aluminium", "cement", "glass_ceramics", "plastics_rubber", "paper",
    "machinery", "electronics", "hospitals", "hotels", "logistics", "energy_services",
    "hydrogen_ammonia", "other_manufacturing", "commerce_services", "power_generation",
    "fleets", "research_institutes", "technology_providers", "finance",
)
