"""Turning user input into frames: the checks and coercions of ``fit`` and ``predict``.

Arrays, pandas and Dask collections become a frame with the response and weights as
named columns; every error names the argument (``X``, ``y``, ``sample_weight``), the
value and what is allowed. Also where a fit trains (in process or on Dask).
"""

from __future__ import annotations

import contextlib
import numbers
import os
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import DataConversionWarning

from ..exceptions import DataError, InvalidParameterError
from ..preprocessing import DataInfo

__all__ = ["as_frame", "continued_weights", "response_vector", "validation_frame",
           "xy_features"]

#: the internal column names of ``y`` and ``sample_weight`` in a ``fit(X, y)`` frame
_RESPONSE = "__response__"
_WEIGHT = "__weight__"


class _ValueTypeError(DataError, TypeError):
    """A column holds values of a type that is neither a number nor a string.

    Also a TypeError, as numpy's own conversion error (scikit-learn's estimator checks
    and callers catching TypeError see it as such).
    """


def _dask_worker() -> Any | None:
    """The ``distributed.Worker`` running the current task, or None outside a task."""
    try:
        from distributed import get_worker
    except ImportError:  # pragma: no cover - distributed is a dependency
        return None
    try:
        return get_worker()
    except ValueError:
        return None


def _worker_threads(worker: Any) -> int:
    """Threads of a Dask worker (what Hogwild may use in a task running on it)."""
    state = getattr(worker, "state", None)
    n = getattr(state, "nthreads", None) or getattr(worker, "nthreads", None)
    return max(1, int(n or 1))


def _is_dask(obj: Any) -> bool:
    return type(obj).__module__.startswith("dask")


def _memory_bytes() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return 16 * 2**30


def _check_dense_size(info: DataInfo, n_rows: int) -> None:
    """Refuse a float32 input block larger than half the machine's memory (clear error).

    A categorical column with very many levels (an id column) expands into as many
    one-hot inputs; numpy would fail with a bare MemoryError deep in the transform.
    """
    need = int(n_rows) * int(info.n_inputs) * 4
    if need <= _memory_bytes() // 2:
        return
    widest = max(info.cat_columns, key=lambda c: len(info.cat_levels[c]), default=None)
    what = (f"categorical column {widest!r} has {len(info.cat_levels[widest]):,} levels and "
            if widest is not None else "")
    raise DataError(
        f"The network input would be {n_rows:,} rows x {info.n_inputs:,} inputs "
        f"({need / 2**30:,.1f} GiB as float32), more than half this machine's memory: {what}"
        "one-hot encoding expands it into that many inputs. Drop an id-like column with "
        "ignored_columns, cap the width with max_categorical_features (hashing), or use "
        "categorical_encoding='Binary' or 'LabelEncoder'."
    )


@contextlib.contextmanager
def _user_names() -> Any:
    """Say ``y`` and ``sample_weight`` in errors, not the internal column names."""
    try:
        yield
    except (DataError, InvalidParameterError) as exc:
        msg = str(exc)
        new = (msg.replace(repr(_RESPONSE), "y").replace(_RESPONSE, "y")
                  .replace(repr(_WEIGHT), "sample_weight").replace(_WEIGHT, "sample_weight"))
        if new == msg:
            raise
        raise type(exc)(new) from exc


def _check_2d(shape: tuple[int, ...], n_features: int | None, owner: str = "the model") -> None:
    """X must be 2-D with the fitted number of columns (scikit-learn's wording)."""
    if len(shape) == 1:
        raise DataError(
            f"Expected a 2-D array for X, got a 1-D array of shape {shape}. Reshape your "
            "data either using X.reshape(-1, 1) if it has a single feature or "
            "X.reshape(1, -1) if it contains a single sample."
        )
    if len(shape) != 2:
        raise DataError(f"Expected a 2-D array for X, got an array of shape {shape}.")
    _check_n_features(shape[1], n_features, owner)


