"""Shared infrastructure of an industrial cluster: a CO2 transport and storage network, or a
hydrogen network, that several firms need and no firm builds for itself.

The network is an agent. Its measures (``measures``: carbon capture for a CO2 network;
hydrogen use for a hydrogen network) cannot be bought until it operates. Once a year it
asks every firm that could use one of its measures whether it would **commit** (sign a
letter of intent / a transport-and-storage agreement): the firm commits when it knows the
measure, finds it worth it at its own effective discount rate with the network's tariff
(the same decision terms as ``sim/decision.py``, with the measure treated as available and
the most generous grant on offer) and can finance it. A final investment decision (FID)
on a new phase is taken when committed flow not yet covered by planned capacity reaches
``min_throughput_per_yr``; the phase is
sized to that flow plus ``capacity_headroom_share``. It first needs its permits
(``permitting_yr``: e.g. an EPA Class VI permit for CO2 injection wells), then is built
(``lead_time_yr``), then ramps up: in its k-th operating year it offers
``ramp_up_share_by_year[k]`` of its capacity (the last entry from then on; injection wells,
compression trains and connections come on line in stages). While spare operating capacity
remains, the measures are available to every firm (open access); when it is booked,
connections wait for the ramp-up or the next phase.

Pooled commitment (the cluster coordinates a joint FID, as Porthos in Rotterdam did with
its four anchor emitters) counts every committed firm together. Without it
(``pooled_commitment: false``, or a mechanism declaring the engine fact
``infrastructure_coordinated`` False, as ``wef_pillars`` does with its ``partnerships``
pillar off), only a single emitter whose own flow reaches the minimum can anchor a phase.

Units: flows are t CO2/yr captured (CO2 network) or MWh/yr of hydrogen (hydrogen network);
tariffs USD per t or per MWh. All computations are vectorised over the candidate firms
(those a network measure applies to), once a year for commitments and once a month for
the booked capacity.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List

import numpy as np

from ..energy import SCOPE1_CARRIERS
from ..params import CARRIERS, ConfigError
from . import Mechanism, register

HYDROGEN = CARRIERS.index("hydrogen")


class SharedInfrastructure(Mechanism):
    """Base class: a network whose availability depends on enough firms committing."""

    carries = "co2"
    unit = "t_co2_per_yr"

    @dataclass
    class Params:
        #: measures that need this network (they are unavailable until it operates)
        measures: List[str] = field(default_factory=list)
        #: committed flow that justifies a final investment decision on a phase (t/yr or MWh/yr)
        min_throughput_per_yr: float = 1.0e6  # free parameter, range 0.5-2.5 M (Northern Lights phase 1: 1.5 Mt CO2/yr)
        #: years from the decision to the permits (e.g. EPA Class VI for CO2 storage wells); 0 = none
        permitting_yr: int = 0
        #: years of construction, from the permits (final investment decision) to first operation
        lead_time_yr: int = 3  # source: Porthos FID 2023, operation 2026 (3 years)
        #: share of a phase's capacity offered in its 1st, 2nd, ... operating year (last one
        #: holds afterwards); [1.0] = full capacity at once
        ramp_up_share_by_year: List[float] = field(default_factory=lambda: [1.0])
        #: first year the cluster can decide to develop a phase (apply for its permits)
        earliest_fid_year: int = 2024  # free parameter, range 2024-2030
        #: spare capacity built on top of the committed flow, share
        capacity_headroom_share: float = 0.25  # free parameter, range 0-0.5
        #: tariff users pay per unit carried (USD/t CO2 or USD/MWh H2), part of the measure's cost
        tariff_usd_per_unit: float = 0.0  # 0 = none; Smith et al. (2021): CO2 transport and storage US$ 4-45/t
        #: commitments of all firms count together (a cluster-coordinated FID)
        pooled_commitment: bool = True
        #: public sources of the numbers above
        source: str = ""

    @classmethod
    def validate(cls, params, cfg, key: str) -> None:
        names = {m.name: m for m in cfg.measures.catalogue}
        if not params.measures:
            raise ConfigError(f"{key}.measures", [], "must list the measures that need this network")
        for m in params.measures:
            if m not in names:
                raise ConfigError(f"{key}.measures", m, f"unknown measure; catalogue has: {', '.join(names)}")
            spec = names[m]
            if cls.carries == "co2" and spec.capture_share <= 0:
                raise ConfigError(f"{key}.measures", m, "a CO2 network serves carbon-capture measures (capture_share > 0)")
            if cls.carries == "hydrogen" and spec.adds_carrier != "hydrogen":
                raise ConfigError(f"{key}.measures", m, "a hydrogen network serves measures that add hydrogen (adds_carrier: hydrogen)")
        if not params.min_throughput_per_yr > 0:
            raise ConfigError(f"{key}.min_throughput_per_yr", params.min_throughput_per_yr, "must be a number > 0")
        for name in ("permitting_yr", "lead_time_yr"):
            if getattr(params, name) < 0:
                raise ConfigError(f"{key}.{name}", getattr(params, name), "must be an integer >= 0")
        ramp = list(params.ramp_up_share_by_year)
        if not ramp or any(not 0 < r <= 1 for r in ramp) or any(b < a for a, b in zip(ramp, ramp[1:])):
            raise ConfigError(f"{key}.ramp_up_share_by_year", ramp, "must be a non-decreasing list of shares in (0, 1]")
        if params.capacity_headroom_share < 0:
            raise ConfigError(f"{key}.capacity_headroom_share", params.capacity_headroom_share, "must be >= 0")
        if params.tariff_usd_per_unit < 0:
            raise ConfigError(f"{key}.tariff_usd_per_unit", params.tariff_usd_per_unit, "must be >= 0")
        if not params.source.strip():
            raise ConfigError(f"{key}.source", params.source, "cite the public source of the network's numbers")

    def __init__(self, engine, params):
        super().__init__(engine, params)
        cat, ft = engine.catalogue, engine.firms
        self.k = np.array([cat.index(m) for m in params.measures], dtype=np.int64)
        self.needs = np.zeros(cat.k, dtype=bool)
        self.needs[self.k] = True
        #: firms a network measure applies to (the only ones that can commit or connect)
        self.candidates = np.flatnonzero(ft.applicable[:, self.k].any(axis=1))
        #: phases: {"fid_year", "operating_year", "capacity"}
        self.phases: list[dict] = []
        self.committed = np.zeros(len(self.candidates), dtype=bool)
        self.committed_flow = 0.0
        self.connected_flow = 0.0
        self.history: dict[int, dict] = {}
        self.first_operating_month: int | None = None
        self.W = None  # [C+1, len(k)] flow per unit of firm state if adopted

    # ----------------------------------------------------------------------------------
    def pooled(self, engine) -> bool:
        """Commitments count together unless the cluster does not coordinate its
        infrastructure (the engine fact ``infrastructure_coordinated``, e.g. declared False
        by ``wef_pillars`` with the partnerships pillar off)."""
        return bool(self.params.pooled_commitment and engine.fact("infrastructure_coordinated", True))

    def _flow_weights(self, engine) -> np.ndarray:
        if self.carries == "co2":
            e1 = np.concatenate([np.where(SCOPE1_CARRIERS, engine.ef, 0.0), [1.0]])
            return (engine.catalogue.capture_share[self.k][None, :] * e1[:, None]).astype(np.float32)
        return engine.valuation.state_change[self.k, HYDROGEN, :].T.astype(np.float32)

    def connected_mask(self, engine) -> np.ndarray:
        """[candidates] firms that adopted one of the network's measures."""
        return engine.firms.adopted[self.candidates][:, self.k].any(axis=1)

    def _connected_flow(self, engine) -> float:
        c = self.candidates[self.connected_mask(engine)]
        if len(c) == 0:
            return 0.0
        ft = engine.firms
        if self.carries == "co2":
            cap = ft.capture_share[c]
            return float((engine.scope1_rate[c] * cap / np.maximum(1.0 - cap, 1e-9)).sum())
        return float(ft.energy_mwh_per_yr[c, HYDROGEN].sum())

    def ramp_share(self, years_operating: int) -> float:
        """Share of a phase's capacity offered in its ``years_operating``-th year (0 = first)."""
        ramp = self.params.ramp_up_share_by_year
        return float(ramp[min(years_operating, len(ramp) - 1)])

    def capacity(self, year: int, operating_only: bool = True) -> float:
        """Capacity offered in ``year`` (phases operating, each at its ramp-up share), or with
        ``operating_only=False`` the full capacity of every phase decided so far."""
        if not operating_only:
            return float(sum(p["capacity"] for p in self.phases))
        return float(sum(p["capacity"] * self.ramp_share(year - p["operating_year"])
                         for p in self.phases if p["operating_year"] <= year))

    def operating(self, year: int) -> bool:
        return self.capacity(year) > 0

    # hooks ------------------------------------------------------------------------------
    def setup(self, engine) -> None:
        """The start year's commitment round before the initial stock (a phase decided now
        may already operate); it is held again in the start year's ``new_year``."""
        self._commitment_round(engine)

    def new_year(self, engine) -> None:
        self._commitment_round(engine)

    def _commitments(self, engine) -> np.ndarray:
        """[candidates] flow each candidate firm commits (0: none): the largest flow of a
        network measure it knows, has not adopted, finds worth it (NPV > 0 with the network's
        tariff and the most generous grant on offer) and can finance."""
        idx, k = self.candidates, self.k
        ft = engine.firms
        tm = engine.terms(idx)
        # the most generous grant any channel could pay (e.g. co-funding of heavy measures)
        grant = np.broadcast_to(engine.max_grant_usd(tm.capex), tm.capex.shape)
        npv = tm.npv(grant)[:, k]  # the decision's NPV, with the grant and no loan
        grant = grant[:, k]
        ok = ft.aware[idx][:, k] & ft.applicable[idx][:, k] & ~ft.adopted[idx][:, k]
        ok &= (npv > 0) & (tm.capex[:, k] - grant <= tm.funds[:, None])
        flow = engine.state_matrix(idx).astype(np.float32) @ self.W
        return np.where(ok, flow, 0.0).max(axis=1)

    def _commitment_round(self, engine) -> None:
        """Ask the candidates to commit; take a final investment decision on a new phase when
        the eligible committed flow not yet covered by planned capacity reaches the minimum."""
        self.W = self._flow_weights(engine)
        year = engine.year
        self.connected_flow = self._connected_flow(engine)
        self.committed[:] = False
        self.committed_flow = 0.0
        anchors_flow = 0.0
        largest = 0.0
        pooled = self.pooled(engine)
        if year >= self.params.earliest_fid_year and len(self.candidates):
            firm_flow = self._commitments(engine)
            self.committed = (firm_flow > 0) & ~self.connected_mask(engine)
            self.committed_flow = float(firm_flow[self.committed].sum())
            anchors_flow = float(firm_flow[self.committed & (firm_flow >= self.params.min_throughput_per_yr)].sum())
            largest = float(firm_flow[self.committed].max()) if self.committed.any() else 0.0
            eligible = self.committed_flow if pooled else anchors_flow
            gap = eligible + self.connected_flow - self.capacity(year, operating_only=False)
            if gap >= self.params.min_throughput_per_yr:
                self.phases.append({
                    "decision_year": year,
                    "fid_year": year + self.params.permitting_yr,  # permits granted, construction starts
                    "operating_year": year + self.params.permitting_yr + self.params.lead_time_yr,
                    "capacity": gap * (1.0 + self.params.capacity_headroom_share),
                })
        self.history[year] = {
            "committed_firms": int(self.committed.sum()),
            f"committed_{self.unit}": self.committed_flow,
            f"largest_commitment_{self.unit}": largest,
            f"connected_{self.unit}": self.connected_flow,
            f"capacity_{self.unit}": self.capacity(year),
            f"planned_capacity_{self.unit}": self.capacity(year, operating_only=False),
            "pooled_commitment": pooled,
        }

    def available(self, engine):
        year = engine.year
        cap = self.capacity(year)
        if cap <= 0:
            return ~self.needs
        self.connected_flow = self._connected_flow(engine)
        if self.first_operating_month is None:
            self.first_operating_month = engine.month
        if self.connected_flow >= cap:
            return ~self.needs  # booked out: new connections wait for the next phase
        return None

    def extra_value_usd_per_yr(self, engine, firms):
        """The network's tariff on the flow each (firm, measure) would send, USD/yr (negative)."""
        if self.params.tariff_usd_per_unit <= 0 or self.W is None:
            return None
        x = engine.state_matrix(firms).astype(np.float32)
        out = np.zeros((x.shape[0], engine.catalogue.k), dtype=np.float32)
        out[:, self.k] = -(x @ self.W) * np.float32(self.params.tariff_usd_per_unit)
        return out

    def monthly_row(self, engine) -> dict:
        name = self.name
        return {
            f"{name}_operating": int(self.operating(engine.year)),
            f"{name}_capacity_{self.unit}": float(self.capacity(engine.year)),
            f"{name}_connected_{self.unit}": float(self.connected_flow),
        }

    def summary(self, engine) -> dict:
        conn = self.connected_mask(engine)
        return {
            "carries": self.carries,
            "measures": list(self.params.measures),
            "pooled_commitment": self.pooled(engine),
            "phases": [dict(p) for p in self.phases],
            "first_decision_year": self.phases[0]["decision_year"] if self.phases else None,
            "first_fid_year": self.phases[0]["fid_year"] if self.phases else None,
            "first_operating_year": min((p["operating_year"] for p in self.phases), default=None),
            "first_operating_month": self.first_operating_month,
            "connected_firms": int(conn.sum()),
            f"connected_{self.unit}": self._connected_flow(engine),
            f"capacity_{self.unit}": self.capacity(engine.year),
            "by_year": {str(y): v for y, v in self.history.items()},
            "source": self.params.source,
        }


@register("co2_transport_storage")
class CO2TransportStorage(SharedInfrastructure):
    """A CO2 pipeline to geological storage shared by the cluster's capture projects
    (flows in t CO2/yr captured)."""

    carries = "co2"
    unit = "t_co2_per_yr"


@register("hydrogen_network")
class HydrogenNetwork(SharedInfrastructure):
    """A hydrogen pipeline network supplying the cluster's hydrogen users (flows in MWh/yr)."""

    carries = "hydrogen"
    unit = "mwh_per_yr"
