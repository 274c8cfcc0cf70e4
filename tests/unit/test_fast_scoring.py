"""The fused first-layer scorer (:mod:`dask_deeplearn.fast_scoring`) against the dense path.

The dense path is ``DataInfo.transform_X`` (float32 one-hot + scaled numerics) then
``network.forward`` in float64; the fused path never builds ``X``. They must agree to
float64 summation order (``RTOL``) on frames with missing numerics, missing and unseen
levels, an offset column, for every output (binomial, multinomial, identity and log link
regression) and every one-hot / numeric encoding, and the fused path must not be used
where it is not equivalent (hashing, autoencoders), with unchanged results.

Part 1 builds networks with random weights and biases on a fitted ``DataInfo`` (cheap,
many layouts); part 2 fits tiny models and compares ``Scorer.predict_pandas`` outputs
(values, dtypes, index, column names) with the fused path on and off.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest

from dask_deeplearn import fast_scoring
from dask_deeplearn.network import NetworkSpec, forward, init_state
from dask_deeplearn.preprocessing import DataInfo
from dask_deeplearn.scorer import Scorer
from dask_deeplearn.training.balance import MODEL_KEY, PRIOR_KEY
from dask_deeplearn.training.scoring import predict_block

RTOL = 1e-12
TINY = dict(hidden=[8, 4], epochs=1, seed=1, reproducible=True, quiet_mode=True)
FEATURES = ["num1", "num2", "cat_s", "cat_c", "cat_many", "cat_int"]

# --------------------------------------------------------------------------- data


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    many = [f"L{i:02d}" for i in range(14)]
    df = pd.DataFrame({
        "num1": rng.normal(size=n),
        "num2": rng.normal(50.0, 20.0, size=n),
        "cat_s": rng.choice(["red", "green", "blue", "black"], n).astype(object),
        "cat_c": pd.Categorical(rng.choice(["lo", "mid", "hi"], n), categories=["lo", "mid", "hi"]),
        "cat_many": rng.choice(many, n).astype(object),
        "cat_int": pd.Categorical(rng.choice([1, 2, 3], n)),
    })
    df.loc[rng.random(n) < 0.08, "num1"] = np.nan
    df.loc[rng.random(n) < 0.08, "cat_s"] = None
    df.loc[rng.random(n) < 0.05, "cat_many"] = None
    red = (df["cat_s"] == "red").to_numpy()
    x1 = df["num1"].fillna(0.0).to_numpy()
    df["y_bin"] = np.where(x1 + 0.8 * red + rng.normal(0, 0.3, n) > 0.3, "yes", "no")
    score = x1 + (df["cat_c"] == "hi").to_numpy() - 0.02 * (df["num2"].to_numpy() - 50)
    df["y_multi"] = pd.Categorical(np.select([score < -0.5, score < 0.7], ["a", "b"], "c"))
    df["y_int"] = np.select([score < -0.5, score < 0.7], [3, 7], 11)
    df["y_reg"] = 300.0 + 40.0 * x1 + 0.5 * df["num2"] + 30.0 * red + rng.normal(0, 5, n)
    df["off"] = rng.normal(0.0, 0.3, n)
    df["y_count"] = rng.poisson(np.exp(0.5 + 0.4 * x1 + 0.3 * red + df["off"].to_numpy())).astype(float)
    return df


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    return _frame(300, 0)


def _scoring_rows(n: int = 90) -> pd.DataFrame:
    """Predictors and the offset, with missing values and unseen levels everywhere, and
    a non-default index."""
    te = _frame(n, 1)[FEATURES + ["off"]].copy()
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
    te.index = pd.RangeIndex(1000, 1000 + n, 1)[::-1]      # reversed, not 0..n-1
    return te


@pytest.fixture(scope="module")
def test_frame() -> pd.DataFrame:
    return _scoring_rows()


@pytest.fixture(params=["one_chunk", "small_chunks_one_table_per_column"])
def layout(request, monkeypatch):
    """The default chunking and grouping, and 7-row chunks (a partial last one) with one
    gather table per categorical column."""
    if request.param != "one_chunk":
        monkeypatch.setattr(fast_scoring, "CHUNK_ROWS", 7)
        monkeypatch.setattr(fast_scoring, "MAX_TABLE_BYTES", 0)
    return request.param


def _close(got, want, *, rtol=RTOL):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype
    scale = float(np.max(np.abs(want))) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale)


def _dense(scorer: Scorer) -> Scorer:
    out = copy.copy(scorer)
    out.fast = False
    return out


# --------------------------------------------------------------------------- part 1


def _random_scorer(info: DataInfo, *, hidden, activation, output, n_out, dropout=None,
                   task, distribution="AUTO", params=None, classes=None, seed=0) -> Scorer:
    ratios = tuple(dropout or [0.0] * len(hidden))
    spec = NetworkSpec((info.n_inputs, *hidden, n_out), activation, output, ratios)
    state = init_state(spec, seed=seed)
    rng = np.random.default_rng(seed)
    state.B[:] = rng.normal(0.0, 0.5, state.B.shape).astype(np.float32)  # not H2O's constants
    return Scorer(info, state, task, distribution, dict(params or {}),
                  None if classes is None else np.asarray(classes), 0.5)


INFO_CASES = {
    "onehot": dict(),
    "onehot_reference_level": dict(use_all_factor_levels=False),
    "unstandardized": dict(standardize=False),
    "descale": dict(sparse=True),
    "sortbyresponse": dict(categorical_encoding="SortByResponse"),
    "enumlimited": dict(categorical_encoding="EnumLimited"),
    "binary": dict(categorical_encoding="Binary"),
    "eigen": dict(categorical_encoding="Eigen"),
    "labelencoder": dict(categorical_encoding="LabelEncoder"),
}

NET_CASES = {
    "rectifier_2_layers": dict(hidden=(8, 5), activation="Rectifier"),
    "tanh_dropout": dict(hidden=(6, 4), activation="TanhWithDropout", dropout=[0.3, 0.1]),
    "maxout": dict(hidden=(5, 3), activation="Maxout"),
    "maxout_dropout_1_layer": dict(hidden=(7,), activation="MaxoutWithDropout", dropout=[0.2]),
    "rectifier_dropout_3_layers": dict(hidden=(9, 6, 4), activation="RectifierWithDropout",
                                       dropout=[0.5, 0.0, 0.25]),
    "no_hidden_layer": dict(hidden=(), activation="Rectifier"),
}


@pytest.mark.parametrize("info_case", list(INFO_CASES))
@pytest.mark.parametrize("net_case", list(NET_CASES))
def test_fused_forward_equals_dense_forward(train, test_frame, layout, info_case, net_case):
    info = DataInfo.fit(train[FEATURES + ["y_multi"]], response="y_multi", **INFO_CASES[info_case])
    sc = _random_scorer(info, output="softmax", n_out=3, task="classification",
                        classes=["a", "b", "c"], **NET_CASES[net_case])
    net = fast_scoring.fused_network(info, sc.state)
    assert net is not None
    cat_codes, num_values = info.scoring_inputs(test_frame)
    got = net.forward(cat_codes, num_values)
    want = forward(sc.state.spec, sc.state.W, sc.state.B, info.transform_X(test_frame))
    _close(got.T, want)
    # and the same through the scorer (the fused path taken, C-contiguous like before)
    assert sc._fast_raw(test_frame) is not None
    raw = sc.raw(test_frame)
    assert raw.flags.c_contiguous
    _close(raw, _dense(sc).raw(test_frame))


@pytest.mark.parametrize("info_case", ["onehot", "onehot_reference_level", "binary"])
@pytest.mark.parametrize("distribution", ["gaussian", "poisson"])
def test_fused_linear_output_with_offset(train, test_frame, layout, info_case, distribution):
    info = DataInfo.fit(train[FEATURES + ["off", "y_count"]], response="y_count",
                        offset_column="off", distribution=distribution, task="regression",
                        **INFO_CASES[info_case])
    assert (info.response_mean is not None) == (distribution == "gaussian")
    sc = _random_scorer(info, hidden=(6, 5), activation="Tanh", output="linear", n_out=1,
                        task="regression", distribution=distribution,
                        params={"offset_column": "off"})
    assert sc._fast_raw(test_frame) is not None
    block = info.transform(test_frame, training=False)
    want = predict_block(sc.state, block.X, block.offset, task="regression",
                         distribution=distribution, response_mean=info.response_mean,
                         response_sd=info.response_sd)
    _close(sc.raw(test_frame), want)
    # the offset matters (a wrong offset would not pass)
    shifted = test_frame.assign(off=test_frame["off"] + 1.0)
    assert not np.allclose(sc.raw(shifted), want)


def test_fused_numerics_only_and_categoricals_only(train, test_frame, layout):
    for cols in (["num1", "num2"], ["cat_s", "cat_c", "cat_many", "cat_int"]):
        info = DataInfo.fit(train[cols + ["y_bin"]], response="y_bin")
        sc = _random_scorer(info, hidden=(5,), activation="Rectifier", output="softmax",
                            n_out=2, task="classification", classes=["no", "yes"])
        assert sc._fast_raw(test_frame) is not None
        _close(sc.raw(test_frame), _dense(sc).raw(test_frame))


def test_numerics_are_rounded_to_float32_as_the_dense_inputs(train, test_frame):
    """The fused path must reproduce X's float32 rounding: without it, results move by
    ~1e-8 relative, far outside RTOL (so the tolerance does test the rounding)."""
    info = DataInfo.fit(train[FEATURES + ["y_bin"]], response="y_bin")
    sc = _random_scorer(info, hidden=(8, 4), activation="Tanh", output="softmax", n_out=2,
                        task="classification", classes=["no", "yes"])
    cat_codes, num_values = info.scoring_inputs(test_frame)
    dense = forward(sc.state.spec, sc.state.W, sc.state.B, info.transform_X(test_frame))
    _close(fast_scoring.fused_network(info, sc.state).forward(cat_codes, num_values).T, dense)
    # a float64 first layer (what a fused path without the rounding computes) differs
    num = np.stack([(np.where(np.isnan(v), f, v) - s) * m for v, f, s, m in
                    zip(num_values, info.num_fill, info.num_sub, info.num_mul)], axis=1)
    X64 = info.transform_X(test_frame).astype(np.float64)
    X64[:, info.n_inputs - len(info.num_columns):] = num
    unrounded = forward(sc.state.spec, sc.state.W, sc.state.B, X64)
    assert np.max(np.abs(unrounded - dense) / np.abs(dense)) > 1e-10


def test_class_correction_of_balanced_models(train, test_frame):
    info = DataInfo.fit(train[FEATURES + ["y_multi"]], response="y_multi")
    sc = _random_scorer(info, hidden=(6,), activation="Rectifier", output="softmax", n_out=3,
                        task="classification", classes=["a", "b", "c"],
                        params={PRIOR_KEY: [0.2, 0.5, 0.3], MODEL_KEY: [1 / 3, 1 / 3, 1 / 3]})
    plain = dataclasses.replace(sc, params={})
    assert sc._fast_raw(test_frame) is not None
    got = sc.raw(test_frame)
    _close(got, _dense(sc).raw(test_frame))
    assert not np.allclose(got, plain.raw(test_frame))


def test_hashing_takes_the_dense_path(train, test_frame):
    info = DataInfo.fit(train[FEATURES + ["y_bin"]], response="y_bin", max_categorical_features=3)
    assert info.hashing
    sc = _random_scorer(info, hidden=(5,), activation="Rectifier", output="softmax", n_out=2,
                        task="classification", classes=["no", "yes"])
    assert fast_scoring.unsupported_reason(info, sc.state) == "max_categorical_features hashing"
    assert fast_scoring.fused_network(info, sc.state) is None
    assert sc._fast_raw(test_frame) is None
    want = forward(sc.state.spec, sc.state.W, sc.state.B, info.transform_X(test_frame))
    np.testing.assert_array_equal(sc.raw(test_frame), want)


# --------------------------------------------------------------------------- part 2


def _fit(case: str, tr: pd.DataFrame):
    from dask_deeplearn import (DeepLearningAutoEncoder, DeepLearningClassifier,
                                DeepLearningEstimator, DeepLearningRegressor)

    X = tr[FEATURES]
    if case == "binomial":
        return DeepLearningClassifier(**TINY).fit(X, tr["y_bin"])
    if case == "multinomial_maxout_reference_level":
        return DeepLearningClassifier(activation="Maxout", use_all_factor_levels=False,
                                      **TINY).fit(X, tr["y_multi"])
    if case == "multinomial_int_labels_dropout":
        return DeepLearningClassifier(activation="RectifierWithDropout",
                                      hidden_dropout_ratios=[0.3, 0.2], **TINY).fit(X, tr["y_int"])
    if case == "binomial_sortbyresponse":
        return DeepLearningClassifier(categorical_encoding="SortByResponse", **TINY).fit(X, tr["y_bin"])
    if case == "binomial_eigen":
        return DeepLearningClassifier(categorical_encoding="Eigen", **TINY).fit(X, tr["y_bin"])
    if case == "gaussian_tanh":
        return DeepLearningRegressor(activation="Tanh", **TINY).fit(X, tr["y_reg"])
    if case == "poisson_binary":
        return DeepLearningRegressor(distribution="poisson", categorical_encoding="Binary",
                                     **TINY).fit(X, tr["y_count"])
    if case == "offset_gaussian":
        return DeepLearningEstimator(**TINY).train(x=FEATURES, y="y_reg", training_frame=tr,
                                                   offset_column="off")
    if case == "offset_poisson_labelencoder":
        return DeepLearningEstimator(distribution="poisson", categorical_encoding="LabelEncoder",
                                     **TINY).train(x=FEATURES, y="y_count", training_frame=tr,
                                                   offset_column="off")
    if case == "binomial_hashing":
        return DeepLearningClassifier(max_categorical_features=4, **TINY).fit(X, tr["y_bin"])
    if case == "autoencoder":
        return DeepLearningAutoEncoder(hidden=[5], epochs=1, seed=1, reproducible=True,
                                       quiet_mode=True).fit(X)
    raise AssertionError(case)


FITTED = ["binomial", "multinomial_maxout_reference_level", "multinomial_int_labels_dropout",
          "binomial_sortbyresponse", "binomial_eigen", "gaussian_tanh", "poisson_binary",
          "offset_gaussian", "offset_poisson_labelencoder", "binomial_hashing"]
FALLBACK = {"binomial_hashing"}


def _assert_same(got, want):
    assert type(got) is type(want)
    if isinstance(want, pd.DataFrame):
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=RTOL,
                                      atol=RTOL * float(np.abs(want.select_dtypes("number")).max().max()))
    else:
        if want.dtype.kind == "f":
            pd.testing.assert_series_equal(got, want, check_exact=False, rtol=RTOL,
                                           atol=RTOL * float(np.abs(want).max()))
        else:
            pd.testing.assert_series_equal(got, want, check_exact=True)


@pytest.mark.parametrize("case", FITTED)
def test_predictions_of_fitted_models_equal_the_dense_path(train, test_frame, layout, case):
    model = _fit(case, train)
    scorer = model._scorer()
    dense = _dense(scorer)
    frame = test_frame if case.startswith("offset") else test_frame[FEATURES]
    assert (scorer._fast_raw(frame) is None) == (case in FALLBACK)
    kinds = ["h2o"] + (["proba", "label"] if model.task_ == "classification" else ["value"])
    for kind in kinds:
        _assert_same(scorer.predict_pandas(frame, kind), dense.predict_pandas(frame, kind))
    _close(scorer.raw(frame), dense.raw(frame))
    # the estimator's own prediction goes through the same scorer
    h2o = scorer.predict_pandas(frame, "h2o")
    if model.task_ == "classification":
        assert h2o["predict"].dtype == dense.predict_pandas(frame, "h2o")["predict"].dtype
        np.testing.assert_array_equal(np.asarray(model.predict(frame)).astype(str),
                                      h2o["predict"].astype(str).to_numpy())


def test_offset_models_with_the_response_in_the_frame_take_the_dense_path(train):
    model = _fit("offset_gaussian", train)
    scorer = model._scorer()
    frame = _frame(40, 3)
    assert scorer._fast_raw(frame) is None                     # y_reg present: dense
    assert scorer._fast_raw(frame.drop(columns="y_reg")) is not None
    _close(scorer.raw(frame), scorer.raw(frame.drop(columns="y_reg")))


def test_offset_errors_are_the_dense_path_errors(train, test_frame):
    from dask_deeplearn.exceptions import DataError

    scorer = _fit("offset_gaussian", train)._scorer()
    for bad in (test_frame.drop(columns="off"), test_frame.assign(off=np.nan)):
        with pytest.raises(DataError) as fast_err:
            scorer.raw(bad)
        with pytest.raises(DataError) as dense_err:
            _dense(scorer).raw(bad)
        assert str(fast_err.value) == str(dense_err.value)


def test_autoencoder_outputs_are_unchanged(train, test_frame):
    model = _fit("autoencoder", train)
    scorer = model._scorer()
    assert scorer._fused() is None
    frame = test_frame[FEATURES]
    X = scorer.data_info.transform_X(frame)
    out = forward(scorer.state.spec, scorer.state.W, scorer.state.B, X)
    rec = scorer.predict_pandas(frame, "reconstruction")
    _close(rec.to_numpy(), scorer.reconstruction(X))
    anomaly = scorer.predict_pandas(frame, "anomaly")
    np.testing.assert_allclose(anomaly.to_numpy()[:, 0],
                               ((out - X.astype(np.float64)) ** 2).mean(axis=1), rtol=1e-12)
    assert list(anomaly.index) == list(frame.index)


def test_string_labels_keep_the_astype_str_dtype(train, test_frame):
    scorer = _fit("binomial", train)._scorer()
    frame = test_frame[FEATURES]
    labels = scorer.predict_pandas(frame, "label")
    proba = scorer.raw(frame)
    want = pd.Series(pd.Categorical.from_codes(scorer.label_index(proba),
                                               categories=list(scorer.classes.tolist())),
                     index=frame.index, name="predict").astype(str)
    pd.testing.assert_series_equal(labels, want, check_exact=True)


def test_pickled_scorer_ships_no_caches_and_scores_the_same(train, test_frame):
    scorer = _fit("binomial", train)._scorer()
    frame = test_frame[FEATURES]
    before = scorer.predict_pandas(frame, "h2o")
    assert scorer._fused() is not None
    blob = pickle.dumps(scorer)
    back = pickle.loads(blob)
    assert "_fused_net" not in back.__dict__ and "_label_array" not in back.__dict__
    assert len(blob) == len(pickle.dumps(dataclasses.replace(scorer)))  # a fresh scorer
    pd.testing.assert_frame_equal(back.predict_pandas(frame, "h2o"), before)