def _check_n_features(got: int, n_features: int | None, owner: str) -> None:
    if n_features is not None and got != n_features:
        raise DataError(
            f"X has {got} features, but {owner} is expecting {n_features} features as "
            f"input: it was fitted with {n_features} features (columns)."
        )


def _check_not_complex(values: Any, what: str) -> None:
    """Complex numbers are not data: clear error instead of a cast warning."""
    dtype = getattr(values, "dtype", None)
    if dtype is not None and np.dtype(dtype).kind == "c":
        raise DataError(
            f"Complex data not supported: {what} has dtype {np.dtype(dtype)}. Pass real "
            "numbers (e.g. np.real(values) or np.abs(values))."
        )


_PLAIN_TYPES = (str, bytes, numbers.Number, np.generic)
_OBJECT_KINDS_OK = {"string", "bytes", "integer", "floating", "decimal", "boolean",
                    "mixed-integer-float", "categorical", "empty"}


def _check_values(frame: pd.DataFrame) -> None:
    """Object columns may hold numbers, strings, bools and missing values, nothing else.

    A dict or list in a cell would otherwise fail deep inside the categorical encoding
    with "unhashable type". Raises a DataError that is also a TypeError.
    """
    for j, col in enumerate(frame.columns):
        series = frame.iloc[:, j]
        if series.dtype != object:
            if pd.api.types.is_complex_dtype(series.dtype):
                raise DataError(
                    f"Complex data not supported: column {col!r} of X has dtype "
                    f"{series.dtype}. Pass real numbers (e.g. np.real or np.abs)."
                )
            continue
        if pd.api.types.infer_dtype(series, skipna=True) in _OBJECT_KINDS_OK:
            continue
        for row, value in enumerate(series.to_numpy()):
            if value is None or value is pd.NA or isinstance(value, _PLAIN_TYPES):
                continue
            raise _ValueTypeError(
                f"Column {col!r} of X holds a value of type {type(value).__name__} at row "
                f"{row} ({value!r:.60}); every argument must be a string or a number "
                "(None or NaN for a missing value)."
            )


def _check_class_labels(y: np.ndarray, owner: str) -> None:
    """A classifier refuses a continuous target, as scikit-learn's classifiers do."""
    from sklearn.utils.multiclass import type_of_target

    present = pd.Series(y).dropna().to_numpy()
    if present.dtype.kind != "f" or not len(present) or not np.isfinite(present).all():
        return  # (infinite labels are left to the data checks)
    kind = type_of_target(present)
    if kind.startswith("continuous"):
        example = float(next(v for v in present if float(v) != int(v)))
        raise DataError(
            f"Unknown label type: {kind}. {owner} needs class labels, but y holds "
            f"non-integer floats (e.g. {example!r}); use DeepLearningRegressor for a "
            "continuous response, or cast the labels to int/str."
        )


def _renamed(frame: Any, names: list[Any]) -> Any:
    """``frame`` with its columns renamed by position (pandas or Dask)."""
    if _is_dask(frame):
        return frame.rename(columns=dict(zip(frame.columns, names)))
    return frame.set_axis(names, axis=1)


def _default_client_exists() -> bool:
    """Whether a default ``distributed.Client`` should receive in-memory fits.

    Never inside a Dask worker task: a fit there (a dask-ml or joblib search task, a
    ``ParallelPostFit`` block) trains in the worker process, since borrowing the cluster
    from a task would block the worker thread the training tasks may need.
    """
    if _dask_worker() is not None:
        return False
    try:
        from ..distributed import current_client
    except ImportError:  # pragma: no cover - distributed is a dependency
        return False
    return current_client() is not None


