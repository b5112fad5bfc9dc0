"""Structured configuration: every parameter declared once, with its unit and its range.

The dataclasses below are registered in Hydra's ConfigStore as the schema of
``configs/config.yaml``; YAML files hold only what differs from these defaults. Each numeric
field declares what it allows with a helper (``share``, ``nonneg``, ``positive``, ``year``,
``count``, ``between`` ...) whose :class:`Spec` sits in the field's metadata; one generic
walker (:func:`check_fields`) checks every field of the tree, and a short list of named
cross-field :data:`RULES` checks what no single field can (shares summing to 1, names that
refer to sectors or measures ...). Every bad value raises :class:`ConfigError` naming the
full key, the value and what is allowed. NaN and +-inf are rejected everywhere except where a
field says ``inf`` means "no limit" (caps and budgets).

This module is the vocabulary only: it imports nothing from the engine. Composing a run
(Hydra), checking user files and programme parameters, and turning errors into one line
on stderr live in :mod:`sim.compose`.

Naming: names carry their unit (``_usd``, ``_mwh_per_yr``, ``_t_co2_per_mwh``,
``_share`` for a number in [0, 1], ``_per_yr``/``_per_month`` for rates).
"""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from omegaconf import MISSING, DictConfig, ListConfig, OmegaConf

from .errors import BadInput

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
NETWORK_KINDS = ("cluster", "none", "complete", "small_world", "scale_free")
EMISSION_SCOPES = ("scope1+2", "scope1")


class ConfigError(BadInput, ValueError):
    """A configuration value is not allowed (the :class:`BadInput` the validator raises).
    ``str(err)`` is the one-line message."""

    def __init__(self, key: str, value: Any, allowed: str):
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(f"{key} = {value!r}: {allowed}")


# ---------------------------------------------------------------------------------------
# What a field allows: declared with the field
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    """What a field allows. Numbers: ``lo``/``hi`` bounds (open or closed), integer, even,
    finite unless ``allow_inf``. Strings: one of ``options``. Lists and dicts: ``each``
    element's spec, allowed dict ``keys``, ``per_size_class`` length. ``allowed`` is the
    message (``"must be ..."``)."""

    allowed: str = ""
    lo: Optional[float] = None
    hi: Optional[float] = None
    lo_open: bool = False
    hi_open: bool = False
    integer: bool = False
    even: bool = False
    allow_inf: bool = False
    unit: str = ""
    options: Optional[tuple] = None
    allow_empty: bool = False
    keys: Optional[tuple] = None
    each: Optional["Spec"] = None
    per_size_class: bool = False
    required: str = ""
    #: 0 is allowed besides [lo, hi] (e.g. a year where 0 means "the scenario's start year")
    zero_ok: bool = False
    #: a string that must match this regular expression in full (names used in paths)
    pattern: Optional[str] = None

    def number_ok(self, v: Any) -> bool:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return False
        if self.zero_ok and v == 0:
            return True
        if math.isnan(v) or (math.isinf(v) and not self.allow_inf):
            return False
        if self.integer and not (isinstance(v, int) or (math.isfinite(v) and v == int(v))):
            return False
        if self.lo is not None and (v <= self.lo if self.lo_open else v < self.lo):
            return False
        if self.hi is not None and (v >= self.hi if self.hi_open else v > self.hi):
            return False
        return not (self.even and v % 2)

    def outside(self) -> list:
        """Values this spec must reject (for tests that every declared bound is checked)."""
        bad: list = [float("nan")] + ([] if self.allow_inf else [float("inf"), float("-inf")])
        if self.lo is not None:
            bad.append(self.lo if self.lo_open else self.lo - 1)
        if self.hi is not None:
            bad.append(self.hi if self.hi_open else self.hi + 1)
        if self.even:
            bad.append(int(self.lo or 0) + 3)
        if self.pattern is not None:
            bad = ["../../elsewhere", "a/b", ""]
        return bad


def _field(default: Any, spec: Spec, doc: str = "") -> Any:
    meta = {"spec": spec, "doc": doc}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


FINITE = Spec("must be a finite number")
_SHARE = Spec("must be a share in [0, 1]", lo=0.0, hi=1.0)
_NONNEG = Spec("must be a number >= 0", lo=0.0)
_POSITIVE = Spec("must be a number > 0", lo=0.0, lo_open=True)
_OPEN_UNIT = Spec("must be in (0, 1)", lo=0.0, hi=1.0, lo_open=True, hi_open=True)


def share(default: Any = MISSING, doc: str = "") -> Any:
    """A share in [0, 1]."""
    return _field(default, _SHARE, doc)


def nonneg(default: Any = MISSING, doc: str = "", unit: str = "", allow_inf: bool = False) -> Any:
    """A number >= 0 (``allow_inf``: ``.inf`` means no limit)."""
    return _field(default, dataclasses.replace(_NONNEG, unit=unit, allow_inf=allow_inf), doc)


def positive(default: Any = MISSING, doc: str = "", unit: str = "") -> Any:
    """A number > 0."""
    return _field(default, dataclasses.replace(_POSITIVE, unit=unit), doc)


def between(lo: float, hi: float, default: Any = MISSING, doc: str = "", open_: bool = False,
            integer: bool = False) -> Any:
    """A number in [lo, hi] (``open_``: in (lo, hi))."""
    lb, rb = ("(", ")") if open_ else ("[", "]")
    what = "an integer in " if integer else "in "
    spec = Spec(f"must be {what}{lb}{lo:g}, {hi:g}{rb}", lo=lo, hi=hi, lo_open=open_, hi_open=open_, integer=integer)
    return _field(default, spec, doc)


