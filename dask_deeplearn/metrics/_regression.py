"""Regression metrics as mergeable partial sums."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..distributions import REGRESSION_DISTRIBUTIONS
from ..exceptions import DataError, InvalidParameterError
from ._auc import weighted_quantile
from ._common import as_1d, as_weights, r2_from_sums, safe_div
from ._model_metrics import ModelMetrics

__all__ = ["RegressionPartial", "regression_partial", "deviance_per_row", "DISTRIBUTIONS"]

#: Regression distributions with a mean residual deviance.
DISTRIBUTIONS = REGRESSION_DISTRIBUTIONS

_MIN_LOG = -19.0  # H2O's LogExpUtil.MIN_LOG

_OWNER = "regression_partial"


def deviance_per_row(y: np.ndarray, f: np.ndarray, *, distribution: str = "gaussian",
                     tweedie_power: float = 1.5, quantile_alpha: float = 0.5,
                     huber_delta: float | None = None) -> np.ndarray:
    """Unweighted per-row residual deviance of ``distribution`` (H2O's formulas).

    Parameters
    ----------
    y : ndarray of shape (n,)
        Actual values.
    f : ndarray of shape (n,)
        Predictions (response scale).
    distribution : str, default="gaussian"
        One of :data:`DISTRIBUTIONS`.
    tweedie_power : float, default=1.5
        Tweedie variance power ``p`` (``1 < p < 2``).
    quantile_alpha : float, default=0.5
        Quantile level.
    huber_delta : float, optional
        Huber threshold; required for ``"huber"``.

    Returns
    -------
    ndarray of shape (n,)
        gaussian ``(y-f)^2``; poisson ``2(y log(y/f) - y + f)`` (the log
        clamped below at -19, ``y log(y/f) = 0`` when ``y = 0``); gamma
        ``2(log(f/y) + y/f - 1)``; tweedie
        ``2(y^{2-p}/((1-p)(2-p)) - y f^{1-p}/(1-p) + f^{2-p}/(2-p))``;
        laplace ``|y-f|``; quantile ``alpha (y-f)`` if ``y > f`` else
        ``(1-alpha)(f-y)``; huber ``(y-f)^2`` if ``|y-f| <= delta`` else
        ``(2|y-f| - delta) delta``.
    """
    r = y - f
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if distribution == "gaussian":
            return r * r
        if distribution == "poisson":
            ratio = np.maximum(y / f, 0.0)
            log_r = np.where(ratio > 0, np.maximum(np.log(ratio), _MIN_LOG), _MIN_LOG)
            ylog = np.where(y == 0, 0.0, y * log_r)
            return 2.0 * (ylog - y + f)
        if distribution == "gamma":
            return 2.0 * (np.log(f / y) + y / f - 1.0)
        if distribution == "tweedie":
            p = tweedie_power
            return 2.0 * (np.power(y, 2 - p) / ((1 - p) * (2 - p))
                          - y * np.power(f, 1 - p) / (1 - p) + np.power(f, 2 - p) / (2 - p))
        if distribution == "laplace":
            return np.abs(r)
        if distribution == "quantile":
            a = quantile_alpha
            return np.where(y > f, a * r, (1 - a) * (-r))
        if distribution == "huber":
            if huber_delta is None:
                raise InvalidParameterError("deviance_per_row: 'huber_delta' is required for distribution='huber'.")
            d = float(huber_delta)
            ar = np.abs(r)
            return np.where(ar <= d, r * r, (2.0 * ar - d) * d)
    raise InvalidParameterError(
        f"The 'distribution' parameter of {_OWNER} must be a str among {set(DISTRIBUTIONS)}. "
        f"Got {distribution!r} instead."
    )


class RegressionPartial:
    """Mergeable partial sums of the regression metrics.

    Holds weighted sums (``sum_w``, ``sum_wy``, ``sum_wyy``, squared and
    absolute errors, squared log errors, deviance) and, only for huber with
    no ``huber_delta`` given, the absolute residuals and weights of every
    row: the huber delta is a weighted quantile of the residuals of the
    whole scored frame, so it can only be computed exactly after the merge.

    Build it with :func:`regression_partial`.
    """

    __slots__ = ("nobs", "sum_w", "sum_wy", "sum_wyy", "sum_sqe", "sum_abs", "sum_sle",
                 "rmsle_invalid", "sum_dev", "distribution", "tweedie_power",
                 "quantile_alpha", "huber_alpha", "huber_delta", "abs_res", "res_w")

    def __init__(self, *, distribution: str, tweedie_power: float, quantile_alpha: float,
                 huber_alpha: float, huber_delta: float | None) -> None:
        self.nobs = 0
        self.sum_w = self.sum_wy = self.sum_wyy = 0.0
        self.sum_sqe = self.sum_abs = self.sum_sle = self.sum_dev = 0.0
        self.rmsle_invalid = False
        self.distribution = distribution
        self.tweedie_power = float(tweedie_power)
        self.quantile_alpha = float(quantile_alpha)
        self.huber_alpha = float(huber_alpha)
        self.huber_delta = None if huber_delta is None else float(huber_delta)
        self.abs_res: np.ndarray | None = None
        self.res_w: np.ndarray | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            setattr(self, k, v)

    @property
    def _defers_huber(self) -> bool:
        return self.distribution == "huber" and self.huber_delta is None

    def _params(self) -> tuple:
        return (self.distribution, self.tweedie_power, self.quantile_alpha,
                self.huber_alpha, self.huber_delta)

    def merge(self, other: "RegressionPartial") -> "RegressionPartial":
        """Merge with another partial of the same distribution settings (returns a new partial)."""
        if not isinstance(other, RegressionPartial):
            raise TypeError(f"Cannot merge RegressionPartial with {type(other).__name__}.")
        if self._params() != other._params():
            raise InvalidParameterError(
                f"Cannot merge regression partials with different settings: {self._params()} vs {other._params()}."
            )
        out = RegressionPartial(distribution=self.distribution, tweedie_power=self.tweedie_power,
                                quantile_alpha=self.quantile_alpha, huber_alpha=self.huber_alpha,
                                huber_delta=self.huber_delta)
        out.nobs = self.nobs + other.nobs
        for k in ("sum_w", "sum_wy", "sum_wyy", "sum_sqe", "sum_abs", "sum_sle", "sum_dev"):
            setattr(out, k, getattr(self, k) + getattr(other, k))
        out.rmsle_invalid = self.rmsle_invalid or other.rmsle_invalid
        if self._defers_huber:
            empty = np.zeros(0)
            out.abs_res = np.concatenate([a.abs_res if a.abs_res is not None else empty for a in (self, other)])
            out.res_w = np.concatenate([a.res_w if a.res_w is not None else empty for a in (self, other)])
        return out

    def result(self, *, domain: Any = None, max_confusion_matrix_size: int = 20) -> ModelMetrics:
        """Final metrics.

        Parameters
        ----------
        domain, max_confusion_matrix_size
            Ignored (accepted for a uniform signature across partials).

        Returns
        -------
        ModelMetrics
            Category ``"Regression"``.
        """
        nan = float("nan")
        sw = self.sum_w
        if self.nobs == 0 or sw <= 0:
            return ModelMetrics("Regression", nobs=self.nobs, sum_weights=sw, mse=nan, rmse=nan,
                                mae=nan, rmsle=nan, mean_residual_deviance=nan, r2=nan,
                                distribution=self.distribution, huber_delta=self.huber_delta)
        mse = self.sum_sqe / sw
        rmsle = nan if self.rmsle_invalid else math.sqrt(self.sum_sle / sw) if self.sum_sle >= 0 else nan
        delta = self.huber_delta
        sum_dev = self.sum_dev
        if self._defers_huber and self.abs_res is not None:
            delta = weighted_quantile(self.abs_res, self.res_w, self.huber_alpha)
            ar = self.abs_res
            dev = np.where(ar <= delta, ar * ar, (2.0 * ar - delta) * delta)
            sum_dev = float(np.dot(self.res_w, dev))
        return ModelMetrics(
            "Regression", nobs=self.nobs, sum_weights=sw, mse=mse, rmse=math.sqrt(mse),
            mae=self.sum_abs / sw, rmsle=rmsle, mean_residual_deviance=safe_div(sum_dev, sw),
            r2=r2_from_sums(mse, sw, self.sum_wy, self.sum_wyy, self.nobs),
            distribution=self.distribution,
            huber_delta=delta if self.distribution == "huber" else None,
        )


def regression_partial(actual: Any, predicted: Any, weight: Any = None, *,
                       distribution: str = "gaussian", tweedie_power: float = 1.5,
                       quantile_alpha: float = 0.5, huber_alpha: float = 0.9,
                       huber_delta: float | None = None) -> RegressionPartial:
    """Partial regression metrics of one block of rows.

    Rows with NaN actual, NaN prediction, or NaN or zero weight are skipped
    and not counted in ``nobs`` (as H2O's ``MetricBuilderRegression``).

    Parameters
    ----------
    actual : array-like of shape (n,)
        Actual response (original units).
    predicted : array-like of shape (n,)
        Predictions (original units, response scale).
    weight : array-like of shape (n,), optional
        Observation weights (finite, >= 0); ``None`` means 1.
    distribution : str, default="gaussian"
        Distribution of the mean residual deviance, one of
        :data:`DISTRIBUTIONS` (``"AUTO"`` means gaussian).
    tweedie_power : float, default=1.5
        Tweedie power, in (1, 2).
    quantile_alpha : float, default=0.5
        Quantile level, in [0, 1].
    huber_alpha : float, default=0.9
        Huber: the delta is the weighted ``huber_alpha`` quantile of
        ``|y - yhat|`` over all merged rows (needs the residuals kept).
    huber_delta : float, optional
        Huber: a fixed delta instead (then nothing per row is kept).

    Returns
    -------
    RegressionPartial

    Raises
    ------
    InvalidParameterError
        For a bad distribution or parameter.
    DataError
        For mismatched lengths or bad weights.
    """
    dist = str(distribution).lower() if distribution is not None else "gaussian"
    if dist == "auto":
        dist = "gaussian"
    if dist not in DISTRIBUTIONS:
        raise InvalidParameterError(
            f"The 'distribution' parameter of {_OWNER} must be a str among {set(DISTRIBUTIONS)}. "
            f"Got {distribution!r} instead."
        )
    if dist == "tweedie" and not (1.0 < float(tweedie_power) < 2.0):
        raise InvalidParameterError(
            f"The 'tweedie_power' parameter of {_OWNER} must be in (1, 2). Got {tweedie_power!r} instead."
        )
    for pname, pval in (("quantile_alpha", quantile_alpha), ("huber_alpha", huber_alpha)):
        if not (0.0 <= float(pval) <= 1.0):
            raise InvalidParameterError(
                f"The '{pname}' parameter of {_OWNER} must be in [0, 1]. Got {pval!r} instead."
            )
    if huber_delta is not None and not (float(huber_delta) >= 0.0 and math.isfinite(float(huber_delta))):
        raise InvalidParameterError(
            f"The 'huber_delta' parameter of {_OWNER} must be a finite float >= 0 or None. "
            f"Got {huber_delta!r} instead."
        )
    y = as_1d(actual, "actual", _OWNER)
    f = as_1d(predicted, "predicted", _OWNER)
    if f.shape[0] != y.shape[0]:
        raise DataError(f"{_OWNER}: 'predicted' has {f.shape[0]} rows but 'actual' has {y.shape[0]}.")
    w = as_weights(weight, y.shape[0], _OWNER)
    keep = ~(np.isnan(y) | np.isnan(f) | np.isnan(w)) & (w != 0)
    if not keep.all():
        y, f, w = y[keep], f[keep], w[keep]

    part = RegressionPartial(distribution=dist, tweedie_power=tweedie_power,
                             quantile_alpha=quantile_alpha, huber_alpha=huber_alpha,
                             huber_delta=huber_delta)
    part.nobs = int(y.shape[0])
    r = y - f
    part.sum_w = float(w.sum())
    part.sum_wy = float(np.dot(w, y))
    part.sum_wyy = float(np.dot(w, y * y))
    part.sum_sqe = float(np.dot(w, r * r))
    part.sum_abs = float(np.dot(w, np.abs(r)))
    if np.any(y < -1) or np.any(f < -1):
        part.rmsle_invalid = True
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.log1p(f) - np.log1p(y)
            part.sum_sle = float(np.dot(w, d * d))
    if part._defers_huber:
        part.abs_res = np.abs(r)
        part.res_w = w.copy()
    else:
        dev = deviance_per_row(y, f, distribution=dist, tweedie_power=tweedie_power,
                               quantile_alpha=quantile_alpha, huber_delta=huber_delta)
        part.sum_dev = float(np.dot(w, dev))
    return part
