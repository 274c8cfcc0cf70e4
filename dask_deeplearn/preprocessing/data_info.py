"""``DataInfo``: the fitted column plan that turns a frame into float32 network inputs.

This is H2O-3's ``hex.DataInfo`` as Deep Learning uses it (``DeepLearning.makeDataInfo``,
``Neurons.Input.setInput``), see ``docs/h2o-dl-semantics.md`` section 2:

* column filtering (constant / all-missing columns, categoricals with <= 1 level);
* layout: categoricals first, ordered by decreasing level count with H2O's pairwise swap
  sort, then numerics in frame order; one-hot block per categorical with a missing-value
  (NA) slot at its end (``cat_offsets[i + 1] - 1``);
* numeric transforms STANDARDIZE / DESCALE / NORMALIZE / none, with weighted moments when
  a weights column is given without an offset column;
* response standardisation for identity-link regression, offsets in network space;
* categorical encodings (OneHotInternal, SortByResponse, EnumLimited, Binary, Eigen,
  LabelEncoder) and the ``max_categorical_features`` hashing trick.

Statistics come from one pass: for a Dask frame one ``dask.compute`` of per-partition
partials merged by the same code that handles a pandas frame (:mod:`._stats`).

Weighted moments
----------------
For a column ``x`` with weights ``w`` (rows with a finite ``x`` and ``w > 0``; ``n`` rows,
``W = sum w``)::

    mean = sum(w x) / W
    var  = n / (n - 1) * sum(w (x - mean)^2) / W        (0 when n <= 1)

This is H2O's ``MathUtils.BasicStats.variance`` (the ``YMUTask`` used by
``updateWeightedSigmaAndMean``). Without weights it is the sample variance
``sum((x - mean)^2) / (n - 1)``; unlike ``sum(w (x - m)^2) / (sum(w) - 1)`` it does not
depend on the scale of the weights. With a weights column *and* an offset column the
moments are unweighted (H2O's rollup statistics), as in H2O.

Statistics are taken over every row that has the value, including rows whose response is
missing (H2O computes them from the frame's rollups); Skip mode does not change them.

Differences from H2O
--------------------
1. A missing categorical value always goes to the column's NA slot, in training and
   scoring. (H2O, with ``use_all_factor_levels=False``, puts it on the last real level in
   training and on the never-trained NA slot at scoring.)
2. A missing numeric value is imputed with the (weighted) training mean in training *and*
   scoring, i.e. it becomes ``(mean - sub) * mul`` (0 when standardised). (H2O uses a raw
   0 at scoring, which differs from training when ``standardize=False`` or ``sparse=True``.)
3. Every offset is used. (H2O ignores offsets ``<= 0``.) Missing or infinite offsets are
   a :class:`~dask_deeplearn.exceptions.DataError`.
4. Numeric columns produced by Binary / Eigen / LabelEncoder take the place of their
   source column in frame order (H2O's generic encoders build a new frame). A value missing
   in the source column is all zeros for Binary and missing (mean-imputed) for Eigen and
   LabelEncoder; an unseen level behaves like a missing one.
5. EnumLimited keeps the 10 most frequent levels (ties: level order) in level order and
   maps every other training level to an extra last level ``"other"``; a level not seen in
   training goes to the NA slot.
6. SortByResponse orders levels by the weighted mean response (class index for
   classification), ties in level order, levels never seen with a response last; without
   a response (autoencoder) it is plain one-hot.
7. Datetime / timedelta predictors are a ``DataError`` (H2O uses epoch milliseconds):
   convert them to numbers first. Infinite numeric values are a ``DataError``.
8. ``transform(training=False)`` never drops a row for a missing predictor (Skip mode
   applies to training only), nor for a zero or missing weight.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataError, InvalidParameterError
from . import _stats
from .encodings import (
    OTHER_LEVEL,
    LevelLookup,
    binary_bits,
    binary_width,
    eigen_vector,
    enum_limited_map,
    sort_by_response_order,
    sort_levels,
    to_python_scalar,
)
from .hashing import hash_slots as _hash_slots

__all__ = ["DataInfo", "Block"]

_FORMAT = "dask_deeplearn.DataInfo"
_VERSION = 1

_TASKS = ("classification", "regression", "autoencoder", "auto")
_ENCODINGS = {
    e.lower(): e
    for e in ("AUTO", "OneHotInternal", "Binary", "Eigen", "LabelEncoder", "SortByResponse", "EnumLimited")
}
_ONE_HOT = {"AUTO", "OneHotInternal", "SortByResponse", "EnumLimited"}
_MISSING = {"meanimputation": "MeanImputation", "skip": "Skip"}
_IDENTITY_LINK = {"auto", "gaussian", "laplace", "quantile", "huber"}
_NA_NAME = "missing(NA)"

STANDARDIZE, DESCALE, NORMALIZE, NONE = "STANDARDIZE", "DESCALE", "NORMALIZE", "NONE"


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


def _canon(value: Any, table: dict[str, str], name: str) -> str:
    if not isinstance(value, str) or value.lower() not in table:
        allowed = sorted(set(table.values()))
        raise InvalidParameterError(
            f"The {name!r} parameter of DataInfo.fit must be a str among {allowed}. Got {value!r} instead."
        )
    return table[value.lower()]


def _fmt_cols(cols: Sequence[Any]) -> str:
    return ", ".join(repr(c) for c in cols)


def _kind_of(dtype: Any) -> str:
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


def _float_values(series: pd.Series, name: Any) -> np.ndarray:
    """A column as float64 (bool -> 0/1, nullable NA -> NaN); DataError if not numeric."""
    dtype = series.dtype
    kind = _kind_of(dtype)
    if kind == "numeric":
        if dtype == bool:
            return series.to_numpy(dtype=np.float64)
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
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


def _swap_sort(cols: list, sizes: dict) -> list:
    """H2O's (unstable) pairwise swap sort by decreasing number of levels."""
    cols = list(cols)
    for i in range(len(cols)):
        for j in range(i + 1, len(cols)):
            if sizes[cols[i]] < sizes[cols[j]]:
                cols[i], cols[j] = cols[j], cols[i]
    return cols


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _check_finite_moments(what: str, s: Any) -> None:
    """Refuse a column whose mean or standard deviation is not finite (its values are
    finite, but their sums overflow float64): standardising it, imputing its mean or
    scoring against it would turn every value into inf or NaN."""
    for name, value in (("mean", s.mean), ("standard deviation", s.sd)):
        if not np.isfinite(value):
            raise DataError(
                f"{what}: its {name} is {value} (the sums over its values overflow float64; "
                f"values range from {s.min:.3g} to {s.max:.3g}). Rescale the column (divide "
                "it by a power of ten) so that its mean and standard deviation are finite.")


