"""``load_model``: a model file read as a fitted model, wrapped in its estimator class."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..io.model_files import inconsistent, read_model
from ._base import DeepLearningBase

__all__ = ["load_model"]


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
        the loaded model further connects and writes only where the caller says. The
        stored ``model_id`` is kept as the model's name when it is a valid id (else None,
        with a warning); a fit with ``checkpoint=<file>`` uses the caller's ``model_id``,
        never the file's.

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
    classes = _estimator_classes()
    model = read_model(path, estimators={n: c._label_rule for n, c in classes.items()},
                       stacklevel=2)
    try:
        estimator = classes[model.estimator](**model.user_params)
    except (TypeError, ValueError) as exc:
        raise inconsistent(Path(path), exc) from None
    estimator._wrap(model)
    return estimator