#: the calendar years any year field may hold (a run's months are stored as int16: see end_year)
YEAR_LO, YEAR_HI = 1900, 2200
#: how many years before the run's start an enabled instrument may have started (a price or a
#: programme already in force: the oldest carbon tax, Finland's, dates from 1990)
YEARS_BEFORE_START = 50


def year(default: Any = MISSING, doc: str = "", lo: int = YEAR_LO, hi: int = YEAR_HI,
         zero_means: str = "") -> Any:
    """A calendar year in [lo, hi] (``zero_means``: 0 is also allowed and means that)."""
    msg = f"must be a year between {lo} and {hi}" + (f" (or 0 = {zero_means})" if zero_means else "")
    return _field(default, Spec(msg, lo=lo, hi=hi, integer=True, zero_ok=bool(zero_means)), doc)


def count(default: Any = MISSING, doc: str = "", lo: int = 0, hi: Optional[int] = None, even: bool = False,
          allowed: str = "") -> Any:
    """An integer >= ``lo`` and <= ``hi`` (``even``: and even). ``doc`` says why ``hi``."""
    what = "an even integer" if even else "an integer"
    msg = allowed or (f"must be {what} in [{lo}, {hi:,}]" if hi is not None else f"must be {what} >= {lo}")
    return _field(default, Spec(msg, lo=lo, hi=hi, integer=True, even=even), doc)


#: a name used in a path (the default run folder is results/<scenario>/<policy>/seed=<s>)
NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.+-]*"


def path_name(default: Any = MISSING, doc: str = "") -> Any:
    """A name that becomes part of a folder name: letters, digits, ``_ . + -``, not starting
    with a dot or a separator (no ``/``, no ``..``), at most 100 characters."""
    spec = Spec("must be a name of letters, digits and _ . + - (at most 100, not starting with . or -; "
                "it names a folder under results/)", pattern=NAME_PATTERN, required="must not be empty")
    return _field(default, spec, doc)


def choice(default: Any, options: tuple, doc: str = "", allow_empty: bool = False) -> Any:
    """A string out of ``options`` (``allow_empty``: "" = none)."""
    return _field(default, Spec(f"must be one of {', '.join(sorted(options))}", options=tuple(options),
                                allow_empty=allow_empty), doc)


def required(default: Any = "", allowed: str = "must not be empty", doc: str = "") -> Any:
    """A string or collection that must not be empty."""
    return _field(default, Spec(allowed, required=allowed), doc)


def per_size_class(default: list, each: Spec, doc: str = "") -> Any:
    """One number per size class (micro, small, medium, large)."""
    return _field(default, Spec(f"needs one value per size class {SIZE_CLASSES}", each=each,
                                per_size_class=True), doc)


def each(default: Any, spec: Spec, doc: str = "", keys: Optional[tuple] = None) -> Any:
    """A list or dict whose elements (values) each satisfy ``spec``; dict keys out of ``keys``."""
    allowed = f"must be one of {', '.join(sorted(keys))}" if keys else ""
    return _field(default, Spec(allowed, each=spec, keys=tuple(keys) if keys else None), doc)


def _size_choices() -> Spec:
    return Spec(f"must be one of {', '.join(sorted(SIZE_CLASSES))}", options=SIZE_CLASSES)


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
    removes_share: Dict[str, float] = each({}, _SHARE, keys=CARRIERS)
    #: carrier that supplies the removed service instead (fuel switch, electrification); "" = none
    adds_carrier: str = choice("", CARRIERS, allow_empty=True)
    #: MWh of ``adds_carrier`` needed per MWh removed (e.g. boiler efficiency / heat-pump COP)
    adds_mwh_per_mwh_removed: float = nonneg(0.0, unit="MWh/MWh")
    #: electricity the new process needs besides ``adds_carrier`` per MWh removed, MWh/MWh
    #: (e.g. the electric arc furnace that melts hydrogen-reduced iron)
    adds_electricity_mwh_per_mwh_removed: float = nonneg(0.0, unit="MWh/MWh")
    #: share of scope-1 (combustion + process) CO2 captured (carbon capture only)
    capture_share: float = share(0.0)
    #: extra natural gas burnt per t CO2 captured (capture energy penalty), MWh/t
    capture_penalty_mwh_per_t_co2: float = nonneg(0.0, unit="MWh/t CO2")
    #: fixed part of the investment, USD
    capex_fixed_usd: float = nonneg(0.0, unit="USD")
    #: variable part, USD per unit of the size basis (MWh/yr removed, or t CO2/yr captured)
    capex_usd_per_unit: float = nonneg(0.0, unit="USD/unit")
    #: yearly change of capex (technology learning), share per year (negative = cheaper)
    capex_change_per_yr: float = between(-0.5, 0.5, 0.0)
    #: operation and maintenance, share of capex per year
    om_share_of_capex_per_yr: float = share(0.0)
    #: technical lifetime: an installation saves energy for this long, then expires and the
    #: firm decides again (replacement at then-current costs and prices)
    lifetime_yr: float = positive(10.0, unit="yr")
    #: share of installations still in place and saving after each further year (savings
    #: persistence of behavioural / operational measures; 1 = no lapse before end of life)
    persistence_share_per_yr: float = share(1.0)
    #: non-energy benefits (water, materials, productivity) as a share of the energy cost saving
    non_energy_benefit_share: float = nonneg(0.0)
    #: sectors where the measure applies; ["all"] = every sector
    sectors: List[str] = field(default_factory=lambda: ["all"])
    #: smallest size class that can use the measure
    min_size_class: str = choice("micro", SIZE_CLASSES)
    #: first calendar year the technology can be bought
    available_from_year: int = year(2000)
    #: technical capability (0-1) a firm needs to implement it without outside help
    complexity_share: float = share(0.3)
    #: hidden costs (search, disruption, management time) as a share of capex
    hidden_cost_share: float = nonneg(0.1)
    #: risk premium added to the hurdle rate of a fully risk-averse firm, per year
    risk_premium_per_yr: float = nonneg(0.05, unit="1/yr")
    #: spontaneous awareness rate (Bass innovation coefficient p), per month
    info_rate_per_month: float = share(0.003)
    #: share of firms aware of the measure in the start year
    initial_awareness_share: float = share(0.2)
    #: public source of the numbers above (required)
    source: str = required("", "every measure must cite the public source of its numbers")


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
    share_of_firms: float = share(MISSING)
    #: multiplier on the size class's median energy use (energy intensity of the sector)
    energy_intensity_factor: float = positive(1.0)
    #: shares of final energy by carrier (sum to 1)
    carrier_mix_share: Dict[str, float] = each({}, _SHARE, keys=CARRIERS)
    #: process CO2 (not from fuel combustion), t CO2 per MWh of final energy
    process_t_co2_per_mwh: float = nonneg(0.0, unit="t CO2/MWh")
    #: sectors this sector sells to (supply edges point supplier -> customer)
    supplies_to: List[str] = field(default_factory=list)
    #: the sector's own share of firms in each size class (micro, small, medium, large);
    #: empty = the scenario's size_share (e.g. heavy industry: a few very large plants)
    size_share: List[float] = each([], FINITE)
    source: str = ""


