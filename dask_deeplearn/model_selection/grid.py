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
the moving-average rule that stops the training of one model
(:meth:`dask_deeplearn.training.stopping.StoppingRule.should_stop`) with ``k = stopping_rounds``. Because
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

import contextlib
import math
import time
import uuid
import warnings
from typing import Any, Iterator, Mapping, Sequence

import pandas as pd

from ..estimators._base import DeepLearningBase
from ..exceptions import InvalidParameterError, NotFittedError
from ..training.progress import progress_action
from ._criteria import SearchCriteria, normalise_criteria
from ._fitting import _Data
from ._inputs import _check_base, _check_hyper_params, _check_n_jobs
from ._ranking import metric_is_increasing, model_metric, rank, resolve_metric
from ._stopping import grid_should_stop
from ._strategies import SearchRun, _Candidate

__all__ = ["DeepLearningGridSearch", "GridSearchError", "grid_should_stop", "metric_is_increasing"]

_OWNER = "DeepLearningGridSearch"


def _fits(crit: SearchCriteria, hyper: Mapping[str, list[Any]]) -> int | None:
    """Models a search builds at most (the progress bar's total; None for halving, whose
    rungs depend on the results)."""
    if crit.halving:
        return None
    combos = math.prod(len(v) for v in hyper.values())
    return min(combos, crit.max_models) if crit.max_models else combos


class GridSearchError(RuntimeError):
    """Every model of a search failed; ``failures`` holds the table of errors."""

    def __init__(self, message: str, failures: pd.DataFrame) -> None:
        super().__init__(message)
        self.failures = failures



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
        if not hasattr(self, "_run"):
            raise NotFittedError(
                f"This {_OWNER} has not run yet. Call 'train' (H2O style) or 'fit' "
                "(scikit-learn style) first.")

    def _built(self) -> list[_Candidate]:
        self._check_searched()
        return self._run.built()

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
        return pd.DataFrame(self._run.failures, columns=cols)

    def _default_metric(self) -> str:
        built = self._built()
        return resolve_metric(self.criteria_.stopping_metric, built[0].model if built else None)

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
            row.update({"model_id": c.model_id, metric: model_metric(m, metric),
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
            return rank(finalists, self._default_metric())[0].model
        return self.models[int(self.leaderboard["model_index"].iloc[0])]

    @property
    def rungs_(self) -> pd.DataFrame | None:
        """Successive-halving record: one row per rung (None for other strategies)."""
        self._check_searched()
        if not self.criteria_.halving:
            return None
        cols = ["bracket", "rung", "epochs", "n_candidates", "n_trained", "candidates",
                "kept", "metric", "values"]
        return pd.DataFrame(self._run.rungs, columns=cols)

    @property
    def checkpoints_(self) -> dict[str, list[Any]]:
        """Model id -> the successive fitted models of that candidate (one per rung)."""
        return {c.model_id: list(c.history) for c in self._built()}

    def __repr__(self) -> str:
        model = self.model if isinstance(self.model, type) else type(self.model)
        head = (f"{_OWNER}(model={model.__name__}, hyper_params={dict(self.hyper_params)!r}, "
                f"search_criteria={self.search_criteria!r})")
        if not hasattr(self, "_run"):
            return head
        return (f"{head}\nGrid {self.grid_id_!r}: {len(self)} models, "
                f"{len(self._run.failures)} failed, stop reason {self.stop_reason_!r}\n"
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

    def _reset(self, crit: SearchCriteria, hyper: dict[str, list[Any]],
               grid_id: str) -> SearchRun:
        self.criteria_ = crit
        self.grid_id_ = grid_id
        self._hyper = list(hyper)
        self._run = SearchRun(grid_id, hyper, crit)
        self.total_samples_ = 0
        self.stop_reason_ = "exhausted"
        self.run_time_ = 0.0
        return self._run

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
        run = self._reset(crit, hyper, grid_id)
        start = time.monotonic()
        try:
            # one bar for the search: its fits draw none
            with self._session(data, base) as client, progress_action(
                    type(self).__name__, _fits(crit, hyper), quiet=bool(base.get("quiet_mode"))):
                data.client = client
                if crit.halving:
                    run.halving(cls, base, data, n_jobs)
                else:
                    run.walk(cls, base, data, n_jobs, start)
        finally:
            self.total_samples_ = run.total_samples
            self.stop_reason_ = run.stop_reason
        self.run_time_ = time.monotonic() - start
        self._finish()
        return self

    def _finish(self) -> None:
        failures = self._run.failures
        if failures and not self._built():
            first = failures[0]
            raise GridSearchError(
                f"All {len(failures)} fits of grid {self.grid_id_!r} failed; the first "
                f"with {first['error_type']}: {first['error']} (see the exception's "
                "'failures' table, also on the grid's .failures).", self.failures
            ) from first["_exception"]
        if failures:
            warnings.warn(
                f"{len(failures)} fit(s) of grid {self.grid_id_!r} failed and were "
                "skipped; see the grid's .failures table.", UserWarning, stacklevel=4)
