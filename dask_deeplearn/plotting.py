"""Plots of a fitted model: scoring history, variable importance, anomaly scores.

matplotlib is an optional dependency (``pip install matplotlib`` or
``pip install dask_deeplearn[plot]``); it is imported only when a plot is drawn. Every
function takes an optional ``ax`` (a new figure is created when it is None) and returns
the matplotlib ``Axes`` it drew on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_scoring_history", "plot_varimp", "plot_anomaly", "scoring_history_metrics",
           "rescored_rows", "PlotResult"]

_ANOMALY_COLUMN = "Reconstruction.MSE"

# metric spellings users may type -> scoring-history column suffix
_ALIASES = {
    "mean_residual_deviance": "deviance",
    "residual_deviance": "deviance",
    "aucpr": "pr_auc",
    "misclassification": "classification_error",
    "error": "classification_error",
    "lift_top_group": "lift",
}
# AUTO picks the first of these the history has
_AUTO_ORDER = ("logloss", "deviance", "mse", "rmse")
_LABELS = {
    "rmse": "RMSE",
    "mse": "MSE",
    "mae": "MAE",
    "r2": "R²",
    "logloss": "Log loss",
    "deviance": "Deviance",
    "auc": "AUC",
    "pr_auc": "PR AUC",
    "lift": "Lift (top group)",
    "classification_error": "Classification error",
}
_NOT_METRICS = {"speed"}  # training_speed is a throughput, not a metric


def _pyplot() -> Any:
    """Import ``matplotlib.pyplot`` or explain how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "Plotting needs matplotlib, an optional dependency of dask_deeplearn: install it "
            "with `pip install matplotlib` (or `pip install dask_deeplearn[plot]`)."
        ) from exc
    return plt


def _axes(ax: Any) -> Any:
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots()
    return ax


def scoring_history_metrics(history: pd.DataFrame) -> list[str]:
    """Metrics a scoring history can plot (lower-case column suffixes, in column order).

    ``mse`` is included when the history has ``rmse`` (it is plotted as ``rmse**2``).

    Parameters
    ----------
    history : pandas.DataFrame
        Columns ``training_<metric>`` and optionally ``validation_<metric>``.

    Returns
    -------
    list of str
    """
    found: list[str] = []
    for col in history.columns:
        name = str(col).lower()
        for prefix in ("training_", "validation_"):
            if name.startswith(prefix):
                m = name[len(prefix):]
                if m not in _NOT_METRICS and m not in found:
                    found.append(m)
    if "rmse" in found and "mse" not in found:
        found.insert(found.index("rmse") + 1, "mse")
    return found


def _series(history: pd.DataFrame, prefix: str, metric: str) -> pd.Series | None:
    """``<prefix>_<metric>`` as floats (columns matched case-insensitively), or None."""
    cols = {str(c).lower(): c for c in history.columns}
    col = cols.get(f"{prefix}_{metric}")
    if col is not None:
        return pd.to_numeric(history[col], errors="coerce").astype(float)
    if metric == "mse":
        rmse = cols.get(f"{prefix}_rmse")
        if rmse is not None:
            return pd.to_numeric(history[rmse], errors="coerce").astype(float) ** 2
    return None


#: x axes of a scoring-history plot (H2O's ``timestep`` of Deep Learning models)
_TIMESTEPS = {"epochs": "Epochs", "samples": "Samples", "duration": "Duration (seconds)"}


class PlotResult:
    """What h2o-py's plot methods return: the figure behind ``figure()``.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
    """

    def __init__(self, figure: Any) -> None:
        self._figure = figure

    def figure(self) -> Any:
        """The matplotlib Figure drawn (h2o-py's ``result.figure()``)."""
        return self._figure


def _duration_seconds(values: pd.Series) -> pd.Series:
    """A duration column as seconds (floats, timedeltas or H2O's ``"1.923 sec"`` text)."""
    if pd.api.types.is_timedelta64_dtype(values):
        return values.dt.total_seconds()
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float)
    return pd.to_numeric(values.astype(str).str.split().str[0], errors="coerce")


