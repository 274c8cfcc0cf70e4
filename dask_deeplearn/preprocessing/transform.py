"""Applying a fitted :class:`~dask_deeplearn.preprocessing.DataInfo` to a pandas frame.

Every function here works on one pandas frame (a whole frame or one Dask partition) and a
fitted plan; nothing is fitted or stored. The :class:`DataInfo` methods ``transform``,
``transform_X``, ``scoring_inputs`` and ``inverse_response`` call these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..exceptions import DataError
from ._columns import column_matrix, float_values, fmt_cols, plain_groups
from .encodings import LevelLookup, to_python_scalar

if TYPE_CHECKING:
    from .data_info import DataInfo

__all__ = ["Block", "transform", "transform_X", "scoring_inputs", "inverse_response"]


@dataclass
class Block:
    """A transformed partition, ready for training or scoring.

    Attributes
    ----------
    X : ndarray of shape (n, n_inputs), float32, C-contiguous
        Network inputs.
    y : ndarray of shape (n,), float32, or None
        Classification: class index ``0 .. K-1``. Regression: the response in training
        space (standardised when ``DataInfo.response_mean`` is set). None for an
        autoencoder or when the frame has no response column (scoring).
    weight : ndarray of shape (n,), float32, or None
        Row weights; None when there is no weights column.
    offset : ndarray of shape (n,), float32, or None
        Offsets already in network output space: ``(o - response_mean) / response_sd``
        when the response is standardised, else ``o``. None without an offset column.
    index : ndarray of shape (n,), int64
        0-based positions, within the input frame, of the rows kept.
    """

    X: np.ndarray
    y: np.ndarray | None
    weight: np.ndarray | None
    offset: np.ndarray | None
    index: np.ndarray

    @property
    def n_rows(self) -> int:
        """Number of rows in the block."""
        return int(self.X.shape[0])

    def take(self, idx: np.ndarray) -> "Block":
        """The rows ``idx`` of every array (a new block)."""
        return Block(
            X=self.X[idx],
            y=None if self.y is None else self.y[idx],
            weight=None if self.weight is None else self.weight[idx],
            offset=None if self.offset is None else self.offset[idx],
            index=self.index[idx],
        )


def _check_columns(info: DataInfo, frame: pd.DataFrame) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"DataInfo.transform needs a pandas DataFrame; got {type(frame).__name__}.")
    absent = [c for c in info.used_columns if c not in frame.columns]
    if absent:
        raise DataError(f"Predictor column(s) missing from the frame: {fmt_cols(absent)}.")


def _predictors(info: DataInfo, frame: pd.DataFrame) -> tuple[list, list, np.ndarray]:
    """Per-row encoded categorical codes and raw numeric values, and the NA mask.

    Returns
    -------
    cat_codes : list of ndarray of int64
        Per ``cat_columns``: index into ``cat_levels`` or -1 (missing / unseen).
    num_values : list of ndarray of float64
        Per ``num_columns``: raw (untransformed) value, NaN when missing.
    any_missing : ndarray of bool
        Rows with a missing predictor (not counting unseen levels).
    """
    n = len(frame)
    any_missing = np.zeros(n, dtype=bool)
    cat_codes = []
    for c in info.cat_columns:
        raw, missing = LevelLookup(info.cat_raw_levels[c]).codes(frame[c])
        lmap = info.cat_level_map[c]
        enc = np.where(raw >= 0, lmap[np.where(raw >= 0, raw, 0)] if lmap.size else -1, -1)
        cat_codes.append(enc.astype(np.int64, copy=False))
        any_missing |= missing
    matrix = _numeric_matrix(info, frame)
    if matrix is not None:
        return cat_codes, matrix, any_missing | _check_matrix(matrix)
    cache: dict = {}
    num_values = []
    infs = []
    for kind, src, arg in info.num_sources:
        if kind == "numeric":
            v = float_values(frame[src], src)
            isinf = np.isinf(v)
            if isinf.any():
                infs.append((src, int(isinf.sum())))
            any_missing |= np.isnan(v)
            num_values.append(v)
            continue
        if src not in cache:
            cache[src] = LevelLookup(info.encoded_levels[src]).codes(frame[src])
            any_missing |= cache[src][1]
        code, _ = cache[src]
        ok = code >= 0
        safe = np.where(ok, code, 0)
        if kind == "label":
            v = np.where(ok, code.astype(np.float64), np.nan)
        elif kind == "eigen":
            vec = info.eigen_vectors[src]
            v = np.where(ok, vec[safe] if vec.size else np.nan, np.nan)
        else:  # binary: level index + 1, bit ``arg``; missing / unseen -> 0
            v = np.where(ok, ((safe + 1) >> arg) & 1, 0).astype(np.float64)
        num_values.append(v)
    _raise_infinite(infs)
    return cat_codes, num_values, any_missing


def _raise_infinite(infs: list) -> None:
    if infs:
        raise DataError(
            "Infinite values in numeric column(s): "
            + ", ".join(f"{c!r} ({k} rows)" for c, k in infs)
            + "."
        )


@dataclass
class _Matrix:
    """The numeric predictors of a frame as one array (see :func:`_numeric_matrix`).

    Attributes
    ----------
    values : ndarray of shape (n, k)
        Column ``j`` is ``num_sources[j]``'s column, contiguous, in the frame's own dtype
        (float64 when the columns' dtypes differ).
    names : list
        The columns.
    """

    values: np.ndarray
    names: list

    def columns(self) -> list[np.ndarray]:
        """Per column its values as float64 (what the one-column path gives)."""
        return list(self.values.T.astype(np.float64))


def _numeric_matrix(info: DataInfo, frame: pd.DataFrame) -> _Matrix | None:
    """The numeric predictors as one 2-D array when they are plain numeric columns.

    That is when every input source is a numeric column (no encoded categorical one) of a
    numpy bool / integer / float dtype: the values then convert to float64 exactly as the
    one-column path converts them, and the inputs are built from row chunks of the array
    (:func:`_fill_numeric`) in large numpy operations instead of a loop over columns.
    None otherwise.
    """
    names = [src for kind, src, _ in info.num_sources]
    if len(names) < 2 or any(kind != "numeric" for kind, _, _ in info.num_sources):
        return None
    groups = plain_groups(frame, names)
    if sum(len(g) for g in groups) != len(names):
        return None
    if len(groups) == 1:
        return _Matrix(column_matrix(frame, names), names)
    values = frame[names].to_numpy(dtype=np.float64)
    return _Matrix(values if values.flags.f_contiguous else np.asfortranarray(values), names)


def _check_matrix(matrix: _Matrix) -> np.ndarray:
    """Rows with a missing value; DataError naming the columns with infinite ones."""
    A = matrix.values
    if A.dtype.kind != "f":
        return np.zeros(A.shape[0], dtype=bool)
    n_inf = np.isinf(A).sum(axis=0)
    _raise_infinite([(matrix.names[j], int(n_inf[j])) for j in np.flatnonzero(n_inf)])
    return np.isnan(A).any(axis=1)


#: float64 values per row chunk when the inputs are built from a :class:`_Matrix` (1 MB)
_ROW_CHUNK = 1 << 17


def _fill_numeric(info: DataInfo, X: np.ndarray, matrix: _Matrix, rows: np.ndarray | None) -> None:
    """``X[:, num_start:]`` from a :class:`_Matrix`, a chunk of rows at a time.

    The same float64 arithmetic as the one-column path, ``(x - num_sub) * num_mul`` and
    ``(num_fill - num_sub) * num_mul`` for a missing value, then float32: the inputs are
    identical; the chunks stay in cache and need no full-size temporaries.
    """
    A = matrix.values
    sub, mul = info.num_sub, info.num_mul
    fill = (info.num_fill - sub) * mul
    m = X.shape[0]
    step = max(1, _ROW_CHUNK // max(A.shape[1], 1))
    for a in range(0, m, step):
        part = A[a : a + step] if rows is None else A[rows[a : a + step]]
        V = np.asarray(part, dtype=np.float64, order="C")
        T = V - sub
        T *= mul
        if A.dtype.kind == "f":
            nan = np.isnan(V)
            if nan.any():
                np.copyto(T, np.broadcast_to(fill, T.shape), where=nan)
        X[a : a + step, info.num_start :] = T


def _build_X(info: DataInfo, cat_codes: list, num_values: list, n: int,
             rows: np.ndarray | None) -> np.ndarray:
    """Fill the float32 input matrix (vectorised; loops over columns, never rows)."""
    m = n if rows is None else rows.shape[0]
    X = np.zeros((m, info.n_inputs), dtype=np.float32)
    r = np.arange(m)
    offs = info.cat_offsets
    for i, c in enumerate(info.cat_columns):
        code = cat_codes[i] if rows is None else cat_codes[i][rows]
        na_slot = int(offs[i + 1] - offs[i] - 1)
        if info.use_all_factor_levels:
            slot = np.where(code >= 0, code, na_slot)
        else:  # level 0 is the all-zeros reference -> -1 (no active input)
            slot = np.where(code >= 0, code - 1, na_slot)
        active = slot >= 0
        idx = slot[active] + offs[i]
        if info.hashing:
            X[r[active], info.hash_slots[idx]] += 1.0
        else:
            X[r[active], idx] = 1.0
    if isinstance(num_values, _Matrix):
        _fill_numeric(info, X, num_values, rows)
    elif num_values:
        V = np.stack(num_values)  # (k, n): one contiguous row per column
        if rows is not None:
            V = V[:, rows]
        mul = info.num_mul[:, None]
        sub = info.num_sub[:, None]
        T = (V - sub) * mul
        nan = np.isnan(V)
        if nan.any():
            fill = np.broadcast_to((info.num_fill[:, None] - sub) * mul, T.shape)
            T[nan] = fill[nan]
        X[:, info.num_start :] = T.T
    return X


def _response(info: DataInfo, frame: pd.DataFrame, training: bool) -> tuple[np.ndarray | None, np.ndarray]:
    """The raw response (class index or value, float64) and the rows that have one."""
    keep = np.ones(len(frame), dtype=bool)
    if info.response is None:
        return None, keep
    if info.response not in frame.columns:
        if training:
            raise DataError(f"Response column {info.response!r} is missing from the frame.")
        return None, keep
    y_series = frame[info.response]
    if info.task == "classification":
        codes, missing = LevelLookup(info.classes).codes(y_series)
        bad = (codes < 0) & ~missing
        if bad.any():
            examples = pd.unique(y_series[bad].astype(object).to_numpy())[:5]
            raise DataError(
                f"Response column {info.response!r} has {int(bad.sum())} row(s) with labels "
                f"not seen in training, e.g. {[to_python_scalar(v) for v in examples]!r}."
            )
        return codes.astype(np.float64), ~missing
    yv = float_values(y_series, info.response)
    n_inf = int(np.isinf(yv).sum())
    if n_inf:
        raise DataError(f"Response column {info.response!r} has {n_inf} infinite value(s).")
    return yv, ~np.isnan(yv)


def _weights(info: DataInfo, frame: pd.DataFrame, training: bool) -> np.ndarray | None:
    col = info.weights_column
    if col is None:
        return None
    if col not in frame.columns:
        if training:
            raise DataError(f"Weights column {col!r} is missing from the frame.")
        return None
    w = float_values(frame[col], col)
    n_neg = int((w < 0).sum())
    if n_neg:
        raise DataError(f"Weights column {col!r} has {n_neg} negative value(s).")
    n_inf = int(np.isinf(w).sum())
    if n_inf:
        raise DataError(f"Weights column {col!r} has {n_inf} infinite value(s).")
    return w


def _offsets(info: DataInfo, frame: pd.DataFrame) -> np.ndarray | None:
    col = info.offset_column
    if col is None:
        return None
    if col not in frame.columns:
        raise DataError(f"Offset column {col!r} is missing from the frame.")
    o = float_values(frame[col], col)
    n_bad = int((~np.isfinite(o)).sum())
    if n_bad:
        raise DataError(f"Offset column {col!r} has {n_bad} missing or infinite value(s).")
    return o


def _to_network_space(info: DataInfo, values: np.ndarray | None) -> np.ndarray | None:
    """Standardise a response or offset as the network sees it (float32)."""
    if values is None:
        return None
    if info.response_mean is not None:
        values = (values - info.response_mean) / info.response_sd
    return np.ascontiguousarray(values, dtype=np.float32)


def transform(info: DataInfo, frame: pd.DataFrame, *, training: bool) -> Block:
    """:meth:`DataInfo.transform <dask_deeplearn.preprocessing.DataInfo.transform>`."""
    _check_columns(info, frame)
    n = len(frame)
    y_raw, keep = _response(info, frame, training)
    w = _weights(info, frame, training)
    if training and w is not None:
        keep &= w > 0
    o = _offsets(info, frame)
    cat_codes, num_values, any_missing = _predictors(info, frame)
    if training and info.missing_values_handling == "Skip":
        keep &= ~any_missing
    rows = None if keep.all() else np.flatnonzero(keep)
    index = np.arange(n, dtype=np.int64) if rows is None else rows.astype(np.int64)
    X = _build_X(info, cat_codes, num_values, n, rows)

    def take(a: np.ndarray | None) -> np.ndarray | None:
        if a is None:
            return None
        return a if rows is None else a[rows]

    weight = take(w)
    if weight is not None:
        weight = np.ascontiguousarray(weight, dtype=np.float32)
    return Block(X=X, y=_to_network_space(info, take(y_raw)), weight=weight,
                 offset=_to_network_space(info, take(o)), index=index)


def transform_X(info: DataInfo, frame: pd.DataFrame) -> np.ndarray:
    """:meth:`DataInfo.transform_X <dask_deeplearn.preprocessing.DataInfo.transform_X>`."""
    _check_columns(info, frame)
    cat_codes, num_values, _ = _predictors(info, frame)
    return _build_X(info, cat_codes, num_values, len(frame), None)


def scoring_inputs(info: DataInfo, frame: pd.DataFrame) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """:meth:`DataInfo.scoring_inputs <dask_deeplearn.preprocessing.DataInfo.scoring_inputs>`."""
    _check_columns(info, frame)
    cat_codes, num_values, _ = _predictors(info, frame)
    if isinstance(num_values, _Matrix):
        return cat_codes, num_values.columns()
    return cat_codes, num_values


def inverse_response(info: DataInfo, out: np.ndarray) -> np.ndarray:
    """:meth:`DataInfo.inverse_response <dask_deeplearn.preprocessing.DataInfo.inverse_response>`."""
    arr = np.asarray(out, dtype=np.float64)
    if info.response_mean is None:
        return arr
    return arr * info.response_sd + info.response_mean
