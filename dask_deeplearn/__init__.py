"""dask_deeplearn: H2O-3 Deep Learning, rebuilt Dask-native in Python.

Estimators
----------
DeepLearningClassifier, DeepLearningRegressor
    scikit-learn API.
DeepLearningEstimator
    H2O's call style: ``DeepLearningEstimator(**params).train(x=, y=, training_frame=)``.
"""

from . import presets
from .estimators import DeepLearningClassifier, DeepLearningEstimator, DeepLearningRegressor
from .exceptions import DataError, InvalidParameterError, NotFittedError, UnstableModelError

__version__ = "0.1.0"

__all__ = [
    "DeepLearningClassifier",
    "DeepLearningRegressor",
    "DeepLearningEstimator",
    "presets",
    "DataError",
    "InvalidParameterError",
    "NotFittedError",
    "UnstableModelError",
    "__version__",
]
