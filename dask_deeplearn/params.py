"""Every parameter of H2O-3 Deep Learning: one declarative table, one validator.

The table :data:`PARAMETERS` lists each parameter once with its H2O default, the values
it accepts (a small constraint object, in the spirit of scikit-learn's
``_parameter_constraints``), a one-sentence description, whether it may change at a
checkpoint restart, and, for a feature that is not built yet, the name of the work that
will build it.  Estimators build their ``__init__`` signature and docstring from it
(:func:`default_params`, :func:`params_docstring`).

Three steps turn what the user typed into what training uses:

1. :func:`validate_params` checks each value against its constraint, normalises it (one
   canonical spelling per enumeration value, ``hidden`` as a tuple of int, floats as
   float), then runs the checks of H2O's ``DeepLearningModel.validate`` that need no data,
   and emits H2O's warnings.  Every error has the same form: the parameter and its owner,
   what is allowed, the value received (as its repr) and, where it helps, a fix.
2. :func:`resolve_effective` runs the checks that need the data (task, number of classes,
   response minimum) and applies H2O's ``Sanity.modifyParms`` rewrite rules to give the
   effective parameters.  The user's values are never changed: each step returns a new dict.

Deliberate differences from H2O
-------------------------------
* Rule 6 of ``modifyParms`` (``mini_batch_size > 1`` silently reset to 1) is **not** applied:
  we support mini-batches.  With ``h2o_compat=True`` it is applied, with H2O's warning.
* Rule 8 (``max_w2`` becomes 1000 for Rectifier / RectifierWithDropout) fires only for
  ``max_w2 == float('inf')``.  The default stays 3.4028235e38 (Java's ``Float.MAX_VALUE``),
  so, as in H2O's code (and unlike its booklet, which says "positive infinity"), the
  default means "no max_w2 constraint".
* ``DeepLearningAutoencoder`` passes ``task="autoencoder"``; :func:`resolve_effective`
  then sets ``autoencoder=True`` and re-runs the autoencoder checks.  ``autoencoder=True``
  with another task is an error (H2O has one estimator; we have three).
* ``custom_metric_func`` is a Python callable (H2O takes a reference to an uploaded
  function).  ``ExpRectifier`` (H2O's hidden ELU) is not exposed, as in H2O's REST API.
* ``stopping_metric='custom'`` or ``'custom_increasing'`` without ``custom_metric_func``
  is an error.
* A ``stopping_metric`` that the task has no metric for is an error whatever
  ``stopping_rounds`` says (it also chooses the best model): besides H2O's refusals
  (deviance for classification, AUC for multinomial, logloss/AUC/misclassification for
  regression) MAE and RMSLE for classification, lift_top_group for multinomial, and
  AUCPR, lift_top_group and mean_per_class_error for regression; a multinomial AUC or
  AUCPR is accepted with an ``auc_type`` that computes it.
* Checkpoint modifiability: §1.4 of the semantics document lists H2O's Deep Learning
  fields.  For the generic model parameters that H2O does not list we chose: run control
  (``max_runtime_secs``, ``verbose``, ``model_id``, ``export_checkpoints_dir``,
  ``score_each_iteration``, ``max_hit_ratio_k``, ``auc_type``, ``custom_metric_func``,
  ``keep_cross_validation_*``, ``backend``) may change; anything that changes the input
  layout or the meaning of the model (``hidden``, ``ignored_columns``,
  ``categorical_encoding``, ``weights_column``, ``offset_column``, class balancing, folds,
  ``h2o_compat``) may not.

Examples
--------
>>> from dask_deeplearn.params import validate_params, resolve_effective
>>> p = validate_params({"activation": "rectifier_with_dropout", "hidden": [10, 5]},
...                     "DeepLearningClassifier")
>>> p["activation"], p["hidden"]
('RectifierWithDropout', (10, 5))
>>> eff = resolve_effective(p, owner="DeepLearningClassifier", task="classification",
...                         n_classes=3)
>>> eff["hidden_dropout_ratios"], eff["distribution"], eff["loss"], eff["stopping_metric"]
((0.5, 0.5), 'multinomial', 'CrossEntropy', 'logloss')
"""

from __future__ import annotations

import abc

import difflib
import math
import numbers
import os
import sys
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .exceptions import InvalidParameterError

__all__ = [
    "AnyObject",
    "Boolean",
    "CHECKPOINT_MODIFIABLE",
    "CallableOrNone",
    "Constraint",
    "FloatSequence",
    "IntSequence",
    "Interval",
    "ModelId",
    "NoneValue",
    "OneOf",
    "Options",
    "PARAMETERS",
    "Param",
    "StrList",
    "StrOrNone",
    "canonical",
    "check_stopping_metric",
    "default_params",
    "params_docstring",
    "params_markdown",
    "resolve_effective",
    "union",
    "validate_params",
]

TASKS = ("classification", "regression", "autoencoder")

# --------------------------------------------------------------------------------------
# Constraints
# --------------------------------------------------------------------------------------


class _Reject(Exception):
    """Raised by :meth:`Constraint.convert` when a value is not accepted.

    Parameters
    ----------
    hint : str, default=""
        A sentence appended to the error message (a fix, or why the value is refused).
    """

    def __init__(self, hint: str = "") -> None:
        super().__init__(hint)
        self.hint = hint


