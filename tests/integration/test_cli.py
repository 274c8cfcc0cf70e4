"""The ``dask-deeplearn`` command line: train, predict, export, info, errors.

Most cases call :func:`dask_deeplearn.cli.main` in this process; one runs
``python -m dask_deeplearn.cli --help`` as a subprocess. One tiny model is trained once
(module fixture) and shared; the embedded Dask cluster is started once (Parquet scoring),
and ``train --scheduler`` uses an in-process ``LocalCluster``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dask_deeplearn import DeepLearningEstimator, load_model
from dask_deeplearn.cli import CLIError, load_params, main, parse_param

REPO = Path(__file__).resolve().parents[2]
TINY_PARAMS = ["--param", "hidden=[4]", "--param", "epochs=2", "--param", "seed=1",
               "--param", "reproducible=true"]

# --------------------------------------------------------------------------- helpers


def _frame(n: int, seed: int) -> pd.DataFrame:
    """Numeric, integer-coded categorical and string columns, a string response."""
    rng = np.random.default_rng(seed)
    num = rng.normal(size=n)
    cat = rng.choice([1, 2, 3], n)
    label = np.where(num + 0.7 * (cat == 2) + rng.normal(0, 0.5, n) > 0.2, "yes", "no")
    return pd.DataFrame({"id": np.arange(n) + 1000, "num": num, "cat": cat,
                         "noise": rng.normal(size=n), "label": label,
                         "score": 2.0 * num + rng.normal(0, 0.1, n)})


def _run(argv: list[str]) -> tuple[int, str, str]:
    """``main(argv)`` with stdout and stderr captured (usable in module fixtures)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


def _import(path: Path) -> Any:
    name = f"cli_scorer_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def _assert_same_predictions(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert list(got.columns) == list(ref.columns)
    assert got["predict"].astype(str).tolist() == ref["predict"].astype(str).tolist()
    np.testing.assert_allclose(got.iloc[:, 1:].to_numpy(np.float64),
                               ref.iloc[:, 1:].to_numpy(np.float64), rtol=1e-12, atol=0)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> dict[str, Any]:
    """Data files and one model trained by ``dask-deeplearn train`` from CSV."""
    d = tmp_path_factory.mktemp("cli")
    train, test = _frame(150, 0), _frame(40, 1)
    train.to_csv(d / "train.csv", index=False)
    test.to_csv(d / "test.csv", index=False)
    (d / "pq").mkdir()
    test.iloc[:20].to_parquet(d / "pq" / "a.parquet", index=False)
    test.iloc[20:].to_parquet(d / "pq" / "b.parquet", index=False)
    (d / "params.json").write_text(json.dumps({"epochs": 2, "seed": 1, "reproducible": True,
                                               "activation": "Tanh"}))
    model = d / "model.zip"
    rc, out, err = _run(["train", "--train", str(d / "train.csv"), "--y", "label",
                         "--x", "num", "cat", "--categorical", "cat",
                         "--valid", str(d / "test.csv"), "--output", str(model),
                         "--params", str(d / "params.json"), "--param", "hidden=[4]",
                         "--param", "input_dropout_ratio=0.0"])
    return {"dir": d, "model": model, "rc": rc, "out": out, "err": err, "test": test}


# --------------------------------------------------------------------------- train / info