def _use_dask(params: dict[str, Any], *, is_dask: bool, client: Any) -> bool:
    """Whether a fit trains on a Dask cluster (see ``DeepLearningClassifier.fit``)."""
    if params["backend"] == "local" and is_dask:
        raise DataError(
            "backend='local' trains in this process, but the data is a Dask collection; "
            "use backend='auto' or 'dask', or pass pandas/numpy data (.compute())."
        )
    use = params["backend"] == "dask" or is_dask or client is not None or (
        params["backend"] == "auto" and (params["scheduler_address"] is not None
                                         or _default_client_exists()))
    worker = _dask_worker()
    if use and worker is not None and client is None and params["scheduler_address"] is None:
        why = "X is a Dask collection" if is_dask else "backend='dask'"
        exc = DataError if is_dask else InvalidParameterError
        raise exc(
            f"This fit runs inside a Dask worker task (worker {worker.address}) and would "
            f"train on a Dask cluster ({why}), but dask_deeplearn never starts or borrows "
            "a cluster from inside a task (it would block this worker). Pass numpy/pandas "
            "data with backend='auto' or 'local' (trained in this worker process), or "
            "give client= / scheduler_address= explicitly."
        )
    return use


def _attach_dask(frame: Any, columns: dict[str, Any]) -> Any:
    """Zip Dask companions (y, sample_weight) onto the partitions of a Dask frame ``frame``."""
    import dask.array as da
    import dask.dataframe as dd

    from ..distributed.tasks import ddl_attach

    names, cols = [], []
    for name, col in columns.items():
        what = "y" if name == _RESPONSE else "sample_weight"
        if isinstance(col, da.Array):
            col = dd.from_dask_array(col.reshape(-1) if col.ndim == 2 else col)
        if not isinstance(col, (dd.Series, dd.DataFrame)):
            raise DataError(
                f"X is a Dask collection, so {what} must be one too (a Dask Series or Array "
                f"with the same partitions); got {type(col).__name__}."
            )
        if isinstance(col, dd.DataFrame):
            if len(col.columns) != 1:
                raise DataError(f"{what} must have one column, got {len(col.columns)}.")
            col = col[col.columns[0]]
        if col.npartitions != frame.npartitions:
            raise DataError(
                f"X has {frame.npartitions} partitions but {what} has {col.npartitions}; "
                "repartition/rechunk them so their partitions line up row for row."
            )
        names.append(name)
        cols.append(col)
    meta = frame._meta.assign(**{
        n: pd.Series(dtype=c._meta.dtype if n == _RESPONSE else "float64") for n, c in zip(names, cols)
    })
    # (a function of the light worker-side module: unpickling the task on a worker does not
    # import the estimators, and scikit-learn with them)
    shown = ["y" if n == _RESPONSE else "sample_weight" for n in names]
    return frame.map_partitions(ddl_attach, *cols, names=names, shown=shown, meta=meta,
                                align_dataframes=False)


#: what ``X`` (a frame argument) may be, for the error refusing anything else
_ACCEPTED = ("a numpy array or array-like, a SciPy sparse matrix, a pandas DataFrame or "
             "Series, a Dask DataFrame, Series or Array, or a polars DataFrame, LazyFrame "
             "or Series")


def _unsupported(X: Any) -> DataError:
    return _ValueTypeError(f"X is a {type(X).__module__}.{type(X).__qualname__}, which is "
                           f"not a data set; X must be {_ACCEPTED}.")


def _from_polars(X: Any) -> Any:
    """A polars DataFrame / Series as pandas (a LazyFrame collected first); else ``X``.

    polars converts through Arrow (pyarrow is a dependency): numbers keep their dtypes,
    strings stay strings, ``Enum`` columns become pandas categoricals in the Enum's level
    order and ``Categorical`` ones (whose levels have no declared order) categoricals with
    sorted levels, as ``astype("category")`` of the strings would give.
    """
    module = type(X).__module__
    if not (module == "polars" or module.startswith("polars.")):
        return X
    kind = type(X).__name__
    if kind == "LazyFrame":
        X = X.collect()
        kind = type(X).__name__
    if kind not in ("DataFrame", "Series"):
        raise _unsupported(X)
    unordered = [name for name, dtype in (X.schema.items() if kind == "DataFrame"
                                          else [(X.name, X.dtype)])
                 if type(dtype).__name__ == "Categorical"]
    out = X.to_pandas()
    for name in unordered:
        col = out[name] if kind == "DataFrame" else out
        col = col.cat.reorder_categories(sorted(col.cat.categories))
        if kind == "DataFrame":
            out[name] = col
        else:
            out = col
    return out


