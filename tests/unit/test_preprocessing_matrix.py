"""The whole-array path of the statistics and the transform gives what the one-column path gives.

Frames whose numeric predictors all have plain numpy dtypes are read as one 2-D array
(statistics a chunk of columns at a time, inputs a chunk of rows at a time); every other
frame goes one column at a time. The two must agree bit for bit: the same frame stored with
pandas' nullable dtypes (which take the one-column path) is the reference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dask_deeplearn.exceptions import DataError
from dask_deeplearn.preprocessing import DataInfo, _stats
from dask_deeplearn.preprocessing import transform as _transform


def _plain(rng: np.random.Generator, n: int) -> pd.DataFrame:
    cols = {f"f{i}": rng.normal(i, 1.0 + i, n) for i in range(7)}
    cols["f32"] = rng.normal(5.0, 3.0, n).astype(np.float32)
    cols["big"] = rng.normal(1e6, 1e-3, n)  # cancellation-prone second moment
    cols["i"] = rng.integers(-5, 50, n)
    cols["b"] = rng.random(n) < 0.3
    cols["nan"] = np.where(rng.random(n) < 0.2, np.nan, rng.normal(0, 1, n))
    cols["label"] = pd.Categorical(rng.choice(["a", "b", "c"], n))
    return pd.DataFrame(cols)


def _nullable(frame: pd.DataFrame) -> pd.DataFrame:
    """The same values with pandas' nullable dtypes (the one-column path)."""
    out = frame.copy()
    for c in frame.columns:
        if c == "label":
            continue
        kind = frame[c].dtype.kind
        out[c] = frame[c].astype({"f": "Float64", "i": "Int64", "b": "boolean"}[kind])
    return out


@pytest.mark.parametrize("n", [1, 3, 129, 5000])
@pytest.mark.parametrize("chunk", [None, 7])
def test_column_statistics_are_identical(n: int, chunk: int | None, monkeypatch) -> None:
    if chunk is not None:  # chunks of a few columns: the chunk boundaries are exercised
        monkeypatch.setattr(_stats, "_CHUNK", chunk * n)
    frame = _plain(np.random.default_rng(n), n)
    frame.loc[frame.index[0], "f3"] = np.inf
    numeric = tuple(c for c in frame.columns if c != "label")
    plan = _stats.StatsPlan(numeric=numeric, response="label", response_kind="categorical")
    one_column = _stats._num_acc
    calls: list[int] = []
    monkeypatch.setattr(_stats, "_num_acc", lambda x, w: calls.append(len(x)) or one_column(x, w))
    fast = _stats.partition_stats(frame, plan)["num"]
    # only the columns with a missing or infinite value went one at a time
    assert len(calls) == 1 + int(frame["nan"].isna().any())
    slow = _stats.partition_stats(_nullable(frame), plan)["num"]
    assert fast.keys() == slow.keys() == set(numeric)
    for c in numeric:
        np.testing.assert_array_equal(fast[c], slow[c], err_msg=c)


@pytest.mark.parametrize("handling", ["MeanImputation", "Skip"])
@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("chunk", [None, 64])
def test_inputs_are_identical(handling: str, standardize: bool, chunk: int | None,
                              monkeypatch) -> None:
    if chunk is not None:
        monkeypatch.setattr(_transform, "_ROW_CHUNK", chunk)
    rng = np.random.default_rng(7)
    frame = _plain(rng, 1001)
    info = DataInfo.fit(frame, response="label", task="classification",
                        missing_values_handling=handling, standardize=standardize)
    assert isinstance(_transform._numeric_matrix(info, frame), _transform._Matrix)
    other = _nullable(frame)
    assert _transform._numeric_matrix(info, other) is None
    a = info.transform(frame, training=True)
    b = info.transform(other, training=True)
    assert a.X.dtype == np.float32 and a.X.flags.c_contiguous
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.index, b.index)
    np.testing.assert_array_equal(a.y, b.y)
    if handling == "Skip":
        assert a.n_rows == int(frame["nan"].notna().sum())
    np.testing.assert_array_equal(info.transform_X(frame), info.transform_X(other))
    fast_cat, fast_num = info.scoring_inputs(frame)
    slow_cat, slow_num = info.scoring_inputs(other)
    assert len(fast_num) == len(slow_num) == len(info.num_columns)
    for u, v in zip(fast_num, slow_num):
        assert u.dtype == np.float64
        np.testing.assert_array_equal(u, v)


def test_mixed_plain_dtypes_and_one_dtype_give_the_same_inputs() -> None:
    rng = np.random.default_rng(3)
    frame = _plain(rng, 300)
    info = DataInfo.fit(frame, response="label", task="classification")
    as_float = frame.astype({c: np.float64 for c in frame.columns if c != "label"})
    np.testing.assert_array_equal(info.transform_X(frame), info.transform_X(as_float))


def test_an_infinite_value_is_named_by_both_paths() -> None:
    frame = _plain(np.random.default_rng(1), 50)
    info = DataInfo.fit(frame, response="label", task="classification")
    bad = frame.copy()
    bad.loc[bad.index[[2, 5]], "f4"] = -np.inf
    for f in (bad, _nullable(bad)):
        with pytest.raises(DataError, match=r"Infinite values in numeric column\(s\): 'f4' \(2 rows\)"):
            info.transform(f, training=True)
