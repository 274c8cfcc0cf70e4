"""The constraint objects of the parameter table: which values a parameter accepts.

A constraint normalises a value (:meth:`Constraint.convert`), says what it allows in an
error message (:meth:`Constraint.describe`, completing "must be ...") and names its type in
a numpydoc line (:meth:`Constraint.type_name`), in the spirit of scikit-learn's
``_parameter_constraints``.
"""

from __future__ import annotations

import abc
import difflib
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


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

