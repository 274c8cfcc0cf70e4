"""MOJO and POJO export checked by H2O's own scorer (h2o-genmodel, from the ``h2o`` wheel).

Our MOJO zip is loaded by ``hex.genmodel.MojoModel.load`` and our POJO (compiled against
the wheel's ``h2o.jar``) by class name; both are scored through ``EasyPredictModelWrapper``
by a small Java driver compiled once per session (``java/GenmodelScore.java``), on rows
with categorical, missing and unseen values, and compared with our ``predict`` /
``predict_proba``.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dask_deeplearn import (DeepLearningAutoEncoder, DeepLearningClassifier,
                            DeepLearningEstimator, DeepLearningRegressor)
from dask_deeplearn.export.mojo import genmodel_jar, write_mojo

needs_jdk = pytest.mark.skipif(
    shutil.which("javac") is None or shutil.which("java") is None,
    reason="needs a JDK (javac and java on PATH) to run h2o-genmodel")

DRIVER = Path(__file__).parent / "java" / "GenmodelScore.java"


@pytest.fixture(scope="session")
def genmodel(tmp_path_factory):
    """``(jar, classes folder)``: the driver compiled once against the wheel's h2o.jar."""
    jar = genmodel_jar()
    out = tmp_path_factory.mktemp("genmodel-driver")
    subprocess.run(["javac", "-nowarn", "-cp", str(jar), "-d", str(out), str(DRIVER)],
                   check=True, capture_output=True)
    return jar, out


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "x1": rng.normal(size=n),
        "x2": rng.normal(5.0, 2.0, size=n),
        "c1": rng.choice(["a", "b", 'q"uote', "d\\e"], size=n),
        "c2": rng.choice(["u", "v"], size=n),
    })
    df.loc[::7, "x1"] = np.nan
    df.loc[::11, "c1"] = None
    return df


TRAIN = _frame(300, 0)
#: scoring rows: missing numerics and levels, and levels never seen in training
TEST = _frame(40, 1)
TEST.loc[3, "c1"] = "never-seen"
TEST.loc[4, "c2"] = "new"
TEST.loc[5, ["x2", "c2"]] = [np.nan, None]
Y_BIN = np.where(TRAIN.x2.fillna(0) + (TRAIN.c1 == "a") > 5, "yes", "no")
Y_MULTI = np.random.default_rng(2).choice(["p", "q", "r"], size=len(TRAIN))
Y_REG = TRAIN.x2 * 3.0 + np.random.default_rng(3).normal(size=len(TRAIN)) + 10.0


