"""scikit-learn estimators: :class:`DeepLearningClassifier` and :class:`DeepLearningRegressor`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import ClassifierMixin, RegressorMixin

from ._base import _RESPONSE, _WEIGHT, DeepLearningBase, with_h2o_parameters

__all__ = ["DeepLearningClassifier", "DeepLearningRegressor"]


class _SklearnMixin(DeepLearningBase):
    def fit(self, X: Any, y: Any, *, validation_data: tuple[Any, Any] | None = None,
            sample_weight: Any = None) -> "_SklearnMixin":
        """Train on ``X`` and ``y`` (numpy arrays or pandas frames).

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_features)
            Predictors. DataFrame columns may be numeric or categorical (``category``,
            object or string dtype).
        y : array-like of shape (n_samples,)
            Response.
        validation_data : tuple (X_valid, y_valid), optional
            H2O's ``validation_frame``: scored on the schedule, drives early stopping and
            the best-model choice.
        sample_weight : array-like of shape (n_samples,), optional
            Observation weights (H2O's ``weights_column``).

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            A parameter value or combination is invalid.
        DataError
            The data cannot be used as given.
        """
        return self._fit_xy(X, y, validation_data=validation_data,
                            sample_weight=sample_weight, task=self._task)

    def model_performance(self, X: Any = None, y: Any = None, *, sample_weight: Any = None,
                          train: bool = False, valid: bool = False) -> Any:
        """H2O's ``model_performance``: metrics on new data, or the training/validation ones.

        Parameters
        ----------
        X, y : optional
            Data to score. When omitted, the metrics of the last scoring event are
            returned (validation if ``valid`` else training).
        sample_weight : array-like, optional
        train, valid : bool, default=False

        Returns
        -------
        ModelMetrics
            With H2O's metric names as attributes (``mse``, ``rmse``, ``logloss``,
            ``auc``, ``r2``, ...).
        """
        self._check_fitted()
        if X is None:
            return self.validation_metrics_ if valid else self.training_metrics_
        frame = self._scoring_frame(X)
        extra = {_RESPONSE: np.asarray(y).reshape(-1)}
        if sample_weight is not None:
            extra[_WEIGHT] = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        return self._performance(frame.assign(**extra), _RESPONSE,
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

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes), float64
        """
        return self._raw_predict(self._scoring_frame(X))

    def predict(self, X: Any) -> np.ndarray:
        """Class labels: arg-max, or for two classes H2O's max-F1 threshold on p(class 1).

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
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
        """
        return self._raw_predict(self._scoring_frame(X))
