"""A naive reference of the engine's decision rules, written the ordinary Mesa way.

One ``mesa.Agent`` object per firm with plain Python attributes (lists of floats and bools);
every month ``model.agents_by_type[NaiveFirm].shuffle_do("step")`` and each firm whose
investment review falls in the month loops, in Python, over its network neighbours (peer
share), over the measures (awareness hazard, then every decision term) and asks the
government for grants, loans and consultants one request at a time.

It implements the rules of ``sim/decision.py`` and ``sim/policy.py`` (see their docstrings):

- information: an unaware, applicable measure becomes known with probability
  1 - exp(-hazard * months since the last review), hazard = info_rate_k
  + peer_awareness * peer_share + customer_pressure_awareness * customer pressure;
- economics at the firm's effective discount rate r_eff = hurdle - customer pressure
  + risk_aversion * risk_premium_k * (1 - workshop relief) * (1 - peer relief * peer share),
  after hidden costs (hidden_cost_share_k * capex * (1 - relief)), with non-energy benefits,
  the carbon price on scope-1 t, O&M; grant, green-loan concession in the present value;
- capital: measures funded most profitable first while cash + credit (+ loan) last;
- skills: capability >= complexity, or a trained consultant, or the cost-share programme's
  technical assistance;
- instruments: cost-share programme (assessments, yearly quota, co-pay, budget, one project
  per firm), capex subsidy (share, cap, budget), green loan (credit line, concession),
  workshops (reach, awareness lift, relief, budget), training (courses -> consultants);
  budgets bind: the first request the money cannot cover stops the instrument for good;
- peers: share of neighbours that adopted + cluster-association broker weight x the
  association's adopter share, capped at 1 (or the population share for ``network.kind:
  complete``);
- lifetimes: an installation ends at the firm's first review at or after its lifetime (or
  lapses at a review with probability 1 - persistence^(interval/12)); the firm's energy is
  rebuilt from its base with the measures left; output growth scales energy each January.

It consumes the same composed config (``sim.run.compose`` + ``sim.params.to_config``) and the
same firm population: :class:`NaiveModel` copies, row by row, the firm table, network and
catalogue of a built :class:`sim.model.ClusterModel` (after its initial measure stock) into
per-agent Python objects. The yearly price / emission-factor tables per measure come from
``sim.decision.valuation`` (catalogue data, computed once a year; not the hot path).

What differs from the engine, by construction: the random streams (Python's ``random`` via
Mesa's ``model.random``), float64 instead of float32 terms, and the order in which firms of
one review group claim budgets (random activation here; firm order in the engine) and see
each other's adoptions (immediately here; the next month in the engine); ``activation=
"ordered"`` steps firms in row order instead, which makes runs without random draws match
the engine adoption for adoption. Scenario programme
actors (``scenario.programmes``) are not implemented: such configs are refused.

Run: ``.venv/bin/python benchmarks/naive_reference.py --n-firms 2000 --steps 24``
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import mesa
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sim import decision  # noqa: E402
from sim.energy import ELECTRICITY, SCOPE1_CARRIERS  # noqa: E402
from sim.firms import NEVER16  # noqa: E402
from sim.params import CARRIERS, SIZE_CLASSES  # noqa: E402

C = len(CARRIERS)


def _annuity(rate: float, years: float) -> float:
    rate = max(rate, 1e-6)
    return -math.expm1(-years * math.log1p(rate)) / rate


# ---------------------------------------------------------------------------------------
# Instruments: scalar budgets, one request at a time
# ---------------------------------------------------------------------------------------
class Budget:
    """A budgeted instrument: ``request`` spends while money lasts; the first request the
    remaining money cannot cover stops the instrument for good (month recorded)."""

    def __init__(self, enabled: bool, budget_usd: float):
        self.enabled = bool(enabled)
        self.budget_usd = float(budget_usd)
        self.spent_usd = 0.0
        self.exhausted_month = None

    @property
    def active(self) -> bool:
        return self.enabled and self.exhausted_month is None

    def request(self, amount_usd: float, month: int) -> bool:
        if not self.active:
            return False
        if amount_usd > self.budget_usd - self.spent_usd + 1e-9:
            self.exhausted_month = month
            return False
        self.spent_usd += amount_usd
        return True

    def give_back(self, amount_usd: float) -> None:
        self.spent_usd -= amount_usd


class NaiveGovernment(mesa.Agent):
    """Instruments and their budgets; answers the firms' requests one by one."""

    def __init__(self, model, pcfg, measure_names):
        super().__init__(model)
        self.cfg = pcfg
        cs, sub, gl, ws, tr = pcfg.cost_share, pcfg.capex_subsidy, pcfg.green_loan, pcfg.workshops, pcfg.training
        self.subsidy = Budget(sub.enabled, sub.budget_usd)
        self.subsidy_measure_ok = ["all" in sub.measures or m in sub.measures for m in measure_names]
        self.subsidy_size_ok = [s in sub.size_classes for s in SIZE_CLASSES]
        self.cost_share = Budget(cs.enabled, cs.budget_usd)
        self.cs_start_year = cs.start_year or model.start_year
        self.cs_sector_ok = ["all" in cs.sectors or s in cs.sectors for s in model.sector_names]
        self.cs_size_ok = [s in cs.size_classes for s in SIZE_CLASSES]
        self.quota_left = 0
        self.assessment_queue = None
        self.assessments = 0
        self.loan = Budget(gl.enabled, gl.credit_line_usd)
        self.loan_concession_share = 1.0 - _annuity(gl.market_rate_per_yr, gl.term_yr) / _annuity(gl.interest_rate_per_yr, gl.term_yr)
        self.lent_usd = 0.0
        self.loan_public_cost_usd = 0.0
        self.workshops = Budget(ws.enabled, ws.budget_usd)
        self.workshops_held = 0
        self.training = Budget(tr.enabled, tr.budget_usd)
        self.consultants = 0
        self.capacity = 0
        self.pending_courses: list[tuple[int, int]] = []
        self.carbon_price_usd_per_t = 0.0
        self.carbon_min_size = SIZE_CLASSES.index(pcfg.carbon_price.min_size_class)

    # yearly / monthly --------------------------------------------------------------------
    def new_year(self, year: int) -> None:
        cp = self.cfg.carbon_price
        self.carbon_price_usd_per_t = (
            cp.price_usd_per_t_co2 + cp.growth_usd_per_t_co2_per_yr * (year - cp.start_year)
            if cp.enabled and year >= cp.start_year else 0.0)
        py = year - self.cs_start_year
        q = self.cfg.cost_share.quota_projects_per_yr
        self.quota_left = 0 if py < 0 else int(q[min(py, len(q) - 1)])
        self.capacity = self.consultants * self.cfg.training.projects_per_consultant_per_yr

    def workshops_due(self, month: int) -> int:
        if not self.workshops.enabled:
            return 0
        m, w = month % 12, self.cfg.workshops.workshops_per_yr
        return (m + 1) * w // 12 - m * w // 12

    def hold_workshop(self, pool: list) -> int:
        """One awareness workshop for firms drawn from ``pool``; returns the participants."""
        model, ws = self.model, self.cfg.workshops
        if not pool or not self.workshops.request(ws.cost_per_workshop_usd, model.month):
            return 0
        rnd = model.random
        part = rnd.sample(pool, min(ws.firms_per_workshop, len(pool)))
        for firm in part:
            for k in range(model.K):
                if rnd.random() < ws.awareness_lift_share and firm.applicable[k] and not firm.aware[k]:
                    firm.aware[k] = True
                    model.aware_count[k] += 1
            firm.hidden_cost_relief = max(firm.hidden_cost_relief, ws.hidden_cost_relief_share)
            firm.risk_relief = max(firm.risk_relief, ws.risk_relief_share)
        self.workshops_held += 1
        return len(part)

    def assess(self) -> int:
        """This month's cost-share pre-assessments."""
        model, cs = self.model, self.cfg.cost_share
        if not self.cost_share.active or model.year < self.cs_start_year:
            return 0
        m, a = model.month % 12, cs.assessments_per_yr
        n_now = (m + 1) * a // 12 - m * a // 12
        if n_now == 0:
            return 0
        if self.assessment_queue is None:
            self.assessment_queue = [f for f in model.firm_list if self.cs_eligible(f)]
            model.random.shuffle(self.assessment_queue)
            self.assessment_queue.reverse()  # pop() from the end = take from the front
        n_now = min(n_now, len(self.assessment_queue))
        if cs.cost_per_assessment_usd > 0:
            affordable = int((self.cost_share.budget_usd - self.cost_share.spent_usd) // cs.cost_per_assessment_usd)
            if affordable < n_now:
                self.cost_share.exhausted_month = model.month
            n_now = min(n_now, affordable)
        for _ in range(max(n_now, 0)):
            firm = self.assessment_queue.pop()
            self.cost_share.spent_usd += cs.cost_per_assessment_usd
            firm.offer_until_month = model.month + 11
            for k in range(model.K):
                if firm.applicable[k] and not firm.aware[k]:
                    firm.aware[k] = True
                    model.aware_count[k] += 1
            firm.hidden_cost_relief = max(firm.hidden_cost_relief, cs.hidden_cost_relief_share)
            self.assessments += 1
        return max(n_now, 0)

    def training_month(self) -> None:
        tr, month = self.cfg.training, self.model.month
        if not self.training.enabled:
            return
        m, c = month % 12, tr.courses_per_yr
        for _ in range((m + 1) * c // 12 - m * c // 12):
            if self.training.request(tr.cost_per_course_usd, month):
                self.pending_courses.append((month + 2, tr.consultants_per_course))  # ~2-month course
        still = []
        for done_month, n in self.pending_courses:
            if done_month <= month:
                self.consultants += n
                self.capacity += int(n * tr.projects_per_consultant_per_yr * (12 - m) / 12)
            else:
                still.append((done_month, n))
        self.pending_courses = still

    # offers ---------------------------------------------------------------------------
    def cs_eligible(self, firm) -> bool:
        return self.cs_sector_ok[firm.sector] and self.cs_size_ok[firm.size_class]

    def cost_share_offer(self, firm, capex: float) -> float:
        if not self.cost_share.active or self.quota_left <= 0:
            return 0.0
        if firm.offer_until_month >= self.model.month and firm.programme_projects == 0 and self.cs_eligible(firm):
            cs = self.cfg.cost_share
            return min((1.0 - cs.copay_share) * capex, cs.max_grant_per_project_usd)
        return 0.0

    def subsidy_offer(self, firm, k: int, capex: float) -> float:
        if not self.subsidy.active:
            return 0.0
        if self.subsidy_measure_ok[k] and self.subsidy_size_ok[firm.size_class]:
            sub = self.cfg.capex_subsidy
            return min(sub.subsidy_share * capex, sub.max_grant_per_project_usd)
        return 0.0

    def loan_offer(self, firm_cost: float, r_eff: float) -> float:
        gl = self.cfg.green_loan
        if not self.loan.active or r_eff <= gl.interest_rate_per_yr:
            return 0.0
        return min(max(firm_cost, 0.0), gl.max_loan_per_firm_usd)

    def request_grant(self, code: int, amount: float) -> bool:
        if code == 1:  # cost-share project: yearly quota, then budget
            if not self.cost_share.active or self.quota_left <= 0:
                return False
            if self.cost_share.request(amount, self.model.month):
                self.quota_left -= 1
                return True
            return False
        return self.subsidy.request(amount, self.model.month)

    def release_grant(self, code: int, amount: float) -> None:
        if code == 1:
            self.cost_share.give_back(amount)
            self.quota_left += 1
        else:
            self.subsidy.give_back(amount)

    def spending_usd(self) -> dict:
        return {"capex_subsidy": self.subsidy.spent_usd, "cost_share": self.cost_share.spent_usd,
                "green_loan": self.loan_public_cost_usd, "workshops": self.workshops.spent_usd,
                "training": self.training.spent_usd}


class NaiveCluster(mesa.Agent):
    """A cluster association: members, adopter tallies, hosts workshops."""

    def __init__(self, model, index: int, name: str, members: list):
        super().__init__(model)
        self.index, self.name, self.members = index, name, members
        self.adopters = [0] * model.K


# ---------------------------------------------------------------------------------------
# Firms
# ---------------------------------------------------------------------------------------
class NaiveFirm(mesa.Agent):
    """One firm, every quantity a Python attribute; ``step`` does its own monthly work."""

    def __init__(self, model, row: int):
        super().__init__(model)
        self.row = row
        self.neighbours: list[NaiveFirm] = []
        self.customers: list[NaiveFirm] = []
        self.association: NaiveCluster | None = None
        self.registry: list[tuple[int, float, float]] = []  # (year, scope-1 t, scope-2 t)
        self.annual_scope1 = self.annual_scope2 = 0.0
        self._rates_year = None

    # emissions --------------------------------------------------------------------------
    def recompute_rates(self) -> None:
        ef = self.model.ef
        s1 = self.process_t_co2_per_yr
        for c in range(C):
            if SCOPE1_CARRIERS[c]:
                s1 += self.energy[c] * ef[c]
        self.scope1_rate = s1 * (1.0 - self.capture_share)
        self.scope2_rate = self.energy[ELECTRICITY] * ef[ELECTRICITY]
        self._rates_year = self.model.year

    @property
    def emissions_t_co2_per_yr(self) -> float:
        return self.scope1_rate + self.scope2_rate

    def remove(self, k: int) -> None:
        """Measure k's installation ends: rebuild energy from the base with the measures left."""
        model = self.model
        self.adopted[k] = False
        self.adopted_month[k] = NEVER16
        model.adopter_count[k] -= 1
        if self.association is not None:
            self.association.adopters[k] -= 1
        left = sorted((self.adoption_seq[j], j) for j in range(model.K) if self.adopted[j])
        self.energy = list(self.base_energy)
        self.capture_share = 0.0
        for _, j in left:
            x = self.energy + [self.process_t_co2_per_yr]
            D = model.state_change_by_year[max(self.adopted_month[j], 0) // 12][j]
            self.energy = [max(x[i] + sum(D[i][jj] * x[jj] for jj in range(C + 1)), 0.0) for i in range(C)]
            self.capture_share = max(self.capture_share, model.capture[j])
        self.recompute_rates()

    # the month ----------------------------------------------------------------------------
    def step(self) -> None:
        model = self.model
        if self._rates_year != model.year:
            self.recompute_rates()
        if model.month % model.interval == self.review_phase:
            self.review()
        self.annual_scope1 += self.scope1_rate / 12.0
        self.annual_scope2 += self.scope2_rate / 12.0
        if model.month % 12 == 11:
            if self.reporting_from_month <= model.month:
                self.registry.append((model.year, self.annual_scope1, self.annual_scope2))
            self.annual_scope1 = self.annual_scope2 = 0.0

    def peer_share(self) -> list[float]:
        model, K = self.model, self.model.K
        if model.mean_field:
            share = [model.adopter_count[k] / max(model.applicable_count[k], 1) for k in range(K)]
        else:
            counts = [0] * K
            for nb in self.neighbours:
                adopted = nb.adopted
                for k in range(K):
                    if adopted[k]:
                        counts[k] += 1
            inv = 1.0 / max(len(self.neighbours), 1)
            share = [c * inv for c in counts]
        cl = self.association
        if cl is not None:
            w = model.behaviour.cluster_broker_weight / max(len(cl.members), 1)
            share = [s + w * a for s, a in zip(share, cl.adopters)]
        return [min(s, 1.0) for s in share]

    def review(self) -> None:
        model, b = self.model, self.model.behaviour
        t = b.terms
        K = model.K
        share = self.peer_share() if (t.peer_risk or t.peer_awareness) else [0.0] * K
        months = max(model.month - self.last_review_month, 1)
        rnd = model.random
        for k in range(K):  # information: awareness hazard
            if not self.applicable[k] or self.aware[k]:
                continue
            if t.information:
                hazard = model.info_rate[k]
                if t.peer_awareness:
                    hazard += b.peer_awareness_per_month * share[k]
                if t.customer_pressure:
                    hazard += b.customer_pressure_awareness_per_month * self.customer_pressure
                if rnd.random() >= -math.expm1(-hazard * months):
                    continue
            self.aware[k] = True
            model.aware_count[k] += 1
        self.decide(share)
        self.last_review_month = model.month

    def decide(self, share: list[float]) -> None:
        model, b, gov = self.model, self.model.behaviour, self.model.gov
        t = b.terms
        x = self.energy + [self.process_t_co2_per_yr]
        funds = self.cash_usd_per_yr + self.credit_usd
        base_rate = self.hurdle_rate_per_yr
        if t.customer_pressure:
            base_rate -= b.customer_pressure_per_yr * self.customer_pressure
        risk_weight = self.risk_aversion * (1.0 - self.risk_relief)
        cp = gov.carbon_price_usd_per_t if self.size_class >= gov.carbon_min_size else 0.0
        loan_active = gov.loan.active
        gl = gov.cfg.green_loan
        consultant_ok = gov.capacity > 0
        pairs = []
        for k in range(model.K):
            if not (self.aware[k] and self.applicable[k] and not self.adopted[k] and model.available[k]):
                continue
            wb, ws = model.w_basis[k], model.w_saving[k]
            basis = saving = 0.0
            for c in range(C + 1):
                basis += x[c] * wb[c]
                saving += x[c] * ws[c]
            if basis <= 0:
                continue
            capex = basis * model.capex_unit[k] + model.capex_fixed[k]
            value = saving + max(saving, 0.0) * model.neb_share[k]
            if cp:
                w1 = model.w_scope1[k]
                value += cp * sum(x[c] * w1[c] for c in range(C + 1))
            net_value = value - capex * model.om_share[k]
            if t.risk:
                peer = (1.0 - b.peer_risk_relief_share * share[k]) if t.peer_risk else 1.0
                r_eff = base_rate + peer * model.risk_premium[k] * risk_weight
            else:
                r_eff = base_rate
            r_eff = max(r_eff, 0.005)
            ann = _annuity(r_eff, model.lifetime[k])
            hidden = capex * model.hidden_share[k] * (1.0 - self.hidden_cost_relief) if t.hidden_costs else 0.0
            skilled = self.capability >= model.complexity[k] if t.skills else True
            # the most generous grant on offer (cost-share programme first on ties), a loan
            g_cs = gov.cost_share_offer(self, capex)
            g_sub = gov.subsidy_offer(self, k, capex)
            grant, code = (g_cs, 1) if g_cs >= g_sub else (g_sub, 2)
            if grant <= 0:
                grant, code = 0.0, 0
            loan = gov.loan_offer(capex - grant, r_eff) if loan_active else 0.0
            ratio = _annuity(r_eff, gl.term_yr) / _annuity(gl.interest_rate_per_yr, gl.term_yr) if loan_active else 1.0
            p = {"k": k, "capex": capex, "net": net_value, "ann": ann, "hidden": hidden, "r": r_eff,
                 "ratio": ratio, "skilled": skilled, "grant": grant, "code": code, "loan": loan,
                 "ta": code == 1, "got": False, "got_loan": False, "consultant": False}
            p["npv"] = self._npv(p, grant, loan)
            p["want"] = self._passes(p, grant, loan, p["ta"] or consultant_ok, funds)
            pairs.append(p)
        if not pairs:
            return
        pairs.sort(key=lambda p: -p["npv"] / max(p["capex"], 1.0))  # most profitable first
        self._affordable(pairs, funds)

        # grants: each instrument in turn, in candidate order; a refused candidate is
        # re-decided without the offer
        for code in (1, 2):
            asked = False
            for p in pairs:
                if p["want"] and p["code"] == code:
                    if code == 1 and asked:  # one cost-share project per firm
                        continue
                    asked = True
                    p["got"] = gov.request_grant(code, p["grant"])
        redo = []
        for p in pairs:
            if p["want"] and p["code"] and not p["got"]:
                p["grant"], p["code"], p["ta"] = 0.0, 0, False
                p["loan"] = gov.loan_offer(p["capex"], p["r"]) if loan_active else 0.0
                redo.append(p)
        for p in pairs:
            if p["want"] and p["loan"] > 0:
                p["got_loan"] = gov.loan.request(p["loan"], model.month)
                if not p["got_loan"]:
                    redo.append(p)
        for p in pairs:
            if not p["got_loan"]:
                p["loan"] = 0.0
        consultant_ok = gov.capacity > 0
        for p in redo:
            p["want"] = self._passes(p, p["grant"], p["loan"], p["ta"] or consultant_ok, funds)
        # skills: a trained consultant where the firm lacks the capability
        for p in pairs:
            if p["want"] and not p["skilled"] and not p["ta"] and gov.capacity > 0:
                gov.capacity -= 1
                p["consultant"] = True
        for p in pairs:
            p["want"] = p["want"] and (p["skilled"] or p["ta"] or p["consultant"])
        self._affordable(pairs, funds)
        for p in pairs:
            if p["want"]:
                self.adopt(p)
            else:  # give back what a dropped candidate held
                if p["got"]:
                    gov.release_grant(p["code"], p["grant"])
                if p["got_loan"]:
                    gov.loan.give_back(p["loan"])
                if p["consultant"]:
                    gov.capacity += 1

    @staticmethod
    def _npv(p, grant: float, loan: float) -> float:
        firm_cost = p["capex"] - grant
        pv_cost = firm_cost - loan + loan * p["ratio"] if loan > 0 else firm_cost
        return p["net"] * p["ann"] - pv_cost - p["hidden"]

    def _passes(self, p, grant: float, loan: float, consultant_ok: bool, funds: float) -> bool:
        t = self.model.behaviour.terms
        if t.economics and self._npv(p, grant, loan) <= 0:
            return False
        if t.capital and p["capex"] - grant > funds + loan:
            return False
        return p["skilled"] or consultant_ok

    def _affordable(self, pairs, funds: float) -> None:
        """Fund wanted measures most profitable first; after the first that does not fit,
        the rest wait."""
        if not self.model.behaviour.terms.capital:
            return
        run, broke = 0.0, False
        for p in pairs:
            if broke:
                p["want"] = False
                continue
            if p["want"]:
                run += p["capex"] - p["grant"] - p["loan"]
                if run > funds + 1e-9:
                    p["want"] = False
                    broke = True

    def adopt(self, p) -> None:
        model, gov, k = self.model, self.model.gov, p["k"]
        self.adopted[k] = True
        self.adopted_month[k] = model.month
        x = self.energy + [self.process_t_co2_per_yr]
        D = model.state_change[k]
        self.energy = [max(x[i] + sum(D[i][j] * x[j] for j in range(C + 1)), 0.0) for i in range(C)]
        self.capture_share = max(self.capture_share, model.capture[k])
        self.recompute_rates()  # step() books this month's emissions after the decision
        if p["code"] == 1:
            self.programme_projects += 1
        if p["loan"] > 0:
            gov.lent_usd += p["loan"]
            gov.loan_public_cost_usd += p["loan"] * gov.loan_concession_share
        m = model.month + math.ceil(12.0 * model.lifetime[k] - 1e-9)  # expires at its first review after its lifetime
        while m % model.interval != self.review_phase:
            m += 1
        self.expiry_month[k] = m
        self.adoption_seq[k] = model.seq
        model.seq += 1
        model.adopter_count[k] += 1
        model.new_adoptions[k] += 1
        if self.association is not None:
            self.association.adopters[k] += 1
        model.adoption_log.append((model.month, self.row, k, p["capex"], p["grant"], p["code"], p["loan"]))


# ---------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------
_FIRM_COLUMNS = ("sector", "size_class", "process_t_co2_per_yr", "capture_share", "cash_usd_per_yr", "credit_usd",
                 "hurdle_rate_per_yr", "risk_aversion", "capability", "last_review_month",
                 "hidden_cost_relief", "risk_relief", "reporting_from_month")


class NaiveModel(mesa.Model):
    """The naive reference model. ``engine``: a built :class:`sim.model.ClusterModel` of the
    same config whose firm population (after its initial measure stock) is copied; built from
    ``config`` if not given."""

    def __init__(self, config, engine=None, seed: int | None = None, activation: str = "random"):
        if activation not in ("random", "ordered"):
            raise ValueError(f"activation={activation!r}: must be 'random' or 'ordered'")
        if config.scenario.programmes:
            raise ValueError("naive reference: scenario programme actors are not implemented "
                             f"(scenario.programmes = {sorted(config.scenario.programmes)})")
        if engine is None:
            from sim.model import ClusterModel

            engine = ClusterModel(config)
        super().__init__(rng=config.seed if seed is None else seed)
        self.config, self.behaviour = config, config.behaviour
        self.interval = config.behaviour.review_interval_months
        self.start_year, self.end_year = config.start_year, config.end_year
        self.n_months = 12 * (self.end_year - self.start_year + 1)
        self.sector_names = list(engine.sector_names)
        self.catalogue = cat = engine.catalogue
        self.energy_paths, self.shift = engine.energy, engine.shift
        self.K = K = cat.k
        self.mean_field = engine.mean_field
        self.month, self.year = -1, self.start_year
        # per-measure constants (Python lists: read in the firms' loops)
        self.info_rate = cat.info_rate_per_month.tolist()
        self.neb_share = cat.non_energy_benefit_share.tolist()
        self.om_share = cat.om_share_of_capex_per_yr.tolist()
        self.risk_premium = cat.risk_premium_per_yr.tolist()
        self.lifetime = cat.lifetime_yr.tolist()
        self.hidden_share = cat.hidden_cost_share.tolist()
        self.complexity = cat.complexity_share.tolist()
        self.capture = cat.capture_share.tolist()

        self.gov = NaiveGovernment(self, config.policy, cat.names)
        ft = engine.firms
        n = ft.n
        cols = {c: getattr(ft, c).tolist() for c in _FIRM_COLUMNS}
        energy, aware = ft.energy_mwh_per_yr.tolist(), ft.aware.tolist()
        adopted, applicable = ft.adopted.tolist(), ft.applicable.tolist()
        adopted_month, target = ft.adopted_month.tolist(), ft.sets_supplier_target.tolist()
        expiry, seq, base = ft.expiry_month.tolist(), ft.adoption_seq.tolist(), ft.base_energy_mwh_per_yr.tolist()
        self.seq = engine.adoptions_total
        self.persistence = cat.persistence_share_per_yr.tolist()
        self.output_index = engine.output_index.tolist()
        self.state_change_by_year: list = []
        firms = []
        for i in range(n):
            f = NaiveFirm(self, i)
            for c in _FIRM_COLUMNS:
                setattr(f, c, cols[c][i])
            # the firm's own review month and cost-share state (no offers before the run)
            f.review_phase, f.offer_until_month, f.programme_projects = i % self.interval, -1, 0
            f.energy, f.aware, f.adopted = energy[i], aware[i], adopted[i]
            f.applicable, f.adopted_month = applicable[i], adopted_month[i]
            f.sets_supplier_target = target[i]
            f.expiry_month, f.adoption_seq, f.base_energy = expiry[i], seq[i], base[i]
            firms.append(f)
        self.firm_list = firms
        net = engine.network
        ip, ind = net.peers.indptr.tolist(), net.peers.indices.tolist()
        cip, cind = net.customers.indptr.tolist(), net.customers.indices.tolist()
        for i, f in enumerate(firms):
            f.neighbours = [firms[j] for j in ind[ip[i]:ip[i + 1]]]
            f.customers = [firms[j] for j in cind[cip[i]:cip[i + 1]]]
            f.customer_pressure = (sum(1 for c in f.customers if c.sets_supplier_target) / len(f.customers)
                                   if f.customers else 0.0)
        cluster_of = ft.cluster.tolist()
        self.clusters = []
        for ci, spec in enumerate(config.scenario.clusters):
            members = [f for f, c in zip(firms, cluster_of) if c == ci]
            cl = NaiveCluster(self, ci, spec.name, members)
            for f in members:
                f.association = cl
                for k in range(K):
                    if f.adopted[k]:
                        cl.adopters[k] += 1
            self.clusters.append(cl)
        self.applicable_count = [sum(1 for f in firms if f.applicable[k]) for k in range(K)]
        self.adopter_count = [sum(1 for f in firms if f.adopted[k]) for k in range(K)]
        self.aware_count = [sum(1 for f in firms if f.aware[k]) for k in range(K)]
        self.new_adoptions = [0] * K
        self.adoption_log: list[tuple] = []
        self.series: dict[str, list] = {"emissions_t_co2": [], "adoptions": [], "spending_total_usd": []}
        self.firm_agents = self.agents_by_type[NaiveFirm]
        self.activation = activation

    # phases ------------------------------------------------------------------------------
    def step(self) -> None:
        if not self.running:
            return
        self.update_policy()
        self.expire_measures()
        self.cluster_activities()
        self.programme_activities()
        if self.activation == "random":  # the ordinary Mesa way
            self.firm_agents.shuffle_do("step")  # decisions (firms under review) + own emissions
        else:  # firm order, as the engine allocates budgets (for exact comparisons)
            self.firm_agents.do("step")
        self.collect_data()
        if self.month + 1 >= self.n_months:
            self.running = False

    def update_policy(self) -> None:
        self.month += 1
        self.year = self.start_year + self.month // 12
        if self.month % 12 == 0:
            y = self.year - self.start_year
            price, self.ef = self.energy_paths.price_usd_per_mwh[y], self.energy_paths.ef_t_co2_per_mwh[y].tolist()
            val = decision.valuation(self.catalogue, self.shift, price, self.energy_paths.ef_t_co2_per_mwh[y])
            mult = self.catalogue.capex_multiplier(y)
            self.w_saving, self.w_basis = val.saving_usd.tolist(), val.size_basis.tolist()
            self.w_scope1, self.state_change = val.abated_scope1_t.tolist(), val.state_change.tolist()
            self.state_change_by_year.append(self.state_change)
            if y > 0:  # output growth: each firm's energy, base, process CO2 and budget scale with its sector
                for f in self.firm_list:
                    r = self.output_index[y][f.sector] / self.output_index[y - 1][f.sector]
                    f.energy = [e * r for e in f.energy]
                    f.base_energy = [e * r for e in f.base_energy]
                    f.process_t_co2_per_yr *= r
                    f.cash_usd_per_yr *= r
                    f._rates_year = None
            self.capex_fixed = (self.catalogue.capex_fixed_usd * mult).tolist()
            self.capex_unit = (self.catalogue.capex_usd_per_unit * mult).tolist()
            self.gov.new_year(self.year)  # firms refresh their emission rates at their first step of the year

    def expire_measures(self) -> None:
        """Installations at the end of their lifetime, then lapses, of the firms under review
        (installations end at their firm's reviews, so no other firm has one due)."""
        for f in self.firm_list[self.month % self.interval::self.interval]:
            for k in range(self.K):
                if f.adopted[k] and f.expiry_month[k] == self.month:
                    f.remove(k)
            for k in range(self.K):
                p = self.persistence[k]
                if p < 1.0 and f.adopted[k] and (f.adopted_month[k] < 0 or f.adopted_month[k] <= self.month - self.interval):
                    if self.random.random() >= p ** (self.interval / 12.0):
                        f.remove(k)

    def cluster_activities(self) -> None:
        for i in range(self.gov.workshops_due(self.month)):
            if self.clusters:
                host = self.clusters[(self.gov.workshops_held + i) % len(self.clusters)]
                self.gov.hold_workshop(host.members)
            else:
                self.gov.hold_workshop(self.firm_list)

    def programme_activities(self) -> None:
        self.gov.assess()
        self.gov.training_month()
        self.available = [y <= self.year for y in self.catalogue.available_from_year.tolist()]

    def collect_data(self) -> None:
        # the ordinary Mesa way: aggregate over the agents
        self.series["emissions_t_co2"].append(self.firm_agents.agg("emissions_t_co2_per_yr", sum) / 12.0)
        self.series["adoptions"].append(sum(self.adopter_count))
        self.series["spending_total_usd"].append(sum(self.gov.spending_usd().values()))

    def run(self, steps: int | None = None) -> None:
        for _ in range(self.n_months if steps is None else steps):
            if not self.running:
                break
            self.step()


def engine_new_adoptions(model) -> np.ndarray:
    """[K] adoptions during the run (not the initial stock) of a ClusterModel."""
    out = np.zeros(model.catalogue.k, dtype=np.int64)
    for _, b in model.adoption_log:
        out += np.bincount(b.measure, minlength=model.catalogue.k)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-firms", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("overrides", nargs="*", default=["policy=incentive_package"],
                    help="config overrides, e.g. policy=incentive_package")
    a = ap.parse_args(argv)
    from sim.model import ClusterModel
    from sim.params import to_config
    from sim.run import compose

    cfg = to_config(compose([f"n_firms={a.n_firms}", f"seed={a.seed}", *a.overrides]))
    engine = ClusterModel(cfg)
    t0 = time.perf_counter()
    naive = NaiveModel(cfg, engine)
    t1 = time.perf_counter()
    naive.run(a.steps)
    t2 = time.perf_counter()
    for _ in range(a.steps):
        engine.step()
    t3 = time.perf_counter()
    print(f"naive: convert {t1 - t0:.2f} s, {a.steps} steps {t2 - t1:.2f} s "
          f"({a.n_firms * a.steps / (t2 - t1):,.0f} firm-steps/s); engine {t3 - t2:.3f} s")
    print(f"{'measure':28s} {'engine':>8s} {'naive':>8s}")
    for name, e, n in zip(engine.catalogue.names, engine_new_adoptions(engine), naive.new_adoptions):
        print(f"{name:28s} {e:8d} {n:8d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