def _is_bool(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def _is_int(value: Any) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not _is_bool(value)


def _is_real(value: Any) -> bool:
    return isinstance(value, (numbers.Real, np.integer, np.floating)) and not _is_bool(value)


def _fmt_bound(x: float) -> str:
    """Format an interval bound for a message: ``0``, ``1e-06``, ``inf``, ``2147483647``."""
    if isinstance(x, numbers.Integral):
        return str(int(x))
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


class Constraint(abc.ABC):
    """Base class of the parameter constraints.

    A constraint knows what it accepts (:meth:`convert`), how to say it in an error
    message (:meth:`describe`, completing "must be ...") and how to name it in a
    numpydoc type field (:meth:`type_name`).
    """

    @abc.abstractmethod
    def convert(self, value: Any) -> Any:
        """Return the normalised value, or raise ``_Reject`` if it is not accepted.

        Parameters
        ----------
        value : object
            The value received.

        Returns
        -------
        object
            The normalised value (never the input container itself).
        """

    def accepts(self, value: Any) -> bool:
        """Return whether ``value`` satisfies the constraint.

        Parameters
        ----------
        value : object
            The value to test.

        Returns
        -------
        bool
        """
        try:
            self.convert(value)
        except _Reject:
            return False
        return True

    @abc.abstractmethod
    def describe(self) -> str:
        """Return the allowed values as a phrase completing "must be ..."."""

    @abc.abstractmethod
    def type_name(self) -> str:
        """Return the type as written in a numpydoc ``name : type`` line."""


_CLOSED = ("both", "left", "right", "neither")


@dataclass(frozen=True)
class Interval(Constraint):
    """A number in a range.

    Parameters
    ----------
    type : {int, float, "real"}
        ``int`` accepts integers only and returns a Python int; ``float`` accepts any real
        number and returns a Python float; ``"real"`` accepts any real number and keeps an
        integer as int.  Booleans are never numbers here; numpy scalars are accepted.
    low, high : float or None
        Bounds; None means unbounded on that side (and then ``±inf`` is excluded).
    closed : {"both", "left", "right", "neither"}, default="both"
        Which bounds belong to the interval.  NaN is never in an interval.
    """

    type: Any
    low: float | None = None
    high: float | None = None
    closed: str = "both"

    def __post_init__(self) -> None:
        if self.type not in (int, float, "real"):
            raise ValueError(f"Interval type must be int, float or 'real', got {self.type!r}")
        if self.closed not in _CLOSED:
            raise ValueError(f"Interval closed must be one of {_CLOSED}, got {self.closed!r}")

    def contains(self, x: float) -> bool:
        """Return whether the real number ``x`` lies in the interval (NaN never does).

        Parameters
        ----------
        x : int or float

        Returns
        -------
        bool
        """
        if isinstance(x, float) and math.isnan(x):
            return False
        low = -math.inf if self.low is None else self.low
        high = math.inf if self.high is None else self.high
        left_closed = self.closed in ("both", "left") and self.low is not None
        right_closed = self.closed in ("both", "right") and self.high is not None
        above = x >= low if left_closed else x > low
        below = x <= high if right_closed else x < high
        return bool(above and below)

    def range_text(self) -> str:
        """Return the interval in mathematical notation, e.g. ``[0, inf)``."""
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        low = "-inf" if self.low is None else _fmt_bound(self.low)
        high = "inf" if self.high is None else _fmt_bound(self.high)
        return f"{left}{low}, {high}{right}"

    def _noun(self) -> str:
        return {int: "an int", float: "a float", "real": "a real number"}[self.type]

    def describe(self) -> str:
        if self.low is None and self.high is None:
            return self._noun() if self.type is int else f"a finite {self._noun()[2:]}"
        return f"{self._noun()} in the range {self.range_text()}"

    def type_name(self) -> str:
        return {int: "int", float: "float", "real": "float"}[self.type]

    def convert(self, value: Any) -> Any:
        if self.type is int:
            if not _is_int(value):
                if _is_real(value) and float(value).is_integer():
                    raise _Reject(f"Write it without a decimal point: {int(value)}.")
                if _is_bool(value):
                    raise _Reject("A bool is not accepted as an int.")
                raise _Reject()
            out: Any = int(value)
        else:
            if not _is_real(value):
                if _is_bool(value):
                    raise _Reject("A bool is not accepted as a number.")
                raise _Reject()
            out = int(value) if (self.type == "real" and _is_int(value)) else float(value)
        if not self.contains(out):
            raise _Reject()
        return out


@dataclass(frozen=True, init=False)
class Options(Constraint):
    """A string among fixed names, matched case-insensitively, underscores optional.

    Parameters
    ----------
    *names : str
        The canonical spellings; the normalised value is always one of these.
    rejected : mapping of str to str, optional
        Names that are recognised only to be refused, each with the reason given in the
        error message (e.g. ``{"ModifiedHuber": "is not supported yet."}``).

    Examples
    --------
    >>> Options("Rectifier", "RectifierWithDropout").convert("rectifier_with_dropout")
    'RectifierWithDropout'
    """

    names: tuple[str, ...]
    rejected: tuple[tuple[str, str], ...]
    _lookup: dict[str, str] = field(repr=False, compare=False, hash=False)

    def __init__(self, *names: str, rejected: Mapping[str, str] | None = None) -> None:
        rej = tuple((rejected or {}).items())
        lookup: dict[str, str] = {}
        for n in (*names, *(r for r, _ in rej)):
            key = self.key(n)
            if key in lookup:
                raise ValueError(f"Options {names!r}: {n!r} collides with {lookup[key]!r}")
            lookup[key] = n
        object.__setattr__(self, "names", tuple(names))
        object.__setattr__(self, "rejected", rej)
        object.__setattr__(self, "_lookup", lookup)

    @staticmethod
    def key(name: str) -> str:
        """Return the lookup key of a spelling: lower case without underscores.

        Parameters
        ----------
        name : str

        Returns
        -------
        str
        """
        return name.lower().replace("_", "")

    def describe(self) -> str:
        return "a str among {" + ", ".join(repr(n) for n in self.names) + "}"

    def type_name(self) -> str:
        return "{" + ", ".join(repr(n) for n in self.names) + "}"

    def convert(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise _Reject()
        name = self._lookup.get(self.key(value))
        if name is None:
            close = difflib.get_close_matches(
                self.key(value), {self.key(n): n for n in self.names}, n=1, cutoff=0.6
            )
            if close:
                raise _Reject(f"Did you mean {self._lookup[close[0]]!r}?")
            raise _Reject("Spellings are case-insensitive and underscores are optional.")
        reasons = dict(self.rejected)
        if name in reasons:
            raise _Reject(f"{name!r} {reasons[name]}")
        return str(name)


@dataclass(frozen=True)
class Boolean(Constraint):
    """``True`` or ``False`` (a numpy bool too); ``0`` and ``1`` are refused."""

    def describe(self) -> str:
        return "a bool"

    def type_name(self) -> str:
        return "bool"

    def convert(self, value: Any) -> Any:
        if not _is_bool(value):
            if _is_int(value) and value in (0, 1):
                raise _Reject(f"Use {bool(value)} instead of {int(value)}.")
            raise _Reject()
        return bool(value)


def _as_1d_items(value: Any) -> list[Any]:
    """Items of a list, tuple or 1-D array; raise ``_Reject`` for anything else."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return list(value.tolist()) if value.dtype.kind in "iuf" else list(value)
    raise _Reject()


@dataclass(frozen=True)
class IntSequence(Constraint):
    """A list, tuple or 1-D array of ints ``>= min``; may be empty. Normalised to a tuple.

    Parameters
    ----------
    min : int, default=1
        Smallest allowed entry.
    """

    min: int = 1

    def describe(self) -> str:
        return f"a list, tuple or 1-D array of ints >= {self.min} (may be empty)"

    def type_name(self) -> str:
        return "sequence of int"

    def convert(self, value: Any) -> Any:
        if _is_int(value):
            raise _Reject(f"For a single layer write ({int(value)},).")
        items = _as_1d_items(value)
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            raise _Reject()
        if not all(_is_int(v) and int(v) >= self.min for v in items):
            raise _Reject()
        return tuple(int(v) for v in items)


@dataclass(frozen=True)
class FloatSequence(Constraint):
    """A list, tuple or 1-D array of real numbers in a range. Normalised to a tuple of float.

    Parameters
    ----------
    low, high : float or None
        Bounds of each entry (see :class:`Interval`).
    closed : {"both", "left", "right", "neither"}, default="both"
    """

    low: float | None = None
    high: float | None = None
    closed: str = "both"

    @property
    def interval(self) -> Interval:
        """The :class:`Interval` every entry must lie in."""
        return Interval(float, self.low, self.high, self.closed)

    def describe(self) -> str:
        return f"a list, tuple or 1-D array of floats in the range {self.interval.range_text()}"

    def type_name(self) -> str:
        return "sequence of float"

    def convert(self, value: Any) -> Any:
        if _is_real(value):
            raise _Reject(f"Give one value per entry, e.g. [{value!r}].")
        items = _as_1d_items(value)
        iv = self.interval
        if not all(_is_real(v) and iv.contains(float(v)) for v in items):
            raise _Reject()
        return tuple(float(v) for v in items)


@dataclass(frozen=True)
class NoneValue(Constraint):
    """Only ``None``."""

    def describe(self) -> str:
        return "None"

    def type_name(self) -> str:
        return "None"

    def convert(self, value: Any) -> Any:
        if value is not None:
            raise _Reject()
        return None


@dataclass(frozen=True)
class StrOrNone(Constraint):
    """A string (e.g. a column name) or ``None``."""

    def describe(self) -> str:
        return "a str or None"

    def type_name(self) -> str:
        return "str or None"

    def convert(self, value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise _Reject()
        return str(value)


#: characters of an H2O key (``h2o.utils.shared_utils``): URL-segment safe, no separators
_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ID_MAX_LEN = 200


@dataclass(frozen=True)
class ModelId(StrOrNone):
    """A model name usable as a file name, or ``None``.

    H2O's key rule: letters, digits and ``-``, ``.``, ``_``, ``~`` (a ``$`` only as the first
    character), not empty, not starting with a digit. Because ids name files
    (``export_checkpoints_dir``, saving into a folder) we also refuse a leading ``.`` (so
    ``.`` and ``..``, and hidden names) and more than 200 characters.
    """

    def describe(self) -> str:
        return ("None or a str of letters, digits and '-', '.', '_', '~' (H2O's key "
                "characters; a '$' only first), not starting with a digit or '.', at most "
                f"{_ID_MAX_LEN} characters")

    def convert(self, value: Any) -> Any:
        value = super().convert(value)
        if value is None:
            return None
        bad = sorted({c for i, c in enumerate(value)
                      if c not in _ID_CHARS and not (c == "$" and i == 0)})
        if bad:
            raise _Reject(f"Not allowed: {', '.join(map(repr, bad))}"
                          + (" (a model id names files, never a path)."
                             if set(bad) & {"/", "\\"} else "."))
        body = value[1:] if value.startswith("$") else value
        if (not body or len(value) > _ID_MAX_LEN or body.lstrip("-")[:1].isdigit()
                or body[0] == "."):
            raise _Reject()
        return value


@dataclass(frozen=True)
class CallableOrNone(Constraint):
    """A callable or ``None``."""

    def describe(self) -> str:
        return "a callable or None"

    def type_name(self) -> str:
        return "callable or None"

    def convert(self, value: Any) -> Any:
        if value is not None and not callable(value):
            raise _Reject()
        return value


@dataclass(frozen=True)
class AnyObject(Constraint):
    """Anything; the feature that uses the parameter checks it (checkpoint, weights...)."""

    def describe(self) -> str:
        return "any object"

    def type_name(self) -> str:
        return "object or None"

    def convert(self, value: Any) -> Any:
        return value


@dataclass(frozen=True)
class StrList(Constraint):
    """A list, tuple or 1-D array of strings (column names). Normalised to a tuple."""

    def describe(self) -> str:
        return "a list of str"

    def type_name(self) -> str:
        return "list of str"

    def convert(self, value: Any) -> Any:
        if isinstance(value, str):
            raise _Reject(f"Wrap a single column name in a list: [{value!r}].")
        items = _as_1d_items(value)
        if not all(isinstance(v, str) for v in items):
            raise _Reject()
        return tuple(str(v) for v in items)


@dataclass(frozen=True, init=False)
class OneOf(Constraint):
    """The union of constraints: the first one that accepts the value normalises it.

    Parameters
    ----------
    *constraints : Constraint
    """

    constraints: tuple[Constraint, ...]

    def __init__(self, *constraints: Constraint) -> None:
        object.__setattr__(self, "constraints", tuple(constraints))

    def describe(self) -> str:
        return " or ".join(c.describe() for c in self.constraints)

    def type_name(self) -> str:
        names = [c.type_name() for c in self.constraints if not isinstance(c, NoneValue)]
        if any(isinstance(c, NoneValue) for c in self.constraints):
            names.append("None")
        return " or ".join(names)

    def convert(self, value: Any) -> Any:
        hints = []
        for c in self.constraints:
            try:
                return c.convert(value)
            except _Reject as exc:
                if exc.hint:
                    hints.append(exc.hint)
        raise _Reject(" ".join(hints))


def union(*constraints: Constraint) -> OneOf:
    """Return the union of ``constraints`` (a value may satisfy any one of them).

    Parameters
    ----------
    *constraints : Constraint

    Returns
    -------
    OneOf

    Examples
    --------
    >>> union(NoneValue(), Interval(int, 1, None)).describe()
    'None or an int in the range [1, inf)'
    """
    return OneOf(*constraints)


# --------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One parameter of H2O Deep Learning.

    Parameters
    ----------
    name : str
        Parameter name (H2O's snake_case spelling).
    default : object
        H2O's default (immutable: tuples, not lists).
    constraint : Constraint
        Allowed values.
    doc : str
        One-sentence numpydoc description, with the H2O default and the scikit-learn
        equivalent where there is one.
    checkpoint_modifiable : bool
        Whether it may change when training resumes from a checkpoint (H2O's
        ``cp_modifiable`` list).
    """

    name: str
    default: Any
    constraint: Constraint
    doc: str
    checkpoint_modifiable: bool



_FLOAT_MAX = 3.4028235e38
_INT_MAX = 2147483647
_NONNEG = Interval(float, 0, None, closed="left")
_UNIT = Interval(float, 0, 1, closed="both")

_ACTIVATIONS = ("Tanh", "TanhWithDropout", "Rectifier", "RectifierWithDropout", "Maxout",
                "MaxoutWithDropout")
_DISTRIBUTIONS = ("AUTO", "bernoulli", "multinomial", "gaussian", "poisson", "gamma",
                  "laplace", "quantile", "huber", "tweedie")
_DL_UNSUPPORTED = "is an H2O distribution that Deep Learning does not support."
_STOPPING_METRICS = ("AUTO", "deviance", "logloss", "MSE", "RMSE", "MAE", "RMSLE", "AUC",
                     "AUCPR", "lift_top_group", "misclassification", "mean_per_class_error",
                     "custom", "custom_increasing")

_TABLE: tuple[Param, ...] = (
    Param("activation", "Rectifier",
          Options(*_ACTIVATIONS, rejected={
              "ExpRectifier": "exists in H2O's Java code but is not exposed by H2O's API; "
                              "use 'Rectifier' or 'Tanh'.",
              "ExpRectifierWithDropout": "exists in H2O's Java code but is not exposed by "
                                         "H2O's API; use 'RectifierWithDropout'."}),
          "Activation function of the hidden layers, the ``*WithDropout`` variants adding "
          "hidden-layer dropout (H2O default 'Rectifier'; scikit-learn ``activation='relu'``).",
          False),
    Param("hidden", (200, 200), IntSequence(min=1),
          "Sizes of the hidden layers, empty for a network without hidden layer "
          "(H2O default (200, 200); scikit-learn ``hidden_layer_sizes``).", False),
    Param("epochs", 10.0, _NONNEG,
          "Number of passes over the training data, possibly fractional and counting the "
          "epochs of a checkpoint too (H2O default 10; scikit-learn ``max_iter``).", True),
    Param("train_samples_per_iteration", -2, Interval(int, -2, None),
          "Rows trained on, over all workers, between two model averagings: 0 is one epoch, "
          "-1 all available data, -2 auto-tuned, N >= 1 exactly N (H2O default -2).", True),
    Param("target_ratio_comm_to_comp", 0.05, _NONNEG,
          "Target ratio of communication to computation time for the auto-tuning of "
          "``train_samples_per_iteration=-2`` on several workers (H2O default 0.05).", True),
    Param("seed", -1, Interval(int, -(2**63), 2**63 - 1),
          "Seed of weight initialisation, dropout and row sampling, -1 drawing a random "
          "seed at fit time (H2O default -1; scikit-learn ``random_state``).", True),
    Param("adaptive_rate", True, Boolean(),
          "Use the ADADELTA adaptive learning rate instead of ``rate`` and momentum "
          "(H2O default True; scikit-learn ``solver='adam'`` rather than ``'sgd'``).", False),
    Param("rho", 0.99, _UNIT,
          "ADADELTA decay factor of the running averages, used when ``adaptive_rate=True`` "
          "(H2O default 0.99).", False),
    Param("epsilon", 1e-8, _NONNEG,
          "ADADELTA smoothing term, used when ``adaptive_rate=True`` "
          "(H2O default 1e-8; scikit-learn Adam ``epsilon``).", False),
    Param("rate", 0.005, _NONNEG,
          "Learning rate when ``adaptive_rate=False`` "
          "(H2O default 0.005; scikit-learn ``learning_rate_init``).", False),
    Param("rate_annealing", 1e-6, _NONNEG,
          "Annealing of the manual learning rate, ``rate / (1 + rate_annealing * samples)`` "
          "(H2O default 1e-6; scikit-learn ``learning_rate='invscaling'``).", False),
    Param("rate_decay", 1.0, _NONNEG,
          "Factor of the manual learning rate from one layer to the next, "
          "``rate * rate_decay**(layer - 1)`` (H2O default 1.0).", False),
    Param("momentum_start", 0.0, _UNIT,
          "Momentum at the start of training when ``adaptive_rate=False`` "
          "(H2O default 0; scikit-learn ``momentum``).", False),
    Param("momentum_ramp", 1e6, _NONNEG,
          "Number of training samples over which the momentum goes from ``momentum_start`` "
          "to ``momentum_stable`` (H2O default 1e6).", False),
    Param("momentum_stable", 0.0, _UNIT,
          "Momentum reached after ``momentum_ramp`` samples when ``adaptive_rate=False`` "
          "(H2O default 0).", False),
    Param("nesterov_accelerated_gradient", True, Boolean(),
          "Use Nesterov's accelerated gradient with the momentum when "
          "``adaptive_rate=False`` (H2O default True; scikit-learn ``nesterovs_momentum``).",
          False),
    Param("input_dropout_ratio", 0.0, Interval(float, 0, 1, closed="left"),
          "Fraction of the input features dropped for each training row, in [0, 1) "
          "(H2O default 0).", True),
    Param("hidden_dropout_ratios", None,
          union(NoneValue(), FloatSequence(0, 1, closed="left")),
          "Dropout ratio of each hidden layer, one value in [0, 1) per layer and only with "
          "a ``*WithDropout`` activation, None meaning 0.5 per layer (H2O default None).",
          True),
    Param("l1", 0.0, _NONNEG, "L1 penalty on the weights (H2O default 0).", True),
    Param("l2", 0.0, _NONNEG,
          "L2 penalty on the weights (H2O default 0; scikit-learn MLP ``alpha``).", True),
    Param("max_w2", _FLOAT_MAX, Interval(float, 0, math.inf, closed="right"),
          "Upper bound of the sum of squared incoming weights of each neuron "
          "(H2O default 3.4028235e38, i.e. no constraint).", True),
    Param("initial_weight_distribution", "UniformAdaptive",
          Options("UniformAdaptive", "Uniform", "Normal"),
          "Distribution of the initial weights, 'UniformAdaptive' scaling by the layer "
          "sizes (H2O default 'UniformAdaptive').", True),
    Param("initial_weight_scale", 1.0, Interval(float, 0, None, closed="neither"),
          "Half-width ('Uniform') or standard deviation ('Normal') of the initial weights "
          "(H2O default 1.0).", True),
    Param("initial_weights", None, AnyObject(),
          "Initial weight matrices, one per layer (an entry may be None), instead of random "
          "ones (H2O default None).", True),
    Param("initial_biases", None, AnyObject(),
          "Initial bias vectors, one per layer (an entry may be None), instead of the "
          "default ones (H2O default None).", True),
    Param("loss", "Automatic",
          Options("Automatic", "Quadratic", "CrossEntropy", "Huber", "Absolute", "Quantile",
                  rejected={"ModifiedHuber": "is not supported yet (H2O refuses it too)."}),
          "Loss function, 'Automatic' choosing it from the distribution "
          "(H2O default 'Automatic'; scikit-learn ``loss``).", True),
    Param("distribution", "AUTO",
          Options(*_DISTRIBUTIONS, rejected={
              "quasibinomial": _DL_UNSUPPORTED, "modified_huber": _DL_UNSUPPORTED,
              "ordinal": _DL_UNSUPPORTED, "custom": _DL_UNSUPPORTED,
              "fractionalbinomial": _DL_UNSUPPORTED, "negativebinomial": _DL_UNSUPPORTED}),
          "Distribution of the response, which sets the output link and gradient, 'AUTO' "
          "choosing it from the task and ``loss`` (H2O default 'AUTO').", False),
    Param("quantile_alpha", 0.5, _UNIT,
          "Quantile estimated by ``distribution='quantile'``, in [0, 1] "
          "(H2O default 0.5; scikit-learn ``QuantileRegressor(quantile=...)``).", False),
    Param("tweedie_power", 1.5, Interval(float, 1, 2, closed="neither"),
          "Tweedie variance power for ``distribution='tweedie'``, in (1, 2) "
          "(H2O default 1.5; scikit-learn ``TweedieRegressor(power=...)``).", False),
    Param("huber_alpha", 0.9, _UNIT,
          "Quantile of the absolute residuals that sets the Huber threshold for "
          "``distribution='huber'``, in [0, 1] (H2O default 0.9; scikit-learn "
          "``GradientBoostingRegressor(alpha=...)``).", False),
    Param("score_interval", 5.0, _NONNEG,
          "Shortest time in seconds between two scoring events (H2O default 5).", True),
    Param("score_training_samples", 10000, Interval(int, 0, None),
          "Number of training rows sampled for scoring, 0 for all (H2O default 10000).",
          True),
    Param("score_validation_samples", 0, Interval(int, 0, None),
          "Number of validation rows sampled for scoring, 0 for all (H2O default 0).", True),
    Param("score_duty_cycle", 0.1, _UNIT,
          "Largest fraction of the wall-clock time spent scoring, in [0, 1] "
          "(H2O default 0.1).", True),
    Param("score_each_iteration", False, Boolean(),
          "Score after every iteration, whatever ``score_interval`` says "
          "(H2O default False).", True),
    Param("classification_stop", 0.0, Interval(float, -1, 1),
          "Stop once the training classification error is at or below this value, -1 "
          "disabling it (H2O default 0).", True),
    Param("regression_stop", 1e-6, Interval(float, -1, None, closed="left"),
          "Stop once the training MSE is at or below this value, -1 disabling it "
          "(H2O default 1e-6).", True),
    Param("stopping_rounds", 5, Interval(int, 0, None),
          "Stop when the moving average of ``stopping_metric`` over this many scoring "
          "events stops improving, 0 disabling it (H2O default 5; scikit-learn "
          "``n_iter_no_change``).", True),
    Param("stopping_metric", "AUTO", Options(*_STOPPING_METRICS),
          "Metric for early stopping, 'AUTO' meaning logloss for classification, deviance "
          "for regression and MSE for autoencoders (H2O default 'AUTO').", True),
    Param("stopping_tolerance", 0.0, _NONNEG,
          "Smallest relative improvement of ``stopping_metric`` that counts as progress "
          "(H2O default 0; scikit-learn ``tol``).", True),
    Param("max_runtime_secs", 0.0, _NONNEG,
          "Limit of the training time in seconds, 0 for none (H2O default 0).", True),
    Param("score_validation_sampling", "Uniform", Options("Uniform", "Stratified"),
          "How validation rows are sampled for scoring when "
          "``score_validation_samples > 0``: 'Stratified' (classification with "
          "``balance_classes=True``, as in H2O) keeps every class's proportion and scores "
          "every class (H2O default 'Uniform').", True),
    Param("overwrite_with_best_model", True, Boolean(),
          "Return the model with the best ``stopping_metric`` seen during training rather "
          "than the last one (H2O default True).", True),
    Param("use_all_factor_levels", True, Boolean(),
          "Encode every level of a categorical column instead of dropping the first "
          "(H2O default True; scikit-learn ``OneHotEncoder(drop=None)``).", False),
    Param("standardize", True, Boolean(),
          "Standardise numeric inputs (and a numeric response) to mean 0 and variance 1 "
          "(H2O default True; scikit-learn ``StandardScaler``).", False),
    Param("missing_values_handling", "MeanImputation", Options("MeanImputation", "Skip"),
          "Replace a missing numeric value by the column mean, or skip rows with a missing "
          "value (H2O default 'MeanImputation'; scikit-learn ``SimpleImputer``).", True),
    Param("fast_mode", True, Boolean(),
          "Skip the updates of weights whose input or gradient is exactly zero, a minor "
          "approximation (H2O default True).", True),
    Param("force_load_balance", True, Boolean(),
          "Split small training data into more blocks so that every core trains "
          "(H2O default True).", True),
    Param("replicate_training_data", True, Boolean(),
          "Give every worker a full copy of the training data when it fits "
          "(H2O default True).", True),
    Param("single_node_mode", False, Boolean(),
          "Train on a single worker only, e.g. to fine-tune after a multi-worker run "
          "(H2O default False).", True),
    Param("shuffle_training_data", False, Boolean(),
          "Shuffle the training rows within each block (H2O default False; scikit-learn "
          "``shuffle``).", True),
    Param("reproducible", False, Boolean(),
          "Train on one thread in one block so that a fixed ``seed`` gives the same model, "
          "which is slow (H2O default False).", True),
    Param("variable_importances", True, Boolean(),
          "Compute Gedeon variable importances at each scoring event (H2O default True).",
          True),
    Param("diagnostics", True, Boolean(),
          "Deprecated and ignored, diagnostics are always computed (H2O default True).", True),
    Param("quiet_mode", False, Boolean(),
          "Print less progress output (H2O default False).", True),
    Param("verbose", False, Boolean(),
          "Print the scoring history as training goes (H2O default False; scikit-learn "
          "``verbose``).", True),
    Param("autoencoder", False, Boolean(),
          "Train an autoencoder that reconstructs its inputs instead of predicting a "
          "response (H2O default False).", False),
    Param("pretrained_autoencoder", None, AnyObject(),
          "A trained autoencoder whose weights initialise the matching layers "
          "(H2O default None).", True),
    Param("sparse", False, Boolean(),
          "Treat the inputs as sparse: scale numeric columns without centring them "
          "(H2O default False).", False),
    Param("col_major", False, Boolean(),
          "Deprecated column-major input weights; True is refused (H2O default False).",
          False),
    Param("average_activation", 0.0, Interval(float, None, None),
          "Target average activation of the hidden units of a sparse autoencoder "
          "(H2O default 0).", True),
    Param("sparsity_beta", 0.0, Interval(float, None, None),
          "Weight of the sparsity penalty of a sparse autoencoder (H2O default 0).", False),
    Param("max_categorical_features", _INT_MAX, Interval(int, 1, _INT_MAX),
          "Largest one-hot width of the categorical inputs before the hashing trick "
          "applies (H2O default 2147483647).", False),
    Param("export_weights_and_biases", False, Boolean(),
          "Keep the weights and biases as frames in the fitted model (H2O default False).",
          True),
    Param("mini_batch_size", 1, Interval(int, 1, None),
          "Rows per gradient update, 1 being H2O's online SGD "
          "(H2O default 1; scikit-learn ``batch_size``).", True),
    Param("elastic_averaging", False, Boolean(),
          "Use elastic averaging of the workers' models instead of plain averaging "
          "(H2O default False; only several workers have models to average).", True),
    Param("elastic_averaging_moving_rate", 0.9, _UNIT,
          "Moving rate of the consensus model in elastic averaging, in [0, 1] "
          "(H2O default 0.9).", True),
    Param("elastic_averaging_regularization", 1e-3, _NONNEG,
          "Strength of the pull of each worker's model towards the consensus in elastic "
          "averaging (H2O default 1e-3).", True),
    Param("balance_classes", False, Boolean(),
          "Over/under-sample the classes of the training data to balance them "
          "(H2O default False; scikit-learn ``class_weight='balanced'``).", False),
    Param("class_sampling_factors", None,
          union(NoneValue(), FloatSequence(0, None, closed="neither")),
          "Sampling factor of each class in sorted order, used with "
          "``balance_classes=True`` (H2O default None, computed).", False),
    Param("max_after_balance_size", 5.0, Interval(float, 0, None, closed="neither"),
          "Largest size of the balanced training data relative to the original "
          "(H2O default 5.0).", False),
    Param("max_confusion_matrix_size", 20, Interval(int, 0, None),
          "Deprecated: largest number of classes for which a confusion matrix is shown "
          "(H2O default 20).", True),
    Param("max_hit_ratio_k", 10, Interval(int, 0, None),
          "Largest k of the top-k hit ratios of a multi-class model, 0 disabling them "
          "(H2O default 10).", True),
    Param("ignore_const_cols", True, Boolean(),
          "Drop constant training columns (H2O default True; scikit-learn "
          "``VarianceThreshold``).", False),
    Param("categorical_encoding", "AUTO",
          Options("AUTO", "OneHotInternal", "Binary", "Eigen", "LabelEncoder",
                  "SortByResponse", "EnumLimited", rejected={
                      "Enum": "is not supported by Deep Learning (H2O refuses it too); "
                              "use 'AUTO' (one-hot) or 'LabelEncoder'.",
                      "OneHotExplicit": "is not supported by Deep Learning (H2O refuses it "
                                        "too); use 'AUTO', which one-hot encodes internally."}),
          "Encoding of categorical columns, 'AUTO' meaning 'OneHotInternal' "
          "(H2O default 'AUTO').", False),
    Param("nfolds", 0, Interval(int, 0, None),
          "Number of cross-validation folds, 0 for none (H2O default 0; scikit-learn "
          "``cv``).", False),
    Param("fold_assignment", "AUTO", Options("AUTO", "Random", "Modulo", "Stratified"),
          "How rows are assigned to folds when ``nfolds > 0`` and no ``fold_column`` "
          "(H2O default 'AUTO', i.e. 'Random').", False),
    Param("fold_column", None, StrOrNone(),
          "Column holding each row's cross-validation fold (H2O default None).", False),
    Param("keep_cross_validation_models", True, Boolean(),
          "Keep the cross-validation models (H2O default True).", True),
    Param("keep_cross_validation_predictions", False, Boolean(),
          "Keep the cross-validation predictions (H2O default False).", True),
    Param("keep_cross_validation_fold_assignment", False, Boolean(),
          "Keep the cross-validation fold assignment (H2O default False).", True),
    Param("auc_type", "AUTO",
          Options("AUTO", "NONE", "MACRO_OVR", "WEIGHTED_OVR", "MACRO_OVO", "WEIGHTED_OVO"),
          "Averaging of the multinomial AUC, 'AUTO' computing none (H2O default 'AUTO'; "
          "scikit-learn ``roc_auc_score(multi_class=..., average=...)``).", True),
    Param("checkpoint", None, AnyObject(),
          "A saved model of the same kind whose training this fit continues "
          "(H2O default None; scikit-learn ``warm_start``). A fitted model or the "
          "path of a saved one; ``epochs`` is then the total.", True),
    Param("export_checkpoints_dir", None, StrOrNone(),
          "Directory to which a model file ``<model_id>_iteration<N>.zip`` is written at "
          "each scoring event, created when missing; earlier files are never replaced "
          "(H2O default None).", True),
    Param("model_id", None, ModelId(),
          "Name of the model, also the name of its files (``<model_id>.zip`` when saved "
          "into a folder, ``<model_id>_iteration<N>.zip`` checkpoints); the class name "
          "stands in when None (H2O default None, a generated name).", True),
    Param("weights_column", None, StrOrNone(),
          "Column of per-row observation weights (H2O default None; scikit-learn "
          "``sample_weight``).", False),
    Param("offset_column", None, StrOrNone(),
          "Column of per-row offsets added in link space, regression only "
          "(H2O default None).", False),
    Param("ignored_columns", None, union(NoneValue(), StrList()),
          "Columns of the frame that are not used as inputs (H2O default None).", False),
    Param("custom_metric_func", None, CallableOrNone(),
          "A custom metric ``func(actual, predicted, weight) -> float`` computed at each "
          "scoring event and shown in the history as ``*_custom`` (H2O default None; "
          "scikit-learn ``scoring``).", True),
    Param("h2o_compat", False, Boolean(),
          "Reproduce H2O quirks that are fixed by default, e.g. reset "
          "``mini_batch_size`` to 1 (not an H2O parameter; default False).", False),
    Param("backend", "auto", Options("auto", "local", "dask"),
          "Where iterations run: 'local' threads in this process, 'dask' workers, or "
          "'auto': Dask for Dask collections or when a default ``distributed.Client`` "
          "exists, else local (not an H2O parameter; default 'auto').", True),
    Param("warm_start", False, Boolean(),
          "scikit-learn's ``warm_start``: a second ``fit`` of a fitted estimator continues "
          "its model for ``epochs`` more epochs (H2O's checkpoint restart; not an H2O "
          "parameter; default False).", True),
    Param("scheduler_address", None, StrOrNone(),
          "Address of a running Dask scheduler to train on (``'tcp://host:8786'``); None "
          "uses the client passed to ``fit``, the default client, or an embedded "
          "LocalCluster (not an H2O parameter; default None).", True),
    Param("nthreads", -1, Interval(int, -1, None),
          "Hogwild threads per node (H2O's ``-nthreads``): -1 uses every core the process "
          "may run on; ``reproducible=True`` forces 1 (not an H2O parameter; default -1).",
          True),
)

PARAMETERS: dict[str, Param] = {p.name: p for p in _TABLE}
"""Every parameter, in H2O's order, keyed by name."""

CHECKPOINT_MODIFIABLE: frozenset[str] = frozenset(
    p.name for p in _TABLE if p.checkpoint_modifiable
)
"""Names of the parameters that may change when training resumes from a checkpoint."""

_CALL_ARGUMENTS = ("x", "y", "training_frame", "validation_frame", "response_column")
_MANUAL_RATE = ("rate", "rate_annealing", "rate_decay", "momentum_start", "momentum_ramp",
                "momentum_stable")
_DROPOUT_ACTIVATIONS = ("TanhWithDropout", "RectifierWithDropout", "MaxoutWithDropout")
_REGRESSION_DISTRIBUTIONS = ("gaussian", "huber", "laplace", "quantile", "tweedie", "gamma",
                             "poisson")
_LOG_LINK = ("poisson", "gamma", "tweedie")


def default_params() -> dict[str, Any]:
    """Return a new dict of every parameter's default value.

    Returns
    -------
    dict of str to object
        Name to H2O default, in table order.

    Examples
    --------
    >>> d = default_params()
    >>> d["hidden"], d["epochs"], d["stopping_rounds"]
    ((200, 200), 10.0, 5)
    """
    return {p.name: p.default for p in _TABLE}


# --------------------------------------------------------------------------------------
# Messages and warnings
# --------------------------------------------------------------------------------------

_PKG_DIR = os.path.dirname(os.path.abspath(__file__))


def _warn(message: str) -> None:
    """Emit a UserWarning attributed to the first frame outside this package."""
    frame = sys._getframe(0)
    level = 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _PKG_DIR + os.sep
    ):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, UserWarning, stacklevel=level)


