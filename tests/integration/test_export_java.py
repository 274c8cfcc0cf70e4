"""The generated Java scorer (``export_java``) reproduces ``predict``.

Every model is fitted once, exported into one directory and compiled by a single
``javac`` call (module fixture); each test then pipes a CSV through ``java`` and compares
with ``model._predict_pandas(frame, "h2o")`` at 1e-6 absolute, labels exactly
(autoencoders: with ``model.predict``, the reconstruction columns).
"""

from __future__ import annotations

import csv as csv_module
import io
import keyword
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from dask_deeplearn import (
    DeepLearningAutoEncoder,
    DeepLearningClassifier,
    DeepLearningEstimator,
    DeepLearningRegressor,
    NotFittedError,
)
from dask_deeplearn.export.java import export_java

pytestmark = pytest.mark.skipif(
    shutil.which("javac") is None or shutil.which("java") is None,
    reason="needs a JDK (javac and java on PATH)",
)

BASE = dict(seed=1, reproducible=True, quiet_mode=True, epochs=2, hidden=[12])
N_TRAIN, N_TEST = 400, 60
C2_LEVELS = np.array(["u,v", 'say "hi"', "w", "x y"], dtype=object)  # CSV quoting


def _frame(rng: np.random.Generator, n: int, *, test: bool) -> pd.DataFrame:
    """Numeric, categorical (category / object / wide), bool columns; test: unseen levels."""
    c1_levels = ["a", "b", "c", "q"] if test else ["a", "b", "c"]
    hc_n = 160  # > 128 levels: the domain and level map go through the base64 tables
    df = pd.DataFrame({
        "x1": rng.normal(size=n),
        "x 2": rng.normal(size=n) * 10 + 3,
        "c1": pd.Categorical(rng.choice(["a", "b", "c"], n), categories=c1_levels),
        "c2": rng.choice(C2_LEVELS, n),
        "hc": np.array([f"h{i}" for i in rng.integers(0, hc_n, n)], dtype=object),
        "grp": rng.choice(np.array([f"g{i:02d}" for i in range(25)], dtype=object), n),
        "flag": rng.random(n) > 0.5,
        "off": rng.normal(size=n) * 0.2,
    })
    df.loc[df.index[::7], "x1"] = np.nan
    df.loc[df.index[::9], "x 2"] = np.nan
    df.loc[df.index[::5], "c2"] = None
    df.loc[df.index[::11], "hc"] = None
    if test:
        df.loc[df.index[::6], "c1"] = "q"       # a category the model never saw
        df.loc[df.index[3::8], "c2"] = "zzz"     # unseen string levels
        df.loc[df.index[4::8], "hc"] = "h999"
        df.loc[df.index[5::8], "grp"] = "g99"
        df.loc[df.index[2::10], "c1"] = np.nan
        df.loc[df.index[1::10], "grp"] = None
    return df


def _signal(df: pd.DataFrame) -> np.ndarray:
    return (df["x1"].fillna(0).to_numpy() + 0.05 * df["x 2"].fillna(3).to_numpy()
            + (df["c1"] == "a").to_numpy() - (df["c2"] == "w").to_numpy()
            + 0.5 * df["flag"].to_numpy())


