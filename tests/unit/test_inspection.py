"""Tests for :mod:`dask_deeplearn.inspection`, the estimators' ``InspectionMixin`` and
``DataInfo.cat_na_seen``."""

from __future__ import annotations

import copy
import json
import re

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from dask_deeplearn import DeepLearningClassifier, DeepLearningRegressor
from dask_deeplearn.estimators._inspect import InspectionMixin
from dask_deeplearn.inspection import (
    SUMMARY_COLUMNS,
    VARIMP_COLUMNS,
    gedeon_importances,
    summary_table,
    summary_title,
    varimp_table,
)
from dask_deeplearn.network import ModelState, NetworkSpec, init_state
from dask_deeplearn.preprocessing import DataInfo


# --------------------------------------------------------------------------- helpers
def reference_gedeon(W0: np.ndarray, W1: np.ndarray | None) -> np.ndarray:
    """Direct loop implementation of H2O's Gedeon importance (float64), matrices (rows, cols)."""
    A0 = np.abs(W0.astype(np.float64))
    n_hidden, n_in = A0.shape
    if W1 is None:
        vi = np.array([sum(A0[j, i] for j in range(n_hidden)) for i in range(n_in)])
        return vi / vi.max()
    A1 = np.abs(W1.astype(np.float64))
    n_next = A1.shape[0]
    S1 = [sum(A0[j, i] for i in range(n_in)) for j in range(n_hidden)]
    S2 = [sum(A1[k, j] for j in range(n_hidden)) for k in range(n_next)]
    Q = np.zeros((n_in, n_next))
    for i in range(n_in):
        for k in range(n_next):
            Q[i, k] = sum(A0[j, i] / S1[j] * A1[k, j] / S2[k] for j in range(n_hidden))
    for k in range(n_next):
        Q[:, k] /= Q[:, k].sum()
    vi = Q.sum(axis=1)
    return vi / vi.max()


def spec_with_weights(units, activation="Tanh", output="linear", seed=0):
    spec = NetworkSpec(units=units, activation=activation, output=output,
                       hidden_dropout_ratios=(0.0,) * (len(units) - 2))
    W = np.random.default_rng(seed).normal(size=spec.n_weights).astype(np.float32)
    return spec, W


@pytest.fixture(scope="module")
def cat_frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 200
    with_na = rng.choice(["a", "b", "c"], n).astype(object)
    with_na[::10] = None
    return pd.DataFrame({
        "x": rng.normal(size=n),
        "g": pd.Series(with_na, dtype=object),               # has missing values
        "h": pd.Categorical(rng.choice(["p", "q"], n)),      # never missing
        "z": rng.normal(size=n),
        "y": rng.normal(size=n),
    })


@pytest.fixture(scope="module")
def reg_model() -> DeepLearningRegressor:
    """Small in-process ADADELTA regressor."""
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(600, 5)), columns=[f"x{i}" for i in range(5)])
    X["cat"] = pd.Categorical(rng.choice(["u", "v", "w"], 600))
    y = X["x0"] - 2 * X["x1"]
    return DeepLearningRegressor(hidden=[16], epochs=5, seed=1, reproducible=True,
                                 quiet_mode=True).fit(X, y)


# --------------------------------------------------------------------------- Gedeon
def test_gedeon_hand_computed() -> None:
    # W0 (hidden x inputs) = [[1, -3], [-2, 2]], W1 (output x hidden) = [[1, -1]]
    # S1 = [4, 4], S2 = [2]; Q[0] = 1/4*1/2 + 2/4*1/2 = 3/8, Q[1] = 3/4*1/2 + 2/4*1/2 = 5/8
    # column sum 1 -> vi = [0.375, 0.625] -> scaled [0.6, 1.0]
    spec = NetworkSpec(units=(2, 2, 1), activation="Tanh", output="linear", hidden_dropout_ratios=(0.0,))
    W = np.array([1, -3, -2, 2, 1, -1], dtype=np.float32)
    vi = gedeon_importances(spec, W)
    assert vi.dtype == np.float32
    np.testing.assert_allclose(vi, [0.6, 1.0], rtol=1e-6)


