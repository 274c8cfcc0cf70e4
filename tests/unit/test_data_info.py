"""Tests for :mod:`dask_deeplearn.preprocessing` (DataInfo, encodings, hashing)."""

from __future__ import annotations

import json
import pickle

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from dask_deeplearn.exceptions import DataError, InvalidParameterError
from dask_deeplearn.preprocessing import Block, DataInfo, hash_slot, hash_slots, murmurhash2_32, murmurhash2_32_ints
from dask_deeplearn.preprocessing.fit import _swap_sort
from dask_deeplearn.preprocessing.encodings import binary_width, eigen_vector, enum_limited_map


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture
def small() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "s": pd.Series(["u", "v", "u", "v"], dtype=object),
            "c": pd.Categorical(["a", "b", None, "c"], categories=["a", "b", "c"]),
            "x": [1.0, 2.0, 3.0, np.nan],
            "y": [1.0, 2.0, 3.0, 4.0],
        }
    )


def mixed_frame(rng: np.random.Generator, n: int = 400) -> pd.DataFrame:
    x1 = rng.normal(3.0, 2.0, n)
    x1[rng.random(n) < 0.1] = np.nan
    x2 = rng.integers(0, 50, n).astype(float)
    cat = rng.choice(["lo", "mid", "hi", "top"], n)
    obj = rng.choice(["p", "q", "r"], n).astype(object)
    obj[rng.random(n) < 0.1] = None
    w = rng.uniform(0.2, 3.0, n)
    w[rng.random(n) < 0.05] = 0.0
    y = 2.0 * np.nan_to_num(x1) + rng.normal(size=n) + 10.0
    return pd.DataFrame(
        {
            "x1": x1,
            "cat": pd.Categorical(cat, categories=["lo", "mid", "hi", "top"]),
            "x2": x2,
            "obj": pd.Series(obj, dtype=object),
            "flag": rng.random(n) < 0.3,
            "w": w,
            "y": y,
        }
    )


# --------------------------------------------------------------------------- layout


def test_layout_names_and_values_by_hand(small: pd.DataFrame) -> None:
    di = DataInfo.fit(small, response="y")
    # categoricals first by decreasing level count (c: 3 levels, s: 2), then numerics
    assert di.cat_columns == ["c", "s"]
    assert di.num_columns == ["x"]
    assert di.cat_levels == {"c": ["a", "b", "c"], "s": ["u", "v"]}
    assert di.cat_offsets.tolist() == [0, 4, 7]
    assert di.input_names == ["c.a", "c.b", "c.c", "c.missing(NA)", "s.u", "s.v", "s.missing(NA)", "x"]
    assert di.n_inputs == 8
    assert di.feature_names == ["s", "c", "x"]
    # x: mean 2, sample sd 1
    np.testing.assert_allclose(di.num_sub, [2.0])
    np.testing.assert_allclose(di.num_mul, [1.0])
    X = di.transform_X(small)
    assert X.dtype == np.float32 and X.flags.c_contiguous
    np.testing.assert_array_equal(X[0], [1, 0, 0, 0, 1, 0, 0, -1])
    np.testing.assert_array_equal(X[2], [0, 0, 0, 1, 1, 0, 0, 1])  # missing c -> NA slot
    np.testing.assert_array_equal(X[3], [0, 0, 1, 0, 0, 1, 0, 0])  # missing x -> mean -> 0
    # unseen levels at scoring -> NA slot
    score = pd.DataFrame({"x": [2.0], "c": ["zz"], "s": ["w"]})
    np.testing.assert_array_equal(di.transform_X(score)[0], [0, 0, 0, 1, 0, 0, 1, 0])


def test_reference_level_without_all_factor_levels(small: pd.DataFrame) -> None:
    di = DataInfo.fit(small, response="y", use_all_factor_levels=False)
    assert di.input_names == ["c.b", "c.c", "c.missing(NA)", "s.v", "s.missing(NA)", "x"]
    assert di.cat_offsets.tolist() == [0, 3, 5]
    X = di.transform_X(small)
    np.testing.assert_array_equal(X[0], [0, 0, 0, 0, 0, -1])  # a and u are the references
    np.testing.assert_array_equal(X[2], [0, 0, 1, 0, 0, 1])  # FIX: missing -> NA slot, not last level
    np.testing.assert_array_equal(X[3], [0, 1, 0, 1, 0, 0])
    # the same in training and scoring
    np.testing.assert_array_equal(di.transform(small, training=True).X, X)


def test_swap_sort_is_h2o_unstable_sort() -> None:
    # H2O: for i < j swap if levels(i) < levels(j); not stable
    assert _swap_sort(["A", "B", "C"], {"A": 3, "B": 3, "C": 4}) == ["C", "B", "A"]
    assert _swap_sort(["A", "B", "C", "D"], {"A": 2, "B": 4, "C": 3, "D": 4}) == ["B", "D", "C", "A"]


def test_cat_columns_use_swap_sort_order() -> None:
    df = pd.DataFrame(
        {
            "A": list("abcabc"),
            "B": list("defdef"),
            "C": list("ghijgh"),
            "y": [1.0, 2, 3, 4, 5, 6],
        }
    )
    di = DataInfo.fit(df, response="y")
    assert di.cat_columns == ["C", "B", "A"]


