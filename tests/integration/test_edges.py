"""Types at the edges: what goes in and what comes out of ``predict`` / ``predict_proba``.

* numpy in -> numpy out; a Dask Array in -> a Dask Array out (rows chunked as the input);
  pandas and Dask DataFrames as before;
* polars DataFrames and LazyFrames are accepted (converted to pandas), and anything else
  unknown is refused naming the argument, its type and what is accepted;
* a fitted model pickles: ``pickle.loads(pickle.dumps(model))`` predicts identically
  (scikit-learn face, H2O face, and a model trained on a real Dask cluster).
"""

from __future__ import annotations

import pickle

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes

from dask_deeplearn import DeepLearningClassifier, DeepLearningEstimator, DeepLearningRegressor
from dask_deeplearn.exceptions import DataError


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X.iloc[:, :8], y


@pytest.fixture(scope="module")
def clf(cancer):
    X, y = cancer
    return DeepLearningClassifier(hidden=[8], epochs=2, seed=1, reproducible=True,
                                  quiet_mode=True).fit(X.to_numpy(), y.to_numpy())


@pytest.fixture(scope="module")
def reg():
    X, y = load_diabetes(return_X_y=True)
    return DeepLearningRegressor(hidden=[8], epochs=2, seed=1, reproducible=True,
                                 quiet_mode=True).fit(X, y)


# --------------------------------------------------------------------------- Dask arrays
def test_numpy_in_gives_numpy_out(clf, cancer):
    X = cancer[0].to_numpy()
    assert isinstance(clf.predict(X), np.ndarray)
    assert isinstance(clf.predict_proba(X), np.ndarray)


def test_a_dask_array_in_gives_a_dask_array_out_chunked_like_the_input(clf, reg, cancer):
    X = cancer[0].to_numpy()
    dX = da.from_array(X, chunks=(100, X.shape[1]))
    labels = clf.predict(dX)
    proba = clf.predict_proba(dX)
    assert isinstance(labels, da.Array) and isinstance(proba, da.Array)
    assert labels.chunks == (dX.chunks[0],)
    assert proba.chunks == (dX.chunks[0], (2,))
    np.testing.assert_array_equal(labels.compute(), clf.predict(X))
    np.testing.assert_allclose(proba.compute(), clf.predict_proba(X), rtol=0, atol=1e-12)
    assert proba.dtype == np.float64

    Xr = load_diabetes(return_X_y=True)[0]
    values = reg.predict(da.from_array(Xr, chunks=(150, Xr.shape[1])))
    assert isinstance(values, da.Array) and values.ndim == 1
    np.testing.assert_allclose(values.compute(), reg.predict(Xr), rtol=0, atol=1e-12)


def test_a_dask_array_of_unknown_chunk_sizes_gives_one_of_unknown_sizes(clf, cancer):
    X = cancer[0].to_numpy()
    ddf = dd.from_pandas(pd.DataFrame(X), npartitions=3)
    dX = ddf.to_dask_array()                       # row chunks unknown (nan)
    labels = clf.predict(dX)
    assert isinstance(labels, da.Array)
    np.testing.assert_array_equal(labels.compute(), clf.predict(X))


def test_dask_dataframes_still_give_dask_dataframes_and_series(clf, cancer):
    ddf = dd.from_pandas(pd.DataFrame(cancer[0].to_numpy()), npartitions=2)
    assert isinstance(clf.predict(ddf), dd.Series)
    assert isinstance(clf.predict_proba(ddf), dd.DataFrame)