def _kv(params: Mapping[str, Any], *names: str) -> str:
    return ", ".join(f"{n}={params[n]!r}" for n in names)


def _bad_value(name: str, owner: str, constraint: Constraint, value: Any, hint: str) -> str:
    msg = (f"The {name!r} parameter of {owner} must be {constraint.describe()}. "
           f"Got {value!r} instead.")
    return f"{msg} {hint}" if hint else msg


def _conflict(owner: str, detail: str, fix: str = "") -> InvalidParameterError:
    msg = f"Invalid parameter combination for {owner}: {detail}."
    return InvalidParameterError(f"{msg} {fix}" if fix else msg)


def _check_one(param: Param, value: Any, owner: str) -> Any:
    try:
        return param.constraint.convert(value)
    except _Reject as exc:
        raise InvalidParameterError(
            _bad_value(param.name, owner, param.constraint, value, exc.hint)
        ) from None


def canonical(name: str, value: str, owner: str = "dask_deeplearn") -> str:
    """Return the canonical spelling of one enumeration value.

    Parameters
    ----------
    name : str
        A parameter whose constraint is an :class:`Options` (e.g. ``"activation"``).
    value : str
        Any accepted spelling: case-insensitive, underscores optional.
    owner : str, default="dask_deeplearn"
        Named in the error message.

    Returns
    -------
    str
        The canonical spelling.

    Raises
    ------
    InvalidParameterError
        If ``value`` is not an allowed spelling.
    KeyError
        If ``name`` is not an enumeration parameter.

    Examples
    --------
    >>> canonical("activation", "RECTIFIER_WITH_DROPOUT")
    'RectifierWithDropout'
    >>> canonical("distribution", "Auto")
    'AUTO'
    """
    param = PARAMETERS[name]
    if not isinstance(param.constraint, Options):
        raise KeyError(f"{name!r} is not an enumeration parameter")
    return str(_check_one(param, value, owner))


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


