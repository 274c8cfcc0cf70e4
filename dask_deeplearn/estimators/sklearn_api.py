"""scikit-learn estimators: :class:`DeepLearningClassifier` and :class:`DeepLearningRegressor`."""

from __future__ import annotations

import contextlib
import copy
from typing import Any, Iterator

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin, RegressorMixin

from ._base import _RESPONSE, _WEIGHT, DeepLearningBase, _attach_dask, _is_dask, with_h2o_parameters

__all__ = ["DeepLearningClassifier", "DeepLearningRegressor"]


class _SklearnMixin(DeepLearningBase):
    def fit(self, X: Any, y: Any, *, validation_data: tuple[Any, Any] | None = None,
            sample_weight: Any = None, client: Any = None, block: bool = True) -> Any:
        """Train on ``X`` and ``y``: numpy, pandas, or Dask collections.

        Dask input (or ``backend="dask"``, or a default ``distributed.Client``) trains on
        the cluster's workers, each on the partitions it holds; numpy / pandas input
        otherwise trains in this process.

        Parameters
        ----------
        X : array-like, pandas.DataFrame, dask.dataframe.DataFrame or dask.array.Array
            Predictors, shape (n_samples, n_features). DataFrame columns may be numeric or
            categorical (``category``, object or string dtype).
        y : array-like, pandas.Series, or Dask Series/Array of shape (n_samples,)
            Response; a Dask ``y`` must have the same partitions as a Dask ``X``.
        validation_data : tuple (X_valid, y_valid), optional
            H2O's ``validation_frame``: scored on the schedule, drives early stopping and
            the best-model choice. May be Dask collections.
        sample_weight : array-like, optional
            Observation weights (H2O's ``weights_column``), aligned with ``y``.
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
            The data cannot be used as given.
        """
        def run() -> "_SklearnMixin":
            if not (self.warm_start and hasattr(self, "state_") and self.checkpoint is None):
                return self._fit_xy(X, y, validation_data=validation_data,
                                    sample_weight=sample_weight, task=self._task,
                                    client=client)
            # warm start = H2O's checkpoint restart from this model, epochs more epochs
            with self._continuing(len(X), float(self.epochs)) as prev:
                return self._fit_xy(X, y, validation_data=validation_data,
                                    sample_weight=sample_weight, task=self._task,
                                    client=client, classes=getattr(prev, "classes_", None))

        return self._launch(run, block)

    @contextlib.contextmanager
    def _continuing(self, n_rows: int, more_epochs: float) -> Iterator[Any]:
        """Within the block, ``fit`` continues this fitted model for ``more_epochs``."""
        saved = (self.epochs, self.checkpoint)
        prev = copy.copy(self)
        try:
            self.checkpoint = prev
            self.epochs = prev.state_.processed / max(1, n_rows) + more_epochs
            self._partial = True
            yield prev
        finally:
            self.epochs, self.checkpoint = saved
            self._partial = False

    def partial_fit(self, X: Any, y: Any, classes: Any = None,
                    sample_weight: Any = None) -> "_SklearnMixin":
        """Train one more epoch over ``X`` and ``y``, continuing the current model.

        The scikit-learn face of H2O's checkpoint restart (semantics §1.4): the first call
        fits a new model for one epoch; each later call continues it (weights, optimiser
        state, sample counter and scoring history) for one pass over the new data, which
        must have the same columns and categorical levels.

        Parameters
        ----------
        X, y : array-like or pandas objects
        classes : array-like, optional
            Every class label (classifiers); needed on the first call when a chunk may not
            contain them all.
        sample_weight : array-like, optional

        Returns
        -------
        self
        """
        if hasattr(self, "state_"):
            with self._continuing(len(X), 1.0) as prev:
                if classes is None and hasattr(prev, "classes_"):
                    classes = prev.classes_
                self._fit_xy(X, y, validation_data=None, sample_weight=sample_weight,
                             task=self._task, classes=classes)
            return self
        saved = self.epochs
        try:
            self.epochs = 1.0
            self._fit_xy(X, y, validation_data=None, sample_weight=sample_weight,
                         task=self._task, classes=classes)
        finally:
            self.epochs = saved
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
    state_ : ModelState
        Weights, biases and optimiser state.
    data_info_ : DataInfo
        The fitted preprocessing plan.

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

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities.

        Parameters
        ----------
        X : array-like, pandas.DataFrame or Dask collection of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes), float64
            For Dask input: a lazy Dask DataFrame with one column per class (named by the
            class label) and the input's index.
        """
        lazy = self._predict_any(X, "proba")
        if lazy is not None:
            return lazy
        return self._raw_predict(self._scoring_frame(X))

    def predict(self, X: Any) -> np.ndarray:
        """Class labels: arg-max, or for two classes H2O's max-F1 threshold on p(class 1).

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            For Dask input: a lazy Dask Series named ``predict`` with the input's index.
        """
        lazy = self._predict_any(X, "label")
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
    state_ : ModelState
    data_info_ : DataInfo

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

    def predict(self, X: Any) -> np.ndarray:
        """Predicted response in original units (de-standardised, inverse link applied).

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,), float64
            For Dask input: a lazy Dask Series named ``predict`` with the input's index.
        """
        lazy = self._predict_any(X, "value")
        if lazy is not None:
            return lazy
        return self._raw_predict(self._scoring_frame(X))