@dataclass
class ClusterSpec:
    """A cluster association and which firms are its members."""

    name: str = MISSING
    sectors: List[str] = field(default_factory=list)
    #: share of the firms of those sectors that are members
    membership_share: float = share(0.5)
    #: monthly probability that a member not yet reporting starts reporting to the registry
    info_collection_rate_per_month: float = share(0.05)
    #: share of the members that ever report voluntarily (the others report only if the
    #: registry's threshold obliges them: ``ScenarioConfig.registry_threshold_t_co2_per_yr``)
    voluntary_reporting_share: float = share(1.0)


@dataclass
class TrajectoryConfig:
    """A yearly trajectory given as {year: value} points, linearly interpolated."""

    points: Dict[int, float] = _field({}, Spec("needs at least one {year: value}", each=_NONNEG,
                                                required="needs at least one {year: value}"))
    unit: str = ""
    source: str = required("", "every trajectory must cite its source")


@dataclass
class HydrogenCostConfig:
    """Hydrogen priced as the levelised cost of grid-connected electrolysis at the scenario's
    (or an energy zone's) own electricity price (``sim/energy.py``,
    ``hydrogen_cost_usd_per_mwh``) instead of a fixed path; ``enabled: false`` keeps the
    scenario's ``prices_usd_per_mwh.hydrogen``."""

    enabled: bool = False
    #: electricity per MWh of hydrogen (LHV), {year: MWh/MWh}: system kWh/kg / 33.3 kWh/kg;
    #: IRENA (2020), Green Hydrogen Cost Reduction, Table 1: 50-55 kWh/kg today (53 / 33.3 = 1.6),
    #: < 45 kWh/kg by 2050 (1.35); 2030 interpolated
    electricity_mwh_per_mwh_h2: Dict[int, float] = each({2023: 1.6, 2030: 1.5, 2050: 1.35}, _POSITIVE)
    #: installed electrolyser system cost, {year: USD per kW of electric input}; IEA Global
    #: Hydrogen Review 2023: ~US$ 1,700-2,000/kW outside China in 2022; 2030 and 2050 are
    #: assumptions (free parameters) within IEA/IRENA cost-reduction ranges
    capex_usd_per_kw: Dict[int, float] = each({2023: 2000.0, 2030: 1100.0, 2050: 500.0}, _NONNEG)
    #: full-load hours a year (free parameter, range 3,000-8,000: grid-connected, avoiding peaks)
    full_load_hours_per_yr: float = between(1.0, 8760.0, 5000.0)
    #: cost of capital (free parameter, range 0.05-0.12) and economic life of the electrolyser
    #: (IRENA 2020: ~20 years with stack replacements in O&M): the capital recovery factor
    discount_rate_per_yr: float = between(0.0, 1.0, 0.08)
    lifetime_yr: float = positive(20.0, unit="yr")
    #: fixed operation and maintenance, share of capex per year (IRENA 2020: ~2 %)
    om_share_of_capex_per_yr: float = share(0.02)
    #: compression, storage and delivery to the user, USD/MWh of hydrogen (free parameter,
    #: range 5-30: ~US$ 0.5/kg; IEA 2019, The Future of Hydrogen: < US$ 1/kg within a cluster)
    delivery_usd_per_mwh: float = nonneg(15.0, unit="USD/MWh")
    source: str = ("IEA Global Hydrogen Review 2023 (installed electrolyser cost, efficiency); IRENA (2020), Green "
                   "Hydrogen Cost Reduction (efficiency, O&M, life); full-load hours, discount rate and delivery are free parameters")


@dataclass
class GrowthConfig:
    """Output of the scenario's sectors over time: energy use and process CO2 of a sector's
    firms (and their investment budgets) scale with its output index. Keys: sector names or
    ``all`` (sectors without a key of their own); values: {year: index} trajectories, any
    base (each is divided by its value in the run's start year, where the calibration holds).
    Empty = output constant."""

    output_index: Dict[str, TrajectoryConfig] = each({}, None)


