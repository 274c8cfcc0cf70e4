"""End-to-end behaviour of the estimators on numpy and pandas data (in-process backend)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_digits, load_iris
from sklearn.model_selection import train_test_split

from dask_deeplearn import (
    DataError,
    DeepLearningClassifier,
    DeepLearningEstimator,
    DeepLearningRegressor,
    InvalidParameterError,
    NotFittedError,
    presets,
)

SMALL = dict(hidden=[32], epochs=10, seed=1, reproducible=True)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def test_classifier_learns_digits_and_reports_h2o_metrics(digits):
    X_tr, X_te, y_tr, y_te = digits
    clf = DeepLearningClassifier(hidden=[64], epochs=10, seed=1).fit(
        X_tr, y_tr, validation_data=(X_te, y_te))
    assert clf.score(X_te, y_te) > 0.9
    assert list(clf.classes_) == list(range(10))
    assert clf.n_features_in_ == 64
    assert not hasattr(clf, "feature_names_in_")
    proba = clf.predict_proba(X_te)
    assert proba.shape == (len(X_te), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    m = clf.model_performance(X_te, y_te)
    assert m.logloss < 0.5 and m.mean_per_class_error < 0.1
    assert m.hit_ratios is not None and m.confusion_matrix is not None
    assert m.classification_error == pytest.approx(1 - clf.score(X_te, y_te), abs=1e-9)
    h = clf.scoring_history_
    assert h.iloc[0].isna()["training_logloss"]          # H2O's dummy first row
    assert {"validation_logloss", "validation_classification_error", "epochs", "samples"} <= set(h)
    assert h["epochs"].iloc[-1] >= 10
    assert clf.validation_metrics_ is clf.model_performance(valid=True)


def test_binomial_predicts_argmax_exposes_max_f1_threshold_and_string_labels():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 5))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] > 0.3, "yes", "no")
    clf = DeepLearningClassifier(**SMALL).fit(X, y)
    assert list(clf.classes_) == ["no", "yes"]
    # scikit-learn's contract: the arg-max of predict_proba; H2O's threshold is public
    assert clf.threshold_ == clf.training_metrics_.max_f1_threshold
    proba = clf.predict_proba(X)
    assert np.array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    assert clf.training_metrics_.auc > 0.95
    assert "training_auc" in clf.scoring_history_


def test_regressor_destandardises_and_matches_r2():
    X, y = load_diabetes(return_X_y=True)
    reg = DeepLearningRegressor(hidden=[32], epochs=30, seed=2, reproducible=True).fit(X, y)
    pred = reg.predict(X)
    assert abs(pred.mean() - y.mean()) < 15          # original units, not standardised
    assert reg.score(X, y) > 0.4
    m = reg.model_performance(X, y)
    assert m.r2 == pytest.approx(reg.score(X, y), rel=1e-6)
    assert m.mean_residual_deviance == pytest.approx(m.mse, rel=1e-9)


@pytest.mark.parametrize("dist", ["poisson", "gamma", "tweedie", "laplace", "quantile", "huber"])
def test_regression_distributions_train(dist):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(800, 3))
    y = np.exp(0.5 * X[:, 0] + 0.2) + rng.gamma(1.0, 0.1, size=800)
    reg = DeepLearningRegressor(hidden=[16], epochs=20, seed=1, reproducible=True,
                                distribution=dist).fit(X, y)
    corr = np.corrcoef(reg.predict(X), y)[0, 1]
    assert corr > 0.8, dist
    assert reg.distribution_ == dist
    if dist in ("poisson", "gamma", "tweedie"):
        assert reg.predict(X).min() > 0                 # log link


def test_pandas_categoricals_weights_and_feature_names():
    rng = np.random.default_rng(3)
    n = 1000
    df = pd.DataFrame({
        "color": pd.Categorical(rng.choice(["red", "green", "blue"], n)),
        "size": rng.normal(size=n),
        "shape": rng.choice(["a", "b"], n).astype(object),
    })
    y = ((df["color"] == "red") ^ (df["size"] > 0)).astype(int).to_numpy()
    df.loc[::17, "size"] = np.nan
    w = np.where(y == 1, 2.0, 1.0)
    clf = DeepLearningClassifier(hidden=[16], epochs=20, seed=3, reproducible=True).fit(
        df, y, sample_weight=w)
    assert list(clf.feature_names_in_) == ["color", "size", "shape"]
    assert "color.red" in clf.data_info_.input_names
    assert clf.score(df, y) > 0.85
    reordered = df[["shape", "size", "color"]].copy()
    reordered["extra"] = 1.0
    assert np.array_equal(clf.predict(reordered), clf.predict(df))
    unseen = df.head(5).copy()
    unseen["color"] = pd.Categorical(["purple"] * 5)
    assert clf.predict_proba(unseen).shape == (5, 2)      # unseen level -> NA slot


def test_h2o_style_train_picks_task_from_the_response():
    df = load_iris(as_frame=True).frame
    df["target"] = df["target"].map({0: "setosa", 1: "versicolor", 2: "virginica"})
    model = DeepLearningEstimator(hidden=[16], epochs=30, seed=1, reproducible=True)
    model.train(x=["sepal length (cm)", "petal length (cm)", "petal width (cm)"], y="target",
                training_frame=df)
    assert model.task_ == "classification"
    pred = model.predict(df)
    assert list(pred.columns) == ["predict", "setosa", "versicolor", "virginica"]
    assert (pred["predict"] == df["target"]).mean() > 0.9
    perf = model.model_performance(df)
    assert perf.mean_per_class_error < 0.1
    assert model.scoring_history() is model.scoring_history_
    reg = DeepLearningEstimator(hidden=[8], epochs=20, seed=1, reproducible=True)
    reg.train(y="petal width (cm)", training_frame=df.drop(columns="target"))
    assert reg.task_ == "regression"
    assert list(reg.predict(df).columns) == ["predict"]


def test_h2o_metric_accessors_read_train_valid_and_xval_metrics():
    df = load_iris(as_frame=True).frame
    df["target"] = df["target"].astype("category")
    train, valid = df.iloc[::2], df.iloc[1::2]
    model = DeepLearningEstimator(hidden=[8], epochs=10, seed=1, reproducible=True, nfolds=2)
    model.train(y="target", training_frame=train, validation_frame=valid)
    assert model.mse() == model.training_metrics_.mse
    assert model.mse(valid=True) == model.validation_metrics_.mse
    assert model.logloss(xval=True) == model.model_performance(xval=True).logloss
    both = model.rmse(train=True, valid=True)
    assert both == {"train": model.training_metrics_.rmse,
                    "valid": model.validation_metrics_.rmse}
    assert model.mae() is None                       # not a classification metric
    assert model.confusion_matrix(valid=True).shape[0] == 4  # 3 classes + Total
    alone = DeepLearningEstimator(hidden=[4], epochs=1, seed=1, reproducible=True)
    alone.train(y="target", training_frame=train)
    with pytest.raises(InvalidParameterError, match=r"mse\(valid=True\).*validation_frame="):
        alone.mse(valid=True)
    with pytest.raises(InvalidParameterError, match="without cross-validation"):
        alone.auc(xval=True)


def test_offset_column_is_used_at_fit_and_predict():
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"x": rng.normal(size=2000), "o": rng.normal(size=2000) * 3})
    df["y"] = df["x"] + df["o"]
    model = DeepLearningEstimator(hidden=[8], epochs=20, seed=1, reproducible=True,
                                  offset_column="o")
    model.train(x=["x"], y="y", training_frame=df)
    pred = model.predict(df)["predict"]
    assert np.corrcoef(pred, df["y"])[0, 1] > 0.99
    shifted = df.assign(o=df["o"] + 10)
    assert np.allclose(model.predict(shifted)["predict"] - pred, 10, atol=1e-3)


def test_reproducible_twice_is_identical(digits):
    X_tr, _, y_tr, _ = digits
    a = DeepLearningClassifier(**SMALL).fit(X_tr, y_tr)
    b = DeepLearningClassifier(**SMALL).fit(X_tr, y_tr)
    assert np.array_equal(a.state_.W, b.state_.W)
    assert a.nthreads_ == 1


def test_fast_preset_and_dropout_train(digits):
    X_tr, X_te, y_tr, y_te = digits
    fast = DeepLearningClassifier(hidden=[64], epochs=10, seed=1, **presets.fast()).fit(X_tr, y_tr)
    assert fast.score(X_te, y_te) > 0.9
    assert fast.params_["mini_batch_size"] == presets.fast()["mini_batch_size"] == 48
    drop = DeepLearningClassifier(hidden=[64, 64], epochs=10, seed=1,
                                  activation="rectifier_with_dropout",
                                  input_dropout_ratio=0.1).fit(X_tr, y_tr)
    assert drop.params_["hidden_dropout_ratios"] == (0.5, 0.5)
    assert drop.score(X_te, y_te) > 0.85
    maxout = DeepLearningClassifier(hidden=[32], epochs=10, seed=1, activation="Maxout").fit(X_tr, y_tr)
    assert maxout.score(X_te, y_te) > 0.85
    tanh = DeepLearningClassifier(hidden=[32], epochs=10, seed=1, activation="Tanh",
                                  adaptive_rate=False, rate=0.01, momentum_start=0.5,
                                  momentum_stable=0.9, momentum_ramp=1e4).fit(X_tr, y_tr)
    assert tanh.score(X_te, y_te) > 0.85


def test_stopping_rules():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(400, 4))
    y = (X[:, 0] > 0).astype(int)
    perfect = DeepLearningClassifier(hidden=[16], epochs=1000, seed=1, score_each_iteration=True,
                                     train_samples_per_iteration=400).fit(X, y)
    assert perfect.stop_reason_ in ("classification_stop", "early_stopping")
    assert perfect.epochs_ < 1000
    noise = rng.normal(size=400)
    es = DeepLearningRegressor(hidden=[16], epochs=500, seed=1, score_each_iteration=True,
                               train_samples_per_iteration=400, stopping_rounds=2,
                               stopping_tolerance=0.05).fit(X, noise)
    assert es.stop_reason_ == "early_stopping"
    assert es.epochs_ < 500
    timed = DeepLearningRegressor(hidden=[64, 64], epochs=1e6, seed=1, max_runtime_secs=1.0,
                                  stopping_rounds=0).fit(X, noise)
    assert timed.stop_reason_ == "max_runtime_secs"
    assert timed.run_time_ < 10


def test_overwrite_with_best_model_restores_the_best_validation_model():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(60, 20))
    y = X[:, 0] + rng.normal(size=60)
    Xv = rng.normal(size=(200, 20))
    yv = Xv[:, 0] + rng.normal(size=200)
    reg = DeepLearningRegressor(hidden=[128, 128], epochs=300, seed=1, reproducible=True,
                                stopping_rounds=0).fit(X, y, validation_data=(Xv, yv))
    h = reg.scoring_history_
    best = h["validation_deviance"].iloc[1:-1].min()
    assert reg.model_performance(valid=True).mean_residual_deviance == pytest.approx(best, rel=1e-6)
    assert h["epochs"].iloc[-1] == pytest.approx(h["epochs"].iloc[-2])   # full sample count kept
    assert "overwritten" in " ".join(reg.events_)


def test_sklearn_conventions():
    clf = DeepLearningClassifier(hidden=[8], epochs=3, l1=1e-5)
    params = clf.get_params()
    assert params["hidden"] == [8] and params["epochs"] == 3 and params["rho"] == 0.99
    assert len(params) > 80
    c2 = clone(clf)
    assert c2.get_params()["l1"] == 1e-5
    c2.set_params(epochs=5, activation="tanh")
    assert c2.epochs == 5
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        DeepLearningClassifier(nonsense=1)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        clf.predict(np.zeros((2, 3)))
    assert "rate_annealing" in DeepLearningClassifier.__doc__


@pytest.mark.parametrize(
    "params,match",
    [
        (dict(activation="relu6"), r"'activation' parameter of DeepLearningClassifier.*'relu6'"),
        (dict(epochs=-1), r"'epochs'.*-1"),
        (dict(hidden=[10, 0]), r"'hidden'"),
        (dict(hidden_dropout_ratios=[0.5]), r"hidden_dropout_ratios"),
        (dict(distribution="gaussian"), r"distribution"),
        (dict(loss="Absolute"), r"loss"),
    ],
)
def test_invalid_parameters_raise_at_fit(params, match):
    X = np.random.default_rng(0).normal(size=(50, 3))
    y = np.arange(50) % 2
    clf = DeepLearningClassifier(**params)       # __init__ never validates (clone must work)
    with pytest.raises(InvalidParameterError, match=match):
        clf.fit(X, y)


def test_dask_input_errors_start_nothing():
    X = np.random.default_rng(0).normal(size=(50, 3))
    y = np.arange(50) % 2
    import dask.dataframe as dd

    ddf = dd.from_pandas(pd.DataFrame(X, columns=list("abc")), npartitions=2)
    # a Dask X needs a Dask y with the same partitions (clear error, nothing started)
    with pytest.raises(DataError, match="y must be one too"):
        DeepLearningClassifier().fit(ddf, y)
    with pytest.raises(DataError, match="backend='local'"):
        DeepLearningClassifier(backend="local").fit(ddf, dd.from_pandas(pd.Series(y), npartitions=2))


def test_bad_data_errors():
    X = np.random.default_rng(0).normal(size=(50, 3))
    y = np.arange(50) % 2
    with pytest.raises(DataError, match="empty"):
        DeepLearningClassifier().fit(X[:0], y[:0])
    with pytest.raises(DataError, match="one value per row"):
        DeepLearningClassifier().fit(X, y[:10])
    with pytest.raises(DataError, match="2-D"):
        DeepLearningClassifier().fit(X[:, 0], y)
    clf = DeepLearningClassifier(hidden=[4], epochs=1, seed=1).fit(X, y)
    with pytest.raises(DataError, match="3 features"):
        clf.predict(X[:, :2])
    with pytest.raises(InvalidParameterError, match="bernoulli|classes|distribution"):
        DeepLearningClassifier(distribution="bernoulli").fit(X, np.arange(50) % 3)
    with pytest.raises(InvalidParameterError, match="poisson"):
        DeepLearningRegressor(distribution="poisson").fit(X, X[:, 0])


def test_progress_is_one_updating_line_and_quiet_mode(capsys):
    X = np.random.default_rng(0).normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    DeepLearningClassifier(hidden=[4], epochs=2, seed=1, score_each_iteration=True,
                           train_samples_per_iteration=100).fit(X, y)
    err = capsys.readouterr().err
    lines = [part.split("\r")[-1] for part in err.split("\n") if part.strip()]
    assert len(lines) == 1 and lines[0].startswith("DeepLearningClassifier: 100%")
    assert "train logloss" in lines[0] and "2.00/2.00 epochs" in lines[0]
    DeepLearningClassifier(hidden=[4], epochs=2, seed=1, quiet_mode=True).fit(X, y)
    assert "DeepLearningClassifier" not in capsys.readouterr().err


def test_progress_bar_in_a_notebook_follows_epochs():
    from dask_deeplearn.training.progress import ProgressReporter

    rep = ProgressReporter("M", 4.0, notebook=True)
    hist = pd.DataFrame({"epochs": [0.0, 2.5], "training_logloss": [np.nan, 0.3]})
    rep(hist, "epochs 2.50 | iter 1 | 100 obs/s | train logloss 0.3")
    assert rep._bar.n == 2.5 and rep._bar.total == 4.0
    assert "train logloss 0.3" in str(rep._bar.postfix)
    rep.worker_progress(3.0)
    assert rep._bar.n == 3.0
    rep.close()
    assert rep._bar is None


def test_background_fit_returns_a_handle_and_pickles_without_its_event():
    import pickle

    X = np.random.default_rng(0).normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    handle = DeepLearningClassifier(hidden=[4], epochs=2, seed=1, quiet_mode=True).fit(
        X, y, block=False)
    clf = handle.result(timeout=60)
    assert handle.done() and clf.backend_ == "local"
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_divergence_stops_with_a_clear_error_and_keeps_the_last_finite_model():
    from sklearn.datasets import load_diabetes

    from dask_deeplearn import DeepLearningRegressor, UnstableModelError

    X, y = load_diabetes(return_X_y=True)
    reg = DeepLearningRegressor(hidden=[64], epochs=50, adaptive_rate=False, rate=5.0,
                                standardize=False, quiet_mode=True, seed=1, reproducible=True,
                                score_each_iteration=True, train_samples_per_iteration=50)
    with pytest.raises(UnstableModelError, match="not finite.*rate.*max_w2.*last finite"):
        reg.fit(X, y * 1000)
    assert reg.stop_reason_ == "diverged" and reg.state_.is_finite()
    assert np.isfinite(reg.predict(X)).all()
    assert any("not finite" in e for e in reg.events_)


def test_ctrl_c_keeps_the_model_of_the_last_finished_iteration():
    import _thread
    import signal
    import threading
    import warnings

    rng = np.random.default_rng(0)
    X = rng.normal(size=(5_000, 20))
    y = (X[:, 0] > 0).astype(int)
    clf = DeepLearningClassifier(hidden=[64], epochs=10_000, seed=1, quiet_mode=True,
                                 train_samples_per_iteration=500, score_each_iteration=True)
    # Python's own Ctrl-C handler (importing dask_jobqueue.runner, as test_deploy does,
    # installs one that exits the process)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(1.5, _thread.interrupt_main)
    timer.start()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            clf.fit(X, y)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, before)
    assert clf.stop_reason_ == "interrupted" and clf.state_.is_finite()
    assert any("interrupted" in str(w.message) for w in caught)
    assert 0 < clf.epochs_ < 10_000 and clf.score(X, y) > 0.9
    assert clf.scoring_history_["iterations"].iloc[-1] == clf.n_iter_


def test_predicting_with_non_finite_weights_is_refused():
    from dask_deeplearn import UnstableModelError

    X = np.random.default_rng(0).normal(size=(50, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = DeepLearningClassifier(hidden=[4], epochs=1, seed=1, quiet_mode=True).fit(X, y)
    clf.state_.W[0] = np.nan
    with pytest.raises(UnstableModelError, match="not finite.*unstable"):
        clf.predict(X)


def test_exploding_weights_mark_the_model_unstable_as_h2o():
    from dask_deeplearn import UnstableModelError

    X = np.random.default_rng(0).normal(size=(50, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = DeepLearningClassifier(hidden=[4], epochs=1, seed=1, quiet_mode=True).fit(X, y)
    assert clf.state_.unstable_reason() is None
    clf.state_.B[:4] = 2e5                       # |mean bias| > 1e5 (semantics 11.2)
    with pytest.raises(UnstableModelError, match="layer 1 biases exploded"):
        clf.predict(X)
    clf.state_.B[:4] = 0.0
    clf.state_.W[:12] = 3e10                     # |mean weight| > 1e10
    with pytest.raises(UnstableModelError, match="layer 1 weights exploded"):
        clf.save("never-written.zip")