def _genmodel_scores(genmodel, kind: str, what: str, frame: pd.DataFrame,
                     extra_cp: Path | None = None) -> tuple[str, list[list[str]]]:
    jar, classes = genmodel
    cp = [str(jar), str(classes)] + ([str(extra_cp)] if extra_cp else [])
    # tab-separated, unquoted (no level holds a tab or a newline); missing -> empty
    cells = frame.astype(object).where(frame.notna(), "")
    text = "\n".join("\t".join(map(str, r)) for r in [list(frame.columns), *cells.values]) + "\n"
    run = subprocess.run(["java", "-cp", ":".join(cp), "GenmodelScore", kind, what],
                         input=text, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.rstrip("\n").split("\n")
    return lines[0], [line.split("\t") for line in lines[1:]]


def _fit(case: str, **extra):
    if case == "binomial":  # H2O's face: labels by the max-F1 threshold
        est = DeepLearningEstimator(hidden=[8, 5], epochs=2, seed=1, quiet_mode=True, **extra)
        est.train(y="y", training_frame=TRAIN.assign(y=pd.Categorical(Y_BIN)))
    elif case == "multinomial":
        est = DeepLearningClassifier(hidden=[6], activation="TanhWithDropout",
                                     hidden_dropout_ratios=[0.2], epochs=2, seed=1,
                                     use_all_factor_levels=False, quiet_mode=True, **extra)
        est.fit(TRAIN, Y_MULTI)
    elif case == "regression":  # standardised response, Maxout layout
        est = DeepLearningRegressor(hidden=[7], activation="Maxout", epochs=2, seed=1,
                                    quiet_mode=True, **extra).fit(TRAIN, Y_REG)
    elif case == "regression-unstandardized":  # missing numerics: the mean, folded in
        est = DeepLearningRegressor(hidden=[7], epochs=2, seed=1, standardize=False,
                                    quiet_mode=True).fit(TRAIN, Y_REG)
    elif case == "sort-by-response":  # levels written in the encoded order
        est = DeepLearningClassifier(hidden=[4], epochs=2, seed=1, quiet_mode=True,
                                     categorical_encoding="SortByResponse").fit(TRAIN, Y_BIN)
    elif case == "poisson":
        est = DeepLearningRegressor(hidden=[5], epochs=2, seed=1, distribution="poisson",
                                    quiet_mode=True).fit(TRAIN, np.round(np.abs(Y_REG)))
    else:  # pragma: no cover
        raise AssertionError(case)
    return est


def _compare(est, category: str, rows: list[list[str]]) -> None:
    model = est.model_
    if model.task == "classification":
        assert category == ("Binomial" if model.binomial else "Multinomial")
        if isinstance(est, DeepLearningEstimator):
            pred = est.predict(TEST)
            proba, labels = pred.iloc[:, 1:].to_numpy(), pred["predict"].astype(str).tolist()
        else:
            proba, labels = np.asarray(est.predict_proba(TEST)), [str(v) for v in est.predict(TEST)]
        got = np.array([[float(v) for v in r[1:]] for r in rows])
        np.testing.assert_allclose(got, proba, rtol=0, atol=1e-6)
        assert [r[0] for r in rows] == labels
    else:
        assert category == "Regression"
        got = np.array([float(r[0]) for r in rows])
        np.testing.assert_allclose(got, np.asarray(est.predict(TEST), dtype=float),
                                   rtol=1e-6, atol=1e-6)


@needs_jdk
@pytest.mark.parametrize("case", ["binomial", "multinomial", "regression",
                                  "regression-unstandardized", "poisson",
                                  "sort-by-response"])
def test_mojo_scored_by_genmodel_matches_predict(genmodel, tmp_path, case):
    est = _fit(case)
    path = Path(est.download_mojo(str(tmp_path)))
    assert path.parent == tmp_path and path.suffix == ".zip"
    category, rows = _genmodel_scores(genmodel, "mojo", str(path), TEST)
    assert len(rows) == len(TEST)
    _compare(est, category, rows)


@needs_jdk
def test_mojo_predict_pandas_of_h2o_scores_our_mojo(genmodel, tmp_path):
    import h2o

    est = _fit("binomial")
    path = est.save_mojo(str(tmp_path), filename="bin.zip")
    jar, _ = genmodel
    # PredictCsv's CSV reader takes a backslash for an escape: rows without one
    rows = TEST[~TEST.c1.fillna("").str.contains("\\", regex=False)]
    got = h2o.mojo_predict_pandas(rows, path, genmodel_jar_path=str(jar))
    pred = est.predict(rows)
    np.testing.assert_allclose(got[["no", "yes"]].to_numpy(dtype=float),
                               pred[["no", "yes"]].to_numpy(), atol=1e-6, rtol=0)
    assert got["predict"].astype(str).tolist() == pred["predict"].astype(str).tolist()


@needs_jdk
def test_autoencoder_mojo_reconstruction_matches_predict(genmodel, tmp_path):
    ae = DeepLearningAutoEncoder(hidden=[3], activation="Tanh", epochs=2, seed=1,
                                 quiet_mode=True).fit(TRAIN)
    path = write_mojo(ae.model_, tmp_path / "ae.zip")
    category, rows = _genmodel_scores(genmodel, "mojo", str(path), TEST)
    assert category == "AutoEncoder"
    got = np.array([[float(v) for v in r] for r in rows])
    np.testing.assert_allclose(got, np.asarray(ae.predict(TEST), dtype=float),
                               atol=1e-6, rtol=1e-6)


@needs_jdk
@pytest.mark.parametrize("case", ["binomial", "multinomial", "regression"])
def test_pojo_compiled_against_genmodel_scores_through_easy_predict(genmodel, tmp_path, case):
    est = _fit(case, model_id=f"dl-{case}.v1")
    java = Path(est.download_pojo(str(tmp_path)))
    assert java.name == f"dl_{case}_v1.java"  # the id made a Java identifier, as H2O does
    jar, _ = genmodel
    subprocess.run(["javac", "-nowarn", "-cp", str(jar), "-d", str(tmp_path), str(java)],
                   check=True, capture_output=True)
    category, rows = _genmodel_scores(genmodel, "pojo", java.stem, TEST, extra_cp=tmp_path)
    _compare(est, category, rows)


def test_export_java_stays_free_of_genmodel(tmp_path):
    est = _fit("binomial")
    src = est.export_java(tmp_path).read_text()
    assert "hex.genmodel" not in src and "extends" not in src.split("{", 1)[0]
    pojo = Path(est.download_pojo(str(tmp_path / "pojo"))).read_text()
    assert "extends hex.genmodel.GenModel" in pojo


def test_mojo_files_never_replace_what_is_there(tmp_path):
    est = _fit("regression")
    first = est.download_mojo(str(tmp_path))
    with pytest.raises(FileExistsError, match="force=True"):
        est.download_mojo(str(tmp_path))
    foreign = tmp_path / "notes.zip"
    foreign.write_bytes(b"not a mojo")
    with pytest.raises(FileExistsError, match="not a MOJO"):
        est.save_mojo(str(tmp_path), force=True, filename="notes.zip")
    assert foreign.read_bytes() == b"not a mojo"
    again = est.save_mojo(str(tmp_path), force=True, filename=Path(first).name)
    assert again == first and zipfile.ZipFile(again).read("model.ini").startswith(b"[info]")
    with pytest.raises(ValueError, match="filename"):
        est.save_mojo(str(tmp_path), filename="../up.zip")
    java = est.download_pojo(str(tmp_path))
    with pytest.raises(FileExistsError, match="never replaced"):
        est.download_pojo(str(tmp_path))
    assert Path(java).is_file()


def test_mojo_refuses_what_genmodel_cannot_express(tmp_path):
    frame = TRAIN.assign(off=0.1)
    with_offset = DeepLearningRegressor(hidden=[3], epochs=1, seed=1, offset_column="off",
                                        quiet_mode=True).fit(frame, Y_REG)
    with pytest.raises(NotImplementedError, match="offset_column='off'"):
        with_offset.download_mojo(str(tmp_path))
    binary = DeepLearningRegressor(hidden=[3], epochs=1, seed=1, categorical_encoding="Binary",
                                   quiet_mode=True).fit(TRAIN, Y_REG)
    with pytest.raises(NotImplementedError, match="categorical_encoding='Binary'"):
        binary.download_mojo(str(tmp_path))
    hashed = DeepLearningRegressor(hidden=[3], epochs=1, seed=1, max_categorical_features=2,
                                   quiet_mode=True).fit(TRAIN, Y_REG)
    with pytest.raises(NotImplementedError, match="max_categorical_features=2"):
        hashed.download_mojo(str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_cli_export_format_mojo(tmp_path, capsys):
    from dask_deeplearn.cli import main

    est = _fit("multinomial")
    saved = est.save(tmp_path / "m.zip")
    assert main(["export", "--model", str(saved), "--format", "mojo",
                 "--output", str(tmp_path / "m-mojo.zip")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "m-mojo.zip")
    ini = zipfile.ZipFile(tmp_path / "m-mojo.zip").read("model.ini").decode()
    assert "algorithm = Deep Learning" in ini and "category = Multinomial" in ini
    assert main(["export", "--model", str(saved), "--format", "mojo",
                 "--output", str(tmp_path / "m-mojo.zip")]) != 0
