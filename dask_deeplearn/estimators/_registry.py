"""Model ids and the models of this process: H2O's keys, ``h2o.get_model`` and ``h2o.ls``.

Every fitted model has an id. A fit without ``model_id`` gets one in H2O's form,
``DeepLearning_model_python_<session>_<n>``: ``<session>`` is the time this module was
first imported in this process (milliseconds since the epoch, as H2O uses its cluster's
start time) and ``<n>`` counts from 1. A fitted, loaded or imported model is registered
under its id; the registry holds it weakly, so a model nobody refers to any more is freed
and leaves :func:`ls`. A fit under an id some other model of this process has takes the
id over (as a new H2O model replaces the old one under its key).
"""

from __future__ import annotations

import itertools
import os
import threading
import time
import weakref
from typing import Any, Callable, Iterable

import pandas as pd

from ..exceptions import InvalidParameterError, ModelNotFoundError

__all__ = ["new_model_id", "register", "lookup", "get_model", "ls", "remove", "remove_all",
           "model_reference", "H2OModelId"]

_PREFIX = "DeepLearning_model_python"
_SESSION = int(time.time() * 1000)
_COUNTER = itertools.count(1)
_LOCK = threading.RLock()
_MODELS: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()
_SHOWN = 10  # ids an error message lists


def new_model_id() -> str:
    """The next id of this process: ``DeepLearning_model_python_<session>_<n>``.

    An id a model of this process already has (given as ``model_id``) is skipped.
    """
    with _LOCK:
        while True:
            key = f"{_PREFIX}_{_SESSION}_{next(_COUNTER)}"
            if key not in _MODELS:
                return key


def _ids() -> list[str]:
    with _LOCK:
        return list(_MODELS.keys())


def _shown(ids: list[str]) -> str:
    if not ids:
        return ("it has none: models are listed when fitted, loaded or imported, and "
                "leave when no longer referenced")
    more = f", ... ({len(ids)} in all)" if len(ids) > _SHOWN else ""
    return "its ids: " + ", ".join(map(repr, ids[:_SHOWN])) + more


def register(model: Any) -> None:
    """List the fitted estimator ``model`` under its id (``model_id_``), held weakly.

    An id the estimator had before (a fit from scratch gave it a new one) is dropped.
    """
    key = model.model_id_
    with _LOCK:
        for old in [k for k, v in _MODELS.items() if v is model and k != key]:
            del _MODELS[old]
        _MODELS[key] = model


def lookup(model_id: str) -> Any | None:
    """The live model registered as ``model_id``, or None."""
    with _LOCK:
        return _MODELS.get(model_id)


def _not_found(model_id: str) -> ModelNotFoundError:
    return ModelNotFoundError(f"No model with id {model_id!r} in this process; "
                              f"{_shown(_ids())}.")


def get_model(model_id: str) -> Any:
    """The model of this process with id ``model_id`` (H2O's ``h2o.get_model``).

    Parameters
    ----------
    model_id : str
        A fitted model's id (``model.model_id_``; ``DeepLearningEstimator.model_id``),
        a grid model's ``"<grid_id>_model_<n>"``, a cross-validation model's
        ``"<model_id>_cv_<k>"``, or the recorded id of a loaded file or imported MOJO.

    Returns
    -------
    estimator
        The model itself (not a copy).

    Raises
    ------
    ModelNotFoundError
        No live model has that id (a :class:`KeyError`; the message lists the ids).
    TypeError
        ``model_id`` is not a str.
    """
    if not isinstance(model_id, str):
        raise TypeError(f"get_model: model_id must be a str (a model id); got "
                        f"{type(model_id).__name__} {model_id!r}.")
    model = lookup(model_id)
    if model is None:
        raise _not_found(model_id)
    return model


def ls() -> pd.DataFrame:
    """The ids of the live models of this process (H2O's ``h2o.ls``).

    Returns
    -------
    pandas.DataFrame
        One row per model, column ``key`` (as ``h2o.ls()``), in the order the ids were
        first registered.
    """
    return pd.DataFrame({"key": pd.Series(_ids(), dtype=object)})


def _key_of(item: Any) -> str:
    if isinstance(item, str):
        return item
    key = getattr(item, "model_id_", None)
    if not isinstance(key, str):
        raise TypeError(f"remove: expected a model id (str) or a fitted model; got "
                        f"{type(item).__name__}.")
    return key


def remove(x: Any) -> None:
    """Drop models from the registry (H2O's ``h2o.remove``).

    The Python objects stay usable; they are only no longer found by :func:`get_model`
    and :func:`ls` (nor by ``checkpoint="<id>"``).

    Parameters
    ----------
    x : str, fitted model, or list of those
        Ids or models.

    Raises
    ------
    ModelNotFoundError
        An id no live model has (nothing is removed then).
    TypeError
        An item that is neither an id nor a fitted model.
    """
    items = x if isinstance(x, (list, tuple)) else [x]
    keys = [_key_of(item) for item in items]
    with _LOCK:
        for key, item in zip(keys, items):
            held = _MODELS.get(key)
            if held is None or not (isinstance(item, str) or held is item):
                raise _not_found(key)
        for key in keys:
            _MODELS.pop(key, None)


def remove_all(retained: Iterable[str] | None = None) -> None:
    """Drop every model from the registry but the ids in ``retained`` (``h2o.remove_all``).

    Parameters
    ----------
    retained : iterable of str, optional
        Ids to keep.
    """
    keep = set(retained or ())
    with _LOCK:
        for key in [k for k in _MODELS.keys() if k not in keep]:
            del _MODELS[key]


def model_reference(value: Any, parameter: str, load: Callable[[Any], Any]) -> Any:
    """What a model parameter (``checkpoint``, ``pretrained_autoencoder``) names.

    A str that is the id of a registered model is that model (H2O passes model keys
    there); another str or path is a saved model, read with ``load``; anything else is
    returned as given (a fitted model, checked by the caller).

    Raises
    ------
    InvalidParameterError
        A str or path that is neither a registered id nor an existing file or folder.
    """
    if isinstance(value, str):
        model = lookup(value)
        if model is not None:
            return model
    if isinstance(value, (str, bytes)) or hasattr(value, "__fspath__"):
        if not os.path.exists(value):
            raise InvalidParameterError(
                f"{parameter}={value!r} is neither the id of a model of this process "
                f"({_shown(_ids())}) nor an existing model file or folder. Pass a model id "
                "(dask_deeplearn.ls() lists them), a fitted model, or the path of a saved "
                "model.")
        return load(value)
    return value


class H2OModelId:
    """``DeepLearningEstimator.model_id`` as h2o-py's: the model's id once trained.

    Reading gives the trained model's id (generated when the parameter is None), and the
    parameter before the first fit; assigning sets the parameter for the next fit.
    ``get_params()`` always returns the parameter (scikit-learn's ``clone`` contract).
    """

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        fitted = obj.__dict__.get("_fitted")
        if fitted is not None and fitted.model_id is not None:
            return fitted.model_id
        return obj.__dict__.get("model_id")

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__["model_id"] = value
