"""The fitted-model value: everything a trained network is, with no estimator around it.

A :class:`FittedModel` is frozen and holds only storable values (arrays, frames, plain
Python values; no estimator, model object, client or function). The estimators build one
at the end of a fit and keep it as ``model_``; everything below the estimators takes it:
model files (:mod:`dask_deeplearn.io`), the scorer, the exporters, Parquet scoring and
the Dask prediction tasks.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

import numpy as np
import pandas as pd

from .exceptions import NotFittedError, UnstableModelError
from .network import ModelState
from .preprocessing import DataInfo
from .training.balance import class_correction

__all__ = ["FittedModel", "HasFittedModel", "as_fitted", "storable_params", "check_stable",
           "LABEL_RULES", "INIT_ONLY_PARAMS"]

#: how a binomial model labels a row: "threshold" (H2O: class 1 when p1 >= threshold) or
#: "argmax" (scikit-learn: the most probable class, the first on a tie)
LABEL_RULES = ("threshold", "argmax")

#: parameters that only initialise a fit: once trained their effect is in the weights, so a
#: model object or frame there is stored as None (a path is kept)
INIT_ONLY_PARAMS = ("checkpoint", "pretrained_autoencoder", "initial_weights",
                    "initial_biases")


def _storable(name: str, value: Any) -> Any:
    """``value`` as a fitted model keeps it: init-only objects and functions become None."""
    if name in INIT_ONLY_PARAMS and value is not None \
            and not isinstance(value, (str, os.PathLike)):
        return None
    if callable(value):
        return None  # functions are never kept (a saved or exported model has none)
    return value


def storable_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``params`` holding only storable values.

    Model objects and frames under the init-only parameters (``checkpoint``,
    ``pretrained_autoencoder``, ``initial_weights``, ``initial_biases``) and functions
    (``custom_metric_func``) become None; paths and plain values are kept.
    """
    return {name: _storable(name, value) for name, value in params.items()}


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, eq=False)
class FittedModel:
    """A trained network with its preprocessing, parameters and training record.

    Attributes
    ----------
    estimator : str
        Name of the estimator class that trained it (model files store it).
    user_params : Mapping
        The estimator's parameters (``get_params``), storable values only.
    state : ModelState
        Network spec, weights, biases and optimiser state.
    data_info : DataInfo
        The fitted preprocessing plan.
    params : Mapping
        The effective parameters after H2O's rules (read-only, storable values only).
    task : {"classification", "regression", "autoencoder"}
    distribution : str
        The resolved distribution.
    classes : ndarray or None
        Class labels in probability-column order (classification only).
    label_rule : {"threshold", "argmax"}
        How a binomial model labels a row (multinomial labels are always the arg-max).
    scoring_history : pandas.DataFrame
    training_metrics, validation_metrics : ModelMetrics or None
    stop_reason : str
    iterations : int
    epochs : float
    run_time : float
    events : list of str
    seed : int
    nthreads : int
    backend : str or None
        ``"local"``, ``"dask"``, ``"checkpoint"`` or why a fit ended early.
    worker_rows : dict or None
        Training rows per Dask worker (Dask fits only).
    n_features_in : int or None
        Columns of ``X`` in a ``fit(X, y)`` (None for ``train``).
    feature_names_in : tuple or None
        Their names, when ``X`` had string column names.
    raw_feature_names : tuple or None
        The fitted column names (``C1..Cn`` for an array).
    had_names : bool or None
        Whether the training ``X`` had its own column names.
    n_raw_features : int or None
        Columns matched by position when scoring; None: matched by name (``train``).
    response_column : str or None
        The response column of ``train``.
    """

    estimator: str
    user_params: Mapping[str, Any]
    state: ModelState
    data_info: DataInfo
    params: Mapping[str, Any]
    task: str
    distribution: str
    classes: np.ndarray | None
    label_rule: str
    scoring_history: pd.DataFrame
    training_metrics: Any | None
    validation_metrics: Any | None
    stop_reason: str
    iterations: int
    epochs: float
    run_time: float
    events: list[str]
    seed: int
    nthreads: int
    backend: str | None = None
    worker_rows: Mapping[str, Any] | None = None
    n_features_in: int | None = None
    feature_names_in: tuple[Any, ...] | None = None
    raw_feature_names: tuple[Any, ...] | None = None
    had_names: bool | None = None
    n_raw_features: int | None = None
    response_column: str | None = None

    def __post_init__(self) -> None:
        if self.label_rule not in LABEL_RULES:
            raise ValueError(f"label_rule must be one of {LABEL_RULES}; got {self.label_rule!r}.")
        object.__setattr__(self, "params", _frozen(self.params))
        object.__setattr__(self, "user_params", _frozen(self.user_params))

    # frozen mappings do not pickle: pickle plain dicts, freeze them again when loaded
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["params"] = dict(self.params)
        state["user_params"] = dict(self.user_params)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "params", _frozen(self.params))
        object.__setattr__(self, "user_params", _frozen(self.user_params))

    def replace(self, **changes: Any) -> "FittedModel":
        """A copy with ``changes`` (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    @property
    def n_classes(self) -> int | None:
        """Number of classes (None unless classification)."""
        return None if self.classes is None else len(self.classes)

    @property
    def binomial(self) -> bool:
        return self.task == "classification" and len(self.classes) == 2

    @property
    def threshold(self) -> float:
        """H2O's binomial label threshold on p(class 1): the max-F1 threshold.

        ``max_f1_threshold`` of the validation metrics, else of the training metrics,
        else 0.5 (H2O labels with the threshold that maximises F1 on the data it has
        metrics for, preferring held-out data).
        """
        for m in (self.validation_metrics, self.training_metrics):
            t = getattr(m, "max_f1_threshold", None) if m is not None else None
            if t is not None and np.isfinite(t):
                return float(t)
        return 0.5

    @property
    def class_priors(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(prior, model)`` class distributions of a balanced classifier, else None.

        With ``balance_classes`` the network learns on resampled rows; its probabilities
        are multiplied back by ``prior / model`` (the original over the balanced class
        frequencies), as H2O does.
        """
        return class_correction(self.params)

    @property
    def offset_column(self) -> str | None:
        """The offset column predictions add, or None (an autoencoder never uses one)."""
        if self.task == "autoencoder" or self.params.get("offset_column") is None:
            return None
        return self.data_info.offset_column

    @property
    def model_id(self) -> str | None:
        """The model's id: the effective ``model_id`` (the given one, else the one the fit
        generated), else the parameter (None only for a model built without a fit)."""
        return self.params.get("model_id") or self.user_params.get("model_id")