def _unknown_message(name: Any, owner: str) -> str:
    if name in _CALL_ARGUMENTS:
        return (f"{name!r} is not a parameter of {owner}: it is an argument of fit(). "
                f"Pass the data to fit() instead.")
    close = difflib.get_close_matches(str(name), list(PARAMETERS), n=3, cutoff=0.6)
    hint = (" Did you mean " + " or ".join(repr(c) for c in close) + "?") if close else ""
    return (f"Unknown parameter {name!r} for {owner}.{hint} "
            f"The valid parameters are listed in dask_deeplearn.params.PARAMETERS.")


def _check_combinations(p: Mapping[str, Any], owner: str) -> None:
    """Raise for the first combination of normalised values that H2O refuses (§1.3)."""
    if p["nfolds"] == 1:
        raise _conflict(owner, "nfolds=1 is not allowed",
                        "Use nfolds=0 (no cross-validation) or nfolds >= 2.")
    if p["nfolds"] > 0 and p["fold_column"] is not None:
        raise _conflict(owner, f"nfolds and fold_column cannot both be given "
                               f"({_kv(p, 'nfolds', 'fold_column')})",
                        "The fold column defines the folds: use nfolds=0.")
    if p["fold_column"] is not None and p["fold_assignment"] != "AUTO":
        raise _conflict(owner, f"fold_assignment cannot be used with a fold_column "
                               f"({_kv(p, 'fold_assignment', 'fold_column')})",
                        "Use fold_assignment='AUTO'.")
    ratios, hidden, act = p["hidden_dropout_ratios"], p["hidden"], p["activation"]
    if ratios is not None and act not in _DROPOUT_ACTIVATIONS:
        raise _conflict(owner, f"cannot specify hidden_dropout_ratios with a non-dropout "
                               f"activation ({_kv(p, 'hidden_dropout_ratios', 'activation')})",
                        f"Use activation={act + 'WithDropout'!r} or hidden_dropout_ratios=None.")
    if ratios is not None and len(ratios) != len(hidden):
        raise _conflict(owner, f"hidden_dropout_ratios needs one entry per hidden layer "
                               f"({_kv(p, 'hidden_dropout_ratios', 'hidden')}: "
                               f"{len(ratios)} ratios for {len(hidden)} layers)")
    if p["col_major"]:
        raise _conflict(owner, "col_major=True is deprecated and not supported",
                        "Use col_major=False.")
    if p["sparse"] and p["elastic_averaging"]:
        raise _conflict(owner, f"sparse data handling cannot be combined with elastic "
                               f"averaging ({_kv(p, 'sparse', 'elastic_averaging')})")
    if p["checkpoint"] is not None and (p["nfolds"] > 0 or p["fold_column"] is not None):
        given = _kv(p, "nfolds") if p["nfolds"] > 0 else _kv(p, "fold_column")
        ckpt = p["checkpoint"]
        ckpt = repr(ckpt) if isinstance(ckpt, (str, bytes, os.PathLike)) else \
            f"a fitted {type(ckpt).__name__}"
        raise _conflict(owner, f"{given} cannot be used with a checkpoint "
                               f"(checkpoint={ckpt}): cross-validation is not "
                               f"supported during checkpoint restarts, as in H2O",
                        "Use nfolds=0 and no fold_column to continue the checkpoint's model "
                        "(a cross-validated checkpoint continues as its main model).")
    for init in ("initial_weights", "initial_biases"):
        if p[init] is not None and p["checkpoint"] is not None:
            raise _conflict(owner, f"{init} cannot be given together with checkpoint "
                                   f"({init}={type(p[init]).__name__}, "
                                   f"checkpoint={p['checkpoint']!r})",
                            f"A checkpoint carries its own weights; drop {init}.")
    if p["class_sampling_factors"] is not None and not p["balance_classes"]:
        raise _conflict(owner, f"class_sampling_factors requires balance_classes=True "
                               f"({_kv(p, 'class_sampling_factors', 'balance_classes')})")
    if p["stopping_metric"] in ("custom", "custom_increasing") and \
            p["custom_metric_func"] is None:
        raise _conflict(owner, f"stopping_metric={p['stopping_metric']!r} needs a "
                               f"custom_metric_func (custom_metric_func=None)")
    if p["autoencoder"]:
        if p["nfolds"] > 1:
            raise _conflict(owner, f"cross-validation is not supported for autoencoders "
                                   f"({_kv(p, 'autoencoder', 'nfolds')})", "Use nfolds=0.")
        if p["custom_metric_func"] is not None:
            raise _conflict(owner, f"a custom metric is not supported for autoencoders "
                                   f"({_kv(p, 'autoencoder', 'custom_metric_func')})")
        if p["stopping_metric"] not in ("AUTO", "MSE"):
            raise _conflict(owner, f"an autoencoder can only stop early on 'AUTO' or 'MSE' "
                                   f"({_kv(p, 'autoencoder', 'stopping_metric')})")
        if act in ("Maxout", "MaxoutWithDropout"):
            # (H2O refuses only plain Maxout, then builds a Maxout output layer for
            # MaxoutWithDropout; we refuse both: the output layer is Tanh or Rectifier)
            raise _conflict(owner, f"the {act} activation is not supported for autoencoders "
                                   f"({_kv(p, 'autoencoder', 'activation')})",
                            "Use 'Tanh' or 'Rectifier' (or their WithDropout variants).")
        if p["loss"] == "CrossEntropy":
            raise _conflict(owner, f"the CrossEntropy loss is not supported for autoencoders "
                                   f"({_kv(p, 'autoencoder', 'loss')})")
        if p["balance_classes"]:
            raise _conflict(owner, f"balance_classes is not supported for autoencoders "
                                   f"({_kv(p, 'autoencoder', 'balance_classes')})")
        if p["sparsity_beta"] > 0:
            avg = p["average_activation"]
            names = ("autoencoder", "sparsity_beta", "activation", "average_activation")
            if act in ("Tanh", "TanhWithDropout") and not -1 < avg < 1:
                raise _conflict(owner, f"a sparse Tanh autoencoder needs average_activation "
                                       f"in (-1, 1) ({_kv(p, *names)})")
            if act in ("Rectifier", "RectifierWithDropout") and not avg > 0:
                raise _conflict(owner, f"a sparse Rectifier autoencoder needs "
                                       f"average_activation > 0 ({_kv(p, *names)})")
            if p["mini_batch_size"] > 1:
                raise _conflict(owner, f"a sparse autoencoder trains one row at a time, as in "
                                       f"H2O ({_kv(p, 'sparsity_beta', 'mini_batch_size')})",
                                "Use mini_batch_size=1.")
    elif p["sparsity_beta"] != 0:
        raise _conflict(owner, f"sparsity_beta is only used by autoencoders "
                               f"({_kv(p, 'sparsity_beta', 'autoencoder')})",
                        "Use sparsity_beta=0 or autoencoder=True.")
    dist, loss = p["distribution"], p["loss"]
    allowed_loss = {"laplace": ("Absolute",), "quantile": ("Quantile",), "huber": ("Huber",),
                    "poisson": (), "gamma": (), "tweedie": ()}.get(dist)
    if allowed_loss is not None and loss not in ("Automatic", *allowed_loss):
        ok = " or ".join(repr(x) for x in ("Automatic", *allowed_loss))
        raise _conflict(owner, f"distribution {dist!r} only works with loss {ok} "
                               f"({_kv(p, 'distribution', 'loss')})",
                        "Use loss='Automatic'.")


