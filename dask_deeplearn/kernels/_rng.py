"""Explicit random-number state for the kernels: splitmix64 draws and dropout masks.

numpy + numba only. The state is a 1-element uint64 array owned by one kernel call (seeded
per thread by :mod:`~dask_deeplearn.kernels.hogwild`), so a single-thread run is a
deterministic function of its seed.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GAMMA = 0x9E3779B97F4A7C15


@njit(inline="always")
def next_u64(state):
    """splitmix64 step on a 1-element uint64 array."""
    state[0] += np.uint64(_GAMMA)
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(inline="always")
def uniform(state):
    """Uniform float in [0, 1) with 24 random bits."""
    return np.float32(next_u64(state) >> np.uint64(40)) * np.float32(1.0 / 16777216.0)


@njit(inline="always")
def drop_threshold(ratio):
    """Integer threshold ``t`` with ``(u64 >> 40) < t``  <=>  ``uniform(state) < ratio``."""
    return np.uint64(np.ceil(ratio * 16777216.0))


@njit(inline="always")
def drop_inputs(v, n, thr, state):
    """Zero each of ``v[:n]`` with the draws ``uniform(state) < ratio`` would make.

    Same stream and same result as calling :func:`uniform` ``n`` times (splitmix64 is a
    counter: draw ``c`` mixes ``state + (c + 1) * gamma``), but with the state kept in a
    register and an integer compare against ``thr = drop_threshold(ratio)``: no memory
    round trip per draw, so input dropout costs a few percent of a mini-batch instead of
    fifteen.
    """
    s0 = state[0]
    gamma = np.uint64(_GAMMA)
    for c in range(n):
        z = s0 + np.uint64(c + 1) * gamma
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
        if (z >> np.uint64(40)) < thr:
            v[c] = np.float32(0.0)
    state[0] = s0 + np.uint64(n) * gamma