def test_scoring_frame_extra_reordered_columns_and_int_vs_str_levels() -> None:
    df = pd.DataFrame(
        {"lev": pd.Categorical([1, 2, 3, 1, 2]), "x": [1.0, 2.0, 3.0, 4.0, 5.0], "y": [0.0, 1, 0, 1, 0]}
    )
    di = DataInfo.fit(df, response="y", task="regression")
    assert di.cat_levels["lev"] == [1, 2, 3]
    ref = di.transform_X(df)
    score = pd.DataFrame(
        {
            "extra": ["q"] * 5,
            "x": [1.0, 2.0, 3.0, 4.0, 5.0],
            "lev": pd.Series(["1", "2", "3", "1", "2"], dtype=object),
        }
    )
    np.testing.assert_array_equal(di.transform_X(score), ref)
    score2 = score.assign(lev=[1.0, 2.0, 3.0, 1.0, 2.0])
    np.testing.assert_array_equal(di.transform_X(score2), ref)


def test_object_levels_sorted_as_strings_and_python_scalars() -> None:
    df = pd.DataFrame({"o": pd.Series([10, 2, 1, 2], dtype=object), "x": [1.0, 2, 3, 4], "y": [1.0, 2, 3, 5]})
    di = DataInfo.fit(df, response="y")
    assert di.cat_levels["o"] == [1, 10, 2]
    assert all(type(v) is int for v in di.cat_levels["o"])


# --------------------------------------------------------------------------- numeric transforms


def test_standardize_uses_sample_sd(rng: np.random.Generator) -> None:
    x = rng.normal(5.0, 3.0, 50)
    df = pd.DataFrame({"x": x, "y": rng.normal(size=50)})
    di = DataInfo.fit(df, response="y")
    assert di.transform_type == "STANDARDIZE"
    np.testing.assert_allclose(di.num_sub, [x.mean()], rtol=1e-12)
    np.testing.assert_allclose(di.num_mul, [1.0 / x.std(ddof=1)], rtol=1e-12)
    X = di.transform_X(df)
    np.testing.assert_allclose(X[:, 0], (x - x.mean()) / x.std(ddof=1), rtol=1e-5, atol=1e-6)


def test_weighted_moments_formula(rng: np.random.Generator) -> None:
    n = 60
    x = rng.normal(1.0, 2.0, n)
    x[:5] = np.nan
    w = rng.uniform(0.1, 4.0, n)
    w[5:8] = 0.0
    df = pd.DataFrame({"x": x, "w": w, "y": rng.normal(size=n)})
    di = DataInfo.fit(df, response="y", weights_column="w")
    sel = ~np.isnan(x) & (w > 0)
    xs, ws = x[sel], w[sel]
    mean = np.sum(ws * xs) / ws.sum()
    k = sel.sum()
    var = k / (k - 1) * np.sum(ws * (xs - mean) ** 2) / ws.sum()
    np.testing.assert_allclose(di.num_mean, [mean], rtol=1e-12)
    np.testing.assert_allclose(di.num_sd, [np.sqrt(var)], rtol=1e-12)
    np.testing.assert_allclose(di.num_fill, [mean], rtol=1e-12)
    # weighted response moments too
    y = df["y"].to_numpy()
    wy = w[w > 0]
    yy = y[w > 0]
    ym = np.sum(wy * yy) / wy.sum()
    yvar = len(yy) / (len(yy) - 1) * np.sum(wy * (yy - ym) ** 2) / wy.sum()
    assert di.response_mean == pytest.approx(ym, rel=1e-12)
    assert di.response_sd == pytest.approx(np.sqrt(yvar), rel=1e-12)
    # scale-invariant in the weights
    di10 = DataInfo.fit(df.assign(w=w * 10), response="y", weights_column="w")
    np.testing.assert_allclose(di10.num_sd, di.num_sd, rtol=1e-12)


def test_weights_with_offset_give_unweighted_moments(rng: np.random.Generator) -> None:
    n = 40
    x = rng.normal(size=n)
    df = pd.DataFrame({"x": x, "w": rng.uniform(1, 2, n), "o": rng.normal(size=n), "y": rng.normal(size=n)})
    di = DataInfo.fit(df, response="y", weights_column="w", offset_column="o")
    np.testing.assert_allclose(di.num_mean, [x.mean()], rtol=1e-12)
    np.testing.assert_allclose(di.num_sd, [x.std(ddof=1)], rtol=1e-12)


def test_normalize_for_autoencoder(rng: np.random.Generator) -> None:
    x = rng.uniform(-2, 6, 30)
    df = pd.DataFrame({"x": x, "c": rng.choice(["a", "b"], 30)})
    di = DataInfo.fit(df, response=None, use_all_factor_levels=False, sparse=True)
    assert di.task == "autoencoder"
    assert di.transform_type == "NORMALIZE"
    assert di.use_all_factor_levels  # forced for autoencoders
    np.testing.assert_allclose(di.num_sub, [x.mean()], rtol=1e-12)
    np.testing.assert_allclose(di.num_mul, [1.0 / (x.max() - x.min())], rtol=1e-12)
    block = di.transform(df, training=True)
    assert block.y is None and block.weight is None and block.offset is None


def test_descale_for_sparse(rng: np.random.Generator) -> None:
    x = rng.normal(3, 2, 30)
    df = pd.DataFrame({"x": x, "y": rng.normal(size=30)})
    di = DataInfo.fit(df, response="y", sparse=True)
    assert di.transform_type == "DESCALE"
    np.testing.assert_allclose(di.num_sub, [0.0])
    np.testing.assert_allclose(di.num_mul, [1.0 / x.std(ddof=1)], rtol=1e-12)


