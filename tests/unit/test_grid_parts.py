"""The grid search's parts on their own, without a cluster or a real model: the
grid-level stopping value, the ranking helpers, the fit queue and the Cartesian walk."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest

from dask_deeplearn.exceptions import InvalidParameterError
from dask_deeplearn.model_selection import grid_should_stop, normalise_criteria
from dask_deeplearn.model_selection._fitting import _Data, _Task, run_queue
from dask_deeplearn.model_selection._ranking import (
    metric_is_increasing,
    model_metric,
    rank,
    resolve_metric,
)
from dask_deeplearn.model_selection._stopping import GridStopping
from dask_deeplearn.model_selection._strategies import SearchRun


class _Metrics:
    def __init__(self, **values: float) -> None:
        self.values = {k.lower(): v for k, v in values.items()}

    def get(self, metric: str) -> float:
        return self.values.get(metric.lower(), math.nan)


def _model(task: str = "classification", valid: dict | None = None, **train: float) -> Any:
    return SimpleNamespace(task_=task, training_metrics_=_Metrics(**train),
                           validation_metrics_=None if valid is None else _Metrics(**valid))


# ------------------------------------------------------------------------ GridStopping
def test_grid_stopping_agrees_with_grid_should_stop() -> None:
    values = [0.9, 0.5, 0.3, 0.3, 0.3, 0.3, 0.3]
    rule = GridStopping(stopping_rounds=2, stopping_metric="logloss",
                        stopping_tolerance=1e-3)
    built: list[Any] = []
    for i, v in enumerate(values):
        m = _model(logloss=v)
        built.append(m)
        expected = grid_should_stop(values[:i + 1], stopping_rounds=2,
                                    stopping_metric="logloss", stopping_tolerance=1e-3)
        assert rule.model_built(m, built) is expected
        if expected:
            break
    assert rule.stopped


def test_grid_stopping_auto_takes_the_first_models_task() -> None:
    rule = GridStopping(stopping_rounds=3, stopping_metric="AUTO", stopping_tolerance=0.0)
    first = _model("regression", deviance=1.0)
    rule.model_built(first, [first])
    assert rule.stopping_metric == "deviance"
    second = _model("classification", deviance=1.0)
    rule.model_built(second, [first, second])
    assert rule.stopping_metric == "deviance"


def test_grid_stopping_zero_rounds_never_stops_and_a_stop_stays() -> None:
    flat = [_model(logloss=0.5) for _ in range(20)]
    never = GridStopping(stopping_rounds=0, stopping_metric="logloss", stopping_tolerance=1.0)
    assert not any(never.model_built(m, flat[:i + 1]) for i, m in enumerate(flat))
    rule = GridStopping(stopping_rounds=1, stopping_metric="logloss", stopping_tolerance=0.0)
    for i, m in enumerate(flat[:3]):
        rule.model_built(m, flat[:i + 1])
    assert rule.stopped
    better = _model(logloss=0.0)
    assert rule.model_built(better, [*flat[:3], better])  # never un-fires


# ------------------------------------------------------------------------ ranking
def test_model_metric_prefers_validation_and_is_nan_without_metrics() -> None:
    assert model_metric(_model(valid={"AUC": 0.9}, AUC=0.7), "auc") == 0.9
    assert model_metric(_model(AUC=0.7), "AUC") == 0.7
    assert math.isnan(model_metric(SimpleNamespace(), "AUC"))


def test_resolve_metric() -> None:
    assert resolve_metric("AUC", _model("regression")) == "AUC"
    assert resolve_metric("AUTO", _model("regression")) == "deviance"
    assert resolve_metric("AUTO", _model("autoencoder")) == "MSE"
    assert resolve_metric("AUTO", _model("classification")) == "logloss"
    assert resolve_metric("AUTO", None) == "logloss"


def test_rank_direction_missing_values_and_ties() -> None:
    cands = [SimpleNamespace(index=i, model=_model(AUC=v, logloss=v))
             for i, v in enumerate([0.5, math.nan, 0.9, 0.5])]
    assert [c.index for c in rank(cands, "AUC")] == [2, 0, 3, 1]
    assert [c.index for c in rank(cands, "logloss")] == [0, 3, 2, 1]


def test_metric_is_increasing_refuses_an_unknown_name() -> None:
    assert metric_is_increasing("r2") and not metric_is_increasing("mean_residual_deviance")
    with pytest.raises(InvalidParameterError, match="sort_by='nope' is not a metric"):
        metric_is_increasing("nope")


# ------------------------------------------------------------------------ the fit queue
class _Fake:
    """An estimator stand-in: its training metric is its ``l1``; ``l1 < 0`` fails."""

    def __init__(self, **params: Any) -> None:
        self.params = params

    def fit(self, X: Any, y: Any, client: Any = None, **kw: Any) -> None:
        if self.params["l1"] < 0:
            raise ValueError("negative l1")
        self.task_ = "classification"
        self.epochs_ = float(self.params.get("epochs", 1.0))
        self.state_ = SimpleNamespace(processed=10)
        self.training_metrics_ = _Metrics(logloss=self.params["l1"])
        self.validation_metrics_ = None
        self.stop_reason_ = None


_DATA = _Data("fit", {"X": None, "y": None, "validation_data": None, "sample_weight": None})


@pytest.mark.parametrize("n_jobs", [1, 3])
def test_run_queue_runs_every_task_and_returns_errors(n_jobs: int) -> None:
    tasks = [_Task(SimpleNamespace(index=i), {"l1": float(v)})
             for i, v in enumerate([1, -1, 2, 3, -2])]
    done: list[tuple[int, bool]] = []
    exhausted = run_queue(tasks, n_jobs, _Fake, _DATA, lambda running: True,
                          lambda t, m, exc, secs: done.append((t.candidate.index, exc is None)))
    assert exhausted
    assert sorted(done) == [(0, True), (1, False), (2, True), (3, True), (4, False)]


def test_run_queue_stops_when_told() -> None:
    tasks = [_Task(SimpleNamespace(index=i), {"l1": 1.0}) for i in range(5)]
    done: list[int] = []
    exhausted = run_queue(tasks, 1, _Fake, _DATA, lambda running: len(done) < 2,
                          lambda t, m, exc, secs: done.append(t.candidate.index))
    assert not exhausted and done == [0, 1]


# ------------------------------------------------------------------------ the walk
def test_cartesian_walk_builds_in_product_order_and_books_failures() -> None:
    hyper = {"l1": [-1.0, 0.5], "l2": [0.0, 0.1]}
    run = SearchRun("g", hyper, normalise_criteria(None))
    run.walk(_Fake, {}, _DATA, 1, start=0.0)
    assert [c.hyper for c in run.candidates] == [
        {"l1": -1.0, "l2": 0.0}, {"l1": -1.0, "l2": 0.1},
        {"l1": 0.5, "l2": 0.0}, {"l1": 0.5, "l2": 0.1}]
    assert [c.model_id for c in run.built()] == ["g_model_3", "g_model_4"]
    assert [f["model_id"] for f in run.failures] == ["g_model_1", "g_model_2"]
    assert run.total_samples == 20 and run.stop_reason == "exhausted"


def test_random_walk_stops_early_on_a_flat_grid() -> None:
    crit = normalise_criteria({"strategy": "RandomDiscrete", "seed": 1, "stopping_rounds": 1,
                               "stopping_tolerance": 0.0})
    run = SearchRun("g", {"l1": [0.5] * 10}, crit)
    run.walk(_Fake, {}, _DATA, 1, start=0.0)
    assert run.stop_reason == "early_stopping"
    assert len(run.built()) == 3  # 2k + 1 models, k = 1
    assert [c.params["seed"] for c in run.candidates] == [1, 2, 3]
