"""The scikit-learn contract of the estimators.

scikit-learn's own estimator checks run on the classifier, the regressor and the
autoencoder; the checks that cannot apply are listed, with the reason, by each estimator's
``_expected_failed_checks()`` (scikit-learn >= 1.6 no longer reads ``_more_tags`` /
``_xfail_checks``) and show up as xfail, never as a silent skip. The rest of the file
checks what the estimator checks do not: our error messages, feature-name handling,
``partial_fit``, and the meta-estimators (``clone``, ``Pipeline`` with a
``ColumnTransformer``, ``GridSearchCV``, ``cross_val_score``).
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from dask_deeplearn import (
    DataError,
    DeepLearningAutoEncoder,
    DeepLearningClassifier,
    DeepLearningRegressor,
    InvalidParameterError,
)

# small, seeded, single-threaded: every check runs in well under a second
CHECKED = dict(hidden=[16], epochs=10, seed=1, reproducible=True, quiet_mode=True)
TINY = dict(hidden=[8], epochs=3, seed=1, reproducible=True, quiet_mode=True)


def _checked_estimators():
    return [DeepLearningClassifier(**CHECKED), DeepLearningRegressor(**CHECKED),
            DeepLearningAutoEncoder(**CHECKED)]


@parametrize_with_checks(_checked_estimators(),
                         expected_failed_checks=lambda est: est._expected_failed_checks())
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        # H2O-style parameter notes are not what these checks look at
        warnings.simplefilter("ignore", UserWarning)
        check(estimator)


@pytest.mark.parametrize("estimator", _checked_estimators(), ids=lambda e: type(e).__name__)
def test_every_declared_failure_names_a_real_check_and_gives_a_reason(estimator):
    declared = estimator._expected_failed_checks()
    names = {getattr(check, "func", check).__name__
             for _, check in estimator_checks.estimator_checks_generator(estimator)}
    assert declared and set(declared) <= names
    assert all(isinstance(r, str) and len(r) > 40 for r in declared.values())


@pytest.mark.parametrize("estimator", _checked_estimators(), ids=lambda e: type(e).__name__)
def test_tags_describe_missing_values_categoricals_and_determinism(estimator):
    tags = estimator.__sklearn_tags__()
    assert tags.input_tags.allow_nan and tags.input_tags.categorical and tags.input_tags.sparse
    assert not tags.non_deterministic                      # seeded, one thread
    assert clone(estimator).set_params(seed=-1).__sklearn_tags__().non_deterministic
    hogwild = clone(estimator).set_params(reproducible=False, nthreads=-1)
    assert hogwild.__sklearn_tags__().non_deterministic
    assert tags.target_tags.required is not isinstance(estimator, DeepLearningAutoEncoder)


# --------------------------------------------------------------------------- inputs


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    return X, y


def test_wrong_inputs_get_clear_errors(blobs):
    X, y = blobs
    clf = DeepLearningClassifier(**TINY).fit(X, y)
    with pytest.raises(DataError, match="X has 3 features, but DeepLearningClassifier is "
                                        "expecting 4 features as input"):
        clf.predict(X[:, :3])
    with pytest.raises(DataError, match="Reshape your data"):
        clf.predict(X[0])
    with pytest.raises(DataError, match=r"Complex data not supported: X has dtype complex128"):
        DeepLearningClassifier(**TINY).fit(X + 1j, y)
    with pytest.raises(DataError, match=r"0 feature\(s\) \(shape=\(300, 0\)\)"):
        DeepLearningClassifier(**TINY).fit(X[:, :0], y)
    with pytest.raises(DataError, match="n_samples=1"):
        DeepLearningRegressor(**TINY).fit(X[:1], [1.0])
    with pytest.raises(DataError, match="requires y to be passed, but the target y is None"):
        DeepLearningRegressor(**TINY).fit(X, None)
    with pytest.raises(DataError, match=r"Unknown label type: continuous.*DeepLearningRegressor"):
        DeepLearningClassifier(**TINY).fit(X, X[:, 0])
    with pytest.raises(DataError, match=r"numeric y.*such as 'a'"):
        DeepLearningRegressor(**TINY).fit(X[:3], np.array([1, "a", 2.0], dtype=object))
    bad = X.astype(object)
    bad[5, 2] = {"k": 1}
    with pytest.raises(TypeError,
                       match=r"Column 'C3' of X holds a value of type dict at row 5") as exc:
        DeepLearningClassifier(**TINY).fit(bad, y)
    assert isinstance(exc.value, DataError)
    with pytest.warns(Warning, match="A column-vector y was passed"):
        DeepLearningRegressor(**TINY).fit(X, X[:, :1])


def test_unfitted_estimators_raise_sklearn_not_fitted_error(blobs):
    from sklearn.exceptions import NotFittedError as SkNotFitted

    from dask_deeplearn import NotFittedError

    for est in _checked_estimators():
        with pytest.raises(SkNotFitted, match="not fitted yet") as exc:
            est.predict(blobs[0])
        assert isinstance(exc.value, NotFittedError)


def test_object_arrays_are_numbers_and_strings_stay_categorical(blobs):
    X, y = blobs
    clf = DeepLearningClassifier(**TINY).fit(X.astype(object), y)
    assert clf.data_info_.cat_columns == []             # numbers in an object array
    mixed = np.column_stack([X[:, :3], np.where(X[:, 3] > 0, "up", "down")]).astype(object)
    mixed[:, :3] = X[:, :3]
    clf = DeepLearningClassifier(**TINY).fit(mixed, y)
    assert clf.data_info_.cat_columns == ["C4"]
    assert clf.predict(mixed).shape == (len(X),)


def test_sparse_input_is_densified(blobs):
    X, y = blobs
    Xs = X.copy()
    Xs[np.abs(Xs) < 0.8] = 0
    dense = DeepLearningClassifier(**TINY).fit(Xs, y)
    sparse = DeepLearningClassifier(**TINY).fit(sp.csr_matrix(Xs), y)
    np.testing.assert_array_equal(sparse.predict_proba(sp.csc_array(Xs)), dense.predict_proba(Xs))
    ae = DeepLearningAutoEncoder(**TINY).fit(sp.csr_matrix(Xs))
    assert ae.transform(sp.csr_matrix(Xs)).shape == (len(X), 8)


def test_feature_names_are_matched_by_name_and_numpy_by_position(blobs):
    X, y = blobs
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = DeepLearningClassifier(**TINY).fit(df, y)
    np.testing.assert_array_equal(clf.feature_names_in_, np.array(["a", "b", "c", "d"], object))
    assert clf.feature_names_in_.dtype == object and clf.n_features_in_ == 4
    expected = clf.predict_proba(df)
    # H2O semantics: columns are found by name, so their order does not matter
    np.testing.assert_array_equal(clf.predict_proba(df[["d", "c", "b", "a"]]), expected)
    with pytest.raises(DataError, match="'a'"):
        clf.predict(df.drop(columns="a"))
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        np.testing.assert_array_equal(clf.predict_proba(X), expected)
    on_numpy = DeepLearningClassifier(**TINY).fit(X, y)
    assert not hasattr(on_numpy, "feature_names_in_")
    with pytest.warns(UserWarning, match="X has feature names, but DeepLearningClassifier was "
                                         "fitted without feature names"):
        np.testing.assert_array_equal(on_numpy.predict_proba(df), on_numpy.predict_proba(X))
    # refitting on numpy forgets the names
    assert not hasattr(clone(clf).fit(df, y).fit(X, y), "feature_names_in_")


def test_clone_pickle_and_seeded_determinism(blobs):
    X, y = blobs
    clf = DeepLearningClassifier(**TINY, l1=1e-5)
    twin = clone(clf)
    assert twin.get_params() == clf.get_params() and not hasattr(twin, "state_")
    clf.fit(X, y)
    assert not hasattr(clone(clf), "state_")
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    again = clone(clf).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


# --------------------------------------------------------------------------- partial_fit


def test_partial_fit_numpy_blocks_count_samples_and_keep_the_optimizer_state():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 5))
    y = (X[:, 0] - X[:, 2] > 0).astype(int) + (X[:, 1] > 1.2)        # 3 classes
    blocks = np.array_split(np.arange(400), 4)
    clf = DeepLearningClassifier(**TINY)
    # first block without class 2: classes= gives them all (scikit-learn's convention)
    first = blocks[0][y[blocks[0]] < 2]
    clf.partial_fit(X[first], y[first], classes=[0, 1, 2])
    assert list(clf.classes_) == [0, 1, 2] and clf.state_.processed == len(first)
    seen = clf.state_.processed
    for idx in blocks[1:]:
        n_hist = len(clf.scoring_history_)
        clf.partial_fit(X[idx], y[idx])              # later calls: classes optional
        assert clf.state_.processed == seen + len(idx)   # one pass over the block
        assert len(clf.scoring_history_) == n_hist + 1
        seen = clf.state_.processed
    assert clf.n_iter_ == 4 and clf.epochs == TINY["epochs"] and clf.checkpoint is None
    # a one-row block, a one-class block with a constant column
    clf.partial_fit(X[:1], y[:1])
    const = X[:6].copy()
    const[:, 3] = 7.0
    clf.partial_fit(const, np.zeros(6, int), classes=[0, 1, 2])
    assert clf.state_.processed == seen + 7
    # the optimizer state goes on: the same as H2O's checkpoint restart (which keeps the
    # ADADELTA accumulators), and not the same as restarting them from zero
    a, b = X[:200], X[200:]
    ya, yb = y[:200], y[200:]
    pf = DeepLearningRegressor(**TINY).partial_fit(a, ya.astype(float))
    start = pickle.loads(pickle.dumps(pf))
    pf.partial_fit(b, yb.astype(float))
    ckpt = DeepLearningRegressor(**{**TINY, "epochs": 2}, checkpoint=start).fit(b, yb.astype(float))
    np.testing.assert_array_equal(ckpt.state_.W, pf.state_.W)
    cold = pickle.loads(pickle.dumps(start))
    cold.state_.OW[:] = 0
    cold.state_.OB[:] = 0
    cold.partial_fit(b, yb.astype(float))
    assert not np.array_equal(cold.state_.W, pf.state_.W)
    # weights: a later block without them counts each row once; weights that the first
    # call did not have cannot be taken into account, so they are refused
    weighted = DeepLearningRegressor(**TINY).partial_fit(a, ya.astype(float),
                                                         sample_weight=np.full(200, 2.0))
    weighted.partial_fit(b, yb.astype(float))
    assert weighted.state_.processed == 400
    with pytest.raises(DataError, match="sample_weight was given, but the model was first "
                                        "fitted without it"):
        pf.partial_fit(b, yb.astype(float), sample_weight=np.ones(200))


def test_partial_fit_pandas_blocks_and_class_errors():
    rng = np.random.default_rng(2)
    df = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    df["g"] = pd.Categorical(np.where(df["a"] > 0, "p", "q"))
    y = np.where(df["b"] > 0, "hi", "lo")
    clf = DeepLearningClassifier(**TINY).partial_fit(df[:100], y[:100], classes=["hi", "lo"])
    clf.partial_fit(df[100:][["c", "g", "b", "a"]], y[100:])     # by name
    assert clf.state_.processed == 200 and list(clf.feature_names_in_) == ["a", "b", "c", "g"]
    with pytest.raises(DataError, match=r"label\(s\) \['mid'\] that are not among the classes "
                                        r"\['hi', 'lo'\]"):
        clf.partial_fit(df[:3], ["hi", "mid", "lo"])
    with pytest.raises(InvalidParameterError, match=r"classes=\['hi', 'lo', 'mid'\] is not the "
                                                    r"same as on the first call"):
        clf.partial_fit(df[:3], ["hi", "lo", "lo"], classes=["hi", "lo", "mid"])
    with pytest.raises(DataError, match=r"label\(s\) \['mid'\] that are not among the classes "
                                        r"\['hi', 'lo'\] given in classes="):
        DeepLearningClassifier(**TINY).partial_fit(df[:3], ["hi", "mid", "lo"],
                                                   classes=["hi", "lo"])
    with pytest.raises(DataError,
                       match="X has 2 features, but DeepLearningClassifier is expecting 4"):
        clf.partial_fit(df[["a", "b"]].to_numpy(), y[:200])
    with pytest.raises(DataError, match=r"categorical column 'g' has levels \['new'\]"):
        clf.partial_fit(df[:2].assign(g=["new", "p"]), y[:2])
    with pytest.raises(InvalidParameterError, match="partial_fit cannot cross-validate"):
        DeepLearningClassifier(**TINY, nfolds=3).partial_fit(df, y, classes=["hi", "lo"])
    assert clf.state_.processed == 200                  # the failed calls changed nothing


# --------------------------------------------------------------------------- meta-estimators


@pytest.fixture(scope="module")
def mixed_frame():
    rng = np.random.default_rng(3)
    n = 240
    df = pd.DataFrame({
        "x1": rng.normal(size=n) * 10 + 50,
        "x2": rng.normal(size=n),
        "color": pd.Categorical(rng.choice(["red", "green", "blue"], size=n)),
    })
    signal = (df["x1"] - 50) / 10 + df["x2"] + df["color"].map({"red": 1.5, "green": 0.0,
                                                               "blue": -1.5}).astype(float)
    return df, np.where(signal > 0, "pos", "neg"), signal.to_numpy()


def _pipeline(estimator, sparse_threshold=0.3):
    pre = ColumnTransformer([("num", StandardScaler(), ["x1", "x2"]),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), ["color"])],
                            sparse_threshold=sparse_threshold)
    return Pipeline([("pre", pre), ("dl", estimator)])


def test_pipeline_with_a_column_transformer(mixed_frame):
    df, labels, signal = mixed_frame
    clf = _pipeline(DeepLearningClassifier(**{**TINY, "epochs": 20})).fit(df, labels)
    assert clf.score(df, labels) > 0.85
    assert list(clf.classes_) == ["neg", "pos"]
    assert clf.predict_proba(df.iloc[:5]).shape == (5, 2)
    assert clf.named_steps["dl"].n_features_in_ == 5
    # OneHotEncoder's sparse output (sparse_threshold=1) works too
    reg = _pipeline(DeepLearningRegressor(**{**TINY, "epochs": 20}), sparse_threshold=1.0)
    assert reg.fit(df, signal).score(df, signal) > 0.7
    assert clone(reg).get_params()["dl__hidden"] == [8]


def test_grid_search_cv_and_cross_val_score(mixed_frame):
    df, labels, signal = mixed_frame
    search = GridSearchCV(_pipeline(DeepLearningClassifier(**TINY)),
                          {"dl__hidden": [[4], [8]], "dl__l2": [0.0, 1e-3]}, cv=2)
    search.fit(df, labels)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.named_steps["dl"].hidden in ([4], [8])
    assert search.score(df, labels) > 0.7
    scores = cross_val_score(DeepLearningRegressor(**TINY), df[["x1", "x2"]], signal, cv=3)
    assert scores.shape == (3,) and np.isfinite(scores).all()
    scores = cross_val_score(DeepLearningClassifier(**TINY), df, labels, cv=3,
                             scoring="neg_log_loss")
    assert (scores < 0).all()


def test_autoencoder_as_a_pipeline_transformer(blobs):
    X, y = blobs
    pipe = make_pipeline(DeepLearningAutoEncoder(**{**TINY, "hidden": [6, 3, 6]}),
                         LogisticRegression())
    pipe.fit(X, y)
    code = pipe[0].transform(X)
    assert code.shape == (len(X), 3) and code.dtype == np.float64
    assert list(pipe[0].get_feature_names_out()) == ["DF.L2.C1", "DF.L2.C2", "DF.L2.C3"]
    np.testing.assert_array_equal(pipe[0].fit_transform(X), code)
    framed = clone(pipe[0]).set_output(transform="pandas").fit(X).transform(X)
    assert list(framed.columns) == ["DF.L2.C1", "DF.L2.C2", "DF.L2.C3"]
    assert pipe.score(X, y) > 0.5
