"""Tests for :class:`~dask_deeplearn.preprocessing.PreprocessingOptions` and the DataInfo value
(fields declared once, derived description, ``dataclasses.replace``, pickling)."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest

from dask_deeplearn.exceptions import InvalidParameterError
from dask_deeplearn.params import validate_params
from dask_deeplearn.preprocessing import DataInfo, PreprocessingOptions


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "c": pd.Series(["a", "b", None, "a", "c"], dtype=object),
        "x": [1.0, np.nan, 3.0, 4.0, 5.0],
        "y": [1.0, 2.0, 3.0, 4.0, 6.0],
    })


# --------------------------------------------------------------------------- PreprocessingOptions


def test_defaults_are_those_of_data_info_fit() -> None:
    import inspect

    sig = inspect.signature(DataInfo.fit).parameters
    for f in dataclasses.fields(PreprocessingOptions):
        assert sig[f.name].default == f.default, f.name


def test_from_params_normalises_through_the_parameter_table() -> None:
    opts = PreprocessingOptions.from_params(
        {"categorical_encoding": "sort_by_response", "missing_values_handling": "skip",
         "distribution": "Gaussian", "epochs": 5.0, "seed": -1}, seed=42)
    assert opts.categorical_encoding == "SortByResponse"
    assert opts.missing_values_handling == "Skip"
    assert opts.distribution == "gaussian"
    assert opts.seed == 42
    assert opts.standardize is True  # absent: the default


def test_from_params_of_validated_estimator_params_is_unchanged() -> None:
    params = validate_params({"categorical_encoding": "Binary", "sparse": True}, "DeepLearningRegressor")
    opts = PreprocessingOptions.from_params(params, seed=3)
    for f in dataclasses.fields(PreprocessingOptions):
        if f.name != "seed":
            assert getattr(opts, f.name) == params[f.name], f.name


@pytest.mark.parametrize(("name", "value"), [
    ("categorical_encoding", "OneHotExplicit"), ("missing_values_handling", "drop"),
    ("max_categorical_features", 0), ("standardize", 1), ("distribution", "ordinal"),
])
def test_from_params_refuses_what_the_parameter_table_refuses(name: str, value: object) -> None:
    with pytest.raises(InvalidParameterError, match=rf"The '{name}' parameter of DataInfo.fit"):
        PreprocessingOptions.from_params({name: value})


def test_fit_with_options_equals_fit_with_keywords(frame: pd.DataFrame) -> None:
    opts = PreprocessingOptions(categorical_encoding="Binary", standardize=False, seed=9)
    a = DataInfo.fit(frame, response="y", options=opts)
    b = DataInfo.fit(frame, response="y", categorical_encoding="Binary", standardize=False, seed=9)
    assert a == b
    assert a.options == opts


def test_fit_refuses_options_and_keywords_together(frame: pd.DataFrame) -> None:
    with pytest.raises(TypeError, match=r"options.*\['sparse'\]"):
        DataInfo.fit(frame, response="y", sparse=True, options=PreprocessingOptions())


def test_autoencoder_plan_records_all_factor_levels(frame: pd.DataFrame) -> None:
    info = DataInfo.fit(frame, response=None, use_all_factor_levels=False)
    assert info.use_all_factor_levels is True  # H2O forces it for autoencoders


# --------------------------------------------------------------------------- the DataInfo value


def test_description_params_are_the_options(frame: pd.DataFrame) -> None:
    d = DataInfo.fit(frame, response="y").to_dict()
    assert list(d["params"]) == [f.name for f in dataclasses.fields(PreprocessingOptions)]
    assert list(d)[:2] == ["format", "version"]
    field_names = [f.name for f in dataclasses.fields(DataInfo)]
    assert [k for k in d if k not in ("format", "version", "params")] == [
        n for n in field_names if n not in d["params"]]


def test_replace_changes_one_field_and_stays_frozen(frame: pd.DataFrame) -> None:
    info = DataInfo.fit(frame, response="y")
    skip = dataclasses.replace(info, missing_values_handling="Skip")
    assert skip.missing_values_handling == "Skip" and info.missing_values_handling == "MeanImputation"
    assert skip.to_dict() == {**info.to_dict(), "params": {**info.to_dict()["params"],
                                                            "missing_values_handling": "Skip"}}
    # Skip drops the rows with a missing predictor in training, the plan is otherwise the same
    assert skip.transform(frame, training=True).index.tolist() == [0, 3, 4]
    assert info.transform(frame, training=True).index.tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_array_equal(skip.transform_X(frame), info.transform_X(frame))
    with pytest.raises(AttributeError, match="frozen"):
        skip.missing_values_handling = "MeanImputation"
    with pytest.raises(AttributeError, match="frozen.*delete"):
        del skip.n_rows
    assert not skip.num_mean.flags.writeable
    assert not skip.cat_level_map["c"].flags.writeable


def test_pickle_keeps_arrays_read_only(frame: pd.DataFrame) -> None:
    info = DataInfo.fit(frame, response="y", categorical_encoding="Eigen")
    back = pickle.loads(pickle.dumps(info))
    assert back == info
    assert not back.num_mul.flags.writeable
    assert not back.eigen_vectors["c"].flags.writeable


def test_num_start_is_the_one_hot_or_hashed_width(frame: pd.DataFrame) -> None:
    info = DataInfo.fit(frame, response="y")
    assert info.num_start == info.cat_offsets[-1] == 4 and info.input_names[4] == "x"
    hashed = DataInfo.fit(frame, response="y", max_categorical_features=2)
    assert hashed.hashing and hashed.num_start == 2 and hashed.n_inputs == 3


def test_description_without_later_fields_loads_with_their_defaults(frame: pd.DataFrame) -> None:
    d = DataInfo.fit(frame, response="y").to_dict()
    del d["cat_na_seen"], d["response_min"]
    back = DataInfo.from_dict(d)
    assert back.cat_na_seen == {"c": True} and back.response_min is None
