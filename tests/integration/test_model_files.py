"""Model files, checkpoint restarts, partial_fit and export_checkpoints_dir."""

from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_digits
from sklearn.model_selection import train_test_split

from dask_deeplearn import (
    DeepLearningClassifier,
    DeepLearningEstimator,
    DeepLearningRegressor,
    InvalidParameterError,
    ModelFileError,
    load_model,
)
from dask_deeplearn.exceptions import DataError

Q = dict(quiet_mode=True, seed=1, reproducible=True)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0)


@pytest.fixture(scope="module")
def binomial(digits):
    X_tr, X_te, y_tr, y_te = digits
    return DeepLearningClassifier(hidden=[8], epochs=2, **Q).fit(X_tr, y_tr == 3)


@pytest.fixture(scope="module")
def h2o_frame():
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame({
        "x": rng.normal(size=n),
        "c": pd.Categorical(rng.choice(["a", "b", "c"], size=n)),
        "s": rng.choice(["u", "v"], size=n).astype(object),
    })
    df["y"] = pd.Categorical(np.where(df["x"] + (df["c"] == "a") > 0.3, "yes", "no"))
    df.loc[::17, "x"] = np.nan
    return df


@pytest.mark.parametrize("name", ["model.zip", "model_dir"])
def test_round_trip_predicts_identically(tmp_path, digits, binomial, h2o_frame, name):
    X_tr, X_te, y_tr, y_te = digits
    multi = DeepLearningClassifier(hidden=[8], epochs=2, **Q).fit(
        pd.DataFrame(X_tr).add_prefix("p"), y_tr)
    Xd, yd = load_diabetes(return_X_y=True)
    reg = DeepLearningRegressor(hidden=[8], epochs=3, distribution="poisson", **Q).fit(Xd, yd)
    h2o = DeepLearningEstimator(hidden=[8], epochs=3, **Q).train(y="y", training_frame=h2o_frame)
    cases = [(binomial, X_te), (multi, pd.DataFrame(X_te).add_prefix("p")), (reg, Xd),
             (h2o, h2o_frame)]
    for i, (model, X) in enumerate(cases):
        path = model.save(tmp_path / f"{i}-{name}")
        back = load_model(path)
        assert type(back) is type(model)
        if isinstance(model, DeepLearningEstimator):
            pd.testing.assert_frame_equal(back.predict(X), model.predict(X))
        else:
            np.testing.assert_array_equal(back.predict(X), model.predict(X))
        if hasattr(model, "predict_proba") and not isinstance(model, DeepLearningEstimator):
            np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))
        pd.testing.assert_frame_equal(back.scoring_history_, model.scoring_history_)
        assert back.training_metrics_ == model.training_metrics_
        assert back.get_params() == model.get_params()
        np.testing.assert_array_equal(back.state_.OW, model.state_.OW)
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]  # no temporaries left


def _rewrite_zip(src, dst, change):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            data = change(item, zin.read(item))
            if data is not None:
                zout.writestr(item, data)


