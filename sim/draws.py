"""Random numbers of the engine's monthly pass.

The awareness draws (``pair_uniform``, ``below_exposure_cdf``): the uniform variate of an
(month, firm, measure) is a counter-based random number, a pure function of the model's
awareness key (one 64-bit word drawn from the seed's awareness child stream when the model is
built) and the triple: SplitMix64's output function (Steele, Lea & Flood 2014, "Fast
splittable pseudorandom number generators", OOPSLA; the finaliser is Stafford's "Mix13")
applied twice, to the counter and then to the key plus the result. Hence:

* common random numbers across policies hold exactly and need no bookkeeping: a policy changes
  who learns, never which number a pair meets in a month;
* numbers are computed only where they are needed, inside the compiled screening pass (an
  unaware applicable pair under review), in any order, by any chunk of firms; a snapshot needs
  only the key (``sim/snapshot.py``);
* "becomes aware" (probability 1 - exp(-x), x = hazard * months) is decided as
  u < 1 - exp(-x) in the uniform's domain, and the exponential is rarely evaluated:
  x - x^2/2 <= 1 - exp(-x) <= x for x >= 0, so u >= x answers no and u < x - x^2/2 answers yes
  without it (all but ~x^2/2 of the pairs).

Until issue 16 the engine drew one float32 standard exponential variate per pair under review
from a sequential stream: the change of stream changed every published run's random awareness arrivals (same
distribution; docs/benchmark.md).
"""
from __future__ import annotations

import numpy as np
from numba import njit

_GAMMA = np.uint64(0x9E3779B97F4A7C15)  # SplitMix64's increment (2^64 / golden ratio, odd)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)  # Stafford's Mix13
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_TWO_M53 = 1.0 / 9007199254740992.0  # 2^-53
#: the counter packs (month, firm, measure) into 64 bits: month < 2^20, firm < 2^32, measure < 2^12
MAX_MONTHS, MAX_FIRMS, MAX_MEASURES = 1 << 20, 1 << 32, 1 << 12


def awareness_key(rng: np.random.Generator) -> np.uint64:
    """The model's awareness key: one 64-bit word from ``rng`` (the seed's awareness child stream)."""
    return np.uint64(rng.integers(0, 2**64, dtype=np.uint64))


def check_counter_range(n_months: int, n_firms: int, n_measures: int) -> None:
    """Raise ValueError when (month, firm, measure) would not fit the counter."""
    if n_months > MAX_MONTHS or n_firms > MAX_FIRMS or n_measures > MAX_MEASURES:
        raise ValueError(f"awareness draws: at most {MAX_MONTHS:,} months, {MAX_FIRMS:,} firms and "
                         f"{MAX_MEASURES:,} measures (got {n_months:,}, {n_firms:,}, {n_measures:,})")


@njit(inline="always")
def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, nogil=True)
def pair_uniform(key, month, firm, measure):
    """The uniform variate in [0, 1) (53 bits) of (month, firm, measure) under ``key``."""
    c = (np.uint64(month) << np.uint64(44)) | (np.uint64(firm) << np.uint64(12)) | np.uint64(measure)
    z = _mix(np.uint64(key) + _mix(c + _GAMMA) * _GAMMA)
    return np.float64(z >> np.uint64(11)) * _TWO_M53


@njit(cache=True, nogil=True)
def below_exposure_cdf(u, x):
    """u < 1 - exp(-x) (float64), the exponential evaluated only when the bounds
    x - x^2/2 <= 1 - exp(-x) <= x cannot tell (margins of 1e-12, far above rounding)."""
    if u >= x * (1.0 + 1e-12):
        return False
    if u < (x - 0.5 * x * x) * (1.0 - 1e-12):
        return True
    return u < -np.expm1(-x)


@njit(cache=True, nogil=True)
def uniforms(key, month, firms, n_measures):
    """[len(firms), n_measures] ``pair_uniform`` of every (firm, measure) in a month (tests,
    the firm inspector)."""
    out = np.empty((len(firms), n_measures))
    for r in range(len(firms)):
        for k in range(n_measures):
            out[r, k] = pair_uniform(key, month, firms[r], k)
    return out


class LifetimeDraws:
    """The draws of measure lifetimes, from two child streams of their own (so the other
    streams, and common random numbers across policies, are untouched):

    * ``vintage``: the age of each measure already installed before the run, as a share of
      its lifetime (uniform in [0, 1): installations of every age are equally common);
    * ``persistence``: one uniform per (firm under review, measure that can lapse) each
      month, whatever the state (as the awareness draws: a policy changes which
      installations exist, never which numbers are drawn).
    """

    def __init__(self, vintage: np.random.Generator, persistence: np.random.Generator):
        self.vintage = vintage
        self.persistence = persistence

    def vintage_age_share(self, shape: tuple[int, int]) -> np.ndarray:
        """[R, K] float32 uniforms in [0, 1): the age of an installation / its lifetime."""
        return self.vintage.random(shape, dtype=np.float32)

    def persistence_uniforms(self, shape: tuple[int, int]) -> np.ndarray:
        """[R, K'] float32 uniforms in [0, 1) (an installation lapses when its draw is at or
        above its survival probability)."""
        return self.persistence.random(shape, dtype=np.float32)
