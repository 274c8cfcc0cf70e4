"""The fitted half of the estimators: the fitted-model value and what reads it.

:class:`FittedMixin` keeps the :class:`~dask_deeplearn.model.FittedModel` a fit built
(``model_``) and offers the fitted attributes scikit-learn users read (``state_``,
``classes_``, ``scoring_history_``, ...) as views of it, the prediction plumbing (one
:class:`~dask_deeplearn.scorer.Scorer` per call), saving and the exporters.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

from ..exceptions import DataError, InvalidParameterError, NotFittedError
from ..model import FittedModel, storable_params
from ..network import ModelState
from ..preprocessing import DataInfo
from ..training.loop import TrainResult
from ..weights import weights_frames

__all__ = ["FittedMixin", "FITTED_ATTRIBUTES"]


class _EstimatorNotFittedError(NotFittedError, _SklearnNotFittedError):
    """:class:`~dask_deeplearn.exceptions.NotFittedError` that is also scikit-learn's.

    ``sklearn.utils.validation.check_is_fitted`` callers and scikit-learn's estimator
    checks catch ``sklearn.exceptions.NotFittedError``; both are ValueError and
    AttributeError subclasses, as ours.
    """


def _is_dask(obj: Any) -> bool:
    return type(obj).__module__.startswith("dask")


def _always(model: FittedModel) -> bool:
    return True


def _when_set(field: str) -> Callable[[FittedModel], bool]:
    return lambda model: getattr(model, field) is not None


def _trained_by_name(model: FittedModel) -> bool:
    """``train(x, y, training_frame)`` records its response column, even None."""
    return model.response_column is not None or (model.had_names is True
                                                 and model.n_raw_features is None)


#: fitted attribute -> (FittedModel field, whether the model has the attribute); the
#: estimators expose these, and model files store the plain ones under these names
FITTED_ATTRIBUTES: dict[str, tuple[str, Callable[[FittedModel], bool]]] = {
    "state_": ("state", _always),
    "data_info_": ("data_info", _always),
    "params_": ("params", _always),
    "scoring_history_": ("scoring_history", _always),
    "training_metrics_": ("training_metrics", _always),
    "validation_metrics_": ("validation_metrics", _always),
    "task_": ("task", _always),
    "distribution_": ("distribution", _always),
    "seed_": ("seed", _always),
    "nthreads_": ("nthreads", _always),
    "stop_reason_": ("stop_reason", _always),
    "n_iter_": ("iterations", _always),
    "epochs_": ("epochs", _always),
    "run_time_": ("run_time", _always),
    "events_": ("events", _always),
    "backend_": ("backend", _when_set("backend")),
    "n_features_in_": ("n_features_in", _when_set("n_features_in")),
    "response_column_": ("response_column", _trained_by_name),
    "_n_raw_features": ("n_raw_features", _always),
    "_fit_had_names": ("had_names", _when_set("had_names")),
    "_raw_feature_names": ("raw_feature_names", _when_set("raw_feature_names")),
    "classes_": ("classes", _when_set("classes")),
    "feature_names_in_": ("feature_names_in", _when_set("feature_names_in")),
    "worker_rows_": ("worker_rows", _when_set("worker_rows")),
}


class _FromModel:
    """A fitted attribute read from the estimator's fitted model (set: a new model)."""

    def __init__(self, field: str, present: Callable[[FittedModel], bool]) -> None:
        self.field = field
        self.present = present
        self.name = field

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def _missing(self, obj: Any) -> AttributeError:
        return AttributeError(f"{type(obj).__name__!r} object has no attribute {self.name!r}")

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        model = obj.__dict__.get("_fitted")
        if model is None or not self.present(model):
            raise self._missing(obj)
        return getattr(model, self.field)

    def __set__(self, obj: Any, value: Any) -> None:
        model = obj.__dict__.get("_fitted")
        if model is None:
            raise self._missing(obj)
        obj.__dict__["_fitted"] = model.replace(**{self.field: value})

    def __delete__(self, obj: Any) -> None:
        self.__set__(obj, None)