def test_train_into_a_folder_writes_the_generated_model_id(work, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    rc, out, err = _run(["train", "--train", str(work["dir"] / "train.csv"), "--y", "label",
                         "--x", "num", "--output", str(folder), *TINY_PARAMS])
    assert rc == 0, err
    key = next(line.split(": ", 1)[1] for line in out.splitlines()
               if line.startswith("Model key: "))
    assert re.fullmatch(r"DeepLearning_model_python_\d+_\d+", key), key
    assert os.listdir(folder) == [f"{key}.zip"]
    assert load_model(folder / f"{key}.zip").model_id == key


def test_train_from_csv(work):
    assert work["rc"] == 0, work["err"]
    out = work["out"]
    assert "Scoring history" in out and "train_logloss" in out  # short headers
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "Training metrics:" in out and "ModelMetricsBinomial" in out
    assert "Validation metrics:" in out
    assert f"Model saved to {work['model']}" in out
    assert "DeepLearningEstimator: 100%" in work["err"]  # the progress bar kept
    model = load_model(work["model"])
    assert isinstance(model, DeepLearningEstimator)
    assert model.task_ == "classification"
    assert f"Model key: {model.model_id}" in out
    assert list(model.params_["hidden"]) == [4]  # --param, JSON list
    assert model.params_["activation"] == "Tanh"  # --params file
    assert model.epochs_ == pytest.approx(2.0)
    assert model.data_info_.used_columns == ["num", "cat"]  # --x
    assert "cat" in model.data_info_.cat_columns  # --categorical
    assert "num" not in model.data_info_.cat_columns


def test_info(work, capsys):
    assert main(["info", "--model", str(work["model"])]) == 0
    out = capsys.readouterr().out
    for text in ("DeepLearningEstimator", "classification", "bernoulli", "weights/biases",
                 "Input columns: num, cat", "Classes:       no, yes", "Epochs:        2",
                 "Stop reason", "Scoring history", "Training metrics:", "Validation metrics:"):
        assert text in out, text
    assert "ModelMetricsBinomial" in out and "valid_logloss" in out
    assert max(len(line) for line in out.splitlines()) <= 100, out


def test_info_predict_and_export_load_no_sklearn_numba_free_cli_import(work, tmp_path):
    # a fresh interpreter: the command module imports neither scikit-learn, Numba nor
    # distributed; the commands that only read a model never import scikit-learn
    probe = ("import sys, runpy; sys.argv = ['dask-deeplearn'] + sys.argv[1:]\n"
             "import dask_deeplearn.cli\n"
             "early = [m for m in ('sklearn', 'numba', 'distributed', 'pandas') "
             "if m in sys.modules]\n"
             "code = dask_deeplearn.cli.main(sys.argv[1:])\n"
             "print('EARLY', early, 'SKLEARN', 'sklearn' in sys.modules, file=sys.stderr)\n"
             "sys.exit(code)")
    commands = {
        "info": ["info", "--model", str(work["model"])],
        "predict": ["predict", "--model", str(work["model"]), "--input",
                    str(work["dir"] / "test.csv"), "--output", str(tmp_path / "p.csv")],
        "export": ["export", "--model", str(work["model"]), "--format", "python",
                   "--output", str(tmp_path / "s.py")],
    }
    for name, argv in commands.items():
        proc = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True,
                              text=True, timeout=300, cwd=REPO)
        assert proc.returncode == 0, (name, proc.stderr[-2000:])
        assert "EARLY [] SKLEARN False" in proc.stderr, (name, proc.stderr[-2000:])


def test_cli_label_rules_are_the_estimator_classes_own():
    from dask_deeplearn.cli._files import LABEL_RULES
    from dask_deeplearn.estimators._load import _estimator_classes

    assert LABEL_RULES == {name: cls._label_rule for name, cls in _estimator_classes().items()}


