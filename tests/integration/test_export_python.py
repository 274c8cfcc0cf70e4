"""The standalone numpy scorer written by ``export_python``.

Every case fits a tiny model, exports it, and compares the exported module (imported from
a temporary directory, and run as a script on a CSV) with the in-Python scorer
``model._predict_pandas(frame, "h2o")`` on a frame with missing values and unseen levels;
autoencoders are compared with ``model.predict`` (the reconstruction) and ``model.anomaly``.
"""

from __future__ import annotations

import ast
import copy
import csv
import importlib.util
import io
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dask_deeplearn import (
    DeepLearningAutoEncoder,
    DeepLearningClassifier,
    DeepLearningEstimator,
    DeepLearningRegressor,
)
from dask_deeplearn.export.python import export_python
from dask_deeplearn.network import NetworkSpec, init_state

TINY = dict(hidden=[8], epochs=2, quiet_mode=True, seed=1, reproducible=True)
FEATURES = ["num1", "num2", "cat_s", "cat_c", "cat_many", "cat_int", "const"]
ATOL = 1e-6

# --------------------------------------------------------------------------- data


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    many = [f"L{i:02d}" for i in range(14)]
    p_many = np.arange(14, 0, -1, dtype=float)
    df = pd.DataFrame({
        "num1": rng.normal(size=n),
        "num2": rng.normal(50.0, 20.0, size=n),
        "cat_s": rng.choice(["red", "green", "blue", "black"], n).astype(object),
        "cat_c": pd.Categorical(rng.choice(["lo", "mid", "hi"], n), categories=["lo", "mid", "hi"]),
        "cat_many": rng.choice(many, n, p=p_many / p_many.sum()).astype(object),
        "cat_int": pd.Categorical(rng.choice([1, 2, 3], n)),
        "const": np.ones(n),
    })
    df.loc[rng.random(n) < 0.05, "num1"] = np.nan
    df.loc[rng.random(n) < 0.05, "cat_s"] = None
    red = (df["cat_s"] == "red").to_numpy()
    x1 = df["num1"].fillna(0.0).to_numpy()
    df["y_bin"] = np.where(x1 + 0.8 * red + rng.normal(0, 0.3, n) > 0.3, "yes", "no")
    score = x1 + (df["cat_c"] == "hi").to_numpy() - 0.02 * (df["num2"].to_numpy() - 50)
    df["y_multi"] = pd.Categorical(np.select([score < -0.5, score < 0.7], ["a", "b"], "c"))
    df["y_reg"] = 300.0 + 40.0 * x1 + 0.5 * df["num2"] + 30.0 * red + rng.normal(0, 5, n)
    df["off"] = rng.normal(0.0, 0.3, n)
    df["y_count"] = rng.poisson(np.exp(0.5 + 0.4 * x1 + 0.3 * red + df["off"].to_numpy())).astype(float)
    return df


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return _frame(400, 0)


def _test_rows() -> pd.DataFrame:
    """Predictors (and the offset), with missing values and unseen levels in every categorical."""
    te = _frame(60, 1)[FEATURES + ["off"]].copy()
    te["cat_s"] = te["cat_s"].astype(object)
    te.loc[[0, 5], "num1"] = np.nan
    te.loc[[1, 6], "num2"] = np.nan
    te.loc[[2, 7], "cat_s"] = None
    te.loc[[3, 8], "cat_s"] = "purple"                     # unseen
    te.loc[[4, 9], "cat_many"] = "L99"                     # unseen
    te.loc[[10], "cat_many"] = np.nan
    te["cat_c"] = te["cat_c"].cat.add_categories(["ultra"])
    te.loc[[11, 12], "cat_c"] = "ultra"                    # unseen (a new category)
    te.loc[[13], "cat_c"] = np.nan
    te["cat_int"] = te["cat_int"].cat.add_categories([7])
    te.loc[[14], "cat_int"] = 7                            # unseen
    te.loc[[15], "cat_int"] = np.nan
    te.loc[[16], ["num1", "num2", "cat_s", "cat_many"]] = [np.nan, np.nan, None, None]
    return te


@pytest.fixture(scope="module")
def test_frame() -> pd.DataFrame:
    return _test_rows()