def test_no_standardize_imputes_raw_mean() -> None:
    df = pd.DataFrame({"x": [1.0, 3.0, np.nan, 8.0], "y": [1.0, 2.0, 3.0, 4.0]})
    di = DataInfo.fit(df, response="y", standardize=False)
    assert di.transform_type == "NONE"
    assert di.response_mean is None
    np.testing.assert_array_equal(di.num_mul, [1.0])
    np.testing.assert_array_equal(di.num_sub, [0.0])
    # FIX: the mean in training and scoring alike
    np.testing.assert_array_equal(di.transform_X(df)[:, 0], [1.0, 3.0, 4.0, 8.0])
    np.testing.assert_array_equal(di.transform(df, training=True).y, [1.0, 2.0, 3.0, 4.0])


def test_bool_and_nullable_columns_are_numeric() -> None:
    df = pd.DataFrame(
        {
            "b": [True, False, True, True],
            "i": pd.array([1, None, 3, 5], dtype="Int64"),
            "y": [1.0, 2.0, 3.0, 4.0],
        }
    )
    di = DataInfo.fit(df, response="y", standardize=False)
    assert di.num_columns == ["b", "i"] and di.cat_columns == []
    np.testing.assert_array_equal(di.transform_X(df), [[1, 1], [0, 3], [1, 3], [1, 5]])


# --------------------------------------------------------------------------- missing values


def test_mean_imputation_vs_skip() -> None:
    df = pd.DataFrame(
        {
            "x": [1.0, np.nan, 3.0, 4.0, 6.0],
            "c": pd.Series(["a", "b", None, "a", "b"], dtype=object),
            "y": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    mi = DataInfo.fit(df, response="y")
    b = mi.transform(df, training=True)
    assert b.index.tolist() == [0, 1, 2, 3, 4]
    assert b.X[1, mi.input_names.index("x")] == 0.0
    assert b.X[2, mi.input_names.index("c.missing(NA)")] == 1.0

    sk = DataInfo.fit(df, response="y", missing_values_handling="Skip")
    assert sk.missing_values_handling == "Skip"
    bt = sk.transform(df, training=True)
    assert bt.index.tolist() == [0, 3, 4]
    np.testing.assert_array_equal(bt.X, b.X[[0, 3, 4]])
    # scoring keeps every row and imputes
    bs = sk.transform(df, training=False)
    assert bs.index.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(sk.transform_X(df), b.X)


def test_training_drops_missing_response_and_zero_or_missing_weights() -> None:
    df = pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "w": [1.0, 0.0, np.nan, 2.0, 1.0, 1.0],
            "y": [1.0, 2.0, 3.0, np.nan, 5.0, 6.0],
        }
    )
    di = DataInfo.fit(df, response="y", weights_column="w")
    bt = di.transform(df, training=True)
    assert bt.index.tolist() == [0, 4, 5]
    np.testing.assert_array_equal(bt.weight, np.array([1.0, 1.0, 1.0], dtype=np.float32))
    bs = di.transform(df, training=False)
    assert bs.index.tolist() == [0, 1, 2, 4, 5]
    assert bs.weight.dtype == np.float32 and np.isnan(bs.weight[2])
    # scoring without response / weights columns
    bx = di.transform(df[["x"]], training=False)
    assert bx.y is None and bx.weight is None and bx.index.tolist() == list(range(6))
    assert isinstance(bx, Block) and bx.n_rows == 6


# --------------------------------------------------------------------------- response


def test_response_standardisation_round_trip(rng: np.random.Generator) -> None:
    y = rng.normal(50.0, 7.0, 80)
    df = pd.DataFrame({"x": rng.normal(size=80), "y": y})
    di = DataInfo.fit(df, response="y")
    assert di.response_mean == pytest.approx(y.mean(), rel=1e-12)
    assert di.response_sd == pytest.approx(y.std(ddof=1), rel=1e-12)
    b = di.transform(df, training=True)
    assert b.y.dtype == np.float32
    np.testing.assert_allclose(b.y, (y - y.mean()) / y.std(ddof=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(di.inverse_response(b.y.astype(np.float64)), y, rtol=1e-6)
    z = np.array([0.25, -1.5])
    np.testing.assert_allclose(di.inverse_response(z), z * y.std(ddof=1) + y.mean(), rtol=1e-12)


@pytest.mark.parametrize("dist", ["poisson", "gamma", "tweedie"])
def test_no_response_standardisation_for_log_link(dist: str) -> None:
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [1.0, 2.0, 4.0, 8.0]})
    di = DataInfo.fit(df, response="y", distribution=dist)
    assert di.response_mean is None and di.response_sd is None
    np.testing.assert_array_equal(di.transform(df, training=True).y, [1.0, 2.0, 4.0, 8.0])
    np.testing.assert_array_equal(di.inverse_response(np.array([1.5])), [1.5])


@pytest.mark.parametrize("dist", ["AUTO", "gaussian", "laplace", "quantile", "huber"])
def test_response_standardised_for_identity_link(dist: str) -> None:
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [1.0, 2.0, 4.0, 8.0]})
    assert DataInfo.fit(df, response="y", distribution=dist).response_mean == pytest.approx(3.75)


