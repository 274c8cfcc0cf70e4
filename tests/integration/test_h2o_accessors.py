"""H2O's accessor names on DeepLearningEstimator, its model report, AutoEncoderEstimator,
and the booklet's Python examples that use them, run as written.

The cross-validation summary rows are those H2O-3 3.46's ``cross_validation_metrics_summary()``
prints for Deep Learning models (recorded from a real H2O-3 3.46.0.12 run: every
number-valued getter of the fold's validation metrics and of its confusion matrix, sorted).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.base import BaseEstimator, clone  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris  # noqa: E402

from dask_deeplearn import (  # noqa: E402
    AutoEncoderEstimator,
    DeepLearningEstimator,
    InvalidParameterError,
)
from dask_deeplearn.params import PARAMETERS  # noqa: E402

QUICK = dict(seed=1, reproducible=True, quiet_mode=True)
KEEP = dict(keep_cross_validation_predictions=True, keep_cross_validation_fold_assignment=True)

H2O_BINOMIAL_ROWS = ["accuracy", "aic", "auc", "err", "err_count", "f0point5", "f1", "f2",
                     "lift_top_group", "loglikelihood", "logloss", "max_per_class_error",
                     "mcc", "mean_per_class_accuracy", "mean_per_class_error", "mse",
                     "pr_auc", "precision", "r2", "recall", "rmse", "specificity"]
H2O_MULTINOMIAL_ROWS = ["accuracy", "aic", "auc", "err", "err_count", "loglikelihood",
                        "logloss", "max_per_class_error", "mean_per_class_accuracy",
                        "mean_per_class_error", "mse", "pr_auc", "r2", "rmse"]
H2O_REGRESSION_ROWS = ["aic", "loglikelihood", "mae", "mean_residual_deviance", "mse", "r2",
                       "residual_deviance", "rmse", "rmsle"]


@pytest.fixture(scope="module")
def cancer_frame():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X.iloc[:, :6].assign(label=y.map({0: "no", 1: "yes"}).astype("category"))


@pytest.fixture(scope="module")
def binomial(cancer_frame):
    m = DeepLearningEstimator(hidden=[6], epochs=3, nfolds=3, export_weights_and_biases=True,
                              **KEEP, **QUICK)
    return m.train(y="label", training_frame=cancer_frame.iloc[:450],
                   validation_frame=cancer_frame.iloc[450:])


@pytest.fixture(scope="module")
def iris_frame():
    frame = load_iris(as_frame=True).frame
    frame["target"] = frame["target"].map({0: "setosa", 1: "versicolor", 2: "virginica"})
    return frame


# ------------------------------------------------------------------ cross-validation
def test_binomial_cv_summary_has_h2os_rows_and_the_folds_confusion_matrix_values(binomial):
    table = binomial.cross_validation_metrics_summary()
    assert list(table.index) == H2O_BINOMIAL_ROWS
    assert list(table.columns) == ["mean", "sd", "cv_1_valid", "cv_2_valid", "cv_3_valid"]
    folds = table.iloc[:, 2:]
    np.testing.assert_allclose(table["mean"], folds.mean(axis=1))
    np.testing.assert_allclose(table["sd"], folds.std(axis=1, ddof=1))
    assert table.loc[["aic", "loglikelihood"]].isna().all().all()  # GLM's, NaN as in H2O
    for k, fold_model in enumerate(binomial.cross_validation_models()):
        m = fold_model.validation_metrics_
        col = folds.iloc[:, k]
        # the threshold table row at the max-F1 threshold: an independent computation
        row = m.thresholds_and_metric_scores.set_index("threshold").loc[m.max_f1_threshold]
        for name in ("precision", "recall", "specificity", "f1", "f2", "f0point5",
                     "accuracy", "mean_per_class_accuracy"):
            assert col[name] == pytest.approx(float(row[name]), rel=1e-9), name
        assert abs(col["mcc"]) == pytest.approx(float(row["absolute_mcc"]), rel=1e-9)
        assert col["mcc"] > 0
        cm = m.confusion_matrix.iloc[:2, :2].to_numpy(dtype=float)
        assert col["err_count"] == cm[0, 1] + cm[1, 0]
        assert col["err"] == pytest.approx(m.classification_error)
        assert col["max_per_class_error"] == pytest.approx(
            max(cm[0, 1] / cm[0].sum(), cm[1, 0] / cm[1].sum()))
        for name, attr in (("auc", "auc"), ("pr_auc", "aucpr"), ("logloss", "logloss"),
                           ("lift_top_group", "lift_top_group"), ("mse", "mse"),
                           ("rmse", "rmse"), ("r2", "r2"),
                           ("mean_per_class_error", "mean_per_class_error")):
            assert col[name] == pytest.approx(getattr(m, attr), rel=1e-12), name


def test_multinomial_and_regression_cv_summary_rows(iris_frame):
    multi = DeepLearningEstimator(hidden=[5], epochs=2, nfolds=3, **QUICK)
    table = multi.train(y="target", training_frame=iris_frame).cross_validation_metrics_summary()
    assert list(table.index) == H2O_MULTINOMIAL_ROWS
    assert table.loc["auc"].isna().all()  # auc_type AUTO: no multinomial AUC, as H2O
    for k, fold_model in enumerate(multi.cross_validation_models()):
        cm = fold_model.validation_metrics_.confusion_matrix.iloc[:3, :3].to_numpy(dtype=float)
        errors = (cm.sum(axis=1) - np.diag(cm)) / cm.sum(axis=1)
        assert table.iloc[:, 2 + k]["err_count"] == cm.sum() - np.trace(cm)
        assert table.iloc[:, 2 + k]["max_per_class_error"] == pytest.approx(errors.max())
        assert table.iloc[:, 2 + k]["mean_per_class_accuracy"] == pytest.approx(
            1 - errors.mean())
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    reg = DeepLearningEstimator(hidden=[5], epochs=2, nfolds=3, **QUICK)
    table = reg.train(y="target", training_frame=X.assign(target=y)
                      ).cross_validation_metrics_summary()
    assert list(table.index) == H2O_REGRESSION_ROWS
    np.testing.assert_allclose(table.loc["residual_deviance"],
                               table.loc["mean_residual_deviance"])


def test_cross_validation_predictions_per_fold_add_up_to_the_holdout(binomial, cancer_frame):
    preds = binomial.cross_validation_predictions()
    holdout = binomial.cross_validation_holdout_predictions()
    folds = binomial.cross_validation_fold_assignment()
    assert list(folds.columns) == ["fold_assignment"] and len(folds) == 450
    assert len(preds) == 3
    total = sum(p[["no", "yes"]] for p in preds)
    np.testing.assert_allclose(total, holdout[["no", "yes"]])
    train = cancer_frame.iloc[:450].drop(columns="label")
    for k, (p, model) in enumerate(zip(preds, binomial.cross_validation_models())):
        mine = folds["fold_assignment"].to_numpy() == k
        assert p.index.equals(holdout.index) and list(p.columns) == ["predict", "no", "yes"]
        # H2O's 0 fill-in; the label column's 0 is the first class
        assert (p.loc[~mine, ["no", "yes"]] == 0).all().all()
        assert (p.loc[~mine, "predict"] == "no").all()
        np.testing.assert_allclose(p.loc[mine, ["no", "yes"]],
                                   model.predict(train[mine])[["no", "yes"]])
    assert all(isinstance(m, DeepLearningEstimator) for m in binomial.cross_validation_models())


def test_cross_validation_accessors_say_what_to_keep(cancer_frame):
    m = DeepLearningEstimator(hidden=[3], epochs=1, nfolds=2, keep_cross_validation_models=False,
                              **QUICK).train(y="label", training_frame=cancer_frame)
    with pytest.raises(InvalidParameterError, match="keep_cross_validation_predictions=True"):
        m.cross_validation_predictions()
    with pytest.raises(InvalidParameterError, match="keep_cross_validation_fold_assignment"):
        m.cross_validation_fold_assignment()
    with pytest.raises(InvalidParameterError, match="keep_cross_validation_models=True"):
        m.cross_validation_models()
    plain = DeepLearningEstimator(hidden=[3], epochs=1, **QUICK).train(
        y="label", training_frame=cancer_frame)
    with pytest.raises(InvalidParameterError, match="without cross-validation"):
        plain.cross_validation_models()


def test_cross_validation_predictions_on_a_dask_frame(client):
    dd = pytest.importorskip("dask.dataframe")
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    frame = dd.from_pandas(X.assign(target=y), npartitions=3)
    m = DeepLearningEstimator(hidden=[4], epochs=1, nfolds=2, **KEEP, **QUICK)
    m.train(y="target", training_frame=frame, client=client)
    with client.as_current():
        parts = [p.compute() for p in m.cross_validation_predictions()]
        holdout = m.cross_validation_holdout_predictions().compute()
    np.testing.assert_allclose(parts[0]["predict"] + parts[1]["predict"], holdout["predict"])
    assert ((parts[0]["predict"] == 0) | (parts[1]["predict"] == 0)).all()


# ------------------------------------------------------------------ params, weights, metrics
def test_params_and_actual_params(binomial):
    params = binomial.params
    assert set(PARAMETERS) | {"response_column"} == set(params)
    assert params["hidden"]["input"] == [6] and params["hidden"]["default"] == (200, 200)
    assert params["distribution"] == {"default": "AUTO", "actual": "bernoulli", "input": "AUTO"}
    # cross-validation's main model: early stopping off, as H2O records it
    assert params["stopping_rounds"]["input"] == 5 and params["stopping_rounds"]["actual"] == 0
    assert params["response_column"]["actual"] == "label"
    actual = binomial.actual_params
    assert actual == {name: entry["actual"] for name, entry in params.items()}
    assert actual["epochs"] == binomial.params_["epochs"]
    with pytest.raises(AttributeError, match="not fitted"):
        DeepLearningEstimator().params


def test_weights_biases_gini_and_hit_ratios(binomial, iris_frame):
    assert len(binomial.weights_) == 2
    for i in range(2):
        pd.testing.assert_frame_equal(binomial.weights(i), binomial.weights_[i])
        pd.testing.assert_frame_equal(binomial.biases(i), binomial.biases_[i])
    assert binomial.weights().shape == (6, 6) and binomial.biases(1).shape == (2, 1)
    with pytest.raises(InvalidParameterError, match=r"weights\(2\).*2 weight matrices"):
        binomial.weights(2)
    assert binomial.gini() == pytest.approx(2 * binomial.auc() - 1)
    both = binomial.gini(valid=True, xval=True)
    assert set(both) == {"valid", "xval"}
    assert both["xval"] == pytest.approx(2 * binomial.auc(xval=True) - 1)
    with pytest.raises(InvalidParameterError, match="multinomial models.*binomial"):
        binomial.hit_ratio_table()
    multi = DeepLearningEstimator(hidden=[5], epochs=2, **QUICK).train(
        y="target", training_frame=iris_frame)
    table = multi.hit_ratio_table()
    assert list(table.columns) == ["k", "hit_ratio"] and list(table["k"]) == [1, 2, 3]
    pd.testing.assert_frame_equal(table, multi.training_metrics_.hit_ratios)
    with pytest.raises(InvalidParameterError, match="export_weights_and_biases=True"):
        multi.weights(0)


# ------------------------------------------------------------------ plots
def test_plot_follows_h2os_timestep_and_metric(binomial, tmp_path):
    history = binomial.scoring_history().iloc[1:]  # the untrained row is left out, as H2O
    out = tmp_path / "history.png"
    result = binomial.plot(server=True, save_plot_path=str(out))
    ax = result.figure().axes[0]
    assert out.stat().st_size > 0
    assert ax.get_title() == "Scoring History" and ax.get_xlabel() == "epochs"
    train_line, valid_line = ax.get_lines()
    np.testing.assert_allclose(train_line.get_xdata(), history["epochs"])
    np.testing.assert_allclose(train_line.get_ydata(), history["training_logloss"])  # AUTO
    np.testing.assert_allclose(valid_line.get_ydata(), history["validation_logloss"])
    ax = binomial.plot(timestep="samples", metric="auc", server=True).figure().axes[0]
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), history["samples"])
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), history["training_auc"])
    with pytest.raises(InvalidParameterError, match=r"metric='deviance'.*binomial.*'logloss'"):
        binomial.plot(metric="deviance")
    with pytest.raises(InvalidParameterError, match=r"timestep='iterations'"):
        binomial.plot(timestep="iterations")
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    reg = DeepLearningEstimator(hidden=[4], epochs=2, **QUICK).train(
        y="target", training_frame=X.assign(target=y))
    ax = reg.plot(timestep="duration", server=True).figure().axes[0]
    assert ax.get_title() == "Training Scoring History" and ax.get_ylabel() == "training_rmse"
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(),
                               reg.scoring_history()["training_rmse"].iloc[1:])


def test_varimp_plot_shows_the_top_ten_scaled_importances(tmp_path):
    X, y = load_digits(return_X_y=True, as_frame=True)
    frame = X.assign(digit=y.astype("category"))
    m = DeepLearningEstimator(hidden=[8], epochs=1, **QUICK).train(
        y="digit", training_frame=frame.iloc[:400])
    vi = m.varimp(use_pandas=True)
    ax = m.varimp_plot(server=True).figure().axes[0]
    assert ax.get_title() == "Variable Importance: H2O Deep Learning"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    top = max(zip(ax.get_yticks(), labels))[1]
    assert len(labels) == 10 and top == vi["variable"].iloc[0]  # the largest at the top
    widths = sorted((p.get_width() for p in ax.patches), reverse=True)
    np.testing.assert_allclose(widths, vi["scaled_importance"].iloc[:10])
    out = tmp_path / "vi.png"
    ax = m.varimp_plot(num_of_features=3, server=True, save_plot_path=out).figure().axes[0]
    assert len(ax.patches) == 3 and out.exists()


# ------------------------------------------------------------------ the model report
def test_printing_shows_h2os_report_once_fitted_and_sklearns_repr_before(binomial):
    unfitted = DeepLearningEstimator(hidden=[6], epochs=3)
    assert repr(unfitted) == BaseEstimator.__repr__(unfitted) == \
        "DeepLearningEstimator(epochs=3, hidden=[6])"
    assert unfitted._repr_mimebundle_()["text/plain"] == repr(unfitted)
    text = repr(binomial)
    assert str(binomial) == text
    sections = ["Model Details", "DeepLearningEstimator : Deep Learning", "Model Key:",
                "Status of Neuron Layers: predicting label, 2-class classification",
                "ModelMetricsBinomial: deeplearning\n** Reported on train data. **",
                "ModelMetricsBinomial: deeplearning\n** Reported on validation data. **",
                "ModelMetricsBinomial: deeplearning\n** Reported on cross-validation data. **",
                "Cross-Validation Metrics Summary:", "Scoring History:",
                "Variable Importances:"]
    positions = [text.index(s) for s in sections]
    assert positions == sorted(positions)
    assert f"AUC: {binomial.training_metrics_.auc:.6g}" in text
    assert "Confusion Matrix (Act/Pred) for max f1" in text
    html = binomial._repr_html_()
    bundle = binomial._repr_mimebundle_()
    assert bundle["text/plain"] == text and bundle["text/html"] == html
    assert "<h3>Model Details</h3>" in html and "Cross-Validation Metrics Summary" in html
    assert html.count("<table") == 4  # layers, CV summary, history, importances
    # a clone is unfitted again: scikit-learn's repr
    assert repr(clone(binomial)).startswith("DeepLearningEstimator(")


# ------------------------------------------------------------------ AutoEncoderEstimator
def test_autoencoder_estimator_is_h2os_class_with_autoencoder_true(cancer_frame):
    ae = AutoEncoderEstimator(hidden=[3], epochs=2, **QUICK)
    assert ae.get_params()["autoencoder"] is True and clone(ae).autoencoder is True
    assert repr(ae) == "AutoEncoderEstimator(epochs=2, hidden=[3], quiet_mode=True, " \
                       "reproducible=True, seed=1)"
    X = cancer_frame.drop(columns="label")
    assert ae.train(x=list(X.columns[:4]), training_frame=X) is ae
    assert ae.task_ == "autoencoder" and ae.data_info_.feature_names == list(X.columns[:4])
    assert list(ae.anomaly(X).columns) == ["Reconstruction.MSE"]
    assert "ModelMetricsAutoEncoder: deeplearning" in repr(ae)
    ax = ae.plot(server=True).figure().axes[0]
    assert ax.get_ylabel() == "training_rmse"
    with pytest.raises(InvalidParameterError, match=r"autoencoder=False is not allowed"):
        AutoEncoderEstimator(autoencoder=False).train(training_frame=X)
    with pytest.raises(InvalidParameterError, match=r"autoencoder=False is not allowed"):
        AutoEncoderEstimator(autoencoder=False).fit(X)


# ------------------------------------------------------------------ the booklet, as written
def test_booklet_extracting_and_handling_the_results():
    # the booklet's MNIST trial run on scikit-learn's 8x8 digits (64 pixel columns, the
    # response last); frames are pandas here, asfactor() is astype("category")
    digits = load_digits(as_frame=True).frame.rename(columns={"target": "C65"})
    train, test = digits.iloc[:1200].copy(), digits.iloc[1200:].copy()
    H2ODeepLearningEstimator = DeepLearningEstimator

    # Specify the response and predictor columns
    y = "C65"
    x = list(train.columns[0:64])

    # Encode the response column as categorical for multinomial classification
    train[y] = train[y].astype("category")
    test[y] = test[y].astype("category")

    # Train Deep Learning model and validate on test set
    model = H2ODeepLearningEstimator(
        distribution="multinomial",
        activation="RectifierWithDropout",
        hidden=[32, 32, 32],
        input_dropout_ratio=0.2,
        sparse=True,
        l1=1e-5,
        epochs=2, seed=1)
    model.train(
        x=x,
        y=y,
        training_frame=train,
        validation_frame=test)

    # Perform 5-fold cross-validation on training_frame
    model_cv = H2ODeepLearningEstimator(
        distribution="multinomial",
        activation="RectifierWithDropout",
        hidden=[32, 32, 32],
        input_dropout_ratio=0.2,
        sparse=True,
        l1=1e-5,
        epochs=2, seed=1,
        nfolds=5)
    model_cv.train(
        x=x,
        y=y,
        training_frame=train)

    # View specified parameters of the Deep Learning model
    params = model.params
    # Examine the performance of the trained model
    shown = repr(model)  # display all performance metrics
    train_metrics = model.model_performance(train=True)  # training metrics
    valid_metrics = model.model_performance(valid=True)  # validation metrics
    # Get MSE only
    mse = model.mse(valid=True)
    # Cross-validated MSE
    xval_mse = model_cv.mse(xval=True)

    assert params["hidden"]["input"] == [32, 32, 32] and params["l1"]["actual"] == 1e-5
    assert params["activation"]["actual"] == "RectifierWithDropout"
    assert "ModelMetricsMultinomial: deeplearning\n** Reported on validation data. **" in shown
    assert train_metrics is model.training_metrics_ and valid_metrics.mse == mse
    assert xval_mse == model_cv.model_performance(xval=True).mse
    assert list(model_cv.cross_validation_metrics_summary().columns[2:]) == \
        [f"cv_{k}_valid" for k in range(1, 6)]


def test_booklet_anomaly_detection():
    # the booklet's ECG example on a small frame of smooth "beats" with a few distorted
    # ones (the booklet reads ecg_discord_{train,test}.csv from S3)
    rng = np.random.default_rng(0)
    t = np.linspace(0, 2 * np.pi, 30)
    beats = np.sin(t)[None, :] * rng.uniform(0.9, 1.1, (60, 1)) + rng.normal(0, 0.02, (60, 30))
    train_ecg = pd.DataFrame(beats[:40], columns=[f"C{i + 1}" for i in range(30)])
    test_ecg = pd.DataFrame(beats[40:], columns=train_ecg.columns)
    test_ecg.iloc[:3] = rng.normal(0, 1, (3, 30))
    H2OAutoEncoderEstimator = AutoEncoderEstimator

    # Train deep autoencoder learning model on "normal"
    # training data, y ignored
    anomaly_model = H2OAutoEncoderEstimator(
        activation="Tanh",
        hidden=[50, 50, 50],
        sparse=True,
        l1=1e-4,
        epochs=100, seed=1, reproducible=True, quiet_mode=True)
    anomaly_model.train(
        x=list(train_ecg.columns),  # H2OFrame's train_ecg.names
        training_frame=train_ecg)

    # Compute reconstruction error with the Anomaly
    # detection app (MSE between output and input layers)
    recon_error = anomaly_model.anomaly(test_ecg)

    # Note: Testing = Reconstructing the test dataset
    test_recon = anomaly_model.predict(test_ecg)

    errors = recon_error["Reconstruction.MSE"].to_numpy()
    assert set(np.argsort(errors)[-3:]) == {0, 1, 2}  # the distorted beats stand out
    assert list(test_recon.columns) == [f"reconstr_{c}" for c in train_ecg.columns]