def _build_models(train: pd.DataFrame, rng: np.random.Generator) -> dict:
    """name -> (model, scoring frame builder key)."""
    s = _signal(train)
    X = train.drop(columns=["off"])
    models = {}
    y_bin = np.where(s > 0.3, "yes", "no")
    models["binomial"] = DeepLearningClassifier(**BASE).fit(X, y_bin)
    h2o = train.assign(cls=pd.Categorical(np.digitize(s, [-0.5, 0.8]).astype(str)))
    models["multinomial"] = DeepLearningEstimator(
        **BASE, categorical_encoding="SortByResponse", use_all_factor_levels=False,
    ).train(y="cls", training_frame=h2o.drop(columns=["off"]))
    y_gauss = 300 + 80 * s + rng.normal(size=len(s)) * 5
    models["gaussian_tanh_dropout"] = DeepLearningRegressor(
        **{**BASE, "hidden": [16, 8]}, activation="TanhWithDropout",
        hidden_dropout_ratios=[0.2, 0.1],
    ).fit(X, y_gauss)
    y_count = rng.poisson(np.exp(0.5 * s + 1))
    models["poisson_maxout"] = DeepLearningRegressor(
        **BASE, activation="Maxout", distribution="poisson").fit(X, y_count)
    models["offset_gaussian"] = DeepLearningEstimator(**BASE).train(
        y="target", training_frame=train.assign(target=y_gauss + 40 * train["off"]),
        offset_column="off")
    models["offset_tweedie"] = DeepLearningEstimator(**BASE, distribution="tweedie").train(
        y="target", training_frame=train.assign(target=y_count.astype(float)),
        offset_column="off")
    # encodings, with the other numeric transforms and Skip along the way
    extra = {"Binary": dict(sparse=True), "Eigen": dict(standardize=False),
             "LabelEncoder": dict(missing_values_handling="Skip"), "EnumLimited": {}}
    for enc, kw in extra.items():
        models[f"enc_{enc}"] = DeepLearningClassifier(
            **BASE, categorical_encoding=enc, **kw).fit(X, y_bin)
    models["hashing"] = DeepLearningRegressor(**BASE, max_categorical_features=7).fit(X, y_gauss)
    for act in ("Tanh", "Rectifier"):
        models[f"ae_{act}"] = DeepLearningAutoEncoder(
            hidden=[8], activation=act, epochs=5, seed=1, reproducible=True,
            quiet_mode=True).fit(X)
    return models


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Fit, export and compile every model (one javac call)."""
    rng = np.random.default_rng(42)
    train = _frame(rng, N_TRAIN, test=False)
    test = _frame(rng, N_TEST, test=True)
    models = {name: (m, test.drop(columns=["off"]) if m.params_["offset_column"] is None else test)
              for name, m in _build_models(train, rng).items()}

    # scikit-learn model on plain numpy (columns C1..C4), three integer classes
    Xn = rng.normal(size=(300, 4))
    yn = np.digitize(Xn[:, 0] + Xn[:, 1], [-0.5, 0.5])
    Xt = rng.normal(size=(N_TEST, 4))
    Xt[::5, 2] = np.nan
    models["numpy"] = (DeepLearningClassifier(**BASE).fit(Xn, yn),
                       pd.DataFrame(Xt, columns=[f"C{i + 1}" for i in range(4)]))

    # the 784-200-200-10 network (~200k weights), barely trained
    Xb = rng.normal(size=(200, 784))
    yb = rng.integers(0, 10, 200)
    big = DeepLearningClassifier(hidden=[200, 200], epochs=0.01, seed=3, reproducible=True,
                                 quiet_mode=True).fit(Xb, yb)
    models["mnist_size"] = (big, pd.DataFrame(rng.normal(size=(20, 784)),
                                              columns=[f"C{i + 1}" for i in range(784)]))

    out = tmp_path_factory.mktemp("java")
    classes = {}
    for name, (model, _) in models.items():
        cls = "M_" + name
        path = export_java(model, out, class_name=cls)
        assert path == out / f"{cls}.java"
        classes[name] = cls
    probe = out / "Probe.java"
    probe.write_text(_PROBE.replace("CLS", classes["binomial"]))
    probe_ae = out / "ProbeAE.java"
    probe_ae.write_text(_PROBE_AE.replace("CLS", classes["ae_Tanh"]))
    files = [str(out / f"{c}.java") for c in classes.values()] + [str(probe), str(probe_ae)]
    subprocess.run(["javac", "-nowarn", "-d", str(out), *files], check=True,
                   capture_output=True, timeout=300)
    return {"dir": out, "classes": classes, "models": models, "train": train}


_PROBE = """
public class Probe {
  public static void main(String[] a) {
    double[] row = new double[CLS.NAMES.length];
    java.util.Arrays.fill(row, Double.NaN);
    double[] p = new CLS().score0(row, new double[CLS.NCLASSES + 1]);
    System.out.println(CLS.NAMES.length + " " + CLS.DOMAINS.length + " "
        + (CLS.DOMAINS[CLS.NAMES.length] == CLS.RESPONSE_DOMAIN) + " " + CLS.MODEL_CATEGORY);
    System.out.println(String.join("|", CLS.NAMES));
    System.out.println(p[0] + " " + p[1] + " " + p[2]);
  }
}
"""


_PROBE_AE = """
public class ProbeAE {
  public static void main(String[] a) {
    CLS m = new CLS();
    double[] row = new double[CLS.NAMES.length];
    java.util.Arrays.fill(row, Double.NaN);
    double[] p = m.score0(row, new double[m.getPredsSize()]);
    System.out.println(CLS.MODEL_CATEGORY + " " + CLS.AUTOENCODER + " " + m.getPredsSize() + " "
        + (CLS.DOMAINS[CLS.NAMES.length] == null));
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < p.length; i++) sb.append(i == 0 ? "" : " ").append(Double.toString(p[i]));
    System.out.println(sb);
  }
}
"""


def _csv_for_java(frame: pd.DataFrame, rng: np.random.Generator) -> str:
    """The frame as CSV, columns shuffled, with an extra column the scorer must ignore."""
    cols = list(frame.columns)
    rng.shuffle(cols)
    return frame[cols].assign(unused_extra="zz,top").to_csv(index=False)


def _run(exported, name: str, csv: str) -> subprocess.CompletedProcess:
    return subprocess.run(["java", "-cp", str(exported["dir"]), exported["classes"][name]],
                          input=csv, capture_output=True, text=True, timeout=120)


ALL = ["binomial", "multinomial", "gaussian_tanh_dropout", "poisson_maxout", "offset_gaussian",
       "offset_tweedie", "enc_Binary", "enc_Eigen", "enc_LabelEncoder", "enc_EnumLimited",
       "hashing", "numpy", "mnist_size"]


@pytest.mark.parametrize("name", ALL)
def test_java_scorer_matches_python(exported, name):
    model, frame = exported["models"][name]
    ref = model._predict_pandas(frame, "h2o")
    res = _run(exported, name, _csv_for_java(frame, np.random.default_rng(7)))
    assert res.returncode == 0, res.stderr
    out = pd.read_csv(io.StringIO(res.stdout), dtype={"predict": str}, keep_default_na=False)
    assert list(out.columns) == [str(c) for c in ref.columns]
    assert len(out) == len(ref)
    if model.task_ == "classification":
        assert out["predict"].tolist() == ref["predict"].astype(str).tolist()
        got = out.iloc[:, 1:].to_numpy(dtype=np.float64)
        np.testing.assert_allclose(got, ref.iloc[:, 1:].to_numpy(np.float64), rtol=0, atol=1e-6)
        np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-12)
    else:
        got = out["predict"].to_numpy(dtype=np.float64)
        np.testing.assert_allclose(got, ref["predict"].to_numpy(np.float64), rtol=0, atol=1e-6)
        assert np.ptp(got) > 0  # not a constant: inputs really reach the network


AUTOENCODERS = ["ae_Tanh", "ae_Rectifier"]


@pytest.mark.parametrize("name", AUTOENCODERS)
def test_java_autoencoder_matches_reconstruction(exported, name):
    model, frame = exported["models"][name]
    assert model.task_ == "autoencoder"
    assert model.state_.spec.activation == name.split("_")[1]
    ref = model.predict(frame)                          # missing values and unseen levels
    res = _run(exported, name, _csv_for_java(frame, np.random.default_rng(7)))
    assert res.returncode == 0, res.stderr
    header = next(csv_module.reader(io.StringIO(res.stdout)))   # names with commas, quotes
    assert header == list(ref.columns)
    assert list(ref.columns) == [f"reconstr_{n}" for n in model.data_info_.input_names]
    out = pd.read_csv(io.StringIO(res.stdout))
    assert list(out.columns) == list(ref.columns) and len(out) == len(ref)
    got = out.to_numpy(dtype=np.float64)
    np.testing.assert_allclose(got, ref.to_numpy(np.float64), rtol=0, atol=1e-6)
    assert np.ptp(got, axis=0).max() > 0               # the inputs reach the network


def test_autoencoder_score0_api_and_all_missing_row(exported):
    model, frame = exported["models"]["ae_Tanh"]
    res = subprocess.run(["java", "-cp", str(exported["dir"]), "ProbeAE"], capture_output=True,
                         text=True, timeout=60, check=True)
    info_line, preds = res.stdout.strip().splitlines()
    n_inputs = model.data_info_.n_inputs
    assert info_line == f"AutoEncoder true {n_inputs} true"
    empty = pd.DataFrame({  # one row, every value missing
        c: [np.nan] if pd.api.types.is_numeric_dtype(frame[c]) else pd.Series([None], dtype=object)
        for c in frame.columns})
    ref = model.predict(empty).to_numpy()[0]
    got = np.array([float(v) for v in preds.split()])
    assert got.shape == (n_inputs,)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)


def test_models_cover_the_requested_features(exported):
    m = {k: v[0] for k, v in exported["models"].items()}
    assert m["mnist_size"].state_.spec.units == (784, 200, 200, 10)
    assert m["poisson_maxout"].state_.spec.activation == "Maxout"
    assert m["gaussian_tanh_dropout"].state_.spec.activation == "TanhWithDropout"
    assert m["hashing"].data_info_.hashing
    assert m["offset_gaussian"].data_info_.response_mean is not None  # standardised offset
    assert len(m["binomial"].classes_) == 2 and len(m["multinomial"].classes_) == 3
    assert m["numpy"].data_info_.used_columns == ["C1", "C2", "C3", "C4"]
    assert "flag" in m["binomial"].data_info_.used_columns
    assert m["enc_Binary"].data_info_.transform_type == "DESCALE"
    assert m["enc_Eigen"].data_info_.transform_type == "NONE"
    assert m["enc_EnumLimited"].data_info_.cat_levels["grp"][-1] == "other"


def test_missing_column_exits_2(exported):
    _, frame = exported["models"]["binomial"]
    res = _run(exported, "binomial", frame.drop(columns=["x 2"]).to_csv(index=False))
    assert res.returncode == 2
    assert '"x 2"' in res.stderr
    _, frame = exported["models"]["offset_gaussian"]
    res = _run(exported, "offset_gaussian", frame.drop(columns=["off"]).to_csv(index=False))
    assert res.returncode == 2 and '"off"' in res.stderr


def test_score0_api_and_all_missing_row(exported):
    model, frame = exported["models"]["binomial"]
    res = subprocess.run(["java", "-cp", str(exported["dir"]), "Probe"], capture_output=True,
                         text=True, timeout=60, check=True)
    sizes, names, preds = res.stdout.strip().splitlines()
    n_names = len(model.data_info_.used_columns)
    assert sizes == f"{n_names} {n_names + 1} true Binomial"
    assert names.split("|") == [str(c) for c in model.data_info_.used_columns]
    empty = pd.DataFrame({  # one row, every value missing
        c: [np.nan] if pd.api.types.is_numeric_dtype(frame[c]) else pd.Series([None], dtype=object)
        for c in frame.columns})
    ref = model._predict_pandas(empty, "proba").to_numpy()[0]
    label, p0, p1 = (float(v) for v in preds.split())
    np.testing.assert_allclose([p0, p1], ref, rtol=0, atol=1e-12)
    # a DeepLearningClassifier's labels are the arg-max (first class on a tie)
    assert label == float(p1 > p0)


def test_path_and_class_name_rules(exported, tmp_path):
    model, _ = exported["models"]["binomial"]
    default = export_java(model, tmp_path / "sub")
    assert default.parent == tmp_path / "sub" and default.suffix == ".java"
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", default.stem)
    assert not keyword.iskeyword(default.stem)
    assert f"public class {default.stem} " in default.read_text()
    named = export_java(model, tmp_path / "Scorer.java")
    assert named == tmp_path / "Scorer.java"
    with pytest.raises(ValueError, match="named after"):
        export_java(model, tmp_path / "Other.java", class_name="Scorer")
    for bad in ("1abc", "has-dash", "class"):
        with pytest.raises(ValueError, match="Java identifier"):
            export_java(model, tmp_path, class_name=bad)
    with pytest.raises(NotFittedError, match="fitted"):
        export_java(DeepLearningClassifier(), tmp_path)


def test_estimator_method_writes_a_compilable_class(tmp_path):
    import subprocess

    from sklearn.datasets import load_iris

    from dask_deeplearn import DeepLearningClassifier

    X, y = load_iris(return_X_y=True)
    clf = DeepLearningClassifier(hidden=[4], epochs=2, seed=1, reproducible=True,
                                 quiet_mode=True).fit(X, y)
    src = clf.export_java(tmp_path, class_name="IrisModel")
    assert src.name == "IrisModel.java"
    subprocess.run(["javac", "-d", str(tmp_path), str(src)], check=True)
    csv_in = "C1,C2,C3,C4\n" + "\n".join(",".join(repr(float(v)) for v in row) for row in X[:5])
    out = subprocess.run(["java", "-cp", str(tmp_path), "IrisModel"], input=csv_in,
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0].split(",")[0] == "predict"
    got = np.array([[float(v) for v in line.split(",")[1:]] for line in out[1:]])
    np.testing.assert_allclose(got, clf.predict_proba(X[:5]), atol=1e-6)