def test_classification_targets_and_classes() -> None:
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 5.0], "y": ["b", "a", "c", "a", None]})
    di = DataInfo.fit(df, response="y")
    assert di.task == "classification"
    assert di.classes == ["a", "b", "c"]
    assert di.class_counts.tolist() == [2, 1, 1]
    assert di.response_mean is None
    b = di.transform(df, training=True)
    assert b.index.tolist() == [0, 1, 2, 3]
    np.testing.assert_array_equal(b.y, np.array([1, 0, 2, 0], dtype=np.float32))
    # explicit classes order (e.g. the estimator's sorted labels, or a superset)
    di2 = DataInfo.fit(df, response="y", classes=["c", "b", "a", "d"])
    np.testing.assert_array_equal(di2.transform(df, training=True).y, [1, 2, 0, 2])
    # categorical response: category order
    dfc = df.assign(y=pd.Categorical(df["y"], categories=["c", "a", "b"]))
    assert DataInfo.fit(dfc, response="y").classes == ["c", "a", "b"]


def test_bool_and_numeric_classification_response() -> None:
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [True, False, True, True]})
    di = DataInfo.fit(df, response="y")
    assert di.task == "classification" and di.classes == [False, True]
    np.testing.assert_array_equal(di.transform(df, training=True).y, [1, 0, 1, 1])
    dfn = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [3, 1, 2, 3]})
    din = DataInfo.fit(dfn, response="y", task="classification")
    assert din.classes == [1, 2, 3]
    # labels arriving as strings still match
    np.testing.assert_array_equal(din.transform(dfn.assign(y=["3", "1", "2", "3"]), training=True).y, [2, 0, 1, 2])


# --------------------------------------------------------------------------- offsets


def test_offsets_in_network_space() -> None:
    df = pd.DataFrame(
        {"x": [1.0, 2.0, 3.0, 4.0], "o": [-1.0, 0.0, 0.5, 2.0], "y": [1.0, 3.0, 5.0, 7.0]}
    )
    di = DataInfo.fit(df, response="y", offset_column="o")
    b = di.transform(df, training=True)
    expected = (np.array([-1.0, 0.0, 0.5, 2.0]) - di.response_mean) / di.response_sd
    np.testing.assert_allclose(b.offset, expected, rtol=1e-6)  # FIX: negative / zero offsets kept
    assert b.offset.dtype == np.float32
    raw = DataInfo.fit(df, response="y", offset_column="o", distribution="poisson")
    np.testing.assert_array_equal(raw.transform(df, training=False).offset, [-1.0, 0.0, 0.5, 2.0])


# --------------------------------------------------------------------------- encodings


def test_sort_by_response_reorders_levels_and_reference() -> None:
    df = pd.DataFrame({"c": ["a", "a", "b", "b", "c", "c"], "y": [3.0, 3.0, 1.0, 1.0, 2.0, 2.0]})
    di = DataInfo.fit(df, response="y", categorical_encoding="SortByResponse", use_all_factor_levels=False)
    assert di.cat_levels["c"] == ["b", "c", "a"]
    assert di.input_names == ["c.c", "c.a", "c.missing(NA)"]
    X = di.transform_X(pd.DataFrame({"c": ["a", "b", "c", None]}))
    np.testing.assert_array_equal(X, [[0, 1, 0], [0, 0, 0], [1, 0, 0], [0, 0, 1]])


def test_sort_by_response_classification_uses_class_index() -> None:
    df = pd.DataFrame({"c": ["a", "a", "b", "b", "c"], "y": ["z", "z", "x", "x", "y"]})
    di = DataInfo.fit(df, response="y", categorical_encoding="sortbyresponse")
    assert di.categorical_encoding == "SortByResponse"
    assert di.cat_levels["c"] == ["b", "c", "a"]  # mean class index 0, 1, 2


def test_label_encoder() -> None:
    df = pd.DataFrame({"c": ["b", "a", None, "c", "a"], "y": [1.0, 2, 3, 4, 5]})
    di = DataInfo.fit(df, response="y", categorical_encoding="LabelEncoder", standardize=False)
    assert di.cat_columns == [] and di.num_columns == ["c"]
    assert di.num_sources == [("label", "c", 0)]
    # codes 1, 0, NA, 2, 0 -> mean 0.75 imputed
    np.testing.assert_allclose(di.num_fill, [0.75])
    np.testing.assert_allclose(di.transform_X(df)[:, 0], [1, 0, 0.75, 2, 0])
    np.testing.assert_allclose(di.transform_X(pd.DataFrame({"c": ["zz"]}))[:, 0], [0.75])  # unseen


