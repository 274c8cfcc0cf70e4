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
AutoEncoderEstimator
    H2O's ``H2OAutoEncoderEstimator``: ``AutoEncoderEstimator(**params).train(x=, training_frame=)``.

Model selection
---------------
DeepLearningGridSearch
    H2O's grid search: Cartesian, RandomDiscrete, and our SuccessiveHalving / Hyperband
    that continue survivors from their checkpoints.

Sub-packages
------------
Every public sub-package and module (``io``, ``export``, ``metrics``, ``model_selection``,
``preprocessing``, ``distributed``, ``scorer``, ...) is an attribute of the package,
imported on first access: ``import dask_deeplearn as ddl; ddl.io.save_model(...)``.

Model files
-----------
load_model
    Read a model written by ``model.save(path)`` (safe: JSON and ``.npy`` only).
import_mojo
    Import an H2O-3 Deep Learning MOJO as a fitted ``DeepLearningEstimator`` (no JVM).
score_parquet
    Score a partitioned Parquet dataset into Parquet (the model sent once per worker).

Model ids
---------
get_model, ls, remove, remove_all
    H2O's ``h2o.get_model(id)``, ``h2o.ls()``, ``h2o.remove`` and ``h2o.remove_all`` for
    the models of this process (every fitted, loaded or imported model, held weakly).
"""

from typing import Any

from .exceptions import (
    DataError,
    InvalidParameterError,
    ModelFileError,
    ModelNotFoundError,
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
    "AutoEncoderEstimator": "estimators",
    "pretrain_stacked": "estimators",
    "DeepLearningGridSearch": "model_selection",
    "load_model": "estimators",
    "import_mojo": "estimators",
    "get_model": "estimators",
    "ls": "estimators",
    "remove": "estimators",
    "remove_all": "estimators",
    "score_parquet": "io",
    "presets": None,
}

# Public sub-packages and modules, imported on first attribute access (scikit-learn's
# lazy-submodule pattern): ``import dask_deeplearn`` stays cheap.
_SUBMODULES = (
    "cli", "demo", "distributed", "estimators", "exceptions", "export", "fast_scoring",
    "inspection", "io", "kernels", "metrics", "model_selection", "network", "params",
    "plotting", "preprocessing", "presets", "scorer", "training", "weights",
)


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY and _LAZY[name] is not None:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))


__all__ = [
    "DeepLearningAutoEncoder",
    "DeepLearningAutoencoder",
    "DeepLearningClassifier",
    "DeepLearningRegressor",
    "DeepLearningEstimator",
    "AutoEncoderEstimator",
    "pretrain_stacked",
    "DeepLearningGridSearch",
    "load_model",
    "import_mojo",
    "get_model",
    "ls",
    "remove",
    "remove_all",
    "score_parquet",
    "presets",
    "DataError",
    "InvalidParameterError",
    "ModelFileError",
    "ModelNotFoundError",
    "NotFittedError",
    "UnstableModelError",
    "__version__",
]