@pytest.mark.parametrize("units", [(5, 4, 3), (6, 7, 3, 2), (4, 3, 1)])
def test_gedeon_matches_reference(units: tuple) -> None:
    spec, W = spec_with_weights(units, output="softmax" if units[-1] > 1 else "linear")
    vi = gedeon_importances(spec, W)
    W0 = spec.layer_weights(W, 0)[:, 0, :]
    W1 = spec.layer_weights(W, 1)[:, 0, :]
    np.testing.assert_allclose(vi, reference_gedeon(W0, W1), rtol=2e-5)
    assert vi.shape == (units[0],)
    assert vi.max() == pytest.approx(1.0)
    assert (vi > 0).all()


def test_gedeon_no_hidden_layer() -> None:
    spec = NetworkSpec(units=(3, 2), activation="Tanh", output="softmax", hidden_dropout_ratios=())
    W = np.array([1, -2, 0.5, -3, 0, 0.5], dtype=np.float32)  # rows = outputs
    vi = gedeon_importances(spec, W)
    # column sums of |W|: [4, 2, 1] -> / 4
    np.testing.assert_allclose(vi, [1.0, 0.5, 0.25], rtol=1e-7)
    spec2, W2 = spec_with_weights((6, 3), output="softmax", seed=3)
    np.testing.assert_allclose(gedeon_importances(spec2, W2),
                               reference_gedeon(spec2.layer_weights(W2, 0)[:, 0, :], None), rtol=1e-6)


def test_gedeon_maxout_sums_channels() -> None:
    # deliberate difference from H2O: |w| of a Maxout unit = sum over its two channels
    spec, W = spec_with_weights((5, 4, 3, 2), activation="Maxout", output="softmax", seed=5)
    assert int(spec.k[0]) == 2 and int(spec.k[1]) == 2
    W0 = np.abs(spec.layer_weights(W, 0)).sum(axis=1)
    W1 = np.abs(spec.layer_weights(W, 1)).sum(axis=1)
    vi = gedeon_importances(spec, W)
    np.testing.assert_allclose(vi, reference_gedeon(W0, W1), rtol=2e-5)
    # ... and differs from using channel 0 only
    only0 = reference_gedeon(spec.layer_weights(W, 0)[:, 0, :], spec.layer_weights(W, 1)[:, 0, :])
    assert not np.allclose(vi, only0, rtol=1e-3)


def test_gedeon_scaling_and_zero_rows() -> None:
    spec, W = spec_with_weights((4, 3, 1), seed=2)
    W = W * 1000.0
    vi = gedeon_importances(spec, W)
    assert vi.max() == pytest.approx(1.0, abs=1e-7)
    # importances do not depend on the scale of the weights
    np.testing.assert_allclose(vi, gedeon_importances(spec, W / 1000.0), rtol=1e-5)
    # a hidden unit with no incoming weight contributes 0 instead of NaN
    W[spec.w_off[0]: spec.w_off[0] + 4] = 0.0
    vi = gedeon_importances(spec, W)
    assert np.isfinite(vi).all() and vi.max() == pytest.approx(1.0)
    # all-zero network: zeros, no NaN
    assert (gedeon_importances(spec, np.zeros(spec.n_weights, np.float32)) == 0).all()
    with pytest.raises(ValueError, match="shape"):
        gedeon_importances(spec, W[:-1])


# --------------------------------------------------------------------------- DataInfo.cat_na_seen
def test_cat_na_seen_pandas(cat_frame: pd.DataFrame) -> None:
    info = DataInfo.fit(cat_frame, response="y")
    assert info.cat_na_seen == {"g": True, "h": False}


