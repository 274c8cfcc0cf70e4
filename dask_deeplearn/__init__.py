"""dask_deeplearn: H2O-3 Deep Learning, rebuilt Dask-native in Python.

Estimators
----------
DeepLearningClassifier, DeepLearningRegressor
    scikit-learn API.
DeepLearningAutoEncoder
    Unsupervised autoencoder (``anomaly``, ``deepfeatures``, reconstructions);
    ``pretrain_stacked`` pretrains a deep network layer by layer.
DeepLearningEstimator
    H2O's call style: ``DeepLearningEstimator(**params).train(x=, y=, training_frame=)``.

Model selection
---------------
DeepLearningGridSearch
    H2O's grid search: Cartesian, RandomDiscrete, and our SuccessiveHalving / Hyperband
    that continue survivors from their checkpoints.

Model files
-----------
load_model
    Read a model written by ``model.save(path)`` (safe: JSON and ``.npy`` only).
score_parquet
    Score a partitioned Parquet dataset into Parquet (the model sent once per worker).
"""

from typing import Any

from .exceptions import (
    DataError,
    InvalidParameterError,
    ModelFileError,
    NotFittedError,
    UnstableModelError,
)

__version__ = "0.1.0"

# Estimators, model files and presets load on first use: a Dask worker that only unpickles
# a scorer (dask_deeplearn.scorer) must not pay for scikit-learn and Numba imports.
_LAZY = {
    "DeepLearningAutoEncoder": "estimators",
    "DeepLearningAutoencoder": "estimators",
    "DeepLearningClassifier": "estimators",
    "DeepLearningRegressor": "estimators",
    "DeepLearningEstimator": "estimators",
    "pretrain_stacked": "estimators",
    "DeepLearningGridSearch": "model_selection",
    "load_model": "io",
    "score_parquet": "io",
    "presets": None,
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        where = _LAZY[name]
        if where is None:
            return importlib.import_module(f".{name}", __name__)
        return getattr(importlib.import_module(f".{where}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "DeepLearningAutoEncoder",
    "DeepLearningAutoencoder",
    "DeepLearningClassifier",
    "DeepLearningRegressor",
    "DeepLearningEstimator",
    "pretrain_stacked",
    "DeepLearningGridSearch",
    "load_model",
    "score_parquet",
    "presets",
    "DataError",
    "InvalidParameterError",
    "ModelFileError",
    "NotFittedError",
    "UnstableModelError",
    "__version__",
]