class DataInfo:
    """Fitted preprocessing plan (H2O ``DataInfo``): column layout, scaling, encodings.

    Build it with :meth:`fit`; it is frozen afterwards (attributes cannot be set and its
    arrays are read-only), picklable, and round-trips through :meth:`to_dict` /
    :meth:`from_dict` (JSON). It holds only lists, dicts, numpy arrays and Python scalars.

    Attributes
    ----------
    task : str
        "classification", "regression" or "autoencoder".
    response : column name or None
    classes : list or None
        Classification levels (Python scalars), in class-index order.
    class_counts : ndarray of int64 or None
        Rows per class in the fitted frame (classification only).
    weights_column, offset_column : column name or None
    feature_names : list
        The candidate predictor columns, in frame order, before constant / all-missing
        columns were dropped (compare ``used_columns``).
    used_columns : list
        The original columns :meth:`transform` reads as predictors (frame order).
    ignored : dict
        Dropped column -> reason ("all missing", "constant").
    cat_columns : list
        One-hot encoded categoricals in input order (decreasing level count, H2O's swap
        sort).
    cat_levels : dict
        Column -> levels in encoding order (SortByResponse: reordered; EnumLimited: kept
        levels then ``"other"``).
    cat_raw_levels : dict
        Column -> every training level in raw order (``category`` categories, else sorted
        as strings); incoming values are matched against these.
    cat_level_map : dict
        Column -> int64 array, raw level index -> index into ``cat_levels[column]``.
    cat_offsets : ndarray of int64, shape (len(cat_columns) + 1,)
        Block starts; ``cat_offsets[i + 1] - 1`` is column ``i``'s NA slot.
    cat_na_seen : dict
        Column -> bool, per ``cat_columns``: True when the column had at least one
        missing value in the fitted frame, i.e. its NA slot was ever active in training
        (H2O's ``_saw_missing_cats``; variable importance zeroes the NA slot of the
        others). Counted over every row of the fitted frame, including rows training
        later skips for a missing response or weight. Descriptions written before this
        field existed load with True for every column.
    num_columns : list
        Numeric inputs in frame order (names; encoded columns are ``col`` for
        LabelEncoder, ``col:<bit>`` for Binary, ``col.Eigen`` for Eigen).
    num_sources : list of tuple
        ``(kind, source_column, arg)`` per numeric input; kind is "numeric", "label",
        "binary" (arg = bit, least significant first) or "eigen".
    encoded_levels : dict
        Source column -> raw levels, for Binary / LabelEncoder / Eigen columns.
    eigen_vectors : dict
        Source column -> ndarray of float64, the Eigen value of each raw level.
    num_mean, num_sd : ndarray of float64
        (Weighted) mean and sample SD of each numeric input.
    num_mul, num_sub : ndarray of float64
        ``x' = (x - sub) * mul``.
    num_fill : ndarray of float64
        Raw value used for a missing numeric (the mean).
    transform_type : str
        "STANDARDIZE", "DESCALE", "NORMALIZE" or "NONE".
    response_mean, response_sd : float or None
        Set only when the response is standardised (``y' = (y - mean) / sd``).
    response_min : float or None
        Smallest finite response value (regression), for the distribution checks.
    hashing : bool
        True when ``max_categorical_features`` hashing is active.
    hash_slots : ndarray of int64
        Hashing: input slot of every one-hot index (empty otherwise).
    input_names : list of str
        Expanded input names.
    n_inputs : int
    n_rows : int
        Rows in the fitted frame.
    """

    # ------------------------------------------------------------------ construction

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get("_frozen", False):
            raise AttributeError(f"DataInfo is frozen after fit; cannot set {name!r}.")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"DataInfo is frozen after fit; cannot delete {name!r}.")

    def _freeze(self) -> None:
        for value in self.__dict__.values():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False
            elif isinstance(value, dict):
                for v in value.values():
                    if isinstance(v, np.ndarray):
                        v.flags.writeable = False
        object.__setattr__(self, "_frozen", True)

    def __getstate__(self) -> dict:
        return dict(self.__dict__)

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__dict__["_frozen"] = False
        # arrays come back writeable from pickle: freeze them again
        self._freeze()

    @classmethod
    def fit(
        cls,
        frame: Any,
        *,
        response: Any | None,
        features: Sequence[Any] | None = None,
        ignored_columns: Sequence[Any] | None = None,
        weights_column: Any | None = None,
        offset_column: Any | None = None,
        task: str = "auto",
        classes: Sequence[Any] | None = None,
        standardize: bool = True,
        sparse: bool = False,
        ignore_const_cols: bool = True,
        missing_values_handling: str = "MeanImputation",
        use_all_factor_levels: bool = True,
        categorical_encoding: str = "OneHotInternal",
        max_categorical_features: int = 2147483647,
        distribution: str = "AUTO",
        seed: int = 0,
        scheduler: Any = None,
    ) -> DataInfo:
        """Fit the plan from a pandas or Dask DataFrame (one pass over the data).

        Parameters
        ----------
        frame : pandas.DataFrame or dask.dataframe.DataFrame
            Training data. A Dask frame is read once, in a single ``dask.compute``.
        response : column name or None
            Response column; None for an autoencoder.
        features : sequence of column names, optional
            Predictor columns (default: every column but the response, weights, offset
            and ``ignored_columns``). Used in frame order.
        ignored_columns : sequence of column names, optional
            Columns never used as predictors.
        weights_column, offset_column : column name, optional
            Row weights (>= 0; a missing weight drops the row in training) and offsets
            (regression only).
        task : {"auto", "classification", "regression", "autoencoder"}, default="auto"
            "auto": no response -> autoencoder; category / object / string / bool
            response -> classification; numeric response -> regression.
        classes : sequence, optional
            Classification labels in class-index order. Default: the categories of a
            ``category`` response, else the sorted distinct values.
        standardize : bool, default=True
        sparse : bool, default=False
            DESCALE instead of STANDARDIZE (no centring).
        ignore_const_cols : bool, default=True
            Drop constant and all-missing columns and categoricals with <= 1 level.
        missing_values_handling : {"MeanImputation", "Skip"}, default="MeanImputation"
        use_all_factor_levels : bool, default=True
            False: the first level of each one-hot block is the all-zeros reference.
            Forced to True for an autoencoder (as H2O does).
        categorical_encoding : str, default="OneHotInternal"
            AUTO, OneHotInternal, Binary, Eigen, LabelEncoder, SortByResponse, EnumLimited.
        max_categorical_features : int, default=2147483647
            Hash the one-hot inputs into this many slots when it is smaller than the
            one-hot width.
        distribution : str, default="AUTO"
            Identity-link distributions (AUTO, gaussian, laplace, quantile, huber) get a
            standardised response in regression; any other does not.
        seed : int, default=0
            Hashing seed (wrapped to a Java ``int``).
        scheduler : optional
            Where the Dask pass runs (e.g. a ``distributed.Client``); default: Dask's
            current scheduler. Ignored for pandas.

        Returns
        -------
        DataInfo

        Raises
        ------
        DataError
            Empty frame; missing columns; datetime or unsupported predictor dtypes;
            infinite numeric values; negative weights, all-zero weights; all-missing
            response; fewer than 2 classes; labels outside ``classes``; offsets in
            classification, missing or infinite offsets; no predictor left.
        InvalidParameterError
            Unknown option strings or clashing column roles.
        """
        # ---------------------------------------------------------------- parameters
        task = _canon(task, {t: t for t in _TASKS}, "task")
        encoding = _canon(categorical_encoding, _ENCODINGS, "categorical_encoding")
        mvh = _canon(missing_values_handling, _MISSING, "missing_values_handling")
        if not isinstance(distribution, str):
            raise InvalidParameterError(
                f"The 'distribution' parameter of DataInfo.fit must be a str. Got {distribution!r} instead."
            )
        if isinstance(max_categorical_features, bool) or not isinstance(
            max_categorical_features, (int, np.integer)
        ) or max_categorical_features < 1:
            raise InvalidParameterError(
                "The 'max_categorical_features' parameter of DataInfo.fit must be an int >= 1. "
                f"Got {max_categorical_features!r} instead."
            )
        for pname, pval in (
            ("standardize", standardize),
            ("sparse", sparse),
            ("ignore_const_cols", ignore_const_cols),
            ("use_all_factor_levels", use_all_factor_levels),
        ):
            if not isinstance(pval, (bool, np.bool_)):
                raise InvalidParameterError(
                    f"The {pname!r} parameter of DataInfo.fit must be a bool. Got {pval!r} instead."
                )

        is_dask = False
        if not isinstance(frame, pd.DataFrame):
            try:
                import dask.dataframe as dd
            except ImportError:  # pragma: no cover
                dd = None
            if dd is None or not isinstance(frame, dd.DataFrame):
                raise TypeError(
                    f"DataInfo.fit needs a pandas or dask DataFrame; got {type(frame).__name__}."
                )
            is_dask = True

        columns = list(frame.columns)
        if len(set(columns)) != len(columns):
            dup = sorted({str(c) for c in columns if columns.count(c) > 1})
            raise DataError(f"The frame has duplicate column names: {dup}.")
        dtypes = dict(zip(columns, list(frame.dtypes)))

        if task == "auto":
            if response is None:
                task = "autoencoder"
            else:
                if response not in dtypes:
                    raise DataError(f"Response column {response!r} is not in the frame.")
                rkind = _kind_of(dtypes[response])
                is_bool = pd.api.types.is_bool_dtype(dtypes[response])
                task = "classification" if (rkind == "categorical" or is_bool) else "regression"
        if task == "autoencoder":
            excluded_response = response
            response = None
        else:
            excluded_response = None
            if response is None:
                raise InvalidParameterError(f"task={task!r} needs a response column; got response=None.")
        if classes is not None and task != "classification":
            raise InvalidParameterError(f"'classes' is only used for classification; task is {task!r}.")

        roles = {"response": response, "weights_column": weights_column, "offset_column": offset_column}
        named = [v for v in roles.values() if v is not None]
        if len(set(named)) != len(named):
            raise InvalidParameterError(
                f"response, weights_column and offset_column must be different columns; got {roles}."
            )
        absent = [v for v in named if v not in dtypes]
        if absent:
            raise DataError(f"Column(s) not in the frame: {_fmt_cols(absent)}.")
        if offset_column is not None and task == "classification":
            raise DataError(
                f"Offset column {offset_column!r} is only supported for regression, not classification."
            )

        ignored_set = set(ignored_columns or ())
        absent = [c for c in (ignored_columns or ()) if c not in dtypes]
        if absent:
            raise DataError(f"ignored_columns not in the frame: {_fmt_cols(absent)}.")
        special = {c for c in (response, weights_column, offset_column, excluded_response) if c is not None}
        if features is not None:
            fset = set(features)
            absent = [c for c in features if c not in dtypes]
            if absent:
                raise DataError(f"Feature column(s) not in the frame: {_fmt_cols(absent)}.")
            clash = [c for c in features if c in special]
            if clash:
                raise InvalidParameterError(
                    f"features must not include the response, weights or offset column: {_fmt_cols(clash)}."
                )
            candidates = [c for c in columns if c in fset and c not in ignored_set]
        else:
            candidates = [c for c in columns if c not in special and c not in ignored_set]
        if not candidates:
            raise DataError("No predictor columns: every column is the response, weights, offset or ignored.")

        kinds = {c: _kind_of(dtypes[c]) for c in candidates}
        bad_dt = [c for c in candidates if kinds[c] == "datetime"]
        if bad_dt:
            raise DataError(
                f"Datetime column(s) {_fmt_cols(bad_dt)} cannot be used as predictors; convert them to numbers first."
            )
        bad = [c for c in candidates if kinds[c] == "other"]
        if bad:
            raise DataError(
                "Unsupported dtype for predictor column(s): "
                + ", ".join(f"{c!r} ({dtypes[c]})" for c in bad)
                + "."
            )
        for role, col in (("weights", weights_column), ("offset", offset_column)):
            if col is not None and _kind_of(dtypes[col]) != "numeric":
                raise DataError(f"The {role} column {col!r} must be numeric; it has dtype {dtypes[col]}.")
        response_kind = None
        if response is not None:
            rk = _kind_of(dtypes[response])
            if rk in ("datetime", "other"):
                raise DataError(f"Response column {response!r} has unsupported dtype {dtypes[response]}.")
            if task == "regression":
                if rk != "numeric":
                    raise DataError(
                        f"Regression needs a numeric response; column {response!r} has dtype {dtypes[response]}."
                    )
                response_kind = "numeric"
            else:
                response_kind = "categorical"

        num_cands = [c for c in candidates if kinds[c] == "numeric"]
        cat_cands = [c for c in candidates if kinds[c] == "categorical"]
        level_resp = tuple(cat_cands) if (encoding == "SortByResponse" and response is not None) else ()
        plan = _stats.StatsPlan(
            numeric=tuple(num_cands),
            categorical=tuple(cat_cands),
            response=response,
            response_kind=response_kind,
            weights=weights_column,
            weighted_moments=weights_column is not None and offset_column is None,
            offset=offset_column,
            level_response=level_resp,
        )

        # ---------------------------------------------------------------- one pass
        if is_dask:
            import dask

            used = [c for c in columns if c in set(candidates) | special - {excluded_response}]
            parts = [
                dask.delayed(_stats.partition_stats)(p, plan)
                for p in frame[used].to_delayed()
            ]
            total = dask.delayed(_stats.combine_stats)(parts, plan)
            (stats,) = dask.compute(total, scheduler=scheduler)
        else:
            if len(frame) == 0:
                raise DataError("The frame is empty (0 rows).")
            stats = _stats.combine_stats([_stats.partition_stats(frame, plan)], plan)

        self = cls.__new__(cls)
        self._fit_from_stats(
            stats,
            plan=plan,
            task=task,
            response=response,
            classes=classes,
            candidates=candidates,
            weights_column=weights_column,
            offset_column=offset_column,
            standardize=bool(standardize),
            sparse=bool(sparse),
            ignore_const_cols=bool(ignore_const_cols),
            missing_values_handling=mvh,
            use_all_factor_levels=bool(use_all_factor_levels),
            categorical_encoding=encoding,
            max_categorical_features=int(max_categorical_features),
            distribution=distribution,
            seed=int(seed),
        )
        self._freeze()
        return self

    def _fit_from_stats(
        self,
        stats: dict,
        *,
        plan: _stats.StatsPlan,
        task: str,
        response: Any,
        classes: Sequence[Any] | None,
        candidates: list,
        weights_column: Any,
        offset_column: Any,
        standardize: bool,
        sparse: bool,
        ignore_const_cols: bool,
        missing_values_handling: str,
        use_all_factor_levels: bool,
        categorical_encoding: str,
        max_categorical_features: int,
        distribution: str,
        seed: int,
    ) -> None:
        n_rows = int(stats["n_rows"])
        if n_rows == 0:
            raise DataError("The frame is empty (0 rows).")

        # ---------------------------------------------------------------- data checks
        infs = [(c, s.n_inf) for c, s in stats["num"].items() if s.n_inf]
        if infs:
            raise DataError(
                "Infinite values in numeric column(s): "
                + ", ".join(f"{c!r} ({k} rows)" for c, k in infs)
                + "."
            )
        if weights_column is not None:
            ws = stats["weights"]
            if ws["n_negative"]:
                raise DataError(f"Weights column {weights_column!r} has {ws['n_negative']} negative value(s).")
            if ws["n_inf"]:
                raise DataError(f"Weights column {weights_column!r} has {ws['n_inf']} infinite value(s).")
            if not np.isfinite(ws["sum_pos"]):
                raise DataError(
                    f"Weights column {weights_column!r}: the sum of its weights overflows "
                    "to inf (float64); rescale the weights (only their ratios matter).")
            if ws["sum_pos"] <= 0:
                raise DataError(
                    f"Weights column {weights_column!r} has no positive weight "
                    f"({ws['n_missing']} of {n_rows} missing, the rest zero)."
                )
        if offset_column is not None:
            os_ = stats["offset"]
            if os_["n_missing"] or os_["n_inf"]:
                raise DataError(
                    f"Offset column {offset_column!r} has {os_['n_missing']} missing and "
                    f"{os_['n_inf']} infinite value(s)."
                )

        self.task = task
        self.response = response
        self.weights_column = weights_column
        self.offset_column = offset_column
        self.n_rows = n_rows
        self.standardize = standardize
        self.sparse = sparse
        self.ignore_const_cols = ignore_const_cols
        self.missing_values_handling = missing_values_handling
        # H2O: use_all_factor_levels is forced on for autoencoders
        self.use_all_factor_levels = use_all_factor_levels or task == "autoencoder"
        self.categorical_encoding = categorical_encoding
        self.max_categorical_features = max_categorical_features
        self.distribution = distribution
        self.seed = seed
        self.feature_names = list(candidates)

        # ---------------------------------------------------------------- response
        self.classes = None
        self.class_counts = None
        self.response_mean = None
        self.response_sd = None
        self.response_min = None
        class_lookup = None
        if task == "classification":
            rc = stats["resp_cat"]
            if rc["n_missing"] == n_rows:
                raise DataError(f"Response column {response!r} is all missing ({n_rows} rows).")
            if classes is not None:
                cls_list = [to_python_scalar(v) for v in classes]
                if len(set(cls_list)) != len(cls_list):
                    raise InvalidParameterError(f"'classes' has duplicate labels: {cls_list!r}.")
            elif isinstance(rc["categories"], list):
                cls_list = list(rc["categories"])
            else:
                cls_list = sort_levels(rc["values"], natural=True)
            class_lookup = LevelLookup(cls_list)
            counts = np.zeros(len(cls_list), dtype=np.int64)
            unseen = []
            for v in rc["values"]:
                i = class_lookup.index_of(v)
                if i < 0:
                    if rc["cnt"][v] > 0:
                        unseen.append(v)
                else:
                    counts[i] += rc["cnt"][v]
            if unseen:
                raise DataError(
                    f"Response column {response!r} has {len(unseen)} label(s) not in classes, "
                    f"e.g. {unseen[:5]!r}."
                )
            observed = [c for c, k in zip(cls_list, counts) if k > 0]
            if len(observed) < 2:
                raise DataError(
                    f"Classification needs at least 2 classes in response column {response!r}; "
                    f"found only {observed!r}."
                )
            self.classes = cls_list
            self.class_counts = counts
        elif task == "regression":
            rs = stats["resp_num"]
            if rs.n_inf:
                raise DataError(f"Response column {response!r} has {rs.n_inf} infinite value(s).")
            if rs.n_missing == n_rows or rs.n == 0:
                raise DataError(f"Response column {response!r} is all missing ({n_rows} rows).")
            _check_finite_moments(f"Response column {response!r}", rs)
            self.response_min = float(rs.min)
            if standardize and distribution.lower() in _IDENTITY_LINK:
                self.response_mean = float(rs.mean)
                self.response_sd = float(rs.sd) if rs.sd > 0 else 1.0

        # ---------------------------------------------------------------- filtering
        ignored: dict = {}
        if ignore_const_cols:
            for c in candidates:
                if c in stats["num"]:
                    s = stats["num"][c]
                    if s.n_missing == n_rows:
                        ignored[c] = "all missing"
                    elif s.min == s.max:
                        ignored[c] = "constant"
                else:
                    cs = stats["cat"][c]
                    if cs["n_missing"] == n_rows:
                        ignored[c] = "all missing"
                    elif len(self._raw_levels(cs)) <= 1:
                        ignored[c] = "constant"
        self.ignored = ignored
        kept = [c for c in candidates if c not in ignored]
        if not kept:
            raise DataError(
                "No predictor left after dropping constant / all-missing columns: "
                + ", ".join(f"{c!r} ({r})" for c, r in ignored.items())
                + "."
            )
        self.used_columns = kept

        # ---------------------------------------------------------------- encodings
        one_hot = categorical_encoding in _ONE_HOT
        cat_raw_levels: dict = {}
        cat_level_map: dict = {}
        cat_levels: dict = {}
        encoded_levels: dict = {}
        eigen_vectors: dict = {}
        num_sources: list = []
        num_names: list = []
        num_stats: list = []  # (mean, sd, min, max)
        for c in kept:
            if c in stats["num"]:
                s = stats["num"][c]
                _check_finite_moments(f"Numeric column {c!r}", s)
                num_sources.append(("numeric", c, 0))
                num_names.append(c)
                num_stats.append((s.mean if s.wsum > 0 else 0.0, s.sd, s.min, s.max))
                continue
            cs = stats["cat"][c]
            raw = self._raw_levels(cs)
            d = len(raw)
            cnt = np.array([cs["cnt"].get(v, 0) for v in raw], dtype=np.int64)
            cnt_pos = np.array([cs["cnt_pos"].get(v, 0) for v in raw], dtype=np.float64)
            wsum = np.array([cs["wsum"].get(v, 0.0) for v in raw], dtype=np.float64)
            if one_hot:
                lmap = np.arange(d, dtype=np.int64)
                levels = list(raw)
                if categorical_encoding == "SortByResponse" and c in stats.get("level_resp", {}):
                    rsum, rw = self._level_response(stats["level_resp"][c], raw, class_lookup)
                    lmap = sort_by_response_order(rsum, rw)
                    levels = [None] * d
                    for i, j in enumerate(lmap):
                        levels[j] = raw[i]
                elif categorical_encoding == "EnumLimited":
                    em = enum_limited_map(cnt)
                    if em is not None:
                        lmap = em
                        kept_levels = [raw[i] for i in range(d) if em[i] < em.max()]
                        levels = kept_levels + [OTHER_LEVEL]
                cat_raw_levels[c] = list(raw)
                cat_level_map[c] = lmap
                cat_levels[c] = levels
                continue
            encoded_levels[c] = list(raw)
            if categorical_encoding == "LabelEncoder":
                f = np.arange(d, dtype=np.float64)
                num_sources.append(("label", c, 0))
                num_names.append(c)
                num_stats.append(self._level_moments(f, cnt, cnt_pos, wsum, None))
            elif categorical_encoding == "Eigen":
                vec = eigen_vector(wsum)
                eigen_vectors[c] = vec
                num_sources.append(("eigen", c, 0))
                num_names.append(f"{c}.Eigen")
                num_stats.append(self._level_moments(vec, cnt, cnt_pos, wsum, None))
            else:  # Binary
                bits = binary_bits(d)
                na = (cs["n_missing"], cs["na_cnt_pos"], cs["na_wsum"])
                for b in range(binary_width(d)):
                    num_sources.append(("binary", c, b))
                    num_names.append(f"{c}:{b}")
                    num_stats.append(self._level_moments(bits[:, b], cnt, cnt_pos, wsum, na))

        cat_columns = _swap_sort(
            [c for c in kept if c in cat_levels], {c: len(v) for c, v in cat_levels.items()}
        )
        self.cat_columns = cat_columns
        self.cat_levels = {c: cat_levels[c] for c in cat_columns}
        self.cat_raw_levels = {c: cat_raw_levels[c] for c in cat_columns}
        self.cat_level_map = {c: cat_level_map[c] for c in cat_columns}
        # NA counts are summed over the partitions by _stats.combine_stats
        self.cat_na_seen = {c: bool(stats["cat"][c]["n_missing"] > 0) for c in cat_columns}
        widths = []
        for c in cat_columns:
            d = len(cat_levels[c])
            widths.append(d + 1 if self.use_all_factor_levels else max(d - 1, 0) + 1)
        self.cat_offsets = np.concatenate([[0], np.cumsum(widths, dtype=np.int64)]).astype(np.int64)
        self.encoded_levels = encoded_levels
        self.eigen_vectors = eigen_vectors
        self.num_columns = num_names
        self.num_sources = num_sources

        # ---------------------------------------------------------------- numeric transform
        k = len(num_names)
        mean = np.array([s[0] for s in num_stats], dtype=np.float64).reshape(k)
        sd = np.array([s[1] for s in num_stats], dtype=np.float64).reshape(k)
        mn = np.array([s[2] for s in num_stats], dtype=np.float64).reshape(k)
        mx = np.array([s[3] for s in num_stats], dtype=np.float64).reshape(k)
        inv_sd = np.where(sd > 0, 1.0 / np.where(sd > 0, sd, 1.0), 1.0)
        if not standardize:
            ttype = NONE
            mul, sub = np.ones(k), np.zeros(k)
        elif task == "autoencoder":
            ttype = NORMALIZE
            rng = mx - mn
            ok = np.isfinite(rng) & (rng != 0)
            mul = np.where(ok, 1.0 / np.where(ok, rng, 1.0), 1.0)
            sub = mean.copy()
        elif sparse:
            ttype = DESCALE
            mul, sub = inv_sd, np.zeros(k)
        else:
            ttype = STANDARDIZE
            mul, sub = inv_sd, mean.copy()
        self.transform_type = ttype
        self.num_mean = mean
        self.num_sd = sd
        self.num_mul = mul.astype(np.float64)
        self.num_sub = sub.astype(np.float64)
        self.num_fill = mean.copy()

        # ---------------------------------------------------------------- layout
        cat_width = int(self.cat_offsets[-1])
        self.hashing = bool(cat_width > 0 and max_categorical_features < cat_width)
        names: list[str] = []
        if self.hashing:
            self.hash_slots = _hash_slots(cat_width, max_categorical_features, seed)
            names.extend(f"hash.{i}" for i in range(max_categorical_features))
            n_cat_inputs = max_categorical_features
        else:
            self.hash_slots = np.zeros(0, dtype=np.int64)
            for c in cat_columns:
                levels = self.cat_levels[c]
                shown = levels if self.use_all_factor_levels else levels[1:]
                names.extend(f"{c}.{lev}" for lev in shown)
                names.append(f"{c}.{_NA_NAME}")
            n_cat_inputs = cat_width
        names.extend(str(c) for c in num_names)
        self.input_names = names
        self.n_inputs = int(n_cat_inputs + k)
        self._num_start = int(n_cat_inputs)

    # ------------------------------------------------------------------ fit helpers

    @staticmethod
    def _raw_levels(cs: dict) -> list:
        cats = cs["categories"]
        if isinstance(cats, list):
            return list(cats)
        return sort_levels(cs["values"], natural=cats == "mixed")

    @staticmethod
    def _level_response(lr: dict, raw: list, class_lookup: LevelLookup | None) -> tuple[np.ndarray, np.ndarray]:
        d = len(raw)
        idx = {v: i for i, v in enumerate(raw)}
        rsum = np.zeros(d)
        rw = np.zeros(d)
        if "pairs" in lr:
            for (lev, lab), w in lr["pairs"].items():
                i = idx.get(lev)
                j = class_lookup.index_of(lab) if class_lookup is not None else -1
                if i is None or j < 0:
                    continue
                rsum[i] += w * j
                rw[i] += w
        else:
            for lev, s in lr["sum"].items():
                i = idx.get(lev)
                if i is not None:
                    rsum[i] += s
                    rw[i] += lr["wsum"][lev]
        return rsum, rw

    @staticmethod
    def _level_moments(
        f: np.ndarray, cnt: np.ndarray, cnt_pos: np.ndarray, wsum: np.ndarray, na: tuple | None
    ) -> tuple[float, float, float, float]:
        """Moments of an encoded column from per-level counts (no second data pass).

        ``f`` is the encoded value of each level; ``na`` = (rows, rows with w > 0, weight)
        of missing values when they encode to 0 (Binary), None when they stay missing.
        """
        f = np.asarray(f, dtype=np.float64)
        n = cnt_pos.sum()
        w = wsum.copy()
        vals = f.copy()
        seen = cnt > 0
        if na is not None and na[0] > 0:
            n += na[1]
            w = np.append(w, na[2])
            vals = np.append(vals, 0.0)
            seen = np.append(seen, True)
        wtot = w.sum()
        if wtot > 0:
            mean = float(np.dot(w, vals) / wtot)
            m2 = float(np.dot(w, np.square(vals - mean)))
        else:
            mean, m2 = 0.0, 0.0
        sd = math.sqrt(_stats.moments_variance(n, wtot, m2))
        if seen.any():
            mn, mx = float(vals[seen].min()), float(vals[seen].max())
        else:
            mn = mx = float("nan")
        return mean, sd, mn, mx

    # ------------------------------------------------------------------ transform

    def _check_columns(self, frame: pd.DataFrame) -> None:
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"DataInfo.transform needs a pandas DataFrame; got {type(frame).__name__}.")
        absent = [c for c in self.used_columns if c not in frame.columns]
        if absent:
            raise DataError(f"Predictor column(s) missing from the frame: {_fmt_cols(absent)}.")

    def _predictors(self, frame: pd.DataFrame) -> tuple[list, list, np.ndarray]:
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
        for c in self.cat_columns:
            raw, missing = LevelLookup(self.cat_raw_levels[c]).codes(frame[c])
            lmap = self.cat_level_map[c]
            enc = np.where(raw >= 0, lmap[np.where(raw >= 0, raw, 0)] if lmap.size else -1, -1)
            cat_codes.append(enc.astype(np.int64, copy=False))
            any_missing |= missing
        cache: dict = {}
        num_values = []
        infs = []
        for kind, src, arg in self.num_sources:
            if kind == "numeric":
                v = _float_values(frame[src], src)
                isinf = np.isinf(v)
                if isinf.any():
                    infs.append((src, int(isinf.sum())))
                any_missing |= np.isnan(v)
                num_values.append(v)
                continue
            if src not in cache:
                cache[src] = LevelLookup(self.encoded_levels[src]).codes(frame[src])
                any_missing |= cache[src][1]
            code, _ = cache[src]
            ok = code >= 0
            safe = np.where(ok, code, 0)
            if kind == "label":
                v = np.where(ok, code.astype(np.float64), np.nan)
            elif kind == "eigen":
                vec = self.eigen_vectors[src]
                v = np.where(ok, vec[safe] if vec.size else np.nan, np.nan)
            else:  # binary: level index + 1, bit ``arg``; missing / unseen -> 0
                v = np.where(ok, ((safe + 1) >> arg) & 1, 0).astype(np.float64)
            num_values.append(v)
        if infs:
            raise DataError(
                "Infinite values in numeric column(s): "
                + ", ".join(f"{c!r} ({k} rows)" for c, k in infs)
                + "."
            )
        return cat_codes, num_values, any_missing

    def _build_X(self, cat_codes: list, num_values: list, n: int, rows: np.ndarray | None) -> np.ndarray:
        """Fill the float32 input matrix (vectorised; loops over columns, never rows)."""
        m = n if rows is None else rows.shape[0]
        X = np.zeros((m, self.n_inputs), dtype=np.float32)
        r = np.arange(m)
        offs = self.cat_offsets
        for i, c in enumerate(self.cat_columns):
            code = cat_codes[i] if rows is None else cat_codes[i][rows]
            na_slot = int(offs[i + 1] - offs[i] - 1)
            if self.use_all_factor_levels:
                slot = np.where(code >= 0, code, na_slot)
            else:  # level 0 is the all-zeros reference -> -1 (no active input)
                slot = np.where(code >= 0, code - 1, na_slot)
            active = slot >= 0
            idx = slot[active] + offs[i]
            if self.hashing:
                X[r[active], self.hash_slots[idx]] += 1.0
            else:
                X[r[active], idx] = 1.0
        if num_values:
            V = np.stack(num_values)  # (k, n): one contiguous row per column
            if rows is not None:
                V = V[:, rows]
            mul = self.num_mul[:, None]
            sub = self.num_sub[:, None]
            T = (V - sub) * mul
            nan = np.isnan(V)
            if nan.any():
                fill = np.broadcast_to((self.num_fill[:, None] - sub) * mul, T.shape)
                T[nan] = fill[nan]
            X[:, self._num_start :] = T.T
        return X

    def transform(self, frame: pd.DataFrame, *, training: bool) -> Block:
        """Turn a pandas frame (e.g. one partition) into a :class:`Block`.

        Parameters
        ----------
        frame : pandas.DataFrame
            Columns are found by name; extra columns are ignored.
        training : bool
            True: drop rows with a missing response, a missing or zero weight, and (Skip
            mode) any missing predictor. False (scoring a frame that may have labels):
            drop only rows with a missing response; keep zero / missing weights.

        Returns
        -------
        Block

        Raises
        ------
        DataError
            Missing predictor columns; a missing response / weights column when training;
            a missing offset column; infinite numeric values; negative weights; missing
            or infinite offsets; classification labels outside ``classes``.
        """
        self._check_columns(frame)
        n = len(frame)
        keep = np.ones(n, dtype=bool)

        y_raw = None
        if self.response is not None:
            if self.response in frame.columns:
                y_series = frame[self.response]
                if self.task == "classification":
                    codes, missing = LevelLookup(self.classes).codes(y_series)
                    bad = (codes < 0) & ~missing
                    if bad.any():
                        examples = pd.unique(y_series[bad].astype(object).to_numpy())[:5]
                        raise DataError(
                            f"Response column {self.response!r} has {int(bad.sum())} row(s) with labels "
                            f"not seen in training, e.g. {[to_python_scalar(v) for v in examples]!r}."
                        )
                    y_raw = codes.astype(np.float64)
                    keep &= ~missing
                else:
                    yv = _float_values(y_series, self.response)
                    n_inf = int(np.isinf(yv).sum())
                    if n_inf:
                        raise DataError(f"Response column {self.response!r} has {n_inf} infinite value(s).")
                    y_raw = yv
                    keep &= ~np.isnan(yv)
            elif training:
                raise DataError(f"Response column {self.response!r} is missing from the frame.")

        w = None
        if self.weights_column is not None:
            if self.weights_column in frame.columns:
                w = _float_values(frame[self.weights_column], self.weights_column)
                n_neg = int((w < 0).sum())
                if n_neg:
                    raise DataError(f"Weights column {self.weights_column!r} has {n_neg} negative value(s).")
                n_inf = int(np.isinf(w).sum())
                if n_inf:
                    raise DataError(f"Weights column {self.weights_column!r} has {n_inf} infinite value(s).")
                if training:
                    keep &= w > 0
            elif training:
                raise DataError(f"Weights column {self.weights_column!r} is missing from the frame.")

        o = None
        if self.offset_column is not None:
            if self.offset_column not in frame.columns:
                raise DataError(f"Offset column {self.offset_column!r} is missing from the frame.")
            o = _float_values(frame[self.offset_column], self.offset_column)
            n_bad = int((~np.isfinite(o)).sum())
            if n_bad:
                raise DataError(
                    f"Offset column {self.offset_column!r} has {n_bad} missing or infinite value(s)."
                )

        cat_codes, num_values, any_missing = self._predictors(frame)
        if training and self.missing_values_handling == "Skip":
            keep &= ~any_missing
        rows = None if keep.all() else np.flatnonzero(keep)
        index = np.arange(n, dtype=np.int64) if rows is None else rows.astype(np.int64)
        X = self._build_X(cat_codes, num_values, n, rows)

        def take(a: np.ndarray | None) -> np.ndarray | None:
            if a is None:
                return None
            return a if rows is None else a[rows]

        y = take(y_raw)
        if y is not None:
            if self.response_mean is not None:
                y = (y - self.response_mean) / self.response_sd
            y = np.ascontiguousarray(y, dtype=np.float32)
        weight = take(w)
        if weight is not None:
            weight = np.ascontiguousarray(weight, dtype=np.float32)
        offset = take(o)
        if offset is not None:
            if self.response_mean is not None:
                offset = (offset - self.response_mean) / self.response_sd
            offset = np.ascontiguousarray(offset, dtype=np.float32)
        return Block(X=X, y=y, weight=weight, offset=offset, index=index)

    def transform_X(self, frame: pd.DataFrame) -> np.ndarray:
        """Scoring inputs for every row of ``frame`` (no row is dropped).

        Parameters
        ----------
        frame : pandas.DataFrame

        Returns
        -------
        ndarray of shape (len(frame), n_inputs), float32, C-contiguous

        Raises
        ------
        DataError
            Missing predictor columns or infinite numeric values.
        """
        cat_codes, num_values = self.scoring_inputs(frame)
        return self._build_X(cat_codes, num_values, len(frame), None)

    def scoring_inputs(self, frame: pd.DataFrame) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """What :meth:`transform_X` encodes, before the one-hot blocks and the scaling.

        For scorers that compute the first layer without the dense ``X``
        (:mod:`dask_deeplearn.fast_scoring`); same checks and errors as :meth:`transform_X`.

        Returns
        -------
        cat_codes : list of ndarray of int64, shape (len(frame),)
            Per ``cat_columns``: index into ``cat_levels`` (-1: missing or unseen, i.e.
            the column's NA slot ``cat_offsets[i + 1] - 1``).
        num_values : list of ndarray of float64, shape (len(frame),)
            Per ``num_columns``: the raw value (NaN when missing); the input is
            ``(x - num_sub) * num_mul``, a missing one ``(num_fill - num_sub) * num_mul``.

        Raises
        ------
        DataError
            Missing predictor columns or infinite numeric values.
        """
        self._check_columns(frame)
        cat_codes, num_values, _ = self._predictors(frame)
        return cat_codes, num_values

    def inverse_response(self, out: np.ndarray) -> np.ndarray:
        """De-standardise identity-link regression outputs: ``out * sd + mean``.

        Parameters
        ----------
        out : array-like
            Network outputs (training space).

        Returns
        -------
        ndarray of float64
            ``out * response_sd + response_mean`` when the response is standardised,
            else ``out`` unchanged (as float64).
        """
        arr = np.asarray(out, dtype=np.float64)
        if self.response_mean is None:
            return arr
        return arr * self.response_sd + self.response_mean

    # ------------------------------------------------------------------ serialisation

    def to_dict(self) -> dict:
        """JSON-serialisable description (lists, str, numbers, bools, None only).

        Returns
        -------
        dict
            ``json.dumps``-able; :meth:`from_dict` rebuilds an equal :class:`DataInfo`.
            Per-column mappings are stored as lists aligned with the column lists, so
            non-string column names survive.
        """
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "task": self.task,
            "response": self.response,
            "classes": _jsonable(self.classes),
            "class_counts": _jsonable(self.class_counts),
            "weights_column": self.weights_column,
            "offset_column": self.offset_column,
            "n_rows": self.n_rows,
            "params": {
                "standardize": self.standardize,
                "sparse": self.sparse,
                "ignore_const_cols": self.ignore_const_cols,
                "missing_values_handling": self.missing_values_handling,
                "use_all_factor_levels": self.use_all_factor_levels,
                "categorical_encoding": self.categorical_encoding,
                "max_categorical_features": self.max_categorical_features,
                "distribution": self.distribution,
                "seed": self.seed,
            },
            "feature_names": _jsonable(self.feature_names),
            "used_columns": _jsonable(self.used_columns),
            "ignored": [[c, r] for c, r in self.ignored.items()],
            "cat_columns": _jsonable(self.cat_columns),
            "cat_levels": [_jsonable(self.cat_levels[c]) for c in self.cat_columns],
            "cat_raw_levels": [_jsonable(self.cat_raw_levels[c]) for c in self.cat_columns],
            "cat_level_map": [_jsonable(self.cat_level_map[c]) for c in self.cat_columns],
            "cat_offsets": _jsonable(self.cat_offsets),
            "cat_na_seen": [bool(self.cat_na_seen[c]) for c in self.cat_columns],
            "num_columns": _jsonable(self.num_columns),
            "num_sources": [[k, s, a] for k, s, a in self.num_sources],
            "encoded_levels": [[c, _jsonable(v)] for c, v in self.encoded_levels.items()],
            "eigen_vectors": [[c, _jsonable(v)] for c, v in self.eigen_vectors.items()],
            "num_mean": _jsonable(self.num_mean),
            "num_sd": _jsonable(self.num_sd),
            "num_mul": _jsonable(self.num_mul),
            "num_sub": _jsonable(self.num_sub),
            "num_fill": _jsonable(self.num_fill),
            "transform_type": self.transform_type,
            "response_mean": self.response_mean,
            "response_sd": self.response_sd,
            "response_min": self.response_min,
            "hashing": self.hashing,
            "hash_slots": _jsonable(self.hash_slots),
            "input_names": list(self.input_names),
            "n_inputs": self.n_inputs,
        }

    @classmethod
    def from_dict(cls, d: dict) -> DataInfo:
        """Rebuild a :class:`DataInfo` from :meth:`to_dict` output.

        Parameters
        ----------
        d : dict
            As returned by :meth:`to_dict` (possibly through ``json.dumps`` / ``loads``).

        Returns
        -------
        DataInfo

        Raises
        ------
        ValueError
            Not a DataInfo description, or one from a newer format version.
        """
        if not isinstance(d, dict) or d.get("format") != _FORMAT:
            raise ValueError("Not a dask_deeplearn DataInfo description (missing or wrong 'format').")
        if d.get("version") != _VERSION:
            raise ValueError(
                f"DataInfo format version {d.get('version')!r} is not supported (this version reads {_VERSION})."
            )

        def key(c: Any) -> Any:
            return tuple(c) if isinstance(c, list) else c

        self = cls.__new__(cls)
        self.task = d["task"]
        self.response = key(d["response"])
        self.classes = None if d["classes"] is None else list(d["classes"])
        self.class_counts = None if d["class_counts"] is None else np.asarray(d["class_counts"], dtype=np.int64)
        self.weights_column = key(d["weights_column"])
        self.offset_column = key(d["offset_column"])
        self.n_rows = int(d["n_rows"])
        p = d["params"]
        self.standardize = bool(p["standardize"])
        self.sparse = bool(p["sparse"])
        self.ignore_const_cols = bool(p["ignore_const_cols"])
        self.missing_values_handling = p["missing_values_handling"]
        self.use_all_factor_levels = bool(p["use_all_factor_levels"])
        self.categorical_encoding = p["categorical_encoding"]
        self.max_categorical_features = int(p["max_categorical_features"])
        self.distribution = p["distribution"]
        self.seed = int(p["seed"])
        self.feature_names = [key(c) for c in d["feature_names"]]
        self.used_columns = [key(c) for c in d["used_columns"]]
        self.ignored = {key(c): r for c, r in d["ignored"]}
        cats = [key(c) for c in d["cat_columns"]]
        self.cat_columns = cats
        self.cat_levels = {c: list(v) for c, v in zip(cats, d["cat_levels"])}
        self.cat_raw_levels = {c: list(v) for c, v in zip(cats, d["cat_raw_levels"])}
        self.cat_level_map = {c: np.asarray(v, dtype=np.int64) for c, v in zip(cats, d["cat_level_map"])}
        self.cat_offsets = np.asarray(d["cat_offsets"], dtype=np.int64)
        # older descriptions have no record: treat every NA slot as seen (keeps old values)
        na_seen = d.get("cat_na_seen")
        if na_seen is None:
            na_seen = [True] * len(cats)
        self.cat_na_seen = {c: bool(v) for c, v in zip(cats, na_seen)}
        self.num_columns = [key(c) for c in d["num_columns"]]
        self.num_sources = [(k, key(s), int(a)) for k, s, a in d["num_sources"]]
        self.encoded_levels = {key(c): list(v) for c, v in d["encoded_levels"]}
        self.eigen_vectors = {key(c): np.asarray(v, dtype=np.float64) for c, v in d["eigen_vectors"]}
        for name in ("num_mean", "num_sd", "num_mul", "num_sub", "num_fill"):
            setattr(self, name, np.asarray(d[name], dtype=np.float64).reshape(-1))
        self.transform_type = d["transform_type"]
        self.response_mean = None if d["response_mean"] is None else float(d["response_mean"])
        self.response_sd = None if d["response_sd"] is None else float(d["response_sd"])
        self.response_min = None if d.get("response_min") is None else float(d["response_min"])
        self.hashing = bool(d["hashing"])
        self.hash_slots = np.asarray(d["hash_slots"], dtype=np.int64)
        self.input_names = list(d["input_names"])
        self.n_inputs = int(d["n_inputs"])
        self._num_start = self.max_categorical_features if self.hashing else int(self.cat_offsets[-1])
        self._freeze()
        return self

    def to_json(self) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> DataInfo:
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))

    # ------------------------------------------------------------------ misc

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DataInfo):
            return NotImplemented
        return _typed(self.to_dict()) == _typed(other.to_dict())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"DataInfo(task={self.task!r}, response={self.response!r}, n_inputs={self.n_inputs}, "
            f"cat_columns={len(self.cat_columns)}, num_columns={len(self.num_columns)}, "
            f"transform={self.transform_type})"
        )


def _typed(value: Any) -> Any:
    """Tag scalars with their type so 1, 1.0, True and "1" compare different."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, (bool, int, float, str)) or value is None:
        return (type(value).__name__, value)
    return value
