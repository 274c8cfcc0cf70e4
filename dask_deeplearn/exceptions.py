"""Exceptions raised by :mod:`dask_deeplearn`."""

from __future__ import annotations

__all__ = ["InvalidParameterError", "NotFittedError", "DataError", "UnstableModelError",
           "ModelFileError", "ModelNotFoundError"]


class InvalidParameterError(ValueError, TypeError):
    """A parameter has a wrong type, an out-of-range value, or clashes with another one.

    Subclasses both :class:`ValueError` and :class:`TypeError`, as scikit-learn's
    ``InvalidParameterError`` does, so callers may catch either.
    """


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted model was called before ``fit``."""


class DataError(ValueError):
    """The data cannot be used as given (empty frame, bad response, inf values, ...)."""


class UnstableModelError(RuntimeError):
    """Training diverged: the weights are not finite or have exploded."""


class ModelFileError(ValueError):
    """A model file cannot be read: damaged, truncated, from a newer version, or unsafe."""


class ModelNotFoundError(KeyError):
    """No model of this process has the id asked for (``get_model``, ``remove``).

    A :class:`KeyError` (``h2o.get_model`` of an unknown key fails too); the message names
    the id asked for and the ids there are.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