def _emit_warnings(p: Mapping[str, Any], owner: str) -> None:
    if p["adaptive_rate"]:
        changed = [n for n in _MANUAL_RATE if p[n] != PARAMETERS[n].default]
        if changed:
            verb = "is" if len(changed) == 1 else "are"
            _warn(f"{owner}: {_kv(p, *changed)} cannot be specified if adaptive_rate is "
                  f"enabled (adaptive_rate=True) and {verb} ignored. Set adaptive_rate=False "
                  f"to use a manual learning rate, or leave {', '.join(changed)} at the "
                  f"default.")
    if not p["diagnostics"]:
        _warn(f"The 'diagnostics' parameter of {owner} is deprecated and ignored: "
              f"diagnostics are always computed (got diagnostics=False). Remove it to "
              f"silence this warning.")
    if p["weights_column"] is not None and p["offset_column"] is not None:
        _warn(f"{owner}: with both weights_column={p['weights_column']!r} and "
              f"offset_column={p['offset_column']!r}, the standardization constants are not "
              f"re-weighted by the observation weights (as in H2O).")


def validate_params(params: Mapping[str, Any], owner: str) -> dict[str, Any]:
    """Check parameters against the table and return their normalised values.

    Each given value is checked against its constraint and normalised (canonical
    enumeration spelling, ``hidden`` as a tuple of int, ``hidden_dropout_ratios`` and
    ``class_sampling_factors`` as tuples of float or None, ``ignored_columns`` as a tuple
    of str, floats as float).  Parameters not given take their default.  Then the
    combinations that H2O refuses without looking at the data are checked, and H2O's
    parameter warnings are emitted.

    Parameters
    ----------
    params : mapping of str to object
        Parameter values, e.g. an estimator's ``get_params()``; not modified.
    owner : str
        Estimator class name, used in messages (e.g. ``"DeepLearningClassifier"``).

    Returns
    -------
    dict of str to object
        A new dict with every parameter of :data:`PARAMETERS`, in table order.

    Raises
    ------
    InvalidParameterError
        For an unknown name (close matches are suggested), a value outside its
        constraint, or a refused combination.

    Warns
    -----
    UserWarning
        Manual-rate parameters changed while ``adaptive_rate=True``; ``diagnostics=False``
        (deprecated); ``weights_column`` together with ``offset_column``.

    Examples
    --------
    >>> validate_params({"epochs": -1}, "DeepLearningRegressor")
    Traceback (most recent call last):
    ...
    dask_deeplearn.exceptions.InvalidParameterError: The 'epochs' parameter of \
DeepLearningRegressor must be a float in the range [0, inf). Got -1 instead.
    """
    for name in params:
        if name not in PARAMETERS:
            raise InvalidParameterError(_unknown_message(name, owner))
    out: dict[str, Any] = {}
    for name, param in PARAMETERS.items():
        out[name] = _check_one(param, params[name], owner) if name in params else param.default
    _check_combinations(out, owner)
    _emit_warnings(out, owner)
    return out


