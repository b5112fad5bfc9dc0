"""Objectives of a design over its scenarios: the per-scenario values (paired with the baseline
run of the same scenario), their robustness statistic, their interval, the constraints, and
Pareto dominance.

* ``versus_baseline: reduction`` -- baseline minus design (e.g. abatement: the baseline's
  cumulative emissions minus the design's, in the same scenario and seed);
  ``increase`` -- design minus baseline (e.g. the public cost the design adds); ``none`` -- the
  design's own value.
* a ratio objective ``[a, b]`` -- statistic(a) / statistic(b) (public US$ per t CO2 abated as
  the ratio of the means, as :mod:`sim.compare` does; per-scenario ratios are unstable when a
  scenario's abatement is near zero); no positive denominator: the ratio is infinite (worst).
* robustness ``mean``; ``percentile`` q: the q-th percentile of the worse tail (the q-th
  percentile of a maximised objective, the (100-q)-th of a minimised one); ``regret``: for each
  scenario, how far the design falls short of the best design evaluated so far in that
  scenario, and the largest such shortfall over the scenarios (minimax regret; a ratio
  objective uses its mean ratio).
* interval: the 5th to 95th percentile of the per-scenario values.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

#: a minimised objective's value where it is undefined (a ratio without a positive denominator)
WORST = 1e300


def per_scenario(design, rows: pd.DataFrame, base: pd.DataFrame) -> dict[str, np.ndarray]:
    """Objective (and raw outcome) values per scenario; ``rows`` and ``base`` are aligned by
    scenario (same order)."""
    out = {}
    for o in design.objectives:
        if o.ratio:
            continue
        v = pd.to_numeric(rows[o.outcome], errors="coerce").to_numpy(dtype=float)
        b = pd.to_numeric(base[o.outcome], errors="coerce").to_numpy(dtype=float)
        out[o.name] = b - v if o.versus == "reduction" else v - b if o.versus == "increase" else v
    for o in design.objectives:
        if o.ratio:
            num, den = out[o.ratio[0]], out[o.ratio[1]]
            with np.errstate(divide="ignore", invalid="ignore"):
                out[o.name] = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    for c in design.constraints:
        if c.name not in out:
            out[c.name] = pd.to_numeric(rows[c.name], errors="coerce").to_numpy(dtype=float)
    return out


def _worse_pct(x: np.ndarray, q: float, sense: str) -> float:
    return float(np.percentile(x, q if sense == "maximize" else 100 - q))


def statistic(design, o, vals: dict[str, np.ndarray]) -> float:
    """The robustness statistic of objective ``o`` (regret designs: the mean)."""
    if o.ratio:
        num, den = (next(x for x in design.objectives if x.name == n) for n in o.ratio)
        a, b = statistic(design, num, vals), statistic(design, den, vals)
        return a / b if b > 0 else (np.inf if o.sense == "minimize" else -np.inf)
    x = vals[o.name]
    if design.robustness == "percentile":
        return _worse_pct(x, design.percentile_q, o.sense)
    return float(np.mean(x))


def summarise(design, vals: dict[str, np.ndarray]) -> dict:
    """One candidate's columns: each objective's statistic, interval (5th-95th percentile over
    the scenarios) and, for constraints on outcomes, the outcome's statistic."""
    row = {}
    for o in design.objectives:
        x = vals[o.name]
        row[o.name] = statistic(design, o, vals)
        finite = x[np.isfinite(x)]
        row[f"{o.name}_lo"] = float(np.percentile(finite, 5)) if len(finite) else np.nan
        row[f"{o.name}_hi"] = float(np.percentile(finite, 95)) if len(finite) else np.nan
    return row


def constraint_values(design, vals: dict[str, np.ndarray], row: dict) -> dict[str, float]:
    out = {}
    for c in design.constraints:
        x = vals[c.name]
        if c.statistic == "max":
            out[c.name] = float(np.max(x))
        elif c.statistic == "min":
            out[c.name] = float(np.min(x))
        elif c.statistic == "robust" and c.name in row:
            out[c.name] = float(row[c.name])
        else:
            out[c.name] = float(np.mean(x))
    return out


def constraint_g(design, cvals: dict[str, float]) -> np.ndarray:
    """pymoo's inequality constraints (<= 0 is met)."""
    return np.array([cvals[c.name] - c.bound if c.upper else c.bound - cvals[c.name] for c in design.constraints], float)


def regrets(design, cands: list[dict[str, np.ndarray]], pool: list[dict[str, np.ndarray]]) -> np.ndarray:
    """(candidates x objectives) maximum regret over the scenarios: how far each of ``cands``
    falls short of the best of ``pool`` (and itself) in each scenario (ratio objectives: 0,
    they use their mean)."""
    out = np.zeros((len(cands), len(design.objectives)))
    for j, o in enumerate(design.objectives):
        if o.ratio:
            continue
        m = np.vstack([v[o.name] for v in cands]) * o.sign   # larger = better
        best = np.nanmax(np.vstack([m] + [v[o.name] * o.sign for v in pool]), axis=0)
        out[:, j] = np.nanmax(best[None, :] - m, axis=1)
    return out


def to_minimise(design, row: dict, regret_row: np.ndarray | None) -> np.ndarray:
    """pymoo's objective vector (all minimised) of a candidate."""
    f = []
    for j, o in enumerate(design.objectives):
        if design.robustness == "regret" and not o.ratio:
            f.append(float(regret_row[j]))
            continue
        v = float(row[o.name])
        v = -v if o.sense == "maximize" else v
        f.append(WORST if np.isnan(v) else float(np.clip(v, -WORST, WORST)))
    return np.array(f, float)


def non_dominated(F: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of ``F`` (minimised) that no other row dominates."""
    n = len(F)
    keep = np.ones(n, bool)
    for i in range(n):
        if not keep[i]:
            continue
        dom = np.all(F <= F[i], axis=1) & np.any(F < F[i], axis=1)
        if dom.any():
            keep[i] = False
    return keep
