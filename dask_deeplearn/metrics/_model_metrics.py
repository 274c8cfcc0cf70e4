"""The :class:`ModelMetrics` result object and the stopping-metric tables."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .._display import narrow_table

__all__ = [
    "ModelMetrics",
    "STOPPING_METRIC_DIRECTION",
    "BOUNDED_BELOW_BY_ZERO",
    "confusion_matrix_frame",
    "mean_per_class_error",
]

#: ``True`` when more is better for a stopping metric (H2O's ``ScoreKeeper.StoppingMetric``).
#: ``r2`` is not one of H2O's stopping metrics; it is listed for :meth:`ModelMetrics.get`.
STOPPING_METRIC_DIRECTION: dict[str, bool] = {
    "deviance": False,
    "logloss": False,
    "MSE": False,
    "RMSE": False,
    "MAE": False,
    "RMSLE": False,
    "AUC": True,
    "AUCPR": True,
    "lift_top_group": True,
    "misclassification": False,
    "mean_per_class_error": False,
    "custom": False,
    "custom_increasing": True,
    "r2": True,
}

#: Stopping metrics bounded below by zero (H2O stops at once when their reference average is 0).
BOUNDED_BELOW_BY_ZERO: frozenset[str] = frozenset({
    "logloss", "MSE", "RMSE", "MAE", "RMSLE", "AUC", "AUCPR",
    "misclassification", "mean_per_class_error",
})

# stopping-metric name (lower case) -> ModelMetrics attribute
_GET_ALIASES = {
    "deviance": "mean_residual_deviance",
    "mean_residual_deviance": "mean_residual_deviance",
    "logloss": "logloss",
    "mse": "mse",
    "rmse": "rmse",
    "mae": "mae",
    "rmsle": "rmsle",
    "auc": "auc",
    "aucpr": "aucpr",
    "pr_auc": "aucpr",
    "lift_top_group": "lift_top_group",
    "misclassification": "classification_error",
    "classification_error": "classification_error",
    "error": "classification_error",
    "mean_per_class_error": "mean_per_class_error",
    "r2": "r2",
    "gini": "gini",
    "custom": "custom",
    "custom_increasing": "custom",
}

_SCALARS = (
    "nobs", "sum_weights", "mse", "rmse", "mae", "rmsle", "mean_residual_deviance",
    "r2", "logloss", "auc", "aucpr", "gini", "mean_per_class_error",
    "classification_error", "lift_top_group", "max_f1_threshold", "huber_delta", "custom",
)
_FRAMES = (
    "confusion_matrix", "hit_ratios", "thresholds_and_metric_scores", "gains_lift",
    "multinomial_auc_table", "multinomial_aucpr_table",
)


def mean_per_class_error(cm: np.ndarray) -> float:
    """H2O's ``ConfusionMatrix.mean_per_class_error``.

    A class with no actual rows counts as error 0 but still divides.
    """
    cm = np.asarray(cm, dtype=np.float64)
    if cm.size == 0:
        return float("nan")
    rows = cm.sum(axis=1)
    diag = np.diag(cm)
    with np.errstate(divide="ignore", invalid="ignore"):
        err = np.where(rows == 0, 0.0, (rows - diag) / np.where(rows == 0, 1.0, rows))
    return float(err.mean())


def confusion_matrix_frame(cm: np.ndarray, domain: Sequence[str]) -> pd.DataFrame:
    """H2O's confusion-matrix table as a DataFrame.

    Rows are the actual classes plus ``"Total"``; columns are the predicted
    classes plus ``"Error"`` (row error rate) and ``"Rate"`` (``"err / total"``,
    formatted ``"%,d / %,d"`` for integral counts, else with 4 decimals).

    Parameters
    ----------
    cm : ndarray of shape (K, K)
        Weighted counts, rows actual, columns predicted.
    domain : sequence of str
        Class labels.

    Returns
    -------
    pandas.DataFrame
        The table, class columns float64 (or int64 when all counts are integral).
    """
    cm = np.asarray(cm, dtype=np.float64)
    labels = [str(d) for d in domain]
    is_int = bool(np.all(cm == np.floor(cm)))
    acts = cm.sum(axis=1)
    preds = cm.sum(axis=0)
    err = acts - np.diag(cm)
    total = float(acts.sum())
    terr = float(err.sum())

    def rate(e: float, t: float) -> str:
        if is_int:
            return f"{int(e):,} / {int(t):,}"
        return f"{e:.4f} / {t:.4f}"

    with np.errstate(divide="ignore", invalid="ignore"):
        row_err = err / acts
    body = np.vstack([cm, preds[None, :]])
    df = pd.DataFrame(body.astype(np.int64) if is_int else body,
                      index=labels + ["Total"], columns=labels)
    df["Error"] = np.r_[row_err, terr / total if total > 0 else np.nan]
    df["Rate"] = [rate(e, t) for e, t in zip(err, acts)] + [rate(terr, total)]
    df.index.name = "actual"
    df.columns.name = "predicted"
    return df


def _json_value(v: Any) -> Any:
    """Convert to plain JSON-able Python (non-finite floats become ``None``)."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, pd.DataFrame):
        return {
            "columns": [str(c) for c in v.columns],
            "index": [_json_value(i) for i in v.index],
            "data": [[_json_value(x) for x in row] for row in v.itertuples(index=False)],
        }
    if isinstance(v, dict):
        return {str(k): _json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_json_value(x) for x in v]
    return str(v)


