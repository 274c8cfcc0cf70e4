"""scikit-learn conventions of the estimators, next to H2O's face.

* a scikit-learn classifier predicts ``classes_[argmax(predict_proba)]`` (also for two
  classes), for numpy, pandas and Dask input, and so do the scorers exported from it
  (Python, Java, ``score_parquet``, the command line); H2O's ``DeepLearningEstimator``
  labels a binomial row class 1 when ``p1 >= threshold_`` (the max-F1 threshold);
* a ``weights_column`` / ``offset_column`` named in the parameters is read from ``X``
  (at fit and at predict time) instead of being refused as a feature;
* every public sub-package is an attribute of the top-level package.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import pkgutil
import shutil
import subprocess
import sys
import uuid

import numpy as np
import pandas as pd
import pytest

import dask_deeplearn
from dask_deeplearn import (
    DataError,
    DeepLearningClassifier,
    DeepLearningEstimator,
    DeepLearningRegressor,
)
from dask_deeplearn.export.java import export_java
from dask_deeplearn.export.python import export_python

BASE = dict(hidden=[8], epochs=5, seed=1, reproducible=True, quiet_mode=True)
HAS_JAVA = shutil.which("javac") is not None and shutil.which("java") is not None


def _load(path):
    spec = importlib.util.spec_from_file_location(f"exported_{uuid.uuid4().hex}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _java_labels(model, frame: pd.DataFrame, tmp_path, name: str) -> list[str]:
    """Labels of ``frame`` from the compiled Java scorer of ``model``."""
    java = export_java(model, tmp_path, class_name=name)
    subprocess.run(["javac", "-nowarn", "-d", str(tmp_path), str(java)], check=True,
                   capture_output=True, timeout=300)
    res = subprocess.run(["java", "-cp", str(tmp_path), name], input=frame.to_csv(index=False),
                         capture_output=True, text=True, timeout=120, check=True)
    rows = list(csv.reader(io.StringIO(res.stdout)))
    return [r[0] for r in rows[1:]]


# --------------------------------------------------------------------------- binary labels


def _binary_frame(n: int = 600, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """An imbalanced binary problem (15 % positives): max-F1 threshold far below 0.5."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "c": rng.choice(["p", "q", "r"], n)})
    s = X["a"] + 0.5 * X["b"] + rng.normal(size=n)
    return X, np.where(s > 1.5, "yes", "no")


@pytest.fixture(scope="module")
def binary():
    X, y = _binary_frame()
    clf = DeepLearningClassifier(**BASE).fit(X, y)
    h2o = DeepLearningEstimator(**BASE).train(
        y="y", training_frame=X.assign(y=pd.Categorical(y)))
    return X, y, clf, h2o


def _disagreeing(proba: np.ndarray, threshold: float) -> int:
    return int(((proba[:, 1] >= threshold) != (proba.argmax(axis=1) == 1)).sum())


def test_threshold_is_public_and_is_the_max_f1_threshold(binary):
    X, y, clf, h2o = binary
    for model in (clf, h2o):
        m = model.validation_metrics_ or model.training_metrics_
        assert model.threshold_ == m.max_f1_threshold
        assert 0.0 < model.threshold_ < 0.5
    # the two label rules really disagree on this problem
    assert _disagreeing(clf.predict_proba(X), clf.threshold_) > 0


def test_classifier_predict_is_argmax_of_predict_proba(binary):
    X, y, clf, _ = binary
    proba = clf.predict_proba(X)
    expected = clf.classes_[proba.argmax(axis=1)]
    np.testing.assert_array_equal(clf.predict(X), expected)
    with pytest.warns(UserWarning, match="feature names"):
        np.testing.assert_array_equal(clf.predict(X.to_numpy()), expected)
    assert clf.score(X, y) == pytest.approx(float(np.mean(expected == y)))
    # the prediction frame of the classifier (score_parquet, the CLI) uses the same labels
    frame = clf._predict_pandas(X, "h2o")
    np.testing.assert_array_equal(frame["predict"].to_numpy(dtype=object), expected)


def test_numpy_fitted_classifier_predicts_argmax():
    X, y = _binary_frame()
    Xn = X[["a", "b"]].to_numpy()
    clf = DeepLearningClassifier(**BASE).fit(Xn, y == "yes")
    proba = clf.predict_proba(Xn)
    assert _disagreeing(proba, clf.threshold_) > 0
    np.testing.assert_array_equal(clf.predict(Xn), clf.classes_[proba.argmax(axis=1)])


def test_h2o_face_keeps_the_max_f1_threshold(binary):
    X, y, _, h2o = binary
    pred = h2o.predict(X)
    proba = pred[["no", "yes"]].to_numpy()
    assert _disagreeing(proba, h2o.threshold_) > 0
    expected = np.where(proba[:, 1] >= h2o.threshold_, "yes", "no")
    np.testing.assert_array_equal(pred["predict"].to_numpy(dtype=object), expected)


