"""Check 2: barrier and instrument mechanics.

Configuration: the default scenario (``mx_cluster``) and catalogue (``measures=default``),
``policy=none`` unless an instrument is under test.

Barriers. For each barrier term of the decision (information, capital, skills, hidden costs,
risk, economics) the barrier acts ALONE: every other term is off (hidden costs and risk act
through the NPV, so for those two ``economics`` stays on as the channel). The barrier is made
prohibitive for the "affected" measures (every second measure of the catalogue), and left at
its catalogue value for the others:

==============  ==========================================================  =================
barrier         prohibitive setting of an affected measure                  terms on
==============  ==========================================================  =================
information     info_rate_per_month = 0, initial_awareness_share = 0        information
capital         capex_fixed_usd = 1e12 (no firm's budget covers it)         capital
skills          complexity_share = 1 (capability is Beta-distributed < 1)   skills
hidden_costs    hidden_cost_share = 1e4 (x capex)                           hidden_costs, economics
risk            risk_premium_per_yr = 1e6                                   risk, economics
economics       capex_fixed_usd = 1e12 (NPV < 0)                            economics
==============  ==========================================================  =================

Pass: affected measures are adopted by nobody (start-year stock included), while the same
measures ARE adopted when the barrier is not prohibitive, and unaffected measures still are.

Instruments. All terms on (default behaviour); one instrument at a time over a grid of its
lever, budgets unlimited (1e12 USD) so that only the lever changes. Outcome: adoptions during
the run (start-year stock excluded), same seed across the grid (common random numbers).
Expected sign: more adoption with a larger subsidy share, a higher carbon price, more
workshops, more training courses, and a LOWER green-loan interest rate.

Budget. A capex subsidy of 50 % with a budget of 150,000 USD, a workshop programme with
100,000 USD at 15,000 USD each, and a cost-share programme with 60,000 USD: spending never
exceeds the budget, the instrument records its exhaustion month, no grant is paid after it,
and the grants in the adoption log sum to the spending.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .common import Check, compose_config, savefig, terms_only

BARRIERS = {
    # barrier: (terms on, {measure field: prohibitive value})
    "information": (("information",), {"info_rate_per_month": 0.0, "initial_awareness_share": 0.0}),
    "capital": (("capital",), {"capex_fixed_usd": 1e12}),
    "skills": (("skills",), {"complexity_share": 1.0}),
    "hidden_costs": (("hidden_costs", "economics"), {"hidden_cost_share": 1e4}),
    "risk": (("risk", "economics"), {"risk_premium_per_yr": 1e6}),
    "economics": (("economics",), {"capex_fixed_usd": 1e12}),
}

UNLIMITED = "1e12"
#: a grid step may go against the expected sign by at most this many adoptions or this share:
#: firms fund measures from one budget, most profitable first, so support that makes one
#: measure affordable earlier can crowd out another of the same firm, and peers then learn
#: of a different set of adoptions (a real feature of the model, seen as +-0.1 % noise)
MONOTONE_SLACK_COUNT, MONOTONE_SLACK_SHARE = 2, 0.005
#: lever grids (free test values), expected sign of d(adoptions)/d(lever)
INSTRUMENTS = {
    "capex subsidy share": ("policy.capex_subsidy.subsidy_share", [0.0, 0.15, 0.3, 0.45, 0.6], +1,
                            ["policy.capex_subsidy.enabled=true", f"policy.capex_subsidy.budget_usd={UNLIMITED}"]),
    "carbon price (USD/t)": ("policy.carbon_price.price_usd_per_t_co2", [0, 25, 50, 100, 200], +1,
                             ["policy.carbon_price.enabled=true", "policy.carbon_price.start_year=2025",
                              "policy.carbon_price.min_size_class=micro"]),
    "green-loan rate (/yr)": ("policy.green_loan.interest_rate_per_yr", [0.12, 0.09, 0.06, 0.03, 0.0], -1,
                              ["policy.green_loan.enabled=true", "policy.green_loan.market_rate_per_yr=0.12",
                               f"policy.green_loan.credit_line_usd={UNLIMITED}"]),
    "workshops per year": ("policy.workshops.workshops_per_yr", [0, 4, 8, 16, 32], +1,
                           ["policy.workshops.enabled=true", f"policy.workshops.budget_usd={UNLIMITED}"]),
    "training courses per year": ("policy.training.courses_per_yr", [0, 1, 2, 4, 8], +1,
                                  ["policy.training.enabled=true", f"policy.training.budget_usd={UNLIMITED}"]),
}


def base(n_firms: int, years: int, seed: int = 5) -> list[str]:
    return ["policy=none", f"seed={seed}", f"n_firms={n_firms}", "start_year=2025",
            f"end_year={2025 + years - 1}", "write_firm_panel=false"]


def _run(ov, edit=None):
    from ..model import ClusterModel

    m = ClusterModel(compose_config(ov, edit))
    m.run()
    return m


def barrier_runs(n_firms: int, years: int) -> list[dict]:
    rows = []
    for name, (on, prohibitive) in BARRIERS.items():
        ov = base(n_firms, years) + terms_only(*on)

        def edit(cfg, prohibitive=prohibitive):
            for k, m in enumerate(cfg.measures.catalogue):
                if k % 2 == 0:
                    for f, v in prohibitive.items():
                        setattr(m, f, v)

        free = _run(ov)
        blocked = _run(ov, edit)
        K = blocked.catalogue.k
        aff = np.arange(K) % 2 == 0
        rows.append(dict(
            barrier=name, terms_on=on, prohibitive=prohibitive, config=ov,
            affected_free=int(free.adopter_count[aff].sum()), affected_blocked=int(blocked.adopter_count[aff].sum()),
            unaffected_blocked=int(blocked.adopter_count[~aff].sum()),
            affected_measures=[n for n, a in zip(blocked.catalogue.names, aff) if a],
            ok=bool(blocked.adopter_count[aff].sum() == 0 and free.adopter_count[aff].sum() > 0
                    and blocked.adopter_count[~aff].sum() > 0),
        ))
    return rows


def instrument_runs(n_firms: int, years: int) -> list[dict]:
    rows = []
    for label, (key, grid, sign, extra) in INSTRUMENTS.items():
        adopt, abate = [], []
        for v in grid:
            m = _run(base(n_firms, years) + extra + [f"{key}={v}"])
            n_stock = int((m.firms.adopted_month == -1).sum())
            adopt.append(int(m.adopter_count.sum()) - n_stock)
            abate.append(float(sum(b.abatement_t_per_yr.sum() for _, b in m.adoption_log)))
        a = np.array(adopt, float)
        x = np.array(grid, float)
        # change of adoptions per step in the expected direction of the lever
        steps = np.diff(a) * np.sign(np.diff(x)) * sign
        slack = np.maximum(MONOTONE_SLACK_COUNT, MONOTONE_SLACK_SHARE * a[1:])
        # arc elasticities between neighbouring grid points
        el = [((a[i + 1] - a[i]) / max((a[i + 1] + a[i]) / 2, 1e-9)) / ((x[i + 1] - x[i]) / max(abs(x[i + 1] + x[i]) / 2, 1e-9))
              for i in range(len(x) - 1)]
        rows.append(dict(instrument=label, key=key, grid=list(grid), sign=sign, adoptions=adopt, abatement_t_per_yr=abate,
                         arc_elasticity=el, config=base(n_firms, years) + extra + [f"{key}={grid[-1]}"],
                         ok=bool(np.all(steps >= -slack) and (a[-1] - a[0]) * np.sign(x[-1] - x[0]) * sign > 0)))
    return rows


def budget_runs(n_firms: int, years: int) -> list[dict]:
    cases = {
        "capex_subsidy": ["policy.capex_subsidy.enabled=true", "policy.capex_subsidy.subsidy_share=0.5",
                          "policy.capex_subsidy.max_grant_per_project_usd=20000", "policy.capex_subsidy.budget_usd=150000"],
        "workshops": ["policy.workshops.enabled=true", "policy.workshops.workshops_per_yr=12",
                      "policy.workshops.cost_per_workshop_usd=15000", "policy.workshops.budget_usd=100000"],
        "cost_share": ["policy.cost_share.enabled=true", "policy.cost_share.assessments_per_yr=200",
                       "policy.cost_share.quota_projects_per_yr=[100]", "policy.cost_share.cost_per_assessment_usd=200",
                       "policy.cost_share.budget_usd=60000"],
    }
    rows = []
    for name, extra in cases.items():
        ov = base(n_firms, years) + extra
        m = _run(ov)
        inst = m.instruments[name]
        code = list(m.gov.instrument_names).index(name) if name in m.gov.instrument_names else -1
        months, grants = [], []
        for month, b in m.adoption_log:
            sel = b.instrument == code
            if sel.any():
                months.append(np.full(int(sel.sum()), month))
                grants.append(b.grant_usd[sel])
        months = np.concatenate(months) if months else np.zeros(0, int)
        grants = np.concatenate(grants) if grants else np.zeros(0)
        ex = inst.exhausted_month
        paid_after = int((months > ex).sum()) if ex is not None else 0
        ledger = float(grants.sum())
        if name == "cost_share":
            ledger += inst.assessments * inst.params.cost_per_assessment_usd
        elif name == "workshops":
            ledger = inst.held * inst.params.cost_per_workshop_usd
        spent, budget = inst.spent_usd, inst.budget_usd
        cum = np.zeros(m.n_months)
        key = f"spending_{name}_usd"
        if key in m.series:
            cum = np.asarray(m.series[key], float)
        # the refused request is at most one grant (per-project cap) or one event
        one = {"capex_subsidy": 20000.0, "workshops": 15000.0, "cost_share": max(4000.0, 200.0)}[name]
        rows.append(dict(instrument=name, budget=budget, spent=spent, exhausted_month=ex, paid_after=paid_after, one_grant=one,
                         ledger=ledger, largest_grant=float(grants.max()) if len(grants) else 0.0, cumulative=cum,
                         config=ov,
                         ok=bool(spent <= budget + 1e-9 and budget - spent < one and ex is not None and paid_after == 0
                                 and abs(ledger - spent) <= 1e-6)))
    return rows


def draw_barriers(br: list[dict], out_dir: Path | None) -> str:
    """Adopters of the affected measures with each barrier at its catalogue value and prohibitive."""
    import matplotlib.pyplot as plt

    fig, a0 = plt.subplots(figsize=(6, 4.8))
    xs = np.arange(len(br))
    a0.bar(xs - 0.2, [r["affected_free"] for r in br], 0.4, label="affected measures, barrier at catalogue value", color="C0")
    a0.bar(xs + 0.2, [r["affected_blocked"] for r in br], 0.4, label="affected measures, barrier prohibitive", color="C3")
    for x, r in zip(xs, br):
        a0.text(x + 0.2, 1, str(r["affected_blocked"]), ha="center", va="bottom", fontsize=8, color="C3")
    a0.set_xticks(xs, [r["barrier"] for r in br], rotation=30, ha="right")
    a0.set(ylabel="adopters (firm-measure pairs)", title="Each barrier alone, prohibitive", yscale="symlog")
    a0.legend(fontsize=7)
    return savefig(fig, out_dir, "barriers_prohibitive")


def draw_instrument_signs(ir: list[dict], out_dir: Path | None) -> str:
    """Adoptions along each instrument's lever grid, relative to its first grid point."""
    import matplotlib.pyplot as plt

    fig, a1 = plt.subplots(figsize=(6.5, 4.8))
    for r in ir:
        x = np.arange(len(r["grid"]))
        a = np.array(r["adoptions"], float)
        a1.plot(x, a / max(a[0], 1), marker="o", label=f"{r['instrument']}: {r['grid']}")
    a1.set(xlabel="grid point (lever values in legend)", ylabel="adoptions / adoptions at first grid point",
           title="Instrument response (expected sign)")
    a1.legend(fontsize=6.5)
    a1.grid(alpha=0.3)
    return savefig(fig, out_dir, "instrument_signs")