@dataclass
class NetworkConfig:
    """How firms are tied. ``cluster``: supply, association and knowledge ties drawn from the
    scenario (below); ``none``: no ties; ``complete``: every firm sees every other (mean field:
    peer share = adopter share of all firms); ``small_world``: Watts-Strogatz ring with
    ``small_world_k`` neighbours and ``rewire_share`` of ties rewired; ``scale_free``:
    Barabasi-Albert with ``scale_free_m`` ties per new firm."""

    kind: str = choice("cluster", NETWORK_KINDS)
    #: ring neighbours per firm; at most 1,000 (the ties of a million firms already take ~8 GB
    #: at that degree, and no firm follows more than a thousand others)
    small_world_k: int = count(6, lo=2, hi=1000, even=True)
    rewire_share: float = share(0.1)
    #: ties per new firm; at most 1,000 (as ``small_world_k``)
    scale_free_m: int = count(3, lo=1, hi=1000)
    #: supply links each firm has to customers (mean, Poisson); at most 1,000 per firm (no
    #: plant supplies a thousand firms of its own cluster on average; the ties are kept in memory)
    supply_links_per_firm: float = between(0.0, 1000.0, 2.0)
    #: partnership links within the firm's cluster association (mean, Poisson); at most 1,000
    partner_links_per_member: float = between(0.0, 1000.0, 3.0)
    #: knowledge links to random firms of the region (mean, Poisson); at most 1,000
    random_links_per_firm: float = between(0.0, 1000.0, 1.0)
    #: probability that a large firm sets an emissions target for its suppliers
    supplier_target_share_of_large: float = share(0.2)


