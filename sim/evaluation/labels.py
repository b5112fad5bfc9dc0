"""What a run is called in summaries: by what actually spends public money.

A run of policy ``none`` in a scenario whose programmes spend public money (e.g. the WEF
pillars' credits, a cleaner production centre) is not a no-policy run: it is labelled
"scenario programmes only (<names>)"; a policy run whose scenario programmes also spend is
labelled "<policy> + scenario programmes".
"""
from __future__ import annotations

#: spending names of the policy instruments (sim.agents.SPENDING_ORDER)
POLICY_SPENDING = ("capex_subsidy", "cost_share", "green_loan", "workshops", "training")


def programme_spending_names(summary: dict) -> list[str]:
    """Names of public spending by the scenario's own programmes (not the policy's instruments) that spent money."""
    by = summary.get("public_spending_usd_by_instrument") or {}
    return [k for k, v in by.items() if k not in POLICY_SPENDING and v and v > 0]


def run_label(summary: dict) -> str:
    """The run's label: its policy, or what spends when the policy is ``none``."""
    policy = str(summary.get("policy", "?"))
    progs = programme_spending_names(summary)
    if not progs:
        return policy
    if policy == "none":
        return f"scenario programmes only ({', '.join(progs)})"
    return f"{policy} + scenario programmes"
