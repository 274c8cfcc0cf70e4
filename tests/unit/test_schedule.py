"""Iteration sizing, scoring schedule and H2O's moving-average stopping rule."""

from __future__ import annotations

import pytest

from dask_deeplearn.training.schedule import (
    ScoringSchedule,
    adjust_samples_per_iteration,
    samples_per_iteration,
    stop_early,
)


@pytest.mark.parametrize(
    "tspi,kw,expected",
    [
        (0, dict(n_rows=1000, epochs=10), 1000),
        (-1, dict(n_rows=1000, epochs=10), 1000),
        (-1, dict(n_rows=1000, epochs=10, n_nodes=3, replicate=True), 3000),
        (-1, dict(n_rows=1000, epochs=10, n_nodes=3, replicate=True, single_node_mode=True), 1000),
        (500, dict(n_rows=1000, epochs=10), 500),
        (50_000, dict(n_rows=1000, epochs=10), 10_000),      # capped at epochs * N
        (-2, dict(n_rows=1000, epochs=10), 1000),             # epochs * N / 10
        (-2, dict(n_rows=60_000, epochs=10), 60_000),
        (-2, dict(n_rows=10_000_000, epochs=10), 100_000),    # hard cap per node
        (-2, dict(n_rows=1000, epochs=10, rows_per_10s=300), 300),  # ~10 s of work
        (-2, dict(n_rows=1000, epochs=21), 2000),             # 2.1 N rounds down to 2 N
    ],
)
def test_samples_per_iteration(tspi, kw, expected):
    assert samples_per_iteration(tspi, **kw) == expected


def test_multi_node_auto_tuning_from_measured_times():
    kw = dict(n_rows=1_000_000, epochs=10, n_nodes=2, target_ratio_comm_to_comp=0.05)
    # 20 ms per exchange at 50k rows/s: compute should take 0.38 s -> 19,000 rows
    assert samples_per_iteration(-2, comm_seconds=0.02, rows_per_second=50_000, **kw) == 19_000
    # capped at epochs * N / 10 (at least ~10 iterations)
    assert samples_per_iteration(-2, comm_seconds=10, rows_per_second=1e6,
                                 **{**kw, "n_rows": 10_000}) == 10_000
    # single_node_mode uses the single-node rule (H2O keeps the cluster-size cap)
    assert samples_per_iteration(-2, comm_seconds=0.02, rows_per_second=50_000,
                                 single_node_mode=True, **kw) == 200_000


def test_multi_node_correction_after_an_iteration():
    # communication is 20 % of the iteration, target 5 %: corr = 0.25 -> 0.5 -> size doubles
    assert adjust_samples_per_iteration(1000, comm_seconds=0.2, iteration_seconds=1.0,
                                        target_ratio_comm_to_comp=0.05) == 2000
    # far below target: halve
    assert adjust_samples_per_iteration(1000, comm_seconds=0.02, iteration_seconds=10.0,
                                        target_ratio_comm_to_comp=0.05) == 500
    # within [0.8, 1.2] of the target, or tiny communication: unchanged
    assert adjust_samples_per_iteration(1000, comm_seconds=0.05, iteration_seconds=1.0,
                                        target_ratio_comm_to_comp=0.05) == 1000
    assert adjust_samples_per_iteration(1000, comm_seconds=0.005, iteration_seconds=1.0,
                                        target_ratio_comm_to_comp=0.05) == 1000
    # the caps of the initial rule still hold
    assert adjust_samples_per_iteration(1000, comm_seconds=0.2, iteration_seconds=1.0,
                                        target_ratio_comm_to_comp=0.05, max_rows=1500) == 1500


def test_schedule_first_final_interval_and_duty_cycle():
    s = ScoringSchedule(score_interval=5, score_duty_cycle=0.1)
    assert s.due(0.0, final=False)              # first iteration always scored
    s.record(0.0, 0.2)
    assert not s.due(3.0, final=False)          # interval not reached
    assert s.due(3.0, final=True)               # last iteration always scored
    assert s.due(6.0, final=False)              # 0.2 s of scoring in 6 s < 10 %
    s.record(10.0, 11.0)
    assert not s.due(16.5, final=False)         # 1 s / 6.5 s > 10 % duty cycle
    assert ScoringSchedule(score_each_iteration=True, last_start=1.0).due(1.1, final=False)


def test_stop_early_needs_2k_values_and_a_stall():
    improving = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5]
    assert not stop_early(improving, stopping_rounds=3, stopping_metric="logloss", stopping_tolerance=0)
    flat = [1.0, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8]
    assert stop_early(flat, stopping_rounds=2, stopping_metric="logloss", stopping_tolerance=0)
    assert not stop_early(flat[:3], stopping_rounds=2, stopping_metric="logloss", stopping_tolerance=0)
    assert not stop_early(flat, stopping_rounds=0, stopping_metric="logloss", stopping_tolerance=0)


def test_stop_early_tolerance_direction_and_nan():
    slow = [1.0, 0.99, 0.985, 0.98]
    assert stop_early(slow, stopping_rounds=2, stopping_metric="MSE", stopping_tolerance=0.05)
    assert not stop_early(slow, stopping_rounds=2, stopping_metric="MSE", stopping_tolerance=0.0)
    auc = [0.7, 0.8, 0.9, 0.95]
    assert not stop_early(auc, stopping_rounds=2, stopping_metric="AUC", stopping_tolerance=0.0)
    assert stop_early([0.9, 0.9, 0.9, 0.9], stopping_rounds=2, stopping_metric="AUC",
                      stopping_tolerance=0.0)
    assert not stop_early([1.0, float("nan"), 1.0, 1.0], stopping_rounds=2,
                          stopping_metric="logloss", stopping_tolerance=0.0)
    assert stop_early([0.0, 0.0, 0.0, 0.0], stopping_rounds=2, stopping_metric="MSE",
                      stopping_tolerance=0.0)
    # sign change between moving averages: never stop
    assert not stop_early([1.0, -1.0, 0.5, 0.5], stopping_rounds=2, stopping_metric="deviance",
                          stopping_tolerance=0.0)


def test_iterations_of_one_row_that_come_out_empty_do_not_stop_training():
    """One expected row per iteration, drawn by Bernoulli sampling: about a third of the
    iterations train none, and the fit goes on to its epochs (it used to stop at the
    first empty one, reason "no training rows")."""
    import numpy as np

    from dask_deeplearn import DeepLearningClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = DeepLearningClassifier(hidden=[3], epochs=0.3, seed=5, train_samples_per_iteration=1,
                                 backend="local", quiet_mode=True).fit(X, y)
    assert clf.stop_reason_ == "epochs", clf.events_
    assert clf.state_.processed >= 30 and clf.n_iter_ > clf.state_.processed - 10