def test_binary_encoding() -> None:
    df = pd.DataFrame({"c": ["a", "b", "c", "d", "e", None], "y": [1.0, 2, 3, 4, 5, 6]})
    di = DataInfo.fit(df, response="y", categorical_encoding="Binary", standardize=False)
    assert binary_width(5) == 3
    assert di.num_columns == ["c:0", "c:1", "c:2"]
    assert di.input_names == ["c:0", "c:1", "c:2"]
    X = di.transform_X(pd.DataFrame({"c": ["a", "b", "c", "e", None, "unseen"]}))
    # level index + 1, least significant bit first; missing / unseen -> zeros
    np.testing.assert_array_equal(X, [[1, 0, 0], [0, 1, 0], [1, 1, 0], [1, 0, 1], [0, 0, 0], [0, 0, 0]])
    # moments include the all-zeros rows of missing values
    bits = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 1], [0, 0, 0]], dtype=float)
    np.testing.assert_allclose(di.num_mean, bits.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(di.num_sd, bits.std(axis=0, ddof=1), rtol=1e-12)


def test_eigen_encoding(rng: np.random.Generator) -> None:
    c = rng.choice(["a", "b", "c", "d"], 200, p=[0.5, 0.25, 0.15, 0.1]).astype(object)
    c[:10] = None
    df = pd.DataFrame({"c": c, "x": rng.normal(size=200), "y": rng.normal(size=200)})
    di = DataInfo.fit(df, response="y", categorical_encoding="Eigen")
    assert di.num_columns == ["c.Eigen", "x"]
    counts = pd.Series(c).value_counts().reindex(["a", "b", "c", "d"]).to_numpy(dtype=float)
    p = counts / counts.sum()
    vals, vecs = np.linalg.eigh(np.diag(p) - np.outer(p, p))
    v = vecs[:, -1]
    v = v if v[np.argmax(np.abs(v))] > 0 else -v
    np.testing.assert_allclose(di.eigen_vectors["c"], v, atol=1e-12)
    np.testing.assert_allclose(eigen_vector(counts), v, atol=1e-12)
    enc = np.array([np.nan if x is None else v["abcd".index(x)] for x in c])
    m = np.nanmean(enc)
    s = np.nanstd(enc, ddof=1)
    np.testing.assert_allclose(di.num_mean[0], m, rtol=1e-10)
    np.testing.assert_allclose(di.num_sd[0], s, rtol=1e-10)
    X = di.transform_X(df)
    np.testing.assert_allclose(X[:, 0], np.where(np.isnan(enc), 0.0, (enc - m) / s), rtol=1e-5, atol=1e-6)


def test_enum_limited() -> None:
    levels = [f"l{i:02d}" for i in range(12)]
    counts = [5, 1, 5, 5, 5, 5, 5, 5, 5, 5, 1, 5]  # l01 and l10 are the rare ones
    vals = [lev for lev, k in zip(levels, counts) for _ in range(k)]
    df = pd.DataFrame({"c": vals, "y": np.arange(len(vals), dtype=float)})
    di = DataInfo.fit(df, response="y", categorical_encoding="EnumLimited")
    kept = [lev for lev in levels if lev not in ("l01", "l10")]
    assert di.cat_levels["c"] == kept + ["other"]
    assert di.input_names[-2:] == ["c.other", "c.missing(NA)"]
    assert di.input_names[:10] == [f"c.{lev}" for lev in kept]
    X = di.transform_X(pd.DataFrame({"c": ["l01", "l10", "l00", "new", None]}))
    np.testing.assert_array_equal(np.argmax(X, axis=1), [10, 10, 0, 11, 11])
    np.testing.assert_array_equal(X.sum(axis=1), [1, 1, 1, 1, 1])
    # ties broken by level order
    assert enum_limited_map(np.array([1, 1, 1]), 2).tolist() == [0, 1, 2]


# --------------------------------------------------------------------------- hashing


# Derived from the reference algorithm (Hadoop MurmurHash, as copied into H2O's
# hex.deeplearning.MurmurHash) run on a JVM, with ByteBuffer.allocate(4).putInt(c).
JAVA_VECTORS = [
    # (seed, c, hash)
    (0, 0, -1268141364),
    (0, 1, -349988409),
    (0, 2, 1503938628),
    (0, 123456789, -1317887870),
    (0, -1, 346862554),
    (1, 0, 9299090),
    (42, 7, 1419830052),
    (42, 2147483647, -1028188079),
    (-1, 256, -1921814795),
    (1234567890123, 1000, -298470752),  # (int) seed keeps the low 32 bits
]
JAVA_RAW_VECTORS = [
    # (bytes hex, hash seed 0, hash seed 0x9747b28c)
    ("", 0, 275646681),
    ("61", -1838653602, -1563381124),
    ("6162", 1525573013, 1391711463),
    ("616263", 1775488903, -1747815907),
    ("ff", -1725167783, 2026781833),
    ("80fe01", 278168306, -1242533158),
    ("01020304050607", -1131367418, 1604858557),
    ("deadbeefcafe", 1877337305, -1843919286),
]


@pytest.mark.parametrize(("seed", "c", "expected"), JAVA_VECTORS)
def test_murmurhash_matches_java(seed: int, c: int, expected: int) -> None:
    assert murmurhash2_32(c.to_bytes(4, "big", signed=True), seed) == expected
    assert int(murmurhash2_32_ints(np.array([c]), seed)[0]) == expected


@pytest.mark.parametrize(("hexdata", "h0", "h1"), JAVA_RAW_VECTORS)
def test_murmurhash_tail_bytes_match_java(hexdata: str, h0: int, h1: int) -> None:
    data = bytes.fromhex(hexdata)
    assert murmurhash2_32(data, 0) == h0
    assert murmurhash2_32(data, 0x9747B28C) == h1


def test_hash_slots_java_remainder() -> None:
    # Java: Math.abs(h % M); e.g. seed 42, c=7 -> 1419830052 % 7 = 4; seed 0, c=1 -> |-349988409 % 7| = 1
    assert hash_slot(7, 7, 42) == 4
    assert hash_slot(1, 7, 0) == 1
    assert hash_slot(123456789, 1000, 0) == 870
    table = hash_slots(300, 13, 99)
    assert table.tolist() == [hash_slot(c, 13, 99) for c in range(300)]


def test_hashing_layout(rng: np.random.Generator) -> None:
    n = 50
    df = pd.DataFrame(
        {
            "a": rng.choice([f"a{i}" for i in range(6)], n),
            "b": rng.choice([f"b{i}" for i in range(4)], n),
            "x": rng.normal(size=n),
            "y": rng.normal(size=n),
        }
    )
    df.loc[3, "a"] = None
    di = DataInfo.fit(df, response="y", max_categorical_features=5, seed=7)
    assert di.hashing
    assert di.cat_offsets[-1] == 12  # 7 + 5 one-hot slots
    assert di.n_inputs == 6
    assert di.input_names == ["hash.0", "hash.1", "hash.2", "hash.3", "hash.4", "x"]
    X = di.transform_X(df)
    ref = DataInfo.fit(df, response="y", seed=7)  # same layout, no hashing
    onehot = ref.transform_X(df)[:, :12]
    expected = np.zeros((n, 5), dtype=np.float32)
    for c in range(12):
        expected[:, hash_slot(c, 5, 7)] += onehot[:, c]
    np.testing.assert_array_equal(X[:, :5], expected)
    np.testing.assert_array_equal(X[:, :5].sum(axis=1), 2.0)  # collisions add
    np.testing.assert_allclose(X[:, 5], ref.transform_X(df)[:, 12])
    assert not DataInfo.fit(df, response="y", max_categorical_features=12).hashing


# --------------------------------------------------------------------------- filtering


def test_ignore_const_cols_reasons() -> None:
    df = pd.DataFrame(
        {
            "const": [2.0, 2.0, 2.0, np.nan],
            "allna": [np.nan] * 4,
            "onelev": ["k", "k", None, "k"],
            "catna": pd.Series([None] * 4, dtype=object),
            "x": [1.0, 2.0, 3.0, 4.0],
            "y": [1.0, 2.0, 3.0, 4.0],
        }
    )
    di = DataInfo.fit(df, response="y")
    assert di.ignored == {"const": "constant", "allna": "all missing", "onelev": "constant", "catna": "all missing"}
    assert di.feature_names == ["const", "allna", "onelev", "catna", "x"]
    assert di.used_columns == ["x"]
    assert di.input_names == ["x"]
    # scoring does not need the dropped columns
    assert di.transform_X(df[["x"]]).shape == (4, 1)
    keep = DataInfo.fit(df, response="y", ignore_const_cols=False)
    assert keep.ignored == {}
    assert "const" in keep.num_columns and "onelev" in keep.cat_columns
    X = keep.transform_X(df)
    assert np.isfinite(X).all()
    json.dumps(keep.to_dict(), allow_nan=False)


def test_features_and_ignored_columns() -> None:
    df = pd.DataFrame({"a": [1.0, 2, 3], "b": [3.0, 1, 2], "c": [5.0, 6, 9], "y": [1.0, 2, 3]})
    assert DataInfo.fit(df, response="y", features=["c", "a"]).num_columns == ["a", "c"]
    assert DataInfo.fit(df, response="y", ignored_columns=["b"]).num_columns == ["a", "c"]


# --------------------------------------------------------------------------- pandas == dask


def _assert_equivalent(a: DataInfo, b: DataInfo) -> None:
    for name in (
        "task",
        "response",
        "classes",
        "cat_columns",
        "cat_levels",
        "cat_raw_levels",
        "num_columns",
        "num_sources",
        "input_names",
        "n_inputs",
        "ignored",
        "feature_names",
        "used_columns",
        "transform_type",
        "n_rows",
    ):
        assert getattr(a, name) == getattr(b, name), name
    np.testing.assert_array_equal(a.cat_offsets, b.cat_offsets)
    for c in a.cat_columns:
        np.testing.assert_array_equal(a.cat_level_map[c], b.cat_level_map[c])
    for name in ("num_mean", "num_sd", "num_mul", "num_sub", "num_fill"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-12, atol=0, err_msg=name)
    if a.response_mean is None:
        assert b.response_mean is None and b.response_sd is None
    else:
        np.testing.assert_allclose([a.response_mean, a.response_sd], [b.response_mean, b.response_sd], rtol=1e-12)


@pytest.mark.parametrize("npartitions", [1, 4, 7])
def test_pandas_and_dask_fit_equal(rng: np.random.Generator, npartitions: int) -> None:
    df = mixed_frame(rng)
    kw = dict(response="y", weights_column="w")
    a = DataInfo.fit(df, **kw)
    b = DataInfo.fit(dd.from_pandas(df, npartitions=npartitions), **kw)
    assert a.cat_columns == ["cat", "obj"]
    assert a.num_columns == ["x1", "x2", "flag"]
    _assert_equivalent(a, b)
    np.testing.assert_allclose(a.transform(df, training=True).X, b.transform(df, training=True).X, rtol=1e-6)


@pytest.mark.parametrize(
    "kw",
    [
        dict(response="cat"),
        dict(response="y", categorical_encoding="SortByResponse"),
        dict(response="y", categorical_encoding="Eigen", weights_column="w"),
        dict(response="y", categorical_encoding="Binary"),
        dict(response=None),
    ],
)
def test_pandas_and_dask_fit_equal_variants(rng: np.random.Generator, kw: dict) -> None:
    df = mixed_frame(rng)
    a = DataInfo.fit(df, **kw)
    b = DataInfo.fit(dd.from_pandas(df, npartitions=5), **kw)
    _assert_equivalent(a, b)
    if a.eigen_vectors:
        np.testing.assert_allclose(a.eigen_vectors["obj"], b.eigen_vectors["obj"], rtol=1e-12)


def test_dask_unknown_categories_are_computed(rng: np.random.Generator) -> None:
    df = mixed_frame(rng)
    ddf = dd.from_pandas(df.assign(obj=df["obj"].astype(str).replace("None", None)), npartitions=4)
    ddf = ddf.assign(obj=ddf["obj"].astype("category"))
    assert not ddf["obj"].cat.known
    di = DataInfo.fit(ddf, response="y")
    assert di.cat_levels["obj"] == ["p", "q", "r"]


# --------------------------------------------------------------------------- serialisation


def test_to_dict_json_round_trip(rng: np.random.Generator) -> None:
    df = mixed_frame(rng)
    for kw in (
        dict(response="y", weights_column="w"),
        dict(response="cat", use_all_factor_levels=False, missing_values_handling="Skip"),
        dict(response="y", categorical_encoding="Eigen"),
        dict(response="y", categorical_encoding="Binary"),
        dict(response="y", categorical_encoding="EnumLimited", max_categorical_features=3, seed=5),
    ):
        di = DataInfo.fit(df, **kw)
        text = json.dumps(di.to_dict(), allow_nan=False)
        back = DataInfo.from_dict(json.loads(text))
        assert back == di
        for training in (True, False):
            x, y = di.transform(df, training=training), back.transform(df, training=training)
            np.testing.assert_array_equal(x.X, y.X)
            np.testing.assert_array_equal(x.index, y.index)
            if x.y is not None:
                np.testing.assert_array_equal(x.y, y.y)


def test_from_dict_rejects_other_formats() -> None:
    with pytest.raises(ValueError, match="format"):
        DataInfo.from_dict({"format": "something else"})


def test_pickle_round_trip_and_frozen(small: pd.DataFrame) -> None:
    di = DataInfo.fit(small, response="y")
    back = pickle.loads(pickle.dumps(di))
    assert back == di
    np.testing.assert_array_equal(back.transform_X(small), di.transform_X(small))
    with pytest.raises(AttributeError, match="frozen"):
        back.n_inputs = 3
    with pytest.raises(ValueError, match="read-only"):
        back.num_mul[0] = 2.0


def test_equality_is_structural(small: pd.DataFrame) -> None:
    a = DataInfo.fit(small, response="y")
    assert a == DataInfo.fit(small, response="y")
    assert a != DataInfo.fit(small, response="y", standardize=False)


# --------------------------------------------------------------------------- errors


def test_error_datetime_column() -> None:
    df = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=3), "y": [1.0, 2, 3]})
    with pytest.raises(DataError, match="'when'"):
        DataInfo.fit(df, response="y")