@dataclass
class ScenarioConfig:
    name: str = path_name(MISSING, "names the run folder results/<scenario>/<policy>/seed=<s>")
    description: str = ""
    source: str = ""
    #: the year of the USD figures (prices, capex)
    currency_year: int = year(2023)
    sectors: List[SectorSpec] = field(default_factory=list)
    clusters: List[ClusterSpec] = field(default_factory=list)
    #: share of firms in each size class (micro, small, medium, large)
    size_share: List[float] = per_size_class([0.7, 0.2, 0.07, 0.03], _SHARE)
    #: median final energy use per firm by size class, MWh/yr
    energy_median_mwh_per_yr: List[float] = per_size_class([50.0, 500.0, 5000.0, 50000.0], _POSITIVE)
    #: dispersion of energy use within a size class (sd of log)
    energy_sigma_log: float = nonneg(0.8)
    #: concentration of the Dirichlet draw of each firm's carrier mix around its sector's mix
    carrier_mix_concentration: float = positive(20.0)
    #: yearly internal investment budget as a multiple of the firm's energy bill
    cash_per_energy_cost: float = nonneg(0.3)
    #: credit available by size class as a multiple of the energy bill
    credit_per_energy_cost: List[float] = per_size_class([0.0, 0.3, 0.8, 1.5], _NONNEG)
    #: median hurdle rate by size class, per year; Anderson & Newell (2004), Resource and
    #: Energy Economics 26(1): audit recommendations are adopted at paybacks of ~1-2 years
    #: (hurdle rates ~50-100 % for small plants)
    hurdle_rate_median_per_yr: List[float] = per_size_class([0.6, 0.45, 0.3, 0.15], _POSITIVE)
    hurdle_rate_sigma_log: float = nonneg(0.3)
    #: mean technical capability (0-1) by size class; drawn from a Beta with concentration 6
    #: (assumption, free parameter)
    capability_mean: List[float] = per_size_class([0.2, 0.35, 0.55, 0.75], _OPEN_UNIT)
    #: mean risk aversion (0-1); Beta with concentration 4 (assumption, free parameter)
    risk_aversion_mean: float = between(0.0, 1.0, 0.5, open_=True)
    prices_usd_per_mwh: Dict[str, TrajectoryConfig] = each({}, None, keys=CARRIERS)
    emission_factors_t_co2_per_mwh: Dict[str, TrajectoryConfig] = each({}, None, keys=CARRIERS)
    #: firms whose start-year scope 1+2 emissions reach this report to the registry from the
    #: start (a mandatory reporting threshold, e.g. Mexico's RENE: 25,000 t CO2e/yr); 0 = none
    registry_threshold_t_co2_per_yr: float = nonneg(0.0, unit="t CO2/yr")
    #: hydrogen priced from the electricity price (electrolysis cost), replacing the hydrogen path
    hydrogen_from_electricity: HydrogenCostConfig = field(default_factory=HydrogenCostConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    #: sector output paths (energy use scales with output; see GrowthConfig)
    growth: GrowthConfig = field(default_factory=GrowthConfig)
    #: programme and finance actors of the scenario (name -> parameters; see sim/programmes)
    programmes: Dict[str, Any] = field(default_factory=dict)
    #: scale every firm's energy use and process CO2 so the start-year scope 1+2 emissions
    #: equal this value, t CO2/yr (0 = no calibration); cite the source in the next field
    base_year_emissions_t_co2: float = nonneg(0.0, unit="t CO2/yr")
    base_year_emissions_source: str = ""
    #: which emissions the calibration target counts: "scope1+2" or "scope1" (e.g. a source
    #: that reports scope 1 only)
    base_year_emissions_scope: str = choice("scope1+2", EMISSION_SCOPES)
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
    subsidy_share: float = share(0.3)
    #: cap on the subsidy of one project, USD (.inf = no cap)
    max_grant_per_project_usd: float = nonneg(float("inf"), unit="USD", allow_inf=True)
    budget_usd: float = nonneg(0.0, unit="USD", allow_inf=True)
    #: measures eligible; ["all"] = every measure
    measures: List[str] = field(default_factory=lambda: ["all"])
    size_classes: List[str] = each(list(SIZE_CLASSES), _size_choices())


@dataclass
class CostShareConfig:
    """Cost-share programme: pre-assessments, then co-funded projects under a yearly quota."""

    enabled: bool = False
    #: pre-assessments a year; at most 1,000,000 (more than the firms of any cluster: a year's
    #: assessments are drawn among the firms)
    assessments_per_yr: int = count(50, hi=1_000_000)
    #: projects per programme year (the last repeats); each at most 1,000,000 (as assessments)
    quota_projects_per_yr: List[int] = each([10], Spec("must be an integer in [0, 1,000,000]", lo=0,
                                                       hi=1_000_000, integer=True))
    copay_share: float = share(0.5)
    max_grant_per_project_usd: float = nonneg(4000.0, unit="USD", allow_inf=True)
    budget_usd: float = nonneg(0.0, unit="USD", allow_inf=True)
    cost_per_assessment_usd: float = nonneg(0.0, unit="USD")
    #: share of hidden costs an assessed firm no longer faces (the assessment did the search)
    hidden_cost_relief_share: float = share(0.5)
    #: simple-payback ceiling of an assessment's recommendations, years (free parameter, range
    #: 1-5; sim/recommendations.py: Anderson & Newell 2004 on IAC audits)
    recommend_max_payback_yr: float = positive(3.0, unit="yr")
    sectors: List[str] = field(default_factory=lambda: ["all"])
    size_classes: List[str] = each(["micro", "small", "medium"], _size_choices())
    #: first programme year; 0 = the run's start year. When enabled: from YEARS_BEFORE_START
    #: years before the run's start to its end (rule_instrument_years)
    start_year: int = year(0, zero_means="the run's start year")


@dataclass
class CarbonPriceConfig:
    enabled: bool = False
    #: first year of the price (it grows from then on). When enabled: from YEARS_BEFORE_START
    #: years before the run's start to its end (rule_instrument_years)
    start_year: int = year(2025)
    price_usd_per_t_co2: float = nonneg(0.0, unit="USD/t CO2")
    growth_usd_per_t_co2_per_yr: float = nonneg(0.0, unit="USD/t CO2/yr")
    #: firms below this size class are exempt (emissions-trading thresholds)
    min_size_class: str = choice("micro", SIZE_CLASSES)


@dataclass
class GreenLoanConfig:
    enabled: bool = False
    interest_rate_per_yr: float = nonneg(0.06, unit="1/yr")
    market_rate_per_yr: float = nonneg(0.12, unit="1/yr")
    term_yr: float = positive(7.0, unit="yr")
    credit_line_usd: float = nonneg(0.0, unit="USD", allow_inf=True)
    max_loan_per_firm_usd: float = nonneg(500000.0, unit="USD", allow_inf=True)


@dataclass
class WorkshopsConfig:
    enabled: bool = False
    #: at most 10,000 a year (about 27 a day, every day: more than any programme's staff can hold)
    workshops_per_yr: int = count(4, hi=10_000)
    #: at most 10,000 participants (a conference hall's capacity)
    firms_per_workshop: int = count(21, hi=10_000)
    #: probability that a participant becomes aware of each applicable measure
    awareness_lift_share: float = share(0.6)
    #: share of hidden costs a participant no longer faces
    hidden_cost_relief_share: float = share(0.5)
    #: share of perceived risk premium a participant no longer faces
    risk_relief_share: float = share(0.3)
    cost_per_workshop_usd: float = nonneg(15000.0, unit="USD")
    budget_usd: float = nonneg(0.0, unit="USD", allow_inf=True)


@dataclass
class TrainingConfig:
    enabled: bool = False
    #: at most 1,000 courses a year (about three a day)
    courses_per_yr: int = count(1, hi=1000)
    #: at most 1,000 graduates per course (a large lecture hall)
    consultants_per_course: int = count(15, hi=1000)
    #: projects a trained consultant supports a year, in the measures the course taught (free
    #: parameter, range 2-10: no programme reports it; sim/barriers/skills.py); at most 1,000
    #: (about three a working day)
    projects_per_consultant_per_yr: int = count(4, hi=1000)
    #: the course topics: measures the graduates can implement (["all"] = every measure)
    measures: List[str] = field(default_factory=lambda: ["all"])
    #: years a graduate works as a consultant (.inf = for good; free parameter, range 2-10)
    consultant_active_yr: float = nonneg(float("inf"), unit="yr", allow_inf=True)
    cost_per_course_usd: float = nonneg(60000.0, unit="USD")
    budget_usd: float = nonneg(0.0, unit="USD", allow_inf=True)


@dataclass
class PolicyConfig:
    name: str = path_name(MISSING, "names the run folder results/<scenario>/<policy>/seed=<s>")
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
    review_interval_months: int = between(1, 120, 12, integer=True)
    #: awareness gained per month per unit share of neighbours that adopted (Bass q)
    peer_awareness_per_month: float = share(0.04)
    #: weight of the cluster association's adopter share in a member's peer signal
    cluster_broker_weight: float = share(0.5)
    #: share of the perceived risk premium removed when all neighbours have adopted
    peer_risk_relief_share: float = share(0.6)
    #: hurdle-rate reduction when all of a firm's customers set supplier targets, per year
    customer_pressure_per_yr: float = nonneg(0.1, unit="1/yr")
    #: awareness per month added by full customer pressure
    customer_pressure_awareness_per_month: float = share(0.02)


@dataclass
class Config:
    """Root of a run's configuration."""

    #: seed of the run's one random Generator: numpy needs it >= 0; at most 2**63 - 1 so it fits
    #: the int64 columns of tables that record it (and every launcher's integer parsing)
    seed: int = count(0, hi=2**63 - 1, allowed="must be an integer in [0, 2**63 - 1]")
    #: firms in the population; at most 1,000,000,000 (more than all the firms on Earth, ~330
    #: million). What this machine can hold is checked with an estimate before the run
    #: (sim.compose.rule_memory), usually far below this bound
    n_firms: int = count(3000, lo=1, hi=1_000_000_000)
    start_year: int = year(2025)
    #: months of a run are stored as int16, hence the upper bound
    end_year: int = _field(2050, Spec("must be a year <= 2300", hi=2300, integer=True))
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
# The generic walker: every declared field of the tree
# ---------------------------------------------------------------------------------------
def _check_scalar(key: str, v: Any, spec: Optional[Spec]) -> None:
    spec = spec or FINITE
    if spec.required and not (v.strip() if isinstance(v, str) else v):
        raise ConfigError(key, v, spec.required)
    if spec.pattern is not None:
        if not isinstance(v, str) or len(v) > 100 or not re.fullmatch(spec.pattern, v):
            raise ConfigError(key, v, spec.allowed)
    elif spec.options is not None:
        if not (spec.allow_empty and v == "") and v not in spec.options:
            raise ConfigError(key, v, spec.allowed)
    elif spec.lo is not None or spec.hi is not None or spec.integer:
        if not spec.number_ok(v):
            infinite = isinstance(v, float) and math.isinf(v)
            raise ConfigError(key, v, spec.allowed + (" (finite)" if infinite else ""))
    elif isinstance(v, float) and not math.isfinite(v):  # every float: finite
        raise ConfigError(key, v, FINITE.allowed)


def _element_key(key: str, i: int, el: Any, spec: Optional[Spec], parent: Spec) -> str:
    if parent.per_size_class:
        return f"{key}[{SIZE_CLASSES[i]}]"
    if dataclasses.is_dataclass(el) and hasattr(el, "name"):
        return f"{key}[{el.name}]"
    if spec is not None and spec.options is not None:
        return key  # a list of names: the message names the list and the bad name
    return f"{key}[{i}]"


def _check_value(key: str, v: Any, spec: Optional[Spec]) -> None:
    if dataclasses.is_dataclass(v):
        check_fields(v, key + ".")
    elif isinstance(v, list):
        if spec is not None and spec.required and not v:
            raise ConfigError(key, v, spec.required)
        if spec is not None and spec.per_size_class and len(v) != len(SIZE_CLASSES):
            raise ConfigError(key, list(v), spec.allowed)
        el_spec = spec.each if spec is not None else None
        for i, el in enumerate(v):
            _check_value(_element_key(key, i, el, el_spec, spec or FINITE), el, el_spec)
    elif isinstance(v, dict):
        if spec is not None and spec.required and not v:
            raise ConfigError(key, v, spec.required)
        el_spec = spec.each if spec is not None else None
        for k, el in v.items():
            if spec is not None and spec.keys is not None and k not in spec.keys:
                raise ConfigError(key, k, spec.allowed)
            sub = f"{key}[{k}]" if isinstance(k, int) else f"{key}.{k}"
            _check_value(sub, el, el_spec)
    else:
        _check_scalar(key, v, spec)


def check_fields(obj: Any, prefix: str = "") -> None:
    """Check every declared field of dataclass ``obj`` and of the dataclasses, lists and dicts
    under it against the :class:`Spec` in its metadata (undeclared floats: finite)."""
    for f in dataclasses.fields(obj):
        if f.name == "programmes":  # parameters of programme actors: checked by sim.compose
            continue
        _check_value(f"{prefix}{f.name}", getattr(obj, f.name), f.metadata.get("spec"))


def declared_specs(cls: type = None, prefix: str = "") -> list[tuple[str, Spec]]:
    """``(key, spec)`` of every declared field of the schema (dataclasses inside lists and
    dicts appear once, as ``key[*]``)."""
    import typing

    cls = cls or Config
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        key, t = f"{prefix}{f.name}", hints[f.name]
        args = typing.get_args(t)
        inner = args[-1] if args else t
        if dataclasses.is_dataclass(t):
            out += declared_specs(t, key + ".")
        elif args and dataclasses.is_dataclass(inner):
            out += declared_specs(inner, key + "[*].")
        if "spec" in f.metadata:
            out.append((key, f.metadata["spec"]))
    return out


# ---------------------------------------------------------------------------------------
# Cross-field rules: what no single field can check
# ---------------------------------------------------------------------------------------
#: Sector names a catalogue may mention even if the current scenario has no such firms.
_KNOWN_SECTORS = (
    "automotive", "auto_parts", "home_appliances", "electrical_equipment", "chemicals",
    "petrochemicals", "refining", "food_beverage", "textiles", "tanning", "metal_products",
    "steel", "aluminium", "cement", "glass_ceramics", "plastics_rubber", "paper",
    "machinery", "electronics", "hospitals", "hotels", "logistics", "energy_services",
    "hydrogen_ammonia", "other_manufacturing", "commerce_services", "power_generation",
    "fleets", "research_institutes", "technology_providers", "finance",
)


def _names(key: str, values, allowed) -> None:
    for v in values:
        if v != "all" and v not in allowed:
            raise ConfigError(key, v, f"unknown name; allowed: all, {', '.join(sorted(allowed))}")


def _sums_to_one(values) -> bool:
    return abs(sum(values) - 1.0) <= 1e-6


def rule_years(cfg: Config) -> None:
    """The run ends no earlier than it starts."""
    if cfg.end_year < cfg.start_year:
        raise ConfigError("end_year", cfg.end_year, f"must be >= start_year ({cfg.start_year})")


def rule_sectors(cfg: Config) -> None:
    """At least one sector, unique names, shares (of firms, of carriers, of size classes)
    summing to 1, supply edges between known sectors."""
    sc = cfg.scenario
    if not sc.sectors:
        raise ConfigError("scenario.sectors", [], "must list at least one sector")
    names = [s.name for s in sc.sectors]
    if len(set(names)) != len(names):
        raise ConfigError("scenario.sectors", names, "sector names must be unique")
    for s in sc.sectors:
        k = f"scenario.sectors[{s.name}]"
        if not _sums_to_one(s.carrier_mix_share.values()):
            raise ConfigError(f"{k}.carrier_mix_share", round(sum(s.carrier_mix_share.values()), 6),
                              "carrier shares must sum to 1")
        _names(f"{k}.supplies_to", s.supplies_to, names)
        if s.size_share and (len(s.size_share) != len(SIZE_CLASSES) or any(not 0 <= v <= 1 for v in s.size_share)
                             or not _sums_to_one(s.size_share)):
            raise ConfigError(f"{k}.size_share", list(s.size_share),
                              f"needs one share per size class {SIZE_CLASSES}, summing to 1")
    total = sum(s.share_of_firms for s in sc.sectors)
    if not _sums_to_one([total]):
        raise ConfigError("scenario.sectors.share_of_firms", round(total, 6), "shares must sum to 1")
    if not _sums_to_one(sc.size_share):
        raise ConfigError("scenario.size_share", list(sc.size_share), "shares must sum to 1")


def rule_clusters(cfg: Config) -> None:
    """A cluster association's sectors are sectors of the scenario."""
    names = [s.name for s in cfg.scenario.sectors]
    for c in cfg.scenario.clusters:
        _names(f"scenario.clusters[{c.name}].sectors", c.sectors, names)


def _interp(points: dict, at: float) -> float:
    """A {year: value} trajectory at ``at`` (linear between points, flat outside them)."""
    pts = sorted((float(y), float(v)) for y, v in points.items())
    if at <= pts[0][0]:
        return pts[0][1]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if at <= x1:
            return y0 + (y1 - y0) * (at - x0) / (x1 - x0)
    return pts[-1][1]


def rule_growth(cfg: Config) -> None:
    """Output paths name sectors of the scenario (or ``all``) and are positive in the start year."""
    names = [s.name for s in cfg.scenario.sectors]
    paths = cfg.scenario.growth.output_index
    _names("scenario.growth.output_index", list(paths), names)
    for key, traj in paths.items():
        if _interp(traj.points, cfg.start_year) <= 0:
            raise ConfigError(f"scenario.growth.output_index.{key}.points", dict(traj.points),
                              f"must be > 0 in the start year {cfg.start_year} (the index is relative to it)")


def rule_trajectories(cfg: Config) -> None:
    """Every carrier has a price and an emission-factor trajectory."""
    for group in ("prices_usd_per_mwh", "emission_factors_t_co2_per_mwh"):
        traj = getattr(cfg.scenario, group)
        for c in CARRIERS:
            if c not in traj:
                raise ConfigError(f"scenario.{group}", c, f"missing trajectory for carrier {c}")


def rule_hydrogen_cost(cfg: Config) -> None:
    """Hydrogen priced from electricity needs its efficiency and capex paths and a source."""
    h = cfg.scenario.hydrogen_from_electricity
    if not h.enabled:
        return
    k = "scenario.hydrogen_from_electricity"
    for name in ("electricity_mwh_per_mwh_h2", "capex_usd_per_kw"):
        if not getattr(h, name):
            raise ConfigError(f"{k}.{name}", {}, "needs at least one {year: value}")
    if not h.source.strip():
        raise ConfigError(f"{k}.source", "", "cite the source of the electrolysis cost figures")


def rule_measures(cfg: Config) -> None:
    """At least one measure, unique names, each removes energy or captures CO2, in known sectors."""
    cat = cfg.measures.catalogue
    if not cat:
        raise ConfigError("measures.catalogue", [], "must list at least one measure")
    names = [m.name for m in cat]
    if len(set(names)) != len(names):
        raise ConfigError("measures.catalogue", names, "measure names must be unique")
    sectors = [s.name for s in cfg.scenario.sectors] + list(_KNOWN_SECTORS)
    for m in cat:
        k = f"measures.catalogue[{m.name}]"
        if not m.removes_share and m.capture_share == 0:
            raise ConfigError(f"{k}.removes_share", {}, "a measure must remove energy or capture CO2")
        _names(f"{k}.sectors", m.sectors, sectors)


def rule_policy(cfg: Config) -> None:
    """Instruments name measures and sectors that exist; the cost-share quota is not empty."""
    p = cfg.policy
    _names("policy.capex_subsidy.measures", p.capex_subsidy.measures, [m.name for m in cfg.measures.catalogue])
    _names("policy.training.measures", p.training.measures, [m.name for m in cfg.measures.catalogue])
    if not p.training.consultant_active_yr >= 1:
        raise ConfigError("policy.training.consultant_active_yr", p.training.consultant_active_yr, "must be a number of years >= 1 (.inf: for good)")
    if not p.cost_share.quota_projects_per_yr:
        raise ConfigError("policy.cost_share.quota_projects_per_yr", [],
                          "must be a non-empty list of integers >= 0 (one per programme year; the last repeats)")
    _names("policy.cost_share.sectors", p.cost_share.sectors, [s.name for s in cfg.scenario.sectors])


def rule_inputs(cfg: Config) -> None:
    """A calibration target cites its source; an edge list needs the firm list."""
    sc = cfg.scenario
    if sc.base_year_emissions_t_co2 > 0 and not sc.base_year_emissions_source.strip():
        raise ConfigError("scenario.base_year_emissions_source", "", "a calibration target must cite its source")
    if sc.edges_csv and not sc.firms_csv:
        raise ConfigError("scenario.edges_csv", sc.edges_csv, "needs scenario.firms_csv (edges refer to the firms' ids)")


def rule_instrument_years(cfg: Config) -> None:
    """An enabled instrument's start year lies in a window around the run: no more than
    :data:`YEARS_BEFORE_START` years before its start (a price or a programme already in force),
    no later than its end (else it never acts). ``cost_share.start_year = 0`` = the run's start."""
    lo, hi = cfg.start_year - YEARS_BEFORE_START, cfg.end_year
    for name in ("carbon_price", "cost_share"):
        inst = getattr(cfg.policy, name)
        if inst.enabled and inst.start_year != 0 and not lo <= inst.start_year <= hi:
            raise ConfigError(f"policy.{name}.start_year", inst.start_year,
                              f"must be a year in [{lo}, {hi}] (from {YEARS_BEFORE_START} years before "
                              f"start_year to end_year{'; or 0 = start_year' if name == 'cost_share' else ''})")


RULES: tuple[Callable[[Config], None], ...] = (
    rule_years, rule_instrument_years, rule_sectors, rule_clusters, rule_growth, rule_trajectories, rule_hydrogen_cost,
    rule_measures, rule_policy, rule_inputs,
)


# ---------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------
def check_keys(node: Any, cls: type = None, prefix: str = "", where: str = "sim/params.py") -> None:
    """Raise :class:`ConfigError` for a key of the composed ``node`` that the schema does not
    declare (e.g. ``+policy.capex_subsidy.extra=1``)."""
    import typing

    cls = cls or Config
    hints = _hints(cls)
    for k in node.keys() if isinstance(node, DictConfig) else ():
        key = f"{prefix}{k}"
        child = node._get_node(k)
        if k not in hints:
            value = OmegaConf.to_container(child) if OmegaConf.is_config(child) else child._value()
            raise ConfigError(key, value, f"unknown key (not in the schema; see {where})")
        t = hints[k]
        args = typing.get_args(t)
        if dataclasses.is_dataclass(t) and isinstance(child, DictConfig):
            check_keys(child, t, key + ".", where)
        elif args and dataclasses.is_dataclass(args[-1]):
            items = child.items() if isinstance(child, DictConfig) else enumerate(child) if isinstance(child, ListConfig) else ()
            for i, el in items:
                if isinstance(el, DictConfig):
                    name = el.get("name") if "name" in el else i
                    check_keys(el, args[-1], f"{key}[{name}].", where)


def to_config(cfg: DictConfig | Config) -> Config:
    """A typed :class:`Config` object from a composed DictConfig (unknown keys rejected).

    A config Hydra composed is already typed by the schema (``configs/config.yaml`` starts
    from ``base_config``, :func:`register_configs`): when :func:`schema_typed` says every node
    has its declared type and every declared key, merging it into ``OmegaConf.structured(Config)``
    again changes nothing, and :func:`OmegaConf.to_object` of it gives the same object
    (~0.1 s less for a scenario's config; tests/test_cli16_typed_config.py). Any other
    DictConfig (e.g. loaded from a run folder's config.yaml) is merged into the schema."""
    if isinstance(cfg, Config):
        return cfg
    check_keys(cfg)
    if schema_typed(cfg):
        return OmegaConf.to_object(cfg)
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(Config), cfg))


