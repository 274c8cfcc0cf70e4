"""Shared machinery of the scikit-learn estimators.

Every H2O Deep Learning parameter is a keyword argument of ``__init__``; the signature and
the numpydoc "Parameters" section are generated from :data:`dask_deeplearn.params.PARAMETERS`
so there is one table, not three copies.
"""

from __future__ import annotations

import concurrent.futures
import inspect
import threading
import warnings
from typing import Any, Callable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

from ..exceptions import DataError, InvalidParameterError, NotFittedError
from ..network import ModelState
from ..params import PARAMETERS, params_docstring
from ..preprocessing import DataInfo
from ..training.loop import TrainResult
from ..weights import weights_frames
from ._fitting import FitMixin
from ._inputs import (  # noqa: F401 - re-exported for the estimator modules
    _RESPONSE,
    _WEIGHT,
    _ValueTypeError,
    _attach_dask,
    _check_n_features,
    _is_dask,
    _renamed,
)
from ._inspect import InspectionMixin

__all__ = ["DeepLearningBase", "FitHandle", "with_h2o_parameters"]



class _EstimatorNotFittedError(NotFittedError, _SklearnNotFittedError):
    """:class:`~dask_deeplearn.exceptions.NotFittedError` that is also scikit-learn's.

    ``sklearn.utils.validation.check_is_fitted`` callers and scikit-learn's estimator
    checks catch ``sklearn.exceptions.NotFittedError``; both are ValueError and
    AttributeError subclasses, as ours.
    """


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


class DeepLearningBase(FitMixin, InspectionMixin, BaseEstimator):
    """Common code of the classifier, the regressor and the H2O-style estimator."""

    _task: str | None = None  # "classification", "regression" or None (decided at fit)
    #: how a binomial model's predict labels a row: "threshold" (H2O: class 1 when
    #: p1 >= threshold_) or "argmax" (scikit-learn: classes_[argmax(predict_proba)]);
    #: the scorers exported from the model (Python, Java, score_parquet, the CLI) use it too
    _label_rule: str = "threshold"

    # ------------------------------------------------------------------ inputs
    def _params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in PARAMETERS}

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
