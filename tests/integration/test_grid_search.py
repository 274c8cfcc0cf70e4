"""Grid search: Cartesian, RandomDiscrete, SuccessiveHalving, Hyperband."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pandas as pd
import pytest

import dask_deeplearn as ddl
from dask_deeplearn import DeepLearningClassifier, DeepLearningEstimator
from dask_deeplearn.exceptions import InvalidParameterError, NotFittedError
from dask_deeplearn.model_selection import (
    DeepLearningGridSearch,
    GridSearchError,
    grid_should_stop,
    halving_budgets,
    hyperband_brackets,
)

QUICK = dict(quiet_mode=True, reproducible=True, seed=7)


@pytest.fixture(scope="module")
def cancer():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    X, y = X[order], y[order]
    return X[:400], y[:400], X[400:], y[400:]


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True, as_frame=True)
    frame = X.assign(digit=y.astype("category"))
    return frame.iloc[:600], frame.iloc[600:900], list(X.columns)


def _tuples(values):
    return [tuple(v) if isinstance(v, (list, tuple)) else v for v in values]


# ------------------------------------------------------------------ Cartesian (booklet)
def test_booklet_cartesian_grid_h2o_style(digits):
    train, valid, cols = digits
    hidden_opt = [[32, 32], [32, 16, 8], [100]]
    l1_opt = [1e-4, 1e-3]
    grid = DeepLearningGridSearch(DeepLearningEstimator,
                                  hyper_params={"hidden": hidden_opt, "l1": l1_opt},
                                  grid_id="mygrid")
    # the booklet's call, with few epochs
    out = grid.train(x=cols, y="digit", distribution="multinomial", epochs=4,
                     training_frame=train, validation_frame=valid, score_interval=2,
                     stopping_rounds=3, stopping_tolerance=0.05,
                     stopping_metric="misclassification", **QUICK)
    assert out is grid
    assert len(grid) == 6 and len(grid.models) == 6
    assert grid.model_ids == [f"mygrid_model_{i}" for i in range(1, 7)]
    # the grid's models are the models of this process under those ids (h2o.get_model)
    for mid in grid.model_ids:
        assert ddl.get_model(mid) is grid.get_model(mid) and mid in ddl.ls()["key"].tolist()
    assert grid.failures.empty and grid.stop_reason_ == "exhausted"
    # every combination once, each model trained with its own values and the base ones
    combos = {(tuple(m.hidden), m.l1) for m in grid.models}
    assert combos == {(tuple(h), l) for h, l in itertools.product(hidden_opt, l1_opt)}
    for m in grid.models:
        assert m.epochs == 4 and m.stopping_metric == "misclassification"
        assert m.validation_metrics_ is not None and m.task_ == "classification"
        assert m.state_.spec.units[1:-1] == tuple(m.hidden)

    board = grid.leaderboard      # default: the models' stopping metric AUTO -> logloss
    assert len(board) == 6 and list(board.columns[:4]) == ["hidden", "l1", "model_id", "logloss"]
    expected = {mid: grid.get_model(mid).validation_metrics_.logloss for mid in grid.model_ids}
    assert board["logloss"].tolist() == sorted(expected.values())
    assert [expected[mid] for mid in board["model_id"]] == board["logloss"].tolist()
    assert grid.best_model_ is grid.get_model(min(expected, key=expected.get))
    # hyper-parameter columns match the model in that row
    for _, row in board.iterrows():
        m = grid.models[row["model_index"]]
        assert m.model_id == row["model_id"] and list(row["hidden"]) == list(m.hidden)
        assert row["samples"] == m.state_.processed and row["epochs"] == m.epochs_

    # more-is-better metrics sort the other way; decreasing= overrides
    r2 = grid.get_grid("r2")["r2"].tolist()
    assert r2 == sorted(r2, reverse=True)
    worst_first = grid.get_grid("logloss", decreasing=True)["logloss"].tolist()
    assert worst_first == sorted(expected.values(), reverse=True)
    err = grid.get_grid(sort_by="misclassification")
    assert err["misclassification"].is_monotonic_increasing
    assert err["misclassification"].tolist() == sorted(
        m.validation_metrics_.classification_error for m in grid.models)
    assert grid.total_samples_ == sum(m.state_.processed for m in grid.models)
    with pytest.raises(InvalidParameterError, match="sort_by='accuracy'"):
        grid.get_grid("accuracy")


def test_names_and_criteria_are_checked_up_front():
    # the booklet's typo "ll" is caught before anything trains, with the close match
    with pytest.raises(InvalidParameterError, match=r"'ll'.*Did you mean 'l1'"):
        DeepLearningGridSearch(DeepLearningClassifier, {"hidden": [[8]], "ll": [1e-4]})
    with pytest.raises(InvalidParameterError, match=r"hyper_params\['l1'\].*empty"):
        DeepLearningGridSearch(DeepLearningClassifier, {"l1": []})
    with pytest.raises(InvalidParameterError, match=r"must be a list.*'Tanh'"):
        DeepLearningGridSearch(DeepLearningClassifier, {"activation": "Tanh"})
    with pytest.raises(InvalidParameterError, match=r"'epochs' cannot be a hyper-parameter"):
        DeepLearningGridSearch(DeepLearningClassifier, {"epochs": [1, 2]},
                               search_criteria={"strategy": "SuccessiveHalving"})
    with pytest.raises(InvalidParameterError, match=r"'max_model'.*did you mean 'max_models'"):
        DeepLearningGridSearch(DeepLearningClassifier, {"l1": [0.0]},
                               search_criteria={"strategy": "RandomDiscrete", "max_model": 3})
    with pytest.raises(InvalidParameterError, match=r"'stopping_rounds' is not used by "
                                                    r"strategy 'Cartesian'"):
        DeepLearningGridSearch(DeepLearningClassifier, {"l1": [0.0]},
                               search_criteria={"stopping_rounds": 3})
    with pytest.raises(InvalidParameterError, match=r"'strategy'.*'Bayesian'"):
        DeepLearningGridSearch(DeepLearningClassifier, {"l1": [0.0]},
                               search_criteria={"strategy": "Bayesian"})
    with pytest.raises(InvalidParameterError, match=r"'eta'.*> 1.*Got 1 instead"):
        DeepLearningGridSearch(DeepLearningClassifier, {"l1": [0.0]},
                               search_criteria={"strategy": "Hyperband", "eta": 1})
    with pytest.raises(TypeError, match="estimator class"):
        DeepLearningGridSearch(object, {"l1": [0.0]})
    grid = DeepLearningGridSearch(DeepLearningClassifier(hidden=[8]), {"hidden": [[4], [8]]})
    with pytest.raises(NotFittedError, match="has not run yet"):
        grid.models
    # H2O: a parameter set both in the base model and in hyper_params is ambiguous
    with pytest.raises(InvalidParameterError, match=r"'hidden' is set both"):
        grid.fit(np.zeros((4, 2)), [0, 1, 0, 1])
    with pytest.raises(TypeError, match=r"use.*fit|call.*fit"):
        DeepLearningGridSearch(DeepLearningClassifier, {"l1": [0.0]}).train(
            y="y", training_frame=pd.DataFrame({"a": [1.0, 2.0], "y": [0, 1]}))


# ------------------------------------------------------------------ failures
def test_a_failing_combination_is_recorded_and_the_others_train(cancer):
    X, y, Xv, yv = cancer
    base = DeepLearningClassifier(activation="RectifierWithDropout", hidden_dropout_ratios=[0.1],
                                  epochs=2, **QUICK)
    grid = DeepLearningGridSearch(base, {"hidden": [[8], [8, 4], [6]]}, n_jobs=2)
    with pytest.warns(UserWarning, match="1 fit.*failed"):
        grid.fit(X, y, validation_data=(Xv, yv))
    assert [list(m.hidden) for m in grid.models] == [[8], [6]]
    fails = grid.failures
    assert len(fails) == 1
    row = fails.iloc[0]
    assert list(row["hidden"]) == [8, 4] and row["error_type"] == "InvalidParameterError"
    assert "hidden_dropout_ratios" in row["error"] and "2 layers" in row["error"]
    assert row["model_id"] not in grid.model_ids and len(grid.leaderboard) == 2

    # nothing trains at all -> one clear error carrying the table
    bad = DeepLearningGridSearch(DeepLearningClassifier(epochs=1, **QUICK),
                                 {"hidden_dropout_ratios": [[0.1], [0.2]]})
    with pytest.raises(GridSearchError, match=r"All 2 fits.*InvalidParameterError") as info:
        bad.fit(X, y)
    assert len(info.value.failures) == 2


# ------------------------------------------------------------------ RandomDiscrete
def test_random_discrete_max_models_sklearn_fit_numpy(cancer):
    X, y, Xv, yv = cancer
    hyper = {"hidden": [[4], [8], [16]], "l1": [0.0, 1e-4, 1e-3], "input_dropout_ratio": [0.0, 0.1]}
    criteria = {"strategy": "RandomDiscrete", "max_models": 4, "seed": 42}
    base = DeepLearningClassifier(epochs=2, quiet_mode=True, reproducible=True)
    grid = DeepLearningGridSearch(base, hyper, search_criteria=criteria).fit(
        X, y, validation_data=(Xv, yv))
    assert len(grid.models) == 4 and grid.stop_reason_ == "max_models"
    combos = [(tuple(m.hidden), m.l1, m.input_dropout_ratio) for m in grid.models]
    assert len(set(combos)) == 4
    assert set(combos) <= set(itertools.product(*[_tuples(v) for v in hyper.values()]))
    # H2O: model seeds follow the search seed when the base seed is the default
    assert [m.seed for m in grid.models] == [42, 43, 44, 45]
    assert all(m.backend_ == "local" for m in grid.models)
    # the same search with two models at a time gives the same models
    twin = DeepLearningGridSearch(base, hyper, search_criteria=criteria, n_jobs=2).fit(
        X, y, validation_data=(Xv, yv))
    assert [(tuple(m.hidden), m.l1, m.input_dropout_ratio) for m in twin.models] == combos
    assert twin.leaderboard["logloss"].tolist() == pytest.approx(
        grid.leaderboard["logloss"].tolist(), rel=1e-12)
    auc = grid.get_grid("AUC")["AUC"].tolist()
    assert auc == sorted(auc, reverse=True)


def test_random_discrete_max_runtime_secs_stops_the_search(cancer):
    X, y, _, _ = cancer
    hyper = {"hidden": [[16], [32], [16, 16], [32, 32]], "l1": [0.0, 1e-5, 1e-4, 1e-3],
             "l2": [0.0, 1e-5]}
    budget = 1.5
    # every model runs its 30 epochs (no early stop): ~0.3 s each here, ~10 s for the grid
    base = DeepLearningClassifier(epochs=30, classification_stop=-1, stopping_rounds=0, **QUICK)
    grid = DeepLearningGridSearch(
        base, hyper,
        search_criteria={"strategy": "RandomDiscrete", "max_runtime_secs": budget, "seed": 3})
    start = time.monotonic()
    grid.fit(X, y)
    elapsed = time.monotonic() - start
    assert 1 <= len(grid.models) < 32
    assert grid.stop_reason_ == "max_runtime_secs"
    # each model got at most the time the grid had left, so the search ends close to it
    assert all(0 < m.max_runtime_secs <= budget for m in grid.models)
    assert budget <= elapsed < budget + 5


def test_random_discrete_grid_level_early_stopping(cancer):
    X, y, _, _ = cancer
    # a parameter that does not change the model: every model scores the same, so the
    # best 2 models are no better than the next 2 -> stop at 2k + 1 = 5 models
    grid = DeepLearningGridSearch(
        DeepLearningClassifier(hidden=[4], epochs=1, **QUICK),
        {"max_confusion_matrix_size": list(range(20, 30))},
        search_criteria={"strategy": "RandomDiscrete", "seed": 1, "stopping_rounds": 2,
                         "stopping_metric": "logloss", "stopping_tolerance": 1e-3})
    grid.fit(X, y)
    assert len(grid.models) == 5 and grid.stop_reason_ == "early_stopping"
    assert len(set(grid.leaderboard["logloss"])) == 1
    # the rule itself: sorted worst to best, worst dropped, H2O's moving averages
    kw = dict(stopping_rounds=2, stopping_tolerance=1e-3)
    assert not grid_should_stop([0.3] * 4, stopping_metric="logloss", **kw)  # < 2k + 1
    assert not grid_should_stop([0.9, 0.5, 0.45, 0.2, 0.1], stopping_metric="logloss", **kw)
    assert grid_should_stop([0.9, 0.5, 0.2, 0.2, 0.2, 0.2], stopping_metric="logloss", **kw)
    assert grid_should_stop([0.5, 0.8, 0.8, 0.8, 0.8], stopping_metric="AUC", **kw)
    # one clearly better model keeps the search going (AUC: more is better)
    assert not grid_should_stop([0.5, 0.8, 0.8, 0.8, 0.9], stopping_metric="AUC", **kw)
    assert not grid_should_stop([0.5, 0.6, 0.7, 0.8, 0.95], stopping_metric="AUC", **kw)


# ------------------------------------------------------------------ halving schedules
def test_halving_and_hyperband_schedules():
    assert halving_budgets(9, 1, 9, 3) == [(9, 1.0), (3, 3.0), (1, 9.0)]
    assert halving_budgets(10, 0.5, 4, 2) == [(10, 0.5), (5, 1.0), (2, 2.0), (1, 4.0)]
    assert hyperband_brackets(1, 9, 3) == [(9, 1.0), (5, 3.0), (3, 9.0)]
    assert hyperband_brackets(1, 27, 3)[0] == (27, 1.0)


def test_hyperband_numpy(cancer):
    X, y, Xv, yv = cancer
    grid = DeepLearningGridSearch(
        DeepLearningClassifier(**QUICK), {"hidden": [[4], [8]], "l1": [0.0, 1e-4, 1e-2]},
        search_criteria={"strategy": "Hyperband", "min_epochs": 1, "max_epochs": 3,
                         "seed": 5})
    grid.fit(X, y, validation_data=(Xv, yv))
    rungs = grid.rungs_
    # brackets (3 candidates from 1 epoch) and (2 candidates at 3 epochs)
    assert rungs[["bracket", "rung", "epochs", "n_candidates"]].values.tolist() == [
        [0, 0, 1.0, 3], [0, 1, 3.0, 1], [1, 0, 3.0, 2]]
    assert [len(k) for k in rungs["kept"]] == [1, 1, 2]
    assert len(grid.models) == 5 and grid.stop_reason_ == "halving_done"
    assert set(grid.leaderboard["bracket"]) == {0, 1}
    assert grid.total_samples_ == sum(m.state_.processed for m in grid.models)
    assert grid.total_samples_ < 5 * 3 * len(y)
    assert grid.best_model_.epochs_ >= 3 - 1e-9
    # bracket 0's survivor was continued from its 1-epoch model
    first, second = grid.checkpoints_[rungs["kept"][0][0]]
    assert second.checkpoint is first
    # the continued model took over its candidate's id
    assert second.model_id_ == first.model_id_ and ddl.get_model(second.model_id_) is second
    for mid in grid.model_ids:
        assert ddl.get_model(mid) is grid.get_model(mid)
    assert first.state_.processed == len(y) and second.state_.processed == 3 * len(y)


# ------------------------------------------------------------------ SuccessiveHalving on Dask
def test_successive_halving_on_a_dask_dataframe_continues_survivors(client):
    dd = pytest.importorskip("dask.dataframe")
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    cols = list(data.feature_names)
    train = dd.from_pandas(frame.iloc[:400], npartitions=2, sort=False)
    valid = dd.from_pandas(frame.iloc[400:], npartitions=1, sort=False)
    n_rows, max_epochs = 400, 9
    grid = DeepLearningGridSearch(
        # one epoch per iteration: few scheduler round trips per fit
        # (no model-level early stopping: the halving decides how long each one trains)
        DeepLearningClassifier(seed=11, quiet_mode=True, train_samples_per_iteration=0,
                               stopping_rounds=0),
        {"hidden": [[4], [8], [16]], "l1": [0.0, 1e-4, 1e-2]},
        search_criteria={"strategy": "SuccessiveHalving", "min_epochs": 1, "eta": 3,
                         "max_epochs": max_epochs})
    grid.fit(train[cols], train["target"], validation_data=(valid[cols], valid["target"]),
             client=client)

    rungs = grid.rungs_
    assert rungs["n_candidates"].tolist() == [9, 3, 1]
    assert rungs["epochs"].tolist() == [1.0, 3.0, 9.0]
    assert [len(k) for k in rungs["kept"]] == [3, 1, 1]
    assert rungs["kept"][0] == rungs["candidates"][1] and rungs["kept"][1] == rungs["candidates"][2]
    assert len(grid.models) == 9 and grid.failures.empty
    assert all(m.backend_ == "dask" for m in grid.models)
    # the survivors were ranked on validation logloss: the kept ones were the best 3
    values = rungs["values"][0]
    assert sorted(values, key=values.get)[:3] == rungs["kept"][0]

    # fewer samples than training the 9 candidates to the full budget, and no sample
    # counted twice: continued fits add only their new samples
    assert grid.total_samples_ < 9 * max_epochs * n_rows
    assert grid.total_samples_ == sum(m.state_.processed for m in grid.models)
    assert grid.total_samples_ < 0.4 * 9 * max_epochs * n_rows

    winner_id = rungs["kept"][2][0]
    winner = grid.get_model(winner_id)
    assert grid.best_model_ is winner and winner.epochs_ >= max_epochs - 1e-9
    chain = grid.checkpoints_[winner_id]
    assert len(chain) == 3 and chain[-1] is winner
    processed = [m.state_.processed for m in chain]
    assert processed[0] < processed[1] < processed[2]
    assert processed[0] >= n_rows and processed[2] >= max_epochs * n_rows * 0.99
    for before, after in zip(chain, chain[1:]):
        assert after.checkpoint is before                  # continued, not retrained
        assert after.epochs_ > before.epochs_
        h0, h1 = before.scoring_history_, after.scoring_history_
        assert len(h1) > len(h0)
        key = ["epochs", "iterations", "samples"]
        pd.testing.assert_frame_equal(h1[key].iloc[: len(h0)].reset_index(drop=True),
                                      h0[key].reset_index(drop=True))
        # the new rows carry on from the old counters instead of restarting from zero
        assert h1["samples"].iloc[len(h0)] > h0["samples"].iloc[-1]
        assert h1["samples"].is_monotonic_increasing
        assert h1["iterations"].is_monotonic_increasing
    # a candidate dropped at the second rung has its two rung models
    dropped = [mid for mid in rungs["candidates"][1] if mid != winner_id]
    assert all(len(grid.checkpoints_[mid]) == 2 for mid in dropped)
    # the leaderboard knows how far each candidate went
    board = grid.leaderboard.set_index("model_id")
    assert board.loc[winner_id, "rung"] == 2
    assert (board["rung"] == 0).sum() == 6