class HasFittedModel(Protocol):
    """Anything holding a fitted model as ``model_`` (the estimators)."""

    model_: FittedModel


def as_fitted(obj: FittedModel | HasFittedModel, message: str) -> FittedModel:
    """``obj`` if it is a :class:`FittedModel`, else its ``model_``.

    Raises
    ------
    NotFittedError
        ``obj`` holds no fitted model; the error says ``message`` with ``{name}`` replaced
        by the type name of ``obj``.
    """
    if isinstance(obj, FittedModel):
        return obj
    value = getattr(obj, "model_", None)
    if not isinstance(value, FittedModel):
        raise NotFittedError(message.format(name=type(obj).__name__))
    return value


def check_stable(model: FittedModel, action: str) -> None:
    """Refuse to ``action`` (export, save, predict with) an unstable model.

    H2O marks a model unstable when its weights are not finite or have grown beyond what
    a stable network reaches (mean |weight| above 1e10, mean |bias| above 1e5), and
    refuses to score or export it.
    """
    reason = model.state.unstable_reason()
    if reason is not None:
        raise UnstableModelError(
            f"Cannot {action} this {model.estimator}: {reason} (the model is unstable). "
            "Retrain with a smaller rate, adaptive_rate=True or max_w2, or use the last "
            "finite model of a diverged fit."
        )
