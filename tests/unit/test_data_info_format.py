"""The DataInfo description format: files written by earlier versions load and save unchanged.

``tests/data/data_info_v1.json`` holds ``DataInfo.to_dict()`` of the frames and options
below, written by the code before DataInfo became a dataclass (regenerate it only when the
format version changes: ``python tests/unit/test_data_info_format.py tests/data/data_info_v1.json``).
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dask_deeplearn.preprocessing import DataInfo

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "data_info_v1.json"


def fixture_frame() -> pd.DataFrame:
    """Numeric, categorical, object, bool, constant, weights, offset and label columns."""
    rng = np.random.default_rng(2024)
    n = 60
    x1 = rng.normal(3.0, 2.0, n).round(3)
    x1[::7] = np.nan
    return pd.DataFrame({
        "x1": x1,
        "cat": pd.Categorical(rng.choice(["lo", "mid", "hi", "top"], n),
                              categories=["lo", "mid", "hi", "top"]),
        "x2": rng.integers(0, 50, n).astype(float),
        "obj": pd.Series([None if i % 9 == 0 else "pqr"[i % 3] for i in range(n)], dtype=object),
        "flag": rng.random(n) < 0.3,
        "k": 1.0,
        "w": rng.uniform(0.2, 3.0, n).round(2),
        "o": rng.normal(0, 0.1, n).round(3),
        "y": (2.0 * np.nan_to_num(x1) + rng.normal(size=n) + 10.0).round(3),
        "lab": rng.choice(["a", "b", "c"], n),
    })


def int_named_frame() -> pd.DataFrame:
    """Integer column names (the description stores column names as JSON values)."""
    return pd.DataFrame({0: [1.0, 2.0, 4.0, 8.0], 1: ["a", "b", "a", None], "y": [1.0, 0.0, 2.0, 3.0]})


CASES: dict[str, tuple[Any, dict[str, Any]]] = {
    "regression_weights": (fixture_frame, dict(response="y", weights_column="w", ignored_columns=["o", "lab"])),
    "classification_skip_reference": (fixture_frame, dict(
        response="lab", use_all_factor_levels=False, missing_values_handling="Skip", ignored_columns=["o"])),
    "regression_offset_sparse": (fixture_frame, dict(
        response="y", offset_column="o", sparse=True, ignored_columns=["lab"])),
    "eigen": (fixture_frame, dict(response="y", categorical_encoding="Eigen", ignored_columns=["o", "lab"])),
    "binary_poisson": (fixture_frame, dict(
        response="y", categorical_encoding="Binary", distribution="poisson", ignored_columns=["o", "lab"])),
    "label_encoder_nostd": (fixture_frame, dict(
        response="y", categorical_encoding="LabelEncoder", standardize=False, ignored_columns=["o", "lab"])),
    "enum_limited_hashing": (fixture_frame, dict(
        response="y", categorical_encoding="EnumLimited", max_categorical_features=3, seed=5,
        ignored_columns=["o", "lab"])),
    "sort_by_response_classes": (fixture_frame, dict(
        response="lab", categorical_encoding="SortByResponse", classes=["c", "b", "a"], ignored_columns=["o"])),
    "autoencoder_keep_const": (fixture_frame, dict(
        response=None, ignore_const_cols=False, categorical_encoding="AUTO", ignored_columns=["o", "lab", "y"])),
    "int_column_names": (int_named_frame, dict(response="y")),
}


def _descriptions() -> dict[str, Any]:
    return {name: DataInfo.fit(make(), **kw).to_dict() for name, (make, kw) in CASES.items()}


def _json(d: dict) -> Any:
    """What a model file stores (JSON; tuples become lists)."""
    return json.loads(json.dumps(d, allow_nan=False))


@pytest.fixture(scope="module")
def stored() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text())


@pytest.mark.parametrize("name", list(CASES))
def test_stored_description_loads_and_saves_identically(stored: dict[str, Any], name: str) -> None:
    old = stored[name]
    again = DataInfo.from_dict(old).to_dict()
    assert _json(again) == old
    assert list(again) == list(old) and list(again["params"]) == list(old["params"])  # key order too
    assert json.dumps(_json(again), indent=1) == json.dumps(old, indent=1)


def _assert_same(got: Any, want: Any, where: str = "") -> None:
    """Equal descriptions: every key, type and value, floats to 1e-12 relative (the last
    bits of a mean depend on the BLAS build numpy uses: a weighted mean is a dot
    product; a mean of a centred column is a rounding error near 0)."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(want), where
        for k in want:
            _assert_same(got[k], want[k], f"{where}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            _assert_same(g, w, f"{where}[{i}]")
    elif isinstance(want, float):
        assert isinstance(got, float) and np.isclose(got, want, rtol=1e-12, atol=1e-15), \
            (where, got, want)
    else:
        assert type(got) is type(want) and got == want, (where, got, want)


@pytest.mark.parametrize("name", list(CASES))
def test_fit_still_writes_the_stored_description(stored: dict[str, Any], name: str) -> None:
    make, kw = CASES[name]
    _assert_same(_json(DataInfo.fit(make(), **kw).to_dict()), stored[name])


@pytest.mark.parametrize("name", list(CASES))
def test_loaded_description_pickles_and_transforms(stored: dict[str, Any], name: str) -> None:
    make, kw = CASES[name]
    info = DataInfo.from_dict(stored[name])
    back = pickle.loads(pickle.dumps(info))
    assert back == info
    _assert_same(_json(DataInfo.fit(make(), **kw).to_dict()), _json(info.to_dict()))
    np.testing.assert_array_equal(back.transform_X(make()), info.transform_X(make()))


if __name__ == "__main__":  # regenerate the stored descriptions
    Path(sys.argv[1]).write_text(json.dumps(_descriptions(), indent=1, allow_nan=False))
