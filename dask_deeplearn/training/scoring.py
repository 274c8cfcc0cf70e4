"""Turning network outputs into predictions and metric partials (one block at a time).

Shared by every backend (a Dask backend maps :func:`block_partial` over partitions and
merges the partials) and by the estimators' ``model_performance``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import metrics as _metrics
from ..distributions import LOG_LINK as _LOG_LINK
from ..network import ModelState, forward
from .balance import class_correction, correct_probabilities

__all__ = ["LOG_LINK", "predict_block", "block_partial", "score_block", "history_columns",
           "history_values", "reconstruction_errors"]

#: distributions with a log link: predictions are ``min(1e19, exp(output))``
LOG_LINK = _LOG_LINK


def predict_block(
    state: ModelState,
    X: np.ndarray,
    offset: np.ndarray | None,
    *,
    task: str,
    distribution: str,
    response_mean: float | None,
    response_sd: float | None,
    class_correction: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Predictions for one transformed block.

    Parameters
    ----------
    state : ModelState
    X : ndarray of shape (n_samples, n_inputs), float32
    offset : ndarray of shape (n_samples,) or None
        Offsets in output space (as produced by the preprocessing).
    task : {"classification", "regression"}
    distribution : str
        Effective distribution.
    response_mean, response_sd : float or None
        Response standardisation constants (identity-link regression only).
    class_correction : (prior, model) arrays, optional
        Class frequencies of the original and the balanced training frame of a model
        trained with ``balance_classes``: probabilities are corrected back to the priors.

    Returns
    -------
    ndarray
        ``(n_samples, n_classes)`` probabilities (classification) or ``(n_samples,)``
        predictions in the response's original units (regression).
    """
    out = forward(state.spec, state.W, state.B, X, offset)
    if task == "classification":
        if class_correction is not None:
            out = correct_probabilities(out, *class_correction)
        return out
    pred = out[:, 0]
    if response_mean is not None:
        pred = pred * response_sd + response_mean
    if distribution in LOG_LINK:
        pred = np.minimum(np.exp(pred), 1e19)
    return pred


def reconstruction_errors(state: ModelState, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """An autoencoder's reconstruction of a transformed block and its squared errors.

    Parameters
    ----------
    state : ModelState
        An autoencoder (``spec.output == "autoencoder"``).
    X : ndarray of shape (n_samples, n_inputs), float32
        Transformed (normalised, one-hot) inputs.

    Returns
    -------
    reconstruction, squared_error : ndarray of shape (n_samples, n_inputs), float64
        The network output and ``(output - input)**2`` per expanded input (H2O's reconstruction error).
    """
    out = forward(state.spec, state.W, state.B, X)
    se = out - np.asarray(X, dtype=np.float64)
    np.square(se, out=se)
    return out, se


def block_partial(
    pred: np.ndarray,
    actual: np.ndarray,
    weight: np.ndarray | None,
    *,
    task: str,
    distribution: str,
    params: dict[str, Any],
    n_classes: int | None = None,
) -> Any:
    """Mergeable metric partial of one block's predictions.

    Parameters
    ----------
    pred : ndarray
        Output of :func:`predict_block`.
    actual : ndarray of shape (n_samples,)
        Class index (classification) or response in original units (regression).
    weight : ndarray or None
    task, distribution : str
    params : dict
        Effective parameters (tweedie_power, quantile_alpha, huber_alpha, auc_type,
        max_hit_ratio_k).
    n_classes : int, optional

    Returns
    -------
    RegressionPartial, BinomialPartial or MultinomialPartial
        Wrapped in a :class:`~dask_deeplearn.metrics.CustomMetricPartial` when
        ``params["custom_metric_func"]`` is set (the function sees ``actual`` (class index or
        response), ``pred`` (probabilities or predictions) and ``weight`` of all the rows).
    """
    func = params.get("custom_metric_func")
    inner = _builtin_partial(pred, actual, weight, task=task, distribution=distribution,
                             params=params)
    if func is None:
        return inner
    return _metrics.CustomMetricPartial(inner, func, actual, pred, weight)


def _builtin_partial(pred: np.ndarray, actual: np.ndarray, weight: np.ndarray | None, *,
                     task: str, distribution: str, params: dict[str, Any]) -> Any:
    if task == "regression":
        return _metrics.regression_partial(
            actual,
            pred,
            weight,
            distribution=distribution,
            tweedie_power=params["tweedie_power"],
            quantile_alpha=params["quantile_alpha"],
            huber_alpha=params.get("huber_alpha", 0.9),
        )
    actual_index = actual.astype(np.int64)
    if pred.shape[1] == 2:
        return _metrics.binomial_partial(actual_index, pred, weight)
    return _metrics.multinomial_partial(
        actual_index,
        pred,
        weight,
        n_classes=pred.shape[1],
        top_k=int(params.get("max_hit_ratio_k", 10)),
        auc_type=params.get("auc_type", "AUTO"),
    )


def history_columns(task: str, n_classes: int | None) -> list[str]:
    """Metric columns of the scoring history for one frame (without prefix), as in H2O's scoring history."""
    if task == "regression":
        return ["rmse", "deviance", "mae", "r2"]
    if task == "autoencoder":
        return ["rmse", "mse"]
    cols = ["rmse", "logloss", "r2"]
    if n_classes == 2:
        cols += ["auc", "pr_auc", "lift"]
    cols += ["classification_error"]
    if n_classes is not None and n_classes > 2:
        cols += ["auc", "pr_auc"]
    return cols


_HISTORY_ATTR = {
    "rmse": "rmse",
    "mse": "mse",
    "deviance": "mean_residual_deviance",
    "mae": "mae",
    "r2": "r2",
    "logloss": "logloss",
    "auc": "auc",
    "pr_auc": "aucpr",
    "lift": "lift_top_group",
    "classification_error": "classification_error",
    "custom": "custom",
}


def history_values(m: Any, columns: list[str]) -> dict[str, float]:
    """Values of the history ``columns`` read off a metrics object (NaN when missing)."""
    out = {}
    for c in columns:
        v = getattr(m, _HISTORY_ATTR[c], None) if m is not None else None
        out[c] = float("nan") if v is None else float(v)
    return out


def score_block(
    state: ModelState,
    block: Any,
    *,
    data_info: Any,
    task: str,
    distribution: str,
    params: dict[str, Any],
    actual: np.ndarray | None = None,
) -> Any:
    """Metric partial of ``state`` on one transformed block (with a response, or any
    block for an autoencoder).

    ``actual``: the response of the block's rows in original units (float64), when the
    caller has it; otherwise it is recovered from the block's float32 training-space
    response (exact to float32 precision).
    """
    if task == "autoencoder":
        _, se = reconstruction_errors(state, block.X)
        return _metrics.autoencoder_partial(se.mean(axis=1))
    pred = predict_block(
        state,
        block.X,
        block.offset,
        task=task,
        distribution=distribution,
        response_mean=data_info.response_mean,
        response_sd=data_info.response_sd,
        class_correction=class_correction(params),
    )
    if actual is None:
        actual = block.y if task == "classification" else data_info.inverse_response(block.y)
    return block_partial(pred, actual, block.weight, task=task, distribution=distribution,
                         params=params)