def test_error_inf_at_fit_and_transform() -> None:
    df = pd.DataFrame({"x": [1.0, np.inf, 3.0, -np.inf], "y": [1.0, 2, 3, 4]})
    with pytest.raises(DataError, match=r"'x' \(2 rows\)"):
        DataInfo.fit(df, response="y")
    di = DataInfo.fit(df.assign(x=[1.0, 2, 3, 4]), response="y")
    with pytest.raises(DataError, match=r"'x' \(2 rows\)"):
        di.transform(df, training=False)


def test_error_empty_frame() -> None:
    df = pd.DataFrame({"x": pd.Series([], dtype=float), "y": pd.Series([], dtype=float)})
    with pytest.raises(DataError, match="empty"):
        DataInfo.fit(df, response="y")
    with pytest.raises(DataError, match="empty"):
        DataInfo.fit(dd.from_pandas(df, npartitions=1), response="y")


def test_error_negative_weights() -> None:
    df = pd.DataFrame({"x": [1.0, 2, 3], "w": [1.0, -1.0, -2.0], "y": [1.0, 2, 3]})
    with pytest.raises(DataError, match="'w' has 2 negative"):
        DataInfo.fit(df, response="y", weights_column="w")
    di = DataInfo.fit(df.assign(w=1.0), response="y", weights_column="w")
    with pytest.raises(DataError, match="'w' has 2 negative"):
        di.transform(df, training=True)


