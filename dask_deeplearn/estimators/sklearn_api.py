"""scikit-learn estimators: :class:`DeepLearningClassifier` and :class:`DeepLearningRegressor`."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin, RegressorMixin

from ..exceptions import DataError, InvalidParameterError
from ._base import _RESPONSE, _WEIGHT, DeepLearningBase, _attach_dask, _is_dask, with_h2o_parameters

__all__ = ["DeepLearningClassifier", "DeepLearningRegressor"]

if TYPE_CHECKING:
    import dask.array as da
    import dask.dataframe as dd

#: what predict returns: numpy for in-memory input, a Dask Array for a Dask Array, a
#: Dask Series for a Dask DataFrame (predict_proba: a Dask DataFrame)
Predictions = Union[np.ndarray, "da.Array", "dd.Series", "dd.DataFrame"]


def _unique_labels(values: Any) -> np.ndarray:
    """Sorted distinct labels of ``values`` (missing values dropped)."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        arr = arr.reshape(-1)
    present = pd.Series(arr).dropna().to_numpy()
    try:
        return np.unique(present)
    except TypeError:  # mixed types: keep first-seen order
        return pd.unique(present)


def _check_labels_in(y: Any, classes: Any, *, first: bool) -> None:
    """Every label of a ``partial_fit`` block must be one of ``classes`` (clear error)."""
    labels = _unique_labels(y)
    known = set(np.asarray(classes).tolist())
    unseen = [v for v in labels.tolist() if v not in known]
    if unseen:
        origin = "given in classes=" if first else "the model was fitted with (classes_)"
        raise DataError(
            f"y has label(s) {unseen[:10]!r} that are not among the classes "
            f"{sorted(known, key=str)[:20]!r} {origin}; pass every label in classes= on the "
            "first partial_fit call."
        )


