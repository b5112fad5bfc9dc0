"""The measure catalogue as arrays: what each measure does to a firm's energy and emissions,
what it costs, and who can use it.

Shapes: K measures, C carriers (``params.CARRIERS``), S sectors of the scenario.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .params import CARRIERS, SIZE_CLASSES, MeasuresConfig

C = len(CARRIERS)
ELECTRICITY = CARRIERS.index("electricity")


@dataclass(frozen=True)
class Catalogue:
    names: tuple[str, ...]
    labels: tuple[str, ...]
    sources: tuple[str, ...]
    #: [K, C] share of current use of each carrier removed
    removes_share: np.ndarray
    #: [K] index of the carrier that replaces the removed energy (-1: none)
    adds_carrier: np.ndarray
    #: [K] MWh of that carrier per MWh removed
    adds_mwh_per_mwh_removed: np.ndarray
    #: [K] MWh of electricity the new process needs besides, per MWh removed
    adds_electricity_mwh_per_mwh_removed: np.ndarray
    capture_share: np.ndarray
    capture_penalty_mwh_per_t_co2: np.ndarray
    capex_fixed_usd: np.ndarray
    capex_usd_per_unit: np.ndarray
    capex_change_per_yr: np.ndarray
    om_share_of_capex_per_yr: np.ndarray
    lifetime_yr: np.ndarray
    #: [K] share of installations still in place after each further year (1: no lapse)
    persistence_share_per_yr: np.ndarray
    non_energy_benefit_share: np.ndarray
    #: [S, K] measure applies in sector
    applies_to_sector: np.ndarray
    min_size_class: np.ndarray
    available_from_year: np.ndarray
    complexity_share: np.ndarray
    hidden_cost_share: np.ndarray
    risk_premium_per_yr: np.ndarray
    info_rate_per_month: np.ndarray
    initial_awareness_share: np.ndarray

    @property
    def k(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        return self.names.index(name)

    @classmethod
    def from_config(cls, mc: MeasuresConfig, sector_names: list[str]) -> "Catalogue":
        ms = mc.catalogue
        K, S = len(ms), len(sector_names)
        rem = np.zeros((K, C))
        applies = np.zeros((S, K), dtype=bool)
        for k, m in enumerate(ms):
            for c, v in m.removes_share.items():
                rem[k, CARRIERS.index(c)] = v
            if "all" in m.sectors:
                applies[:, k] = True
            else:
                for s, sname in enumerate(sector_names):
                    applies[s, k] = sname in m.sectors

        def arr(attr, dtype=float):
            return np.array([getattr(m, attr) for m in ms], dtype=dtype)

        return cls(
            names=tuple(m.name for m in ms),
            labels=tuple(m.label or m.name for m in ms),
            sources=tuple(m.source for m in ms),
            removes_share=rem,
            adds_carrier=np.array([CARRIERS.index(m.adds_carrier) if m.adds_carrier else -1 for m in ms]),
            adds_mwh_per_mwh_removed=arr("adds_mwh_per_mwh_removed"),
            adds_electricity_mwh_per_mwh_removed=arr("adds_electricity_mwh_per_mwh_removed"),
            capture_share=arr("capture_share"),
            capture_penalty_mwh_per_t_co2=arr("capture_penalty_mwh_per_t_co2"),
            capex_fixed_usd=arr("capex_fixed_usd"),
            capex_usd_per_unit=arr("capex_usd_per_unit"),
            capex_change_per_yr=arr("capex_change_per_yr"),
            om_share_of_capex_per_yr=arr("om_share_of_capex_per_yr"),
            lifetime_yr=arr("lifetime_yr"),
            persistence_share_per_yr=arr("persistence_share_per_yr"),
            non_energy_benefit_share=arr("non_energy_benefit_share"),
            applies_to_sector=applies,
            min_size_class=np.array([SIZE_CLASSES.index(m.min_size_class) for m in ms]),
            available_from_year=arr("available_from_year", int),
            complexity_share=arr("complexity_share"),
            hidden_cost_share=arr("hidden_cost_share"),
            risk_premium_per_yr=arr("risk_premium_per_yr"),
            info_rate_per_month=arr("info_rate_per_month"),
            initial_awareness_share=arr("initial_awareness_share"),
        )

    def capex_multiplier(self, year_offset: int) -> np.ndarray:
        """[K] capex relative to the catalogue's base year after ``year_offset`` years of learning."""
        return (1.0 + self.capex_change_per_yr) ** year_offset

    def shift_matrix(self) -> np.ndarray:
        """[K, C, C] linear map from a firm's current energy by carrier to the change of its
        energy by carrier when it adopts the measure (before carbon capture's penalty)."""
        K = self.k
        D = np.zeros((K, C, C))
        for k in range(K):
            D[k] -= np.diag(self.removes_share[k])
            if self.adds_carrier[k] >= 0:
                D[k, self.adds_carrier[k], :] += self.removes_share[k] * self.adds_mwh_per_mwh_removed[k]
            if self.adds_electricity_mwh_per_mwh_removed[k] > 0:
                D[k, ELECTRICITY, :] += self.removes_share[k] * self.adds_electricity_mwh_per_mwh_removed[k]
        return D