def rescored_rows(history: pd.DataFrame) -> np.ndarray:
    """Which rows re-score another model at the point of the row before them.

    With ``overwrite_with_best_model`` (H2O's default) training ends by putting back the
    best model scored and appending its metrics as a last row with the same
    ``iterations`` and ``samples`` as the row before (the epochs count what was trained
    in all). Joined to the line, that row would draw a vertical jump at the last epoch;
    :func:`plot_scoring_history` marks it instead.

    Parameters
    ----------
    history : pandas.DataFrame
        A scoring history; without ``iterations`` and ``samples`` columns no row is
        a re-scoring.

    Returns
    -------
    ndarray of bool, one per row
    """
    cols = {str(c).lower(): c for c in history.columns}
    out = np.zeros(len(history), dtype=bool)
    if len(history) < 2 or "iterations" not in cols or "samples" not in cols:
        return out
    keys = history[[cols["iterations"], cols["samples"]]].to_numpy()
    out[1:] = (keys[1:] == keys[:-1]).all(axis=1)
    return out


def plot_scoring_history(history: pd.DataFrame, metric: str = "AUTO", ax: Any = None,
                         timestep: str = "epochs") -> Any:
    """Plot a metric of the scoring history against epochs (training and validation).

    Parameters
    ----------
    history : pandas.DataFrame
        Scoring history as the training loop builds it: an ``epochs`` column and
        ``training_<metric>`` / ``validation_<metric>`` columns (``rmse``, ``deviance``,
        ``mae``, ``r2``, ``logloss``, ``auc``, ``pr_auc``, ``lift``,
        ``classification_error``...). A last row that re-scores the best model at the
        point of the row before it (``overwrite_with_best_model``, see
        :func:`rescored_rows`) is drawn as a star marker, not joined to the line.
    metric : str, default="AUTO"
        Case-insensitive metric name (``"logloss"``, ``"RMSE"``, ``"MSE"``...). ``MSE`` is
        drawn as ``RMSE**2`` when the history has no MSE column. AUTO picks ``logloss``
        when present, else ``deviance``, else ``mse``, else ``rmse``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when None.
    timestep : {"epochs", "samples", "duration"}, default="epochs"
        The x axis: a column of the history (``duration`` in seconds).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        The history has no ``timestep`` column, an unknown ``timestep``, or no column
        for ``metric`` (the message lists the available metrics).
    ImportError
        matplotlib is not installed.
    """
    if not isinstance(history, pd.DataFrame):
        raise TypeError(f"history must be a pandas DataFrame; got {type(history).__name__}.")
    cols = {str(c).lower(): c for c in history.columns}
    if timestep not in _TIMESTEPS:
        raise ValueError(f"timestep={timestep!r} is not one of {sorted(_TIMESTEPS)}.")
    if timestep not in cols:
        raise ValueError(f"The scoring history has no {timestep!r} column.")
    available = scoring_history_metrics(history)
    if not isinstance(metric, str):
        raise ValueError(f"metric must be a string; got {metric!r}.")
    key = metric.strip().lower()
    if key == "auto":
        chosen = next((m for m in _AUTO_ORDER if m in available), None)
        if chosen is None:
            raise ValueError(f"No metric to plot in the scoring history; it has {available}.")
        key = chosen
    key = _ALIASES.get(key, key)
    if key not in available:
        raise ValueError(
            f"Unknown metric {metric!r} for this scoring history; available metrics: "
            f"{', '.join(available) if available else '(none)'}."
        )
    train = _series(history, "training", key)
    valid = _series(history, "validation", key)
    x = (_duration_seconds(history[cols[timestep]]) if timestep == "duration"
         else pd.to_numeric(history[cols[timestep]], errors="coerce").astype(float))
    ax = _axes(ax)
    label = _LABELS.get(key, key)
    rescored = rescored_rows(history)
    for values, name in ((train, "Training"), (valid, "Validation")):
        if values is None:
            continue
        xs, ys = x.to_numpy(), values.to_numpy()
        (line,) = ax.plot(xs[~rescored], ys[~rescored], marker="o", markersize=3,
                          label=f"{name} {label}")
        if rescored.any():
            ax.plot(xs[rescored], ys[rescored], linestyle="none", marker="*", markersize=11,
                    color=line.get_color(), markeredgecolor="black", markeredgewidth=0.6,
                    label=f"{name} {label}, best model (final)")
    ax.set_xlabel(_TIMESTEPS[timestep])
    ax.set_ylabel(label)
    ax.set_title(f"Scoring history: {label}")
    ax.legend()
    ax.grid(True, alpha=0.3)
    return ax


