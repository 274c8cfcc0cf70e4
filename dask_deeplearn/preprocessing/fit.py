"""Fitting a :class:`~dask_deeplearn.preprocessing.DataInfo`: column roles, one pass, the plan.

:func:`fit_data_info` checks the columns and their roles, computes every statistic in one
pass over the data (:mod:`._stats`: for a Dask frame one ``dask.compute`` of
per-partition partials, merged by the same code that handles a pandas frame) and derives
the plan from the statistics: the response's classes or scaling, the columns dropped as
constant or all missing, the categorical encodings, the numeric scaling and the input
layout. The parameter values come in as a
:class:`~dask_deeplearn.preprocessing.PreprocessingOptions`, already checked by the
parameter table; the checks here are of the data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..distributions import IDENTITY_LINK
from ..exceptions import DataError, InvalidParameterError
from . import _stats
from ._columns import fmt_cols, kind_of
from .data_info import DESCALE, NONE, NORMALIZE, STANDARDIZE, DataInfo
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
from .options import PreprocessingOptions

__all__ = ["fit_data_info"]

_TASKS = ("autoencoder", "auto", "classification", "regression")
# encodings that keep a one-hot block per categorical (the others make numeric columns)
_ONE_HOT = {"AUTO", "OneHotInternal", "SortByResponse", "EnumLimited"}
# distributions with an identity link: their regression response is standardised
_IDENTITY_LINK = IDENTITY_LINK
_NA_NAME = "missing(NA)"


def fit_data_info(frame: Any, *, response: Any, features: Sequence[Any] | None,
                  ignored_columns: Sequence[Any] | None, weights_column: Any, offset_column: Any,
                  task: str, classes: Sequence[Any] | None, options: PreprocessingOptions,
                  scheduler: Any) -> DataInfo:
    """Fit the plan from a pandas or Dask DataFrame (one pass over the data).

    The arguments are those of :meth:`DataInfo.fit
    <dask_deeplearn.preprocessing.DataInfo.fit>`, with the nine preprocessing parameters
    as one ``options`` value; it documents the behaviour and the errors.
    """
    task = _check_task(task)
    is_dask = _is_dask(frame)
    columns = list(frame.columns)
    if len(set(columns)) != len(columns):
        dup = sorted({str(c) for c in columns if columns.count(c) > 1})
        raise DataError(f"The frame has duplicate column names: {dup}.")
    dtypes = dict(zip(columns, list(frame.dtypes)))

    if task == "auto":
        task = _infer_task(response, dtypes)
    if task == "autoencoder":
        excluded_response = response
        response = None
    else:
        excluded_response = None
        if response is None:
            raise InvalidParameterError(f"task={task!r} needs a response column; got response=None.")
    if classes is not None and task != "classification":
        raise InvalidParameterError(f"'classes' is only used for classification; task is {task!r}.")
    _check_roles(task, dtypes, response, weights_column, offset_column)
    special = {c for c in (response, weights_column, offset_column, excluded_response) if c is not None}
    candidates = _candidates(columns, dtypes, special, features, ignored_columns)
    response_kind = _check_dtypes(task, dtypes, candidates, response, weights_column, offset_column)

    kinds = {c: kind_of(dtypes[c]) for c in candidates}
    cat_cands = [c for c in candidates if kinds[c] == "categorical"]
    sort_by_response = options.categorical_encoding == "SortByResponse" and response is not None
    plan = _stats.StatsPlan(
        numeric=tuple(c for c in candidates if kinds[c] == "numeric"),
        categorical=tuple(cat_cands),
        response=response,
        response_kind=response_kind,
        weights=weights_column,
        weighted_moments=weights_column is not None and offset_column is None,
        offset=offset_column,
        level_response=tuple(cat_cands) if sort_by_response else (),
    )
    if is_dask:
        used = [c for c in columns if c in set(candidates) | special - {excluded_response}]
        stats = _dask_stats(frame, used, plan, scheduler)
    else:
        if len(frame) == 0:
            raise DataError("The frame is empty (0 rows).")
        stats = _stats.combine_stats([_stats.partition_stats(frame, plan)], plan)
    return _plan_from_stats(stats, task=task, response=response, classes=classes,
                            candidates=candidates, weights_column=weights_column,
                            offset_column=offset_column, options=options)


# ---------------------------------------------------------------------------- columns


def _check_task(task: Any) -> str:
    if not isinstance(task, str) or task.lower() not in _TASKS:
        raise InvalidParameterError(
            f"The 'task' parameter of DataInfo.fit must be a str among {sorted(_TASKS)}. "
            f"Got {task!r} instead."
        )
    return task.lower()


def _is_dask(frame: Any) -> bool:
    if isinstance(frame, pd.DataFrame):
        return False
    import dask.dataframe as dd

    if not (isinstance(frame, dd.DataFrame) or hasattr(frame, "map_partials")):
        raise TypeError(f"DataInfo.fit needs a pandas or dask DataFrame; got {type(frame).__name__}.")
    return True


def _infer_task(response: Any, dtypes: dict) -> str:
    """No response: autoencoder; category / object / string / bool: classification."""
    if response is None:
        return "autoencoder"
    if response not in dtypes:
        raise DataError(f"Response column {response!r} is not in the frame.")
    rkind = kind_of(dtypes[response])
    is_bool = pd.api.types.is_bool_dtype(dtypes[response])
    return "classification" if (rkind == "categorical" or is_bool) else "regression"


def _check_roles(task: str, dtypes: dict, response: Any, weights_column: Any, offset_column: Any) -> None:
    roles = {"response": response, "weights_column": weights_column, "offset_column": offset_column}
    named = [v for v in roles.values() if v is not None]
    if len(set(named)) != len(named):
        raise InvalidParameterError(
            f"response, weights_column and offset_column must be different columns; got {roles}."
        )
    absent = [v for v in named if v not in dtypes]
    if absent:
        raise DataError(f"Column(s) not in the frame: {fmt_cols(absent)}.")
    if offset_column is not None and task == "classification":
        raise DataError(
            f"Offset column {offset_column!r} is only supported for regression, not classification."
        )


def _candidates(columns: list, dtypes: dict, special: set, features: Sequence[Any] | None,
                ignored_columns: Sequence[Any] | None) -> list:
    """The predictor columns, in frame order."""
    ignored_set = set(ignored_columns or ())
    absent = [c for c in (ignored_columns or ()) if c not in dtypes]
    if absent:
        raise DataError(f"ignored_columns not in the frame: {fmt_cols(absent)}.")
    if features is not None:
        fset = set(features)
        absent = [c for c in features if c not in dtypes]
        if absent:
            raise DataError(f"Feature column(s) not in the frame: {fmt_cols(absent)}.")
        clash = [c for c in features if c in special]
        if clash:
            raise InvalidParameterError(
                f"features must not include the response, weights or offset column: {fmt_cols(clash)}."
            )
        candidates = [c for c in columns if c in fset and c not in ignored_set]
    else:
        candidates = [c for c in columns if c not in special and c not in ignored_set]
    if not candidates:
        raise DataError("No predictor columns: every column is the response, weights, offset or ignored.")
    return candidates


def _check_dtypes(task: str, dtypes: dict, candidates: list, response: Any, weights_column: Any,
                  offset_column: Any) -> str | None:
    """Refuse the dtypes the plan cannot use; return the response's kind (or None)."""
    kinds = {c: kind_of(dtypes[c]) for c in candidates}
    bad_dt = [c for c in candidates if kinds[c] == "datetime"]
    if bad_dt:
        raise DataError(
            f"Datetime column(s) {fmt_cols(bad_dt)} cannot be used as predictors; convert them to numbers first."
        )
    bad = [c for c in candidates if kinds[c] == "other"]
    if bad:
        raise DataError(
            "Unsupported dtype for predictor column(s): "
            + ", ".join(f"{c!r} ({dtypes[c]})" for c in bad)
            + "."
        )
    for role, col in (("weights", weights_column), ("offset", offset_column)):
        if col is not None and kind_of(dtypes[col]) != "numeric":
            raise DataError(f"The {role} column {col!r} must be numeric; it has dtype {dtypes[col]}.")
    if response is None:
        return None
    rk = kind_of(dtypes[response])
    if rk in ("datetime", "other"):
        raise DataError(f"Response column {response!r} has unsupported dtype {dtypes[response]}.")
    if task != "regression":
        return "categorical"
    if rk != "numeric":
        raise DataError(
            f"Regression needs a numeric response; column {response!r} has dtype {dtypes[response]}."
        )
    return "numeric"