class _LiveHistory(_FromModel):
    """``scoring_history_``: also readable while the first fit runs (before a model)."""

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is not None and obj.__dict__.get("_fitted") is None \
                and "_live_history" in obj.__dict__:
            return obj.__dict__["_live_history"]
        return super().__get__(obj, owner)

    def __set__(self, obj: Any, value: Any) -> None:
        if obj.__dict__.get("_fitted") is None:
            obj.__dict__["_live_history"] = value
        else:
            super().__set__(obj, value)


#: fields a new fit carries over from the previous model until it sets them itself
#: (the estimator records its input columns and backend after the fit)
_CARRIED = ("backend", "n_features_in", "feature_names_in", "raw_feature_names",
            "had_names", "n_raw_features", "response_column")


class FittedMixin:
    """The fitted model of an estimator and everything that reads it.

    The estimator defines ``_label_rule``, ``_scoring_frame(X)`` and ``get_params``.
    """

    _label_rule: str

    # the fitted attributes, views of the fitted model
    state_ = _FromModel(*FITTED_ATTRIBUTES["state_"])
    data_info_ = _FromModel(*FITTED_ATTRIBUTES["data_info_"])
    params_ = _FromModel(*FITTED_ATTRIBUTES["params_"])
    scoring_history_ = _LiveHistory(*FITTED_ATTRIBUTES["scoring_history_"])
    training_metrics_ = _FromModel(*FITTED_ATTRIBUTES["training_metrics_"])
    validation_metrics_ = _FromModel(*FITTED_ATTRIBUTES["validation_metrics_"])
    task_ = _FromModel(*FITTED_ATTRIBUTES["task_"])
    distribution_ = _FromModel(*FITTED_ATTRIBUTES["distribution_"])
    seed_ = _FromModel(*FITTED_ATTRIBUTES["seed_"])
    nthreads_ = _FromModel(*FITTED_ATTRIBUTES["nthreads_"])
    stop_reason_ = _FromModel(*FITTED_ATTRIBUTES["stop_reason_"])
    n_iter_ = _FromModel(*FITTED_ATTRIBUTES["n_iter_"])
    epochs_ = _FromModel(*FITTED_ATTRIBUTES["epochs_"])
    run_time_ = _FromModel(*FITTED_ATTRIBUTES["run_time_"])
    events_ = _FromModel(*FITTED_ATTRIBUTES["events_"])
    backend_ = _FromModel(*FITTED_ATTRIBUTES["backend_"])
    n_features_in_ = _FromModel(*FITTED_ATTRIBUTES["n_features_in_"])
    response_column_ = _FromModel(*FITTED_ATTRIBUTES["response_column_"])
    _n_raw_features = _FromModel(*FITTED_ATTRIBUTES["_n_raw_features"])
    _fit_had_names = _FromModel(*FITTED_ATTRIBUTES["_fit_had_names"])
    _raw_feature_names = _FromModel(*FITTED_ATTRIBUTES["_raw_feature_names"])
    classes_ = _FromModel(*FITTED_ATTRIBUTES["classes_"])
    feature_names_in_ = _FromModel(*FITTED_ATTRIBUTES["feature_names_in_"])
    worker_rows_ = _FromModel(*FITTED_ATTRIBUTES["worker_rows_"])

    @property
    def model_(self) -> FittedModel:
        """The fitted model: a frozen value with everything training produced.

        Its ``user_params`` are the estimator's current parameters (``get_params``).

        Raises
        ------
        AttributeError
            The estimator is not fitted.
        """
        model = self.__dict__.get("_fitted")
        if model is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute 'model_'")
        return model.replace(estimator=type(self).__name__,
                             user_params=storable_params(self.get_params(deep=False)))

    @property
    def model_id_(self) -> str:
        """The fitted model's id: ``model_id`` when given, else the one the fit generated
        (H2O's ``DeepLearning_model_python_<session>_<n>``).

        ``dask_deeplearn.get_model(model_id_)`` returns this estimator; files named after
        the model (``save`` into a folder, ``export_checkpoints_dir``, ``download_mojo``,
        ``download_pojo``) use it. The ``model_id`` parameter (``get_params``) keeps what
        was given. A fit from scratch gets a new id; ``warm_start`` and ``partial_fit``
        continue under the same one.
        """
        model = self.__dict__.get("_fitted")
        if model is None or model.model_id is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute 'model_id_'")
        return model.model_id

    @property
    def n_classes_(self) -> int:
        """Number of classes (classifiers)."""
        return len(self.classes_)

    def _set_fitted(self, result: TrainResult, info: DataInfo, eff: dict[str, Any],
                    seed: int, nthreads: int) -> None:
        """Build the fitted model of a training run and keep it."""
        prev = self.__dict__.get("_fitted")
        carried = {} if prev is None else {f: getattr(prev, f) for f in _CARRIED}
        self.__dict__.pop("_live_history", None)
        classification = info.task == "classification"
        self.__dict__["_fitted"] = FittedModel(
            estimator=type(self).__name__,
            user_params=storable_params(self.get_params(deep=False)),
            state=result.state, data_info=info, params=storable_params(eff), task=info.task,
            distribution=eff["distribution"],
            classes=np.asarray(info.classes) if classification else None,
            label_rule=self._label_rule, scoring_history=result.history,
            training_metrics=result.training_metrics,
            validation_metrics=result.validation_metrics, stop_reason=result.stop_reason,
            iterations=result.iterations, epochs=result.epochs, run_time=result.run_time,
            events=result.events, seed=seed, nthreads=nthreads, **carried)

    def _wrap(self, model: FittedModel) -> None:
        """Hold ``model`` (a loaded model file) as this estimator's fitted model, under its
        recorded id (a new one when the file records none)."""
        from ._registry import new_model_id

        self.__dict__.pop("_live_history", None)
        changes: dict[str, Any] = {"label_rule": self._label_rule}
        if model.model_id is None:
            changes["params"] = {**model.params, "model_id": new_model_id()}
        self.__dict__["_fitted"] = model.replace(**changes)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())  # type: ignore[misc]
        state.pop("_stop_event", None)  # threading objects and live clients never pickle
        state.pop("_client", None)
        return state

    def _check_fitted(self) -> None:
        if "_fitted" not in self.__dict__:
            raise _EstimatorNotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' (or "
                "'train') with appropriate arguments before using this estimator."
            )

    # ------------------------------------------------------------------ scoring
    def _scorer(self) -> Any:
        """The light scoring object (what Dask workers receive instead of the estimator)."""
        from ..scorer import Scorer

        return Scorer.from_fitted(self.__dict__["_fitted"])

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
        frame = self._scoring_frame(X)  # type: ignore[attr-defined]
        if _is_dask(frame):
            from ..distributed.predict import map_predict

            scorer = self._scorer()
            return map_predict(scorer, frame, kind, scorer.meta(kind))
        return None

    def _predict_like(self, X: Any, kind: str) -> Any:
        """:meth:`_predict_any`, as a Dask Array when ``X`` is one (rows chunked as ``X``).

        A Dask DataFrame in gives a Dask DataFrame / Series (index kept); a Dask Array
        gives a Dask Array, 1-D for labels and values, ``(rows, classes)`` for
        probabilities, with the input's row chunks (unknown sizes stay unknown).
        """
        lazy = self._predict_any(X, kind)
        if lazy is None or not _is_dask(X):
            return lazy
        import dask.array as da

        if not isinstance(X, da.Array):
            return lazy
        rows = X.chunks[0]
        known = all(not np.isnan(n) for n in rows)
        return lazy.to_dask_array(lengths=list(rows) if known else None)

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
        model = self.__dict__["_fitted"]
        return model.threshold if model.binomial else None

    def _threshold(self) -> float:
        """Binomial label threshold: max-F1 of the validation, else training metrics (H2O)."""
        return self.__dict__["_fitted"].threshold

    def _labels(self, proba: np.ndarray) -> np.ndarray:
        return self._scorer().labels(proba)

    def _performance(self, frame: Any, response: str | None, weights_column: str | None) -> Any:
        info = self.data_info_
        if response is not None and response not in frame.columns:
            raise DataError(f"The frame has no response column {response!r} to score against.")
        if _is_dask(frame):
            from ..distributed.predict import reduce_partials

            part = reduce_partials(self._scorer(), frame)
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
            written inside it as ``<model_id_>.zip`` (the given ``model_id``, else the id
            the fit generated). A name ending in ``.zip``: one zip file. Any other name: a
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

    def download_mojo(self, path: Any = ".", get_genmodel_jar: bool = False,
                      genmodel_name: str = "") -> str:
        """Write the model as an H2O-3 Deep Learning MOJO (H2O's ``download_mojo``).

        H2O's own tools score the zip (``h2o.mojo_predict_pandas``, ``PredictCsv``,
        ``EasyPredictModelWrapper``). See :mod:`dask_deeplearn.export.mojo` for what maps
        onto genmodel and what is refused.

        Parameters
        ----------
        path : str or PathLike, default="."
            A folder (existing, or ending with a separator: created) that receives
            ``<model_id_>.zip``, or the zip file's name. An existing file is never replaced.
        get_genmodel_jar : bool, default=False
            Also copy the jar with h2o-genmodel's classes (the ``h2o`` package's
            ``h2o.jar``) next to the MOJO as ``genmodel_name`` (default
            ``h2o-genmodel.jar``); refused when the ``h2o`` package is not installed.
        genmodel_name : str, default=""

        Returns
        -------
        str
            The path of the MOJO written.
        """
        from ..export.mojo import download_mojo

        return download_mojo(self.model_, path, get_genmodel_jar, genmodel_name)

    def save_mojo(self, path: Any = "", force: bool = False, filename: str | None = None) -> str:
        """Write the model as an H2O-3 Deep Learning MOJO (H2O's ``save_mojo``).

        Parameters
        ----------
        path : str or PathLike, default=""
            The folder (created if needed; ``""``: the current folder).
        force : bool, default=False
            Replace a MOJO written there before (a file that is not a MOJO never is).
        filename : str, optional
            The file name (default ``<model_id_>.zip``).

        Returns
        -------
        str
            The path of the MOJO written.
        """
        from ..export.mojo import save_mojo

        return save_mojo(self.model_, path, force, filename)

    def download_pojo(self, path: Any = "", get_genmodel_jar: bool = False,
                      genmodel_name: str = "") -> str | None:
        """Write the model's POJO, a ``hex.genmodel.GenModel`` (H2O's ``download_pojo``).

        The class is the model's id (``model_id_``) made a Java identifier; it compiles against
        h2o-genmodel and ``EasyPredictModelWrapper`` scores it. :meth:`export_java` writes
        the same scorer without the h2o-genmodel dependency.

        Parameters
        ----------
        path : str or PathLike, default=""
            The folder that receives ``<class>.java`` (created if needed); ``""`` prints
            the source. An existing file is never replaced.
        get_genmodel_jar : bool, default=False
            Also copy the ``h2o`` package's ``h2o.jar`` (it holds h2o-genmodel) into the
            folder as ``genmodel_name`` (default ``h2o-genmodel.jar``).
        genmodel_name : str, default=""

        Returns
        -------
        str or None
            The ``.java`` file written (None when printed).
        """
        from ..export.pojo import download_pojo

        return download_pojo(self.model_, path, get_genmodel_jar, genmodel_name)

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
        if "_fitted" not in self.__dict__ or not self.params_.get("export_weights_and_biases"):
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
