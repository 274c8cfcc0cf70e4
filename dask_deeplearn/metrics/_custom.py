"""A user metric (``custom_metric_func``) carried alongside H2O's metrics."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

__all__ = ["CustomMetricPartial"]


def _cat(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    if a is None or b is None:
        return None
    return np.concatenate([a, b])


class CustomMetricPartial:
    """A metric partial plus the rows a user metric needs (actual, predicted, weight).

    The user function sees every scored row at once after the merge, so it may be any
    function of the arrays (a rank metric, a quantile...). Scoring samples are small
    (``score_training_samples``), so keeping their rows costs little.

    Parameters
    ----------
    inner : partial
        The built-in metrics' partial of the same rows.
    func : callable
        ``func(actual, predicted, weight) -> float``.
    actual, predicted : ndarray
        Class index or response (original units); probabilities ``(n, K)`` or predictions.
    weight : ndarray or None
    """

    def __init__(self, inner: Any, func: Callable[..., float], actual: np.ndarray,
                 predicted: np.ndarray, weight: np.ndarray | None) -> None:
        self.inner = inner
        self.func = func
        self.actual = np.asarray(actual)
        self.predicted = np.asarray(predicted)
        self.weight = None if weight is None else np.asarray(weight)

    def merge(self, other: "CustomMetricPartial") -> "CustomMetricPartial":
        """Merge with another partial (returns a new partial)."""
        from . import merge_partials

        if not isinstance(other, CustomMetricPartial):
            raise TypeError(f"Cannot merge CustomMetricPartial with {type(other).__name__}.")
        return CustomMetricPartial(
            merge_partials([self.inner, other.inner]), self.func,
            np.concatenate([self.actual, other.actual]),
            np.concatenate([self.predicted, other.predicted]), _cat(self.weight, other.weight))

    def result(self, **kwargs: Any) -> Any:
        """The inner metrics with ``custom`` set to ``func(actual, predicted, weight)``.

        Raises
        ------
        ValueError
            The function failed or did not return a number (the message names it).
        """
        metrics = self.inner.result(**kwargs)
        try:
            value = float(self.func(self.actual, self.predicted, self.weight))
        except Exception as exc:  # noqa: BLE001 - the user's code: say whose error it is
            name = getattr(self.func, "__name__", repr(self.func))
            raise ValueError(
                f"custom_metric_func {name} failed on the scoring sample "
                f"({type(exc).__name__}: {exc}); it is called as func(actual, predicted, "
                "weight) with numpy arrays and must return a number.") from exc
        metrics.custom = value
        return metrics
