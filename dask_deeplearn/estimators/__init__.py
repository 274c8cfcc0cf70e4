"""scikit-learn and H2O-style estimators."""

from ._base import FitHandle
from ._import_mojo import import_mojo
from ._load import load_model
from ._registry import get_model, ls, remove, remove_all
from .autoencoder import DeepLearningAutoEncoder, DeepLearningAutoencoder, pretrain_stacked
from .h2o_api import AutoEncoderEstimator, DeepLearningEstimator
from .sklearn_api import DeepLearningClassifier, DeepLearningRegressor

__all__ = ["AutoEncoderEstimator", "DeepLearningAutoEncoder", "DeepLearningAutoencoder", "DeepLearningClassifier",
           "DeepLearningRegressor", "DeepLearningEstimator", "FitHandle", "import_mojo", "load_model",
           "pretrain_stacked", "get_model", "ls", "remove", "remove_all"]