def test_dask_input_predicts_argmax(binary, client):
    import dask.dataframe as dd

    X, y, clf, h2o = binary
    ddf = dd.from_pandas(X, npartitions=3, sort=False)
    with client.as_current():
        labels = clf.predict(ddf).compute()
        proba = clf.predict_proba(ddf).compute()
        frame = h2o.predict(ddf).compute()
    expected = clf.classes_[proba.to_numpy().argmax(axis=1)]
    np.testing.assert_array_equal(labels.to_numpy(dtype=object), expected)
    np.testing.assert_array_equal(labels.to_numpy(dtype=object), clf.predict(X))
    p1 = frame["yes"].to_numpy()
    np.testing.assert_array_equal(frame["predict"].to_numpy(dtype=object),
                                  np.where(p1 >= h2o.threshold_, "yes", "no"))


def test_exported_python_scorer_follows_its_estimator(binary, tmp_path):
    X, y, clf, h2o = binary
    rows = {c: X[c] for c in X.columns}
    mod = _load(export_python(clf, tmp_path / "clf.py"))
    assert mod.LABEL_RULE == "argmax" and mod.THRESHOLD == clf.threshold_
    proba = mod.predict_proba(rows)
    np.testing.assert_array_equal(mod.predict(rows), clf.predict(X))
    np.testing.assert_array_equal(mod.predict(rows), clf.classes_[proba.argmax(axis=1)])
    mod_h = _load(export_python(h2o, tmp_path / "h2o.py"))
    assert mod_h.LABEL_RULE == "threshold" and mod_h.THRESHOLD == h2o.threshold_
    np.testing.assert_array_equal(mod_h.predict(rows),
                                  h2o.predict(X)["predict"].to_numpy(dtype=object))


def test_exact_ties_are_labelled_alike_by_predict_and_the_python_scorer(binary, tmp_path):
    X, y, clf, h2o = binary
    for model, name in ((clf, "clf_tie.py"), (h2o, "h2o_tie.py")):
        t = model.threshold_
        proba = np.array([[0.5, 0.5], [1.0 - t, t], [0.7, 0.3]])
        mod = _load(export_python(model, tmp_path / name))
        np.testing.assert_array_equal(mod._labels(proba), model._scorer().labels(proba))
    # argmax: the first class on a tie (numpy's rule); threshold: p1 >= threshold
    assert clf._scorer().labels(np.array([[0.5, 0.5]])).tolist() == ["no"]
    t = h2o.threshold_
    assert h2o._scorer().labels(np.array([[1.0 - t, t]])).tolist() == ["yes"]


@pytest.mark.skipif(not HAS_JAVA, reason="needs a JDK (javac and java on PATH)")
def test_exported_java_scorer_follows_its_estimator(binary, tmp_path):
    X, y, clf, h2o = binary
    assert _java_labels(clf, X, tmp_path, "ClfScorer") == clf.predict(X).tolist()
    assert _java_labels(h2o, X, tmp_path, "H2oScorer") == h2o.predict(X)["predict"].tolist()


def test_score_parquet_and_cli_follow_the_estimator(binary, tmp_path):
    from dask_deeplearn.cli import main
    from dask_deeplearn.io import score_parquet

    X, y, clf, h2o = binary
    X.to_parquet(tmp_path / "in.parquet")
    for model, name in ((clf, "clf"), (h2o, "h2o")):
        expected = (clf.predict(X) if model is clf
                    else h2o.predict(X)["predict"].to_numpy(dtype=object))
        out = score_parquet(model, tmp_path / "in.parquet", tmp_path / f"{name}_out")
        got = pd.read_parquet(out)["predict"].to_numpy(dtype=object)
        np.testing.assert_array_equal(got, expected)
        path = model.save(tmp_path / f"{name}.zip")
        X.to_csv(tmp_path / "in.csv", index=False)
        assert main(["predict", "--model", str(path), "--input", str(tmp_path / "in.csv"),
                     "--output", str(tmp_path / f"{name}.csv")]) == 0
        cli = pd.read_csv(tmp_path / f"{name}.csv")["predict"].to_numpy(dtype=object)
        np.testing.assert_array_equal(cli, expected)


# --------------------------------------------------------------------------- weights / offsets in X


def _offset_frame(n: int = 400, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n),
                      "o": rng.normal(size=n), "w": rng.uniform(0.5, 2.0, n)})
    y = 3 * X["x1"].to_numpy() - X["x2"].to_numpy() + 2 * X["o"].to_numpy() \
        + rng.normal(size=n) * 0.1
    return X, y


def test_offset_column_in_X_is_used_as_the_offset():
    X, y = _offset_frame()
    Xo = X.drop(columns=["w"])
    reg = DeepLearningRegressor(**BASE, offset_column="o").fit(Xo, y)
    assert list(reg.data_info_.used_columns) == ["x1", "x2"]
    assert reg.data_info_.offset_column == "o"
    assert reg.n_features_in_ == 3 and list(reg.feature_names_in_) == ["x1", "x2", "o"]
    pred = reg.predict(Xo)
    shifted = reg.predict(Xo.assign(o=Xo["o"] + 1.0))
    # a gaussian model's prediction is the network output plus the offset
    np.testing.assert_allclose(shifted - pred, 1.0, atol=1e-5)
    # the same model as H2O's face trains with offset_column="o"
    h2o = DeepLearningEstimator(**BASE, offset_column="o").train(
        y="y", training_frame=Xo.assign(y=y))
    np.testing.assert_allclose(pred, h2o.predict(Xo)["predict"].to_numpy(), rtol=0, atol=1e-9)
    # numpy X: the column is named by position
    Xn = Xo.to_numpy()
    regn = DeepLearningRegressor(**BASE, offset_column="C3").fit(Xn, y)
    np.testing.assert_allclose(regn.predict(Xn), pred, rtol=0, atol=1e-9)


