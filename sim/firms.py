"""The firm table: every per-firm and per-(firm, measure) quantity as a numpy column.

N firms, K measures, C carriers. ``Firm`` agents (``agents.py``) are thin views on a row.
Heterogeneity is drawn, vectorised, from the distributions the scenario config sets.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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

    @property
    def n(self) -> int:
        return self.sector.shape[0]


def _beta_from_mean(rng: np.random.Generator, mean: np.ndarray, concentration: float) -> np.ndarray:
    mean = np.clip(mean, 1e-3, 1 - 1e-3)
    return rng.beta(mean * concentration, (1.0 - mean) * concentration)


def generate(
    sc: ScenarioConfig,
    cat: Catalogue,
    energy: EnergyPaths,
    n: int,
    rng: np.random.Generator,
    review_interval_months: int,
) -> FirmTable:
    """Draw a synthetic population of ``n`` firms from the scenario's distributions."""
    S, K, C = len(sc.sectors), cat.k, len(CARRIERS)
    sector_share = np.array([s.share_of_firms for s in sc.sectors])
    sector = rng.choice(S, size=n, p=sector_share / sector_share.sum()).astype(np.int16)
    size_share = np.asarray(sc.size_share, dtype=float)
    size = rng.choice(len(SIZE_CLASSES), size=n, p=size_share / size_share.sum()).astype(np.int8)
    for s, spec in enumerate(sc.sectors):  # sectors with their own size mix (one draw per sector)
        if spec.size_share:
            sel = np.flatnonzero(sector == s)
            p = np.asarray(spec.size_share, dtype=float)
            size[sel] = rng.choice(len(SIZE_CLASSES), size=len(sel), p=p / p.sum())

    intensity = np.array([s.energy_intensity_factor for s in sc.sectors])
    median = np.asarray(sc.energy_median_mwh_per_yr, dtype=float)
    total = median[size] * intensity[sector] * np.exp(sc.energy_sigma_log * rng.standard_normal(n))
    mix = np.zeros((S, C))
    for s, spec in enumerate(sc.sectors):
        for c, v in spec.carrier_mix_share.items():
            mix[s, CARRIERS.index(c)] = v
    shape = mix[sector] * sc.carrier_mix_concentration
    g = rng.gamma(np.where(shape > 0, shape, 1.0)) * (shape > 0)
    firm_mix = g / np.maximum(g.sum(axis=1, keepdims=True), 1e-300)
    energy_mwh = total[:, None] * firm_mix
    process_rate = np.array([s.process_t_co2_per_mwh for s in sc.sectors])
    process = total * process_rate[sector]

    bill = energy_mwh @ energy.price_usd_per_mwh[0]
    cash = bill * sc.cash_per_energy_cost * np.exp(0.5 * rng.standard_normal(n))
    credit = bill * np.asarray(sc.credit_per_energy_cost, dtype=float)[size]
    f32 = np.float32
    hurdle = (np.asarray(sc.hurdle_rate_median_per_yr)[size] * np.exp(sc.hurdle_rate_sigma_log * rng.standard_normal(n))).astype(f32)
    capability = _beta_from_mean(rng, np.asarray(sc.capability_mean)[size], 6.0).astype(f32)
    risk_aversion = _beta_from_mean(rng, np.full(n, sc.risk_aversion_mean), 4.0).astype(f32)

    applicable = cat.applies_to_sector[sector] & (size[:, None] >= cat.min_size_class[None, :])
    aware = (rng.random((n, K), dtype=np.float32) < cat.initial_awareness_share[None, :].astype(np.float32)) & applicable

    cluster = np.full(n, -1, dtype=np.int16)
    reporting = np.full(n, NEVER, dtype=np.int32)
    names = [s.name for s in sc.sectors]
    u_member = rng.random(n)
    for ci, cl in enumerate(sc.clusters):
        in_sectors = np.isin(sector, [names.index(s) for s in cl.sectors if s in names])
        join = in_sectors & (cluster < 0) & (u_member < cl.membership_share)
        cluster[join] = ci
        # month a member starts reporting to the registry: geometric waiting time
        if cl.info_collection_rate_per_month > 0:
            wait = rng.geometric(cl.info_collection_rate_per_month, size=int(join.sum())) - 1
            reporting[join] = np.minimum(wait, NEVER - 1).astype(np.int32)

    large = SIZE_CLASSES.index("large")
    target = (size == large) & (rng.random(n) < sc.network.supplier_target_share_of_large)
    # firm i reviews its investments in the months t with t % interval == i % interval; rows
    # are i.i.d. draws, so this staggers reviews evenly and keeps each month's group a slice
    phase = (np.arange(n) % review_interval_months).astype(np.int16)

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