def _dask_stats(frame: Any, used: list, plan: _stats.StatsPlan, scheduler: Any) -> dict:
    """The statistics of a Dask frame's ``used`` columns in one pass.

    A frame with ``map_partials`` (the Dask fit's ``HeldFrame``: read once, kept where its
    partitions are) computes the partials itself. Otherwise one ``dask.compute`` of
    ``map_partitions`` partials (tasks ``ddl-stats-...``), each fused with whatever computes
    its partition, so that no partition is stored as a task result on the way."""
    if hasattr(frame, "map_partials"):
        return _stats.combine_stats(frame.map_partials(_stats.partition_stats, plan,
                                                       columns=used), plan)
    import uuid

    import dask

    parts = frame[used].map_partitions(_stats.partition_stats, plan, meta=("stats", object),
                                       enforce_metadata=False, align_dataframes=False,
                                       token="ddl-stats").to_delayed()
    total = dask.delayed(_stats.combine_stats)(parts, plan,
                                               dask_key_name=f"ddl-stats-total-{uuid.uuid4().hex}")
    (stats,) = dask.compute(total, scheduler=scheduler)
    return stats


# ---------------------------------------------------------------------------- the plan


def _plan_from_stats(stats: dict, *, task: str, response: Any, classes: Sequence[Any] | None,
                     candidates: list, weights_column: Any, offset_column: Any,
                     options: PreprocessingOptions) -> DataInfo:
    n_rows = int(stats["n_rows"])
    if n_rows == 0:
        raise DataError("The frame is empty (0 rows).")
    _check_stats(stats, n_rows, weights_column, offset_column)
    # H2O forces use_all_factor_levels on for autoencoders
    all_levels = options.use_all_factor_levels or task == "autoencoder"
    fields: dict[str, Any] = dict(
        task=task, response=response, weights_column=weights_column, offset_column=offset_column,
        n_rows=n_rows, standardize=options.standardize, sparse=options.sparse,
        ignore_const_cols=options.ignore_const_cols,
        missing_values_handling=options.missing_values_handling, use_all_factor_levels=all_levels,
        categorical_encoding=options.categorical_encoding,
        max_categorical_features=options.max_categorical_features,
        distribution=options.distribution, seed=options.seed, feature_names=list(candidates),
    )
    response_fields, class_lookup = _fit_response(stats, n_rows, task, response, classes, options)
    fields.update(response_fields)
    ignored = _ignored(stats, candidates, n_rows) if options.ignore_const_cols else {}
    kept = [c for c in candidates if c not in ignored]
    if not kept:
        raise DataError(
            "No predictor left after dropping constant / all-missing columns: "
            + ", ".join(f"{c!r} ({r})" for c, r in ignored.items())
            + "."
        )
    fields.update(ignored=ignored, used_columns=kept)
    column_fields, num_stats = _encode(stats, kept, options.categorical_encoding, class_lookup, all_levels)
    fields.update(column_fields)
    fields.update(_scale(num_stats, task, options))
    fields.update(_lay_out(options, all_levels, column_fields))
    return DataInfo(**fields)


