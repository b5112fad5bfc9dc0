"""The firm table: every per-firm and per-(firm, measure) quantity as a numpy column.

N firms, K measures, C carriers. ``Firm`` agents (``agents.py``) are thin views on a row.
Heterogeneity is drawn, vectorised, from the distributions the scenario config sets.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from . import reviews
from .energy import EnergyPaths
from .measures import Catalogue
from .params import CARRIERS, SIZE_CLASSES, ScenarioConfig

NEVER = np.iinfo(np.int32).max  # month sentinel: "not (yet)"
NEVER16 = np.iinfo(np.int16).max  # the same in int16 month columns (months of a run < 32,767)


@dataclass
class FirmTable:
    sector: np.ndarray  # [N] int16, index into scenario sectors
    size_class: np.ndarray  # [N] int8, index into SIZE_CLASSES
    cluster: np.ndarray  # [N] int16, index into scenario clusters, -1 = no association
    energy_mwh_per_yr: np.ndarray  # [N, C] current final energy use by carrier
    process_t_co2_per_yr: np.ndarray  # [N] process CO2 (not from combustion)
    capture_share: np.ndarray  # [N] share of scope-1 CO2 captured (carbon capture)
    cash_usd_per_yr: np.ndarray  # [N] internal investment budget per review
    credit_usd: np.ndarray  # [N] bank credit available for investments
    hurdle_rate_per_yr: np.ndarray  # [N] required return on investments
    risk_aversion: np.ndarray  # [N] 0-1 weight on a measure's risk premium
    capability: np.ndarray  # [N] 0-1 in-house technical capability
    aware: np.ndarray  # [N, K] bool: knows the measure
    adopted: np.ndarray  # [N, K] bool: has adopted the measure
    adopted_month: np.ndarray  # [N, K] int16: month of adoption (-1: before the run; NEVER16 if not)
    applicable: np.ndarray  # [N, K] bool: measure fits the firm's sector and size
    last_review_month: np.ndarray  # [N] int32
    hidden_cost_relief: np.ndarray  # [N] share of hidden costs removed (workshops, assessments)
    risk_relief: np.ndarray  # [N] share of risk premium removed (workshops)
    reporting_from_month: np.ndarray  # [N] int32: month the firm starts reporting to the registry
    sets_supplier_target: np.ndarray  # [N] bool: the firm asks its suppliers to cut emissions
    #: [N, C] energy use by carrier with no measure installed (the state the installed measures
    #: act on, in adoption order; scaled with the calibration and the sector's output); None = a
    #: copy of the energy columns. Measures never change process CO2 (capture acts through
    #: ``capture_share``), so ``process_t_co2_per_yr`` is its own base.
    base_energy_mwh_per_yr: np.ndarray = field(default=None)
    #: [N, K] int16: month an installed measure expires (end of lifetime or lapse); NEVER16 if not installed
    expiry_month: np.ndarray = field(default=None)
    #: [N, K] int16: the firm's adoption order (installed measures act on the base in this
    #: order; a new adoption gets the firm's latest + 1: at most K per month of a run)
    adoption_seq: np.ndarray = field(default=None)

    def __post_init__(self):
        n, k = self.adopted.shape
        if self.base_energy_mwh_per_yr is None:
            self.base_energy_mwh_per_yr = self.energy_mwh_per_yr.copy()
        if self.expiry_month is None:
            self.expiry_month = np.full((n, k), NEVER16, dtype=np.int16)
        if self.adoption_seq is None:
            self.adoption_seq = np.zeros((n, k), dtype=np.int16)

    @property
    def n(self) -> int:
        return self.sector.shape[0]


def _beta_from_mean(rng: np.random.Generator, mean: np.ndarray, concentration: float) -> np.ndarray:
    mean = np.clip(mean, 1e-3, 1 - 1e-3)
    return rng.beta(mean * concentration, (1.0 - mean) * concentration)


def _draw_sectors(sc: ScenarioConfig, n: int, rng: np.random.Generator) -> np.ndarray:
    """Each firm's sector, in proportion to the sectors' shares of firms."""
    sector_share = np.array([s.share_of_firms for s in sc.sectors])
    return rng.choice(len(sc.sectors), size=n, p=sector_share / sector_share.sum()).astype(np.int16)


def _draw_size_classes(sc: ScenarioConfig, sector: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Each firm's size class from the scenario's size mix; sectors with a size mix of their
    own then redraw their firms' sizes from it (one draw per such sector, in sector order)."""
    size_share = np.asarray(sc.size_share, dtype=float)
    size = rng.choice(len(SIZE_CLASSES), size=n, p=size_share / size_share.sum()).astype(np.int8)
    for s, spec in enumerate(sc.sectors):
        if spec.size_share:
            sel = np.flatnonzero(sector == s)
            p = np.asarray(spec.size_share, dtype=float)
            size[sel] = rng.choice(len(SIZE_CLASSES), size=len(sel), p=p / p.sum())
    return size