# --------------------------------------------------------------------------------------
# Effective values
# --------------------------------------------------------------------------------------


def _check_data(p: Mapping[str, Any], owner: str, task: str, n_classes: int | None,
                response_min: float | None) -> None:
    """Raise for a combination H2O refuses once the response is known (§1.3)."""
    dist, loss = p["distribution"], p["loss"]
    if task == "classification":
        if dist in _REGRESSION_DISTRIBUTIONS:
            raise _conflict(owner, f"distribution={dist!r} is for a numeric response, not a "
                                   f"classification task", "Use 'AUTO', 'bernoulli' or "
                                   "'multinomial', or a regressor.")
        if dist == "bernoulli" and n_classes != 2:
            raise _conflict(owner, f"distribution='bernoulli' needs 2 classes but the "
                                   f"classification task has n_classes={n_classes}",
                            "Use 'multinomial' or 'AUTO'.")
        if loss not in ("Automatic", "CrossEntropy", "Quadratic"):
            raise _conflict(owner, f"loss={loss!r} is not available for a classification "
                                   f"task", "Use 'Automatic', 'CrossEntropy' or 'Quadratic'.")
        if p["offset_column"] is not None:
            raise _conflict(owner, f"offset_column={p['offset_column']!r} given for a "
                                   f"classification task: Offset is only supported for "
                                   f"regression")
        csf = p["class_sampling_factors"]
        if csf is not None and len(csf) != n_classes:
            raise _conflict(owner, f"class_sampling_factors={csf!r} has {len(csf)} entries "
                                   f"but the classification task has n_classes={n_classes}",
                            "Give one factor per class, in sorted class order.")
        return
    if dist in ("bernoulli", "multinomial"):
        raise _conflict(owner, f"distribution={dist!r} needs a categorical response, not a "
                               f"{task} task", "Use a classifier, or 'AUTO'.")
    if task == "regression" and loss == "CrossEntropy":
        raise _conflict(owner, "loss='CrossEntropy' needs a categorical response, not a "
                               "regression task", "Use 'Automatic' or 'Quadratic'.")
    if task == "regression" and p["balance_classes"]:
        raise _conflict(owner, "balance_classes=True is only for classification, not a "
                               "regression task")
    if dist in _LOG_LINK and response_min is not None and response_min < 0:
        raise _conflict(owner, f"distribution={dist!r} needs a response >= 0 but the "
                               f"{task} task's response has minimum {response_min!r}")