# --------------------------------------------------------------------------- cases


def _fit(case: str, tr: pd.DataFrame) -> DeepLearningClassifier | DeepLearningRegressor | DeepLearningEstimator:
    X = tr[FEATURES]
    if case == "binomial":
        return DeepLearningClassifier(**TINY).fit(X, tr["y_bin"])
    if case == "binomial_hashing_descale":
        return DeepLearningClassifier(max_categorical_features=5, sparse=True, **TINY).fit(X, tr["y_bin"])
    if case == "multinomial_maxout_enumlimited":
        return DeepLearningClassifier(activation="Maxout", categorical_encoding="EnumLimited",
                                      **TINY).fit(X, tr["y_multi"])
    if case == "multinomial_h2o_sortbyresponse":
        return DeepLearningEstimator(activation="RectifierWithDropout",
                                     categorical_encoding="SortByResponse",
                                     use_all_factor_levels=False, **TINY).train(
            x=FEATURES, y="y_multi", training_frame=tr)
    if case == "gaussian_tanhdropout":
        return DeepLearningRegressor(activation="TanhWithDropout", **TINY).fit(X, tr["y_reg"])
    if case == "poisson_binary":
        return DeepLearningRegressor(distribution="poisson", categorical_encoding="Binary",
                                     **TINY).fit(X, tr["y_count"])
    if case == "tweedie_eigen_maxoutdropout":
        return DeepLearningRegressor(distribution="tweedie", categorical_encoding="Eigen",
                                     activation="MaxoutWithDropout", **TINY).fit(X, tr["y_count"])
    if case == "offset_gaussian_labelencoder":
        return DeepLearningEstimator(categorical_encoding="LabelEncoder", **TINY).train(
            x=FEATURES, y="y_reg", training_frame=tr, offset_column="off")
    if case == "offset_poisson_unstandardized":
        return DeepLearningEstimator(distribution="poisson", standardize=False, **TINY).train(
            x=FEATURES, y="y_count", training_frame=tr, offset_column="off")
    if case == "numpy_classifier":
        Xn = tr[["num1", "num2", "const"]].to_numpy()
        return DeepLearningClassifier(**TINY).fit(Xn, (tr["y_bin"] == "yes").astype(int).to_numpy())
    if case == "numpy_regressor":
        Xn = tr[["num1", "num2", "const"]].to_numpy()
        return DeepLearningRegressor(**TINY).fit(Xn, tr["y_reg"].to_numpy())
    raise AssertionError(case)


CASES = [
    "binomial",
    "binomial_hashing_descale",
    "multinomial_maxout_enumlimited",
    "multinomial_h2o_sortbyresponse",
    "gaussian_tanhdropout",
    "poisson_binary",
    "tweedie_eigen_maxoutdropout",
    "offset_gaussian_labelencoder",
    "offset_poisson_unstandardized",
    "numpy_classifier",
    "numpy_regressor",
]


def _scoring_frame(case: str, te: pd.DataFrame) -> pd.DataFrame:
    if case.startswith("numpy"):
        out = te[["num1", "num2", "const"]].astype(float)
        out.columns = ["C1", "C2", "C3"]
        return out.reset_index(drop=True)
    return te.reset_index(drop=True)


# --------------------------------------------------------------------------- helpers


def _load(path: Path):
    name = f"exported_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _run_script(path: Path, csv_text: str) -> subprocess.CompletedProcess:
    # -I: isolated interpreter (no PYTHONPATH, no cwd, no user site): only the scorer file
    return subprocess.run([sys.executable, "-I", str(path)], input=csv_text, capture_output=True,
                          text=True, timeout=120)


def _check_against_reference(model, frame: pd.DataFrame, ref: pd.DataFrame, mod) -> None:
    rows = {c: frame[c] for c in frame.columns}
    if model.task_ == "classification":
        proba_cols = [str(c) for c in model.classes_]
        proba = mod.predict_proba(rows)
        assert proba.dtype == np.float64 and proba.shape == (len(frame), len(proba_cols))
        np.testing.assert_allclose(proba, ref[proba_cols].to_numpy(), rtol=0, atol=ATOL)
        labels = mod.predict(rows)
        assert labels.tolist() == ref["predict"].tolist()                 # exactly
        assert mod.CLASSES == list(model.classes_.tolist())
    else:
        pred = mod.predict(rows)
        assert pred.dtype == np.float64 and pred.shape == (len(frame),)
        np.testing.assert_allclose(pred, ref["predict"].to_numpy(), rtol=0, atol=ATOL)
        assert mod.CLASSES is None
        with pytest.raises(TypeError, match="regress"):
            mod.predict_proba(rows)