def test_damaged_files_are_refused_with_clear_messages(tmp_path, binomial):
    good = binomial.save(tmp_path / "good.zip")

    def corrupt_json(name, data):
        return b"{ this is not json" if name == "model.json" else data

    def future(name, data):
        if name != "model.json":
            return data
        doc = json.loads(data)
        doc["format_version"] = 99
        doc["package_version"] = "9.0"
        return json.dumps(doc).encode()

    def pickled(name, data):
        if name != "W.npy":
            return data
        buf = io.BytesIO()
        np.save(buf, np.array([object()], dtype=object), allow_pickle=True)
        return buf.getvalue()

    def missing(name, data):
        return None if name == "OB.npy" else data

    def wrong_shape(name, data):
        if name != "B.npy":
            return data
        buf = io.BytesIO()
        np.save(buf, np.zeros(3, np.float32))
        return buf.getvalue()

    cases = {
        "json": (corrupt_json, "model.json is not valid JSON"),
        "future": (future, "format version 99.*Upgrade"),
        "pickle": (pickled, "W.npy holds Python objects"),
        "missing": (missing, "OB.npy is missing"),
        "shape": (wrong_shape, r"B.npy has shape \(3,\)"),
    }
    for key, (change, message) in cases.items():
        bad = tmp_path / f"{key}.zip"
        _rewrite_zip(good, bad, change)
        with pytest.raises(ModelFileError, match=message) as exc:
            load_model(bad)
        assert str(bad) in str(exc.value)
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ModelFileError, match="truncated or damaged|damaged"):
        load_model(truncated)
    with pytest.raises(FileNotFoundError, match="No model file"):
        load_model(tmp_path / "nothing.zip")
    not_model = tmp_path / "other"
    not_model.mkdir()
    (not_model / "model.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(ModelFileError, match="not a dask_deeplearn model"):
        load_model(not_model)


def test_a_failed_save_keeps_the_previous_file(tmp_path, binomial, monkeypatch):
    path = binomial.save(tmp_path / "m.zip")
    before = path.read_bytes()
    import dask_deeplearn.io.model_files as mf

    def boom(a):
        raise OSError("disk full")

    monkeypatch.setattr(mf, "_npy_bytes", boom)
    with pytest.raises(OSError, match="disk full"):
        binomial.save(path, force=True)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.zip"]
    with pytest.raises(Exception, match="fitted"):
        DeepLearningClassifier().save(tmp_path / "x.zip")


def test_checkpoint_restart_continues_and_matches_a_longer_run(tmp_path, digits):
    X_tr, X_te, y_tr, y_te = digits
    common = dict(hidden=[32], score_each_iteration=True, **Q)
    common["classification_stop"] = -1  # train all epochs (training error reaches 0 early)
    first = DeepLearningClassifier(epochs=10, **common).fit(X_tr, y_tr)
    path = first.save(tmp_path / "ten.zip")
    # the path or the model object; modifiable parameters (l2, stopping) may change
    cont = DeepLearningClassifier(epochs=20, checkpoint=str(path), l2=1e-5, **common).fit(
        X_tr, y_tr)
    full = DeepLearningClassifier(epochs=20, **common).fit(X_tr, y_tr)
    hist = cont.scoring_history_
    assert len(hist) > len(first.scoring_history_)
    assert hist["iterations"].is_monotonic_increasing and hist["samples"].is_monotonic_increasing
    assert hist["iterations"].iloc[-1] == cont.n_iter_ > first.n_iter_
    assert cont.state_.processed > first.state_.processed
    assert cont.epochs_ == pytest.approx(20, abs=0.5)
    acc_cont, acc_full = cont.score(X_te, y_te), full.score(X_te, y_te)
    assert acc_cont > 0.9 and abs(acc_cont - acc_full) < 0.03
    # the checkpoint itself is not modified
    assert load_model(path).state_.processed == first.state_.processed


def test_checkpoint_refuses_forbidden_changes_and_bad_data(digits):
    X_tr, _, y_tr, _ = digits
    base = DeepLearningClassifier(hidden=[8], epochs=2, **Q).fit(X_tr, y_tr)
    with pytest.raises(InvalidParameterError, match=r"activation \('Rectifier' -> 'Tanh'\)") as exc:
        DeepLearningClassifier(hidden=[8], epochs=4, checkpoint=base, activation="Tanh",
                               rho=0.9, **Q).fit(X_tr, y_tr)
    assert "rho" in str(exc.value)
    with pytest.raises(InvalidParameterError, match="hidden"):
        DeepLearningClassifier(hidden=[9], epochs=4, checkpoint=base, **Q).fit(X_tr, y_tr)
    with pytest.raises(InvalidParameterError, match="epochs=1.*total"):
        DeepLearningClassifier(hidden=[8], epochs=1, checkpoint=base, **Q).fit(X_tr, y_tr)
    with pytest.raises(DataError, match="columns differ"):
        DeepLearningClassifier(hidden=[8], epochs=4, checkpoint=base, **Q).fit(X_tr[:, :60], y_tr)
    with pytest.raises(InvalidParameterError, match="validation frame"):
        DeepLearningClassifier(hidden=[8], epochs=4, checkpoint=base, **Q).fit(
            X_tr, y_tr, validation_data=(X_tr, y_tr))
    with pytest.raises(InvalidParameterError, match="DeepLearningRegressor"):
        DeepLearningClassifier(hidden=[8], epochs=4, checkpoint=DeepLearningRegressor(
            hidden=[8], epochs=1, **Q).fit(X_tr, y_tr.astype(float)), **Q).fit(X_tr, y_tr)


def test_partial_fit_continues_over_chunks(digits):
    X_tr, X_te, y_tr, y_te = digits
    clf = DeepLearningClassifier(hidden=[32], **Q)
    chunks = np.array_split(np.arange(len(X_tr)), 4)
    clf.partial_fit(X_tr[chunks[0]], y_tr[chunks[0]], classes=np.arange(10))
    first = clf.score(X_te, y_te)
    processed = clf.state_.processed
    for _ in range(3):
        for idx in chunks:
            clf.partial_fit(X_tr[idx], y_tr[idx])
    assert clf.state_.processed > processed + 2 * len(X_tr)
    assert list(clf.classes_) == list(range(10))
    assert clf.score(X_te, y_te) > max(first, 0.85)
    assert clf.checkpoint is None and clf.epochs == 10  # parameters untouched


def test_export_checkpoints_dir_writes_a_loadable_model_per_scoring_event(tmp_path, digits):
    X_tr, X_te, y_tr, y_te = digits
    clf = DeepLearningClassifier(hidden=[8], epochs=3, score_each_iteration=True,
                                 train_samples_per_iteration=500, model_id="digits",
                                 overwrite_with_best_model=False,
                                 export_checkpoints_dir=str(tmp_path), **Q).fit(X_tr, y_tr)
    files = sorted(os.listdir(tmp_path))
    assert len(files) == len(clf.scoring_history_) - 1
    assert all(f.startswith("digits_iteration") and f.endswith(".zip") for f in files)
    last = load_model(tmp_path / f"digits_iteration{clf.n_iter_}.zip")
    np.testing.assert_array_equal(last.predict_proba(X_te), clf.predict_proba(X_te))
    # a folder that does not exist is created (as H2O does)
    # (named after the id the fit generated when no model_id is given)
    other = DeepLearningClassifier(hidden=[8], epochs=1,
                                   export_checkpoints_dir=str(tmp_path / "no"),
                                   **Q).fit(X_tr, y_tr)
    assert os.listdir(tmp_path / "no") == [f"{other.model_id_}_iteration1.zip"]


_SAVER = r"""
import sys, numpy as np
from dask_deeplearn import load_model
model = load_model(sys.argv[1])
model.state_.W[:] += 1.0          # a different model, saved over and over
print("ready", flush=True)
while True:
    model.save(sys.argv[2], force=True)
"""


@pytest.mark.slow
@pytest.mark.parametrize("target", ["model.zip", "model_dir"])
def test_killing_a_process_mid_save_never_loses_the_saved_model(tmp_path, target):
    import signal
    import subprocess
    import sys
    import time

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 400))
    y = (X[:, 0] > 0).astype(int)
    clf = DeepLearningClassifier(hidden=[400, 200], epochs=0.1, **Q).fit(X, y)
    src = clf.save(tmp_path / "src.zip")
    dst = clf.save(tmp_path / target)
    expected = {clf.state_.W[0], clf.state_.W[0] + 1.0}
    script = tmp_path / "saver.py"
    script.write_text(_SAVER)
    for delay in (0.3, 0.55, 0.8, 1.05):
        repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [repo] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])}
        proc = subprocess.Popen([sys.executable, str(script), str(src), str(dst)],
                                stdout=subprocess.PIPE, text=True, env=env)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        try:
            back = load_model(dst)
        except FileNotFoundError as exc:
            # killed between the two renames of a directory save: the error names the
            # previous model's hidden backup, which is complete
            backup = sorted(tmp_path.glob(f".{dst.name}.old-*"),
                            key=lambda p: p.stat().st_mtime)[-1]
            assert str(backup) in str(exc)
            os.rename(backup, dst)
            back = load_model(dst)
        assert back.state_.W[0] in expected
        np.testing.assert_array_equal(back.predict_proba(X[:5]).shape, (5, 2))


def test_warm_start_continues_for_epochs_more(digits):
    X_tr, X_te, y_tr, y_te = digits
    clf = DeepLearningClassifier(hidden=[16], epochs=2, warm_start=True,
                                 classification_stop=-1, **Q).fit(X_tr, y_tr)
    first = clf.state_.processed
    clf.fit(X_tr, y_tr)
    assert clf.state_.processed >= first + 2 * len(X_tr)
    assert clf.epochs_ == pytest.approx(4, abs=0.3) and clf.epochs == 2
    cold = DeepLearningClassifier(hidden=[16], epochs=2, classification_stop=-1, **Q)
    cold.fit(X_tr, y_tr)
    cold.fit(X_tr, y_tr)                       # without warm_start: starts over
    assert cold.state_.processed == first
