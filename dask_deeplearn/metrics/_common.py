"""Input checks shared by the partial builders."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataError

__all__ = ["as_1d", "as_weights", "as_labels", "r2_from_sums", "safe_div"]


def as_1d(x: Any, name: str, owner: str) -> np.ndarray:
    """Float64 1-d view of ``x`` (a pandas categorical gives its codes, -1 as NaN)."""
    if isinstance(x, (pd.Series, pd.Index)) and isinstance(x.dtype, pd.CategoricalDtype):
        codes = np.asarray(x.cat.codes if isinstance(x, pd.Series) else x.codes, dtype=np.float64)
        codes[codes < 0] = np.nan
        return codes
    if isinstance(x, pd.Categorical):
        codes = np.asarray(x.codes, dtype=np.float64)
        codes[codes < 0] = np.nan
        return codes
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{owner}: '{name}' must be numeric; got {type(x).__name__} ({exc}).") from exc
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise DataError(f"{owner}: '{name}' must be 1-d; got shape {arr.shape}.")
    return arr


def as_weights(weight: Any, n: int, owner: str) -> np.ndarray:
    """Row weights: ``None`` gives ones; NaN stays NaN (row skipped); negative or inf raise."""
    if weight is None:
        return np.ones(n)
    w = as_1d(weight, "weight", owner)
    if w.shape[0] != n:
        raise DataError(f"{owner}: 'weight' has {w.shape[0]} rows but 'actual' has {n}.")
    finite = w[~np.isnan(w)]
    if finite.size and (np.any(finite < 0) or np.any(np.isinf(finite))):
        raise DataError(
            f"{owner}: weights must be finite and >= 0; got min {finite.min()!r}, max {finite.max()!r}."
        )
    return w


def as_labels(actual: np.ndarray, n_classes: int, owner: str) -> None:
    """Check that non-NaN labels are integers in ``[0, n_classes)``."""
    ok = actual[~np.isnan(actual)]
    if ok.size == 0:
        return
    bad = (ok != np.floor(ok)) | (ok < 0) | (ok >= n_classes)
    if np.any(bad):
        raise DataError(
            f"{owner}: 'actual_index' must hold class indices in [0, {n_classes}) (or NaN); "
            f"got {int(bad.sum())} bad values, e.g. {ok[bad][0]!r}."
        )


def safe_div(a: float, b: float) -> float:
    """``a / b`` with IEEE semantics (0/0 is NaN, x/0 is +-inf) and no Python error."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(a) / np.float64(b))


def r2_from_sums(mse: float, sum_w: float, sum_wy: float, sum_wyy: float, nobs: int) -> float:
    """H2O's ``r2 = 1 - MSE / sigma^2`` with sigma^2 the weighted population variance.

    As ``MetricBuilder.weightedSigma``: sigma is 0 for one row or fewer, so r2
    is then ``-inf`` (or NaN when MSE is 0 too).
    """
    if sum_w <= 0:
        return float("nan")
    if nobs <= 1:
        var = 0.0
    else:
        mean = sum_wy / sum_w
        var = max(sum_wyy / sum_w - mean * mean, 0.0)
    return 1.0 - safe_div(mse, var)