@pytest.mark.parametrize("npartitions", [1, 4])
def test_cat_na_seen_dask_merges_partitions(cat_frame: pd.DataFrame, npartitions: int) -> None:
    df = cat_frame.copy()
    g = df["g"].fillna("a")
    g.iloc[-1] = None  # the only missing value, in the last partition
    df["g"] = g
    info = DataInfo.fit(dd.from_pandas(df, npartitions=npartitions), response="y")
    assert info.cat_na_seen == {"g": True, "h": False}
    assert info.cat_na_seen == DataInfo.fit(df, response="y").cat_na_seen
    # the dask partitions really split the data (the missing value is in one partition only)
    parts = dd.from_pandas(df, npartitions=npartitions).to_delayed()
    assert sum(int(p.compute()["g"].isna().any()) for p in parts) == 1


def test_cat_na_seen_serialisation(cat_frame: pd.DataFrame) -> None:
    info = DataInfo.fit(cat_frame, response="y")
    d = json.loads(json.dumps(info.to_dict()))
    back = DataInfo.from_dict(d)
    assert back.cat_na_seen == {"g": True, "h": False}
    assert back == info
    # description written before the field existed: every NA slot counts as seen
    del d["cat_na_seen"]
    old = DataInfo.from_dict(d)
    assert old.cat_na_seen == {"g": True, "h": True}
    vi = np.ones(info.n_inputs)
    na_h = int(info.cat_offsets[info.cat_columns.index("h") + 1] - 1)
    row = varimp_table(vi, old).set_index("variable").loc[info.input_names[na_h]]
    assert row["relative_importance"] == 1.0


# --------------------------------------------------------------------------- varimp_table
def test_varimp_table_na_slot_sorting_and_columns(cat_frame: pd.DataFrame) -> None:
    info = DataInfo.fit(cat_frame, response="y")
    n = info.n_inputs
    vi = np.linspace(0.1, 1.0, n)[::-1].copy()  # decreasing in input order
    na = {c: int(info.cat_offsets[i + 1] - 1) for i, c in enumerate(info.cat_columns)}
    vi[na["h"]] = 5.0  # largest, but the NA of "h" was never seen -> 0
    table = varimp_table(vi, info)
    assert list(table.columns) == VARIMP_COLUMNS
    assert len(table) == n
    by_name = table.set_index("variable")
    assert by_name.loc[info.input_names[na["h"]], "relative_importance"] == 0.0
    assert by_name.loc[info.input_names[na["g"]], "relative_importance"] == pytest.approx(vi[na["g"]])
    assert table["scaled_importance"].max() == pytest.approx(1.0)
    assert table["percentage"].sum() == pytest.approx(1.0)
    assert (np.diff(table["relative_importance"].to_numpy()) <= 0).all()
    expected = vi.copy()
    expected[na["h"]] = 0.0
    np.testing.assert_allclose(by_name.loc[info.input_names, "scaled_importance"],
                               expected / expected.max())
    np.testing.assert_allclose(by_name.loc[info.input_names, "percentage"], expected / expected.sum())


def test_varimp_table_stable_ties(cat_frame: pd.DataFrame) -> None:
    info = DataInfo.fit(cat_frame[["x", "z", "y"]], response="y")
    table = varimp_table(np.array([0.5, 0.5]), info)
    assert table["variable"].tolist() == ["x", "z"]
    with pytest.raises(ValueError, match="inputs"):
        varimp_table(np.ones(3), info)


