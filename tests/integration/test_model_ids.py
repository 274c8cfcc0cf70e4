"""Model ids in H2O's form and the registry of this process (``get_model``, ``ls``).

H2O names a model built without ``model_id`` ``DeepLearning_model_python_<session>_<n>``
and finds it with ``h2o.get_model(model.model_id)``; here every fitted, loaded or imported
model is listed under its id, weakly held. The scikit-learn face keeps ``get_params()``
as given (``clone``), the id is the fitted attribute ``model_id_``; H2O's face shows it as
``model.model_id`` / ``model.key`` once trained.
"""

from __future__ import annotations

import gc
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import dask_deeplearn as ddl
from dask_deeplearn import (
    DeepLearningAutoEncoder,
    DeepLearningClassifier,
    DeepLearningEstimator,
    DeepLearningRegressor,
    InvalidParameterError,
    ModelNotFoundError,
)

Q = dict(hidden=[4], epochs=1, seed=1, reproducible=True, quiet_mode=True)
GENERATED = re.compile(r"DeepLearning_model_python_(\d+)_(\d+)")
MOJOS = Path(__file__).resolve().parents[1] / "data" / "h2o_mojos"


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120)})
    y = (X["a"] + 0.5 * X["b"] > 0).astype(int)
    return X, y


@pytest.fixture(scope="module")
def frame(data):
    X, y = data
    return X.assign(label=y.map({0: "no", 1: "yes"}).astype("category"))


def _keys() -> list[str]:
    return ddl.ls()["key"].tolist()


# --------------------------------------------------------------------------- ids


def test_every_fit_gets_a_new_h2o_style_id_unless_model_id_is_given(data):
    X, y = data
    a = DeepLearningClassifier(**Q).fit(X, y)
    b = DeepLearningRegressor(**Q).fit(X, X["a"])
    c = DeepLearningAutoEncoder(**Q).fit(X)
    named = DeepLearningClassifier(**Q, model_id="churn").fit(X, y)
    ids = [a.model_id_, b.model_id_, c.model_id_]
    matches = [GENERATED.fullmatch(i) for i in ids]
    assert all(matches), ids
    # one session number per process, a counter counting up
    assert len({m.group(1) for m in matches}) == 1
    counts = [int(m.group(2)) for m in matches]
    assert counts == sorted(counts) and len(set(counts)) == 3
    assert named.model_id_ == "churn"
    # the effective parameters record the id (H2O's actual value of model_id)
    assert a.params_["model_id"] == a.model_id_ and named.params_["model_id"] == "churn"
    # a fit from scratch is a new model with a new id
    before = a.model_id_
    a.fit(X, y)
    assert a.model_id_ != before and GENERATED.fullmatch(a.model_id_)
    assert before not in _keys() and ddl.get_model(a.model_id_) is a


def test_scikit_learn_face_keeps_get_params_and_clone_as_given(data):
    X, y = data
    clf = DeepLearningClassifier(**Q)
    assert not hasattr(clf, "model_id_")
    clf.fit(X, y)
    assert clf.model_id is None and clf.get_params()["model_id"] is None
    assert clf.model_.user_params["model_id"] is None and clf.model_.model_id == clf.model_id_
    twin = clone(clf)
    assert twin.get_params() == clf.get_params() and not hasattr(twin, "model_id_")
    assert clone(clf).fit(X, y).model_id_ != clf.model_id_


def test_h2o_face_model_id_is_the_trained_models_id(frame):
    model = DeepLearningEstimator(**Q)
    assert model.model_id is None and model.key is None
    model.train(y="label", training_frame=frame)
    assert GENERATED.fullmatch(model.model_id)
    assert model.key == model.model_id == model.model_id_
    assert model.get_params()["model_id"] is None   # the parameter stays what was given
    assert "model_id" not in repr(model)
    # the booklet's h2o.get_model(model.model_id)
    same = ddl.get_model(model.model_id)
    assert same is model
    pd.testing.assert_frame_equal(same.predict(frame), model.predict(frame))
    # a given model_id is the id; assigning sets the parameter of the next fit only
    named = DeepLearningEstimator(**Q, model_id="dl_named").train(y="label",
                                                                  training_frame=frame)
    assert named.model_id == "dl_named" and ddl.get_model("dl_named") is named
    named.model_id = "renamed"
    assert named.model_id == "dl_named" and named.get_params()["model_id"] == "renamed"
    named.train(y="label", training_frame=frame)
    assert named.model_id == "renamed" and ddl.get_model("renamed") is named
    assert "dl_named" not in _keys()