def _check_script(path: Path, model, frame: pd.DataFrame, ref: pd.DataFrame) -> None:
    # shuffled columns plus an extra one; missing values are empty cells
    cols = list(frame.columns)[::-1]
    csv_text = frame[cols].assign(extra_col="zzz").to_csv(index=False)
    proc = _run_script(path, csv_text)
    assert proc.returncode == 0, proc.stderr
    out = list(csv.reader(io.StringIO(proc.stdout)))
    header, body = out[0], out[1:]
    assert header == list(ref.columns)
    assert len(body) == len(ref)
    if model.task_ == "classification":
        assert [r[0] for r in body] == [str(v) for v in ref["predict"].tolist()]
    values = np.array([[float(x) for x in r[(1 if model.task_ == "classification" else 0):]] for r in body])
    expected = ref[header[1:]].to_numpy() if model.task_ == "classification" else ref[["predict"]].to_numpy()
    np.testing.assert_allclose(values, expected, rtol=0, atol=ATOL)


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("case", CASES)
def test_exported_module_and_script_match_the_model(case, train, test_frame, tmp_path):
    model = _fit(case, train)
    frame = _scoring_frame(case, test_frame)
    ref = model._predict_pandas(frame, "h2o")
    path = export_python(model, tmp_path / "scorer.py")
    assert path == tmp_path / "scorer.py" and path.is_file()
    mod = _load(path)

    info = model.data_info_
    assert mod.COLUMNS == list(info.used_columns)
    assert "const" not in mod.COLUMNS                                     # dropped constant column
    if case.startswith("numpy"):
        assert mod.COLUMNS == ["C1", "C2"]
    for c, levels in mod.DOMAINS.items():
        assert c in mod.COLUMNS and levels
    if case.startswith("offset"):
        assert mod.OFFSET_COLUMN == "off"

    _check_against_reference(model, frame, ref, mod)

    # plain Python lists (None for missing) give the same result
    lists = {c: [None if (isinstance(v, float) and np.isnan(v)) else v for v in frame[c].astype(object)]
             for c in frame.columns}
    if model.task_ == "classification":
        np.testing.assert_allclose(mod.predict_proba(lists), mod.predict_proba(dict(frame.items())),
                                   rtol=0, atol=1e-12)
    else:
        np.testing.assert_allclose(mod.predict(lists), mod.predict(dict(frame.items())), rtol=0, atol=1e-12)

    _check_script(path, model, frame, ref)


@pytest.fixture(scope="module")
def binomial(train, tmp_path_factory):
    model = _fit("binomial", train)
    path = export_python(model, tmp_path_factory.mktemp("binomial") / "scorer.py")
    return model, path


def test_generated_file_imports_only_numpy_and_stdlib(binomial):
    _, path = binomial
    tree = ast.parse(path.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"base64", "csv", "math", "os", "sys", "numpy"}, imported