def draw_budget_cap(bu: list[dict], out_dir: Path | None) -> str:
    """Cumulative spending of each instrument as a share of its budget."""
    import matplotlib.pyplot as plt

    fig, a2 = plt.subplots(figsize=(6, 4.8))
    for r, c in zip(bu, ("C0", "C1", "C2")):
        t = np.arange(len(r["cumulative"])) / 12
        a2.plot(t, r["cumulative"] / r["budget"], color=c, label=f"{r['instrument']} (budget {r['budget']:,.0f} USD)")
    a2.axhline(1.0, color="k", ls="--", lw=1, label="budget")
    a2.set(xlabel="years", ylabel="cumulative spending / budget", title="Binding budgets", ylim=(0, 1.15))
    a2.legend(fontsize=7)
    return savefig(fig, out_dir, "budget_cap")


def barriers_table(br: list[dict]) -> str:
    t1 = ["| barrier | terms on | prohibitive setting (affected measures) | adopters of affected, barrier at catalogue value | adopters of affected, prohibitive | adopters of unaffected, prohibitive | pass |",
          "|---|---|---|---|---|---|---|"]
    for r in br:
        t1.append(f"| {r['barrier']} | {', '.join(r['terms_on'])} | {', '.join(f'{k}={v:g}' for k, v in r['prohibitive'].items())} | "
                  f"{r['affected_free']} | {r['affected_blocked']} | {r['unaffected_blocked']} | {'yes' if r['ok'] else 'NO'} |")
    return "\n".join(t1)


