"""The stopping rule: H2O's moving-average early stopping and the best-model choice.

One value, :class:`StoppingRule`, used by the training loop (after every scoring event) and
by the grid search (over the models built so far). The metric-direction and default-metric
registries live here too; every caller reads them from this module.

Pure Python; no Dask, no numba.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from ..metrics import BOUNDED_BELOW_BY_ZERO, STOPPING_METRIC_DIRECTION

__all__ = ["BOUNDED_BELOW", "DEFAULT_METRIC", "MORE_IS_BETTER", "StoppingRule", "default_metric",
           "metric_value"]

#: metrics where a larger value is better (H2O's ``ScoreKeeper.StoppingMetric`` direction)
MORE_IS_BETTER: frozenset[str] = frozenset(
    name for name, up in STOPPING_METRIC_DIRECTION.items() if up)
#: metrics bounded below by zero: a reference moving average of exactly 0 cannot improve,
#: so H2O stops at once
BOUNDED_BELOW: frozenset[str] = BOUNDED_BELOW_BY_ZERO
#: the metric a task is judged by when ``stopping_metric`` is AUTO
DEFAULT_METRIC: Mapping[str, str] = {"classification": "logloss", "regression": "deviance",
                                     "autoencoder": "MSE"}


def default_metric(task: str | None, fallback: str = "deviance") -> str:
    """The AUTO metric of ``task`` (``fallback`` for an unknown or missing task)."""
    return DEFAULT_METRIC.get(task or "", fallback)


def metric_value(metrics: Any, name: str) -> float:
    """``metrics.get(name)`` as a float; NaN when there are no metrics or no such value."""
    if metrics is None:
        return float("nan")
    try:
        v = metrics.get(name)
    except (KeyError, AttributeError, ValueError):
        return float("nan")
    return float("nan") if v is None else float(v)


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


@dataclass(frozen=True)
class StoppingRule:
    """H2O's early-stopping rule on one metric, and its best-model order.

    Parameters
    ----------
    metric : str
        Canonical metric name (``"logloss"``, ``"AUC"``, ...).
    rounds : int, default=0
        Window ``k`` of the moving averages; 0 disables early stopping.
    tolerance : float, default=0.0
        Relative improvement the last ``k`` averages must show over the reference one.
    more_is_better : bool, optional
        Direction; by default looked up in :data:`MORE_IS_BETTER`.

    Examples
    --------
    >>> rule = StoppingRule("logloss", rounds=2, tolerance=0.0)
    >>> rule.should_stop([0.5, 0.5, 0.5, 0.5])
    True
    >>> rule.best([0.7, 0.4, 0.6])
    1
    """

    metric: str
    rounds: int = 0
    tolerance: float = 0.0
    more_is_better: bool = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.more_is_better is None:
            object.__setattr__(self, "more_is_better", self.metric in MORE_IS_BETTER)

    @classmethod
    def from_params(cls, params: Mapping[str, Any], task: str) -> "StoppingRule":
        """The rule of a fit: ``stopping_metric`` (AUTO: the task's default), its rounds and tolerance."""
        return cls(params.get("stopping_metric") or default_metric(task),
                   int(params["stopping_rounds"]), float(params["stopping_tolerance"]))

    def value(self, metrics: Any) -> float:
        """The rule's metric in ``metrics`` (NaN when absent)."""
        return metric_value(metrics, self.metric)

    def loss(self, metrics: Any) -> float:
        """H2O's ``loss()`` for the best-model comparison: smaller is better.

        AUC and AUCPR become ``1 - value``, other larger-is-better metrics ``-value``.
        """
        v = self.value(metrics)
        if self.more_is_better:
            return 1.0 - v if self.metric in ("AUC", "AUCPR") else -v
        return v

    def best(self, values: Sequence[float]) -> int | None:
        """Position of the best of ``values`` (the first on ties; None if all are NaN)."""
        best_i, best_v = None, math.nan
        for i, v in enumerate(values):
            if v is None or math.isnan(v):
                continue
            if best_i is None or (v > best_v if self.more_is_better else v < best_v):
                best_i, best_v = i, v
        return best_i

    def should_stop(self, values: Sequence[float]) -> bool:
        """H2O's moving-average rule (``ScoreKeeper.stopEarly``).

        Parameters
        ----------
        values : sequence of float
            The metric at each scoring event, oldest first, *excluding* the first history
            row (H2O skips it as not conservative).

        Returns
        -------
        bool
            True when the last ``k`` moving averages (of ``k`` values each) show no
            relative improvement of more than ``tolerance`` over the average before them.
            Needs ``2k`` values; a window holding NaN never stops.
        """
        k = int(self.rounds)
        if k <= 0 or len(values) < 2 * k:
            return False
        n = len(values)
        window = list(values[n - 2 * k:])
        if any(v is None or math.isnan(v) for v in window):
            return False
        mas = [sum(window[i:i + k]) / k for i in range(k + 1)]
        ref = mas[0]
        rest = mas[1:]
        if self.metric in BOUNDED_BELOW and ref == 0:
            return True
        best = max(rest) if self.more_is_better else min(rest)
        if _sign(max(mas)) != _sign(min(mas)) or _sign(best) != _sign(ref):
            return False
        if self.more_is_better:
            return best / ref <= 1 + self.tolerance
        return best / ref >= 1 - self.tolerance

    def should_stop_among(self, values: Sequence[float], *, more_is_better: bool) -> bool:
        """The grid search's form: ``values`` of models in any order (NaN left out).

        The values are sorted from worst to best by ``more_is_better`` (the ranking
        direction, case-insensitive for the grid), the worst is dropped, and
        :meth:`should_stop` is applied (H2O's grid-level early stopping).
        """
        finite = [float(v) for v in values if v is not None and not math.isnan(float(v))]
        ranked = sorted(finite, reverse=not more_is_better)  # worst first, best last
        return self.should_stop(ranked[1:])
