"""Random numbers: the model's seeded Generator, plus counter-based draws for decisions.

Everything random derives from the one ``numpy.random.Generator`` a model is created with.
Components get child streams from it (``spawn``). Firm decisions use a *counter-based*
uniform: the number for (firm, measure, month, purpose) is a hash of a key drawn once from the
model's Generator and of those indices (SplitMix64 finaliser). It does not depend on how many
other draws happened before, so two runs of the same seed under different policies give the
same firm the same number for the same decision - common random numbers, which make paired
policy comparisons measure the policy, not noise.
"""
from __future__ import annotations

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_SCALE = 1.0 / float(1 << 53)


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


class CounterUniform:
    """Uniform [0, 1) numbers addressed by integer counters, keyed from a Generator."""

    def __init__(self, rng: np.random.Generator):
        self.key = np.uint64(rng.integers(0, 2**63 - 1, dtype=np.int64))

    def uniform(self, stream: int, month: int, index: np.ndarray) -> np.ndarray:
        """One uniform per ``index`` (int64 array, e.g. firm * K + measure) for this stream and month."""
        with np.errstate(over="ignore"):
            base = _mix(self.key ^ (np.uint64(stream) * _GOLDEN) ^ (np.uint64(month + 1) * _M2))
            z = _mix(index.astype(np.uint64) * _GOLDEN + base)
        return (z >> _S11).astype(np.float64) * _SCALE