def instrument_table(ir: list[dict]) -> str:
    t2 = ["| instrument lever | grid | adoptions during run | arc elasticities | expected sign | pass |", "|---|---|---|---|---|---|"]
    for r in ir:
        t2.append(f"| {r['instrument']} (`{r['key']}`) | {r['grid']} | {r['adoptions']} | "
                  f"{', '.join(f'{e:+.2f}' for e in r['arc_elasticity'])} | {'+' if r['sign'] > 0 else '-'} | {'yes' if r['ok'] else 'NO'} |")
    return "\n".join(t2)


def budget_table(bu: list[dict]) -> str:
    t3 = ["| instrument | budget (USD) | spent (USD) | ledger (USD) | exhausted in month | grants after exhaustion | largest single grant paid (USD) | one grant/event at most (USD) | pass |",
          "|---|---|---|---|---|---|---|---|---|"]
    for r in bu:
        t3.append(f"| {r['instrument']} | {r['budget']:,.0f} | {r['spent']:,.2f} | {r['ledger']:,.2f} | {r['exhausted_month']} | "
                  f"{r['paid_after']} | {r['largest_grant']:,.0f} | {r['one_grant']:,.0f} | {'yes' if r['ok'] else 'NO'} |")
    return "\n".join(t3)


def barriers_check(br: list[dict], figure: str) -> Check:
    """Each barrier alone, prohibitive, stops exactly the affected measures."""
    affected = ", ".join(br[0]["affected_measures"])
    return Check(
        name="barriers_prohibitive", title="Barrier mechanics: each barrier alone, prohibitive",
        passed=all(r["ok"] for r in br),
        measured="adopters of affected measures with the barrier prohibitive: " + ", ".join(f"{r['barrier']} {r['affected_blocked']}" for r in br)
        + " (at catalogue values: " + ", ".join(f"{r['affected_free']}" for r in br) + ")",
        tolerance="exactly 0 when prohibitive; > 0 when not, and > 0 for unaffected measures",
        config=br[0]["config"] + terms_only(*BARRIERS["information"][0]),
        figure=figure, table=barriers_table(br), data={"rows": br},
        notes=(f"Configuration: as printed for the information row; the other rows switch the terms listed in the table on "
               f"and set the prohibitive value on the affected measures ({affected}) in the typed config. "
               "Hidden costs and risk have no effect of their own: they act only through the NPV test, so they are checked "
               "with the economics term on. Capital and economics are both blocked by an unaffordable capex here; they "
               "differ in the term that stops the adoption (budget vs NPV), which is what the terms-on column isolates."))


