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
    """A cluster association: its members host awareness workshops in turn and hear of each
    other's adoptions (peer brokerage, ``behaviour.cluster_broker_weight``)."""

    def __init__(self, model, index: int, name: str, members: np.ndarray):
        super().__init__(model)
        self.index = index
        self.name = name
        self.members = members


#: the engine's instruments, first in the spending reporters (then other grant channels and
#: the mechanisms' own spending, in the order they were added)
SPENDING_ORDER = ("capex_subsidy", "cost_share", "green_loan", "workshops", "training")


class Government(mesa.Agent):
    """The public side of the cluster: the mechanisms' grant channels (asked for offers in
    the order they were added), the carbon price by source, public spending by name, and
    the emissions registry."""

    def __init__(self, model, registry):
        super().__init__(model)
        self.registry = registry
        #: channels that pay part of capex, asked for offers in this order
        self.grant_instruments: list = []
        #: public spending by name (objects with ``spent_usd``), in reporting order
        self.other_spending: dict[str, object] = {}
        #: the kind of each name in ``other_spending`` (``sim.engine.SPENDING_KINDS``)
        self.spending_kind: dict[str, str] = {}
        self._carbon_prices: dict[str, tuple[float, np.ndarray]] = {}
        self.carbon_price_usd_per_t = 0.0
        self.carbon_price_covers = np.zeros(model.n_firms, bool)

    def set_carbon_price(self, source: str, usd_per_t: float, covers: np.ndarray) -> None:
        """Prices of several sources add up; a firm is covered if a source with a positive
        price covers it."""
        self._carbon_prices[source] = (float(usd_per_t), covers)
        total, cov = 0.0, None
        for price, c in self._carbon_prices.values():
            total += price
            if price > 0:
                cov = c if cov is None else cov | c
        self.carbon_price_usd_per_t = total
        self.carbon_price_covers = cov if cov is not None else np.zeros(len(covers), bool)

    @property
    def instrument_names(self) -> tuple[str, ...]:
        """Names of the adoption log's instrument codes (0 = no grant)."""
        return ("none",) + tuple(g.name for g in self.grant_instruments)

    def grant_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Each active grant channel's bound ``grant_bound()`` as float32 [G, K] arrays
        (share, cap): its grant on a capex is at most min(share * capex, cap)."""
        K = self.model.catalogue.k
        rows = [b for b in (g.grant_bound() for g in self.grant_instruments) if b is not None]
        share = np.empty((len(rows), K), np.float32)
        cap = np.empty((len(rows), K), np.float32)
        for i, (s, c) in enumerate(rows):
            share[i], cap[i] = s, c
        return share, cap

    def spending_usd(self) -> dict[str, float]:
        """Public money spent so far, by name (green loans: grant equivalent); contributions
        in kind are not public money (:meth:`in_kind_usd`)."""
        mech = {m.name: m for m in self.model.mechanisms}
        out = {name: mech[name].public_spending_usd for name in SPENDING_ORDER}
        for g in self.grant_instruments:
            out.setdefault(g.name, g.spent_usd)
        for name, obj in self.other_spending.items():
            if self.spending_kind.get(name) != "in_kind":
                out[name] = obj.spent_usd
        return out

    def in_kind_usd(self) -> dict[str, float]:
        """Contributions in kind by non-public partners so far, by name (not public money)."""
        return {name: obj.spent_usd for name, obj in self.other_spending.items()
                if self.spending_kind.get(name) == "in_kind"}

    def budgeted_instruments(self) -> dict:
        """Every mechanism with a budget (for exhaustion reporting)."""
        mech = {m.name: m for m in self.model.mechanisms}
        out = {name: mech[name] for name in SPENDING_ORDER}
        for g in self.grant_instruments:
            out.setdefault(g.name, g)
        return out
