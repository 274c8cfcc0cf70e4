"""``import_mojo``: an H2O-3 Deep Learning MOJO as a fitted estimator of ours."""

from __future__ import annotations

import os
from typing import Any

from ..io.mojo_reader import read_mojo
from ._registry import register

__all__ = ["import_mojo"]


def import_mojo(path: str | os.PathLike) -> Any:
    """Import an H2O-3 Deep Learning MOJO as a fitted :class:`DeepLearningEstimator`.

    The model predicts as H2O's MOJO scorer (h2o-genmodel) does: ``predict`` gives H2O's
    prediction frame (``predict`` and one column per class, binomial labels by the MOJO's
    ``default_threshold``; regression ``predict``; an autoencoder's ``reconstr_*``
    columns), on pandas or lazily on Dask DataFrames, and ``score_parquet``,
    ``export_python``, ``export_java`` and ``save`` take it like any model of ours. No
    JVM is needed.

    Parameters
    ----------
    path : str or PathLike
        The MOJO zip (``model.download_mojo()`` in H2O) or its unpacked folder.

    Returns
    -------
    DeepLearningEstimator
        Fitted; ``autoencoder=True`` for an H2O autoencoder. Its parameters are the
        values H2O recorded (``get_params()``), its ``model_id`` H2O's (the model is
        listed under it: ``dask_deeplearn.get_model(model.model_id)``), and
        ``epochs_``, ``n_iter_`` and ``scoring_history()`` the MOJO's record. Continue
        training with ``DeepLearningEstimator(**{**model.get_params(), "checkpoint":
        model, "epochs": <more than epochs_>}).train(...)``: the epochs count from the
        MOJO's, the weights are H2O's, and the optimiser state (not in a MOJO) starts
        afresh.

    Raises
    ------
    FileNotFoundError
        Nothing at ``path``.
    ModelFileError
        Not a MOJO; a MOJO of another algorithm or of an unsupported version, model
        category, activation, distribution or categorical encoding (the message names
        what was found and what is supported).
    """
    from .h2o_api import DeepLearningEstimator

    model = read_mojo(path, estimator=DeepLearningEstimator.__name__)
    estimator = DeepLearningEstimator(**model.user_params)
    estimator._wrap(model)
    register(estimator)
    return estimator
