"""How the grid compares models: the direction of a metric, the metric of a fitted model,
the default metric of a task, and the ranking of candidates by a metric."""

from __future__ import annotations

import math
from typing import Any, Sequence, TypeVar

from ..exceptions import InvalidParameterError
from ..metrics import more_is_better
#: the metric a search ranks and stops by when ``stopping_metric="AUTO"``, per task
from ..training.stopping import DEFAULT_METRIC as _DEFAULT_METRIC

_OWNER = "DeepLearningGridSearch"
# ModelMetrics.get names that are not stopping metrics
_EXTRA_DIRECTION = {"gini": True, "pr_auc": True, "r2": True, "mean_residual_deviance": False,
                    "classification_error": False, "error": False}

_C = TypeVar("_C")


def metric_is_increasing(metric: str) -> bool:
    """Whether larger values of ``metric`` are better.

    Parameters
    ----------
    metric : str
        A stopping-metric name (:func:`dask_deeplearn.metrics.more_is_better`) or another
        name :meth:`ModelMetrics.get` understands (``r2``, ``gini``, ``pr_auc``,
        ``mean_residual_deviance``, ``classification_error``, ``error``); case-insensitive.

    Returns
    -------
    bool

    Raises
    ------
    InvalidParameterError
        For an unknown metric name.

    Examples
    --------
    >>> metric_is_increasing("AUC"), metric_is_increasing("logloss"), metric_is_increasing("r2")
    (True, False, True)
    """
    try:
        return more_is_better(metric)
    except ValueError:
        pass
    key = str(metric).lower()
    if key in _EXTRA_DIRECTION:
        return _EXTRA_DIRECTION[key]
    raise InvalidParameterError(
        f"sort_by={metric!r} is not a metric {_OWNER} can rank models by; use one of "
        "'logloss', 'auc', 'aucpr', 'mse', 'rmse', 'mae', 'rmsle', 'deviance', 'r2', "
        "'misclassification', 'mean_per_class_error', 'lift_top_group' (case-insensitive)."
    )


def model_metric(model: Any, metric: str) -> float:
    """``metric`` of a fitted model: validation metrics when present, else training ones.

    Parameters
    ----------
    model : estimator
        A fitted model (``validation_metrics_`` / ``training_metrics_``).
    metric : str
        A name :meth:`ModelMetrics.get` understands.

    Returns
    -------
    float
        NaN when the model has no metrics.
    """
    m = getattr(model, "validation_metrics_", None)
    if m is None:
        m = getattr(model, "training_metrics_", None)
    if m is None:
        return float("nan")
    return float(m.get(metric))


def resolve_metric(stopping_metric: str, model: Any) -> str:
    """The metric a search uses: ``stopping_metric``, or for "AUTO" the default of the
    task of ``model`` (logloss when there is no model).

    Parameters
    ----------
    stopping_metric : str
        The search criteria's ``stopping_metric``.
    model : estimator or None
        A fitted model of the search; its ``task_`` chooses the default.

    Returns
    -------
    str

    Examples
    --------
    >>> resolve_metric("AUC", None), resolve_metric("AUTO", None)
    ('AUC', 'logloss')
    """
    if stopping_metric != "AUTO":
        return stopping_metric
    return _DEFAULT_METRIC.get(getattr(model, "task_", ""), "logloss")


def rank(candidates: Sequence[_C], metric: str) -> list[_C]:
    """Candidates best first by ``metric``; those without a value last, ties by build order.

    Parameters
    ----------
    candidates : sequence
        Objects with a fitted ``model`` and a build-order ``index``.
    metric : str

    Returns
    -------
    list
    """
    up = metric_is_increasing(metric)

    def key(c: Any) -> tuple[bool, float, int]:
        v = model_metric(c.model, metric)
        bad = math.isnan(v)
        return (bad, 0.0 if bad else (-v if up else v), c.index)

    return sorted(candidates, key=key)
