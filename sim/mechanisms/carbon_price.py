"""Carbon price: a price on the scope-1 (combustion and process) CO2 of covered firms, USD/t
(``policy.carbon_price``): from ``start_year``, ``price_usd_per_t_co2`` growing by
``growth_usd_per_t_co2_per_yr``; firms below ``min_size_class`` are exempt. It enters the
economics barrier: covered firms value the scope-1 CO2 a measure avoids at the price. Set
before the initial stock (the start year's price shapes the measures already in place)."""
from __future__ import annotations

from ..params import SIZE_CLASSES
from . import Mechanism, register


@register("carbon_price")
class CarbonPrice(Mechanism):
    def __init__(self, engine, params):
        super().__init__(engine, params)
        self.covers = engine.firms.size_class >= SIZE_CLASSES.index(params.min_size_class)

    def price(self, year: int) -> float:
        c = self.params
        if not c.enabled or year < c.start_year:
            return 0.0
        return c.price_usd_per_t_co2 + c.growth_usd_per_t_co2_per_yr * (year - c.start_year)

    def setup(self, engine) -> None:
        self.new_year(engine)

    def new_year(self, engine) -> None:
        engine.set_carbon_price(self.name, self.price(engine.year), self.covers)
