"""Saving, loading and scoring never lose or touch files they did not write; model files and
model ids cannot point training at other places.

Everything runs in this process (no cluster): the Parquet scoring cases use Dask's threaded
scheduler.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dask_deeplearn import DeepLearningClassifier, DeepLearningEstimator, load_model
from dask_deeplearn.cli import main
from dask_deeplearn.exceptions import DataError

Q = dict(quiet_mode=True, seed=1, reproducible=True)


def _data(n: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)


@pytest.fixture(scope="module")
def clf() -> DeepLearningClassifier:
    X, y = _data()
    return DeepLearningClassifier(hidden=[4], epochs=1, **Q).fit(X, y)


@pytest.fixture(scope="module")
def named(clf) -> DeepLearningClassifier:
    X, y = _data()
    return DeepLearningClassifier(hidden=[4], epochs=1, model_id="churn", **Q).fit(X, y)


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes)."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _crowded(folder: Path, model: DeepLearningClassifier) -> dict[str, bytes]:
    """A folder holding two saved models, a model directory and a note; its snapshot."""
    folder.mkdir()
    model.save(folder / "m1.zip")
    (folder / "m2.zip").write_bytes(b"someone else's zip")
    model.save(folder / "kept_model_dir")
    (folder / "notes.txt").write_text("do not delete")
    return _snapshot(folder)


# --------------------------------------------------------------------------- saving


def test_saving_into_a_folder_writes_the_model_id_inside_and_keeps_every_other_file(
        tmp_path, clf, named):
    out = tmp_path / "out"
    before = _crowded(out, clf)
    written = named.save(out)
    assert written == out / "churn.zip"
    assert load_model(written).model_id == "churn"
    # without a model_id the folder entry is named after the id the fit generated (H2O's)
    generated = f"{clf.model_id_}.zip"
    assert generated.startswith("DeepLearning_model_python_")
    assert clf.save(out) == out / generated
    assert load_model(out / generated).model_id_ == clf.model_id_
    after = _snapshot(out)
    assert {k: after[k] for k in before} == before
    assert sorted(after) == sorted([*before, "churn.zip", generated])
    assert not [p for p in os.listdir(out) if p.startswith(".")]  # no temporaries left


def test_an_existing_model_is_replaced_only_with_force(tmp_path, clf, named):
    for target in (tmp_path / "m.zip", tmp_path / "m_dir", tmp_path / "folder"):
        if target.name == "folder":
            target.mkdir()
        first = named.save(target)
        with pytest.raises(FileExistsError, match="force=True") as exc:
            named.save(target)
        assert str(first) in str(exc.value)
        if target.name == "folder":
            assert named.save(target, force=True) == first
        else:
            assert clf.save(target, force=True) == first
            assert load_model(first).model_id is None  # the replacement is the other model
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]


def test_force_never_replaces_files_that_are_not_models(tmp_path, clf):
    report = tmp_path / "report.txt"
    report.write_text("quarterly numbers")
    for force in (False, True):
        with pytest.raises(FileExistsError, match="not a dask_deeplearn model") as exc:
            clf.save(report, force=force)
        assert str(report) in str(exc.value)
    assert report.read_text() == "quarterly numbers"
    assert sorted(os.listdir(tmp_path)) == ["report.txt"]
    # a model directory someone added a file to is not replaced either
    model_dir = clf.save(tmp_path / "m_dir")
    (model_dir / "README").write_text("mine")
    with pytest.raises(FileExistsError, match="README"):
        clf.save(model_dir, force=True)
    assert (model_dir / "README").read_text() == "mine"
    assert load_model(model_dir).state_.W.shape == clf.state_.W.shape


def test_zip_suffix_writes_one_file_and_a_new_name_writes_a_directory(tmp_path, clf):
    assert clf.save(tmp_path / "x.zip").is_file()
    assert (clf.save(tmp_path / "x") / "model.json").is_file()
    # a path ending with a separator is a folder: created, the model written inside
    written = clf.save(str(tmp_path / "new") + os.sep)
    assert written == tmp_path / "new" / f"{clf.model_id_}.zip" and written.is_file()


# --------------------------------------------------------------------------- command line


@pytest.fixture(scope="module")
def csv_files(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("csv")
    X, y = _data(80, 2)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["label"] = np.where(y == 1, "yes", "no")
    frame.to_csv(d / "train.csv", index=False)
    return d


TRAIN = ["--param", "hidden=[3]", "--param", "epochs=1", "--param", "seed=1", "--quiet"]


def test_cli_train_into_a_folder_keeps_its_files(tmp_path, csv_files, clf, capsys):
    out = tmp_path / "models"
    before = _crowded(out, clf)
    argv = ["train", "--train", str(csv_files / "train.csv"), "--y", "label", "--output",
            str(out), *TRAIN, "--param", "model_id=cli_model"]
    assert main(argv) == 0, capsys.readouterr().err
    assert f"Model saved to {out / 'cli_model.zip'}" in capsys.readouterr().out
    after = _snapshot(out)
    assert {k: after[k] for k in before} == before
    assert main(argv) == 2  # the model now exists: --overwrite replaces it
    err = capsys.readouterr().err
    assert "--overwrite" in err and str(out / "cli_model.zip") in err
    assert main([*argv, "--overwrite"]) == 0
    assert {k: v for k, v in _snapshot(out).items() if k in before} == before


def test_cli_predict_never_deletes_foreign_files_of_the_output_folder(tmp_path, csv_files,
                                                                      clf, capsys):
    model = tmp_path / "m.zip"
    assert main(["train", "--train", str(csv_files / "train.csv"), "--y", "label",
                 "--output", str(model), *TRAIN]) == 0
    dst = tmp_path / "pred"
    argv = ["predict", "--model", str(model), "--input", str(csv_files / "train.csv"),
            "--output", str(dst)]
    assert main(argv) == 0, capsys.readouterr().err
    assert main([*argv, "--overwrite"]) == 0   # only our own part files: replaced
    (dst / "keep.me").write_text("x")
    assert main([*argv, "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert "keep.me" in err
    assert (dst / "keep.me").read_text() == "x" and (dst / "part.00000.parquet").is_file()
    # a CSV output that is a folder is refused, not deleted
    folder_csv = tmp_path / "out.csv"
    folder_csv.mkdir()
    (folder_csv / "data").write_text("y")
    assert main(["predict", "--model", str(model), "--input", str(csv_files / "train.csv"),
                 "--output", str(folder_csv), "--overwrite"]) == 2
    assert (folder_csv / "data").read_text() == "y"


# --------------------------------------------------------------------------- score_parquet


def test_score_parquet_replaces_only_its_own_part_files(tmp_path):
    from dask_deeplearn import score_parquet

    X, y = _data(60, 3)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["label"] = pd.Categorical(np.where(y == 1, "yes", "no"))
    model = DeepLearningEstimator(hidden=[3], epochs=1, **Q).train(y="label",
                                                                   training_frame=frame)
    src, dst = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    frame.iloc[:30].to_parquet(src / "a.parquet")
    frame.iloc[30:].to_parquet(src / "b.parquet")
    score_parquet(model, src, dst)
    with pytest.raises(DataError, match="overwrite=True"):
        score_parquet(model, src, dst)
    score_parquet(model, src, dst, overwrite=True)
    assert sorted(p.name for p in dst.iterdir()) == ["part.00000.parquet", "part.00001.parquet"]
    (dst / "notes.txt").write_text("mine")
    (dst / "sub").mkdir()
    with pytest.raises(DataError, match="notes.txt.*sub|sub.*notes.txt"):
        score_parquet(model, src, dst, overwrite=True)
    assert (dst / "notes.txt").read_text() == "mine" and (dst / "sub").is_dir()
    assert len(pd.read_parquet(dst / "part.00000.parquet")) == 30


# --------------------------------------------------------------------------- checkpoints


def test_export_checkpoints_dir_never_overwrites_earlier_checkpoints(tmp_path):
    X, y = _data()
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    (ckpt / "other.txt").write_text("x")
    params = dict(hidden=[4], epochs=2, score_each_iteration=True, model_id="run",
                  train_samples_per_iteration=60, export_checkpoints_dir=str(ckpt), **Q)
    DeepLearningClassifier(**params).fit(X, y)
    before = _snapshot(ckpt)
    assert "run_iteration1.zip" in before and before["other.txt"] == b"x"
    with pytest.raises(FileExistsError, match="run_iteration1.zip"):
        DeepLearningClassifier(**params).fit(X, y)
    assert _snapshot(ckpt) == before


# --------------------------------------------------------------------------- interrupted saves


def _dead_pid() -> int:
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_save_cleans_the_temporaries_of_a_killed_save_and_nothing_else(tmp_path, clf):
    dead = _dead_pid()
    stale = [tmp_path / ".m.zip.tmp-0123abcd",                  # older versions' naming
             tmp_path / f".m.zip.tmp-{dead}-89abcdef"]
    for p in stale:
        p.write_bytes(b"half a zip")
    stale_dir = tmp_path / f".m_dir.tmp-{dead}-00ff00ff"
    stale_dir.mkdir()
    (stale_dir / "W.npy").write_bytes(b"half")
    running = tmp_path / f".m.zip.tmp-{os.getpid()}-11111111"   # a save still writing
    running.write_bytes(b"in progress")
    foreign = [tmp_path / ".m.zip.tmp-mine", tmp_path / ".m.zip.bak"]
    for p in foreign:
        p.write_bytes(b"not ours")
    clf.save(tmp_path / "m.zip")
    clf.save(tmp_path / "m_dir")
    assert not any(p.exists() for p in [*stale, stale_dir])
    assert running.read_bytes() == b"in progress"
    assert all(p.read_bytes() == b"not ours" for p in foreign)


def test_loading_a_missing_model_names_the_backup_of_an_interrupted_save(tmp_path, clf):
    # what a directory save killed between its two renames leaves: the previous model
    # under a hidden name, nothing at the real name
    saved = clf.save(tmp_path / "m_dir")
    backup = tmp_path / f".m_dir.old-{_dead_pid()}-0badf00d"
    os.rename(saved, backup)
    with pytest.raises(FileNotFoundError, match="No model file") as exc:
        load_model(saved)
    assert str(backup) in str(exc.value) and "interrupted" in str(exc.value)
    with pytest.raises(FileNotFoundError, match="No model file") as exc:
        load_model(tmp_path / "other")
    assert ".old-" not in str(exc.value)
    # a new save there needs force=True (it replaces that previous model)
    with pytest.raises(FileExistsError, match=str(backup)):
        clf.save(saved)
    assert clf.save(saved, force=True) == saved and not backup.exists()
    assert load_model(saved).state_.W.shape == clf.state_.W.shape


def test_a_checkpoint_that_cannot_be_written_warns_and_training_goes_on(tmp_path, monkeypatch):
    import errno

    import dask_deeplearn.io.model_files as mf

    def disk_full(a):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mf, "_npy_bytes", disk_full)
    X, y = _data()
    with pytest.warns(RuntimeWarning, match="No space left on device.*training goes on"):
        model = DeepLearningClassifier(hidden=[4], epochs=3, score_each_iteration=True,
                                       train_samples_per_iteration=60, model_id="full",
                                       export_checkpoints_dir=str(tmp_path), **Q).fit(X, y)
    assert model.epochs_ == pytest.approx(3, abs=0.6) and model.n_iter_ > 1
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- checkpoint folder


def test_export_checkpoints_dir_is_created_and_an_unwritable_one_is_a_clear_error(tmp_path):
    from dask_deeplearn import InvalidParameterError

    X, y = _data()
    params = dict(hidden=[4], epochs=1, score_each_iteration=True, model_id="made", **Q)
    new = tmp_path / "a" / "b"
    DeepLearningClassifier(export_checkpoints_dir=str(new), **params).fit(X, y)
    assert sorted(os.listdir(new)) == ["made_iteration1.zip"]
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file where a folder should be")
    bad = str(blocker / "ckpt")
    with pytest.raises(InvalidParameterError, match="export_checkpoints_dir") as exc:
        DeepLearningClassifier(export_checkpoints_dir=bad, **params).fit(X, y)
    assert repr(bad) in str(exc.value) and "cannot be" in str(exc.value)
    assert blocker.read_text() == "a file where a folder should be"


# --------------------------------------------------------------------------- model ids


@pytest.mark.parametrize("bad", ["../../escaped", "ABSOLUTE", "a/b", "..", ".hidden",
                                 "with space", "1starts_with_digit", "", "x" * 201])
def test_model_ids_that_could_name_a_path_are_refused(tmp_path, bad):
    from dask_deeplearn import InvalidParameterError

    if bad == "ABSOLUTE":  # an absolute path inside this test's folder
        bad = str(tmp_path / "abs_model")
    X, y = _data()
    ckpt = tmp_path / "deep" / "ckpt"
    ckpt.mkdir(parents=True)
    with pytest.raises(InvalidParameterError, match="'model_id'") as exc:
        DeepLearningClassifier(hidden=[4], epochs=1, model_id=bad, score_each_iteration=True,
                               export_checkpoints_dir=str(ckpt), **Q).fit(X, y)
    assert repr(bad) in str(exc.value) and "letters, digits" in str(exc.value)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["ckpt", "deep"]


def test_h2o_style_model_ids_are_accepted():
    from dask_deeplearn.params import validate_params

    for good in ("DeepLearning_model_python_1441838096933", "m-1.v2~final", "$tmp", "a..b"):
        assert validate_params({"model_id": good}, "DeepLearningClassifier")["model_id"] == good


def test_saving_into_a_folder_never_builds_a_path_outside_it(tmp_path, clf):
    out = tmp_path / "a" / "out"
    out.mkdir(parents=True)
    bad = DeepLearningClassifier(**clf.get_params())
    for name in ("../../escaped", str(tmp_path / "abs")):
        bad.__dict__.update(clf.__dict__)
        # the parameter set after the fit does not rename the fitted model
        bad.model_id = name
        assert bad.model_id_ == clf.model_id_
        # a fitted model whose id was changed behind the validation
        fitted = clf.__dict__["_fitted"]
        bad.__dict__["_fitted"] = fitted.replace(params={**fitted.params, "model_id": name})
        with pytest.raises(ValueError, match="model_id"):
            bad.save(out)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "out"]


# --------------------------------------------------------------------------- hostile model files


def _rewrite_doc(src: Path, dst: Path, change) -> None:
    """Copy the zip model ``src`` to ``dst`` with its model.json changed by ``change(doc)``."""
    import json
    import zipfile

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            data = zin.read(item)
            if item == "model.json":
                doc = json.loads(data)
                change(doc)
                data = json.dumps(doc).encode()
            zout.writestr(item, data)


def test_a_model_file_never_chooses_addresses_folders_or_ids_to_write_under(tmp_path, clf):
    good = clf.save(tmp_path / "good.zip")
    elsewhere = tmp_path / "attacker_dir"
    places = {"scheduler_address": "tcp://127.0.0.1:1",
              "export_checkpoints_dir": str(elsewhere),
              "checkpoint": str(tmp_path / "their_checkpoint.zip"),
              "pretrained_autoencoder": str(tmp_path / "their_ae.zip")}

    def hostile(doc):
        for section in ("params", "effective_params"):
            doc[section].update(places, model_id="../../evil")

    bad = tmp_path / "hostile.zip"
    _rewrite_doc(good, bad, hostile)
    with pytest.warns(UserWarning, match="model_id"):
        back = load_model(bad)
    for name in places:
        assert getattr(back, name) is None, name
        assert back.params_.get(name) is None, name
    # the file's id is dropped: the loaded model gets a new one of this process
    assert back.model_id is None and back.model_id_.startswith("DeepLearning_model_python_")
    np.testing.assert_array_equal(back.predict_proba(_data()[0]), clf.predict_proba(_data()[0]))
    # continuing from the file: the caller's places and id, never the file's
    X, y = _data()
    with pytest.warns(UserWarning, match="model_id"):
        more = DeepLearningClassifier(hidden=[4], epochs=3, checkpoint=str(bad),
                                      score_each_iteration=True, **Q).fit(X, y)
    assert more.backend_ == "local" and more.model_id is None
    assert more.params_["export_checkpoints_dir"] is None
    back.set_params(warm_start=True)
    back.fit(X, y)                          # continues the loaded model in this process
    assert back.backend_ == "local"
    assert not elsewhere.exists() and not (tmp_path.parent.parent / "evil").exists()
    # a valid id is kept as the loaded model's name
    named_file = tmp_path / "named.zip"
    _rewrite_doc(good, named_file, lambda doc: [doc[section].update(model_id="theirs")
                                                for section in ("params", "effective_params")])
    named = load_model(named_file)
    assert named.model_id == named.model_id_ == "theirs"


# --------------------------------------------------------------------------- zip bombs


def _bomb(src: Path, dst: Path, member: str = "W.npy", size: int = 1 << 30) -> None:
    """``src`` with ``member`` replaced by a float32 .npy of ``size`` bytes of zeros.

    Written by streaming into the zip, so building it never holds more than 1 MiB.
    """
    import zipfile

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED,
                                                      compresslevel=1) as zout:
        for item in zin.namelist():
            if item != member:
                zout.writestr(item, zin.read(item))
        with zout.open(member, "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(
                f, {"descr": "<f4", "fortran_order": False, "shape": (size // 4,)})
            chunk = bytes(1 << 20)
            for _ in range(size >> 20):
                f.write(chunk)


def test_a_zip_bomb_is_refused_before_anything_is_decompressed(tmp_path, clf):
    import tracemalloc

    from dask_deeplearn import ModelFileError

    good = clf.save(tmp_path / "good.zip")
    bomb = tmp_path / "bomb.zip"
    _bomb(good, bomb)
    assert bomb.stat().st_size < 8 << 20            # a few MiB on disk, 1 GiB inflated
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match="W.npy") as exc:
            load_model(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "bytes" in str(exc.value) and str(bomb) in str(exc.value)
    assert peak < 16 << 20, f"{peak / 2**20:.0f} MiB allocated to refuse the file"


def test_array_headers_and_json_sizes_are_checked_before_reading(tmp_path, clf, monkeypatch):
    import io
    import zipfile

    import dask_deeplearn.io.model_files as mf
    from dask_deeplearn import ModelFileError

    good = clf.save(tmp_path / "good.zip")
    # the right number of bytes, but a header that declares another shape
    n = clf.state_.W.size
    wrong = tmp_path / "wrong.zip"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(wrong, "w") as zout:
        for item in zin.namelist():
            data = zin.read(item)
            if item == "W.npy":
                buf = io.BytesIO()
                np.save(buf, np.zeros((n, 1), np.float32))
                data = buf.getvalue()
            zout.writestr(item, data)
    with pytest.raises(ModelFileError, match=r"W.npy has shape \(\d+, 1\)"):
        load_model(wrong)
    # a model.json larger than the limit is refused from its declared size
    monkeypatch.setattr(mf, "_MAX_JSON_BYTES", 1000)
    for path in (good, clf.save(tmp_path / "as_dir")):
        with pytest.raises(ModelFileError, match="model.json.*bytes"):
            load_model(path)
