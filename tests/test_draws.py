"""The awareness draws are exactly numpy's: -log1p(-rng.random(shape, float32)), month after
month, including after an odd count that leaves half a word buffered in the generator."""
from __future__ import annotations

import numpy as np
import pytest

from sim.draws import AwarenessDraws


def _numpy_way(rng, shape):
    u = rng.random(shape, dtype=np.float32)
    return -np.log1p(-u)


@pytest.mark.parametrize("shapes", [[(2681, 14)] * 3, [(5, 3), (4, 2), (7, 7), (6, 2)], [(1, 1), (10, 14)]])
def test_draws_equal_numpy_stream(shapes):
    ours, ref = AwarenessDraws(np.random.default_rng(11)), np.random.default_rng(11)
    for shape in shapes:
        got, want = ours.exponential(shape), _numpy_way(ref, shape)
        assert got.dtype == np.float32 and got.shape == shape
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(ours.rng.random(9), ref.random(9))  # the stream goes on in step


def test_other_bit_generators_use_numpy():
    ours, ref = AwarenessDraws(np.random.Generator(np.random.Philox(5))), np.random.Generator(np.random.Philox(5))
    np.testing.assert_array_equal(ours.exponential((8, 4)), _numpy_way(ref, (8, 4)))
