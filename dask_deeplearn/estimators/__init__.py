"""scikit-learn and H2O-style estimators."""

from ._base import FitHandle
from .h2o_api import DeepLearningEstimator
from .sklearn_api import DeepLearningClassifier, DeepLearningRegressor

__all__ = ["DeepLearningClassifier", "DeepLearningRegressor", "DeepLearningEstimator", "FitHandle"]
