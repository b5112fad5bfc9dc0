"""Green loans: concessional loans from a credit line (``policy.green_loan``). A firm takes
one when the green rate is below its own effective rate; it relieves the capital barrier
(the loan adds to what the firm can fund). The public cost is the grant equivalent of the
interest-rate concession: L * (1 - annuity(market) / annuity(green)) over the term."""
from __future__ import annotations

import numpy as np

from ..barriers.economics import annuity_factor
from . import Mechanism, register
from .budget import Budget


@register("green_loan")
class GreenLoan(Mechanism, Budget):
    def __init__(self, engine, params):
        Mechanism.__init__(self, engine, params)
        self.open_budget(engine, "green_loan", params.enabled, params.credit_line_usd)
        self.cfg = params
        r_m = np.array([params.market_rate_per_yr])
        r_g = np.array([params.interest_rate_per_yr])
        self.concession_share = float(1.0 - annuity_factor(r_m, params.term_yr)[0] / annuity_factor(r_g, params.term_yr)[0])
        self.lent_usd = 0.0
        self.public_cost_usd = 0.0

    def offer(self, engine, firm, firm_cost, r_eff):
        if not self.active:
            return np.zeros(len(firm))
        useful = r_eff > self.params.interest_rate_per_yr
        return np.where(useful, np.minimum(np.maximum(firm_cost, 0.0), self.params.max_loan_per_firm_usd), 0.0)

    def allocate(self, mask, loan):
        return self.allocate_prefix(mask, loan)

    def release(self, mask, loan):
        self.release_amount(mask, loan)

    @property
    def public_cost_share(self) -> float:
        """Public money per USD lent: the grant equivalent of the concession."""
        return self.concession_share

    @property
    def public_spending_usd(self) -> float:
        return self.public_cost_usd

    def grant_equivalent(self, loan):
        return loan * self.concession_share

    def after_adoptions(self, engine, batch) -> None:
        self.lent_usd += float(batch.loan_usd.sum())
        self.public_cost_usd += float(batch.loan_grant_equivalent_usd.sum())