def test_weights_column_in_X_equals_sample_weight():
    X, y = _offset_frame()
    by_column = DeepLearningRegressor(**BASE, weights_column="w").fit(X[["x1", "x2", "w"]], y)
    by_arg = DeepLearningRegressor(**BASE).fit(X[["x1", "x2"]], y, sample_weight=X["w"])
    assert list(by_column.data_info_.used_columns) == ["x1", "x2"]
    np.testing.assert_allclose(by_column.predict(X[["x1", "x2", "w"]]),
                               by_arg.predict(X[["x1", "x2"]]), rtol=0, atol=1e-9)


def test_weights_and_offset_columns_errors():
    X, y = _offset_frame()
    with pytest.raises(DataError, match=r"sample_weight.*weights_column='w'"):
        DeepLearningRegressor(**BASE, weights_column="w").fit(X, y, sample_weight=X["w"])
    with pytest.raises(DataError, match=r"offset_column='zz'.*not a column of X"):
        DeepLearningRegressor(**BASE, offset_column="zz").fit(X, y)
    with pytest.raises(DataError, match=r"weights_column='zz'.*not a column of X"):
        DeepLearningRegressor(**BASE, weights_column="zz").fit(X, y)


def test_offset_column_in_exported_scorers(tmp_path):
    X, y = _offset_frame()
    Xo = X.drop(columns=["w"])
    reg = DeepLearningRegressor(**BASE, offset_column="o").fit(Xo, y)
    mod = _load(export_python(reg, tmp_path / "reg.py"))
    assert mod.OFFSET_COLUMN == "o"
    np.testing.assert_allclose(mod.predict({c: Xo[c] for c in Xo.columns}), reg.predict(Xo),
                               rtol=0, atol=1e-9)
    if HAS_JAVA:
        java = export_java(reg, tmp_path, class_name="OffsetReg")
        subprocess.run(["javac", "-nowarn", "-d", str(tmp_path), str(java)], check=True,
                       capture_output=True, timeout=300)
        res = subprocess.run(["java", "-cp", str(tmp_path), "OffsetReg"],
                             input=Xo.to_csv(index=False), capture_output=True, text=True,
                             timeout=120, check=True)
        got = pd.read_csv(io.StringIO(res.stdout))["predict"].to_numpy()
        np.testing.assert_allclose(got, reg.predict(Xo), rtol=0, atol=1e-6)


def test_offset_and_weights_columns_with_dask_input(client):
    import dask.dataframe as dd

    X, y = _offset_frame()
    ddf = dd.from_pandas(X, npartitions=2, sort=False)
    dy = dd.from_pandas(pd.Series(y), npartitions=2, sort=False)
    reg = DeepLearningRegressor(**BASE, offset_column="o", weights_column="w")
    with pytest.warns(UserWarning, match="not re-weighted"):  # H2O's rule, warned about
        reg.fit(ddf, dy, client=client)
    assert list(reg.data_info_.used_columns) == ["x1", "x2"]
    with client.as_current():
        pred = reg.predict(ddf).compute().to_numpy()
    np.testing.assert_allclose(pred, reg.predict(X), rtol=0, atol=1e-9)
    with client.as_current():
        shifted = reg.predict(ddf.assign(o=ddf["o"] + 1.0)).compute().to_numpy()
    np.testing.assert_allclose(shifted - pred, 1.0, atol=1e-5)


# --------------------------------------------------------------------------- sub-packages


def _public_submodules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(dask_deeplearn.__path__)
                  if not m.name.startswith("_"))


def test_every_public_submodule_is_reachable_from_a_fresh_import():
    names = _public_submodules()
    assert {"io", "export", "metrics", "model_selection", "preprocessing"} <= set(names)
    code = (
        "import sys, dask_deeplearn as ddl\n"
        "assert 'sklearn' not in sys.modules and 'numba' not in sys.modules, 'heavy import'\n"
        "assert callable(ddl.io.save_model) and callable(ddl.io.load_model)\n"
        "assert callable(ddl.export.python.export_python)\n"
        "assert callable(ddl.export.java.export_java)\n"
        f"for name in {names!r}:\n"
        "    mod = getattr(ddl, name)\n"
        "    assert mod.__name__ == 'dask_deeplearn.' + name, name\n"
        "    assert name in dir(ddl), name\n"
        "print('ok')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, cwd=str(__import__("pathlib").Path(dask_deeplearn.__file__).parents[1]))
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "ok"


def test_unknown_attribute_is_still_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'not_a_module'"):
        dask_deeplearn.not_a_module  # noqa: B018
