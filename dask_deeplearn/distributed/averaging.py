"""Combining the models the workers trained: H2O's model averaging and the elastic mix."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..network import ModelState

__all__ = ["average_states", "mix_states"]


def average_states(states: list[ModelState], weights: list[float]) -> ModelState:
    """Weighted mean of weights, biases and optimiser state (H2O's model averaging).

    With replicated data every worker processes the same number of rows and this is
    H2O's plain node mean; without, workers that saw more rows count more. (H2O leaves
    the bias ADADELTA accumulators of one node in place; we average them too.)
    """
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    first = states[0]
    out = {}
    for name in first.arrays():
        acc = np.zeros(getattr(first, name).shape, dtype=np.float64)
        for wi, st in zip(w, states):
            if wi > 0:
                acc += wi * getattr(st, name)
        out[name] = acc.astype(np.float32)
    return dataclasses.replace(first, **out)


def mix_states(a: ModelState, b: ModelState, alpha: float) -> ModelState:
    """``alpha * a + (1 - alpha) * b`` for every array (the elastic consensus update)."""
    out = {}
    for name in a.arrays():
        x = alpha * getattr(a, name).astype(np.float64) + (1 - alpha) * getattr(b, name)
        out[name] = x.astype(np.float32)
    return dataclasses.replace(a, **out)