#: stopping metrics that apply only to classification / only to regression
_CLASSIFICATION_METRICS = ("logloss", "AUC", "AUCPR", "lift_top_group", "misclassification",
                           "mean_per_class_error")
_REGRESSION_METRICS = ("deviance", "MAE", "RMSLE")


def check_stopping_metric(p: Mapping[str, Any], owner: str, task: str,
                          n_classes: int | None = None) -> None:
    """Refuse a ``stopping_metric`` that the task's metrics do not have.

    H2O refuses ``deviance`` for classification, AUC for a multinomial model and
    logloss, AUC and misclassification for regression. The metrics of a model that
    does not apply to its task are never computed, so such a metric would never stop
    training (nor choose the best model): we refuse every one of them.

    Parameters
    ----------
    p : mapping
        Validated parameters (``stopping_metric``, ``auc_type``).
    owner : str
        Estimator class name, used in messages.
    task : {"classification", "regression", "autoencoder"}
    n_classes : int or None, default=None
        Number of classes of a classification; None when not known yet (the
        binomial-only checks are then left for later).

    Raises
    ------
    InvalidParameterError
        The metric does not apply to the task.
    """
    metric = p["stopping_metric"]
    if task == "classification":
        refused = list(_REGRESSION_METRICS)
        kind = "classification"
        if n_classes is not None and n_classes > 2:
            kind = f"multinomial classification ({n_classes} classes)"
            refused.append("lift_top_group")
            if p["auc_type"] in ("AUTO", "NONE"):
                refused += ["AUC", "AUCPR"]
    elif task == "regression":
        refused, kind = list(_CLASSIFICATION_METRICS), "regression"
    else:
        return  # (an autoencoder stops on MSE only: checked with the other parameters)
    if metric not in refused:
        return
    allowed = [m for m in _STOPPING_METRICS if m not in refused]
    fix = f"Use one of {allowed}."
    if metric in ("AUC", "AUCPR") and task == "classification":
        fix += " (a multinomial AUC needs auc_type='MACRO_OVR' or another averaging)"
    raise _conflict(owner, f"stopping_metric={metric!r} cannot be used for {kind}: the "
                           f"model has no such metric, so it would never stop training "
                           f"(H2O: 'Stopping metric cannot be {metric} for "
                           f"{'classification' if task == 'classification' else task}')", fix)


