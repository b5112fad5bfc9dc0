"""The awareness draws: one standard exponential variate per (firm under review, measure) each
month, from the model's awareness stream, whatever the state (common random numbers across
policies: a policy changes who learns, never which numbers are drawn).

The variates are exactly ``-log1p(-rng.random(shape, dtype=float32))``; the uniforms are made
from the generator's raw 64-bit words (two float32 per word, low half first, as numpy's PCG64
does), which is about twice as fast as numpy's float32 fill. Any other bit generator, an odd
count, or a stream that has ever been left with a buffered half word falls back to
``rng.random`` itself.
"""
from __future__ import annotations

import numpy as np
from numba import njit


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