def test_varimp_table_aggregate(cat_frame: pd.DataFrame) -> None:
    info = DataInfo.fit(cat_frame, response="y")
    rng = np.random.default_rng(0)
    vi = rng.uniform(0.1, 1.0, info.n_inputs)
    agg = varimp_table(vi, info, aggregate=True)
    assert list(agg.columns) == VARIMP_COLUMNS
    assert sorted(agg["variable"]) == ["g", "h", "x", "z"]
    zeroed = vi.copy()
    na_h = int(info.cat_offsets[info.cat_columns.index("h") + 1] - 1)
    zeroed[na_h] = 0.0
    expected = {}
    for i, c in enumerate(info.cat_columns):
        expected[c] = zeroed[info.cat_offsets[i]: info.cat_offsets[i + 1]].sum()
    start = int(info.cat_offsets[-1])
    for j, c in enumerate(info.num_columns):
        expected[c] = zeroed[start + j]
    got = agg.set_index("variable")["relative_importance"].to_dict()
    assert got == pytest.approx(expected)
    total = sum(expected.values())
    top = max(expected.values())
    np.testing.assert_allclose(agg["percentage"], agg["relative_importance"] / total)
    np.testing.assert_allclose(agg["scaled_importance"], agg["relative_importance"] / top)
    assert (np.diff(agg["relative_importance"].to_numpy()) <= 0).all()


def test_varimp_table_aggregate_binary_encoding(cat_frame: pd.DataFrame) -> None:
    info = DataInfo.fit(cat_frame, response="y", categorical_encoding="Binary")
    assert info.cat_columns == [] and len(info.num_columns) > 4
    vi = np.arange(1, info.n_inputs + 1, dtype=float)
    got = varimp_table(vi, info, aggregate=True).set_index("variable")["relative_importance"]
    for col in ("g", "h", "x", "z"):
        idx = [j for j, (_, src, _) in enumerate(info.num_sources) if src == col]
        assert got[col] == pytest.approx(vi[idx].sum())


def test_varimp_table_hashing() -> None:
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"c": rng.choice([f"l{i}" for i in range(12)], 300),
                       "x": rng.normal(size=300), "y": rng.normal(size=300)})
    info = DataInfo.fit(df, response="y", max_categorical_features=4)
    assert info.hashing
    vi = rng.uniform(size=info.n_inputs)
    table = varimp_table(vi, info)  # per hashed slot is fine
    assert len(table) == info.n_inputs
    assert set(table["variable"]) == set(info.input_names)
    with pytest.raises(ValueError, match="hashing"):
        varimp_table(vi, info, aggregate=True)


