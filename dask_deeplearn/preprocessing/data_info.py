"""``DataInfo``: the fitted column plan that turns a frame into float32 network inputs.

This is H2O-3's ``hex.DataInfo`` as Deep Learning uses it (``DeepLearning.makeDataInfo``
builds it, ``Neurons.Input.setInput`` reads a row through it):

* column filtering (constant / all-missing columns, categoricals with <= 1 level);
* layout: categoricals first, ordered by decreasing level count with H2O's pairwise swap
  sort, then numerics in frame order; one-hot block per categorical with a missing-value
  (NA) slot at its end (``cat_offsets[i + 1] - 1``);
* numeric transforms STANDARDIZE / DESCALE / NORMALIZE / none, with weighted moments when
  a weights column is given without an offset column;
* response standardisation for identity-link regression, offsets in network space;
* categorical encodings (OneHotInternal, SortByResponse, EnumLimited, Binary, Eigen,
  LabelEncoder) and the ``max_categorical_features`` hashing trick.

This module holds the value (its fields, its description format); :mod:`.fit` fits it in
one pass over the data (for a Dask frame one ``dask.compute`` of per-partition partials,
merged by the same code that handles a pandas frame, :mod:`._stats`) and
:mod:`.transform` applies it to a pandas frame.

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

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from . import transform as _transform
from .options import PreprocessingOptions
from .transform import Block

__all__ = ["DataInfo", "Block"]

_FORMAT = "dask_deeplearn.DataInfo"
_VERSION = 1

STANDARDIZE, DESCALE, NORMALIZE, NONE = "STANDARDIZE", "DESCALE", "NORMALIZE", "NONE"


# ---------------------------------------------------------------------------- description format
# Each field says how :meth:`DataInfo.from_dict` reads its JSON value back (``decode``) and
# how the value is laid out: "value" (as is), "by_cat_column" (a dict keyed by
# ``cat_columns``, stored as a list aligned with them, so non-string column names survive)
# or "pairs" (a dict stored as ``[[key, value], ...]``). ``group`` nests the field in a
# sub-dict of the description; ``absent`` gives the stored value for descriptions written
# before the field existed.


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _key(c: Any) -> Any:
    """A column name read back from JSON (a tuple name was written as a list)."""
    return tuple(c) if isinstance(c, list) else c


def _keys(cols: list) -> list:
    return [_key(c) for c in cols]


def _optional(decode: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: None if v is None else decode(v)


def _ints(v: Any) -> np.ndarray:
    return np.asarray(v, dtype=np.int64)


def _floats(v: Any) -> np.ndarray:
    return np.asarray(v, dtype=np.float64).reshape(-1)


def _same(v: Any) -> Any:
    return v


def _num_sources(v: list) -> list:
    return [(k, _key(s), int(a)) for k, s, a in v]


def _stored(decode: Callable[[Any], Any] = _same, *, layout: str = "value", group: str | None = None,
            absent: Callable[[dict], Any] | None = None) -> Any:
    return field(metadata={"decode": decode, "layout": layout, "group": group, "absent": absent})


def _option(decode: Callable[[Any], Any] = _same) -> Any:
    return _stored(decode, group="params")


@dataclass(frozen=True, eq=False, repr=False)
class DataInfo:
    """Fitted preprocessing plan (H2O ``DataInfo``): column layout, scaling, encodings.

    Build it with :meth:`fit`. It is frozen (attributes cannot be set and its arrays are
    read-only), picklable, and round-trips through :meth:`to_dict` / :meth:`from_dict`
    (JSON). It holds only lists, dicts, numpy arrays and Python scalars. A copy with other
    values is ``dataclasses.replace(info, missing_values_handling="Skip")``.

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
    n_rows : int
        Rows in the fitted frame.
    standardize, sparse, ignore_const_cols, missing_values_handling, \
