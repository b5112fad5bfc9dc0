"""Additionality as evaluators define it, from a policy run and its paired no-policy run
(same seed: common random numbers).

* **supported adoption**: an adoption that received public support recorded on it — a grant
  (any grant channel), a concessional loan or a publicly trained consultant;
* **free rider**: a supported adoption whose firm adopts the same measure in the baseline run
  within N years (``window_yr``, :data:`sim.evaluation.FREE_RIDER_WINDOW_YR`) — or already
  has it there, installed earlier and still in service. This is the one definition used
  everywhere (``sim.compare``, ``sim.report``); N = 0 counts only adoptions the firm makes
  by the same month without support;
* **gross** = lifetime tonnes of supported adoptions; **free-rider share** = free riders'
  tonnes / gross (counts are reported too);
* **spillover**: adoptions in the policy run that the baseline does not have within the
  window, made without support — by firms that received no support at all (non-participant
  spillover, e.g. peers who learnt through the network or a workshop) and by participants
  for other measures (participant spillover), reported separately;
* **net-to-gross ratio** NTG = 1 - free-rider share + spillover share (tonnes over gross), as
  in DOE Uniform Methods Project ch. 21 (Violette & Rathbun 2017) and the CPUC evaluation
  protocols (2006).

Tonnes are each installation's discounted lifetime tonnes to the run's end (:mod:`.lifetime`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import FREE_RIDER_WINDOW_YR, SOCIAL_DISCOUNT_RATE_PER_YR
from .lifetime import lifetime_flows
from .runs import EvaluatedRun


def supported(adoptions: pd.DataFrame) -> np.ndarray:
    """[rows] the adoption received public support recorded on it."""
    return ((adoptions["subsidy_usd"].to_numpy(float) > 0) | (adoptions["loan_usd"].to_numpy(float) > 0)
            | adoptions["consultant"].to_numpy(bool) | (adoptions["instrument"].astype(str).to_numpy() != "none"))


def in_baseline_within(policy: pd.DataFrame, baseline: pd.DataFrame, window_yr: float, lifetime_yr: dict) -> np.ndarray:
    """[policy rows] the baseline run has the same (firm, measure) adopted within ``window_yr``
    after the policy row's month, or installed before it and still in service then."""
    if len(policy) == 0:
        return np.zeros(0, bool)
    b = baseline[["firm", "measure", "month"]].assign(measure=baseline["measure"].astype(str))
    p = policy[["firm", "measure", "month"]].assign(measure=policy["measure"].astype(str), row=np.arange(len(policy)))
    m = p.merge(b, on=["firm", "measure"], how="inner", suffixes=("", "_b"))
    if m.empty:
        return np.zeros(len(policy), bool)
    life_m = m["measure"].map(lifetime_yr).to_numpy(float) * 12.0
    ok = (m["month_b"].to_numpy() <= m["month"].to_numpy() + window_yr * 12.0) & (m["month_b"].to_numpy() > m["month"].to_numpy() - life_m)
    out = np.zeros(len(policy), bool)
    out[m.loc[ok, "row"].to_numpy()] = True
    return out


def additionality(policy: EvaluatedRun, baseline: EvaluatedRun, window_yr: float = FREE_RIDER_WINDOW_YR,
                  rate: float = SOCIAL_DISCOUNT_RATE_PER_YR) -> dict:
    """The additionality indicators of one seed (see the module docstring)."""
    ap = policy.adoptions
    end_t = float(policy.end_year - policy.start_year + 1)
    t = lifetime_flows(ap, policy.lifetime_yr, policy.om_share, end_t, rate)["abatement_t_co2"].to_numpy()
    sup = supported(ap)
    in_b = in_baseline_within(ap, baseline.adoptions, window_yr, policy.lifetime_yr)
    participants = set(ap.loc[sup, "firm"].astype(int))
    participant = ap["firm"].astype(int).isin(participants).to_numpy()
    fr = sup & in_b
    so_non = ~sup & ~in_b & ~participant
    so_par = ~sup & ~in_b & participant
    gross = float(t[sup].sum())

    def share(x):
        return float(x / gross) if gross > 0 else np.nan

    return {
        "adoptions": int(len(ap)), "baseline_adoptions": int(len(baseline.adoptions)),
        "additional_adoptions": int((~in_b).sum()),
        "additionality_share": float((~in_b).mean()) if len(ap) else np.nan,
        "supported_adoptions": int(sup.sum()), "participants": len(participants),
        "free_riders": int(fr.sum()),
        "free_rider_count_share": float(fr.sum() / sup.sum()) if sup.any() else np.nan,
        "gross_supported_t_co2": gross,
        "free_rider_share": share(t[fr].sum()),
        "spillover_nonparticipant_adoptions": int(so_non.sum()),
        "spillover_nonparticipant_share": share(t[so_non].sum()),
        "spillover_participant_adoptions": int(so_par.sum()),
        "spillover_participant_share": share(t[so_par].sum()),
        "net_to_gross_ratio": (1.0 - share(t[fr].sum()) + share(t[so_non].sum() + t[so_par].sum())) if gross > 0 else np.nan,
    }
