"""Checks of what a search is given: hyper-parameter names and value lists, the base
model parameters, and ``n_jobs``; all run before any model is built."""

from __future__ import annotations

import difflib
import os
from typing import Any, Iterable, Mapping

import numpy as np

from ..exceptions import InvalidParameterError
from ..params import PARAMETERS, Options, canonical
from ._criteria import SearchCriteria

_OWNER = "DeepLearningGridSearch"
_NOT_SEARCHABLE = {
    "checkpoint": "each model of a grid starts from scratch (SuccessiveHalving continues "
                  "survivors from checkpoints by itself)",
    "model_id": "the grid names its models '<grid_id>_model_<n>'",
}


def _is_default(name: str, value: Any) -> bool:
    """Whether ``value`` equals the table default of parameter ``name``."""
    param = PARAMETERS[name]
    default = param.default
    if value is default:
        return True
    if default is None or value is None:
        return False
    if isinstance(param.constraint, Options) and isinstance(value, str):
        try:
            return canonical(name, value) == default
        except (InvalidParameterError, KeyError):
            return False
    if isinstance(value, bool) != isinstance(default, bool):
        return False
    try:
        a, b = np.asarray(value, dtype=object), np.asarray(default, dtype=object)
        return a.shape == b.shape and bool(np.all(a == b))
    except (TypeError, ValueError):
        return False


def _unknown_name(name: Any, what: str) -> InvalidParameterError:
    # short names ("ll" for "l1") need a looser cutoff than difflib's default
    cutoff = 0.5 if len(str(name)) <= 4 else 0.6
    close = difflib.get_close_matches(str(name), list(PARAMETERS), n=3, cutoff=cutoff)
    close.sort(key=lambda c: (-difflib.SequenceMatcher(None, str(name), c).ratio(), c))
    hint = (" Did you mean " + " or ".join(repr(c) for c in close) + "?") if close else ""
    return InvalidParameterError(
        f"Unknown {what} {name!r} for {_OWNER}.{hint} The valid names are the Deep Learning "
        "parameters listed in dask_deeplearn.params.PARAMETERS."
    )


def _check_hyper_params(hyper_params: Any, crit: SearchCriteria) -> dict[str, list[Any]]:
    """Validate the names and value lists of ``hyper_params`` (no model is built)."""
    if not isinstance(hyper_params, Mapping) or not hyper_params:
        raise InvalidParameterError(
            f"hyper_params of {_OWNER} must be a non-empty dict mapping parameter names to "
            f"lists of values, e.g. {{'hidden': [[32, 32], [100]], 'l1': [1e-4, 1e-3]}}. "
            f"Got {hyper_params!r} instead."
        )
    out: dict[str, list[Any]] = {}
    for name, values in hyper_params.items():
        if not isinstance(name, str) or name not in PARAMETERS:
            raise _unknown_name(name, "hyper-parameter")
        if name in _NOT_SEARCHABLE:
            raise InvalidParameterError(
                f"{name!r} cannot be a hyper-parameter of {_OWNER}: {_NOT_SEARCHABLE[name]}.")
        if crit.halving and name == "epochs":
            raise InvalidParameterError(
                f"'epochs' cannot be a hyper-parameter with strategy {crit.strategy!r}: it is "
                "the budget the search allocates. Set search_criteria 'min_epochs', "
                "'max_epochs' and 'eta' instead."
            )
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
            raise InvalidParameterError(
                f"hyper_params[{name!r}] of {_OWNER} must be a list of candidate values, "
                f"e.g. [{values!r}]. Got {type(values).__name__} {values!r} instead."
            )
        values = list(values)
        if not values:
            raise InvalidParameterError(
                f"hyper_params[{name!r}] of {_OWNER} is an empty list; give at least one value.")
        out[name] = values
    return out


def _check_base(base: Mapping[str, Any], hyper: Mapping[str, Any]) -> None:
    """Base parameters: known names, and none set both there and in ``hyper_params`` (H2O)."""
    for name in base:
        if name not in PARAMETERS:
            raise _unknown_name(name, "model parameter")
    for name in hyper:
        if name != "seed" and name in base and not _is_default(name, base[name]):
            raise InvalidParameterError(
                f"Grid search model parameter {name!r} is set both in the model parameters "
                f"({name}={base[name]!r}) and in hyper_params; this is ambiguous (H2O refuses "
                "it too). Set it in one place or the other."
            )


def _check_n_jobs(n_jobs: Any) -> int:
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) \
            or (n_jobs < 1 and n_jobs != -1):
        raise InvalidParameterError(
            f"The 'n_jobs' parameter of {_OWNER} must be an int >= 1, or -1 for one model "
            f"per core. Got {n_jobs!r} instead.")
    return max(1, os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs)