class ModelMetrics:
    """Metrics of a model on one frame, named as H2O names them.

    Attributes not applicable to the category are ``None``.  Build it with
    the ``result()`` method of a partial.

    Attributes
    ----------
    category : str
        ``"Regression"``, ``"Binomial"``, ``"Multinomial"`` or ``"AutoEncoder"``.
    nobs : int
        Rows used (NA actual, NA prediction, and zero or NA weight rows are not).
    sum_weights : float
        Sum of the weights of the rows used.
    mse, rmse, mae, rmsle, mean_residual_deviance, r2 : float or None
    logloss, auc, aucpr, gini, mean_per_class_error, classification_error : float or None
    lift_top_group, max_f1_threshold : float or None
    confusion_matrix : pandas.DataFrame or None
        Rows actual (plus ``"Total"``), columns predicted plus ``"Error"`` and ``"Rate"``;
        kept whatever the number of classes (``repr`` prints it for at most
        ``max_confusion_matrix_size`` classes, default 20).
    hit_ratios : pandas.DataFrame or None
        Columns ``k`` and ``hit_ratio`` (multinomial).
    thresholds_and_metric_scores : pandas.DataFrame or None
        Binomial per-bin criteria, thresholds decreasing.
    gains_lift : pandas.DataFrame or None
        Binomial 16-group gains/lift table.
    multinomial_auc_table, multinomial_aucpr_table : pandas.DataFrame or None
        Per-class / per-pair AUC and AUCPR when a multinomial ``auc_type`` is set.
    huber_delta : float or None
        The huber delta used for the deviance.
    custom : float or None
        The value of ``custom_metric_func`` on these rows, when the model has one.
    distribution : str or None
        Regression distribution of the deviance.
    domain : list of str or None
        Class labels.
    """

    category: str
    nobs: int
    sum_weights: float
    mse: float | None
    rmse: float | None
    mae: float | None
    rmsle: float | None
    mean_residual_deviance: float | None
    r2: float | None
    logloss: float | None
    auc: float | None
    aucpr: float | None
    gini: float | None
    mean_per_class_error: float | None
    classification_error: float | None
    lift_top_group: float | None
    max_f1_threshold: float | None
    huber_delta: float | None
    custom: float | None
    confusion_matrix: pd.DataFrame | None
    hit_ratios: pd.DataFrame | None
    thresholds_and_metric_scores: pd.DataFrame | None
    gains_lift: pd.DataFrame | None
    multinomial_auc_table: pd.DataFrame | None
    multinomial_aucpr_table: pd.DataFrame | None
    distribution: str | None
    domain: list[str] | None
    #: largest number of classes whose confusion matrix ``repr`` prints (the model's
    #: ``max_confusion_matrix_size``; not a metric: not saved, not compared)
    max_confusion_matrix_size: int = 20

    def __init__(self, category: str, **values: Any) -> None:
        self.category = category
        for name in _SCALARS + _FRAMES + ("distribution", "domain"):
            setattr(self, name, None)
        self.nobs = 0
        self.sum_weights = 0.0
        for name, v in values.items():
            if name not in _SCALARS + _FRAMES + ("distribution", "domain"):
                raise TypeError(f"ModelMetrics got an unexpected field {name!r}.")
            if name in _SCALARS and v is not None:
                v = int(v) if name == "nobs" else float(v)
            setattr(self, name, v)

    # ---------------------------------------------------------------- access
    @property
    def error(self) -> float | None:
        """Alias of :attr:`classification_error`."""
        return self.classification_error

    @property
    def pr_auc(self) -> float | None:
        """Alias of :attr:`aucpr`."""
        return self.aucpr

    def get(self, name: str) -> float:
        """Value of a metric by stopping-metric name (case-insensitive).

        Parameters
        ----------
        name : str
            One of ``deviance``, ``logloss``, ``MSE``, ``RMSE``, ``MAE``,
            ``RMSLE``, ``AUC``, ``AUCPR``, ``lift_top_group``,
            ``misclassification``, ``mean_per_class_error``, ``r2`` (also the
            attribute names and ``pr_auc``, ``error``, ``gini``).

        Returns
        -------
        float
            The value; NaN when the metric does not apply to this category.

        Raises
        ------
        ValueError
            If ``name`` is not a known metric name.
        """
        key = str(name).lower()
        if key not in _GET_ALIASES:
            raise ValueError(
                f"ModelMetrics.get: unknown metric name {name!r}; expected one of "
                f"{sorted(set(_GET_ALIASES))} (case-insensitive)."
            )
        v = getattr(self, _GET_ALIASES[key])
        return float("nan") if v is None else float(v)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict: scalars (non-finite as ``None``), tables as ``{columns, index, data}``."""
        out: dict[str, Any] = {"category": self.category}
        for name in _SCALARS:
            out[name] = _json_value(getattr(self, name))
        out["distribution"] = self.distribution
        out["domain"] = _json_value(self.domain)
        for name in _FRAMES:
            out[name] = _json_value(getattr(self, name))
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelMetrics":
        """Rebuild metrics from :meth:`to_dict` output (``None`` scalars stay ``None``)."""
        m = cls(d["category"])
        for name in _SCALARS:
            v = d.get(name)
            if v is not None:
                setattr(m, name, int(v) if name == "nobs" else float(v))
        m.distribution = d.get("distribution")
        m.domain = d.get("domain")
        for name in _FRAMES:
            t = d.get(name)
            if t is not None:
                frame = pd.DataFrame(t["data"], columns=t["columns"])
                frame.index = pd.Index(t["index"])
                setattr(m, name, frame)
        return m

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ModelMetrics):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    # ----------------------------------------------------------------- print
    def __repr__(self) -> str:
        def fmt(v: float | None) -> str:
            return "NaN" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.6g}"

        lines = [f"ModelMetrics{self.category}", f"** nobs: {self.nobs}, sum of weights: {fmt(self.sum_weights)} **", ""]
        lines.append(f"MSE: {fmt(self.mse)}")
        lines.append(f"RMSE: {fmt(self.rmse)}")
        if self.category == "Regression":
            lines.append(f"MAE: {fmt(self.mae)}")
            lines.append(f"RMSLE: {fmt(self.rmsle)}")
            lines.append(f"Mean Residual Deviance: {fmt(self.mean_residual_deviance)}"
                         + (f" ({self.distribution})" if self.distribution else ""))
            if self.huber_delta is not None:
                lines.append(f"Huber delta: {fmt(self.huber_delta)}")
        elif self.category == "AutoEncoder":
            return "\n".join(lines)
        else:
            lines.append(f"LogLoss: {fmt(self.logloss)}")
            lines.append(f"Mean Per-Class Error: {fmt(self.mean_per_class_error)}")
            if self.auc is not None:
                lines.append(f"AUC: {fmt(self.auc)}")
                lines.append(f"AUCPR: {fmt(self.aucpr)}")
            if self.gini is not None:
                lines.append(f"Gini: {fmt(self.gini)}")
        lines.append(f"R^2: {fmt(self.r2)}")
        n_classes = 0 if self.confusion_matrix is None else len(self.confusion_matrix) - 1
        if self.category != "Binomial" and n_classes > self.max_confusion_matrix_size:
            lines.append("")
            lines.append(f"Confusion Matrix is too large to print: {n_classes} classes > "
                         f"max_confusion_matrix_size={self.max_confusion_matrix_size} "
                         "(it is in .confusion_matrix).")
        elif self.confusion_matrix is not None:
            lines.append("")
            if self.category == "Binomial":
                lines.append(f"Confusion Matrix (Act/Pred) for max f1 @ threshold = {fmt(self.max_f1_threshold)}:")
            else:
                lines.append("Confusion Matrix: Row labels: Actual class; Column labels: Predicted class")
            # at most 100 characters a line: many classes wrap into blocks of columns
            lines.append(narrow_table(self.confusion_matrix, na_rep="NaN", float_format=".5g"))
        if self.hit_ratios is not None:
            lines.append("")
            lines.append(f"Top-{len(self.hit_ratios)} Hit Ratios:")
            lines.append(self.hit_ratios.to_string(index=False))
        return "\n".join(lines)