def test_error_all_zero_weights() -> None:
    df = pd.DataFrame({"x": [1.0, 2, 3], "w": [0.0, 0.0, np.nan], "y": [1.0, 2, 3]})
    with pytest.raises(DataError, match="'w' has no positive weight"):
        DataInfo.fit(df, response="y", weights_column="w")


def test_error_response_all_missing() -> None:
    df = pd.DataFrame({"x": [1.0, 2, 3], "y": [np.nan] * 3})
    with pytest.raises(DataError, match="'y' is all missing"):
        DataInfo.fit(df, response="y")
    dfc = pd.DataFrame({"x": [1.0, 2, 3], "y": pd.Series([None] * 3, dtype=object)})
    with pytest.raises(DataError, match="'y' is all missing"):
        DataInfo.fit(dfc, response="y", task="classification")


def test_error_single_class() -> None:
    df = pd.DataFrame({"x": [1.0, 2, 3], "y": ["a", "a", None]})
    with pytest.raises(DataError, match=r"'y'.*\['a'\]"):
        DataInfo.fit(df, response="y")


def test_error_unseen_response_label() -> None:
    df = pd.DataFrame({"x": [1.0, 2, 3], "y": ["a", "b", "a"]})
    di = DataInfo.fit(df, response="y")
    new = pd.DataFrame({"x": [1.0, 2, 3], "y": ["a", "zz", "q"]})
    with pytest.raises(DataError, match=r"'y'.*2 row.*'zz'"):
        di.transform(new, training=False)
    with pytest.raises(DataError, match=r"'y'.*not in classes"):
        DataInfo.fit(df, response="y", classes=["a"])