class _SklearnMixin(DeepLearningBase):
    # scikit-learn's contract: predict is classes_[argmax(predict_proba)], also for two classes
    _label_rule = "argmax"

    def fit(self, X: Any, y: Any, *, validation_data: tuple[Any, Any] | None = None,
            sample_weight: Any = None, client: Any = None, block: bool = True) -> Any:
        """Train on ``X`` and ``y``: numpy, pandas, or Dask collections.

        Dask input (or ``backend="dask"``, or a default ``distributed.Client``) trains on
        the cluster's workers, each on the partitions it holds; numpy / pandas input
        otherwise trains in this process. Inside a Dask worker task (a dask-ml search,
        ``ParallelPostFit``, ``Incremental``) numpy / pandas input always trains in the
        worker process (``nthreads=-1`` then means the worker's threads): no cluster is
        started or borrowed from a task.

        Parameters
        ----------
        X : array-like, pandas.DataFrame, dask.dataframe.DataFrame or dask.array.Array
            Predictors, shape (n_samples, n_features). DataFrame columns may be numeric or
            categorical (``category``, object or string dtype); array columns are taken
            by position (named ``C1..Cn``), an object array's numeric columns as numbers.
            A SciPy sparse matrix is densified. Missing values (NaN) are imputed as
            ``missing_values_handling`` says. A column named by the ``weights_column`` or
            ``offset_column`` parameter (``"C<j>"`` for an array) is read as the
            observation weights / offsets, not as a feature; ``predict`` then reads the
            offsets from its ``X`` too (``n_features_in_`` counts the column).
        y : array-like, pandas.Series, or Dask Series/Array of shape (n_samples,)
            Response; a Dask ``y`` must have the same partitions as a Dask ``X``.
        validation_data : tuple (X_valid, y_valid), optional
            H2O's ``validation_frame``: scored on the schedule, drives early stopping and
            the best-model choice. May be Dask collections.
        sample_weight : array-like, optional
            Observation weights (H2O's ``weights_column``), aligned with ``y``; not
            together with a ``weights_column`` parameter.
        client : distributed.Client, optional
            Cluster to train on (else ``scheduler_address``, the default client, or an
            embedded ``LocalCluster`` for Dask input). Never stored as a parameter.
        block : bool, default=True
            ``False`` returns a :class:`~dask_deeplearn.estimators.FitHandle` at once and
            trains in a background thread; ``scoring_history_`` grows live.

        Returns
        -------
        self, or a FitHandle when ``block=False``

        Raises
        ------
        InvalidParameterError
            A parameter value or combination is invalid.
        DataError
            The data cannot be used as given (the message names the column or argument,
            the value and what is allowed); a ValueError. Cells that are neither numbers
            nor strings raise a DataError that is also a TypeError. Also when
            ``weights_column`` / ``offset_column`` is not a column of ``X``, or
            ``sample_weight`` is given with a ``weights_column``.
        """
        def run() -> "_SklearnMixin":
            if not (self.warm_start and hasattr(self, "state_") and self.checkpoint is None):
                return self._fit_xy(X, y, validation_data=validation_data,
                                    sample_weight=sample_weight, task=self._task,
                                    client=client)
            # warm start = H2O's checkpoint restart from this model, epochs more epochs
            params, prev = self._continued(float(self.epochs))
            return self._fit_xy(X, y, validation_data=validation_data,
                                sample_weight=sample_weight, task=self._task,
                                client=client, classes=getattr(prev, "classes_", None),
                                reset=False, params=params, more_passes=float(self.epochs))

        return self._launch(run, block)

    def _continued(self, more_passes: float) -> tuple[dict[str, Any], Any]:
        """The parameters of a fit continuing this fitted model (H2O's checkpoint restart
        from a copy of ``self``) for ``more_passes`` passes, and that copy.

        (The exact epochs target is set from the trainable row count by the fit plan.)
        """
        prev = copy.copy(self)
        return {**self._params(), "checkpoint": prev,
                "epochs": float(prev.epochs_) + float(more_passes)}, prev

    def partial_fit(self, X: Any, y: Any, classes: Any = None,
                    sample_weight: Any = None) -> "_SklearnMixin":
        """Train one pass over ``X`` and ``y``, continuing the current model.

        The scikit-learn face of H2O's checkpoint restart: the first call
        fits a new model on its block; each later call continues it, keeping the weights,
        the optimiser state (ADADELTA accumulators or momentum), the sample counter and
        the scoring history, for one pass over the new block.

        **Samples per call.** One call trains on ``n`` samples, where ``n`` is the number
        of rows of the block that can be trained on (rows with a missing response or a
        zero weight, and with ``missing_values_handling="Skip"`` rows with a missing
        value, do not count): ``state_.processed`` grows by ``n`` (by a little more only
        if ``train_samples_per_iteration`` asks for iterations larger than the block),
        ``epochs_`` counts passes over the *current* block's size, and the scoring
        history gets one row per call.

        **The first call** also fits the preprocessing (standardisation statistics,
        categorical levels, constant columns dropped by ``ignore_const_cols``) on its
        block, and later blocks are scaled with it: make the first block
        representative. Later blocks need the same columns; they may lack classes or
        levels, and hold a single row.

        Parameters
        ----------
        X : array-like, pandas.DataFrame, or Dask DataFrame / Array of shape (n_samples, n_features)
            A block of predictors. numpy blocks without column names (what dask-ml's
            ``Incremental`` and incremental searches pass, float64) are read by position.
            A Dask collection trains on the cluster (one call = one pass over it).
        y : array-like, pandas.Series, or Dask Series / Array of shape (n_samples,)
            The block's response.
        classes : array-like of shape (n_classes,), optional
            Classifiers: every class label. Required on the first call when a block may
            lack some classes (scikit-learn's convention); on later calls it must be
            the same set (or omitted). Ignored by regressors.
        sample_weight : array-like of shape (n_samples,), optional
            Observation weights of the block.

        Returns
        -------
        self

        Raises
        ------
        DataError
            A block with labels not in ``classes`` (or not seen by the first call), with
            other columns or a different number of features than the first block, or
            with categorical levels the first block did not have.
        InvalidParameterError
            ``classes`` changed between calls, or cross-validation was requested.
        """
        owner = type(self).__name__
        if self.nfolds not in (0, None) or self.fold_column is not None:
            raise InvalidParameterError(
                f"partial_fit cannot cross-validate (nfolds={self.nfolds!r}, fold_column="
                f"{self.fold_column!r}); set nfolds=0 and fold_column=None, or use fit.")
        is_clf = self._task == "classification"
        if is_clf and classes is not None:
            classes = _unique_labels(classes)
            if hasattr(self, "state_") and list(classes) != list(self.classes_):
                raise InvalidParameterError(
                    f"classes={np.asarray(classes).tolist()!r} is not the same as on the "
                    f"first call to {owner}.partial_fit, which was "
                    f"{np.asarray(self.classes_).tolist()!r}.")
        if is_clf and y is not None and not _is_dask(y):
            allowed = classes if classes is not None else getattr(self, "classes_", None)
            if allowed is not None:
                _check_labels_in(y, allowed, first=not hasattr(self, "state_"))
        if hasattr(self, "state_"):
            params, prev = self._continued(1.0)
            self._fit_xy(X, y, validation_data=None, sample_weight=sample_weight,
                         task=self._task, classes=getattr(prev, "classes_", None),
                         reset=False, params=params, more_passes=1.0)
            return self
        self._fit_xy(X, y, validation_data=None, sample_weight=sample_weight,
                     task=self._task, classes=classes, params={**self._params(), "epochs": 1.0})
        return self

    def model_performance(self, X: Any = None, y: Any = None, *, sample_weight: Any = None,
                          train: bool = False, valid: bool = False, xval: bool = False) -> Any:
        """H2O's ``model_performance``: metrics on new data, or the training/validation ones.

        Parameters
        ----------
        X, y : optional
            Data to score. When omitted, the metrics of the last scoring event are
            returned (validation if ``valid`` else training).
        sample_weight : array-like, optional
        train, valid : bool, default=False
        xval : bool, default=False
            The cross-validation metrics (``nfolds`` or ``fold_column``): computed from the
            combined holdout predictions, each row scored by the model that did not see it.

        Returns
        -------
        ModelMetrics
            With H2O's metric names as attributes (``mse``, ``rmse``, ``logloss``,
            ``auc``, ``r2``, ...).
        """
        self._check_fitted()
        if xval:
            return self._xval_metrics()
        if X is None:
            return self.validation_metrics_ if valid else self.training_metrics_
        frame = self._scoring_frame(X)
        if _is_dask(frame):
            extra = {_RESPONSE: y}
            if sample_weight is not None:
                extra[_WEIGHT] = sample_weight
            scored = _attach_dask(frame, extra)
        else:
            extra = {_RESPONSE: np.asarray(y).reshape(-1)}
            if sample_weight is not None:
                extra[_WEIGHT] = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
            scored = frame.assign(**extra)
        return self._performance(scored, _RESPONSE,
                                 _WEIGHT if sample_weight is not None else None)


