"""Categorical helpers: level keys, robust level matching, and the encoders' fitted maps.

All functions here work on small per-level arrays or on one pandas column at a time and
never loop over rows: a column is factorised once (:func:`pandas.factorize` or the codes
of a ``category`` column) and only its *distinct* values are looked up.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "to_python_scalar",
    "level_key",
    "sort_levels",
    "LevelLookup",
    "binary_width",
    "binary_bits",
    "eigen_vector",
    "enum_limited_map",
    "sort_by_response_order",
    "ENUM_LIMITED_MAX_LEVELS",
    "OTHER_LEVEL",
]

#: H2O's ``max_categorical_levels`` default used by EnumLimited.
ENUM_LIMITED_MAX_LEVELS = 10
#: Name of the extra level EnumLimited maps the infrequent levels to.
OTHER_LEVEL = "other"


def to_python_scalar(value: Any) -> Any:
    """Convert a numpy scalar to the matching Python scalar (others are returned as is)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def level_key(value: Any) -> str:
    """String key used to match a value to a level when the types differ.

    Integral floats are written as integers (``2.0`` -> ``"2"``), so levels ``[1, 2, 3]``
    match incoming ``"2"``, ``2`` and ``2.0`` alike.

    Parameters
    ----------
    value : scalar
        A level or an incoming value (not missing).

    Returns
    -------
    str
    """
    value = to_python_scalar(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    return str(value)


def sort_levels(values: Sequence[Any], *, natural: bool = False) -> list[Any]:
    """Sort distinct levels.

    Parameters
    ----------
    values : sequence of scalars
        Distinct, non-missing levels.
    natural : bool, default=False
        Sort by value (numbers numerically) when the values are mutually comparable;
        otherwise (and when False) sort as strings sort (``str(value)``, code point order),
        as H2O orders a domain. Ties between different values with the same string are
        broken by type name, so the order is deterministic.

    Returns
    -------
    list
    """
    vals = [to_python_scalar(v) for v in values]
    if natural:
        try:
            return sorted(vals)
        except TypeError:
            pass
    return sorted(vals, key=lambda v: (str(v), type(v).__name__))


class LevelLookup:
    """Maps values to level indices: exact match first, then by :func:`level_key`.

    Parameters
    ----------
    levels : sequence of scalars
        The levels, in index order.
    """

    def __init__(self, levels: Sequence[Any]) -> None:
        self.levels = list(levels)
        self._exact: dict[Hashable, int] = {}
        self._by_key: dict[str, int] = {}
        for i, lev in enumerate(self.levels):
            self._exact.setdefault((type(lev) is bool, lev), i)
            self._by_key.setdefault(level_key(lev), i)

    def index_of(self, value: Any) -> int:
        """Level index of one non-missing value, or -1 when it is not a level."""
        value = to_python_scalar(value)
        try:
            i = self._exact.get((type(value) is bool, value))
        except TypeError:  # unhashable
            i = None
        if i is not None:
            return i
        return self._by_key.get(level_key(value), -1)

    def map_distinct(self, values: Sequence[Any]) -> np.ndarray:
        """Level index (or -1) of each distinct value, as an int64 array."""
        return np.fromiter((self.index_of(v) for v in values), dtype=np.int64, count=len(values))

    def codes(self, series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Level index of every row of ``series``.

        Parameters
        ----------
        series : pandas.Series
            Any dtype; a ``category`` column is mapped through its categories.

        Returns
        -------
        codes : ndarray of int64, shape (n,)
            Level index, or -1 for a missing or unseen value.
        missing : ndarray of bool, shape (n,)
            True where the value is missing (NA), as opposed to unseen.
        """
        if isinstance(series.dtype, pd.CategoricalDtype):
            raw = series.cat.codes.to_numpy().astype(np.int64, copy=False)
            uniq = series.cat.categories
        else:
            raw, uniq = pd.factorize(series, use_na_sentinel=True)
            raw = raw.astype(np.int64, copy=False)
        missing = raw < 0
        if len(uniq) == 0:
            return np.full(len(series), -1, dtype=np.int64), missing
        umap = self.map_distinct(list(uniq))
        codes = np.where(missing, -1, umap[np.where(missing, 0, raw)])
        return codes.astype(np.int64, copy=False), missing

    def unseen(self, series: pd.Series, limit: int = 5) -> tuple[list[Any], int]:
        """Distinct non-missing values of ``series`` that are not levels.

        Returns
        -------
        examples : list
            Up to ``limit`` unseen values.
        n_rows : int
            Number of rows holding an unseen value.
        """
        codes, missing = self.codes(series)
        bad = (codes < 0) & ~missing
        n = int(bad.sum())
        if n == 0:
            return [], 0
        vals = pd.unique(series[bad].astype(object).to_numpy())
        return [to_python_scalar(v) for v in vals[:limit]], n


# --------------------------------------------------------------------------- encoders


def binary_width(n_levels: int) -> int:
    """Number of Binary columns for ``n_levels`` levels: ``ceil(log2(D + 1))``."""
    return int(n_levels).bit_length() if n_levels > 0 else 0


def binary_bits(n_levels: int) -> np.ndarray:
    """Bit table of the Binary encoding.

    Level ``l`` is written as ``l + 1`` in binary, least significant bit first (column
    ``col:0`` holds bit 0); a missing or unseen value is all zeros.

    Returns
    -------
    ndarray of float64, shape (n_levels, binary_width(n_levels))
    """
    width = binary_width(n_levels)
    vals = np.arange(1, n_levels + 1, dtype=np.int64)[:, None]
    return ((vals >> np.arange(width, dtype=np.int64)[None, :]) & 1).astype(np.float64)


def eigen_vector(weights: np.ndarray) -> np.ndarray:
    """Top eigenvector of the one-hot covariance ``diag(p) - p p^T``.

    Parameters
    ----------
    weights : ndarray of float64, shape (D,)
        (Weighted) level counts; ``p = weights / weights.sum()``.

    Returns
    -------
    ndarray of float64, shape (D,)
        Unit eigenvector of the largest eigenvalue, signed so that its largest absolute
        component (first one on ties) is positive. The Eigen encoding of level ``l`` is
        component ``l`` (the projection of the one-hot row onto this vector).
    """
    w = np.asarray(weights, dtype=np.float64)
    d = w.shape[0]
    if d == 0:
        return np.zeros(0)
    total = w.sum()
    p = w / total if total > 0 else np.full(d, 1.0 / d)
    cov = np.diag(p) - np.outer(p, p)
    _, vecs = np.linalg.eigh(cov)
    v = vecs[:, -1].copy()
    j = int(np.argmax(np.abs(v)))
    if v[j] < 0:
        v = -v
    return v


def enum_limited_map(counts: np.ndarray, max_levels: int = ENUM_LIMITED_MAX_LEVELS) -> np.ndarray | None:
    """EnumLimited: keep the ``max_levels`` most frequent levels, map the others to "other".

    Parameters
    ----------
    counts : ndarray, shape (D,)
        Row count of each level.
    max_levels : int, default=10

    Returns
    -------
    ndarray of int64, shape (D,) or None
        New index of each original level: kept levels keep their relative order
        (``0 .. max_levels - 1``), every other level maps to ``max_levels`` (the "other"
        level). None when ``D <= max_levels`` (nothing to limit). Ties in frequency are
        broken by level order.
    """
    counts = np.asarray(counts)
    d = counts.shape[0]
    if d <= max_levels:
        return None
    order = np.argsort(-counts, kind="stable")
    keep = np.sort(order[:max_levels])
    out = np.full(d, max_levels, dtype=np.int64)
    out[keep] = np.arange(max_levels, dtype=np.int64)
    return out


def sort_by_response_order(resp_sum: np.ndarray, resp_weight: np.ndarray) -> np.ndarray:
    """SortByResponse: level order by increasing mean response.

    Parameters
    ----------
    resp_sum, resp_weight : ndarray of float64, shape (D,)
        Per level, the (weighted) sum of the response (the class index for
        classification) and the (weighted) row count, over rows with a response.

    Returns
    -------
    ndarray of int64, shape (D,)
        New index of each original level. Ties keep level order; levels never seen with a
        response go last.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(resp_weight > 0, resp_sum / np.where(resp_weight > 0, resp_weight, 1.0), np.nan)
    order = np.argsort(mean, kind="stable")  # NaN last
    new = np.empty(order.shape[0], dtype=np.int64)
    new[order] = np.arange(order.shape[0], dtype=np.int64)
    return new
