"""Checking what the user typed: each value against its constraint, then the
combinations H2O refuses without looking at the data, then H2O's parameter warnings."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from typing import Any

from ..exceptions import InvalidParameterError
from ._constraints import Constraint, Options, _Reject
from ._messages import _conflict, _kv, _warn
from ._table import _DROPOUT_ACTIVATIONS, _MANUAL_RATE, PARAMETERS, Param


_CALL_ARGUMENTS = ("x", "y", "training_frame", "validation_frame", "response_column")


def _bad_value(name: str, owner: str, constraint: Constraint, value: Any, hint: str) -> str:
    msg = (f"The {name!r} parameter of {owner} must be {constraint.describe()}. "
           f"Got {value!r} instead.")
    return f"{msg} {hint}" if hint else msg


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


def _unknown_message(name: Any, owner: str) -> str:
    if name in _CALL_ARGUMENTS:
        return (f"{name!r} is not a parameter of {owner}: it is an argument of fit(). "
                f"Pass the data to fit() instead.")
    close = difflib.get_close_matches(str(name), list(PARAMETERS), n=3, cutoff=0.6)
    hint = (" Did you mean " + " or ".join(repr(c) for c in close) + "?") if close else ""
    return (f"Unknown parameter {name!r} for {owner}.{hint} "
            f"The valid parameters are listed in dask_deeplearn.params.PARAMETERS.")


def _check_combinations(p: Mapping[str, Any], owner: str) -> None:
    """Raise for the first combination of normalised values that H2O refuses before it
    looks at the data (the checks of ``DeepLearningModel.validate`` that need no frame)."""
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

