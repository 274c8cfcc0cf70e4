"""``load_model``: a model file read as a fitted model, wrapped in its estimator class."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..io.model_files import inconsistent, read_model
from ._base import DeepLearningBase
from ._registry import register

__all__ = ["load_model", "read_estimator"]


def _estimator_classes() -> dict[str, type[DeepLearningBase]]:
    """The classes a model file may name (a fixed table: nothing is looked up by name)."""
    from .autoencoder import DeepLearningAutoEncoder
    from .h2o_api import DeepLearningEstimator
    from .sklearn_api import DeepLearningClassifier, DeepLearningRegressor

    return {c.__name__: c for c in (DeepLearningClassifier, DeepLearningRegressor,
                                     DeepLearningEstimator, DeepLearningAutoEncoder)}


def load_model(path: str | os.PathLike) -> Any:
    """Load a model saved by :func:`dask_deeplearn.io.save_model` (or ``model.save``).

    Parameters
    ----------
    path : str or PathLike
        The model directory or ``.zip``.

    Returns
    -------
    DeepLearningClassifier, DeepLearningRegressor, DeepLearningEstimator or DeepLearningAutoEncoder
        Fitted, predicting exactly as the saved model did. Parameters that name places
        (``scheduler_address``, ``export_checkpoints_dir`` and the paths of
        ``checkpoint``, ``pretrained_autoencoder``, ``initial_weights``,
        ``initial_biases``) are never taken from the file: they are None, so training
        the loaded model further connects and writes only where the caller says. Its
        ``model_id_`` is the id the file records when valid (else a new one, with a
        warning), and it is listed under it (:func:`dask_deeplearn.get_model`, taking the
        id over from a model of this process that has it); ``get_params()["model_id"]``
        is what the saved model's parameter was. A fit with ``checkpoint=<file>`` uses the
        caller's ``model_id`` (else a new id), never the file's.

    Raises
    ------
    FileNotFoundError
        Nothing at ``path``. When a directory save to it was killed between its two
        renames, the message names the hidden ``.<name>.old-*`` backup holding the
        previous model (it is never loaded in place of ``path``).
    ModelFileError
        The file is not a model, is damaged or truncated, holds pickled objects, or was
        written by a newer version of dask_deeplearn.
    """
    estimator = read_estimator(path, stacklevel=3)
    register(estimator)
    return estimator


def read_estimator(path: str | os.PathLike, stacklevel: int = 2) -> Any:
    """:func:`load_model` without listing the model in the registry (what a fit reads
    for ``checkpoint=<file>``: a copy that must not take the id from the live model)."""
    classes = _estimator_classes()
    model = read_model(path, estimators={n: c._label_rule for n, c in classes.items()},
                       stacklevel=stacklevel)
    try:
        estimator = classes[model.estimator](**model.user_params)
    except (TypeError, ValueError) as exc:
        raise inconsistent(Path(path), exc) from None
    estimator._wrap(model)
    return estimator