def test_warm_start_and_partial_fit_continue_under_the_same_id(data):
    X, y = data
    clf = DeepLearningClassifier(**Q, warm_start=True).fit(X, y)
    first = clf.model_id_
    clf.fit(X, y)
    assert clf.model_id_ == first and clf.epochs_ > 1.5
    inc = DeepLearningClassifier(**Q)
    inc.partial_fit(X, y, classes=[0, 1])
    key = inc.model_id_
    inc.partial_fit(X, y)
    assert inc.model_id_ == key and ddl.get_model(key) is inc


def test_cross_validation_models_are_named_after_the_main_model(data):
    X, y = data
    clf = DeepLearningClassifier(**Q, nfolds=3).fit(X, y)
    main = clf.model_id_
    assert GENERATED.fullmatch(main)
    cv_ids = [m.model_id_ for m in clf.cross_validation_models_]
    assert cv_ids == [f"{main}_cv_{k}" for k in (1, 2, 3)]
    for m in clf.cross_validation_models_:
        assert ddl.get_model(m.model_id_) is m


# --------------------------------------------------------------------------- registry


def test_the_registry_holds_models_weakly(data):
    X, y = data
    clf = DeepLearningClassifier(**Q).fit(X, y)
    key = clf.model_id_
    assert key in _keys() and ddl.get_model(key) is clf
    del clf
    gc.collect()
    assert key not in _keys()
    with pytest.raises(ModelNotFoundError, match=re.escape(repr(key))) as exc:
        ddl.get_model(key)
    assert isinstance(exc.value, KeyError) and "No model with id" in str(exc.value)


def test_ls_returns_h2os_shape_and_get_model_names_what_it_has(data):
    X, y = data
    keep = DeepLearningClassifier(**Q, model_id="kept_for_ls").fit(X, y)
    listing = ddl.ls()
    assert isinstance(listing, pd.DataFrame) and list(listing.columns) == ["key"]
    assert "kept_for_ls" in listing["key"].tolist()
    with pytest.raises(KeyError) as exc:
        ddl.get_model("no_such_model")
    message = str(exc.value)
    assert "'no_such_model'" in message and "'kept_for_ls'" in message
    with pytest.raises(TypeError, match="model_id must be a str"):
        ddl.get_model(keep)
    assert ddl.get_model("kept_for_ls") is keep


def test_remove_and_remove_all(data):
    X, y = data
    a = DeepLearningClassifier(**Q, model_id="rm_a").fit(X, y)
    b = DeepLearningClassifier(**Q, model_id="rm_b").fit(X, y)
    c = DeepLearningClassifier(**Q, model_id="rm_c").fit(X, y)
    ddl.remove("rm_a")
    assert "rm_a" not in _keys() and a.predict(X).shape == (len(X),)  # the object lives on
    with pytest.raises(ModelNotFoundError, match="'rm_a'"):
        ddl.remove(["rm_b", "rm_a"])            # nothing removed when one id is unknown
    assert "rm_b" in _keys()
    ddl.remove(b)
    assert "rm_b" not in _keys()
    ddl.remove_all(retained=["rm_c"])
    assert _keys() == ["rm_c"] and ddl.get_model("rm_c") is c
    ddl.remove_all()
    assert _keys() == []
    c.fit(X, y)                                   # a new fit lists it again
    assert _keys() == ["rm_c"]


def test_a_fit_under_an_id_takes_it_over(data):
    X, y = data
    old = DeepLearningClassifier(**Q, model_id="same_name").fit(X, y)
    new = DeepLearningClassifier(**Q, model_id="same_name").fit(X, y)
    assert ddl.get_model("same_name") is new and old.model_id_ == "same_name"


# --------------------------------------------------------------------------- checkpoint=


def test_checkpoint_by_id_continues_that_model(data):
    X, y = data
    first = DeepLearningClassifier(**Q).fit(X, y)
    by_id = DeepLearningClassifier(**{**Q, "epochs": 3}, checkpoint=first.model_id_).fit(X, y)
    by_model = DeepLearningClassifier(**{**Q, "epochs": 3}, checkpoint=first).fit(X, y)
    np.testing.assert_array_equal(by_id.state_.W, by_model.state_.W)
    assert by_id.epochs_ == pytest.approx(3.0) and by_id.model_id_ != first.model_id_
    assert by_id.get_params()["checkpoint"] == first.model_id_


