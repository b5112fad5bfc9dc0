"""Energy-efficiency obligation with tradable white certificates.

As in France's Certificats d'économies d'énergie (CEE) and Italy's Certificati Bianchi
(TEE): the suppliers of the covered carriers must each year hold certified energy savings
in proportion to their sales; they earn certificates by paying end users for efficiency
measures ("primes CEE"), buy them at the certificate price, or pay a penalty per missing
certificate. Here the suppliers' sales are those to the cluster's firms, and the
certificates come from the cluster's firms' measures (a closed market: the share of the
national obligation the cluster's sales carry, met by the cluster's own measures).

Certificates (one per MWh in the counting unit):

- ``counting: cumac`` (France, the default): first-year final-energy saving (MWh/yr) x
  sum_{t=1..L} (1 + r)^-(t-1), L = the measure's lifetime, r = 4 %/yr: "MWh cumac"
  (cumulés et actualisés); e.g. 11.56 MWh cumac per MWh/yr over 15 years.
- ``counting: annual``: the first-year saving, MWh/yr (EU EED art. 7 "new annual savings";
  Italy issues its TEE per toe saved in each year of a project's life, not modelled).

The final-energy saving of a (firm, measure) is read from the measure's state change at the
firm's current energy use (sum over carriers of the MWh/yr removed minus added: a fuel switch
counts its net saving; capture, which uses energy, earns nothing). Measures without a
positive saving, and those excluded (``excluded_measures``), earn no certificates.

Incentive: an upfront payment per project, as CEE primes are paid: a grant channel offering
``share_of_value_to_firm`` x price x certificates (at most ``max_grant_share_of_capex`` of
capex). The decision takes the most generous offer among grant channels (no cumulation with
another grant; a pair funded by another channel is not certified here). The payment comes
from the obliged suppliers, i.e. from energy consumers through their bills, never from
public money: the channel spends no budget (``public_spending_usd`` = 0) and the costs are
reported separately (payments, penalties, their sum per MWh of covered sales).

Price (``price_rule: scarcity``; ``fixed`` holds it): at each year end with obligation O,
certificates issued in the year S and banked certificates B (``banking``), the scarcity is
s = (O - S - B) / O. A shortfall (s > 0) moves the price toward the penalty,
p += speed * s * (penalty - p); a surplus moves it toward the floor, p += speed * s * (p - floor)
(s < 0). The shortfall max(O - S - B, 0) pays the penalty (France: "pénalité libératoire",
which discharges the obligation); a surplus is banked. ``price_adjustment_speed`` and the
floor are free parameters.

Vectorised over candidate pairs (one einsum per month); no per-firm loop.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List

import numpy as np

from ..params import CARRIERS, ConfigError, nonneg
from . import Mechanism, register
from .budget import GrantInstrument, f32_cap

C = len(CARRIERS)

# Currency: USD per EUR, ECB euro foreign exchange reference rate, annual average 2024: 1.0824
# (ECB Data Portal, series EXR.A.USD.EUR.SP00.A).
USD_PER_EUR = 1.0824


@register("white_certificates")
class WhiteCertificates(Mechanism, GrantInstrument):
    @dataclass
    class Params:
        enabled: bool = True
        #: first year of the obligation (0 = the run's start year)
        start_year: int = 0
        #: "cumac" (lifetime, discounted: France) or "annual" (first-year MWh/yr saved)
        counting: str = "cumac"
        #: discount rate of the cumac count, per yr. Source: CEE convention, 4 %/yr ("l'actualisation,
        #: fixée à 4 %", ADEME/CEE; e.g. http://stanlaurent2.free.fr/_wordpress/index.php/le-certificat-deconomie-denergie;
        #: the 15-yr factor 11.56 follows)
        cumac_discount_rate_per_yr: float = 0.04
        #: obligation, certificates per MWh sold to the cluster's firms per year, by carrier.
        #: Source: Code de l'énergie art. R221-4 II (4th CEE period, 2019-2021): electricity
        #: 0.463, natural gas 0.278 kWh cumac per kWh of final energy sold
        #: (https://juriblio.fr/codes/code-de-l-energie/partie-reglementaire/livre-ii/titre-ii/chapitre-ier/section-1/article-r221-4).
        #: (5th period 2022-2025: 2,500 TWh cumac, raised to 3,100 TWh cumac by décret 2022-1368,
        #: https://www.larpf.fr/actualite/16283/cee-coup-de-boost-sur-l-obligation-de-la-5e-periode;
        #: its per-kWh coefficients were not retrieved here.) Counting "annual": the EU EED art. 7
        #: rate is 0.015 (1.5 % of annual sales, http://euase.net/eu-ase-position-paper-on-the-revision-of-the-energy-efficiency-directive-eed/).
        obligation_per_mwh_sold: Dict[str, float] = field(
            default_factory=lambda: {"electricity": 0.463, "natural_gas": 0.278})
        #: a fixed obligation added to the sales-based one, certificates per yr (free; 0 = none)
        obligation_mwh_per_yr: float = nonneg(0.0, unit="certificates per yr")
        #: certificate price in the first year, USD per certificate (MWh cumac). Source: C2E Market
        #: spot index, CEE classique, Sept. 2024: EUR 8.31/MWh cumac (https://c2emarket.com/?p=7173)
        #: x USD_PER_EUR
        certificate_price_usd_per_mwh: float = nonneg(8.99, unit="USD per certificate")
        #: penalty per missing certificate, USD. Source: Code de l'énergie art. R222-2, 5th period:
        #: EUR 0.015/kWh cumac = EUR 15/MWh cumac (classic obligation;
        #: https://tricoteuses.fr/legifrance/articles/LEGIARTI000043616725) x USD_PER_EUR. (Italy caps the
        #: TEE tariff contribution instead; not sourced here.)
        penalty_usd_per_mwh: float = nonneg(16.24, unit="USD per certificate")
        #: lowest price, USD per certificate (free parameter, 0-2; the CEE price was ~EUR 1.5/MWh cumac
        #: at end-2016, https://2017-2022.nosdeputes.fr/15/intervention/524740)
        price_floor_usd_per_mwh: float = nonneg(0.0, unit="USD per certificate")
        #: "scarcity" (the rule in the module doc) or "fixed"
        price_rule: str = "scarcity"
        #: share of the price gap closed per unit of scarcity each year (free parameter, 0.1-1)
        price_adjustment_speed: float = 0.5
        #: share of the certificate value paid to the firm; the rest is the obliged party's or
        #: intermediary's cost and margin (free parameter, 0.5-1)
        share_of_value_to_firm: float = 0.8
        #: the payment covers at most this share of a measure's capex (free parameter, 0-1)
        max_grant_share_of_capex: float = 1.0
        #: a year's surplus certificates count toward later years (CEE certificates stay valid
        #: across a period; design choice)
        banking: bool = True
        #: measures that earn certificates (["all"] = every measure with a final-energy saving)
        measures: List[str] = field(default_factory=lambda: ["all"])
        #: never certified, if in the catalogue: on-site generation is supply, not end-use
        #: efficiency (design choice)
        excluded_measures: List[str] = field(default_factory=lambda: ["rooftop_pv"])
        source: str = ("France CEE: Code de l'énergie R221-4, R222-2; C2E Market price index; "
                       "EU EED 2012/27/EU art. 7")

    @classmethod
    def validate(cls, p, cfg, key: str) -> None:
        if p.counting not in ("cumac", "annual"):
            raise ConfigError(f"{key}.counting", p.counting, "must be one of cumac, annual")
        if p.price_rule not in ("scarcity", "fixed"):
            raise ConfigError(f"{key}.price_rule", p.price_rule, "must be one of scarcity, fixed")
        for c, v in p.obligation_per_mwh_sold.items():
            if c not in CARRIERS:
                raise ConfigError(f"{key}.obligation_per_mwh_sold", c, f"unknown carrier; carriers: {', '.join(CARRIERS)}")
            if not v >= 0:
                raise ConfigError(f"{key}.obligation_per_mwh_sold.{c}", v, "must be a number >= 0")
        if not p.obligation_mwh_per_yr >= 0:
            raise ConfigError(f"{key}.obligation_mwh_per_yr", p.obligation_mwh_per_yr, "must be a number >= 0")
        if p.enabled and p.obligation_mwh_per_yr == 0 and not any(v > 0 for v in p.obligation_per_mwh_sold.values()):
            raise ConfigError(f"{key}.obligation_per_mwh_sold", dict(p.obligation_per_mwh_sold),
                              "no obligation: give a positive coefficient or obligation_mwh_per_yr")
        if not 0 <= p.cumac_discount_rate_per_yr < 1:
            raise ConfigError(f"{key}.cumac_discount_rate_per_yr", p.cumac_discount_rate_per_yr, "must be a rate in [0, 1)")
        if not 0 <= p.price_floor_usd_per_mwh <= p.penalty_usd_per_mwh:
            raise ConfigError(f"{key}.price_floor_usd_per_mwh", p.price_floor_usd_per_mwh,
                              f"must be in [0, penalty_usd_per_mwh = {p.penalty_usd_per_mwh}]")
        if not p.price_floor_usd_per_mwh <= p.certificate_price_usd_per_mwh <= p.penalty_usd_per_mwh:
            raise ConfigError(f"{key}.certificate_price_usd_per_mwh", p.certificate_price_usd_per_mwh,
                              f"must be in [price_floor_usd_per_mwh, penalty_usd_per_mwh] = "
                              f"[{p.price_floor_usd_per_mwh}, {p.penalty_usd_per_mwh}]")
        for name in ("price_adjustment_speed", "share_of_value_to_firm", "max_grant_share_of_capex"):
            v = getattr(p, name)
            if not 0 < v <= 1:
                raise ConfigError(f"{key}.{name}", v, "must be a share in (0, 1]")
        names = [m.name for m in cfg.measures.catalogue]
        for m in p.measures:
            if m != "all" and m not in names:
                raise ConfigError(f"{key}.measures", m, f"unknown measure; catalogue has: all, {', '.join(names)}")

    def __init__(self, engine, params):
        Mechanism.__init__(self, engine, params)
        p = params
        # no budget: the money is the suppliers' (energy consumers'), not public
        self.open_budget(engine, self.name, p.enabled, np.inf)
        cat = engine.catalogue
        self.first_year = p.start_year or engine.start_year
        self.eligible = np.array([("all" in p.measures or m in p.measures) and m not in p.excluded_measures
                                  for m in cat.names])
        r, life = p.cumac_discount_rate_per_yr, np.asarray(cat.lifetime_yr, float)
        annuity = life if r == 0 else (1.0 - (1.0 + r) ** -life) / (1.0 - 1.0 / (1.0 + r))
        #: [K] certificates per MWh/yr of first-year saving
        self.cert_per_mwh_yr = annuity if p.counting == "cumac" else np.ones(cat.k)
        self.coef = np.array([p.obligation_per_mwh_sold.get(c, 0.0) for c in CARRIERS])
        self.price = float(p.certificate_price_usd_per_mwh)
        self.bank = 0.0
        self.obligation = 0.0
        self.sales_mwh = 0.0
        self.year_open = False
        self.saving_map = None  # [K, C+1] final-energy MWh/yr saved per unit of state
        self._offered = (np.zeros(0, np.int64), np.zeros(0), np.zeros(0))  # pair key, certs, saving
        self.month_certs = self.month_saving = self.month_paid = 0.0
        self.by_year: dict[int, dict] = {}
        engine.add_grants(self)
        engine.subscribe("adoption", self._on_adoption)
        engine.subscribe("year_closed", self._settle)

    # -- the year -----------------------------------------------------------------------------
    def on(self, engine) -> bool:
        return self.enabled and engine.year >= self.first_year

    def new_year(self, engine) -> None:
        # final-energy MWh/yr a measure saves per unit of state x: -(sum over carriers of its change)
        self.saving_map = -engine.valuation.state_change[:, :C, :].sum(axis=1)
        if not self.on(engine):
            return
        self.sales_mwh = float(engine.energy_total @ (self.coef > 0))
        self.obligation = float(engine.energy_total @ self.coef) + self.params.obligation_mwh_per_yr
        self.year_open = True
        self.by_year[engine.year] = dict(
            obligation_mwh=self.obligation, covered_sales_mwh=self.sales_mwh, certificate_price_usd_per_mwh=self.price,
            certified_mwh=0.0, certified_savings_mwh_per_yr=0.0, certified_adoptions=0, payments_to_firms_usd=0.0,
            banked_in_mwh=self.bank, shortfall_mwh=0.0, penalty_paid_usd=0.0)

    def _settle(self, year) -> None:
        """Year end: compliance, penalty, bank, and next year's price."""
        if not self.year_open:
            return
        self.year_open = False
        h = self.by_year[year]
        p = self.params
        held = h["certified_mwh"] + (self.bank if p.banking else 0.0)
        gap = self.obligation - held
        h["shortfall_mwh"] = max(gap, 0.0)
        h["penalty_paid_usd"] = h["shortfall_mwh"] * p.penalty_usd_per_mwh
        self.bank = max(-gap, 0.0) if p.banking else 0.0
        h["banked_out_mwh"] = self.bank
        if p.price_rule == "scarcity" and self.obligation > 0:
            s = max(min(gap / self.obligation, 1.0), -1.0)
            target = p.penalty_usd_per_mwh if s > 0 else p.price_floor_usd_per_mwh
            self.price += p.price_adjustment_speed * abs(s) * (target - self.price)
            self.price = min(max(self.price, p.price_floor_usd_per_mwh), p.penalty_usd_per_mwh)

    # -- the grant channel ------------------------------------------------------------------
    def certificates(self, engine, firm, measure):
        """(certificates, first-year final-energy saving MWh/yr) of each (firm, measure) at the
        firms' current energy use; 0 where not eligible or nothing is saved."""
        x = engine.state_matrix(firm)
        saving = np.einsum("pc,pc->p", x, self.saving_map[measure])
        saving = np.where(self.eligible[measure] & (saving > 0), saving, 0.0)
        return saving * self.cert_per_mwh_yr[measure], saving

    def offer(self, engine, firm, measure, capex):
        if not self.active or not self.on(engine) or len(firm) == 0:
            self._offered = (np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
            return np.zeros(len(firm))
        certs, saving = self.certificates(engine, firm, measure)
        key = np.asarray(firm, np.int64) * engine.catalogue.k + np.asarray(measure, np.int64)
        order = np.argsort(key, kind="stable")
        self._offered = (key[order], certs[order], saving[order])
        value = self.params.share_of_value_to_firm * self.price * certs
        return np.minimum(value, self.params.max_grant_share_of_capex * capex)

    def grant_bound(self):
        if not self.active or self.price <= 0:
            return None
        return self.params.max_grant_share_of_capex, f32_cap(np.inf)

    def allocate(self, mask, grant):
        return mask.copy()  # the suppliers pay every certified project (no public budget)

    def release(self, mask, grant):
        pass

    def _on_adoption(self, month, batch) -> None:
        engine = self.engine
        mine = batch.instrument == engine.grant_code(self)
        if not mine.any():
            self.month_certs = self.month_saving = self.month_paid = 0.0
            return
        keys, certs, saving = self._offered
        key = batch.firm[mine].astype(np.int64) * engine.catalogue.k + batch.measure[mine].astype(np.int64)
        at = np.searchsorted(keys, key)
        self.month_certs = float(certs[at].sum())
        self.month_saving = float(saving[at].sum())
        self.month_paid = float(batch.grant_usd[mine].sum())
        h = self.by_year[engine.year]
        h["certified_mwh"] += self.month_certs
        h["certified_savings_mwh_per_yr"] += self.month_saving
        h["certified_adoptions"] += int(mine.sum())
        h["payments_to_firms_usd"] += self.month_paid

    def programme_activities(self, engine) -> None:
        self.month_certs = self.month_saving = self.month_paid = 0.0  # the month's adoptions come later

    # -- reporters ----------------------------------------------------------------------------
    @property
    def public_spending_usd(self) -> float:
        return 0.0

    def monthly_row(self, engine) -> dict:
        return {"wc_certificate_price_usd_per_mwh": self.price if self.on(engine) else 0.0,
                "wc_obligation_mwh": self.obligation if self.on(engine) else 0.0,
                "wc_certified_mwh": self.month_certs,
                "wc_certified_savings_mwh_per_yr": self.month_saving,
                "wc_payments_to_firms_usd": self.month_paid,
                "wc_bank_mwh": self.bank}

    def summary(self, engine) -> dict:
        by = self.by_year
        col = lambda k: {str(y): float(h.get(k, 0.0)) for y, h in sorted(by.items())}
        paid = sum(h["payments_to_firms_usd"] for h in by.values())
        penalty = sum(h["penalty_paid_usd"] for h in by.values())
        sales = sum(h["covered_sales_mwh"] for h in by.values())
        unit = "MWh cumac" if self.params.counting == "cumac" else "MWh/yr (first-year saving)"
        return {
            "headline": {"certified_mwh": float(sum(h["certified_mwh"] for h in by.values())),
                         "payments_to_firms_usd": paid, "penalty_paid_usd": penalty},
            "enabled": self.enabled,
            "certificate_unit": unit,
            "obligation_mwh_by_year": col("obligation_mwh"),
            "certified_mwh_by_year": col("certified_mwh"),
            "certified_savings_mwh_per_yr_by_year": col("certified_savings_mwh_per_yr"),
            "certified_adoptions_by_year": {str(y): int(h["certified_adoptions"]) for y, h in sorted(by.items())},
            "certificate_price_usd_per_mwh_by_year": col("certificate_price_usd_per_mwh"),
            "shortfall_mwh_by_year": col("shortfall_mwh"),
            "penalty_paid_usd_by_year": col("penalty_paid_usd"),
            "payments_to_firms_usd_by_year": col("payments_to_firms_usd"),
            "payments_to_firms_usd": paid,
            "penalty_paid_usd": penalty,
            "bank_mwh": self.bank,
            # who pays: the obliged suppliers, recovered from energy consumers' bills
            "cost_to_energy_consumers_usd": paid + penalty,
            "cost_per_mwh_sold_usd": (paid + penalty) / sales if sales > 0 else 0.0,
            "public_cost_usd": 0.0,
            "source": self.params.source,
        }