def as_frame(X: Any, *, n_features: int | None = None,
              owner: str = "the model") -> tuple[pd.DataFrame, bool]:
    """pandas (or Dask) frame of ``X`` and whether ``X`` had its own column names.

    Arrays become columns ``C1..Cn``; an object array is made numeric where its
    columns hold only numbers (strings stay categorical); a SciPy sparse matrix is
    densified (after a memory check). Raises DataError (a ValueError) for 1-D or 3-D
    arrays, a wrong number of columns (``n_features``), complex values, and a
    TypeError-compatible DataError for cells that are neither numbers nor strings.
    A polars DataFrame or Series is converted with ``to_pandas()`` (a LazyFrame is
    collected first); an object that is none of these and no array-like is refused
    naming its type and what is accepted.
    """
    X = _from_polars(X)
    if _is_dask(X):
        import dask.array as da
        import dask.dataframe as dd

        if isinstance(X, dd.DataFrame):
            return X, True
        if isinstance(X, dd.Series):
            return X.to_frame(), True
        if isinstance(X, da.Array):
            _check_2d(X.shape, n_features, owner)
            _check_not_complex(X, "X")
            if len(X.chunks[1]) != 1:
                raise DataError("A Dask array X must not be chunked along columns; "
                                "rechunk with X.rechunk({1: -1}).")
            return dd.from_dask_array(X, columns=[f"C{i + 1}" for i in range(X.shape[1])]), False
        raise DataError(f"Unsupported Dask collection for X: {type(X).__name__}.")
    if isinstance(X, (pd.DataFrame, pd.Series)):
        frame = X.to_frame() if isinstance(X, pd.Series) else X
        _check_values(frame)
        return frame, True
    import scipy.sparse as sp

    if sp.issparse(X):
        _check_2d(X.shape, n_features, owner)
        need = int(X.shape[0]) * int(X.shape[1]) * 8
        if need > _memory_bytes() // 2:
            raise DataError(
                f"X is a sparse {type(X).__name__} of shape {X.shape}; the network "
                f"reads dense rows and densifying it needs {need / 2**30:,.1f} GiB, more "
                "than half this machine's memory. Reduce the columns (e.g. "
                "OneHotEncoder(max_categories=...)) or pass a Dask DataFrame."
            )
        arr = X.toarray()
    else:
        if isinstance(X, (dict, str, bytes)):
            raise _unsupported(X)
        arr = np.asarray(X)
        if arr.ndim == 0 and arr.dtype == object:
            raise _unsupported(X)
    _check_2d(arr.shape, n_features, owner)
    _check_not_complex(arr, "X")
    frame = pd.DataFrame(arr, columns=[f"C{i + 1}" for i in range(arr.shape[1])])
    if arr.dtype == object:
        frame = frame.infer_objects()  # numbers stored as objects are numbers
        _check_values(frame)
    return frame, False


def response_vector(y: Any, n_rows: int, *, task: str | None = None,
                     owner: str = "the model") -> np.ndarray:
    """``y`` as a 1-D array with one value per row of X (clear error otherwise).

    A column vector is accepted with scikit-learn's DataConversionWarning. For a
    classifier a continuous ``y`` is refused ("Unknown label type"); for a regressor
    an object ``y`` holding numbers becomes float64. A polars Series is read as pandas.
    """
    yv = np.asarray(_from_polars(y))
    if yv.ndim == 2 and yv.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change "
            "the shape of y to (n_samples,), for example using ravel().",
            DataConversionWarning, stacklevel=4)
        yv = yv.reshape(-1)
    if yv.ndim != 1 or yv.shape[0] != n_rows:
        raise DataError(
            f"y must be a 1-D vector with one value per row of X ({n_rows} rows); "
            f"got shape {np.shape(y)}."
        )
    _check_not_complex(yv, "y")
    if task == "classification":
        _check_class_labels(yv, owner)
    elif task == "regression" and yv.dtype == object:
        try:
            yv = yv.astype(np.float64)
        except (TypeError, ValueError):
            example = next((v for v in yv if not isinstance(v, numbers.Number)
                            and v is not None), None)
            raise DataError(
                f"{owner} needs a numeric y; y has dtype object with non-numeric values "
                f"such as {example!r}. Convert y to numbers, or use "
                "DeepLearningClassifier for class labels."
            ) from None
    return yv