def test_generated_file_runs_with_only_numpy_available(binomial, test_frame):
    model, path = binomial
    rows = {c: test_frame[c].astype(object).where(test_frame[c].notna(), None).tolist()
            for c in ["num1", "num2", "cat_s", "cat_c", "cat_many", "cat_int"]}
    code = f"""
import importlib.abc, importlib.util, sys
BLOCKED = {{"pandas", "scipy", "sklearn", "dask", "dask_deeplearn", "numba", "pyarrow", "distributed"}}
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError("blocked import of " + name)
        return None
sys.meta_path.insert(0, Blocker())
spec = importlib.util.spec_from_file_location("scorer", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
proba = mod.predict_proba({rows!r})
labels = mod.predict({rows!r})
loaded = {{m.split(".")[0] for m in sys.modules}}
assert not (loaded & BLOCKED), loaded & BLOCKED
print(repr(proba[:, 1].tolist()))
print(repr(labels.tolist()))
"""
    proc = subprocess.run([sys.executable, "-I", "-c", code, str(path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    p1, labels = (ast.literal_eval(line) for line in proc.stdout.splitlines())
    ref = model._predict_pandas(test_frame, "h2o")
    np.testing.assert_allclose(p1, ref["yes"].to_numpy(), rtol=0, atol=ATOL)
    assert labels == ref["predict"].tolist()


def test_script_missing_column_exits_2_naming_it(binomial, test_frame):
    _, path = binomial
    proc = _run_script(path, test_frame.drop(columns=["cat_s"]).to_csv(index=False))
    assert proc.returncode == 2
    assert "cat_s" in proc.stderr and proc.stdout == ""


def test_module_missing_column_raises_naming_it(binomial, test_frame):
    _, path = binomial
    mod = _load(path)
    with pytest.raises(ValueError, match="num2"):
        mod.predict({c: test_frame[c] for c in ["num1", "cat_s", "cat_c", "cat_many", "cat_int"]})


def test_constants_and_csv_numbers_as_levels(binomial, test_frame):
    model, path = binomial
    mod = _load(path)
    info = model.data_info_
    assert mod.CLASSES == ["no", "yes"]
    assert mod.THRESHOLD == model._threshold()
    assert mod.OUTPUT_COLUMNS == ["predict", "no", "yes"]
    assert mod.DOMAINS["cat_s"] == info.cat_raw_levels["cat_s"]
    assert mod.DOMAINS["cat_int"] == [1, 2, 3]
    # CSV cells are text: "2.0" matches the integer level 2 as pandas.read_csv would
    frame = test_frame.iloc[:5].copy()
    frame["cat_int"] = pd.Categorical([2, 2, 3, 1, 2])
    ref = model._predict_pandas(frame, "h2o")
    text = frame.assign(cat_int=["2.0", "2", "3.0", "1", "2.00"]).to_csv(index=False)
    proc = _run_script(path, text)
    assert proc.returncode == 0, proc.stderr
    got = np.array([[float(x) for x in r[1:]] for r in list(csv.reader(io.StringIO(proc.stdout)))[1:]])
    np.testing.assert_allclose(got, ref[["no", "yes"]].to_numpy(), rtol=0, atol=ATOL)


def test_large_model_file_is_compact_and_imports_fast(binomial, test_frame, tmp_path):
    model, _ = binomial
    big = copy.copy(model)                       # same preprocessing, a ~200k-weight network
    n_in = model.data_info_.n_inputs
    spec = NetworkSpec(units=(n_in, 440, 440, 2), activation="Tanh", output="softmax",
                       hidden_dropout_ratios=(0.0, 0.0))
    big.state_ = init_state(spec, seed=3)
    assert spec.n_weights > 200_000
    path = export_python(big, tmp_path / "big_scorer.py")
    assert path.stat().st_size < 3_000_000
    code = ("import sys, time, importlib.util, numpy\n"
            "t = time.perf_counter()\n"
            "spec = importlib.util.spec_from_file_location('s', sys.argv[1])\n"
            "mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)\n"
            "print(time.perf_counter() - t)\n")
    proc = subprocess.run([sys.executable, "-I", "-c", code, str(path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout) < 2.0
    mod = _load(path)
    ref = big._predict_pandas(test_frame, "h2o")
    np.testing.assert_allclose(mod.predict_proba(dict(test_frame.items())), ref[["no", "yes"]].to_numpy(),
                               rtol=0, atol=ATOL)
    assert mod.predict(dict(test_frame.items())).tolist() == ref["predict"].tolist()


# --------------------------------------------------------------------------- autoencoders

AE_ATOL = 1e-9


@pytest.mark.parametrize("activation", ["Tanh", "Rectifier"])
def test_exported_autoencoder_matches_predict_and_anomaly(activation, train, test_frame, tmp_path):
    ae = DeepLearningAutoEncoder(hidden=[8], activation=activation, epochs=5, seed=1,
                                 reproducible=True, quiet_mode=True).fit(train[FEATURES])
    assert ae.task_ == "autoencoder" and ae.state_.spec.output == "autoencoder"
    frame = test_frame.reset_index(drop=True)                   # missing values, unseen levels
    ref = ae.predict(frame)
    ref_mse = ae.anomaly(frame)["Reconstruction.MSE"].to_numpy()
    ref_se = ae.anomaly(frame, per_feature=True)
    path = export_python(ae, tmp_path / "ae_scorer.py")
    mod = _load(path)

    info = ae.data_info_
    assert mod.TASK == "autoencoder" and mod.CLASSES is None and mod.OFFSET_COLUMN is None
    assert mod.COLUMNS == list(info.used_columns)
    assert mod.INPUT_NAMES == [str(n) for n in info.input_names]
    assert mod.OUTPUT_COLUMNS == list(ref.columns)
    assert mod.OUTPUT_COLUMNS == [f"reconstr_{n}" for n in info.input_names]
    assert any(c.startswith("reconstr_cat_s.") for c in mod.OUTPUT_COLUMNS)   # one-hot outputs
    assert "reconstr_num2" in mod.OUTPUT_COLUMNS                               # numeric outputs

    rows = {c: frame[c] for c in frame.columns}
    pred = mod.predict(rows)
    assert pred.dtype == np.float64 and pred.shape == ref.shape
    np.testing.assert_allclose(pred, ref.to_numpy(), rtol=0, atol=AE_ATOL)
    assert np.ptp(pred, axis=0).max() > 0                     # the inputs reach the network
    mse = mod.anomaly(rows)
    assert mse.dtype == np.float64 and mse.shape == (len(frame),)
    np.testing.assert_allclose(mse, ref_mse, rtol=0, atol=AE_ATOL)
    se = mod.anomaly(rows, per_feature=True)
    assert list(ref_se.columns) == [f"reconstr_{n}.SE" for n in mod.INPUT_NAMES]
    np.testing.assert_allclose(se, ref_se.to_numpy(), rtol=0, atol=AE_ATOL)
    with pytest.raises(TypeError, match="autoencoder"):
        mod.predict_proba(rows)

    # plain Python lists (None for missing) give the same result
    lists = {c: [None if (isinstance(v, float) and np.isnan(v)) else v for v in frame[c].astype(object)]
             for c in frame.columns}
    np.testing.assert_allclose(mod.predict(lists), pred, rtol=0, atol=1e-12)
    np.testing.assert_allclose(mod.anomaly(lists), mse, rtol=0, atol=1e-12)

    # the script writes the reconstruction columns with a header row
    proc = _run_script(path, frame[list(frame.columns)[::-1]].assign(extra_col="zzz").to_csv(index=False))
    assert proc.returncode == 0, proc.stderr
    out = list(csv.reader(io.StringIO(proc.stdout)))
    header, body = out[0], out[1:]
    assert header == list(ref.columns)
    values = np.array([[float(x) for x in r] for r in body])
    assert values.shape == ref.shape
    np.testing.assert_allclose(values, ref.to_numpy(), rtol=0, atol=AE_ATOL)


def test_anomaly_is_only_for_autoencoders(binomial, test_frame):
    _, path = binomial
    mod = _load(path)
    assert mod.TASK == "classification"
    with pytest.raises(TypeError, match="autoencoders"):
        mod.anomaly(dict(test_frame.items()))


def test_export_refuses_an_unfitted_model(tmp_path):
    with pytest.raises(ValueError, match="fitted"):
        export_python(DeepLearningClassifier(), tmp_path / "x.py")


def test_estimator_method_writes_the_same_scorer(tmp_path):
    import importlib.util

    from sklearn.datasets import load_iris

    from dask_deeplearn import DeepLearningClassifier

    X, y = load_iris(return_X_y=True)
    clf = DeepLearningClassifier(hidden=[4], epochs=2, seed=1, reproducible=True,
                                 quiet_mode=True).fit(X, y)
    path = clf.export_python(tmp_path / "iris_scorer.py")
    spec = importlib.util.spec_from_file_location("iris_scorer", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = {f"C{i + 1}": X[:, i] for i in range(X.shape[1])}
    np.testing.assert_allclose(mod.predict_proba(rows), clf.predict_proba(X), atol=1e-6)
