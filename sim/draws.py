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
from a sequential stream (``AwarenessDraws`` below, kept for streams that need numpy's exact
sequence): the change of stream changed every published run's random awareness arrivals (same
distribution; docs/benchmark.md).

``AwarenessDraws``: float32 standard exponential variates exactly ``-log1p(-rng.random(shape, dtype=float32))``; the uniforms are made
from the generator's raw 64-bit words (two float32 per word, low half first, as numpy's PCG64
does), which is about twice as fast as numpy's float32 fill. Any other bit generator, an odd
count, or a stream that has ever been left with a buffered half word falls back to
``rng.random`` itself.
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


class AwarenessDraws:
    """Draws from ``rng`` (a ``numpy.random.Generator``), reproducing ``rng.random`` exactly."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self._raw_ok = isinstance(rng.bit_generator, np.random.PCG64) and not rng.bit_generator.state["has_uint32"]

    def exponential(self, shape: tuple[int, int]) -> np.ndarray:
        """[R, K] float32 standard exponential variates."""
        n = shape[0] * shape[1]
        if self._raw_ok and n % 2 == 0:
            d = _negated_uniforms(self.rng.bit_generator.random_raw(n // 2)).reshape(shape)
        else:  # an odd count leaves half a word buffered in the generator: numpy's way from now on
            self._raw_ok = False
            d = self.rng.random(shape, dtype=np.float32)
            np.negative(d, out=d)
        np.log1p(d, out=d)
        np.negative(d, out=d)  # -log(1 - u): standard exponential variates
        return d


@njit(cache=True, nogil=True)
def _negated_uniforms(words):
    """-u for the float32 uniforms numpy's PCG64 makes from these words: (32-bit half >> 8) / 2^24."""
    out = np.empty(2 * len(words), np.float32)
    scale = np.float32(-1.0 / 16777216.0)
    for i in range(len(words)):
        w = words[i]
        out[2 * i] = np.float32((w & np.uint64(0xFFFFFFFF)) >> np.uint64(8)) * scale
        out[2 * i + 1] = np.float32(w >> np.uint64(40)) * scale
    return out