def _check_stats(stats: dict, n_rows: int, weights_column: Any, offset_column: Any) -> None:
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


def _fit_response(stats: dict, n_rows: int, task: str, response: Any, classes: Sequence[Any] | None,
                  options: PreprocessingOptions) -> tuple[dict, LevelLookup | None]:
    """The response fields, and the class lookup (classification) or None."""
    fields: dict[str, Any] = dict(classes=None, class_counts=None, response_mean=None,
                                  response_sd=None, response_min=None)
    if task == "regression":
        rs = stats["resp_num"]
        if rs.n_inf:
            raise DataError(f"Response column {response!r} has {rs.n_inf} infinite value(s).")
        if rs.n_missing == n_rows or rs.n == 0:
            raise DataError(f"Response column {response!r} is all missing ({n_rows} rows).")
        _check_finite_moments(f"Response column {response!r}", rs)
        fields["response_min"] = float(rs.min)
        if options.standardize and options.distribution.lower() in _IDENTITY_LINK:
            fields["response_mean"] = float(rs.mean)
            fields["response_sd"] = float(rs.sd) if rs.sd > 0 else 1.0
    if task != "classification":
        return fields, None
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
    fields.update(classes=cls_list, class_counts=counts)
    return fields, class_lookup


def _ignored(stats: dict, candidates: list, n_rows: int) -> dict:
    """Column -> reason, for the constant and the all-missing columns."""
    ignored: dict = {}
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
            elif len(_raw_levels(cs)) <= 1:
                ignored[c] = "constant"
    return ignored


