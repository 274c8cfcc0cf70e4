"""Shared machinery of the scikit-learn estimators.

Every H2O Deep Learning parameter is a keyword argument of ``__init__``; the signature and
the numpydoc "Parameters" section are generated from :data:`dask_deeplearn.params.PARAMETERS`
so there is one table, not three copies.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import inspect
import math
import numbers
import os
import re
import tempfile
import threading
import warnings
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import DataConversionWarning
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

from ..exceptions import DataError, InvalidParameterError, NotFittedError
from ..memory import check_network_memory
from ..network import NetworkSpec, ModelState, init_state
from ..params import (
    CHECKPOINT_MODIFIABLE,
    PARAMETERS,
    check_stopping_metric,
    params_docstring,
    resolve_effective,
    validate_params,
)
from ..preprocessing import DataInfo
from ..training.balance import (
    MODEL_KEY,
    PRIOR_KEY,
    balance_block,
    block_class_counts,
    sampling_ratios,
)
from ..training.local import LocalBackend, available_cores
from ..training.loop import TrainResult, run_training
from ..training.progress import ProgressReporter
from ..weights import apply_initial_weights, transfer_pretrained, weights_frames
from ._inspect import InspectionMixin

__all__ = ["DeepLearningBase", "FitHandle", "with_h2o_parameters"]

_RESPONSE = "__response__"
#: the cross-validation parameters (their defaults mean "no cross-validation")
_CV_PARAMS = ("nfolds", "fold_column", "fold_assignment")
_WEIGHT = "__weight__"


class _EstimatorNotFittedError(NotFittedError, _SklearnNotFittedError):
    """:class:`~dask_deeplearn.exceptions.NotFittedError` that is also scikit-learn's.

    ``sklearn.utils.validation.check_is_fitted`` callers and scikit-learn's estimator
    checks catch ``sklearn.exceptions.NotFittedError``; both are ValueError and
    AttributeError subclasses, as ours.
    """


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


def _balance_ratios(info: DataInfo, eff: dict[str, Any]) -> np.ndarray | None:
    """Class sampling ratios of ``balance_classes`` (None when off); records the priors."""
    if not eff["balance_classes"] or info.task != "classification":
        return None
    counts = np.asarray(info.class_counts, dtype=np.float64)
    eff[PRIOR_KEY] = (counts / counts.sum()).tolist()
    return sampling_ratios(counts, factors=eff["class_sampling_factors"],
                           max_after_balance_size=float(eff["max_after_balance_size"]))


def _balance_local(train: Any, ratios: np.ndarray, eff: dict[str, Any], seed: int,
                   n_classes: int) -> Any:
    """The balanced in-memory training block (redrawn if a class came out empty, as H2O)."""
    for attempt in range(10):
        out = balance_block(train, ratios, seed + 0x580FF13 + attempt)
        counts = block_class_counts(out, n_classes)
        if not np.any((counts == 0) & (ratios > 0)):
            break
    eff[MODEL_KEY] = (counts / counts.sum()).tolist()
    return out


def with_h2o_parameters(cls: type) -> type:
    """Give ``cls`` an ``__init__`` taking every parameter of the table as a keyword.

    scikit-learn reads parameter names from ``inspect.signature(cls.__init__)``, which
    honours ``__signature__``; ``__init__`` only stores the values (validation happens in
    ``fit``, so ``clone`` and ``set_params`` work on any value).
    """
    sig_params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    sig_params += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=p.default)
        for name, p in PARAMETERS.items()
    ]

    def __init__(self: Any, **kwargs: Any) -> None:
        unknown = sorted(set(kwargs) - set(PARAMETERS))
        if unknown:
            import difflib

            hints = []
            for name in unknown:
                close = difflib.get_close_matches(name, list(PARAMETERS), n=1)
                hints.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected keyword argument(s) "
                f"{', '.join(hints)}; see help({type(self).__name__}) for the parameters."
            )
        for name, p in PARAMETERS.items():
            setattr(self, name, kwargs.get(name, p.default))

    __init__.__signature__ = inspect.Signature(sig_params)  # type: ignore[attr-defined]
    __init__.__doc__ = f"Initialise a {cls.__name__}; see the class docstring."
    cls.__init__ = __init__  # type: ignore[misc]
    if cls.__doc__ and "{parameters}" in cls.__doc__:
        cls.__doc__ = cls.__doc__.replace("{parameters}", params_docstring(header=False))
    return cls


def _is_dask(obj: Any) -> bool:
    return type(obj).__module__.startswith("dask")


def _normalised(v: Any) -> Any:
    """Parameter value for comparisons (tuples/arrays as lists, numbers as float)."""
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_normalised(x) for x in v]
    if isinstance(v, (bool, np.bool_)) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    return v


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


def _assign_columns(part: pd.DataFrame, *cols: Any, names: Sequence[str]) -> pd.DataFrame:
    """Add row-aligned companion partitions (response, weights) to a feature partition."""
    extra = {}
    for name, col in zip(names, cols):
        values = np.asarray(col).reshape(-1)
        if values.shape[0] != len(part):
            raise DataError(
                f"A partition of X has {len(part)} rows but the matching partition of "
                f"{'y' if name == _RESPONSE else 'sample_weight'} has {values.shape[0]}; "
                "X and y must have aligned partitions (repartition/rechunk them alike)."
            )
        extra[name] = values
    return part.assign(**extra)


def _attach_dask(frame: Any, columns: dict[str, Any]) -> Any:
    """Zip Dask companions (y, sample_weight) onto the partitions of a Dask frame ``frame``."""
    import dask.array as da
    import dask.dataframe as dd

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
    return frame.map_partitions(_assign_columns, *cols, names=names, meta=meta,
                                align_dataframes=False)


class FitHandle:
    """A fit running in a background thread (``fit(..., block=False)``).

    The estimator's ``scoring_history_`` is updated at every scoring event while the fit
    runs, so a notebook can plot it live.
    """

    def __init__(self, estimator: Any, run: Callable[[], Any]) -> None:
        self.estimator = estimator
        self._future: concurrent.futures.Future = concurrent.futures.Future()

        def target() -> None:
            try:
                self._future.set_result(run())
            except BaseException as exc:  # noqa: BLE001 - handed to result()
                self._future.set_exception(exc)

        self._thread = threading.Thread(target=target, name="dask_deeplearn-fit", daemon=True)
        self._thread.start()

    def done(self) -> bool:
        """Whether the fit has finished (successfully or not)."""
        return self._future.done()

    def result(self, timeout: float | None = None) -> Any:
        """Wait for the fit and return the fitted estimator (re-raises its error)."""
        return self._future.result(timeout)

    def cancel(self) -> None:
        """Stop at the next iteration boundary, keeping the last finished model (H2O's cancel)."""
        self.estimator._stop_event.set()

    @property
    def scoring_history(self) -> pd.DataFrame | None:
        """The scoring history so far (None before the first scoring event)."""
        return getattr(self.estimator, "scoring_history_", None)


def _restarted(prev: Any, info: DataInfo, eff: dict[str, Any]) -> tuple[DataInfo, ModelState]:
    """The checkpoint's plan and state with the restart's modifiable settings applied.

    The weights, optimiser state and input layout are the checkpoint's; the dropout
    ratios (which the kernels and the scorer read from the network spec) and the
    missing-value handling (which the preprocessing plan applies) are the new fit's.
    """
    state = prev.state_.copy()
    ratios = eff["hidden_dropout_ratios"] or (0.0,) * len(state.spec.hidden_dropout_ratios)
    state.spec = dataclasses.replace(state.spec, hidden_dropout_ratios=tuple(ratios),
                                     input_dropout_ratio=float(eff["input_dropout_ratio"]))
    if info.missing_values_handling != eff["missing_values_handling"]:
        info = dataclasses.replace(info, missing_values_handling=eff["missing_values_handling"])
    return info, state


def _resolve_seed(seed: int) -> int:
    if seed is None or int(seed) == -1:
        return int(np.random.SeedSequence().entropy % (2**63 - 1))
    return int(seed)


class DeepLearningBase(InspectionMixin, BaseEstimator):
    """Common code of the classifier, the regressor and the H2O-style estimator."""

    _task: str | None = None  # "classification", "regression" or None (decided at fit)
    #: how a binomial model's predict labels a row: "threshold" (H2O: class 1 when
    #: p1 >= threshold_) or "argmax" (scikit-learn: classes_[argmax(predict_proba)]);
    #: the scorers exported from the model (Python, Java, score_parquet, the CLI) use it too
    _label_rule: str = "threshold"

    # ------------------------------------------------------------------ inputs
    def _params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in PARAMETERS}

    @staticmethod
    def _as_frame(X: Any, *, n_features: int | None = None,
                  owner: str = "the model") -> tuple[pd.DataFrame, bool]:
        """pandas (or Dask) frame of ``X`` and whether ``X`` had its own column names.

        Arrays become columns ``C1..Cn``; an object array is made numeric where its
        columns hold only numbers (strings stay categorical); a SciPy sparse matrix is
        densified (after a memory check). Raises DataError (a ValueError) for 1-D or 3-D
        arrays, a wrong number of columns (``n_features``), complex values, and a
        TypeError-compatible DataError for cells that are neither numbers nor strings.
        """
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
            arr = np.asarray(X)
        _check_2d(arr.shape, n_features, owner)
        _check_not_complex(arr, "X")
        frame = pd.DataFrame(arr, columns=[f"C{i + 1}" for i in range(arr.shape[1])])
        if arr.dtype == object:
            frame = frame.infer_objects()  # numbers stored as objects are numbers
            _check_values(frame)
        return frame, False

    # ------------------------------------------------------------------ fitting
    def _fit_frames(
        self,
        frame: Any,
        response: str,
        valid: Any | None,
        *,
        features: Sequence[str] | None,
        task: str,
        classes: Sequence[Any] | None,
        weights_column: str | None,
        client: Any = None,
    ) -> "DeepLearningBase":
        owner = type(self).__name__
        params = validate_params(self._params(), owner)
        # before any pass over the data: a stopping metric the task does not have
        check_stopping_metric(params, owner, task,
                              len(classes) if task == "classification" and classes else None)
        if params["nfolds"] > 0 or params["fold_column"] is not None:
            return self._fit_cv(frame, response, valid, params, features=features, task=task,
                                classes=classes, weights_column=weights_column, client=client)
        if params["weights_column"] is not None and weights_column is None:
            weights_column = params["weights_column"]
        is_dask = _is_dask(frame) or (valid is not None and _is_dask(valid))
        use_dask = _use_dask(params, is_dask=is_dask, client=client)
        if not is_dask and len(frame) == 0:
            raise DataError("The training frame is empty (0 rows).")
        seed = _resolve_seed(params["seed"])
        self._stop_event = getattr(self, "_stop_event", None) or threading.Event()
        self._stop_event.clear()
        prev = self._checkpoint_model(params, has_valid=valid is not None)
        if not use_dask:
            if prev is not None and not is_dask:
                # continuing in memory (partial_fit blocks): check the block against the
                # checkpoint's plan instead of fitting a new one, so a block with one
                # class or a constant column is fine
                info, eff = self._plan_continue(prev, frame, response, params,
                                                features=features,
                                                weights_column=weights_column)
                info, state = _restarted(prev, info, eff)
            else:
                info, eff, state = self._plan_fit(frame, response, params, features=features,
                                                  task=task, classes=classes,
                                                  weights_column=weights_column, seed=seed,
                                                  n_nodes=1)
                info, state = self._continue_from(prev, info, eff, state)
            _check_dense_size(info, len(frame))
            train = info.transform(frame, training=True)
            if train.X.shape[0] == 0:
                raise DataError(
                    "No rows left in the training frame after removing rows with a missing "
                    f"response{', missing values (missing_values_handling=Skip)' if eff['missing_values_handling'] == 'Skip' else ''}"
                    f"{' or zero weights' if weights_column else ''}."
                )
            ratios = _balance_ratios(info, eff)
            if ratios is not None:
                train = _balance_local(train, ratios, eff, seed, len(info.classes))
            vblock = info.transform(valid, training=True) if valid is not None else None
            if vblock is not None and vblock.X.shape[0] == 0:
                raise DataError("The validation frame has no rows with a response.")
            worker = _dask_worker()
            all_cores = available_cores() if worker is None else _worker_threads(worker)
            nthreads = 1 if eff["reproducible"] else (
                all_cores if int(eff["nthreads"]) == -1 else int(eff["nthreads"])
            )
            backend = LocalBackend(train, vblock, data_info=info, task=info.task,
                                   distribution=eff["distribution"], params=eff,
                                   nthreads=nthreads, seed=seed)
            result = self._run(backend, state, eff, info, seed, prev)
            self._set_fitted(result, info, eff, seed, nthreads)
            self.backend_ = "local"
            self.__dict__.pop("worker_rows_", None)  # from an earlier fit on Dask
            return self

        from ..distributed import DaskBackend, as_dask, locked_workers, training_session

        with training_session(client, params["scheduler_address"]) as c:
            frame = as_dask(frame, c)
            valid = as_dask(valid, c)
            with locked_workers(c) as workers:
                info, eff, state = self._plan_fit(
                    frame, response, params, features=features, task=task, classes=classes,
                    weights_column=weights_column, seed=seed, n_nodes=len(workers),
                    scheduler=c)
                info, state = self._continue_from(prev, info, eff, state)
                _check_dense_size(info, math.ceil(info.n_rows / max(1, frame.npartitions)))
                backend = DaskBackend(c, frame, valid, data_info=info, task=info.task,
                                      distribution=eff["distribution"], params=eff, seed=seed,
                                      balance=_balance_ratios(info, eff))
                try:
                    result = self._run(backend, state, eff, info, seed, prev)
                finally:
                    backend.close()
            result.events[:0] = backend.events
            eff["replicate_training_data"] = backend.replicate
            self._set_fitted(result, info, eff, seed, max(backend.nthreads.values()))
            self.backend_ = "dask"
            self.worker_rows_ = backend.worker_map()
        return self

    # ------------------------------------------------------------------ cross-validation
    def _xval_metrics(self) -> Any:
        """The cross-validation metrics (clear error when the fit had no cross-validation)."""
        self._check_fitted()
        m = getattr(self, "cross_validation_metrics_", None)
        if m is None:
            raise InvalidParameterError(
                f"This {type(self).__name__} was fitted without cross-validation; set "
                "nfolds >= 2 (or a fold_column) to get cross-validation metrics.")
        return m

    def _fit_cv(self, frame: Any, response: str, valid: Any | None, params: dict[str, Any], *,
                features: Sequence[str] | None, task: str, classes: Sequence[Any] | None,
                weights_column: str | None, client: Any) -> "DeepLearningBase":
        """N-fold cross-validation, then the main model on every row (semantics §9.4)."""
        is_dask = _is_dask(frame) or (valid is not None and _is_dask(valid))
        if not _use_dask(params, is_dask=is_dask, client=client):
            return self._run_cv(frame, response, valid, params, features=features, task=task,
                                classes=classes, weights_column=weights_column, client=None)
        from ..distributed import as_dask, training_session

        # one session for every CV model and the main model (not one embedded cluster each)
        with training_session(client, params["scheduler_address"]) as c:
            return self._run_cv(as_dask(frame, c), response, as_dask(valid, c), params,
                                features=features, task=task, classes=classes,
                                weights_column=weights_column, client=c)

    def _run_cv(self, frame: Any, response: str, valid: Any | None, params: dict[str, Any], *,
                features: Sequence[str] | None, task: str, classes: Sequence[Any] | None,
                weights_column: str | None, client: Any) -> "DeepLearningBase":
        from ._cv import FOLD, HoldoutScorer, assign_folds, cv_summary

        seed = _resolve_seed(params["seed"])
        fold_column = params["fold_column"]
        framed, n_folds, _ = assign_folds(
            frame, nfolds=int(params["nfolds"]), fold_assignment=params["fold_assignment"],
            fold_column=fold_column, response=response if task == "classification" else None,
            seed=seed)
        drop = [c for c in (fold_column, FOLD) if c is not None]
        if features is not None:
            features = [f for f in features if f not in drop]
        # (the fold column is dropped from every frame the models see, never a predictor)
        ignored = [c for c in (params["ignored_columns"] or []) if c not in drop]
        user = self.get_params(deep=False)
        cv_user = {**user, "seed": seed, "nfolds": 0, "fold_column": None,
                   "fold_assignment": "AUTO", "ignored_columns": ignored or None,
                   "checkpoint": None}
        pending = dict(getattr(self, "_pending_fitted", {}))
        models = []
        for k in range(n_folds):
            model_id = params["model_id"] or type(self).__name__
            m = type(self)(**{**cv_user, "model_id": f"{model_id}_cv_{k + 1}"})
            m._pending_fitted = pending
            keep = framed[FOLD] != k
            train_k = framed[keep].drop(columns=drop)
            hold_k = framed[~keep].drop(columns=drop)
            # the held-out fold is the CV model's validation frame: its early stopping and
            # best model follow held-out metrics (H2O)
            m._fit_frames(train_k, response, hold_k, features=features, task=task,
                          classes=classes, weights_column=weights_column, client=client)
            for name, value in pending.items():
                setattr(m, name, value)
            models.append(m)
        # the main model: every row; with early stopping or a time limit, the CV models'
        # mean epochs and no early stopping (H2O)
        saved = {name: getattr(self, name) for name in (
            "nfolds", "fold_column", "fold_assignment", "ignored_columns", "epochs",
            "stopping_rounds", "overwrite_with_best_model", "seed")}
        try:
            self.nfolds, self.fold_column, self.fold_assignment = 0, None, "AUTO"
            self.ignored_columns = ignored or None
            self.overwrite_with_best_model = False
            self.seed = seed
            if int(params["stopping_rounds"]) != 0 or float(params["max_runtime_secs"]) != 0:
                self.epochs = float(np.mean([m.epochs_ for m in models]))
                self.stopping_rounds = 0
            self._fit_frames(framed.drop(columns=drop), response, valid, features=features,
                             task=task, classes=classes, weights_column=weights_column,
                             client=client)
        finally:
            for name, value in saved.items():
                setattr(self, name, value)
        for name in ("nfolds", "fold_column", "fold_assignment"):
            self.params_[name] = params[name]
        # cross-validation metrics from the combined holdout predictions
        holdout = HoldoutScorer([m._scorer() for m in models])
        scored = framed.drop(columns=[fold_column]) if fold_column is not None else framed
        if _is_dask(scored):
            from ..distributed.predict import reduce_partials

            part = reduce_partials(holdout, scored)
        else:
            part = holdout._partial_pandas(scored)
        info = self.data_info_
        self.cross_validation_metrics_ = part.result(
            domain=info.classes,
            max_confusion_matrix_size=int(self.params_["max_confusion_matrix_size"]))
        self.cross_validation_metrics_summary_ = cv_summary(
            [m.validation_metrics_ for m in models])
        self.cross_validation_models_ = models if params["keep_cross_validation_models"] else None
        self.cross_validation_fold_assignment_ = (
            scored[FOLD].rename("fold_assignment")
            if params["keep_cross_validation_fold_assignment"] else None)
        if params["keep_cross_validation_predictions"]:
            if _is_dask(scored):
                from ..distributed.predict import map_predict

                preds = map_predict(holdout, scored, "h2o", models[0]._scorer().meta("h2o"))
            else:
                preds = holdout._predict_pandas(scored, "h2o")
            self.cross_validation_holdout_predictions_ = preds
        else:
            self.cross_validation_holdout_predictions_ = None
        return self

    def _plan_fit(self, frame: Any, response: str, params: dict[str, Any], *,
                  features: Sequence[str] | None, task: str, classes: Sequence[Any] | None,
                  weights_column: str | None, seed: int, n_nodes: int,
                  scheduler: Any = None) -> tuple[DataInfo, dict[str, Any], ModelState]:
        """Fit the preprocessing, resolve effective parameters and initialise the network."""
        owner = type(self).__name__
        info = DataInfo.fit(
            frame,
            response=response,
            features=features,
            ignored_columns=params["ignored_columns"],
            weights_column=weights_column,
            offset_column=params["offset_column"],
            task=task,
            classes=classes,
            standardize=params["standardize"],
            sparse=params["sparse"],
            ignore_const_cols=params["ignore_const_cols"],
            missing_values_handling=params["missing_values_handling"],
            use_all_factor_levels=params["use_all_factor_levels"],
            categorical_encoding=params["categorical_encoding"],
            max_categorical_features=params["max_categorical_features"],
            distribution=params["distribution"],
            seed=seed,
            scheduler=scheduler,
        )
        n_classes = len(info.classes) if info.task == "classification" else None
        eff = resolve_effective(params, owner=owner, task=info.task, n_classes=n_classes,
                                response_min=info.response_min, n_nodes=n_nodes)
        hidden = tuple(eff["hidden"])
        ratios = eff["hidden_dropout_ratios"] or (0.0,) * len(hidden)
        n_out = info.n_inputs if info.task == "autoencoder" else (n_classes or 1)
        spec = NetworkSpec(
            units=(info.n_inputs, *hidden, n_out),
            activation=eff["activation"],
            output={"classification": "softmax", "autoencoder": "autoencoder"}.get(
                info.task, "linear"),
            hidden_dropout_ratios=tuple(ratios),
            input_dropout_ratio=float(eff["input_dropout_ratio"]),
        )
        check_network_memory(spec, hidden, mini_batch_size=int(eff["mini_batch_size"]),
                             nthreads=available_cores(), client=scheduler)
        state = init_state(
            spec,
            seed=seed,
            initial_weight_distribution=eff["initial_weight_distribution"],
            initial_weight_scale=float(eff["initial_weight_scale"]),
        )
        if eff["autoencoder"] and float(eff["sparsity_beta"]) > 0:
            state.AA = np.zeros(spec.n_biases, np.float32)
        if eff["pretrained_autoencoder"] is not None and eff["checkpoint"] is None:
            state = transfer_pretrained(state, self._pretrained_state(eff["pretrained_autoencoder"]))
        if eff["initial_weights"] is not None or eff["initial_biases"] is not None:
            state = apply_initial_weights(state, info, eff["initial_weights"],
                                          eff["initial_biases"])
        return info, eff, state

    @staticmethod
    def _pretrained_state(source: Any) -> ModelState:
        """The weights of ``pretrained_autoencoder`` (a fitted autoencoder or its file)."""
        if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
            from ..io import load_model

            source = load_model(source)
        if not isinstance(source, DeepLearningBase) or not hasattr(source, "state_"):
            raise InvalidParameterError(
                "pretrained_autoencoder must be a fitted autoencoder (DeepLearningAutoEncoder "
                f"or autoencoder=True) or the path of a saved one; got {type(source).__name__}.")
        if source.task_ != "autoencoder":
            raise InvalidParameterError(
                f"pretrained_autoencoder must be an autoencoder; got a {source.task_} model "
                f"({type(source).__name__}).")
        return source.state_

    # ------------------------------------------------------------------ checkpoints
    def _export_checkpoint(self, directory: str, history: pd.DataFrame, state: ModelState,
                           train_m: Any, valid_m: Any, info: DataInfo, eff: dict[str, Any],
                           seed: int) -> None:
        """Write the model of a scoring event to ``directory`` (``export_checkpoints_dir``).

        A write that fails (read-only folder, full disk) warns and training goes on, as in
        H2O: a checkpoint is a copy, the fit itself is not lost.
        """
        from pathlib import Path

        from ..io import save_model
        from ..io.model_files import _inside

        snap = type(self)(**self.get_params(deep=False))
        last = history.iloc[-1]
        result = TrainResult(state=state.copy(), history=history, training_metrics=train_m,
                             validation_metrics=valid_m, stop_reason="checkpoint",
                             iterations=int(last["iterations"]), epochs=float(last["epochs"]),
                             run_time=float(last["duration"]))
        snap._set_fitted(result, info, eff, seed, int(eff["nthreads"]))
        snap.backend_ = "checkpoint"
        for name, value in getattr(self, "_pending_fitted", {}).items():
            setattr(snap, name, value)
        name = eff.get("model_id") or type(self).__name__
        path = _inside(Path(directory), f"{name}_iteration{int(last['iterations'])}.zip")
        try:
            save_model(snap, path)
        except OSError as exc:
            warnings.warn(f"export_checkpoints_dir: the checkpoint {path} was not written "
                          f"({exc}); training goes on.", RuntimeWarning, stacklevel=2)

    def _check_checkpoint_dir(self, directory: str, eff: dict[str, Any], done: int) -> None:
        """Refuse a fit whose checkpoint files would replace earlier ones in ``directory``.

        A directory that does not exist is created (as H2O does).

        Raises
        ------
        InvalidParameterError
            ``directory`` cannot be created or written to (the message says why).
        FileExistsError
            ``directory`` holds ``<model_id>_iteration<N>.zip`` files with ``N`` above
            ``done`` (the iterations of the checkpoint this fit continues), which this fit
            would write again.
        """
        try:
            os.makedirs(directory, exist_ok=True)
            with tempfile.TemporaryFile(dir=directory):  # can we write there? (leaves nothing)
                pass
        except OSError as exc:
            raise InvalidParameterError(
                f"export_checkpoints_dir={directory!r} cannot be used: it cannot be created or "
                f"written to ({exc.strerror or exc}). Give a folder this process may write "
                "to, or None.") from None
        name = eff.get("model_id") or type(self).__name__
        pattern = re.compile(rf"{re.escape(name)}_iteration(\d+)\.zip")
        taken = sorted((int(m.group(1)), f) for f in os.listdir(directory)
                       if (m := pattern.fullmatch(f)) and int(m.group(1)) > done)
        if taken:
            shown = ", ".join(f for _, f in taken[:5]) + (", ..." if len(taken) > 5 else "")
            raise FileExistsError(
                f"export_checkpoints_dir={directory!r} already holds checkpoints of "
                f"model_id={name!r} from an earlier fit ({shown}); this fit would write them "
                "again and checkpoint files are never replaced. Use another directory or "
                "model_id, or move them away.")

    def _checkpoint_model(self, params: dict[str, Any], *, has_valid: bool) -> Any | None:
        """The model this fit continues (semantics §1.4), checked against ``params``."""
        ckpt = params["checkpoint"]
        if ckpt is None:
            return None
        owner = type(self).__name__
        if isinstance(ckpt, (str, bytes)) or hasattr(ckpt, "__fspath__"):
            from ..io import load_model

            prev = load_model(ckpt)
        else:
            prev = ckpt
        if not isinstance(prev, DeepLearningBase) or not hasattr(prev, "state_"):
            raise InvalidParameterError(
                f"checkpoint must be a fitted dask_deeplearn model or the path of a saved "
                f"one; got {type(prev).__name__}."
            )
        if type(prev) is not type(self) and not (
                isinstance(self, type(prev)) or isinstance(prev, type(self))):
            raise InvalidParameterError(
                f"checkpoint is a {type(prev).__name__}; {owner} can only continue a "
                f"{owner}."
            )
        if self._task is not None and prev.task_ != self._task:
            raise InvalidParameterError(
                f"checkpoint is a {prev.task_} model; this {owner} does {self._task}.")
        old = prev._params()  # (an autoencoder's own view: autoencoder=True)
        changed = []
        for name, value in params.items():
            if name in CHECKPOINT_MODIFIABLE or name == "checkpoint":
                continue
            if name in _CV_PARAMS and value == PARAMETERS[name].default:
                # the main model of a cross-validated fit continues without folds (its
                # cross-validation models and metrics are not continued)
                continue
            before = old.get(name, PARAMETERS[name].default)
            if name == "distribution" and "AUTO" in (str(before), str(value)):
                # H2O compares user values, so AUTO vs its resolved value fails (#16717)
                before, value = prev.distribution_, prev.distribution_ if value == "AUTO" else value
            if _normalised(before) != _normalised(value):
                changed.append(f"{name} ({before!r} -> {value!r})")
        if changed:
            raise InvalidParameterError(
                "Cannot change these parameters when continuing from a checkpoint: "
                + ", ".join(changed) + ". Only the parameters listed as modifiable may "
                "change (epochs, l1, l2, stopping_*, score_*, mini_batch_size, ...)."
            )
        ignored = [f"{n}={params[n]!r}" for n in ("initial_weight_distribution",
                                                  "initial_weight_scale")
                   if _normalised(params[n]) != _normalised(old.get(n, PARAMETERS[n].default))]
        if params["pretrained_autoencoder"] not in (None, old.get("pretrained_autoencoder")):
            ignored.append("pretrained_autoencoder")
        if ignored:
            warnings.warn(
                f"{owner}: {', '.join(ignored)} has no effect when continuing from a "
                "checkpoint: training continues from the checkpoint's weights (as in H2O).",
                UserWarning, stacklevel=5)
        if not getattr(self, "_partial", False) and float(params["epochs"]) <= float(prev.epochs_):
            raise InvalidParameterError(
                f"epochs={params['epochs']!r} must be greater than the {prev.epochs_:.4g} "
                "epochs the checkpoint already trained: with a checkpoint, epochs is the "
                "total, not an increment."
            )
        if has_valid != (prev.validation_metrics_ is not None):
            raise InvalidParameterError(
                "The checkpoint was trained " + ("with" if not has_valid else "without")
                + " a validation frame; continue it " + ("with" if not has_valid else "without")
                + " one too (H2O requires the same)."
            )
        return prev

    def _continue_from(self, prev: Any | None, info: DataInfo, eff: dict[str, Any],
                       state: ModelState) -> tuple[DataInfo, ModelState]:
        """Start from the checkpoint's state and preprocessing plan after checking the data."""
        if prev is None:
            return info, state
        old = prev.data_info_
        problems = []
        if list(old.feature_names) != list(info.feature_names):
            missing = [c for c in old.feature_names if c not in info.feature_names]
            extra = [c for c in info.feature_names if c not in old.feature_names]
            problems.append(f"columns differ (missing {missing}, new {extra})")
        for c in old.cat_columns:
            # a chunk may lack levels; a level the checkpoint never saw cannot be learned
            unseen = [v for v in info.cat_levels.get(c, []) if v not in set(old.cat_levels[c])]
            if unseen:
                problems.append(f"categorical column {c!r} has levels {unseen[:10]} that the "
                                f"checkpoint's domain {list(old.cat_levels[c])[:10]} lacks")
        if old.classes is not None and not set(info.classes or []) <= set(old.classes):
            problems.append(f"response classes {info.classes} are not among {old.classes}")
        if problems:
            raise DataError("The training frame does not match the checkpoint's: "
                            + "; ".join(problems) + ".")
        # keep the checkpoint's preprocessing plan (the weights were learned on its scaling
        # and its input layout) and its resolved distribution (a chunk may hold 2 classes)
        eff["distribution"] = prev.distribution_
        return _restarted(prev, old, eff)

    def _plan_continue(self, prev: Any, frame: pd.DataFrame, response: str | None,
                       params: dict[str, Any], *, features: Sequence[str] | None,
                       weights_column: str | None) -> tuple[DataInfo, dict[str, Any]]:
        """Check an in-memory frame against the checkpoint's plan; effective parameters.

        The in-memory counterpart of :meth:`_plan_fit` + :meth:`_continue_from` for a
        continued fit: no statistics pass over the new rows (they keep the checkpoint's
        scaling), and a block with a single class, constant columns or one row is fine.

        Raises
        ------
        DataError
            Predictor columns missing or added, categorical levels or class labels the
            checkpoint never saw.
        """
        from ..preprocessing.encodings import LevelLookup

        old = prev.data_info_
        roles = {response, weights_column, params["offset_column"], old.weights_column,
                 old.offset_column, *(params["ignored_columns"] or ())}
        present = set(frame.columns)
        missing = [c for c in old.feature_names if c not in present]
        known = set(old.feature_names)
        candidates = list(frame.columns) if features is None else list(features)
        extra = [c for c in candidates if c not in known and c not in roles]
        problems = []
        if missing or extra:
            problems.append(f"columns differ (missing {missing}, new {extra})")
        for c in old.cat_columns:
            if c not in present or c not in old.cat_raw_levels:
                continue
            codes, na = LevelLookup(old.cat_raw_levels[c]).codes(frame[c])
            bad = (codes < 0) & ~na
            if bad.any():
                unseen = pd.unique(frame[c][bad].astype(object).to_numpy())[:10].tolist()
                problems.append(f"categorical column {c!r} has levels {unseen} that the "
                                f"checkpoint's domain {list(old.cat_raw_levels[c])[:10]} lacks")
        if old.classes is not None and response is not None and response in present:
            codes, na = LevelLookup(old.classes).codes(frame[response])
            bad = (codes < 0) & ~na
            if bad.any():
                unseen = pd.unique(frame[response][bad].astype(object).to_numpy())[:10].tolist()
                problems.append(
                    f"y has {int(bad.sum())} row(s) with labels {unseen} that are not among "
                    f"the model's classes {list(old.classes)} (for partial_fit, pass every "
                    "label in classes= on the first call)")
        if problems:
            raise DataError("The training frame does not match the checkpoint's: "
                            + "; ".join(problems) + ".")
        n_classes = len(old.classes) if old.task == "classification" else None
        eff = resolve_effective(params, owner=type(self).__name__, task=old.task,
                                n_classes=n_classes, response_min=old.response_min, n_nodes=1)
        eff["distribution"] = prev.distribution_
        return old, eff

    def _run(self, backend: Any, state: ModelState, eff: dict[str, Any], info: DataInfo,
             seed: int, prev: Any | None = None) -> TrainResult:
        """The shared loop, with progress reporting and the live scoring history."""
        passes = getattr(self, "_more_passes", None)
        if prev is not None and passes is not None:
            # continue for `passes` more passes over this data: a whole number of samples
            # on top of the checkpoint's (an exact float target for the loop's test)
            n = max(1, int(backend.n_rows))
            eff["epochs"] = (prev.state_.processed + max(1, round(passes * n))) / n
        reporter = ProgressReporter(type(self).__name__, float(eff["epochs"]),
                                    quiet=bool(eff["quiet_mode"]))

        export_dir = eff.get("export_checkpoints_dir")
        if export_dir is not None:
            self._check_checkpoint_dir(export_dir, eff, 0 if prev is None else int(prev.n_iter_))

        def on_score(history: pd.DataFrame, line: str, state: ModelState, train_m: Any,
                     valid_m: Any) -> None:
            self.scoring_history_ = history
            reporter(history, line)
            if export_dir is not None:
                self._export_checkpoint(export_dir, history, state, train_m, valid_m, info, eff,
                                        seed)

        n_classes = len(info.classes) if info.task == "classification" else None
        try:
            return self._train_or_keep_last(backend, state, eff, info, seed, prev, on_score,
                                            n_classes)
        finally:
            reporter.close()

    def _train_or_keep_last(self, backend: Any, state: ModelState, eff: dict[str, Any],
                            info: DataInfo, seed: int, prev: Any | None, on_score: Any,
                            n_classes: int | None) -> TrainResult:
        """Run the loop; on divergence or a lost cluster keep the last model, then re-raise."""
        try:
            return run_training(backend, state, eff, task=info.task, n_classes=n_classes,
                                seed=seed, verbose=bool(eff["verbose"]), on_score=on_score,
                                stop_requested=self._stop_event.is_set,
                                history=None if prev is None else prev.scoring_history_,
                                iterations_done=0 if prev is None else int(prev.n_iter_))
        except Exception as exc:  # diverged, or every worker lost: keep the last model
            result = getattr(exc, "result", None)
            if result is not None:
                self._set_fitted(result, info, eff, seed, int(eff["nthreads"]))
                self.backend_ = result.stop_reason
                for name, value in getattr(self, "_pending_fitted", {}).items():
                    setattr(self, name, value)
            raise

    def _set_fitted(self, result: TrainResult, info: DataInfo, eff: dict[str, Any],
                    seed: int, nthreads: int) -> None:
        self.state_: ModelState = result.state
        self.data_info_: DataInfo = info
        self.params_: dict[str, Any] = eff
        self.seed_: int = seed
        self.nthreads_: int = nthreads
        self.scoring_history_: pd.DataFrame = result.history
        self.training_metrics_ = result.training_metrics
        self.validation_metrics_ = result.validation_metrics
        self.stop_reason_: str = result.stop_reason
        self.n_iter_: int = result.iterations
        self.epochs_: float = result.epochs
        self.run_time_: float = result.run_time
        self.events_: list[str] = result.events
        self.task_: str = info.task
        self.distribution_: str = eff["distribution"]
        if info.task == "classification":
            self.classes_ = np.asarray(info.classes)
            self.n_classes_ = len(info.classes)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_stop_event", None)  # threading objects and live clients never pickle
        state.pop("_client", None)
        return state

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` fits use when none is passed to ``fit`` (not a
        parameter: it is not cloned, and not pickled)."""
        return getattr(self, "_client", None)

    @client.setter
    def client(self, value: Any) -> None:
        self._client = value

    def _launch(self, run: Callable[[], Any], block: bool) -> Any:
        """Run a fit now (``block=True``) or in a background thread (returns a handle)."""
        self._stop_event = getattr(self, "_stop_event", None) or threading.Event()
        if block:
            return run()
        return FitHandle(self, run)

    def _fit_xy(self, X: Any, y: Any, *, validation_data: Any, sample_weight: Any,
                task: str, client: Any = None, classes: Any = None,
                reset: bool = True) -> "DeepLearningBase":
        """scikit-learn style fit: arrays or frames for X, a vector for y.

        ``reset=False`` (a continued fit: ``partial_fit``, warm start) reads X as
        prediction methods do, against the fitted columns.
        """
        owner = type(self).__name__
        if task != "autoencoder" and y is None:
            raise DataError(
                f"{owner} requires y to be passed, but the target y is None; fit(X, y) "
                "needs a response (use DeepLearningAutoEncoder to learn from X alone)."
            )
        if reset:
            frame, named = self._as_frame(X, owner=owner)
            raw_names = list(frame.columns)
        else:
            frame = self._input_frame(X)
            named, raw_names = self._fit_had_names, list(self._raw_feature_names)
        client = client if client is not None else self.client
        if _is_dask(frame):
            return self._fit_xy_dask(frame, named, y, validation_data=validation_data,
                                     sample_weight=sample_weight, task=task, client=client,
                                     classes=classes, raw_names=raw_names)
        if reset and frame.shape[1] == 0:
            raise DataError(
                f"Found array with 0 feature(s) (shape={frame.shape}) while a minimum of 1 "
                f"is required: X has no predictor columns for {owner}."
            )
        if len(frame) == 0:
            raise DataError(
                f"The training data is empty (0 rows): found array with 0 sample(s) "
                f"(shape={frame.shape}) while a minimum of 1 is required to fit {owner}."
            )
        if task == "autoencoder":
            extra: dict[str, Any] = {}
        elif _is_dask(y):
            raise DataError("y is a Dask collection but X is not; pass both as Dask "
                            "collections with aligned partitions, or both in memory.")
        else:
            extra = {_RESPONSE: self._response_vector(y, len(frame), task=task, owner=owner)}
        if (reset and len(frame) == 1 and self.checkpoint is None
                and self.ignore_const_cols is not False):
            raise DataError(
                f"X has 1 sample (n_samples=1), but {owner} needs at least 2 to fit: with "
                "one row every column is constant, and ignore_const_cols=True drops "
                "constant columns. Pass more rows (or ignore_const_cols=False)."
            )
        if task == "classification" and classes is None:
            present = pd.Series(extra[_RESPONSE]).dropna()
            classes = list(np.unique(present.to_numpy()))
        elif task == "classification":
            classes = list(np.unique(np.asarray(classes)))
        features = self._xy_features(raw_names, sample_weight)
        if not reset:
            sample_weight = self._continued_weights(sample_weight, len(frame))
        weights_column = None
        if sample_weight is not None:
            sw = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
            if sw.shape[0] != len(frame):
                raise DataError(
                    f"sample_weight has {sw.shape[0]} values but X has {len(frame)} rows."
                )
            extra[_WEIGHT] = sw
            weights_column = _WEIGHT
        train = frame.assign(**extra)
        valid = self._validation_frame(validation_data, named, raw_names, task=task)
        self._pending_fitted = self._feature_attributes(raw_names, named)
        response = None if task == "autoencoder" else _RESPONSE
        with _user_names():
            self._fit_frames(train, response, valid, features=features, task=task,
                             classes=classes, weights_column=weights_column, client=client)
        self._remember_features(raw_names, named)
        return self

    def _xy_features(self, raw_names: list[Any], sample_weight: Any) -> list[Any]:
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
        if sample_weight is not None and self.weights_column is not None:
            raise DataError(
                f"sample_weight= and weights_column={self.weights_column!r} both give "
                f"observation weights to {type(self).__name__}.fit; pass only one: drop "
                "sample_weight, or set weights_column=None.")
        roles = []
        for name in ("weights_column", "offset_column"):
            col = getattr(self, name)
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

    def _continued_weights(self, sample_weight: Any, n_rows: int) -> Any:
        """``sample_weight`` of a continued fit, consistent with the first fit's.

        The preprocessing plan fixed at the first fit either has a weights column or
        not: a later block without weights gets weight 1 per row, and weights given
        when the first fit had none are refused rather than silently ignored.
        """
        had = getattr(self.data_info_, "weights_column", None) == _WEIGHT
        if had and sample_weight is None:
            return np.ones(n_rows)
        if not had and sample_weight is not None:
            raise DataError(
                "sample_weight was given, but the model was first fitted without it, so "
                "its preprocessing plan has no weights; pass sample_weight (e.g. all ones) "
                "on the first fit / partial_fit call to use weights in later calls."
            )
        return sample_weight

    @staticmethod
    def _response_vector(y: Any, n_rows: int, *, task: str | None = None,
                         owner: str = "the model") -> np.ndarray:
        """``y`` as a 1-D array with one value per row of X (clear error otherwise).

        A column vector is accepted with scikit-learn's DataConversionWarning. For a
        classifier a continuous ``y`` is refused ("Unknown label type"); for a regressor
        an object ``y`` holding numbers becomes float64.
        """
        yv = np.asarray(y)
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

    def _fit_xy_dask(self, frame: Any, named: bool, y: Any, *, validation_data: Any,
                     sample_weight: Any, task: str, client: Any, classes: Any = None,
                     raw_names: list[Any] | None = None) -> "DeepLearningBase":
        raw_names = list(frame.columns) if raw_names is None else raw_names
        features = self._xy_features(raw_names, sample_weight)
        extra = {} if task == "autoencoder" else {_RESPONSE: y}
        weights_column = None
        if sample_weight is not None:
            extra[_WEIGHT] = sample_weight
            weights_column = _WEIGHT
        train = _attach_dask(frame, extra) if extra else frame
        valid = self._validation_frame(validation_data, named, raw_names, task=task)
        self._pending_fitted = self._feature_attributes(raw_names, named)
        response = None if task == "autoencoder" else _RESPONSE
        if task == "classification" and classes is not None:
            classes = list(np.unique(np.asarray(classes)))
        with _user_names():
            self._fit_frames(train, response, valid, features=features, task=task,
                             classes=classes, weights_column=weights_column, client=client)
        self._remember_features(raw_names, named)
        return self

    def _validation_frame(self, validation_data: Any, named: bool,
                          raw_names: list[Any], task: str | None = None) -> Any | None:
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
            vframe, _ = self._as_frame(Xv, n_features=None if named else len(raw_names))
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
        vframe, _ = self._as_frame(Xv, n_features=None if named else len(raw_names))
        if not named:
            vframe.columns = raw_names
        if _is_dask(vframe):
            return _attach_dask(vframe, {_RESPONSE: yv})
        return vframe.assign(**{_RESPONSE: np.asarray(yv).reshape(-1)})
        return self

    def _remember_features(self, raw_names: list[Any], named: bool) -> None:
        self._apply_features(self, raw_names, named)

    @staticmethod
    def _feature_attributes(raw_names: list[Any], named: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"n_features_in_": len(raw_names),
                               "_n_raw_features": len(raw_names), "_fit_had_names": named,
                               "_raw_feature_names": raw_names}
        if named and all(isinstance(c, str) for c in raw_names):
            out["feature_names_in_"] = np.asarray(raw_names, dtype=object)
        return out

    @classmethod
    def _apply_features(cls, target: Any, raw_names: list[Any], named: bool) -> None:
        attrs = cls._feature_attributes(raw_names, named)
        for name, value in attrs.items():
            setattr(target, name, value)
        if "feature_names_in_" not in attrs and hasattr(target, "feature_names_in_"):
            del target.feature_names_in_

    # ------------------------------------------------------------------ scikit-learn
    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "state_")

    def __sklearn_tags__(self) -> Any:
        """scikit-learn estimator tags.

        Missing values are imputed (``missing_values_handling``), DataFrames may hold
        categorical columns, and SciPy sparse input is densified. Training is
        non-deterministic unless ``seed`` is set and it runs single-threaded
        (``reproducible=True`` or ``nthreads=1``): multi-threaded Hogwild updates race.
        """
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.input_tags.categorical = True
        seeded = self.seed is not None and self.seed != -1
        single = self.reproducible is True or self.nthreads == 1
        tags.non_deterministic = not (seeded and single)
        return tags

    def _expected_failed_checks(self) -> dict[str, str]:
        """scikit-learn estimator checks that cannot pass, with the reason for each.

        Pass to ``sklearn.utils.estimator_checks.check_estimator(...,
        expected_failed_checks=est._expected_failed_checks())`` or to
        ``parametrize_with_checks(..., expected_failed_checks=...)``. (scikit-learn >= 1.6
        takes the list there; ``_more_tags`` / ``_xfail_checks`` are no longer read.)
        """
        reason = (
            "sample_weight multiplies each row's SGD step (H2O's weights_column), so a "
            "row of weight 2 takes one double step at one point of an epoch while a "
            "repeated row takes two steps at two points: stochastic training is not "
            "equivalent to repeating or removing rows, only close in expectation."
        )
        return {"check_sample_weight_equivalence_on_dense_data": reason,
                "check_sample_weight_equivalence_on_sparse_data": reason}

    # ------------------------------------------------------------------ scoring

    def _check_fitted(self) -> None:
        if not hasattr(self, "state_"):
            raise _EstimatorNotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' (or "
                "'train') with appropriate arguments before using this estimator."
            )

    def _scoring_frame(self, X: Any) -> pd.DataFrame:
        self._check_fitted()
        return self._input_frame(X)

    def _input_frame(self, X: Any) -> Any:
        """``X`` as a frame with the fitted column names (scoring, continued fits).

        For a model fitted with ``fit(X, y)``: an array must have the fitted number of
        columns, which are taken by position; a DataFrame is matched by column name if
        the model was fitted on one, else by position (scikit-learn's warnings in the
        mixed cases). A model trained with ``train`` matches columns by name only.
        """
        owner = type(self).__name__
        n_raw = getattr(self, "_n_raw_features", None)
        frame, named = self._as_frame(X, n_features=n_raw, owner=owner)
        fitted_names = getattr(self, "_fit_had_names", False)
        if n_raw is None:  # train(): H2O matches columns by name
            if not named and fitted_names:
                frame.columns = list(self._raw_feature_names)
            return frame
        raw = list(self._raw_feature_names)
        if named and not fitted_names:
            _check_n_features(len(frame.columns), n_raw, owner)
            if all(isinstance(c, str) for c in frame.columns):
                warnings.warn(f"X has feature names, but {owner} was fitted without feature "
                              "names; its columns are taken by position.", UserWarning,
                              stacklevel=3)
            return _renamed(frame, raw)
        if not named and fitted_names:
            if hasattr(self, "feature_names_in_"):
                warnings.warn(f"X does not have valid feature names, but {owner} was fitted "
                              "with feature names; its columns are taken by position.",
                              UserWarning, stacklevel=3)
            return _renamed(frame, raw)
        return frame

    def _scorer(self) -> Any:
        """The light scoring object (what Dask workers receive instead of the estimator)."""
        from ..scorer import Scorer

        return Scorer.from_model(self)

    def _raw_predict(self, frame: pd.DataFrame) -> np.ndarray:
        return self._scorer().raw(frame)

    def _proba_columns(self) -> list[str]:
        return [str(c) for c in self.classes_]

    def _predict_pandas(self, frame: pd.DataFrame, kind: str) -> Any:
        """Predictions of one pandas frame, indexed like it (see ``Scorer.predict_pandas``)."""
        return self._scorer().predict_pandas(frame, kind)

    def _predict_meta(self, kind: str) -> Any:
        """Empty output of :meth:`_predict_pandas` (the ``meta`` of lazy Dask predictions)."""
        return self._scorer().meta(kind)

    def _predict_any(self, X: Any, kind: str) -> Any:
        """Predictions for numpy / pandas (eager) or Dask (lazy, index kept) input."""
        frame = self._scoring_frame(X)
        if _is_dask(frame):
            from ..distributed.predict import map_predict

            return map_predict(self._scorer(), frame, kind, self._predict_meta(kind))
        return None

    def _partial_pandas(self, frame: pd.DataFrame) -> Any:
        """Metric partial of one pandas frame holding the response (None when empty)."""
        return self._scorer().partial(frame)

    @property
    def threshold_(self) -> float | None:
        """H2O's binomial label threshold on p(class 1): the max-F1 threshold.

        ``max_f1_threshold`` of the validation metrics, else of the training metrics (0.5
        when neither defines one); None for a multinomial, regression or autoencoder
        model. ``DeepLearningEstimator.predict`` labels a row class 1 when
        ``p1 >= threshold_``; the scikit-learn estimators' ``predict`` ignores it and
        returns ``classes_[argmax(predict_proba(X))]``.

        Raises
        ------
        NotFittedError
            The model is not fitted.
        """
        self._check_fitted()
        if self.task_ != "classification" or len(self.classes_) != 2:
            return None
        return self._threshold()

    def _threshold(self) -> float:
        """Binomial label threshold: max-F1 of the validation, else training metrics (H2O)."""
        for m in (self.validation_metrics_, self.training_metrics_):
            t = getattr(m, "max_f1_threshold", None) if m is not None else None
            if t is not None and np.isfinite(t):
                return float(t)
        return 0.5

    def _labels(self, proba: np.ndarray) -> np.ndarray:
        return self._scorer().labels(proba)

    def _performance(self, frame: Any, response: str | None, weights_column: str | None) -> Any:
        info = self.data_info_
        if response is not None and response not in frame.columns:
            raise DataError(f"The frame has no response column {response!r} to score against.")
        if _is_dask(frame):
            from ..distributed.predict import reduce_partials

            part = reduce_partials(self, frame)
        else:
            part = self._partial_pandas(frame)
        if part is None:
            raise DataError("No rows with a response to score.")
        return part.result(domain=info.classes,
                           max_confusion_matrix_size=int(self.params_["max_confusion_matrix_size"]))

    def save(self, path: Any, *, force: bool = False) -> Any:
        """Save the fitted model (H2O's ``h2o.save_model(model, path, force=False)``).

        The file holds JSON and ``.npy`` arrays only and is written atomically; read it back
        with :func:`dask_deeplearn.load_model`. Nothing this package did not write is ever
        replaced or deleted.

        Parameters
        ----------
        path : str or PathLike
            An existing folder (or a path ending with a separator, created): the model is
            written inside it as ``<model_id>.zip`` (``<class name>.zip`` without a
            ``model_id``). A name ending in ``.zip``: one zip file. Any other name: a
            directory.
        force : bool, default=False
            Replace a model saved at the target before; without it an existing model is
            refused with :class:`FileExistsError`. Files that are not saved models are
            never replaced.

        Returns
        -------
        pathlib.Path
            The path written.

        Raises
        ------
        FileExistsError
            The target exists and is not a saved model, or is one and ``force`` is False.
        """
        from ..io import save_model

        return save_model(self, path, force=force)

    def export_python(self, path: Any) -> Any:
        """Write a standalone scorer: one ``.py`` file that needs only numpy.

        The file has ``predict(rows)`` / ``predict_proba(rows)`` (``rows``: column name ->
        values; for an autoencoder ``predict`` gives the reconstruction and ``anomaly`` the
        reconstruction MSE) and scores a CSV from standard input when run as a script,
        reproducing this model's predictions. See :func:`dask_deeplearn.export.python.export_python`.

        Parameters
        ----------
        path : str or PathLike

        Returns
        -------
        pathlib.Path
        """
        from ..export.python import export_python

        return export_python(self, path)

    def export_java(self, path: Any, class_name: str | None = None) -> Any:
        """Write a standalone Java scorer (H2O's POJO): one source file, JDK only.

        The class has ``NAMES``, ``DOMAINS``, ``score0(double[] row, double[] preds)`` and
        a ``main`` scoring a CSV from standard input, reproducing this model's predictions.
        See :func:`dask_deeplearn.export.java.export_java`.

        Parameters
        ----------
        path : str or PathLike
            A directory, or a ``.java`` file named after the class.
        class_name : str, optional

        Returns
        -------
        pathlib.Path
        """
        from ..export.java import export_java

        return export_java(self, path, class_name=class_name)

    @property
    def weights_(self) -> list[pd.DataFrame]:
        """Weight matrices as frames, one per layer (``export_weights_and_biases=True``).

        Rows are receiving units, columns sending units; layer 0's columns are the
        expanded input names (H2O's coefficient names), so the list can be passed back as
        ``initial_weights``. A Maxout layer has two rows per unit (``2*r + channel``).
        """
        return self._exported(0)

    @property
    def biases_(self) -> list[pd.DataFrame]:
        """Bias vectors as one-column frames, one per layer (``export_weights_and_biases=True``)."""
        return self._exported(1)

    def _exported(self, which: int) -> list[pd.DataFrame]:
        if not hasattr(self, "state_") or not self.params_.get("export_weights_and_biases"):
            raise AttributeError(
                f"{'weights_' if which == 0 else 'biases_'} is only available on a model "
                "fitted with export_weights_and_biases=True.")
        return weights_frames(self.state_, self.data_info_)[which]

    def deepfeatures(self, X: Any, layer: int) -> Any:
        """Activations of hidden layer ``layer`` in scoring mode (H2O's ``deepfeatures``).

        Dropout layers are multiplied by ``1 - ratio`` as when scoring. Works for every
        model (classifier, regressor, autoencoder).

        Parameters
        ----------
        X : array-like, pandas.DataFrame or dask.dataframe.DataFrame
            Predictors (a response column, if present, is ignored).
        layer : int
            0-based index of the hidden layer.

        Returns
        -------
        pandas.DataFrame or dask.dataframe.DataFrame
            Columns ``DF.L<layer+1>.C<j+1>``, indexed like ``X``; lazy for Dask input.

        Raises
        ------
        InvalidParameterError
            ``layer`` is not the index of a hidden layer.
        """
        self._check_fitted()
        n_hidden = self.state_.spec.n_layers - 1
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) \
                or not 0 <= int(layer) < n_hidden:
            allowed = f"0 to {n_hidden - 1}" if n_hidden else "none: the model has no hidden layer"
            raise InvalidParameterError(
                f"deepfeatures: layer={layer!r} is not a hidden layer index; allowed: {allowed}.")
        return self._frame_output(X, f"deepfeatures-{int(layer)}")

    def _frame_output(self, X: Any, kind: str) -> Any:
        """A frame of named float columns (Scorer kinds), eager or lazy on Dask."""
        lazy = self._predict_any(X, kind)
        if lazy is not None:
            return lazy
        return self._predict_pandas(self._scoring_frame(X), kind)

    @property
    def summary_(self) -> str:
        """One-line description of the fitted network (H2O's summary title line)."""
        self._check_fitted()
        spec = self.state_.spec
        kind = {"classification": f"{getattr(self, 'n_classes_', 0)}-class classification",
                "autoencoder": "auto-encoder"}.get(self.task_, "regression")
        return (f"{kind}, {self.distribution_} distribution, {self.params_['loss']} loss, "
                f"{spec.n_weights + spec.n_biases:,} weights/biases, "
                f"{self.state_.processed:,} training samples, "
                f"mini-batch size {self.params_['mini_batch_size']}")
