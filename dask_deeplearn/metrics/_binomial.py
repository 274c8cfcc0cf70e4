"""Binomial classification metrics as mergeable partials."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..exceptions import DataError
from ._auc import NBINS, AUCBins
from ._common import as_1d, as_labels, as_weights, r2_from_sums
from ._model_metrics import ModelMetrics, confusion_matrix_frame, mean_per_class_error

__all__ = ["BinomialPartial", "binomial_partial"]

_OWNER = "binomial_partial"
_EPS = 1e-15  # H2O's MathUtils.logloss clamp


def _check_domain(domain: Sequence[Any] | None, k: int, owner: str) -> list[str]:
    if domain is None:
        return [str(i) for i in range(k)]
    labels = [str(d) for d in domain]
    if len(labels) != k:
        raise DataError(f"{owner}.result: 'domain' must have {k} labels; got {len(labels)}: {labels!r}.")
    return labels


class BinomialPartial:
    """Mergeable partial of the binomial metrics.

    Holds the weighted sums of the squared error and log loss of the actual
    class, the weighted moments of the 0/1 label (for r2) and an
    :class:`~dask_deeplearn.metrics._auc.AUCBins` histogram (at most 400
    bins) from which AUC, AUCPR, the max-F1 threshold, the confusion matrix
    and the gains/lift table are derived, as H2O derives them from ``AUC2``.

    Build it with :func:`binomial_partial`.
    """

    __slots__ = ("nobs", "sum_w", "sum_wy", "sum_sqe", "sum_logloss", "bins")

    def __init__(self, nbins: int = NBINS) -> None:
        self.nobs = 0
        self.sum_w = self.sum_wy = self.sum_sqe = self.sum_logloss = 0.0
        self.bins = AUCBins.empty(nbins)

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            setattr(self, k, v)

    def merge(self, other: "BinomialPartial") -> "BinomialPartial":
        """Merge with another partial (returns a new partial)."""
        return BinomialPartial.merge_all([self, other])

    @staticmethod
    def merge_all(parts: Sequence["BinomialPartial"]) -> "BinomialPartial":
        """Merge several partials at once (one re-binning)."""
        for p in parts:
            if not isinstance(p, BinomialPartial):
                raise TypeError(f"Cannot merge BinomialPartial with {type(p).__name__}.")
        out = BinomialPartial(parts[0].bins.nbins)
        out.nobs = sum(p.nobs for p in parts)
        for k in ("sum_w", "sum_wy", "sum_sqe", "sum_logloss"):
            setattr(out, k, math.fsum(getattr(p, k) for p in parts))
        out.bins = AUCBins.merge_all([p.bins for p in parts])
        return out

    def result(self, *, domain: Sequence[Any] | None = None,
               max_confusion_matrix_size: int = 20) -> ModelMetrics:
        """Final metrics.

        Parameters
        ----------
        domain : sequence of 2 labels, optional
            Class labels for the confusion matrix (default ``["0", "1"]``).
        max_confusion_matrix_size : int, default=20
            Ignored for binomial (the matrix is 2x2).

        Returns
        -------
        ModelMetrics
            Category ``"Binomial"``.  The default threshold is the bin
            threshold with the largest F1 (first one on ties); the confusion
            matrix, ``classification_error`` and ``mean_per_class_error`` are
            at that threshold (predict class 1 iff ``p1 >= threshold``).  When
            no threshold has a defined F1 (no positive rows) the threshold is
            0.5 and those three are missing, as in H2O.
        """
        labels = _check_domain(domain, 2, "BinomialPartial")
        nan = float("nan")
        sw = self.sum_w
        if self.nobs == 0 or sw <= 0:
            return ModelMetrics("Binomial", nobs=self.nobs, sum_weights=sw, mse=nan, rmse=nan,
                                logloss=nan, auc=nan, aucpr=nan, gini=nan, r2=nan,
                                mean_per_class_error=nan, classification_error=nan,
                                lift_top_group=nan, max_f1_threshold=0.5, domain=labels)
        mse = self.sum_sqe / sw
        bins = self.bins
        auc = bins.auc()
        table = bins.threshold_table()
        idx = bins.max_f1_index()
        cm_df = None
        err = mpce = nan
        thr = 0.5
        if idx >= 0:
            thr = float(table["threshold"].iloc[idx])
            cm = bins.cm_at(idx)
            err = float((cm[0, 1] + cm[1, 0]) / cm.sum())
            mpce = mean_per_class_error(cm)
            cm_df = confusion_matrix_frame(cm, labels)
        gl = bins.gains_lift()
        lift = float(gl["lift"].iloc[0]) if gl is not None else nan
        return ModelMetrics(
            "Binomial", nobs=self.nobs, sum_weights=sw, mse=mse, rmse=math.sqrt(mse),
            logloss=self.sum_logloss / sw, auc=auc, aucpr=bins.pr_auc(), gini=2.0 * auc - 1.0,
            r2=r2_from_sums(mse, sw, self.sum_wy, self.sum_wy, self.nobs),
            mean_per_class_error=mpce, classification_error=err, lift_top_group=lift,
            max_f1_threshold=thr, confusion_matrix=cm_df, thresholds_and_metric_scores=table,
            gains_lift=gl, domain=labels,
        )


def _binary_scores(proba: Any, n: int, owner: str) -> tuple[np.ndarray, np.ndarray]:
    """(p0, p1) columns from an (n, 2) or (n,) probability input."""
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim == 1:
        p1 = p
        p0 = 1.0 - p
    elif p.ndim == 2 and p.shape[1] == 2:
        p0, p1 = p[:, 0], p[:, 1]
    elif p.ndim == 2 and p.shape[1] == 1:
        p1 = p[:, 0]
        p0 = 1.0 - p1
    else:
        raise DataError(f"{owner}: 'proba' must have shape (n, 2) or (n,); got {p.shape}.")
    if p1.shape[0] != n:
        raise DataError(f"{owner}: 'proba' has {p1.shape[0]} rows but 'actual_index' has {n}.")
    return p0, p1


def binomial_partial(actual_index: Any, proba: Any, weight: Any = None, *,
                     nbins: int = NBINS) -> BinomialPartial:
    """Partial binomial metrics of one block of rows.

    Rows with NaN actual, NaN probability or NaN or zero weight are skipped
    and not counted in ``nobs`` (as H2O's ``MetricBuilderBinomial``).

    Parameters
    ----------
    actual_index : array-like of shape (n,)
        Actual class index, 0 or 1 (NaN for missing; a pandas categorical
        gives its codes).
    proba : array-like of shape (n, 2) or (n,)
        Class probabilities, or the probability of class 1.
    weight : array-like of shape (n,), optional
        Observation weights (finite, >= 0); ``None`` means 1.
    nbins : int, default=400
        Maximum number of AUC bins (H2O's ``AUC2.NBINS``).

    Returns
    -------
    BinomialPartial

    Raises
    ------
    DataError
        For labels other than 0/1, mismatched shapes or bad weights.

    Notes
    -----
    ``logloss = -sum w log(max(1e-15, p_actual)) / sum w`` and
    ``MSE = sum w (1 - p_actual)^2 / sum w`` where ``p_actual`` is the
    probability column of the actual class.
    """
    y = as_1d(actual_index, "actual_index", _OWNER)
    p0, p1 = _binary_scores(proba, y.shape[0], _OWNER)
    w = as_weights(weight, y.shape[0], _OWNER)
    as_labels(y, 2, _OWNER)
    keep = ~(np.isnan(y) | np.isnan(p0) | np.isnan(p1) | np.isnan(w)) & (w != 0)
    if not keep.all():
        y, p0, p1, w = y[keep], p0[keep], p1[keep], w[keep]
    part = BinomialPartial(nbins)
    part.nobs = int(y.shape[0])
    if part.nobs == 0:
        return part
    pos = y == 1.0
    p_act = np.where(pos, p1, p0)
    err = 1.0 - p_act
    part.sum_w = float(w.sum())
    part.sum_wy = float(w[pos].sum())
    part.sum_sqe = float(np.dot(w, err * err))
    part.sum_logloss = float(-np.dot(w, np.log(np.maximum(_EPS, p_act))))
    part.bins = AUCBins.from_scores(p1, pos, w, nbins)
    return part