def plot_varimp(table: pd.DataFrame, n: int = 20, ax: Any = None,
                exclude: Any = None) -> Any:
    """Horizontal bar chart of the ``n`` largest scaled importances (largest at the top).

    Parameters
    ----------
    table : pandas.DataFrame
        A variable-importance table with ``variable`` and ``scaled_importance`` columns
        (:func:`dask_deeplearn.inspection.varimp_table`).
    n : int, default=20
        Number of variables shown.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when None.
    exclude : collection of variable names, optional
        Variables left out of the chart (e.g.
        :func:`dask_deeplearn.inspection.constant_inputs`); the scaled importances
        shown stay those of the table.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        Missing columns or ``n < 1``.
    ImportError
        matplotlib is not installed.
    """
    missing = [c for c in ("variable", "scaled_importance") if c not in table.columns]
    if missing:
        raise ValueError(f"The importance table has no column(s) {missing}.")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int; got {n!r}.")
    if exclude is not None:
        if isinstance(exclude, (str, bytes)):
            raise ValueError(f"exclude must be a collection of variable names, not the "
                             f"single string {exclude!r}; pass [{exclude!r}].")
        table = table[~table["variable"].isin(list(exclude))]
    vals = table["scaled_importance"].to_numpy(dtype=float)
    order = np.argsort(-vals, kind="stable")[: int(n)]
    names = [str(table["variable"].iloc[i]) for i in order]
    top = vals[order]
    ax = _axes(ax)
    pos = np.arange(len(order))[::-1]  # first (largest) at the top
    ax.barh(pos, top, color="#1f77b4")
    ax.set_yticks(pos)
    ax.set_yticklabels(names)
    ax.set_xlabel("Scaled importance")
    ax.set_title("Variable importance")
    ax.set_xlim(0, max(1.0, float(np.nanmax(top)) if top.size else 1.0) * 1.05)
    return ax


def _anomaly_values(errors: Any) -> np.ndarray:
    if hasattr(errors, "compute") and not isinstance(errors, (pd.Series, pd.DataFrame, np.ndarray)):
        errors = errors.compute()  # a Dask collection: the errors are small (one per row)
    if isinstance(errors, pd.DataFrame):
        if _ANOMALY_COLUMN in errors.columns:
            errors = errors[_ANOMALY_COLUMN]
        elif errors.shape[1] == 1:
            errors = errors.iloc[:, 0]
        else:
            raise ValueError(
                f"The frame has no {_ANOMALY_COLUMN!r} column (got {list(errors.columns)[:5]})."
            )
    arr = np.asarray(errors, dtype=float)
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise ValueError(f"errors must be one value per row; got shape {arr.shape}.")
    return arr


def plot_anomaly(errors: Any, threshold: float | None = None, ax: Any = None) -> Any:
    """Plot reconstruction errors sorted in increasing order, with an optional threshold.

    The sorted curve (rank on x, reconstruction MSE on y) shows how many rows stand out:
    anomalies form the steep tail on the right. Rows with a missing error are left out.

    Parameters
    ----------
    errors : array-like, pandas.Series or pandas.DataFrame
        Reconstruction MSE per row: a 1-D array, a Series, or a frame with a
        ``Reconstruction.MSE`` column (the output of ``anomaly``).
    threshold : float, optional
        Draw a horizontal line at this error and report how many rows exceed it.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure is created when None.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        ``errors`` is not one value per row (or a frame without the column).
    ImportError
        matplotlib is not installed.
    """
    arr = _anomaly_values(errors)
    vals = np.sort(arr[~np.isnan(arr)])
    ax = _axes(ax)
    ax.plot(np.arange(vals.size), vals, marker=".", markersize=2, linewidth=1,
            label="Reconstruction MSE")
    if threshold is not None:
        t = float(threshold)
        above = int((vals > t).sum())
        ax.axhline(t, color="red", linestyle="--", label=f"threshold {t:.4g} ({above} rows above)")
    ax.set_xlabel("Rows, sorted by reconstruction error")
    ax.set_ylabel("Reconstruction MSE")
    ax.set_title("Reconstruction error")
    ax.legend()
    return ax