def test_checkpoint_by_id_on_the_h2o_face(frame):
    model = DeepLearningEstimator(**Q).train(y="label", training_frame=frame)
    more = DeepLearningEstimator(**{**Q, "epochs": 2}, checkpoint=model.model_id)
    more.train(y="label", training_frame=frame)
    assert more.epochs_ == pytest.approx(2.0) and more.model_id != model.model_id


def test_checkpoint_that_is_neither_an_id_nor_a_path_is_refused(data, tmp_path):
    X, y = data
    live = DeepLearningClassifier(**Q, model_id="ckpt_live").fit(X, y)
    for bad in ("DeepLearning_model_python_1_999999", str(tmp_path / "missing.zip")):
        with pytest.raises(InvalidParameterError) as exc:
            DeepLearningClassifier(**{**Q, "epochs": 2}, checkpoint=bad).fit(X, y)
        message = str(exc.value)
        assert f"checkpoint={bad!r}" in message and "'ckpt_live'" in message
        assert "neither the id of a model" in message
    assert live.model_id_ == "ckpt_live"


def test_checkpoint_by_path_does_not_take_the_id_from_the_live_model(data, tmp_path):
    X, y = data
    live = DeepLearningClassifier(**Q).fit(X, y)
    path = live.save(tmp_path / "m.zip")
    more = DeepLearningClassifier(**{**Q, "epochs": 2}, checkpoint=str(path)).fit(X, y)
    assert more.epochs_ == pytest.approx(2.0)
    gc.collect()
    assert ddl.get_model(live.model_id_) is live


def test_pretrained_autoencoder_by_id(data):
    X, y = data
    ae = DeepLearningAutoEncoder(**{**Q, "hidden": [3]}).fit(X)
    clf = DeepLearningClassifier(**{**Q, "hidden": [3], "epochs": 0.01},
                                 pretrained_autoencoder=ae.model_id_).fit(X, y)
    assert clf.state_.spec.units[1] == 3


# --------------------------------------------------------------------------- files


def test_files_are_named_after_the_generated_id(data, tmp_path):
    X, y = data
    clf = DeepLearningClassifier(**{**Q, "epochs": 2}, score_each_iteration=True,
                                 train_samples_per_iteration=60,
                                 export_checkpoints_dir=str(tmp_path / "ckpt")).fit(X, y)
    key = clf.model_id_
    names = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert names and all(re.fullmatch(rf"{key}_iteration\d+\.zip", n) for n in names), names
    saved = clf.save(str(tmp_path / "out") + os.sep)
    assert saved.name == f"{key}.zip"
    assert Path(clf.download_mojo(str(tmp_path / "mojo") + os.sep)).name == f"{key}.zip"
    pojo = Path(clf.download_pojo(tmp_path / "pojo"))
    assert pojo.name == f"{key}.java" and f"class {key} " in pojo.read_text()


def test_loaded_models_are_listed_under_their_recorded_ids(data, tmp_path):
    X, y = data
    clf = DeepLearningClassifier(**Q).fit(X, y)
    key = clf.model_id_
    path = clf.save(tmp_path / "m.zip")
    del clf
    gc.collect()
    assert key not in _keys()
    back = ddl.load_model(path)
    assert back.model_id_ == key and back.get_params()["model_id"] is None
    assert ddl.get_model(key) is back
    # a file that records no id (as older files) gets a new one
    old = tmp_path / "old.zip"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(old, "w") as zout:
        for item in zin.infolist():
            raw = zin.read(item.filename)
            if item.filename == "model.json":
                raw = raw.replace(f'"model_id": "{key}"'.encode(), b'"model_id": null')
            zout.writestr(item, raw)
    again = ddl.load_model(old)
    assert GENERATED.fullmatch(again.model_id_) and again.model_id_ != key
    assert ddl.get_model(again.model_id_) is again


def test_imported_mojos_are_listed_under_h2os_id():
    name = "binomial_rectifier"
    model = ddl.import_mojo(MOJOS / f"{name}.zip")
    assert model.model_id == model.model_id_ == name
    assert ddl.get_model(name) is model


def test_get_model_and_ls_are_package_names():
    assert {"get_model", "ls", "remove", "remove_all"} <= set(ddl.__all__)
    from dask_deeplearn.estimators import get_model, ls

    assert ddl.get_model is get_model and ddl.ls is ls