def schema_typed(node: Any, cls: type = None) -> bool:
    """Whether DictConfig ``node`` is typed as the schema's ``cls`` (default :class:`Config`)
    throughout: its object type is ``cls``, it has exactly ``cls``'s fields (none missing, none
    added), and every dataclass-typed child (a field, an element of a list or a value of a dict
    of dataclasses) is such a node of its declared class, given as a value (not ``???``, not
    an interpolation: nothing is resolved)."""
    import typing

    cls = cls or Config
    if not isinstance(node, DictConfig) or OmegaConf.get_type(node) is not cls:
        return False
    hints = _hints(cls)
    if set(node.keys()) != set(hints):
        return False
    for k, t in hints.items():
        args = typing.get_args(t)
        if not (dataclasses.is_dataclass(t) or (args and dataclasses.is_dataclass(args[-1]))):
            continue  # a plain value: typed by its node
        if OmegaConf.is_missing(node, k) or OmegaConf.is_interpolation(node, k):
            return False
        child = node[k]
        if dataclasses.is_dataclass(t):
            if not schema_typed(child, t):
                return False
            continue
        keys = list(child.keys()) if isinstance(child, DictConfig) else \
            range(len(child)) if isinstance(child, ListConfig) else None
        if keys is None:
            return False
        for i in keys:
            if OmegaConf.is_missing(child, i) or OmegaConf.is_interpolation(child, i) or not schema_typed(child[i], args[-1]):
                return False
    return True


_HINTS: dict = {}


def _hints(cls: type) -> dict:
    """``typing.get_type_hints`` of a schema dataclass, evaluated once per class."""
    import typing

    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def validate(cfg: Config) -> Config:
    """Check every declared field and every cross-field rule; raise :class:`ConfigError` on the
    first bad value. (Programme parameters and user files: :func:`sim.compose.check`.)"""
    check_fields(cfg)
    for rule in RULES:
        rule(cfg)
    return cfg
