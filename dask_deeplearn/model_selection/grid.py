"""Hyper-parameter search over Deep Learning models: H2O's ``H2OGridSearch``, plus halving.

:class:`DeepLearningGridSearch` trains one model per combination of hyper-parameter values
and ranks them. Strategies (``search_criteria["strategy"]``):

``"Cartesian"`` (default)
    Every combination, in ``itertools.product`` order of ``hyper_params`` (the last name
    varies fastest). ``max_models`` / ``max_runtime_secs`` may bound it.
``"RandomDiscrete"``
    Combinations drawn at random without replacement (``seed``), until the grid is
    exhausted, ``max_models`` models were built, ``max_runtime_secs`` ran out, or the
    grid-level early stopping below fires. As in H2O, when the base model's ``seed`` is
    left at -1 and the search has a seed, model ``n`` (0-based) gets ``seed + n``; each
    model's ``max_runtime_secs`` is capped by the time the search has left.
``"SuccessiveHalving"`` (ours)
    Every candidate trains ``min_epochs`` epochs (default 1); the best
    ``max(1, floor(n / eta))`` (``eta`` default 3) by ``stopping_metric`` -- on the
    validation data when given, else the training metrics -- are *continued from their
    own fitted models* through ``checkpoint=`` to ``eta`` times more epochs in total, and
    so on; the last candidate standing goes straight to ``max_epochs`` (default: the base
    model's ``epochs``). Survivors keep their weights, optimiser state, sample counter
    and scoring history: nothing is retrained from scratch.
``"Hyperband"`` (ours)
    Several successive-halving brackets with different starting budgets (Li et al. 2018):
    see :func:`~dask_deeplearn.model_selection.hyperband_brackets`. Each bracket draws
    its own candidates at random (``seed``).

Grid-level early stopping (RandomDiscrete), as H2O implements it
------------------------------------------------------------------
After each model is built, the grid takes the ``stopping_metric`` of every model built so
far (validation metrics when a validation frame is given, else training metrics; models
without a value for it are left out), sorts the values from worst to best, drops the
first (worst) one -- H2O's ``ScoreKeeper.stopEarly`` skips the first entry -- and applies
the model-level moving-average rule (semantics §9.1,
:meth:`dask_deeplearn.training.stopping.StoppingRule.should_stop`) with ``k = stopping_rounds``. Because
the sequence is sorted, the rule reads: with at least ``2k + 1`` models, stop when the
mean of the best ``k`` models is not better than the mean of the next ``k`` (ranks
``k+1 .. 2k``) by more than the relative ``stopping_tolerance`` (less-is-better metrics:
``mean_best / mean_next >= 1 - tolerance``; more-is-better: ``<= 1 + tolerance``). This is
H2O's ``RandomDiscreteValueWalker.stopEarly`` over ``ScoringInfo.sort``-ed models. Models
already running when it fires (``n_jobs > 1``) are finished and kept.

Concurrency
-----------
``n_jobs > 1`` trains that many models at a time in a thread pool of this process (the
Numba kernels release the GIL; give each model fewer ``nthreads`` to avoid
oversubscription). With a ``client=`` or Dask input every fit runs on the cluster; the
package holds a lock on every worker for the length of a fit, so models train one after
another on a cluster whatever ``n_jobs`` is (threads only overlap the driver-side work).
Dask input without a client uses the default client or starts *one* embedded
``LocalCluster`` for the whole search.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import difflib
import math
import os
import time
import uuid
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from ..estimators._base import DeepLearningBase
from ..exceptions import InvalidParameterError, NotFittedError
from ..metrics import more_is_better
from ..params import PARAMETERS, Options, canonical
from ..training.stopping import DEFAULT_METRIC as _DEFAULT_METRIC, StoppingRule
from ._criteria import SearchCriteria, normalise_criteria
from ._halving import hyperband_brackets, n_survivors

__all__ = ["DeepLearningGridSearch", "GridSearchError", "grid_should_stop", "metric_is_increasing"]

_OWNER = "DeepLearningGridSearch"
_EPS = 1e-9
# ModelMetrics.get names that are not stopping metrics
_EXTRA_DIRECTION = {"gini": True, "pr_auc": True, "r2": True, "mean_residual_deviance": False,
                    "classification_error": False, "error": False}
_NOT_SEARCHABLE = {
    "checkpoint": "each model of a grid starts from scratch (SuccessiveHalving continues "
                  "survivors from checkpoints by itself)",
    "model_id": "the grid names its models '<grid_id>_model_<n>'",
}


class GridSearchError(RuntimeError):
    """Every model of a search failed; ``failures`` holds the table of errors."""

    def __init__(self, message: str, failures: pd.DataFrame) -> None:
        super().__init__(message)
        self.failures = failures


def metric_is_increasing(metric: str) -> bool:
    """Whether larger values of ``metric`` are better.

    Parameters
    ----------
    metric : str
        A stopping-metric name (:func:`dask_deeplearn.metrics.more_is_better`) or another
        name :meth:`ModelMetrics.get` understands (``r2``, ``gini``, ``pr_auc``,
        ``mean_residual_deviance``, ``classification_error``, ``error``); case-insensitive.

    Returns
    -------
    bool

    Raises
    ------
    InvalidParameterError
        For an unknown metric name.

    Examples
    --------
    >>> metric_is_increasing("AUC"), metric_is_increasing("logloss"), metric_is_increasing("r2")
    (True, False, True)
    """
    try:
        return more_is_better(metric)
    except ValueError:
        pass
    key = str(metric).lower()
    if key in _EXTRA_DIRECTION:
        return _EXTRA_DIRECTION[key]
    raise InvalidParameterError(
        f"sort_by={metric!r} is not a metric {_OWNER} can rank models by; use one of "
        "'logloss', 'auc', 'aucpr', 'mse', 'rmse', 'mae', 'rmsle', 'deviance', 'r2', "
        "'misclassification', 'mean_per_class_error', 'lift_top_group' (case-insensitive)."
    )


def _model_metric(model: Any, metric: str) -> float:
    """``metric`` of a fitted model: validation metrics when present, else training ones."""
    m = getattr(model, "validation_metrics_", None)
    if m is None:
        m = getattr(model, "training_metrics_", None)
    if m is None:
        return float("nan")
    return float(m.get(metric))


def grid_should_stop(values: Sequence[float], *, stopping_rounds: int, stopping_metric: str,
                     stopping_tolerance: float) -> bool:
    """H2O's grid-level early stopping over the metrics of the models built so far.

    The values (one per model, any order; NaN left out) are sorted from worst to best,
    the worst is dropped and H2O's moving-average rule is applied (see the module
    docstring).

    Parameters
    ----------
    values : sequence of float
        The metric of each model built so far.
    stopping_rounds : int
        ``k``; 0 disables.
    stopping_metric : str
        Canonical stopping-metric name (decides the direction).
    stopping_tolerance : float
        Relative improvement the best ``k`` must show over the next ``k``.

    Returns
    -------
    bool

    Examples
    --------
    >>> grid_should_stop([0.3, 0.3, 0.3, 0.3, 0.3], stopping_rounds=2,
    ...                  stopping_metric="logloss", stopping_tolerance=1e-3)
    True
    >>> grid_should_stop([0.9, 0.5, 0.45, 0.2, 0.1], stopping_rounds=2,
    ...                  stopping_metric="logloss", stopping_tolerance=1e-3)
    False
    """
    rule = StoppingRule(stopping_metric, int(stopping_rounds), float(stopping_tolerance))
    return rule.should_stop_among(values, more_is_better=metric_is_increasing(stopping_metric))


# ------------------------------------------------------------------------------ helpers
def _is_dask(obj: Any) -> bool:
    return obj is not None and type(obj).__module__.startswith("dask")


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


def _combination(hyper: Mapping[str, list[Any]], index: int) -> dict[str, Any]:
    """The ``index``-th combination in ``itertools.product`` order (last name fastest)."""
    out: dict[str, Any] = {}
    for name in reversed(list(hyper)):
        values = hyper[name]
        index, i = divmod(index, len(values))
        out[name] = values[i]
    return {name: out[name] for name in hyper}


def _random_order(total: int, rng: np.random.Generator) -> Iterator[int]:
    """Combination indices at random without replacement (H2O's RandomDiscrete walk)."""
    if total <= 1 << 20:
        for i in rng.permutation(total):
            yield int(i)
        return
    seen: set[int] = set()
    while len(seen) < total:
        i = int(rng.integers(total))
        if i not in seen:
            seen.add(i)
            yield i


@dataclass
class _Candidate:
    """One hyper-parameter combination and the models trained for it."""

    index: int
    model_id: str
    hyper: dict[str, Any]
    params: dict[str, Any]
    bracket: int | None = None
    model: Any = None
    history: list[Any] = field(default_factory=list)
    fit_time: float = 0.0
    samples: int = 0
    rung: int | None = None
    budget: float | None = None
    final: bool = False
    failed: bool = False


@dataclass
class _Task:
    candidate: _Candidate
    params: dict[str, Any]
    previous: Any = None
    rung: int | None = None


@dataclass
class _Data:
    """How to train one estimator: H2O ``train`` or scikit-learn ``fit`` arguments."""

    style: str
    kwargs: dict[str, Any]
    client: Any = None

    def run(self, estimator: Any) -> None:
        if self.style == "train":
            estimator.train(**self.kwargs, client=self.client)
        else:
            kw = dict(self.kwargs)
            X, y = kw.pop("X"), kw.pop("y")
            estimator.fit(X, y, client=self.client, **kw)

    def is_dask(self) -> bool:
        values = list(self.kwargs.values())
        vd = self.kwargs.get("validation_data")
        if isinstance(vd, tuple):
            values += list(vd)
        return any(_is_dask(v) for v in values)


def _fit_one(cls: type, params: dict[str, Any],
             data: _Data) -> tuple[Any, BaseException | None, float]:
    """Build and train one estimator; never raises (the error is returned)."""
    start = time.perf_counter()
    try:
        est = cls(**params)
        data.run(est)
        return est, None, time.perf_counter() - start
    except Exception as exc:  # noqa: BLE001 - recorded in the failure table
        return None, exc, time.perf_counter() - start


# ------------------------------------------------------------------------------ the search
class DeepLearningGridSearch:
    """Grid, random and successive-halving search over Deep Learning models (H2OGridSearch).

    Parameters
    ----------
    model : type or estimator instance
        :class:`~dask_deeplearn.DeepLearningClassifier`,
        :class:`~dask_deeplearn.DeepLearningRegressor`,
        :class:`~dask_deeplearn.DeepLearningEstimator` (or the autoencoder), as a class
        (base parameters: the defaults) or an instance whose ``get_params()`` are the base
        parameters (its ``client``, if set, is used too).
    hyper_params : dict of str to list
        Parameter name -> candidate values, e.g. ``{"hidden": [[32, 32], [32, 16, 8],
        [100]], "l1": [1e-4, 1e-3]}``. Names are checked at once (an unknown name raises
        with close matches); a parameter may not be set both here and, to a non-default
        value, in the base parameters.
    grid_id : str, optional
        Name of the grid; models are named ``"<grid_id>_model_<n>"`` (their
        ``model_id``). Default: ``"Grid_DeepLearning_<random hex>"``.
    search_criteria : dict, optional
        ``{"strategy": "Cartesian"}`` (default), ``"RandomDiscrete"`` (keys ``seed``,
        ``max_models``, ``max_runtime_secs``, ``stopping_rounds``, ``stopping_metric``,
        ``stopping_tolerance``, H2O's defaults 0, 0, 0, "AUTO", 0.001), ``"SuccessiveHalving"``
        (``min_epochs`` 1, ``max_epochs`` the base ``epochs``, ``eta`` 3,
        ``stopping_metric`` "AUTO" ranking the candidates, ``seed``, ``max_candidates``)
        or ``"Hyperband"`` (``min_epochs``, ``max_epochs``, ``eta``, ``stopping_metric``,
        ``seed``). ``Cartesian`` also takes ``max_models`` and ``max_runtime_secs``. See
        the module docstring for each strategy and the early-stopping rule.
    n_jobs : int, default=1
        Models trained at the same time in threads of this process (-1: one per core).
        On a Dask cluster fits queue for the workers' locks (see the module docstring).

    Attributes
    ----------
    models : list of estimators
        Every fitted model (for halving: the latest model of each candidate), in build
        order.
    model_ids : list of str
    leaderboard : pandas.DataFrame
        :meth:`get_grid` with the default metric.
    best_model_ : estimator
    failures : pandas.DataFrame
        One row per failed fit: ``model_id``, the hyper-parameter values, ``rung``,
        ``error_type``, ``error``.
    rungs_ : pandas.DataFrame or None
        SuccessiveHalving / Hyperband: one row per rung (``bracket``, ``rung``,
        ``epochs``, ``n_candidates``, ``n_trained``, ``candidates``, ``kept``,
        ``metric``, ``values``: model id -> metric at that rung).
    checkpoints_ : dict of str to list
        Model id -> the successive fitted models of that candidate (one per rung; each
        later one's ``checkpoint`` parameter is the one before).
    total_samples_ : int
        Training samples processed by every fit of the search (continued fits count only
        their new samples).
    run_time_ : float
        Wall-clock seconds of the search.
    stop_reason_ : str
        ``"exhausted"``, ``"max_models"``, ``"max_runtime_secs"``, ``"early_stopping"``
        or ``"halving_done"``.
    criteria_ : SearchCriteria
        The normalised search criteria.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from dask_deeplearn import DeepLearningClassifier
    >>> from dask_deeplearn.model_selection import DeepLearningGridSearch
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> grid = DeepLearningGridSearch(
    ...     DeepLearningClassifier(epochs=2, seed=1, reproducible=True, quiet_mode=True),
    ...     hyper_params={"hidden": [[8], [16]], "l1": [0.0, 1e-4]})
    >>> len(grid.fit(X, y).models)
    4
    >>> list(grid.leaderboard.columns[:4])
    ['hidden', 'l1', 'model_id', 'logloss']
    """

    def __init__(self, model: type[DeepLearningBase] | DeepLearningBase,
                 hyper_params: Mapping[str, Sequence[Any]],
                 grid_id: str | None = None,
                 search_criteria: Mapping[str, Any] | None = None, n_jobs: int = 1) -> None:
        self.model = model
        self.hyper_params = hyper_params
        self.grid_id = grid_id
        self.search_criteria = search_criteria
        self.n_jobs = n_jobs
        # fail at the line where the grid is described, not after a cluster starts
        crit = normalise_criteria(search_criteria)
        _check_hyper_params(hyper_params, crit)
        _check_n_jobs(n_jobs)
        self._model_class()

    # --------------------------------------------------------------------- entry points
    def train(self, x: Sequence[str] | None = None, y: str | None = None,
              training_frame: Any = None, validation_frame: Any = None,
              weights_column: str | None = None, offset_column: str | None = None,
              ignored_columns: Sequence[str] | None = None, client: Any = None,
              **params: Any) -> "DeepLearningGridSearch":
        """Run the search H2O style (``H2OGridSearch.train``), one ``train`` per model.

        Parameters
        ----------
        x : list of str, optional
            Predictor columns (default: all but the response, weights and offset).
        y : str
            Response column (categorical -> classification, numeric -> regression).
        training_frame : pandas.DataFrame or dask.dataframe.DataFrame
        validation_frame : pandas.DataFrame or dask.dataframe.DataFrame, optional
            Scores every model and drives its early stopping, the ranking and the
            grid-level stopping.
        weights_column, offset_column : str, optional
        ignored_columns : list of str, optional
        client : distributed.Client, optional
            Cluster every model trains on.
        **params
            Further base model parameters (as in the booklet: ``epochs=1000,
            stopping_rounds=3, ...``); they override the ``model`` instance's.

        Returns
        -------
        self

        Raises
        ------
        TypeError
            The model class has no H2O-style ``train`` (use :meth:`fit`).
        InvalidParameterError
            An unknown parameter, bad search criteria, or a parameter set both in the
            base and in ``hyper_params``.
        GridSearchError
            Every model failed (see ``failures``).
        """
        cls, base, default_client = self._base()
        if not hasattr(cls, "train"):
            raise TypeError(
                f"{_OWNER}.train() uses H2O's train(x=, y=, training_frame=) and needs "
                f"DeepLearningEstimator; {cls.__name__} has the scikit-learn API: call "
                f"{_OWNER}.fit(X, y, validation_data=...) instead."
            )
        kwargs = {"x": x, "y": y, "training_frame": training_frame,
                  "validation_frame": validation_frame, "weights_column": weights_column,
                  "offset_column": offset_column, "ignored_columns": ignored_columns}
        data = _Data("train", kwargs, client if client is not None else default_client)
        return self._search(cls, {**base, **params}, data)

    def fit(self, X: Any, y: Any = None, *, validation_data: tuple[Any, Any] | None = None,
            sample_weight: Any = None, client: Any = None) -> "DeepLearningGridSearch":
        """Run the search scikit-learn style, one ``fit(X, y, ...)`` per model.

        Parameters
        ----------
        X : array-like, pandas.DataFrame, or Dask DataFrame / Array of shape (n_samples, n_features)
        y : array-like, pandas.Series or Dask Series / Array of shape (n_samples,), optional
            None for autoencoders.
        validation_data : tuple (X_valid, y_valid), optional
            Scores every model; used for ranking and grid-level stopping when given.
        sample_weight : array-like, optional
        client : distributed.Client, optional
            Cluster every model trains on (Dask input without one: the default client or
            one embedded ``LocalCluster`` for the whole search).

        Returns
        -------
        self

        Raises
        ------
        InvalidParameterError
            Bad hyper-parameters or search criteria.
        GridSearchError
            Every model failed (see ``failures``).
        """
        cls, base, default_client = self._base()
        kwargs = {"X": X, "y": y, "validation_data": validation_data,
                  "sample_weight": sample_weight}
        data = _Data("fit", kwargs, client if client is not None else default_client)
        return self._search(cls, base, data)

    # --------------------------------------------------------------------- results
    def _check_searched(self) -> None:
        if not hasattr(self, "_candidates"):
            raise NotFittedError(
                f"This {_OWNER} has not run yet. Call 'train' (H2O style) or 'fit' "
                "(scikit-learn style) first.")

    def _built(self) -> list[_Candidate]:
        self._check_searched()
        return [c for c in self._candidates if c.model is not None]

    @property
    def models(self) -> list[Any]:
        """Every fitted model, in build order (halving: each candidate's latest model)."""
        return [c.model for c in self._built()]

    @property
    def model_ids(self) -> list[str]:
        """The ids of :attr:`models`, in the same order."""
        return [c.model_id for c in self._built()]

    def get_model(self, model_id: str) -> Any:
        """The model named ``model_id``.

        Raises
        ------
        KeyError
            No model of this grid has that id.
        """
        for c in self._built():
            if c.model_id == model_id:
                return c.model
        raise KeyError(f"No model {model_id!r} in grid {self.grid_id_!r}; ids: {self.model_ids}")

    def __len__(self) -> int:
        return len(self._built())

    def __iter__(self) -> Iterator[Any]:
        return iter(self.models)

    def __getitem__(self, i: int) -> Any:
        return self.models[i]

    @property
    def failures(self) -> pd.DataFrame:
        """One row per failed fit: ``model_id``, hyper-parameter values, ``rung``,
        ``error_type`` and ``error`` (the message)."""
        self._check_searched()
        cols = ["model_id", *self._hyper, "rung", "error_type", "error"]
        return pd.DataFrame(self._failures, columns=cols)

    def _default_metric(self) -> str:
        built = self._built()
        if self.criteria_.stopping_metric != "AUTO":
            return self.criteria_.stopping_metric
        if not built:
            return "logloss"
        return _DEFAULT_METRIC.get(getattr(built[0].model, "task_", ""), "logloss")

    def get_grid(self, sort_by: str | None = None, decreasing: bool | None = None) -> pd.DataFrame:
        """The leaderboard: one row per model, sorted by a metric (H2O's ``get_grid``).

        Parameters
        ----------
        sort_by : str, optional
            Metric to sort by (case-insensitive, any name ``ModelMetrics.get`` accepts:
            ``logloss``, ``auc``, ``aucpr``, ``mse``, ``rmse``, ``mae``, ``deviance``,
            ``r2``, ``misclassification``, ``mean_per_class_error``, ...). Default: the
            search's ``stopping_metric``, or for AUTO logloss (classification), deviance
            (regression), MSE (autoencoder). Values come from the validation metrics when
            the models have them, else from the training metrics.
        decreasing : bool, optional
            Sort order; default: best first (decreasing for more-is-better metrics such
            as AUC, increasing otherwise). Models without a value come last.

        Returns
        -------
        pandas.DataFrame
            Columns: each hyper-parameter, ``model_id``, the metric (named ``sort_by``),
            ``epochs`` (trained; ``epochs_trained`` when ``epochs`` is a hyper-parameter),
            ``samples`` (trained), ``training_time`` (seconds over
            all of the model's fits), ``stop_reason``, ``model_index`` (position in
            :attr:`models`), for halving the ``rung`` each candidate reached and for
            Hyperband its ``bracket``.
        """
        built = self._built()
        metric = self._default_metric() if sort_by is None else str(sort_by)
        up = metric_is_increasing(metric)
        decreasing = up if decreasing is None else bool(decreasing)
        # (a Cartesian grid over "epochs" keeps that name for the hyper-parameter)
        epochs = "epochs_trained" if "epochs" in self._hyper else "epochs"
        rows = []
        for pos, c in enumerate(built):
            m = c.model
            row: dict[str, Any] = {name: c.hyper[name] for name in self._hyper}
            row.update({"model_id": c.model_id, metric: _model_metric(m, metric),
                        epochs: float(m.epochs_), "samples": int(m.state_.processed),
                        "training_time": c.fit_time, "stop_reason": m.stop_reason_,
                        "model_index": pos})
            if self.criteria_.halving:
                row["rung"] = c.rung
                row["bracket"] = c.bracket
            rows.append(row)
        cols = [*self._hyper, "model_id", metric, epochs, "samples", "training_time",
                "stop_reason", "model_index"]
        if self.criteria_.halving:
            cols += ["rung"] + (["bracket"] if self.criteria_.strategy == "Hyperband" else [])
        table = pd.DataFrame(rows, columns=cols)
        if len(table):
            table = table.sort_values(metric, ascending=not decreasing, kind="mergesort",
                                      na_position="last").reset_index(drop=True)
        return table

    @property
    def leaderboard(self) -> pd.DataFrame:
        """:meth:`get_grid` with the default metric and order."""
        return self.get_grid()

    @property
    def best_model_(self) -> Any:
        """The best model by the default metric (halving: among the finalists, the
        candidates of each bracket's last rung, trained to the largest budget)."""
        built = self._built()
        if not built:
            raise NotFittedError(f"{_OWNER} has no fitted model; see .failures.")
        if self.criteria_.halving:
            finalists = [c for c in built if c.final] or built
            return self._rank(finalists, self._default_metric())[0].model
        return self.models[int(self.leaderboard["model_index"].iloc[0])]

    @property
    def rungs_(self) -> pd.DataFrame | None:
        """Successive-halving record: one row per rung (None for other strategies)."""
        self._check_searched()
        if not self.criteria_.halving:
            return None
        cols = ["bracket", "rung", "epochs", "n_candidates", "n_trained", "candidates",
                "kept", "metric", "values"]
        return pd.DataFrame(self._rungs, columns=cols)

    @property
    def checkpoints_(self) -> dict[str, list[Any]]:
        """Model id -> the successive fitted models of that candidate (one per rung)."""
        return {c.model_id: list(c.history) for c in self._built()}

    def __repr__(self) -> str:
        model = self.model if isinstance(self.model, type) else type(self.model)
        head = (f"{_OWNER}(model={model.__name__}, hyper_params={dict(self.hyper_params)!r}, "
                f"search_criteria={self.search_criteria!r})")
        if not hasattr(self, "_candidates"):
            return head
        return (f"{head}\nGrid {self.grid_id_!r}: {len(self)} models, "
                f"{len(self._failures)} failed, stop reason {self.stop_reason_!r}\n"
                + self.leaderboard.to_string(max_rows=30))

    # --------------------------------------------------------------------- machinery
    def _model_class(self) -> type:
        model = self.model
        cls = model if isinstance(model, type) else type(model)
        if not (isinstance(cls, type) and issubclass(cls, DeepLearningBase)):
            raise TypeError(
                f"model of {_OWNER} must be a dask_deeplearn estimator class (e.g. "
                f"DeepLearningClassifier) or an instance of one; got {model!r}.")
        return cls

    def _base(self) -> tuple[type, dict[str, Any], Any]:
        cls = self._model_class()
        if isinstance(self.model, type):
            return cls, {}, None
        return cls, dict(self.model.get_params(deep=False)), self.model.client

    def _reset(self, crit: SearchCriteria, hyper: dict[str, list[Any]], grid_id: str) -> None:
        self.criteria_ = crit
        self.grid_id_ = grid_id
        self._hyper = list(hyper)
        self._candidates: list[_Candidate] = []
        self._failures: list[dict[str, Any]] = []
        self._rungs: list[dict[str, Any]] = []
        self.total_samples_ = 0
        self.stop_reason_ = "exhausted"
        self.run_time_ = 0.0

    def _session(self, data: _Data, base: Mapping[str, Any]) -> Any:
        """One cluster connection for the whole search when fits would otherwise each
        start their own (Dask input, ``backend="dask"`` or ``scheduler_address``)."""
        if data.client is not None:
            return contextlib.nullcontext(data.client)
        address = base.get("scheduler_address")
        if data.is_dask() or base.get("backend") == "dask" or address:
            from ..distributed import connect

            return connect(None, address)
        return contextlib.nullcontext(None)

    def _search(self, cls: type, base: dict[str, Any], data: _Data) -> "DeepLearningGridSearch":
        crit = normalise_criteria(self.search_criteria)
        hyper = _check_hyper_params(self.hyper_params, crit)
        _check_base(base, hyper)
        n_jobs = _check_n_jobs(self.n_jobs)
        if crit.halving and base.get("checkpoint") is not None:
            raise InvalidParameterError(
                f"strategy {crit.strategy!r} continues its own models from checkpoints; the "
                "base model must not have a checkpoint.")
        grid_id = self.grid_id or f"Grid_DeepLearning_{uuid.uuid4().hex[:8]}"
        self._reset(crit, hyper, grid_id)
        start = time.monotonic()
        with self._session(data, base) as client:
            data.client = client
            if crit.halving:
                self._run_halving(cls, base, data, crit, hyper, n_jobs)
            else:
                self._run_walk(cls, base, data, crit, hyper, n_jobs, start)
        self.run_time_ = time.monotonic() - start
        self._finish()
        return self

    def _finish(self) -> None:
        if self._failures and not self._built():
            first = self._failures[0]
            raise GridSearchError(
                f"All {len(self._failures)} fits of grid {self.grid_id_!r} failed; the first "
                f"with {first['error_type']}: {first['error']} (see the exception's "
                "'failures' table, also on the grid's .failures).", self.failures
            ) from first["_exception"]
        if self._failures:
            warnings.warn(
                f"{len(self._failures)} fit(s) of grid {self.grid_id_!r} failed and were "
                "skipped; see the grid's .failures table.", UserWarning, stacklevel=4)

    def _new_candidate(self, combo: dict[str, Any], base: Mapping[str, Any],
                       seed: int | None, bracket: int | None = None) -> _Candidate:
        n = len(self._candidates)
        model_id = f"{self.grid_id_}_model_{n + 1}"
        params = {**base, **combo, "model_id": model_id}
        if seed is not None:
            params["seed"] = seed + n
        cand = _Candidate(index=n, model_id=model_id, hyper=combo, params=params,
                          bracket=bracket)
        self._candidates.append(cand)
        return cand

    def _record(self, task: _Task, model: Any, exc: BaseException | None, secs: float) -> bool:
        """Book a finished fit on its candidate; return whether it succeeded."""
        c = task.candidate
        c.fit_time += secs
        if exc is not None:
            c.failed = True
            self._failures.append({
                "model_id": c.model_id, **c.hyper, "rung": task.rung,
                "error_type": type(exc).__name__, "error": str(exc), "_exception": exc})
            return False
        # a continued fit (checkpoint=) adds only its new samples
        ckpt = task.params.get("checkpoint") if task.previous is not None else None
        before = 0 if ckpt is None else int(ckpt.state_.processed)
        c.samples += int(model.state_.processed) - before
        self.total_samples_ += int(model.state_.processed) - before
        c.model = model
        c.history.append(model)
        return True

    @staticmethod
    def _run_queue(tasks: Iterable[_Task], n_jobs: int, cls: type, data: _Data,
                   can_start: Callable[[int], bool],
                   on_done: Callable[[_Task, Any, BaseException | None, float], None]) -> bool:
        """Train tasks, ``n_jobs`` at a time; return whether ``tasks`` ran out.

        ``can_start(n_running)`` is asked before each new task; ``on_done`` runs in this
        thread for each finished task, in completion order.
        """
        it = iter(tasks)
        if n_jobs == 1:
            while can_start(0):
                task = next(it, None)
                if task is None:
                    return True
                on_done(task, *_fit_one(cls, task.params, data))
            return False
        exhausted = False
        with cf.ThreadPoolExecutor(max_workers=n_jobs,
                                   thread_name_prefix="dask_deeplearn-grid") as pool:
            running: dict[cf.Future, _Task] = {}
            while True:
                while not exhausted and len(running) < n_jobs and can_start(len(running)):
                    task = next(it, None)
                    if task is None:
                        exhausted = True
                        break
                    running[pool.submit(_fit_one, cls, task.params, data)] = task
                if not running:
                    return exhausted
                done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: running[f].candidate.index):
                    on_done(running.pop(fut), *fut.result())

    # Cartesian and RandomDiscrete ----------------------------------------------------
    def _run_walk(self, cls: type, base: dict[str, Any], data: _Data, crit: SearchCriteria,
                  hyper: dict[str, list[Any]], n_jobs: int, start: float) -> None:
        total = math.prod(len(v) for v in hyper.values())
        random = crit.strategy == "RandomDiscrete"
        rng = np.random.default_rng(None if crit.seed == -1 else crit.seed)
        order = _random_order(total, rng) if random else iter(range(total))
        deadline = start + crit.max_runtime_secs if crit.max_runtime_secs > 0 else None
        seed = crit.seed if (random and crit.seed != -1
                             and _is_default("seed", base.get("seed", -1))) else None
        state = {"built": 0, "early": False}
        metric = [crit.stopping_metric]

        def tasks() -> Iterator[_Task]:
            for idx in order:
                cand = self._new_candidate(_combination(hyper, idx), base, seed)
                if deadline is not None:
                    left = max(deadline - time.monotonic(), 1e-3)
                    own = float(cand.params.get("max_runtime_secs") or 0.0)
                    cand.params["max_runtime_secs"] = min(own, left) if own > 0 else left
                yield _Task(cand, dict(cand.params))

        def can_start(running: int) -> bool:
            if state["early"]:
                return False
            if crit.max_models and state["built"] + running >= crit.max_models:
                return False
            return deadline is None or time.monotonic() < deadline

        def on_done(task: _Task, model: Any, exc: BaseException | None, secs: float) -> None:
            if not self._record(task, model, exc, secs):
                return
            task.candidate.final = True
            state["built"] += 1
            if metric[0] == "AUTO":
                metric[0] = _DEFAULT_METRIC.get(getattr(model, "task_", ""), "logloss")
            if crit.stopping_rounds and not state["early"]:
                values = [_model_metric(c.model, metric[0]) for c in self._built()]
                state["early"] = grid_should_stop(
                    values, stopping_rounds=crit.stopping_rounds, stopping_metric=metric[0],
                    stopping_tolerance=crit.stopping_tolerance)

        exhausted = self._run_queue(tasks(), n_jobs, cls, data, can_start, on_done)
        if state["early"]:
            self.stop_reason_ = "early_stopping"
        elif crit.max_models and state["built"] >= crit.max_models:
            self.stop_reason_ = "max_models"
        elif not exhausted and deadline is not None:
            self.stop_reason_ = "max_runtime_secs"
        else:
            self.stop_reason_ = "exhausted"

    # SuccessiveHalving and Hyperband -------------------------------------------------
    def _rank(self, cands: Sequence[_Candidate], metric: str) -> list[_Candidate]:
        """Best first by ``metric``; candidates without a value last, ties by build order."""
        up = metric_is_increasing(metric)

        def key(c: _Candidate) -> tuple[bool, float, int]:
            v = _model_metric(c.model, metric)
            bad = math.isnan(v)
            return (bad, 0.0 if bad else (-v if up else v), c.index)

        return sorted(cands, key=key)

    def _run_halving(self, cls: type, base: dict[str, Any], data: _Data, crit: SearchCriteria,
                     hyper: dict[str, list[Any]], n_jobs: int) -> None:
        total = math.prod(len(v) for v in hyper.values())
        rng = np.random.default_rng(None if crit.seed == -1 else crit.seed)
        max_epochs = crit.max_epochs
        if max_epochs is None:
            max_epochs = float(base.get("epochs", PARAMETERS["epochs"].default))
        if max_epochs < crit.min_epochs:
            raise InvalidParameterError(
                f"{crit.strategy}: max_epochs={max_epochs!r} (the base model's epochs unless "
                f"search_criteria sets max_epochs) is below min_epochs={crit.min_epochs!r}.")
        seed = crit.seed if (crit.seed != -1
                             and _is_default("seed", base.get("seed", -1))) else None
        if crit.strategy == "SuccessiveHalving":
            if crit.max_candidates and crit.max_candidates < total:
                picks = sorted(int(i) for i in rng.choice(total, crit.max_candidates,
                                                          replace=False))
            else:
                picks = list(range(total))
            brackets: list[tuple[list[int], float, int]] = [(picks, crit.min_epochs, 0)]
        else:
            brackets = []
            for b, (n, r0) in enumerate(hyperband_brackets(crit.min_epochs, max_epochs, crit.eta)):
                picks = sorted(int(i) for i in rng.choice(total, min(n, total), replace=False))
                brackets.append((picks, r0, b))
        for picks, r0, bracket in brackets:
            cands = [self._new_candidate(_combination(hyper, i), base, seed, bracket)
                     for i in picks]
            self._halve(cands, r0, max_epochs, crit, cls, data, n_jobs)
        self.stop_reason_ = "halving_done"

    def _halve(self, cands: list[_Candidate], budget: float, max_epochs: float,
               crit: SearchCriteria, cls: type, data: _Data, n_jobs: int) -> None:
        """One successive-halving run; survivors continue from their own models."""
        alive = cands
        rung = 0
        while alive:
            tasks = []
            for c in alive:
                prev = c.model
                if prev is not None and float(prev.epochs_) >= budget * (1 - _EPS):
                    continue  # its last fit already overshot this budget
                params = {**c.params, "epochs": float(budget)}
                if prev is not None:
                    params["checkpoint"] = prev
                tasks.append(_Task(c, params, prev, rung))

            def on_done(task: _Task, model: Any, exc: BaseException | None, secs: float) -> None:
                self._record(task, model, exc, secs)

            self._run_queue(tasks, n_jobs, cls, data, lambda _: True, on_done)
            ok = [c for c in alive if not c.failed]
            for c in ok:
                c.rung, c.budget = rung, float(budget)
            metric = self._halving_metric(ok)
            ranked = self._rank(ok, metric)
            last = not ok or budget >= max_epochs * (1 - _EPS)
            kept = ranked if last else ranked[:n_survivors(len(ok), crit.eta)]
            if last:
                for c in ok:
                    c.final = True
            self._rungs.append({
                "bracket": cands[0].bracket, "rung": rung, "epochs": float(budget),
                "n_candidates": len(alive), "n_trained": len(tasks),
                "candidates": [c.model_id for c in alive], "kept": [c.model_id for c in kept],
                "metric": metric,
                "values": {c.model_id: _model_metric(c.model, metric) for c in ok}})
            if last:
                return
            alive = kept
            rung += 1
            budget = max_epochs if len(kept) == 1 else min(budget * crit.eta, max_epochs)

    def _halving_metric(self, ok: Sequence[_Candidate]) -> str:
        if self.criteria_.stopping_metric != "AUTO":
            return self.criteria_.stopping_metric
        task = getattr(ok[0].model, "task_", "") if ok else ""
        return _DEFAULT_METRIC.get(task, "logloss")