def test_train_regression_quiet_and_yaml(work, tmp_path, capsys):
    yaml = pytest.importorskip("yaml")
    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({"hidden": [4], "epochs": 1, "seed": 1,
                                      "reproducible": True}))
    out_dir = tmp_path / "reg_model"
    rc = main(["train", "--train", str(work["dir"] / "train.csv"), "--y", "score",
               "--x", "num", "noise", "--params", str(params), "--output", str(out_dir),
               "--quiet"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "ModelMetricsRegression" in captured.out
    assert "epochs" not in captured.err  # --quiet: no progress lines
    model = load_model(out_dir)
    assert model.task_ == "regression" and model.params_["quiet_mode"] is True
    # an existing model is replaced only with --overwrite
    argv = ["train", "--train", str(work["dir"] / "train.csv"), "--y", "score", "--quiet",
            "--output", str(out_dir), *TINY_PARAMS]
    assert main(argv) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main([*argv, "--overwrite"]) == 0


def test_train_on_scheduler_with_classification(work, tmp_path, capsys):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster:
        rc = main(["train", "--train", str(work["dir"] / "pq"), "--y", "cat",
                   "--classification", "--x", "num", "noise", "--output",
                   str(tmp_path / "m.zip"), "--scheduler", cluster.scheduler_address,
                   "--quiet", *TINY_PARAMS])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "ModelMetricsMultinomial" in captured.out
    model = load_model(tmp_path / "m.zip")
    assert model.backend_ == "dask"
    assert [int(c) for c in model.classes_] == [1, 2, 3]


# --------------------------------------------------------------------------- predict


def test_predict_csv_matches_in_process(work, tmp_path, capsys):
    dst = tmp_path / "pred.csv"
    rc = main(["predict", "--model", str(work["model"]), "--input",
               str(work["dir"] / "test.csv"), "--output", str(dst), "--keep", "id"])
    assert rc == 0, capsys.readouterr().err
    assert f"40 predictions written to {dst}" in capsys.readouterr().out
    got = pd.read_csv(dst)
    frame = pd.read_csv(work["dir"] / "test.csv")
    ref = load_model(work["model"]).predict(frame)
    assert list(got.columns) == ["id", "predict", "no", "yes"]
    assert got["id"].tolist() == frame["id"].tolist()
    _assert_same_predictions(got.drop(columns="id"), ref)
    # the output exists now: refused without --overwrite, replaced with it
    argv = ["predict", "--model", str(work["model"]), "--input",
            str(work["dir"] / "test.csv"), "--output", str(dst)]
    assert main(argv) == 2
    assert "exists; pass --overwrite" in capsys.readouterr().err
    assert main([*argv, "--overwrite"]) == 0
    assert list(pd.read_csv(dst).columns) == ["predict", "no", "yes"]


def test_predict_parquet_on_embedded_cluster(work, tmp_path, capsys):
    dst = tmp_path / "pred_pq"
    rc = main(["predict", "--model", str(work["model"]), "--input", str(work["dir"] / "pq"),
               "--output", str(dst), "--keep", "id"])
    assert rc == 0, capsys.readouterr().err
    assert "Predictions written to" in capsys.readouterr().out
    assert sorted(p.name for p in dst.iterdir())[0] == "part.00000.parquet"
    got = pd.read_parquet(dst).sort_values("id").reset_index(drop=True)
    frame = pd.read_parquet(work["dir"] / "pq").sort_values("id").reset_index(drop=True)
    ref = load_model(work["model"]).predict(frame)
    assert got["id"].tolist() == frame["id"].tolist()
    _assert_same_predictions(got.drop(columns="id"), ref)


# --------------------------------------------------------------------------- export


def test_export_python(work, tmp_path, capsys):
    dst = tmp_path / "scorer.py"
    assert main(["export", "--model", str(work["model"]), "--format", "python",
                 "--output", str(dst)]) == 0
    assert capsys.readouterr().out.strip() == str(dst)
    mod = _import(dst)
    frame = work["test"]
    ref = load_model(work["model"]).predict(frame)
    rows = {c: frame[c].to_numpy() for c in mod.COLUMNS}
    assert [str(v) for v in mod.predict(rows)] == ref["predict"].astype(str).tolist()
    np.testing.assert_allclose(mod.predict_proba(rows), ref[["no", "yes"]].to_numpy(),
                               rtol=0, atol=1e-9)


def test_export_java(work, tmp_path, capsys):
    assert main(["export", "--model", str(work["model"]), "--format", "java",
                 "--output", str(tmp_path), "--class-name", "CliModel"]) == 0
    src = Path(capsys.readouterr().out.strip())
    assert src == tmp_path / "CliModel.java" and src.is_file()
    if shutil.which("javac") is None or shutil.which("java") is None:
        pytest.skip("no JDK: the Java source is written but not compiled")
    subprocess.run(["javac", "-nowarn", "-d", str(tmp_path), str(src)], check=True,
                   capture_output=True, timeout=120)
    res = subprocess.run(["java", "-cp", str(tmp_path), "CliModel"],
                         input=(work["dir"] / "test.csv").read_text(), capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    got = pd.read_csv(io.StringIO(res.stdout), dtype={"predict": str})
    ref = load_model(work["model"]).predict(work["test"])
    assert got["predict"].tolist() == ref["predict"].astype(str).tolist()
    np.testing.assert_allclose(got[["no", "yes"]].to_numpy(), ref[["no", "yes"]].to_numpy(),
                               rtol=0, atol=1e-6)


# --------------------------------------------------------------------------- errors


def _error_cases(d: Path, model: Path) -> dict[str, tuple[list[str], str]]:
    """name -> (argv, text the one-line message must contain)."""
    train = ["train", "--train", str(d / "train.csv"), "--y", "label", "--output",
             str(d / "never.zip")]
    csv_out = str(d / "never.csv")
    return {
        "missing_train_file": (["train", "--train", str(d / "nope.csv"), "--y", "label",
                                "--output", str(d / "never.zip")], "nope.csv does not exist"),
        "missing_input_file": (["predict", "--model", str(model), "--input",
                                str(d / "nope.parquet"), "--output", csv_out],
                               "nope.parquet does not exist"),
        "missing_model": (["info", "--model", str(d / "nope.zip")], "nope.zip does not exist"),
        "corrupted_model": (["info", "--model", str(d / "corrupt.zip")], "corrupt.zip"),
        "truncated_model": (["predict", "--model", str(d / "truncated.zip"), "--input",
                             str(d / "test.csv"), "--output", csv_out], "truncated.zip"),
        "unreadable_csv": (["predict", "--model", str(model), "--input", str(d / "broken.csv"),
                            "--output", csv_out], "cannot read CSV"),
        "unknown_format": (["predict", "--model", str(model), "--input", str(d / "data.txt"),
                            "--output", csv_out], "cannot tell the format"),
        "unknown_x_column": ([*train, "--x", "num", "zz"], "'zz'"),
        "unknown_y_column": (["train", "--train", str(d / "train.csv"), "--y", "nope",
                              "--output", str(d / "never.zip")], "'nope'"),
        "unknown_keep_column": (["predict", "--model", str(model), "--input",
                                 str(d / "test.csv"), "--output", csv_out, "--keep", "zz"],
                                "'zz'"),
        "missing_model_column": (["predict", "--model", str(model), "--input",
                                  str(d / "no_num.csv"), "--output", csv_out], "'num'"),
        "bad_param_syntax": ([*train, "--param", "foo"], "bad --param 'foo'"),
        "unknown_param": ([*train, "--param", "hiden=[4]"], "'hiden'"),
        "invalid_param_value": ([*train, "--param", "epochs=-1"], "'epochs'"),
        "bad_params_file": ([*train, "--params", str(d / "bad.json")], "not valid JSON"),
        "class_name_for_python": (["export", "--model", str(model), "--format", "python",
                                   "--output", str(d / "x.py"), "--class-name", "X"],
                                  "--class-name"),
    }


@pytest.fixture(scope="module")
def error_files(work) -> dict[str, tuple[list[str], str]]:
    d = work["dir"] / "errors"
    d.mkdir()
    (d / "corrupt.zip").write_bytes(b"this is not a zip file")
    raw = work["model"].read_bytes()
    (d / "truncated.zip").write_bytes(raw[: len(raw) // 2])
    (d / "broken.csv").write_text('num,cat\n1,"2\n')
    (d / "data.txt").write_text("num,cat\n1,2\n")
    (d / "bad.json").write_text('{"hidden": [4')
    shutil.copy(work["dir"] / "train.csv", d / "train.csv")
    shutil.copy(work["dir"] / "test.csv", d / "test.csv")
    work["test"].drop(columns="num").to_csv(d / "no_num.csv", index=False)
    return _error_cases(d, work["model"])


ERROR_NAMES = list(_error_cases(Path("."), Path("m.zip")))


@pytest.mark.parametrize("name", ERROR_NAMES)
def test_errors_are_one_line_exit_2(error_files, name, capsys):
    argv, expected = error_files[name]
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith(f"dask-deeplearn {argv[0]}: error: "), err
    assert expected in lines[0]
    assert "Traceback" not in err
    if "--output" in argv:  # nothing written
        assert not Path(argv[argv.index("--output") + 1]).exists()


def test_usage_errors_exit_2(work, capsys):
    assert main(["export", "--model", str(work["model"]), "--format", "cobol",
                 "--output", "x"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'cobol'" in err and "Traceback" not in err
    assert main(["train", "--y", "label"]) == 2  # --train and --output are required
    assert "required" in capsys.readouterr().err
    assert main([]) == 2
    assert main(["bogus"]) == 2


# --------------------------------------------------------------------------- help / parsing


@pytest.mark.parametrize("command", ["train", "predict", "export", "info"])
def test_subcommand_help(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: dask-deeplearn {command}")


def test_module_help_subprocess():
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    res = subprocess.run([sys.executable, "-m", "dask_deeplearn.cli", "--help"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("usage: dask-deeplearn")
    for command in ("train", "predict", "export", "info"):
        assert command in res.stdout


def test_parse_param_and_load_params(tmp_path, monkeypatch):
    assert parse_param("hidden=[32,16]") == ("hidden", [32, 16])
    assert parse_param("epochs=5") == ("epochs", 5)
    assert parse_param("rate=0.5") == ("rate", 0.5)
    assert parse_param("activation=Tanh") == ("activation", "Tanh")
    assert parse_param("reproducible=true") == ("reproducible", True)
    assert parse_param("reproducible=True") == ("reproducible", True)
    assert parse_param("checkpoint=null") == ("checkpoint", None)
    assert parse_param("x=a=b") == ("x", "a=b")
    for bad in ("foo", "=5", ""):
        with pytest.raises(CLIError, match="NAME=VALUE"):
            parse_param(bad)
    p = tmp_path / "p.json"
    p.write_text('["not", "a", "mapping"]')
    with pytest.raises(CLIError, match="mapping"):
        load_params(p)
    y = tmp_path / "p.yaml"
    y.write_text("epochs: 3\n")
    monkeypatch.setitem(sys.modules, "yaml", None)  # PyYAML not importable
    with pytest.raises(CLIError, match="use a JSON file instead"):
        load_params(y)