def instrument_signs_check(ir: list[dict], figure: str) -> Check:
    """Adoptions move with each instrument's lever in the expected direction."""
    return Check(
        name="instrument_signs", title="Instrument elasticities have the expected sign",
        passed=all(r["ok"] for r in ir),
        measured="; ".join(f"{r['instrument']}: {r['adoptions'][0]} -> {r['adoptions'][-1]}" for r in ir),
        tolerance=(f"every grid step in the expected direction, or against it by at most max({MONOTONE_SLACK_COUNT}, "
                   f"{MONOTONE_SLACK_SHARE:.1%} of adoptions); strictly over the whole grid"),
        config=ir[0]["config"], figure=figure, table=instrument_table(ir),
        data={"rows": ir},
        notes=("Configuration: as printed for the capex subsidy (the lever takes each grid value); the other instruments "
               "are enabled the same way with unlimited budgets (see INSTRUMENTS in sim/validation/barriers.py). "
               "Elasticities are arc elasticities of the count of adoptions between neighbouring grid points (same seed). "
               "Zero steps occur where the lever does not reach the marginal firm (e.g. a green loan below a firm's own "
               "discount rate changes nothing for firms limited by awareness or skills). Training only helps firms that "
               "lack capability and are otherwise willing; its response saturates once consultants outnumber them. "
               f"A green loan at the market rate (first grid point) already lifts adoptions from {ir[0]['adoptions'][0]} "
               f"(no policy) to {ir[2]['adoptions'][0]}: the credit line relaxes the capital barrier (access to finance) "
               "even without an interest concession, so most of the loan's effect is access, not price."))