def _encode(stats: dict, kept: list, encoding: str, class_lookup: LevelLookup | None,
            all_levels: bool) -> tuple[dict, list]:
    """The categorical and numeric column fields, and (mean, sd, min, max) per numeric input."""
    one_hot = encoding in _ONE_HOT
    cat_raw_levels: dict = {}
    cat_level_map: dict = {}
    cat_levels: dict = {}
    encoded_levels: dict = {}
    eigen_vectors: dict = {}
    num_sources: list = []
    num_names: list = []
    num_stats: list = []
    for c in kept:
        if c in stats["num"]:
            s = stats["num"][c]
            _check_finite_moments(f"Numeric column {c!r}", s)
            num_sources.append(("numeric", c, 0))
            num_names.append(c)
            num_stats.append((s.mean if s.wsum > 0 else 0.0, s.sd, s.min, s.max))
            continue
        cs = stats["cat"][c]
        raw = _raw_levels(cs)
        d = len(raw)
        cnt = np.array([cs["cnt"].get(v, 0) for v in raw], dtype=np.int64)
        cnt_pos = np.array([cs["cnt_pos"].get(v, 0) for v in raw], dtype=np.float64)
        wsum = np.array([cs["wsum"].get(v, 0.0) for v in raw], dtype=np.float64)
        if one_hot:
            lmap = np.arange(d, dtype=np.int64)
            levels = list(raw)
            if encoding == "SortByResponse" and c in stats.get("level_resp", {}):
                rsum, rw = _level_response(stats["level_resp"][c], raw, class_lookup)
                lmap = sort_by_response_order(rsum, rw)
                levels = [None] * d
                for i, j in enumerate(lmap):
                    levels[j] = raw[i]
            elif encoding == "EnumLimited":
                em = enum_limited_map(cnt)
                if em is not None:
                    lmap = em
                    levels = [raw[i] for i in range(d) if em[i] < em.max()] + [OTHER_LEVEL]
            cat_raw_levels[c] = list(raw)
            cat_level_map[c] = lmap
            cat_levels[c] = levels
            continue
        encoded_levels[c] = list(raw)
        if encoding == "LabelEncoder":
            num_sources.append(("label", c, 0))
            num_names.append(c)
            num_stats.append(_level_moments(np.arange(d, dtype=np.float64), cnt, cnt_pos, wsum, None))
        elif encoding == "Eigen":
            vec = eigen_vector(wsum)
            eigen_vectors[c] = vec
            num_sources.append(("eigen", c, 0))
            num_names.append(f"{c}.Eigen")
            num_stats.append(_level_moments(vec, cnt, cnt_pos, wsum, None))
        else:  # Binary
            bits = binary_bits(d)
            na = (cs["n_missing"], cs["na_cnt_pos"], cs["na_wsum"])
            for b in range(binary_width(d)):
                num_sources.append(("binary", c, b))
                num_names.append(f"{c}:{b}")
                num_stats.append(_level_moments(bits[:, b], cnt, cnt_pos, wsum, na))

    cat_columns = _swap_sort([c for c in kept if c in cat_levels], {c: len(v) for c, v in cat_levels.items()})
    widths = [len(cat_levels[c]) + 1 if all_levels else max(len(cat_levels[c]) - 1, 0) + 1
              for c in cat_columns]
    fields = dict(
        cat_columns=cat_columns,
        cat_levels={c: cat_levels[c] for c in cat_columns},
        cat_raw_levels={c: cat_raw_levels[c] for c in cat_columns},
        cat_level_map={c: cat_level_map[c] for c in cat_columns},
        # NA counts are summed over the partitions by _stats.combine_stats
        cat_na_seen={c: bool(stats["cat"][c]["n_missing"] > 0) for c in cat_columns},
        cat_offsets=np.concatenate([[0], np.cumsum(widths, dtype=np.int64)]).astype(np.int64),
        encoded_levels=encoded_levels,
        eigen_vectors=eigen_vectors,
        num_columns=num_names,
        num_sources=num_sources,
    )
    return fields, num_stats