def test_error_missing_predictor_columns(small: pd.DataFrame) -> None:
    di = DataInfo.fit(small, response="y")
    with pytest.raises(DataError, match="'c', 'x'"):
        di.transform_X(small[["s"]])
    with pytest.raises(DataError, match="'y' is missing"):
        di.transform(small.drop(columns="y"), training=True)


def test_error_offset_for_classification() -> None:
    df = pd.DataFrame({"x": [1.0, 2, 3], "o": [0.0, 1, 2], "y": ["a", "b", "a"]})
    with pytest.raises(DataError, match="'o'.*regression"):
        DataInfo.fit(df, response="y", offset_column="o")


def test_error_missing_offsets() -> None:
    df = pd.DataFrame({"x": [1.0, 2, 3], "o": [0.0, np.nan, 2], "y": [1.0, 2, 3]})
    with pytest.raises(DataError, match="'o' has 1 missing"):
        DataInfo.fit(df, response="y", offset_column="o")


def test_error_no_predictor_left() -> None:
    df = pd.DataFrame({"k": [1.0, 1.0, 1.0], "y": [1.0, 2, 3]})
    with pytest.raises(DataError, match=r"'k' \(constant\)"):
        DataInfo.fit(df, response="y")


def test_error_regression_needs_numeric_response() -> None:
    df = pd.DataFrame({"x": [1.0, 2, 3], "y": ["a", "b", "c"]})
    with pytest.raises(DataError, match="'y'"):
        DataInfo.fit(df, response="y", task="regression")


def test_error_missing_columns_at_fit() -> None:
    df = pd.DataFrame({"x": [1.0, 2, 3], "y": [1.0, 2, 3]})
    with pytest.raises(DataError, match="'nope'"):
        DataInfo.fit(df, response="y", weights_column="nope")
    with pytest.raises(DataError, match="'zz'"):
        DataInfo.fit(df, response="y", features=["x", "zz"])


def test_error_bad_parameters() -> None:
    df = pd.DataFrame({"x": [1.0, 2, 3], "y": [1.0, 2, 3]})
    with pytest.raises(InvalidParameterError, match="categorical_encoding"):
        DataInfo.fit(df, response="y", categorical_encoding="OneHotExplicit")
    with pytest.raises(InvalidParameterError, match="missing_values_handling"):
        DataInfo.fit(df, response="y", missing_values_handling="drop")
    with pytest.raises(InvalidParameterError, match="max_categorical_features"):
        DataInfo.fit(df, response="y", max_categorical_features=0)


# --------------------------------------------------------------------------- scale


def test_large_frame_transform_is_vectorised(rng: np.random.Generator) -> None:
    n = 100_000
    cols = {f"n{i}": rng.normal(size=n) for i in range(40)}
    for i in range(10):
        cols[f"c{i}"] = pd.Categorical(rng.integers(0, 12, n).astype(str))
    cols["y"] = rng.normal(size=n)
    df = pd.DataFrame(cols)
    di = DataInfo.fit(df, response="y")
    b = di.transform(df, training=True)
    assert b.X.shape == (n, di.n_inputs) and b.X.flags.c_contiguous and b.X.dtype == np.float32
    np.testing.assert_array_equal(b.X[:, : di.cat_offsets[-1]].sum(axis=1), 10.0)


# --------------------------------------------------------------------------- dask specifics


def test_dask_fit_runs_one_compute(rng: np.random.Generator) -> None:
    from dask.callbacks import Callback

    class CountComputes(Callback):
        def __init__(self) -> None:
            super().__init__()
            self.n = 0

        def _start(self, dsk: object) -> None:
            self.n += 1

    ddf = dd.from_pandas(mixed_frame(rng), npartitions=4)
    with CountComputes() as counter:
        DataInfo.fit(ddf, response="y", weights_column="w", categorical_encoding="SortByResponse")
    assert counter.n == 1


def test_dask_empty_partitions(rng: np.random.Generator) -> None:
    df = mixed_frame(rng).sort_values("x2").reset_index(drop=True)
    ddf = dd.from_pandas(df, npartitions=6)
    ddf = ddf[ddf["x2"] < 20]  # later partitions become empty
    sub = df[df["x2"] < 20]
    for kw in (dict(response="y", weights_column="w"), dict(response="cat", categorical_encoding="SortByResponse")):
        _assert_equivalent(DataInfo.fit(sub, **kw), DataInfo.fit(ddf, **kw))


def test_autoencoder_task_excludes_response_column() -> None:
    df = pd.DataFrame({"x": [1.0, 2.0, 4.0], "z": [0.0, 1.0, 0.5], "y": [1.0, 2.0, 3.0]})
    di = DataInfo.fit(df, response="y", task="autoencoder")
    assert di.response is None and di.num_columns == ["x", "z"]
    assert di.transform(df, training=True).y is None
