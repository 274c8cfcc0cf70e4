"""The effective parameters: the checks that need the data and H2O's rewrite rules.

:func:`resolve_effective` is H2O's ``Sanity.modifyParms`` (plus the ``stopping_metric``
choice of ``DeepLearning.initActualParamValues``); :func:`check_stopping_metric` refuses
a stopping metric the task has no metric for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..distributions import LOG_LINK, REGRESSION_DISTRIBUTIONS
from ._messages import _conflict, _warn
from ._table import _DROPOUT_ACTIVATIONS, _MANUAL_RATE, _STOPPING_METRICS, default_params
from ._validation import _check_combinations

TASKS = ("classification", "regression", "autoencoder")
_REGRESSION_DISTRIBUTIONS = REGRESSION_DISTRIBUTIONS
_LOG_LINK = LOG_LINK


def _check_data(p: Mapping[str, Any], owner: str, task: str, n_classes: int | None,
                response_min: float | None) -> None:
    """Raise for a combination H2O refuses once the response is known: its type (the task),
    its number of classes and, for a log-link distribution, its minimum."""
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