def resolve_effective(
    params: Mapping[str, Any],
    *,
    owner: str,
    task: str,
    n_classes: int | None = None,
    response_min: float | None = None,
    n_nodes: int = 1,
) -> dict[str, Any]:
    """Return the effective parameters that training uses (H2O's ``Sanity.modifyParms``).

    Runs the checks that need the data, then the rewrite rules, in H2O's order:

    1. ``hidden_dropout_ratios=None`` with a ``*WithDropout`` activation: 0.5 per layer.
    2. One node: ``replicate_training_data=False``; ``single_node_mode`` stays only with
       several nodes and replication.
    3. Autoencoder: ``use_all_factor_levels=True``.
    4. ``nfolds != 0``: ``overwrite_with_best_model=False``.
    5. ``categorical_encoding='AUTO'``: ``'OneHotInternal'``.
    6. Not applied (mini-batches are supported), except with ``h2o_compat=True``:
       ``mini_batch_size > 1`` becomes 1 with H2O's warning.
    7. ``adaptive_rate=True``: rate, rate_decay, rate_annealing and the momentum
       parameters are 0; ``adaptive_rate=False``: ``rho = epsilon = 0``.
    8. Rectifier(WithDropout) with ``max_w2 == inf``: ``max_w2 = 1000``.
    9. Autoencoder with ``stopping_metric='AUTO'``: ``'MSE'``.
    10. ``distribution='AUTO'``: bernoulli (2 classes) or multinomial for classification;
        otherwise by loss: Automatic/Quadratic gaussian, Absolute laplace, Quantile
        quantile, Huber huber.
    11. ``loss='Automatic'``, by distribution: gaussian Quadratic, quantile Quantile,
        laplace Absolute, huber Huber, bernoulli/multinomial CrossEntropy;
        poisson/gamma/tweedie stay 'Automatic' (deviance).
    12. ``reproducible=True``: ``force_load_balance=True``, ``score_each_iteration=True``,
        ``replicate_training_data=False``, ``train_samples_per_iteration`` -2 becomes -1.

    Finally ``stopping_metric='AUTO'`` becomes ``'logloss'`` (classification) or
    ``'deviance'`` (regression), or None when ``stopping_rounds == 0``.

    Parameters
    ----------
    params : mapping of str to object
        Output of :func:`validate_params` (missing names take their defaults); not
        modified.
    owner : str
        Estimator class name, used in messages.
    task : {"classification", "regression", "autoencoder"}
    n_classes : int or None, default=None
        Number of classes of the response; required for classification.
    response_min : float or None, default=None
        Smallest response value (regression), checked for poisson/gamma/tweedie.
    n_nodes : int, default=1
        Number of workers that train (rule 2).

    Returns
    -------
    dict of str to object
        A new dict of effective values.

    Raises
    ------
    InvalidParameterError
        For a combination refused once the task is known: a regression distribution for
        classification, bernoulli/multinomial for regression, bernoulli with other than 2
        classes, a classification loss other than Automatic/CrossEntropy/Quadratic,
        CrossEntropy for regression, an offset for classification, class balancing for
        regression, a wrong number of class sampling factors, a negative response minimum
        with poisson/gamma/tweedie; ``autoencoder=True`` with another task; a
        ``stopping_metric`` the task has no metric for (see :func:`check_stopping_metric`).
    ValueError
        For an unknown ``task`` or a classification without ``n_classes``.

    Examples
    --------
    >>> eff = resolve_effective(default_params(), owner="DeepLearningRegressor",
    ...                         task="regression")
    >>> eff["distribution"], eff["loss"], eff["stopping_metric"], eff["rate"]
    ('gaussian', 'Quadratic', 'deviance', 0.0)
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    if task == "classification" and n_classes is None:
        raise ValueError("n_classes is required when task='classification'")
    p: dict[str, Any] = {**default_params(), **params}
    if p["autoencoder"] and task != "autoencoder":
        raise _conflict(owner, f"autoencoder=True cannot be used for a {task} task",
                        "Use DeepLearningAutoencoder.")
    if task == "autoencoder":
        p["autoencoder"] = True
        _check_combinations(p, owner)
    _check_data(p, owner, task, n_classes, response_min)
    check_stopping_metric(p, owner, task, n_classes)

    act = p["activation"]
    # 1
    if p["hidden_dropout_ratios"] is None and act in _DROPOUT_ACTIVATIONS:
        p["hidden_dropout_ratios"] = (0.5,) * len(p["hidden"])
    # 2
    if n_nodes <= 1 and p["replicate_training_data"]:
        p["replicate_training_data"] = False
    if p["single_node_mode"] and (n_nodes <= 1 or not p["replicate_training_data"]):
        p["single_node_mode"] = False
    # 3
    if p["autoencoder"]:
        p["use_all_factor_levels"] = True
    # 4
    if p["nfolds"] != 0:
        p["overwrite_with_best_model"] = False
    # 5
    if p["categorical_encoding"] == "AUTO":
        p["categorical_encoding"] = "OneHotInternal"
    # 6 (H2O compatibility only)
    if p["h2o_compat"] and p["mini_batch_size"] > 1:
        _warn(f"{owner}: Only mini-batch size = 1 is supported right now "
              f"(h2o_compat=True); mini_batch_size={p['mini_batch_size']!r} is reset to 1.")
        p["mini_batch_size"] = 1
    # 7
    if p["adaptive_rate"]:
        for n in _MANUAL_RATE:
            p[n] = 0.0
    else:
        p["rho"] = 0.0
        p["epsilon"] = 0.0
    # 8
    if act in ("Rectifier", "RectifierWithDropout") and p["max_w2"] == math.inf:
        p["max_w2"] = 1000.0
    # 9
    if p["autoencoder"] and p["stopping_metric"] == "AUTO":
        p["stopping_metric"] = "MSE"
    # 10
    if p["distribution"] == "AUTO":
        if task == "classification":
            p["distribution"] = "bernoulli" if n_classes == 2 else "multinomial"
        else:
            p["distribution"] = {"Automatic": "gaussian", "Quadratic": "gaussian",
                                 "Absolute": "laplace", "Quantile": "quantile",
                                 "Huber": "huber"}.get(p["loss"], "gaussian")
    # 11
    if p["loss"] == "Automatic":
        p["loss"] = {"gaussian": "Quadratic", "quantile": "Quantile", "laplace": "Absolute",
                     "huber": "Huber", "bernoulli": "CrossEntropy",
                     "multinomial": "CrossEntropy"}.get(p["distribution"], "Automatic")
    # 12
    if p["reproducible"]:
        p["force_load_balance"] = True
        p["score_each_iteration"] = True
        p["replicate_training_data"] = False
        if p["train_samples_per_iteration"] == -2:
            p["train_samples_per_iteration"] = -1
    # stopping_metric AUTO (DL.initActualParamValues)
    if p["stopping_metric"] == "AUTO":
        if p["stopping_rounds"] == 0:
            p["stopping_metric"] = None
        else:
            p["stopping_metric"] = "logloss" if task == "classification" else "deviance"
    return p


# --------------------------------------------------------------------------------------
# Docstrings
# --------------------------------------------------------------------------------------


def params_docstring(names: Iterable[str] | None = None, *, header: bool = True) -> str:
    """Render a numpydoc "Parameters" section from the table.

    Parameters
    ----------
    names : iterable of str or None, default=None
        Parameters to document, in this order; None documents all, in table order.
    header : bool, default=True
        Start with the ``Parameters`` / ``----------`` header.

    Returns
    -------
    str
        Lines ``name : type, default=value`` each followed by the indented description.

    Raises
    ------
    KeyError
        If a name is not in :data:`PARAMETERS`.

    Examples
    --------
    >>> print(params_docstring(["epochs"]))  # doctest: +NORMALIZE_WHITESPACE
    Parameters
    ----------
    epochs : float, default=10.0
        Number of passes over the training data, possibly fractional and counting the
        epochs of a checkpoint too (H2O default 10; scikit-learn ``max_iter``).
    """
    import textwrap

    selected = list(PARAMETERS) if names is None else list(names)
    lines = ["Parameters", "----------"] if header else []
    for name in selected:
        if name not in PARAMETERS:
            raise KeyError(f"Unknown parameter {name!r}")
        p = PARAMETERS[name]
        lines.append(f"{p.name} : {p.constraint.type_name()}, default={p.default!r}")
        lines.extend(textwrap.wrap(p.doc, width=88, initial_indent="    ",
                                   subsequent_indent="    ", break_on_hyphens=False,
                                   break_long_words=False))
    return "\n".join(lines)


def params_markdown() -> str:
    """Render the whole table as the README's H2O parameter mapping (Markdown).

    One row per parameter in H2O's order: the name (the same in H2O and here), the
    default, the allowed values, whether it may change at a checkpoint restart, and the
    description. Parameters that are not H2O's say so in their description.

    Returns
    -------
    str
        A Markdown table, one line per parameter after the two header lines.

    Examples
    --------
    >>> table = params_markdown()
    >>> table.splitlines()[0]
    '| parameter | default | allowed | checkpoint restart | what it does |'
    >>> len(table.splitlines()) == len(PARAMETERS) + 2
    True
    """

    def cell(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| parameter | default | allowed | checkpoint restart | what it does |",
             "|---|---|---|---|---|"]
    for p in _TABLE:
        default = "3.4028235e38" if p.default == _FLOAT_MAX else repr(p.default)
        lines.append(f"| `{p.name}` | `{cell(default)}` | {cell(p.constraint.describe())} | "
                     f"{'may change' if p.checkpoint_modifiable else 'fixed'} | "
                     f"{cell(p.doc)} |")
    return "\n".join(lines)
