"""Mesa agents. ``Firm`` is a thin view on its row of the firm table; ``Cluster`` is a cluster
association; ``Government`` holds the policy instruments and the emissions registry.

The monthly work of all firms is vectorised in the model's phases (``decision.py``), so a
Firm has no ``step``: it is what a user inspects, not a unit of computation.
"""
from __future__ import annotations

import mesa
import numpy as np

from .params import CARRIERS, SIZE_CLASSES


class Firm(mesa.Agent):
    """An industrial firm: a view on row ``row`` of ``model.firms``."""

    def __init__(self, model, row: int):
        super().__init__(model)
        self.row = row

    # identity ---------------------------------------------------------------------
    @property
    def sector(self) -> str:
        return self.model.sector_names[self.model.firms.sector[self.row]]

    @property
    def size_class(self) -> str:
        return SIZE_CLASSES[self.model.firms.size_class[self.row]]

    @property
    def cluster(self) -> str | None:
        c = int(self.model.firms.cluster[self.row])
        return self.model.clusters[c].name if c >= 0 else None

    # state ------------------------------------------------------------------------
    @property
    def energy_mwh_per_yr(self) -> dict[str, float]:
        e = self.model.firms.energy_mwh_per_yr[self.row]
        return {c: float(v) for c, v in zip(CARRIERS, e) if v > 0}

    @property
    def scope1_t_co2_per_yr(self) -> float:
        return float(self.model.scope1_rate[self.row])

    @property
    def scope2_t_co2_per_yr(self) -> float:
        return float(self.model.scope2_rate[self.row])

    @property
    def emissions_t_co2_per_yr(self) -> float:
        return self.scope1_t_co2_per_yr + self.scope2_t_co2_per_yr

    @property
    def hurdle_rate_per_yr(self) -> float:
        return float(self.model.firms.hurdle_rate_per_yr[self.row])

    @property
    def capability(self) -> float:
        return float(self.model.firms.capability[self.row])

    @property
    def aware_of(self) -> list[str]:
        return [m for m, a in zip(self.model.catalogue.names, self.model.firms.aware[self.row]) if a]

    @property
    def adopted(self) -> list[str]:
        return [m for m, a in zip(self.model.catalogue.names, self.model.firms.adopted[self.row]) if a]

    def explain(self) -> list[dict]:
        """Each measure with the state of every decision term (what blocks or allows it)."""
        from .decision import explain

        return explain(self.model, self.row)

    def __repr__(self) -> str:
        return f"Firm({self.row}, {self.sector}, {self.size_class})"


class Cluster(mesa.Agent):
    """A cluster association: gathers information from members for the registry, hosts
    awareness workshops for members, and brokers peer exchange (members hear of each
    other's adoptions; see ``behaviour.cluster_broker_weight``)."""

    def __init__(self, model, index: int, name: str, members: np.ndarray):
        super().__init__(model)
        self.index = index
        self.name = name
        self.members = members
        self.workshops_held = 0

    def collect_information(self) -> float:
        """Share of members reporting to the registry this month."""
        if len(self.members) == 0:
            return 0.0
        return float((self.model.firms.reporting_from_month[self.members] <= self.model.month).mean())

    def host_workshop(self) -> np.ndarray:
        part = self.model.gov.workshops.run(self.model, self.members, host=self.index)
        if len(part):
            self.workshops_held += 1
        return part

    def adopter_share(self) -> np.ndarray:
        """[K] share of members that adopted each measure."""
        return self.model.cluster_adopters[self.index] / max(len(self.members), 1)


class Government(mesa.Agent):
    """Holds the policy instruments and their budgets, and keeps the emissions registry."""

    def __init__(self, model, instruments: dict, registry):
        super().__init__(model)
        self.instruments = instruments
        self.capex_subsidy = instruments["capex_subsidy"]
        self.cost_share = instruments["cost_share"]
        self.green_loan = instruments["green_loan"]
        self.workshops = instruments["workshops"]
        self.training = instruments["training"]
        self.carbon_price = instruments["carbon_price"]
        self.registry = registry
        #: instruments that pay part of capex, asked for offers in this order
        self.grant_instruments = [self.cost_share, self.capex_subsidy]
        #: other budgets programme actors spend (name -> object with ``spent_usd``)
        self.other_spending: dict[str, object] = {}
        self.carbon_price_usd_per_t = 0.0
        covered = SIZE_CLASSES.index(self.carbon_price.cfg.min_size_class)
        self.carbon_price_covers = model.firms.size_class >= covered

    def new_year(self, year: int) -> None:
        self.carbon_price_usd_per_t = self.carbon_price.price(year)
        self.cost_share.new_year(year)
        self.training.new_year()

    def new_month(self, month: int) -> None:
        for inst in self.instruments.values():
            inst._month = month

    @property
    def instrument_names(self) -> tuple[str, ...]:
        """Names of the adoption log's instrument codes (0 = no grant)."""
        return ("none",) + tuple(g.name for g in self.grant_instruments)

    def grant_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Each active grant instrument's bound ``grant_bound()`` as float32 [G, K] arrays
        (share, cap): its grant on a capex is at most min(share * capex, cap)."""
        K = self.model.catalogue.k
        rows = [b for b in (g.grant_bound() for g in self.grant_instruments) if b is not None]
        share = np.empty((len(rows), K), np.float32)
        cap = np.empty((len(rows), K), np.float32)
        for i, (s, c) in enumerate(rows):
            share[i], cap[i] = s, c
        return share, cap

    def max_grant_bound(self, capex: np.ndarray) -> np.ndarray:
        """An upper bound of the grant any active instrument could pay on each capex ([R, K]
        float32 USD)."""
        share, cap = self.grant_bounds()
        bound = np.zeros(capex.shape, np.float32)
        for s, c in zip(share, cap):
            g = np.where(np.isinf(s), c, np.minimum(np.where(np.isinf(s), 0, s) * capex, c))
            bound = np.maximum(bound, g)
        return bound

    def spending_usd(self) -> dict[str, float]:
        """Public money spent so far, by instrument (green loans: grant equivalent)."""
        out = {
            "capex_subsidy": self.capex_subsidy.spent_usd,
            "cost_share": self.cost_share.spent_usd,
            "green_loan": self.green_loan.public_cost_usd,
            "workshops": self.workshops.spent_usd,
            "training": self.training.spent_usd,
        }
        for g in self.grant_instruments:
            out.setdefault(g.name, g.spent_usd)
        for name, obj in self.other_spending.items():
            out[name] = obj.spent_usd
        return out

    def budgeted_instruments(self) -> dict:
        """Every instrument with a budget (for exhaustion reporting)."""
        out = {k: v for k, v in self.instruments.items() if hasattr(v, "exhausted_month")}
        for g in self.grant_instruments:
            out.setdefault(g.name, g)
        return out