def _draw_total_energy(sc: ScenarioConfig, sector: np.ndarray, size: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Total final energy use (MWh/yr): the size class's median scaled by the sector's
    intensity, with log-normal spread."""
    intensity = np.array([s.energy_intensity_factor for s in sc.sectors])
    median = np.asarray(sc.energy_median_mwh_per_yr, dtype=float)
    return median[size] * intensity[sector] * np.exp(sc.energy_sigma_log * rng.standard_normal(n))


def _draw_carrier_mix(sc: ScenarioConfig, sector: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each firm's shares of energy by carrier: a Dirichlet draw (normalised gammas) around its
    sector's carrier mix; carriers the sector does not use stay at zero."""
    mix = np.zeros((len(sc.sectors), len(CARRIERS)))
    for s, spec in enumerate(sc.sectors):
        for c, v in spec.carrier_mix_share.items():
            mix[s, CARRIERS.index(c)] = v
    shape = mix[sector] * sc.carrier_mix_concentration
    g = rng.gamma(np.where(shape > 0, shape, 1.0)) * (shape > 0)
    return g / np.maximum(g.sum(axis=1, keepdims=True), 1e-300)


def _draw_energy_use(
    sc: ScenarioConfig, sector: np.ndarray, size: np.ndarray, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Energy use by carrier [N, C] and process CO2 [N] (proportional to total energy)."""
    total = _draw_total_energy(sc, sector, size, n, rng)
    energy_mwh = total[:, None] * _draw_carrier_mix(sc, sector, rng)
    process_rate = np.array([s.process_t_co2_per_mwh for s in sc.sectors])
    return energy_mwh, total * process_rate[sector]


def _draw_finance(
    sc: ScenarioConfig, energy: EnergyPaths, energy_mwh: np.ndarray, size: np.ndarray, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Internal cash and bank credit (both scaled by the start-year energy bill) and the
    hurdle rate (log-normal around the size class's median)."""
    bill = energy_mwh @ energy.price_usd_per_mwh[0]
    cash = bill * sc.cash_per_energy_cost * np.exp(0.5 * rng.standard_normal(n))
    credit = bill * np.asarray(sc.credit_per_energy_cost, dtype=float)[size]
    hurdle = (np.asarray(sc.hurdle_rate_median_per_yr)[size] * np.exp(sc.hurdle_rate_sigma_log * rng.standard_normal(n))).astype(np.float32)
    return cash, credit, hurdle


def _draw_behaviour(sc: ScenarioConfig, size: np.ndarray, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """In-house technical capability (beta around the size class's mean) and risk aversion."""
    capability = _beta_from_mean(rng, np.asarray(sc.capability_mean)[size], 6.0).astype(np.float32)
    risk_aversion = _beta_from_mean(rng, np.full(n, sc.risk_aversion_mean), 4.0).astype(np.float32)
    return capability, risk_aversion


def _draw_awareness(
    cat: Catalogue, sector: np.ndarray, size: np.ndarray, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Which measures fit each firm (sector and minimum size), and which of those it already
    knows at the start (each with the measure's initial awareness share)."""
    applicable = cat.applies_to_sector[sector] & (size[:, None] >= cat.min_size_class[None, :])
    aware = (rng.random((n, cat.k), dtype=np.float32) < cat.initial_awareness_share[None, :].astype(np.float32)) & applicable
    return applicable, aware


def _draw_cluster_membership(
    sc: ScenarioConfig, sector: np.ndarray, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Each firm's cluster association (-1: none; a firm joins the first association of its
    sector whose membership share its uniform draw falls under) and the month a member starts
    reporting to the registry (geometric waiting time; NEVER for non-members)."""
    cluster = np.full(n, -1, dtype=np.int16)
    reporting = np.full(n, NEVER, dtype=np.int32)
    names = [s.name for s in sc.sectors]
    u_member = rng.random(n)
    for ci, cl in enumerate(sc.clusters):
        in_sectors = np.isin(sector, [names.index(s) for s in cl.sectors if s in names])
        join = in_sectors & (cluster < 0) & (u_member < cl.membership_share)
        cluster[join] = ci
        if cl.info_collection_rate_per_month > 0:
            wait = rng.geometric(cl.info_collection_rate_per_month, size=int(join.sum())) - 1
            # only a share of the members ever reports voluntarily: the membership draw divided
            # by the membership share is uniform among members (no extra draw, same streams)
            volunteer = u_member[join] < cl.voluntary_reporting_share * cl.membership_share
            reporting[join] = np.where(volunteer, np.minimum(wait, NEVER - 1), NEVER).astype(np.int32)
    return cluster, reporting


def apply_reporting_threshold(ft: FirmTable, emissions_t_co2_per_yr: np.ndarray, threshold_t_co2_per_yr: float) -> int:
    """Firms whose emissions reach a mandatory reporting threshold report to the registry
    from the start (month 0). Returns how many firms the threshold obliges."""
    if threshold_t_co2_per_yr <= 0:
        return 0
    obliged = emissions_t_co2_per_yr >= threshold_t_co2_per_yr
    ft.reporting_from_month[obliged] = 0
    return int(obliged.sum())


def _draw_supplier_targets(sc: ScenarioConfig, size: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Large firms that ask their suppliers to cut emissions (a share of the large firms)."""
    large = SIZE_CLASSES.index("large")
    return (size == large) & (rng.random(n) < sc.network.supplier_target_share_of_large)


def generate(
    sc: ScenarioConfig,
    cat: Catalogue,
    energy: EnergyPaths,
    n: int,
    rng: np.random.Generator,
    review_interval_months: int,
) -> FirmTable:
    """Draw a synthetic population of ``n`` firms from the scenario's distributions.

    The draws from ``rng`` happen in this order (changing it changes every run): sectors,
    sizes, energy, finance, behaviour, awareness, cluster membership, supplier targets.
    """
    K = cat.k
    sector = _draw_sectors(sc, n, rng)
    size = _draw_size_classes(sc, sector, n, rng)
    energy_mwh, process = _draw_energy_use(sc, sector, size, n, rng)
    cash, credit, hurdle = _draw_finance(sc, energy, energy_mwh, size, n, rng)
    capability, risk_aversion = _draw_behaviour(sc, size, n, rng)
    applicable, aware = _draw_awareness(cat, sector, size, n, rng)
    cluster, reporting = _draw_cluster_membership(sc, sector, n, rng)
    target = _draw_supplier_targets(sc, size, n, rng)
    phase = reviews.phase(n, review_interval_months)

    return FirmTable(
        sector=sector,
        size_class=size,
        cluster=cluster,
        energy_mwh_per_yr=energy_mwh,
        process_t_co2_per_yr=process,
        capture_share=np.zeros(n),
        cash_usd_per_yr=cash,
        credit_usd=credit,
        hurdle_rate_per_yr=hurdle,
        risk_aversion=risk_aversion,
        capability=capability,
        aware=aware,
        adopted=np.zeros((n, K), dtype=bool),
        adopted_month=np.full((n, K), NEVER16, dtype=np.int16),
        applicable=applicable,
        last_review_month=(phase.astype(np.int32) - review_interval_months),
        hidden_cost_relief=np.zeros(n, dtype=np.float32),
        risk_relief=np.zeros(n, dtype=np.float32),
        reporting_from_month=reporting,
        sets_supplier_target=target,
    )


def scale_output(ft: FirmTable, ratio_by_sector: np.ndarray, state32: np.ndarray) -> np.ndarray:
    """A new year's output (``ClusterModel._grow_output``): each firm's energy use, its base,
    process CO2 and investment budget times its sector's output ratio, and the float32 state
    the decision reads refreshed, in one pass over the table (no [N] or [N, C] temporaries).
    Returns the new energy use by carrier summed over firms (in firm order, as numpy's
    ``sum(axis=0)``)."""
    total = _scale_output(np.ascontiguousarray(ratio_by_sector, dtype=np.float64), ft.sector, ft.energy_mwh_per_yr,
                          ft.base_energy_mwh_per_yr, ft.process_t_co2_per_yr, ft.cash_usd_per_yr, state32)
    # (numpy sums a row-major table row after row, as the pass does; any other layout in its own order)
    return total if ft.energy_mwh_per_yr.flags.c_contiguous else ft.energy_mwh_per_yr.sum(axis=0)


@njit(cache=True, nogil=True)
def _scale_output(ratio, sector, energy, base, process, cash, state32):
    N, C = energy.shape
    total = np.zeros(C)
    for i in range(N):
        r = ratio[sector[i]]
        for c in range(C):
            energy[i, c] *= r
            base[i, c] *= r
            total[c] += energy[i, c]
            state32[i, c] = np.float32(energy[i, c])
        process[i] *= r
        cash[i] *= r
        state32[i, C] = np.float32(process[i])
    return total
