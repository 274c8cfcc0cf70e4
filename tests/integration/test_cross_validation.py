"""N-fold cross-validation (H2O's rules)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes

from dask_deeplearn import (
    DeepLearningClassifier,
    DeepLearningEstimator,
    DeepLearningRegressor,
    InvalidParameterError,
)
from dask_deeplearn.metrics import binomial_partial, regression_partial

QUIET = dict(quiet_mode=True, reproducible=True)


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X, y


@pytest.fixture(scope="module")
def cv_model(cancer):
    X, y = cancer
    return DeepLearningClassifier(hidden=[8], epochs=4, seed=1, nfolds=3,
                                  keep_cross_validation_predictions=True,
                                  keep_cross_validation_fold_assignment=True,
                                  **QUIET).fit(X, y)


def test_cv_metrics_equal_the_metrics_of_the_kept_holdout_predictions(cv_model, cancer):
    X, y = cancer
    xval = cv_model.model_performance(xval=True)
    holdout = cv_model.cross_validation_holdout_predictions_
    assert list(holdout.columns) == ["predict", "0", "1"] and holdout.index.equals(X.index)
    direct = binomial_partial(y.to_numpy(), holdout[["0", "1"]].to_numpy(), None).result(
        domain=["0", "1"])
    for name in ("logloss", "mse", "auc", "aucpr", "r2"):
        assert xval.get(name) == pytest.approx(direct.get(name), rel=1e-12), name
    # and they are not the main model's training metrics
    assert xval.logloss != pytest.approx(cv_model.training_metrics_.logloss)


def test_each_row_is_scored_by_the_model_that_did_not_see_it(cv_model, cancer):
    X, _ = cancer
    folds = cv_model.cross_validation_fold_assignment_
    assert sorted(folds.unique()) == [0, 1, 2] and folds.value_counts().min() > 150
    models = cv_model.cross_validation_models_
    for k, m in enumerate(models):
        rows = X[folds.to_numpy() == k]
        np.testing.assert_allclose(
            cv_model.cross_validation_holdout_predictions_.loc[rows.index, ["0", "1"]],
            m.predict_proba(rows))
        assert m.n_iter_ >= 1 and m.validation_metrics_ is not None  # held-out fold as validation


def test_summary_table_and_main_model_epochs(cv_model):
    table = cv_model.cross_validation_metrics_summary_
    assert list(table.columns) == ["mean", "sd", "cv_1_valid", "cv_2_valid", "cv_3_valid"]
    assert {"accuracy", "auc", "logloss", "rmse"} <= set(table.index)
    np.testing.assert_allclose(table["mean"], table.iloc[:, 2:].mean(axis=1))
    # early stopping is on by default: the main model runs the CV models' mean epochs
    cv_epochs = np.mean([m.epochs_ for m in cv_model.cross_validation_models_])
    assert cv_model.params_["stopping_rounds"] == 0
    assert cv_model.epochs_ == pytest.approx(cv_epochs, rel=0.3)
    assert cv_model.params_["nfolds"] == 3 and not cv_model.params_["overwrite_with_best_model"]


def test_fold_assignments(cancer):
    X, y = cancer
    kw = dict(hidden=[4], epochs=1, seed=2, keep_cross_validation_fold_assignment=True,
              stopping_rounds=0, **QUIET)
    modulo = DeepLearningClassifier(nfolds=4, fold_assignment="Modulo", **kw).fit(X, y)
    np.testing.assert_array_equal(modulo.cross_validation_fold_assignment_,
                                  np.arange(len(X)) % 4)
    assert modulo.epochs_ == pytest.approx(1.0, abs=0.2)  # no early stopping: user's epochs
    strat = DeepLearningClassifier(nfolds=3, fold_assignment="Stratified", **kw).fit(X, y)
    rates = pd.Series(y.to_numpy()).groupby(strat.cross_validation_fold_assignment_.to_numpy()
                                            ).mean()
    assert rates.max() - rates.min() < 0.01
    Xf = X.assign(site=np.where(np.arange(len(X)) % 2 == 0, "north", "south"))
    by_col = DeepLearningClassifier(fold_column="site", **kw).fit(Xf, y)
    assert len(by_col.cross_validation_models_) == 2
    assert "site" not in by_col.data_info_.feature_names
    with pytest.raises(InvalidParameterError, match="nfolds and fold_column"):
        DeepLearningClassifier(nfolds=3, fold_column="site").fit(Xf, y)
    with pytest.raises(InvalidParameterError, match="without cross-validation"):
        DeepLearningClassifier(hidden=[2], epochs=1, **QUIET).fit(X, y).model_performance(
            xval=True)


def test_regression_cv_and_h2o_style():
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    frame = X.assign(target=y, fold=np.arange(len(X)) % 3)
    est = DeepLearningEstimator(hidden=[8], epochs=3, seed=1, fold_column="fold",
                                keep_cross_validation_predictions=True, **QUIET)
    est.train(y="target", training_frame=frame)
    xval = est.model_performance(xval=True)
    preds = est.cross_validation_holdout_predictions()
    direct = regression_partial(y.to_numpy(), preds["predict"].to_numpy()).result()
    assert xval.rmse == pytest.approx(direct.rmse, rel=1e-12)
    assert "rmse" in est.cross_validation_metrics_summary().index
    assert "fold" not in est.data_info_.feature_names


def test_cross_validation_on_a_dask_frame():
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    frame = X.assign(y=y)
    ddf = dd.from_pandas(frame, npartitions=4)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        m = DeepLearningRegressor(hidden=[8], epochs=2, seed=1, nfolds=3, quiet_mode=True,
                                  keep_cross_validation_predictions=True)
        m.fit(ddf.drop(columns="y"), ddf["y"], client=client)
        assert m.backend_ == "dask" and len(m.cross_validation_models_) == 3
        with client.as_current():
            preds = m.cross_validation_holdout_predictions_.compute()
    preds = preds.sort_index()
    direct = regression_partial(y.to_numpy(), preds["predict"].to_numpy()).result()
    assert m.model_performance(xval=True).rmse == pytest.approx(direct.rmse, rel=1e-9)


def test_custom_metric_is_in_the_history_and_can_stop_training(cancer):
    X, y = cancer

    def recall_at_half(actual, predicted, weight):
        return float(((predicted[:, 1] >= 0.5) & (actual == 1)).sum() / max(1, (actual == 1).sum()))

    m = DeepLearningClassifier(hidden=[8], epochs=20, seed=1, custom_metric_func=recall_at_half,
                               stopping_metric="custom_increasing", stopping_rounds=2,
                               stopping_tolerance=0.5, score_each_iteration=True,
                               train_samples_per_iteration=200, **QUIET).fit(X, y)
    h = m.scoring_history_
    assert "training_custom" in h.columns and h["training_custom"].iloc[1:].between(0, 1).all()
    direct = recall_at_half(y.to_numpy(), m.predict_proba(X), None)
    assert m.training_metrics_.custom == pytest.approx(direct, abs=1e-12)
    # a 50 % relative improvement is never reached: early stopping on the custom metric
    assert m.stop_reason_ == "early_stopping" and m.epochs_ < 20

    def broken(actual, predicted, weight):
        raise RuntimeError("boom")

    with pytest.raises(ValueError, match="custom_metric_func broken failed .*boom"):
        DeepLearningClassifier(hidden=[2], epochs=1, custom_metric_func=broken, **QUIET).fit(X, y)
