"""``import_mojo``: H2O-3-trained Deep Learning MOJOs scored, exported and trained on here.

The MOJOs, the frames and H2O's predictions under ``tests/data/h2o_mojos/`` were made by
real H2O-3 3.46.0.11 (``make_mojos.py`` there): ``<name>.h2o.csv`` holds the cluster's
``model.predict``, ``<name>.genmodel.csv`` the MOJO scored by H2O's genmodel. No JVM is
needed here: the reader is pure Python.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dask_deeplearn as ddl
from dask_deeplearn import DeepLearningEstimator, ModelFileError

DATA = Path(__file__).resolve().parents[1] / "data" / "h2o_mojos"
MANIFEST = json.loads((DATA / "manifest.json").read_text())
MODELS = sorted(MANIFEST["models"])
PREDICTORS = ["x1", "x2", "x3", "c1", "c2"]


@pytest.fixture(scope="module")
def test_frame() -> pd.DataFrame:
    return pd.read_csv(DATA / "test.csv")


def _assert_h2o_equal(ours: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert list(ours.columns) == list(ref.columns)
    for c in ref.columns:
        if pd.api.types.is_numeric_dtype(ref[c]):
            np.testing.assert_allclose(ours[c].to_numpy(float), ref[c].to_numpy(float),
                                       rtol=0, atol=1e-6, err_msg=c)
        else:
            assert ours[c].astype(str).tolist() == ref[c].astype(str).tolist(), c


def test_the_fixtures_cover_the_cases_and_stay_small(test_frame):
    kinds = {MANIFEST["models"][m]["params"].get("activation") for m in MODELS}
    assert {"Rectifier", "TanhWithDropout", "Maxout", "RectifierWithDropout", "Tanh",
            "MaxoutWithDropout"} <= kinds
    assert all((DATA / f"{m}.zip").stat().st_size < 200_000 for m in MODELS)
    # missing values, a whole row of missing numbers and unseen levels in the test frame
    assert test_frame[PREDICTORS].isna().any().all()
    assert "zzz" in set(test_frame["c1"]) and "unseen" in set(test_frame["c2"])


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("source", ["h2o", "genmodel"])
def test_predictions_equal_h2o(name, source, test_frame):
    model = ddl.import_mojo(DATA / f"{name}.zip")
    assert isinstance(model, DeepLearningEstimator)
    ref = pd.read_csv(DATA / f"{name}.{source}.csv")
    _assert_h2o_equal(model.predict(test_frame), ref)


@pytest.mark.parametrize("name", MODELS)
def test_imported_record(name):
    model = ddl.import_mojo(DATA / f"{name}.zip")
    record = MANIFEST["models"][name]
    assert model.model_id == name
    assert model.epochs_ == pytest.approx(record["epochs"])
    assert model.n_iter_ == record["iterations"]
    assert model.scoring_history()["epochs"].iloc[-1] == pytest.approx(record["epochs"])
    for key in ("activation", "hidden", "epochs", "seed"):
        want = record["params"][key]
        got = model.get_params()[key]
        assert (list(got) if key == "hidden" else got) == want, key
    if "autoencoder" not in name:
        assert model.response_column_ == record["response"]


def test_binomial_threshold_and_metrics():
    model = ddl.import_mojo(DATA / "binomial_rectifier.zip")
    ini = zipfile.ZipFile(DATA / "binomial_rectifier.zip").read("model.ini").decode()
    threshold = float(next(l for l in ini.splitlines()
                           if l.startswith("default_threshold")).split("=")[1])
    assert model.threshold_ == pytest.approx(threshold)
    perf = model.model_performance(train=True)
    assert 0.5 < perf.auc < 1.0 and perf.nobs == 400


def test_dask_dataframe_and_score_parquet(client, test_frame, tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    for name in ("binomial_tanh_dropout", "regression_poisson", "multinomial_maxout"):
        model = ddl.import_mojo(DATA / f"{name}.zip")
        ref = pd.read_csv(DATA / f"{name}.h2o.csv")
        ddf = dd.from_pandas(test_frame, npartitions=3)
        with client.as_current():
            lazy = model.predict(ddf)
            assert hasattr(lazy, "dask")
            _assert_h2o_equal(lazy.compute().reset_index(drop=True), ref)
        src = tmp_path / f"{name}-in"
        ddf.to_parquet(src)
        out = ddl.score_parquet(model, src, tmp_path / f"{name}-out", client=client)
        scored = pd.read_parquet(out).reset_index(drop=True)
        _assert_h2o_equal(scored, ref)  # H2O's prediction frame, one file per partition
        assert len(list(Path(out).glob("part.*.parquet"))) == 3


@pytest.mark.parametrize("name", ["binomial_balanced", "multinomial_maxout", "regression_tanh",
                                  "autoencoder_tanh"])
def test_export_python_matches_h2o(name, test_frame, tmp_path):
    model = ddl.import_mojo(DATA / f"{name}.zip")
    path = model.export_python(tmp_path / f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"mojo_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = {c: test_frame[c].tolist() for c in PREDICTORS}
    ref = pd.read_csv(DATA / f"{name}.genmodel.csv")
    if name.startswith("regression"):
        got = np.asarray(mod.predict(rows), dtype=float)
        np.testing.assert_allclose(got, ref["predict"].to_numpy(float), atol=1e-6)
    elif name.startswith("autoencoder"):
        got = np.asarray(mod.predict(rows), dtype=float)
        np.testing.assert_allclose(got, ref.to_numpy(float), atol=1e-6)
    else:
        got = np.asarray(mod.predict_proba(rows), dtype=float)
        np.testing.assert_allclose(got, ref.drop(columns="predict").to_numpy(float), atol=1e-6)
        assert [str(v) for v in mod.predict(rows)] == ref["predict"].astype(str).tolist()


def test_save_and_load_keep_the_predictions(test_frame, tmp_path):
    model = ddl.import_mojo(DATA / "multinomial_rectifier_dropout.zip")
    back = ddl.load_model(model.save(tmp_path / "imported.zip"))
    pd.testing.assert_frame_equal(back.predict(test_frame), model.predict(test_frame))


def test_continue_training_counts_epochs_from_the_mojo(test_frame):
    train = pd.read_csv(DATA / "train.csv")
    model = ddl.import_mojo(DATA / "binomial_rectifier.zip")
    params = {**model.get_params(), "checkpoint": model, "quiet_mode": True}
    with pytest.raises(ddl.InvalidParameterError, match="greater than the 3 epochs"):
        DeepLearningEstimator(**{**params, "epochs": 3}).train(
            x=PREDICTORS, y="yes_no", training_frame=train)
    more = DeepLearningEstimator(**{**params, "epochs": 5}).train(
        x=PREDICTORS, y="yes_no", training_frame=train)
    assert more.epochs_ == pytest.approx(5.0)
    history = more.scoring_history()
    # H2O's four rows (epochs 0..3) continued by ours up to 5 epochs, samples carried on
    np.testing.assert_allclose(history["epochs"].iloc[:4], [0, 1, 2, 3])
    assert history["epochs"].iloc[-1] == pytest.approx(5.0)
    assert history["samples"].iloc[-1] == pytest.approx(5 * len(train))
    assert not np.array_equal(more.model_.state.W, model.model_.state.W)
    assert more.predict(test_frame).shape == (len(test_frame), 3)
    # the MOJO's weights were the start: one more sample of training moves them a little
    assert np.abs(more.model_.state.W - model.model_.state.W).max() < 1.0


def test_another_algorithm_is_refused():
    with pytest.raises(ModelFileError, match=r"algorithm 'gbm'.*Deep Learning MOJOs only"):
        ddl.import_mojo(DATA / "gbm.zip")


def _rewritten(tmp_path: Path, name: str, old: str, new: str) -> Path:
    out = tmp_path / f"changed-{name}.zip"
    with zipfile.ZipFile(DATA / f"{name}.zip") as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "model.ini":
                text = data.decode()
                assert old in text
                data = text.replace(old, new).encode()
            dst.writestr(item, data)
    return out


def test_unsupported_version_is_refused(tmp_path):
    path = _rewritten(tmp_path, "binomial_rectifier", "mojo_version = 1.10", "mojo_version = 2.50")
    with pytest.raises(ModelFileError, match=r"version '?2.50'?.*reads MOJO versions 1.00, 1.10"):
        ddl.import_mojo(path)


def test_unsupported_activation_and_damaged_files(tmp_path):
    path = _rewritten(tmp_path, "regression_tanh", "activation = Tanh",
                      "activation = ExpRectifier")
    with pytest.raises(ModelFileError, match="ExpRectifier"):
        ddl.import_mojo(path)
    cut = _rewritten(tmp_path, "regression_tanh", "neural_network_sizes = [",
                     "neural_network_sizes = [1, ")
    with pytest.raises(ModelFileError, match="inputs|values"):
        ddl.import_mojo(cut)
    (tmp_path / "not.zip").write_bytes(b"not a zip")
    with pytest.raises(ModelFileError, match="not an H2O MOJO"):
        ddl.import_mojo(tmp_path / "not.zip")
    with pytest.raises(FileNotFoundError):
        ddl.import_mojo(tmp_path / "absent.zip")


def test_an_unpacked_mojo_folder_reads_the_same(tmp_path, test_frame):
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(DATA / "regression_poisson.zip") as z:
        z.extractall(folder)
    a = ddl.import_mojo(folder).predict(test_frame)
    b = ddl.import_mojo(DATA / "regression_poisson.zip").predict(test_frame)
    pd.testing.assert_frame_equal(a, b)
    shutil.rmtree(folder)


@pytest.mark.skipif(not (shutil.which("javac") and shutil.which("java")),
                    reason="export_java needs a JDK (javac and java) to compile and run")
@pytest.mark.parametrize("name", ["multinomial_maxout", "regression_rectifier_nostd"])
def test_export_java_matches_h2o(name, test_frame, tmp_path):
    import subprocess

    model = ddl.import_mojo(DATA / f"{name}.zip")
    src = model.export_java(tmp_path, class_name="Imported")
    subprocess.run(["javac", "-d", str(tmp_path), str(src)], check=True)
    csv_in = test_frame[PREDICTORS].to_csv(index=False, na_rep="")
    out = subprocess.run(["java", "-cp", str(tmp_path), "Imported"], input=csv_in,
                         capture_output=True, text=True, check=True).stdout.splitlines()
    ref = pd.read_csv(DATA / f"{name}.genmodel.csv")
    got = pd.DataFrame([line.split(",") for line in out[1:]], columns=out[0].split(","))
    assert len(got) == len(ref)
    for c in [c for c in ref.columns if c != "predict"] or ["predict"]:
        np.testing.assert_allclose(got[c].astype(float), ref[c].to_numpy(float), atol=1e-6)
    if not pd.api.types.is_numeric_dtype(ref["predict"]):
        assert got["predict"].tolist() == ref["predict"].astype(str).tolist()
