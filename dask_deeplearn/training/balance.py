"""Class balancing and the probability correction back to the original priors (H2O).

numpy only: the same functions run in this process and inside Dask tasks, one block at a
time, so a balanced training frame is built where its partitions live.

* :func:`sampling_ratios`: H2O's per-class sampling factors (every class up to the majority
  count, or the user's ``class_sampling_factors``), scaled down so that the balanced frame
  has at most ``max_after_balance_size`` times the original rows.
* :func:`balance_block`: each row emitted ``floor(s_c)`` times plus once more with
  probability ``frac(s_c)``, then the block shuffled.
* :func:`correct_probabilities`: ``p_c * prior_c / model_c`` renormalised, applied to every
  prediction of a balanced model (H2O's ``correctProbabilities``).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["PRIOR_KEY", "MODEL_KEY", "sampling_ratios", "balance_block", "class_correction",
           "correct_probabilities", "block_class_counts"]

#: effective-parameter keys holding the original and the balanced class frequencies
PRIOR_KEY = "prior_class_distribution"
MODEL_KEY = "model_class_distribution"


def sampling_ratios(class_counts: Sequence[int], *, factors: Sequence[float] | None = None,
                    max_after_balance_size: float = 5.0) -> np.ndarray:
    """Per-class sampling factors of H2O's class balancing.

    Parameters
    ----------
    class_counts : sequence of int
        Rows per class in the training frame.
    factors : sequence of float, optional
        ``class_sampling_factors``: used as given instead of the computed ratios.
    max_after_balance_size : float, default=5.0
        Largest balanced size as a multiple of the original row count.

    Returns
    -------
    ndarray of float64
        One factor per class. Computed ratios bring every class up to the majority count
        (``(N / K) / n_c`` divided by its minimum); when the expected balanced size
        ``E = sum(s_c n_c)`` exceeds ``max_after_balance_size * N`` (at least K rows), all
        ratios are scaled by ``T / E`` (the majority class may then be undersampled).
    """
    n = np.asarray(class_counts, dtype=np.float64)
    total = float(n.sum())
    k = len(n)
    if factors is not None:
        s = np.asarray(factors, dtype=np.float64)
    else:
        with np.errstate(divide="ignore"):
            s = np.where(n > 0, (total / k) / np.maximum(n, 1.0), 0.0)
        present = s[s > 0]
        if present.size:
            s = s / present.min()
    expected = float((s * n).sum())
    if expected <= 0:
        return s
    target = max(min(round(expected), math.floor(max_after_balance_size * total)), k)
    if target != expected:
        s = s * (target / expected)
    return s


def balance_block(block: Any, ratios: np.ndarray, seed: int) -> Any:
    """The rows of one training block resampled by class (a new, shuffled block).

    Parameters
    ----------
    block : Block
        Transformed training block (``y`` holds class indices).
    ratios : ndarray
        Output of :func:`sampling_ratios`.
    seed : int
        Seeds the fractional draws and the shuffle (give every block its own).

    Returns
    -------
    Block
    """
    y = np.asarray(block.y, dtype=np.int64)
    s = np.asarray(ratios, dtype=np.float64)[y]
    rng = np.random.default_rng(int(seed) % 2**63)
    copies = np.floor(s).astype(np.int64) + (rng.random(y.shape[0]) < (s - np.floor(s)))
    idx = np.repeat(np.arange(y.shape[0], dtype=np.int64), copies)
    rng.shuffle(idx)
    return block.take(idx)


def block_class_counts(block: Any, n_classes: int) -> np.ndarray:
    """Rows per class of one block (``y`` class indices)."""
    return np.bincount(np.asarray(block.y, dtype=np.int64), minlength=n_classes)


def class_correction(params: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray] | None:
    """The ``(prior, model)`` class distributions of a balanced model, or None."""
    prior, model = params.get(PRIOR_KEY), params.get(MODEL_KEY)
    if prior is None or model is None:
        return None
    return np.asarray(prior, dtype=np.float64), np.asarray(model, dtype=np.float64)


def correct_probabilities(p: np.ndarray, prior: np.ndarray, model: np.ndarray) -> np.ndarray:
    """``p_c * prior_c / model_c`` renormalised per row (classes with a 0 are left alone).

    Parameters
    ----------
    p : ndarray of shape (n_samples, n_classes)
        Probabilities of a model trained on balanced data.
    prior, model : ndarray of shape (n_classes,)
        Class frequencies of the original and of the balanced training frame.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
    """
    factor = np.where((prior > 0) & (model > 0), prior / np.where(model > 0, model, 1.0), 1.0)
    out = p * factor
    out /= out.sum(axis=1, keepdims=True)
    return out