# --------------------------------------------------------------------------- polars
def test_polars_frames_are_accepted_for_fit_predict_and_train(cancer):
    pl = pytest.importorskip("polars")
    X, y = cancer
    Xpl = pl.from_pandas(X)
    model = DeepLearningClassifier(hidden=[8], epochs=2, seed=1, reproducible=True,
                                   quiet_mode=True).fit(Xpl, pl.Series("target", y.to_numpy()))
    same = DeepLearningClassifier(hidden=[8], epochs=2, seed=1, reproducible=True,
                                  quiet_mode=True).fit(X, y)
    np.testing.assert_array_equal(model.predict_proba(Xpl), same.predict_proba(X))
    np.testing.assert_array_equal(model.predict_proba(Xpl.lazy()), same.predict_proba(X))
    assert list(model.feature_names_in_) == list(X.columns)

    frame = X.assign(target=pd.Categorical(y.map({0: "malignant", 1: "benign"})))
    h2o = DeepLearningEstimator(hidden=[8], epochs=2, seed=1, reproducible=True,
                                quiet_mode=True)
    h2o.train(y="target", training_frame=pl.from_pandas(frame).lazy())
    out = h2o.predict(pl.from_pandas(frame))
    ref = DeepLearningEstimator(hidden=[8], epochs=2, seed=1, reproducible=True,
                                quiet_mode=True)
    ref.train(y="target", training_frame=frame)
    pd.testing.assert_frame_equal(out, ref.predict(frame))


def test_an_unsupported_input_type_is_refused_naming_the_argument_type_and_the_accepted(clf):
    with pytest.raises(DataError) as info:
        clf.predict({"a": [1.0, 2.0]})
    msg = str(info.value)
    assert "X" in msg and "dict" in msg and "polars" in msg and "pandas" in msg


# --------------------------------------------------------------------------- pickling
def test_pickled_scikit_learn_models_predict_identically(clf, reg, cancer):
    X = cancer[0].to_numpy()
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(back.predict(X), clf.predict(X))
    pd.testing.assert_frame_equal(back.scoring_history_, clf.scoring_history_)
    assert back.model_id_ == clf.model_id_
    Xr = load_diabetes(return_X_y=True)[0]
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(reg)).predict(Xr), reg.predict(Xr))


def test_a_pickled_h2o_style_model_predicts_identically(cancer):
    X, y = cancer
    frame = X.assign(target=pd.Categorical(y.map({0: "malignant", 1: "benign"})))
    model = DeepLearningEstimator(hidden=[8], epochs=2, seed=1, reproducible=True,
                                  quiet_mode=True)
    model.train(y="target", training_frame=frame)
    back = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(back.predict(frame), model.predict(frame))
    assert back.mse() == model.mse() and back.model_id == model.model_id


def test_a_model_trained_on_a_dask_cluster_pickles_and_predicts_identically(client, cancer):
    X, y = cancer
    ddf = dd.from_pandas(X.assign(target=y), npartitions=4).persist()
    features = list(X.columns)
    model = DeepLearningClassifier(hidden=[8], epochs=2, seed=1, quiet_mode=True)
    model.fit(ddf[features], ddf["target"], client=client)
    assert model.backend_ == "dask"
    back = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))
    lazy = back.predict_proba(ddf[features]).compute()
    np.testing.assert_allclose(lazy.to_numpy(), model.predict_proba(X), rtol=0, atol=1e-12)


def test_polars_categorical_levels_are_sorted_and_enum_levels_keep_their_order():
    pl = pytest.importorskip("polars")
    from dask_deeplearn.estimators._inputs import as_frame

    frame = pl.DataFrame({
        "cat": pl.Series(["z", "b", "z", "a"], dtype=pl.Categorical),
        "enum": pl.Series(["z", "b", "z", "a"], dtype=pl.Enum(["z", "b", "a"])),
        "x": [1.0, 2.0, 3.0, 4.0]})
    out, named = as_frame(frame)
    assert named and list(out.columns) == ["cat", "enum", "x"]
    assert list(out["cat"].cat.categories) == ["a", "b", "z"]
    assert list(out["enum"].cat.categories) == ["z", "b", "a"]
    assert out["cat"].tolist() == ["z", "b", "z", "a"]
    series, _ = as_frame(frame["cat"])
    assert list(series["cat"].cat.categories) == ["a", "b", "z"]
