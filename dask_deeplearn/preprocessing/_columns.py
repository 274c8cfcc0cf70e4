"""Column dtypes as the preprocessing sees them: their kind, and their values as float64."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataError

__all__ = ["kind_of", "float_values", "numeric_float64", "fmt_cols", "plain_groups", "column_matrix"]


def fmt_cols(cols: Sequence[Any]) -> str:
    """Column names for an error message: ``'a', 'b'``."""
    return ", ".join(repr(c) for c in cols)


def kind_of(dtype: Any) -> str:
    """'numeric', 'categorical', 'datetime' or 'other'."""
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        if pd.api.types.is_complex_dtype(dtype):
            return "other"
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.PeriodDtype):
        return "datetime"
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        return "categorical"
    return "other"


def numeric_float64(series: pd.Series) -> np.ndarray:
    """A numeric or bool column as float64 (bool -> 0/1, nullable NA -> NaN)."""
    if series.dtype == bool:
        return series.to_numpy(dtype=np.float64)
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def float_values(series: pd.Series, name: Any) -> np.ndarray:
    """A column as float64 (bool -> 0/1, nullable NA -> NaN); DataError if not numeric."""
    dtype = series.dtype
    kind = kind_of(dtype)
    if kind == "numeric":
        return numeric_float64(series)
    if kind == "datetime":
        raise DataError(f"Column {name!r} has datetime dtype {dtype}; convert it to numbers first.")
    try:
        values = series.astype(object) if isinstance(dtype, pd.CategoricalDtype) else series
        return pd.to_numeric(values, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    except (ValueError, TypeError) as exc:
        bad = pd.to_numeric(series.astype(object), errors="coerce").isna() & series.notna()
        examples = list(dict.fromkeys(series[bad].astype(str).tolist()))[:3]
        raise DataError(
            f"Column {name!r} must be numeric (numbers, or strings of numbers); it has dtype "
            f"{dtype} and non-numeric values such as {examples}."
        ) from exc


def plain_groups(frame: pd.DataFrame, cols: Sequence[Any]) -> list[list[Any]]:
    """The columns of ``cols`` with a plain numpy bool / integer / float dtype, by dtype.

    Such columns convert to float64 exactly as :func:`numeric_float64` converts them one
    at a time, so a group can be read as one 2-D array (:func:`column_matrix`) and worked
    on with whole-array operations instead of a Python loop over columns.
    """
    groups: dict[Any, list[Any]] = {}
    for c, dtype in zip(cols, frame.dtypes[list(cols)] if len(cols) else []):
        if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
            groups.setdefault(dtype, []).append(c)
    return list(groups.values())


def column_matrix(frame: pd.DataFrame, cols: Sequence[Any]) -> np.ndarray:
    """Columns of one plain numeric dtype as an ``(n, k)`` array, each column contiguous.

    The array is Fortran-ordered (``A[:, j]`` is column ``cols[j]``, contiguous), in the
    columns' own dtype: pandas stores a frame's columns this way, so this is one copy of
    the selected columns and no conversion.
    """
    A = frame[list(cols)].to_numpy()
    return A if A.flags.f_contiguous else np.asfortranarray(A)