def validation_frame(validation_data: Any, named: bool, raw_names: list[Any],
                 task: str | None = None) -> Any | None:
    """``(X_valid, y_valid)`` as one frame with the response column (or None).

    An autoencoder takes ``X_valid`` alone (or ``(X_valid, None)``).
    """
    if validation_data is None:
        return None
    if task == "autoencoder":
        Xv = validation_data
        if isinstance(validation_data, tuple) and len(validation_data) == 2 \
                and validation_data[1] is None:
            Xv = validation_data[0]
        vframe, _ = as_frame(Xv, n_features=None if named else len(raw_names))
        if not named:
            vframe.columns = raw_names
        return vframe
    try:
        Xv, yv = validation_data
    except (TypeError, ValueError):
        raise DataError(
            "validation_data must be a tuple (X_valid, y_valid); got "
            f"{type(validation_data).__name__}."
        ) from None
    vframe, _ = as_frame(Xv, n_features=None if named else len(raw_names))
    if not named:
        vframe.columns = raw_names
    if _is_dask(vframe):
        return _attach_dask(vframe, {_RESPONSE: yv})
    return vframe.assign(**{_RESPONSE: np.asarray(yv).reshape(-1)})


def xy_features(raw_names: list[Any], sample_weight: Any, *, weights_column: str | None,
            offset_column: str | None, owner: str) -> list[Any]:
    """The predictor columns of ``X`` in a ``fit(X, y)``: all but the role columns.

    A ``weights_column`` / ``offset_column`` named in the parameters is a column of
    ``X`` (for an array ``X``: ``C1..Cn`` by position): it is read as the weights /
    offsets, at fit time and (offsets) at predict time, and is not a feature.
    ``n_features_in_`` and ``feature_names_in_`` still count it: ``predict`` takes
    the same ``X``.

    Raises
    ------
    DataError
        ``sample_weight`` is given as well as a ``weights_column``, or a named role
        column is not a column of ``X``.
    """
    if sample_weight is not None and weights_column is not None:
        raise DataError(
            f"sample_weight= and weights_column={weights_column!r} both give "
            f"observation weights to {owner}.fit; pass only one: drop "
            "sample_weight, or set weights_column=None.")
    roles = []
    for name, col in (("weights_column", weights_column), ("offset_column", offset_column)):
        if col is None:
            continue
        if col not in raw_names:
            shown = ", ".join(repr(c) for c in raw_names[:10])
            raise DataError(
                f"{name}={col!r} is not a column of X (columns: {shown}"
                f"{', ...' if len(raw_names) > 10 else ''}; an array X has the columns "
                f"C1..Cn); add the column to X or set {name}=None"
                f"{' (or pass sample_weight=)' if name == 'weights_column' else ''}.")
        roles.append(col)
    return [c for c in raw_names if c not in roles]

def continued_weights(sample_weight: Any, n_rows: int, data_info: Any) -> Any:
    """``sample_weight`` of a continued fit, consistent with the first fit's.

    The preprocessing plan fixed at the first fit either has a weights column or
    not: a later block without weights gets weight 1 per row, and weights given
    when the first fit had none are refused rather than silently ignored.
    """
    had = getattr(data_info, "weights_column", None) == _WEIGHT
    if had and sample_weight is None:
        return np.ones(n_rows)
    if not had and sample_weight is not None:
        raise DataError(
            "sample_weight was given, but the model was first fitted without it, so "
            "its preprocessing plan has no weights; pass sample_weight (e.g. all ones) "
            "on the first fit / partial_fit call to use weights in later calls."
        )
    return sample_weight