@with_h2o_parameters
class DeepLearningClassifier(ClassifierMixin, _SklearnMixin):
    """H2O Deep Learning classifier with the scikit-learn API.

    A feed-forward network trained by Hogwild SGD on every core, with H2O's defaults and
    semantics (ADADELTA, Rectifier 200-200, standardised inputs, one-hot categoricals with
    a missing-value slot, scoring schedule and moving-average early stopping).

    Parameters
    ----------
{parameters}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    threshold_ : float or None
        Two classes: H2O's max-F1 threshold on p(class 1) (validation metrics, else
        training metrics), which ``DeepLearningEstimator.predict`` uses; this estimator's
        ``predict`` does not (it is the arg-max of ``predict_proba``). None otherwise.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X was a DataFrame with string column names.
    scoring_history_ : pandas.DataFrame
        H2O's scoring history (first row is the untrained model's NaN row).
    training_metrics_, validation_metrics_ : ModelMetrics
    n_iter_ : int
        Training iterations run.
    epochs_ : float
        Epochs trained.
    stop_reason_ : str
        Why training ended: ``"epochs"``, ``"early_stopping"``, ``"classification_stop"``
        / ``"regression_stop"``, ``"max_runtime_secs"``, ``"cancelled"``,
        ``"interrupted"`` (Ctrl-C), ``"diverged"``, ``"failed"``, or, when a Dask fit
        lost its cluster, ``"interrupted: every worker lost"`` / ``"interrupted:
        scheduler lost"`` (the model of the last finished iteration is kept, and the
        last row of ``scoring_history_`` is that model, with the reason in its
        ``status`` column).
    state_ : ModelState
        Weights, biases and optimiser state.
    data_info_ : DataInfo
        The fitted preprocessing plan.

    Notes
    -----
    scikit-learn compatibility: ``check_estimator`` passes except the checks listed with
    their reasons by ``_expected_failed_checks()`` (sample-weight equivalence: SGD with
    weighted steps is not the same as repeating rows). ``clone``, pickling, pipelines,
    ``GridSearchCV`` and dask-ml's searches work; ``partial_fit`` continues training
    block by block. DataFrame columns are matched by name (H2O), so their order may
    change between ``fit`` and ``predict``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from dask_deeplearn import DeepLearningClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = DeepLearningClassifier(hidden=[16], epochs=20, seed=1, reproducible=True)
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    """

    _task = "classification"

    def predict_proba(self, X: Any) -> Predictions:
        """Class probabilities.

        Parameters
        ----------
        X : array-like, pandas.DataFrame, polars frame or Dask collection of shape \
(n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes), float64
            For a Dask DataFrame: a lazy Dask DataFrame with one column per class (named
            by the class label) and the input's index. For a Dask Array: a lazy float64
            Dask Array of shape (n_samples, n_classes) with the input's row chunks.
        """
        lazy = self._predict_like(X, "proba")
        if lazy is not None:
            return lazy
        return self._raw_predict(self._scoring_frame(X))

    def predict(self, X: Any) -> Predictions:
        """Class labels: ``classes_[argmax(predict_proba(X))]``, for two classes too.

        scikit-learn's contract (``score``, ``GridSearchCV`` and every search's default
        scoring rely on it): the most probable class, the first one on a tie. H2O's
        ``DeepLearningEstimator.predict`` labels a binomial row by the max-F1 threshold
        instead; that threshold is :attr:`threshold_` (apply it as
        ``classes_[(predict_proba(X)[:, 1] >= threshold_).astype(int)]``). The scorers
        exported from this model (``export_python``, ``export_java``, ``score_parquet``,
        the command line) give the same labels as this method.

        Parameters
        ----------
        X : array-like, pandas.DataFrame, polars frame or Dask collection of shape \
(n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            For a Dask DataFrame: a lazy Dask Series named ``predict`` with the input's
            index. For a Dask Array: a lazy 1-D Dask Array with the input's row chunks.
        """
        lazy = self._predict_like(X, "label")
        if lazy is not None:
            return lazy
        return self._labels(self.predict_proba(X))


