"""H2O's model metrics as mergeable partials.

Each partition of a scored frame gives one *partial* (small, picklable, all
state in floats and numpy arrays); partials are merged with ``merge`` (or
:func:`merge_partials`) in any order and ``result()`` turns the merged
partial into a :class:`ModelMetrics`::

    parts = [binomial_partial(y_i, p_i, w_i) for y_i, p_i, w_i in blocks]
    metrics = merge_partials(parts).result(domain=["no", "yes"])
    metrics.auc, metrics.get("logloss")

The sums are exact up to floating-point summation order.  AUC-type metrics
come from H2O-style 400-bin histograms (``AUC2``); with at most 400 distinct
(float32) scores in total they are exact, otherwise merging partials is
itself a re-binning and agrees with the single-partial value within the
binning approximation.

Design decisions (see the docstrings for details):

* lift_top_group: the lift of the first of H2O's 16 gains/lift groups, i.e.
  the bins whose centre is at least the frequency-weighted interpolated 0.99
  quantile of the scores (computed from the histogram); lift = response rate
  of that group / overall response rate.  Exact when no bins were merged.
* multinomial r2: as H2O, ``1 - MSE / var(class index)`` with MSE the mean of
  ``(1 - p_actual)^2`` and var the weighted population variance of the
  class index.
* huber: with ``huber_delta=None`` the partial keeps the absolute residuals
  and weights of its rows so that the merged result computes the delta (the
  weighted ``huber_alpha`` quantile of ``|y - yhat|``) exactly; pass
  ``huber_delta`` to keep only sums.
* AUCPR: H2O's ``AUC2.pr_auc`` (the XGBoost-style closed-form interpolation
  between bins), not scikit-learn's step-wise average precision.
"""

from __future__ import annotations

from typing import Sequence, TypeVar

from ._autoencoder import AutoEncoderPartial, autoencoder_partial
from ._custom import CustomMetricPartial
from ._auc import NBINS, AUCBins, weighted_quantile
from ._binomial import BinomialPartial, binomial_partial
from ._model_metrics import (
    BOUNDED_BELOW_BY_ZERO,
    STOPPING_METRIC_DIRECTION,
    ModelMetrics,
    confusion_matrix_frame,
    mean_per_class_error,
)
from ._multinomial import AUC_TYPES, MAX_AUC_CLASSES, MultinomialPartial, multinomial_partial
from ._regression import DISTRIBUTIONS, RegressionPartial, deviance_per_row, regression_partial

__all__ = [
    "AUCBins",
    "AUC_TYPES",
    "AutoEncoderPartial",
    "CustomMetricPartial",
    "BOUNDED_BELOW_BY_ZERO",
    "BinomialPartial",
    "DISTRIBUTIONS",
    "MAX_AUC_CLASSES",
    "ModelMetrics",
    "MultinomialPartial",
    "NBINS",
    "RegressionPartial",
    "STOPPING_METRIC_DIRECTION",
    "autoencoder_partial",
    "binomial_partial",
    "confusion_matrix_frame",
    "deviance_per_row",
    "mean_per_class_error",
    "merge_partials",
    "more_is_better",
    "multinomial_partial",
    "regression_partial",
    "weighted_quantile",
]

Partial = TypeVar("Partial", RegressionPartial, BinomialPartial, MultinomialPartial,
                  AutoEncoderPartial, CustomMetricPartial)


def merge_partials(parts: Sequence[Partial]) -> Partial:
    """Merge a non-empty sequence of partials of one kind.

    Binomial and multinomial partials are merged in one step (their AUC
    histograms are concatenated and re-binned once).

    Parameters
    ----------
    parts : sequence of RegressionPartial, BinomialPartial, MultinomialPartial or
        AutoEncoderPartial

    Returns
    -------
    The merged partial (a new object).

    Raises
    ------
    ValueError
        If ``parts`` is empty.
    TypeError
        If the partials are not all of one kind.
    """
    parts = list(parts)
    if not parts:
        raise ValueError("merge_partials needs at least one partial; got an empty sequence.")
    kind = type(parts[0])
    if any(type(p) is not kind for p in parts):
        raise TypeError(
            f"merge_partials: all partials must be of one kind; got {sorted({type(p).__name__ for p in parts})}."
        )
    if kind in (BinomialPartial, MultinomialPartial):
        return kind.merge_all(parts)  # type: ignore[attr-defined,return-value]
    out = parts[0]
    for p in parts[1:]:
        out = out.merge(p)
    return out


def more_is_better(stopping_metric: str) -> bool:
    """Whether larger is better for ``stopping_metric`` (case-insensitive lookup in :data:`STOPPING_METRIC_DIRECTION`).

    Raises
    ------
    ValueError
        For an unknown name.
    """
    for name, up in STOPPING_METRIC_DIRECTION.items():
        if name.lower() == str(stopping_metric).lower():
            return up
    raise ValueError(
        f"Unknown stopping metric {stopping_metric!r}; expected one of {sorted(STOPPING_METRIC_DIRECTION)}."
    )