def test_varimp_finds_the_three_informative_columns() -> None:
    """Must-show: 3 of 20 numeric columns drive the response; they are the top 3."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(3000, 20)), columns=[f"x{i}" for i in range(20)])
    y = 3 * X["x2"] - 2 * X["x7"] + 2 * np.tanh(X["x13"]) + 0.1 * rng.normal(size=3000)
    model = DeepLearningRegressor(hidden=[32], epochs=20, seed=1, reproducible=True,
                                  quiet_mode=True).fit(X, y)
    table = varimp_table(gedeon_importances(model.state_.spec, model.state_.W), model.data_info_)
    assert set(table["variable"].iloc[:3]) == {"x2", "x7", "x13"}
    assert table["scaled_importance"].iloc[0] == 1.0


# --------------------------------------------------------------------------- summary
def _layer(state: ModelState, l: int) -> tuple[np.ndarray, np.ndarray]:
    spec = state.spec
    return (state.W[spec.w_off[l]: spec.w_off[l + 1]].astype(np.float64),
            state.B[spec.b_off[l]: spec.b_off[l + 1]].astype(np.float64))


def test_summary_adadelta(reg_model: DeepLearningRegressor) -> None:
    state, params, info = reg_model.state_, reg_model.params_, reg_model.data_info_
    df = summary_table(state, params, info)
    assert list(df.columns) == SUMMARY_COLUMNS
    assert df["layer"].tolist() == [1, 2, 3]
    assert df["units"].tolist() == list(state.spec.units) == [info.n_inputs, 16, 1]
    assert df["type"].tolist() == ["Input", "Rectifier", "Linear"]
    assert df.loc[0, "dropout"] == 0.0 and df.loc[1, "dropout"] == 0.0
    assert np.isnan(df.loc[2, "dropout"])
    assert df.loc[0, SUMMARY_COLUMNS[4:]].isna().all()
    assert not df.loc[1:, SUMMARY_COLUMNS[4:]].isna().any().any()
    eps = params["epsilon"]
    for l in range(2):
        w, b = _layer(state, l)
        lo, hi = state.spec.w_off[l], state.spec.w_off[l + 1]
        rate = np.sqrt(state.OW[1, lo:hi].astype(np.float64) + eps) / np.sqrt(
            state.OW[0, lo:hi].astype(np.float64) + eps)
        row = df.iloc[l + 1]
        assert row["mean_rate"] == pytest.approx(rate.mean(), rel=1e-9)
        assert row["rate_rms"] == pytest.approx(rate.std(), rel=1e-9)
        assert row["momentum"] == 0.0
        assert row["mean_weight"] == pytest.approx(w.mean()) and row["weight_rms"] == pytest.approx(w.std())
        assert row["mean_bias"] == pytest.approx(b.mean()) and row["bias_rms"] == pytest.approx(b.std(), abs=1e-12)
    # trained ADADELTA rates are no longer the initial sqrt(eps)/sqrt(eps) = 1 everywhere
    assert df.loc[1, "rate_rms"] > 0
    title = df.attrs["title"]
    assert title == summary_title(state, params, info, None)
    assert re.fullmatch(
        rf"predicting {re.escape(str(info.response))}, regression, gaussian distribution, "
        rf"Quadratic loss, {state.spec.n_weights + state.spec.n_biases:,} weights/biases, "
        rf"\d+(\.\d)? (B|KB|MB), {state.processed:,} training samples, mini-batch size 1",
        title,
    ), title
    assert df.attrs["unstable"] is None
    # an exploded layer marks the model unstable
    bad = state.copy()
    bad.W[state.spec.w_off[1]:] = 1e11
    assert "exploded" in summary_table(bad, params, info).attrs["unstable"]
    bad = state.copy()
    bad.B[0] = np.nan
    assert "not finite" in summary_table(bad, params, info).attrs["unstable"]


def test_summary_manual_rate_dropout() -> None:
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(size=(500, 4)), columns=list("abcd"))
    y = X["a"] - X["b"]
    kw = dict(adaptive_rate=False, rate=0.01, rate_decay=0.5, rate_annealing=1e-6,
              momentum_start=0.5, momentum_ramp=1e4, momentum_stable=0.9, l1=1e-5, l2=1e-4)
    m = DeepLearningRegressor(hidden=[8, 4], epochs=2, seed=1, reproducible=True, quiet_mode=True,
                              activation="TanhWithDropout", hidden_dropout_ratios=[0.1, 0.2],
                              input_dropout_ratio=0.25, **kw).fit(X, y)
    df = summary_table(m.state_, m.params_, m.data_info_)
    n = m.state_.processed
    assert n == 1000
    assert df["type"].tolist() == ["Input", "TanhDropout", "TanhDropout", "Linear"]
    np.testing.assert_allclose(df["dropout"].to_numpy()[:3], [25.0, 10.0, 20.0])
    assert np.isnan(df["dropout"].iloc[3])
    for l in range(3):
        row = df.iloc[l + 1]
        assert row["mean_rate"] == pytest.approx(0.01 * 0.5**l / (1 + 1e-6 * n))
        assert row["rate_rms"] == 0.0
        assert row["momentum"] == pytest.approx(0.5 + (0.9 - 0.5) * n / 1e4)
        assert row["l1"] == 1e-5 and row["l2"] == 1e-4
        w, b = _layer(m.state_, l)
        assert row["mean_weight"] == pytest.approx(w.mean())
    # past the ramp: momentum_stable
    late = m.state_.copy()
    late.processed = 20000
    df2 = summary_table(late, m.params_, m.data_info_)
    assert df2["momentum"].iloc[1:].tolist() == [0.9, 0.9, 0.9]
    assert df2.attrs["title"].endswith("20,000 training samples, mini-batch size 1")


def test_summary_classifier_maxout() -> None:
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(300, 3)), columns=list("abc"))
    y = pd.Series(np.where(X["a"] > 0.5, "p", np.where(X["b"] > 0, "q", "r")))
    m = DeepLearningClassifier(hidden=[5], epochs=1, seed=1, reproducible=True, quiet_mode=True,
                               activation="Maxout").fit(X, y)
    df = summary_table(m.state_, m.params_, m.data_info_)
    assert df["type"].tolist() == ["Input", "Maxout", "Softmax"]
    assert df["units"].tolist() == [3, 5, 3]
    w, _ = _layer(m.state_, 0)
    assert w.size == 2 * 5 * 3  # both channels are in the statistics
    assert df.loc[1, "mean_weight"] == pytest.approx(w.mean())
    assert ", 3-class classification, multinomial distribution, CrossEntropy loss, " in df.attrs["title"]
    assert df.attrs["title"].startswith("predicting ")
    vi = gedeon_importances(m.state_.spec, m.state_.W)
    assert vi.shape == (3,) and vi.max() == pytest.approx(1.0)


def test_summary_autoencoder_output_type() -> None:
    rng = np.random.default_rng(4)
    df = pd.DataFrame(rng.normal(size=(50, 3)), columns=list("abc"))
    info = DataInfo.fit(df, response=None)
    assert info.task == "autoencoder"
    spec = NetworkSpec(units=(3, 2, 3), activation="TanhWithDropout", output="linear",
                       hidden_dropout_ratios=(0.5,))
    spec = copy.copy(spec)
    object.__setattr__(spec, "output", "autoencoder")  # output kind the autoencoder will use
    state = init_state(NetworkSpec(units=(3, 2, 3), activation="TanhWithDropout", output="linear",
                                   hidden_dropout_ratios=(0.5,)), seed=1)
    state = ModelState(spec=spec, W=state.W, B=state.B, OW=state.OW, OB=state.OB, processed=150)
    params = {"distribution": "gaussian", "loss": "Quadratic", "mini_batch_size": 1}
    table = summary_table(state, params, info)
    assert table["type"].tolist() == ["Input", "TanhDropout", "Tanh"]
    assert table.attrs["title"].startswith("auto-encoder, gaussian distribution, Quadratic loss, ")
    assert "predicting" not in table.attrs["title"]


# --------------------------------------------------------------------------- mixin
class _Regressor(DeepLearningRegressor, InspectionMixin):
    """A regressor with the inspection methods (whether or not the base has them)."""


def test_mixin_methods() -> None:
    rng = np.random.default_rng(5)
    X = pd.DataFrame(rng.normal(size=(400, 3)), columns=list("abc"))
    X["k"] = pd.Categorical(rng.choice(["u", "v"], 400))
    y = X["a"] * 2
    est = _Regressor(hidden=[6], epochs=2, seed=1, reproducible=True, quiet_mode=True)
    with pytest.raises(Exception, match="not fitted"):
        est.varimp()
    with pytest.raises(Exception, match="not fitted"):
        est.summary()
    est.fit(X, y)
    table = est.varimp()
    expected = varimp_table(gedeon_importances(est.state_.spec, est.state_.W), est.data_info_)
    pd.testing.assert_frame_equal(table, expected)
    as_list = est.varimp(use_pandas=False)
    assert isinstance(as_list, list) and len(as_list) == len(table)
    assert as_list[0] == tuple(table.iloc[0])
    agg = est.varimp(aggregate=True)
    assert sorted(agg["variable"]) == ["a", "b", "c", "k"]
    summ = est.summary()
    assert list(summ.columns) == SUMMARY_COLUMNS and "title" in summ.attrs
    off = _Regressor(hidden=[6], epochs=1, seed=1, reproducible=True, quiet_mode=True,
                     variable_importances=False).fit(X, y)
    with pytest.raises(ValueError, match="variable_importances=False"):
        off.varimp()
    assert len(off.summary()) == 3  # the summary does not need importances