@with_h2o_parameters
class DeepLearningRegressor(RegressorMixin, _SklearnMixin):
    """H2O Deep Learning regressor with the scikit-learn API.

    Supports H2O's distributions (gaussian, poisson, gamma, tweedie, laplace, quantile,
    huber), response standardisation with exact de-standardisation, and offsets.

    Parameters
    ----------
{parameters}

    Attributes
    ----------
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X was a DataFrame with string column names.
    scoring_history_ : pandas.DataFrame
    training_metrics_, validation_metrics_ : ModelMetrics
    n_iter_ : int
    epochs_ : float
    stop_reason_ : str
        Why training ended (the values of ``DeepLearningClassifier.stop_reason_``).
    state_ : ModelState
    data_info_ : DataInfo

    Notes
    -----
    scikit-learn compatibility: as :class:`DeepLearningClassifier`.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from dask_deeplearn import DeepLearningRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = DeepLearningRegressor(hidden=[32], epochs=30, seed=1, reproducible=True)
    >>> reg.fit(X, y).score(X, y) > 0.4
    True
    """

    _task = "regression"

    def predict(self, X: Any) -> Predictions:
        """Predicted response in original units (de-standardised, inverse link applied).

        Parameters
        ----------
        X : array-like, pandas.DataFrame, polars frame or Dask collection of shape \
(n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), float64
            For a Dask DataFrame: a lazy Dask Series named ``predict`` with the input's
            index. For a Dask Array: a lazy 1-D float64 Dask Array with the input's row
            chunks.
        """
        lazy = self._predict_like(X, "value")
        if lazy is not None:
            return lazy
        return self._raw_predict(self._scoring_frame(X))