def _scale(num_stats: list, task: str, options: PreprocessingOptions) -> dict:
    """The numeric scaling fields: ``x' = (x - sub) * mul`` and the imputed value."""
    k = len(num_stats)
    mean = np.array([s[0] for s in num_stats], dtype=np.float64).reshape(k)
    sd = np.array([s[1] for s in num_stats], dtype=np.float64).reshape(k)
    mn = np.array([s[2] for s in num_stats], dtype=np.float64).reshape(k)
    mx = np.array([s[3] for s in num_stats], dtype=np.float64).reshape(k)
    inv_sd = np.where(sd > 0, 1.0 / np.where(sd > 0, sd, 1.0), 1.0)
    if not options.standardize:
        ttype = NONE
        mul, sub = np.ones(k), np.zeros(k)
    elif task == "autoencoder":
        ttype = NORMALIZE
        rng = mx - mn
        ok = np.isfinite(rng) & (rng != 0)
        mul = np.where(ok, 1.0 / np.where(ok, rng, 1.0), 1.0)
        sub = mean.copy()
    elif options.sparse:
        ttype = DESCALE
        mul, sub = inv_sd, np.zeros(k)
    else:
        ttype = STANDARDIZE
        mul, sub = inv_sd, mean.copy()
    return dict(transform_type=ttype, num_mean=mean, num_sd=sd, num_mul=mul.astype(np.float64),
                num_sub=sub.astype(np.float64), num_fill=mean.copy())


def _lay_out(options: PreprocessingOptions, all_levels: bool, columns: dict) -> dict:
    """The hashing table, the input names and the input count, from the column fields."""
    cat_width = int(columns["cat_offsets"][-1])
    n_slots = options.max_categorical_features
    hashing = bool(cat_width > 0 and n_slots < cat_width)
    names: list[str] = []
    if hashing:
        slots = _hash_slots(cat_width, n_slots, options.seed)
        names.extend(f"hash.{i}" for i in range(n_slots))
        n_cat_inputs = n_slots
    else:
        slots = np.zeros(0, dtype=np.int64)
        for c in columns["cat_columns"]:
            levels = columns["cat_levels"][c]
            shown = levels if all_levels else levels[1:]
            names.extend(f"{c}.{lev}" for lev in shown)
            names.append(f"{c}.{_NA_NAME}")
        n_cat_inputs = cat_width
    names.extend(str(c) for c in columns["num_columns"])
    return dict(hashing=hashing, hash_slots=slots, input_names=names,
                n_inputs=int(n_cat_inputs + len(columns["num_columns"])))


# ---------------------------------------------------------------------------- helpers


def _swap_sort(cols: list, sizes: dict) -> list:
    """H2O's (unstable) pairwise swap sort by decreasing number of levels."""
    cols = list(cols)
    for i in range(len(cols)):
        for j in range(i + 1, len(cols)):
            if sizes[cols[i]] < sizes[cols[j]]:
                cols[i], cols[j] = cols[j], cols[i]
    return cols


def _raw_levels(cs: dict) -> list:
    cats = cs["categories"]
    if isinstance(cats, list):
        return list(cats)
    return sort_levels(cs["values"], natural=cats == "mixed")


def _level_response(lr: dict, raw: list, class_lookup: LevelLookup | None) -> tuple[np.ndarray, np.ndarray]:
    """Per raw level: the weighted response sum (class index for classification) and weight."""
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