use_all_factor_levels, categorical_encoding, max_categorical_features, distribution, seed
        The :class:`~dask_deeplearn.preprocessing.PreprocessingOptions` of the fit
        (``use_all_factor_levels`` is True for an autoencoder, as in H2O).
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
    """

    # the declaration order is the order of the keys in :meth:`to_dict`
    task: str = _stored()
    response: Any = _stored(_key)
    classes: list | None = _stored(_optional(list))
    class_counts: np.ndarray | None = _stored(_optional(_ints))
    weights_column: Any = _stored(_key)
    offset_column: Any = _stored(_key)
    n_rows: int = _stored(int)
    standardize: bool = _option(bool)
    sparse: bool = _option(bool)
    ignore_const_cols: bool = _option(bool)
    missing_values_handling: str = _option()
    use_all_factor_levels: bool = _option(bool)
    categorical_encoding: str = _option()
    max_categorical_features: int = _option(int)
    distribution: str = _option()
    seed: int = _option(int)
    feature_names: list = _stored(_keys)
    used_columns: list = _stored(_keys)
    ignored: dict = _stored(layout="pairs")
    cat_columns: list = _stored(_keys)
    cat_levels: dict = _stored(list, layout="by_cat_column")
    cat_raw_levels: dict = _stored(list, layout="by_cat_column")
    cat_level_map: dict = _stored(_ints, layout="by_cat_column")
    cat_offsets: np.ndarray = _stored(_ints)
    # older descriptions have no record: treat every NA slot as seen (keeps old values)
    cat_na_seen: dict = _stored(bool, layout="by_cat_column",
                                absent=lambda d: [True] * len(d["cat_columns"]))
    num_columns: list = _stored(_keys)
    num_sources: list = _stored(_num_sources)
    encoded_levels: dict = _stored(list, layout="pairs")
    eigen_vectors: dict = _stored(_floats, layout="pairs")
    num_mean: np.ndarray = _stored(_floats)
    num_sd: np.ndarray = _stored(_floats)
    num_mul: np.ndarray = _stored(_floats)
    num_sub: np.ndarray = _stored(_floats)
    num_fill: np.ndarray = _stored(_floats)
    transform_type: str = _stored()
    response_mean: float | None = _stored(_optional(float))
    response_sd: float | None = _stored(_optional(float))
    response_min: float | None = _stored(_optional(float), absent=lambda d: None)
    hashing: bool = _stored(bool)
    hash_slots: np.ndarray = _stored(_ints)
    input_names: list = _stored(list)
    n_inputs: int = _stored(int)

    def __post_init__(self) -> None:
        for value in self.__dict__.values():
            arrays = value.values() if isinstance(value, dict) else (value,)
            for a in arrays:
                if isinstance(a, np.ndarray):
                    a.flags.writeable = False

    def __reduce__(self) -> tuple:
        # rebuild through __init__, so the arrays are read-only again after unpickling
        return (type(self), tuple(getattr(self, f.name) for f in fields(self)))

    # ------------------------------------------------------------------ fitting

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
        options: PreprocessingOptions | None = None,
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
        standardize, sparse, ignore_const_cols, missing_values_handling, \
use_all_factor_levels, categorical_encoding, max_categorical_features, distribution, seed
            The preprocessing options, as in :class:`PreprocessingOptions` (which gives
            their defaults); checked by the parameter table
            (:data:`dask_deeplearn.params.PARAMETERS`).
        scheduler : optional
            Where the Dask pass runs (e.g. a ``distributed.Client``); default: Dask's
            current scheduler. Ignored for pandas.
        options : PreprocessingOptions, optional
            The nine preprocessing options as one value (e.g.
            ``PreprocessingOptions.from_params(params, seed=seed)``), instead of the
            keywords, which must then be left at their defaults.

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
            Option values the parameter table refuses, an unknown ``task``, or clashing
            column roles.
        TypeError
            ``options`` together with a preprocessing keyword that is not its default.
        """
        from .fit import fit_data_info

        given = dict(standardize=standardize, sparse=sparse, ignore_const_cols=ignore_const_cols,
                     missing_values_handling=missing_values_handling,
                     use_all_factor_levels=use_all_factor_levels,
                     categorical_encoding=categorical_encoding,
                     max_categorical_features=max_categorical_features,
                     distribution=distribution, seed=seed)
        if options is None:
            options = PreprocessingOptions.from_params(given)
        else:
            defaults = dataclasses.asdict(PreprocessingOptions())
            changed = sorted(k for k, v in given.items() if v != defaults[k])
            if changed:
                raise TypeError(f"DataInfo.fit takes either options= or the preprocessing keywords; "
                                f"got both (options and {changed}).")
        return fit_data_info(frame, response=response, features=features,
                             ignored_columns=ignored_columns, weights_column=weights_column,
                             offset_column=offset_column, task=task, classes=classes,
                             options=options, scheduler=scheduler)

    @property
    def options(self) -> PreprocessingOptions:
        """The preprocessing options this plan applies."""
        return PreprocessingOptions(**{f.name: getattr(self, f.name) for f in fields(PreprocessingOptions)})

    # ------------------------------------------------------------------ applying

    @property
    def num_start(self) -> int:
        """Index of the first numeric input (after the one-hot or hashed categoricals)."""
        return self.max_categorical_features if self.hashing else int(self.cat_offsets[-1])


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
        return _transform.transform(self, frame, training=training)

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
        return _transform.transform_X(self, frame)

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
        return _transform.scoring_inputs(self, frame)

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
        return _transform.inverse_response(self, out)

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
        out: dict[str, Any] = {"format": _FORMAT, "version": _VERSION}
        for f in fields(self):
            value = getattr(self, f.name)
            layout = f.metadata["layout"]
            if layout == "by_cat_column":
                value = [value[c] for c in self.cat_columns]
            elif layout == "pairs":
                value = [[c, v] for c, v in value.items()]
            group = f.metadata["group"]
            (out if group is None else out.setdefault(group, {}))[f.name] = _jsonable(value)
        return out

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
        cats = _keys(d["cat_columns"])
        values = {}
        for f in fields(cls):
            group, absent = f.metadata["group"], f.metadata["absent"]
            where = d if group is None else d[group]
            stored = where[f.name] if absent is None or f.name in where else absent(d)
            decode, layout = f.metadata["decode"], f.metadata["layout"]
            if layout == "by_cat_column":
                values[f.name] = {c: decode(v) for c, v in zip(cats, stored)}
            elif layout == "pairs":
                values[f.name] = {_key(c): decode(v) for c, v in stored}
            else:
                values[f.name] = decode(stored)
        return cls(**values)

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


def _refuse_change(self: DataInfo, name: str, *value: Any) -> None:
    raise dataclasses.FrozenInstanceError(
        f"DataInfo is frozen after fit; cannot {'set' if value else 'delete'} {name!r}.")


# the dataclass refuses to set or delete attributes; say why in its error message
DataInfo.__setattr__ = _refuse_change  # type: ignore[method-assign,assignment]
DataInfo.__delattr__ = _refuse_change  # type: ignore[method-assign,assignment]


def _typed(value: Any) -> Any:
    """Tag scalars with their type so 1, 1.0, True and "1" compare different."""
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    if isinstance(value, (bool, int, float, str)) or value is None:
        return (type(value).__name__, value)
    return value
