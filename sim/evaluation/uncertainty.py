"""Uncertainty of the headlines: 95 % intervals over seeds and the free parameters that drive them.

* a mean over seeds: Student t interval of the per-seed paired differences (common random
  numbers make the differences, not the levels, the sample);
* a ratio (US$ per tonne): ratio of the means over seeds, interval from a paired bootstrap
  over seeds (seeds resampled with their numerator and denominator together; percentiles
  2.5 and 97.5 of 2,000 resamples; Efron & Tibshirani 1993, ch. 13). With fewer than 3 seeds
  there is no interval;
* drivers: each free parameter of a sensitivity space file (``experiments/sensitivity/*.yaml``,
  uncertainties only: policy levers ``policy.*`` are left out) set to its low and then its
  high end, one at a time, everything else at the scenario's values, on a few seeds (common
  random numbers): the swing of each headline between the two ends ranks the parameters.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from ..compose import BadInput

N_BOOT = 2000
BOOT_SEED = 20240229  # fixed: the same seeds give the same interval


def interval(x) -> tuple[float, float, float]:
    """Mean and 95 % Student t interval of per-seed values (NaN left out)."""
    from scipy import stats

    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return np.nan, np.nan, np.nan
    m = float(x.mean())
    if len(x) < 2:
        return m, np.nan, np.nan
    half = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
    return m, m - half, m + half


def ratio_interval(num, den) -> tuple[float, float, float]:
    """Ratio of means over seeds (NaN unless the mean denominator is > 0) and its paired
    bootstrap 95 % interval (resamples whose mean denominator is not > 0 are dropped)."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    r = float(num.mean() / den.mean()) if len(den) and den.mean() > 0 else np.nan
    if len(num) < 3 or np.isnan(r):
        return r, np.nan, np.nan
    rng = np.random.default_rng(BOOT_SEED)
    idx = rng.integers(0, len(num), size=(N_BOOT, len(num)))
    n, d = num[idx].mean(axis=1), den[idx].mean(axis=1)
    ok = d > 0
    if ok.sum() < N_BOOT // 2:
        return r, np.nan, np.nan
    lo, hi = np.percentile(n[ok] / d[ok], [2.5, 97.5])
    return r, float(lo), float(hi)


def free_parameters(space_file: str | Path) -> list[tuple[str, float, float]]:
    """(config key, low, high) of the uncertain free parameters a sensitivity space file
    declares (``parameters``; ``policy.*`` keys are levers, not uncertainties)."""
    path = Path(space_file)
    if not path.is_file():
        raise BadInput(f"drivers = {str(space_file)!r}: no such file (a sensitivity space, e.g. experiments/sensitivity/cluster_behaviour.yaml)")
    try:
        params = (yaml.safe_load(path.read_text()) or {}).get("parameters") or {}
    except (yaml.YAMLError, AttributeError) as exc:
        raise BadInput(f"drivers = {str(space_file)!r}: not a space file ({str(exc).splitlines()[0]})") from None
    out = []
    for k, b in params.items():
        if str(k).startswith("policy."):
            continue
        if not (isinstance(b, list) and len(b) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in b) and b[0] < b[1]):
            raise BadInput(f"{path.name}: parameters.{k} = {b!r}: must be [low, high] with low < high")
        out.append((str(k), float(b[0]), float(b[1])))
    if not out:
        raise BadInput(f"drivers = {str(space_file)!r}: declares no uncertain parameter (only policy levers)")
    return out