def budget_cap_check(bu: list[dict], figure: str) -> Check:
    """A binding budget caps spending exactly: no overspend, no grant after exhaustion, ledger = spending."""
    return Check(
        name="budget_cap", title="A binding budget caps spending exactly",
        passed=all(r["ok"] for r in bu),
        measured="; ".join(f"{r['instrument']}: spent {r['spent']:,.0f} of {r['budget']:,.0f} USD, exhausted month {r['exhausted_month']}, "
                           f"{r['paid_after']} grants after" for r in bu),
        tolerance="budget - one grant (or event) < spent <= budget; exhaustion recorded; no grant after it; ledger = spending (1e-6 USD)",
        config=bu[0]["config"], figure=figure, table=budget_table(bu), data={"rows": bu},
        notes=("Configuration: as printed for the capex subsidy; workshops (12 a year at 15,000 USD, budget 100,000 USD) "
               "and cost share (200 assessments a year at 200 USD, quota 100, budget 60,000 USD) likewise. "
               "An instrument stops for good at the first request its remaining money cannot cover, so up to one grant's "
               "worth stays unspent. The engine does not serve later, smaller requests once a budget has refused one: "
               "without a per-project cap (max_grant_per_project_usd = inf) a single large firm's request can stop a "
               "subsidy early with much of the budget unspent (in a 3,000-firm run, a 150,000 USD budget at 50 % stopped "
               "in month 0 after one 84,481 USD grant). That is a design choice of the engine (first-come, first-refused), "
               "not a leak; real programmes usually keep serving smaller requests. The check therefore uses a 20,000 USD cap."))


def check(n_firms: int = 3000, years: int = 6, out_dir: Path | None = None) -> list[Check]:
    import matplotlib

    matplotlib.use("Agg")

    br = barrier_runs(n_firms, years)
    ir = instrument_runs(n_firms, years)
    bu = budget_runs(n_firms, years)
    return [barriers_check(br, draw_barriers(br, out_dir)),
            instrument_signs_check(ir, draw_instrument_signs(ir, out_dir)),
            budget_cap_check(bu, draw_budget_cap(bu, out_dir))]
