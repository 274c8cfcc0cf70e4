"""Tests of :mod:`dask_deeplearn.params`: the table, the validator and the effective values."""

from __future__ import annotations

import copy
import math
import re
import warnings
from typing import Any

import numpy as np
import pytest

from dask_deeplearn.exceptions import InvalidParameterError
from dask_deeplearn.params import (
    CHECKPOINT_MODIFIABLE,
    PARAMETERS,
    AnyObject,
    Boolean,
    CallableOrNone,
    Constraint,
    FloatSequence,
    IntSequence,
    Interval,
    ModelId,
    NoneValue,
    OneOf,
    Options,
    StrList,
    StrOrNone,
    canonical,
    default_params,
    params_docstring,
    resolve_effective,
    union,
    validate_params,
)

OWNER = "DeepLearningClassifier"


def _metric(y_true: Any, y_pred: Any) -> float:
    return 0.0


def _names_all(*parts: str) -> str:
    """A regex that matches a message containing every part (in any order)."""
    return "(?s)" + "".join(f"(?=.*{re.escape(p)})" for p in parts)


# --------------------------------------------------------------------------------------
# Invalid values generated from each constraint
# --------------------------------------------------------------------------------------


def _invalid_values(c: Constraint) -> list[tuple[str, Any]]:
    """(kind, value) pairs that ``c`` must refuse: kind is 'type' or 'range'."""
    if isinstance(c, Interval):
        out: list[tuple[str, Any]] = [("type", "1"), ("type", None)]
        if c.type is int:
            out.append(("type", 1.5))
            if c.low is not None:
                out.append(("range", int(c.low) - 1))
            if c.high is not None:
                out.append(("range", int(c.high) + 1))
        else:
            out.append(("range", float("nan")))
            left_open = c.closed in ("right", "neither")
            right_open = c.closed in ("left", "neither")
            if c.low is not None:
                out.append(("range", float(c.low) if left_open else float(c.low) - 0.5))
            else:
                out.append(("range", float("-inf")))
            if c.high is not None and not math.isinf(c.high):
                out.append(("range", float(c.high) if right_open else float(c.high) + 0.5))
            elif c.high is None:
                out.append(("range", float("inf")))
        return out
    if isinstance(c, Options):
        return [("type", 3), ("type", ["AUTO"]), ("range", "not_an_option")]
    if isinstance(c, Boolean):
        return [("type", "yes"), ("type", 1), ("type", 0), ("type", None)]
    if isinstance(c, IntSequence):
        return [("type", "200"), ("type", 200), ("type", [200.0]), ("type", [True]),
                ("range", [10, c.min - 1])]
    if isinstance(c, FloatSequence):
        bad = c.high if c.high is not None else -1.0
        if c.low is not None and c.closed in ("right", "neither"):
            bad = c.low
        return [("type", "0.5"), ("type", 0.5), ("type", ["a"]), ("range", [bad])]
    if isinstance(c, ModelId):
        return [("type", 3), ("range", "../up"), ("range", "/abs"), ("range", "")]
    if isinstance(c, StrOrNone):
        return [("type", 3), ("type", ["a"])]
    if isinstance(c, CallableOrNone):
        return [("type", "my_metric"), ("type", 3)]
    if isinstance(c, StrList):
        return [("type", "col"), ("type", [1, 2]), ("type", 3)]
    if isinstance(c, OneOf):
        return [kv for sub in c.constraints for kv in _invalid_values(sub)
                if not c.accepts(kv[1])]
    if isinstance(c, (AnyObject, NoneValue)):
        return []
    raise AssertionError(f"no invalid values for {c!r}")


INVALID_CASES = [
    pytest.param(name, kind, value, id=f"{name}-{kind}-{value!r}")
    for name, p in PARAMETERS.items()
    for kind, value in _invalid_values(p.constraint)
]


@pytest.mark.parametrize(("name", "kind", "value"), INVALID_CASES)
def test_every_parameter_rejects_bad_values(name: str, kind: str, value: Any) -> None:
    pattern = _names_all(f"'{name}'", OWNER, repr(value), "must be")
    with pytest.raises(InvalidParameterError, match=pattern):
        validate_params({name: value}, OWNER)


@pytest.mark.parametrize("name", list(PARAMETERS))
def test_every_parameter_has_invalid_examples_or_accepts_anything(name: str) -> None:
    c = PARAMETERS[name].constraint
    cases = _invalid_values(c)
    assert cases or isinstance(c, AnyObject)
    assert all(not c.accepts(v) for _, v in cases)
    # an entry with a range or options also gets an out-of-range case
    if isinstance(c, (Interval, Options, IntSequence, FloatSequence)):
        assert any(kind == "range" for kind, _ in cases)


@pytest.mark.parametrize("name", list(PARAMETERS))
def test_every_default_is_valid_and_unchanged_by_validation(name: str) -> None:
    p = PARAMETERS[name]
    assert p.constraint.accepts(p.default)
    assert validate_params({name: p.default}, OWNER)[name] == p.default


def test_error_message_format() -> None:
    with pytest.raises(InvalidParameterError) as exc:
        validate_params({"epochs": -1}, "DeepLearningRegressor")
    assert str(exc.value) == ("The 'epochs' parameter of DeepLearningRegressor must be a float "
                              "in the range [0, inf). Got -1 instead.")
    with pytest.raises(InvalidParameterError) as exc2:
        validate_params({"activation": "relu6"}, OWNER)
    assert str(exc2.value).startswith(
        "The 'activation' parameter of DeepLearningClassifier must be a str among {'Tanh', "
        "'TanhWithDropout', 'Rectifier', 'RectifierWithDropout', 'Maxout', "
        "'MaxoutWithDropout'}. Got 'relu6' instead."
    )


def test_invalid_parameter_error_is_value_and_type_error() -> None:
    with pytest.raises(ValueError):
        validate_params({"epochs": -1}, OWNER)
    with pytest.raises(TypeError):
        validate_params({"epochs": "ten"}, OWNER)


@pytest.mark.parametrize(
    "name", [n for n, p in PARAMETERS.items()
             if isinstance(p.constraint, Interval) and p.constraint.type is int]
)
@pytest.mark.parametrize("value", [True, False, np.bool_(True)])
def test_bool_rejected_for_int_params(name: str, value: Any) -> None:
    with pytest.raises(InvalidParameterError, match=_names_all(f"'{name}'", "bool")):
        validate_params({name: value}, OWNER)


def test_bool_rejected_for_float_params() -> None:
    with pytest.raises(InvalidParameterError, match=_names_all("'epochs'", "True")):
        validate_params({"epochs": True}, OWNER)


def test_fix_hints() -> None:
    with pytest.raises(InvalidParameterError, match=re.escape("(50,)")):
        validate_params({"hidden": 50}, OWNER)
    with pytest.raises(InvalidParameterError, match=re.escape("['col']")):
        validate_params({"ignored_columns": "col"}, OWNER)
    with pytest.raises(InvalidParameterError, match="Did you mean 'Rectifier'"):
        validate_params({"activation": "rectifer"}, OWNER)
    with pytest.raises(InvalidParameterError, match="Use True instead of 1"):
        validate_params({"standardize": 1}, OWNER)
    with pytest.raises(InvalidParameterError, match="without a decimal point: 5"):
        validate_params({"stopping_rounds": 5.0}, OWNER)


def test_numpy_scalars_and_arrays_accepted() -> None:
    p = validate_params({
        "stopping_rounds": np.int64(3), "rho": np.float32(0.5), "epochs": np.int32(2),
        "hidden": np.array([10, 20]), "standardize": np.bool_(False),
        "activation": "TanhWithDropout", "hidden_dropout_ratios": np.array([0.1, 0.2]),
        "ignored_columns": np.array(["a", "b"]),
    }, OWNER)
    assert p["stopping_rounds"] == 3 and type(p["stopping_rounds"]) is int
    assert p["rho"] == 0.5 and type(p["rho"]) is float
    assert p["epochs"] == 2.0 and type(p["epochs"]) is float
    assert p["hidden"] == (10, 20) and all(type(h) is int for h in p["hidden"])
    assert p["standardize"] is False
    assert p["hidden_dropout_ratios"] == pytest.approx((0.1, 0.2))
    assert all(type(r) is float for r in p["hidden_dropout_ratios"])
    assert p["ignored_columns"] == ("a", "b")


def test_normalised_types() -> None:
    p = validate_params({"hidden": [5], "l1": 1, "ignored_columns": ["a"],
                         "class_sampling_factors": [1, 2], "balance_classes": True}, OWNER)
    assert p["hidden"] == (5,)
    assert type(p["l1"]) is float
    assert p["ignored_columns"] == ("a",)
    assert p["class_sampling_factors"] == (1.0, 2.0)
    assert validate_params({"hidden": []}, OWNER)["hidden"] == ()


def test_int_interval_exact_at_int64_bounds() -> None:
    assert validate_params({"seed": 2**63 - 1}, OWNER)["seed"] == 2**63 - 1
    with pytest.raises(InvalidParameterError, match="'seed'"):
        validate_params({"seed": 2**63}, OWNER)


def test_max_w2_accepts_infinity() -> None:
    assert validate_params({"max_w2": float("inf")}, OWNER)["max_w2"] == math.inf


def test_unknown_parameter_suggests_close_matches() -> None:
    with pytest.raises(InvalidParameterError,
                       match=_names_all("'epoch'", OWNER, "Did you mean 'epochs'")):
        validate_params({"epoch": 10}, OWNER)


@pytest.mark.parametrize("name", ["x", "y", "training_frame", "validation_frame",
                                  "response_column"])
def test_call_arguments_are_not_parameters(name: str) -> None:
    assert name not in PARAMETERS
    with pytest.raises(InvalidParameterError, match=_names_all(f"'{name}'", "fit()")):
        validate_params({name: "a"}, OWNER)


def test_validate_does_not_mutate_input() -> None:
    ratios = [0.1, 0.2]
    hidden = [10, 20]
    given = {"hidden": hidden, "activation": "tanh_with_dropout",
             "hidden_dropout_ratios": ratios, "ignored_columns": ["c"], "epochs": 3}
    before = copy.deepcopy(given)
    out = validate_params(given, OWNER)
    assert given == before
    assert out is not given and out["hidden"] is not hidden
    assert out["activation"] == "TanhWithDropout" and given["activation"] == "tanh_with_dropout"
    assert set(out) == set(PARAMETERS)


def test_validate_fills_defaults() -> None:
    assert validate_params({}, OWNER) == default_params()


# --------------------------------------------------------------------------------------
# Enumerations
# --------------------------------------------------------------------------------------


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name).lower()


ENUM_CASES = [
    pytest.param(name, spelling, canon, id=f"{name}-{spelling}")
    for name, p in PARAMETERS.items() if isinstance(p.constraint, Options)
    for canon in p.constraint.names
    for spelling in sorted({canon, canon.lower(), canon.upper(), _snake(canon),
                            _snake(canon).upper()})
]


@pytest.mark.parametrize(("name", "spelling", "canon"), ENUM_CASES)
def test_enum_spellings_normalise(name: str, spelling: str, canon: str) -> None:
    extra = {"custom_metric_func": _metric} if canon.startswith("custom") else {}
    assert validate_params({name: spelling, **extra}, OWNER)[name] == canon
    assert canonical(name, spelling) == canon


@pytest.mark.parametrize("spelling", ["rectifier_with_dropout", "RECTIFIERWITHDROPOUT",
                                      "RectifierWithDropout", "Rectifier_With_Dropout"])
def test_activation_spellings(spelling: str) -> None:
    assert canonical("activation", spelling) == "RectifierWithDropout"


def test_enum_canonical_names() -> None:
    assert PARAMETERS["activation"].constraint.names == (
        "Tanh", "TanhWithDropout", "Rectifier", "RectifierWithDropout", "Maxout",
        "MaxoutWithDropout")
    assert PARAMETERS["loss"].constraint.names == (
        "Automatic", "Quadratic", "CrossEntropy", "Huber", "Absolute", "Quantile")
    assert PARAMETERS["distribution"].constraint.names == (
        "AUTO", "bernoulli", "multinomial", "gaussian", "poisson", "gamma", "laplace",
        "quantile", "huber", "tweedie")
    assert set(PARAMETERS["stopping_metric"].constraint.names) == {
        "AUTO", "deviance", "logloss", "MSE", "RMSE", "MAE", "RMSLE", "AUC", "AUCPR",
        "lift_top_group", "misclassification", "mean_per_class_error", "custom",
        "custom_increasing"}
    assert PARAMETERS["categorical_encoding"].constraint.names == (
        "AUTO", "OneHotInternal", "Binary", "Eigen", "LabelEncoder", "SortByResponse",
        "EnumLimited")
    assert PARAMETERS["auc_type"].constraint.names == (
        "AUTO", "NONE", "MACRO_OVR", "WEIGHTED_OVR", "MACRO_OVO", "WEIGHTED_OVO")
    assert PARAMETERS["backend"].constraint.names == ("auto", "local", "dask")


@pytest.mark.parametrize("value", ["ExpRectifier", "exp_rectifier_with_dropout"])
def test_exp_rectifier_not_exposed(value: str) -> None:
    with pytest.raises(InvalidParameterError, match=_names_all("'activation'", repr(value),
                                                               "not exposed")):
        validate_params({"activation": value}, OWNER)


@pytest.mark.parametrize("value", ["quasibinomial", "modified_huber", "ordinal", "custom",
                                   "fractionalbinomial", "negativebinomial", "binomial"])
def test_unsupported_distributions_name_allowed_list(value: str) -> None:
    pattern = _names_all("'distribution'", repr(value), "'bernoulli'", "'tweedie'", "'AUTO'")
    with pytest.raises(InvalidParameterError, match=pattern):
        validate_params({"distribution": value}, OWNER)


def test_canonical_errors() -> None:
    with pytest.raises(KeyError):
        canonical("epochs", "10")
    with pytest.raises(KeyError):
        canonical("no_such_param", "x")
    with pytest.raises(InvalidParameterError, match=_names_all("'loss'", "'MeanSquare'")):
        canonical("loss", "MeanSquare")


# --------------------------------------------------------------------------------------
# Defaults and table metadata
# --------------------------------------------------------------------------------------

H2O_DEFAULTS = {
    "activation": "Rectifier", "hidden": (200, 200), "epochs": 10.0,
    "train_samples_per_iteration": -2, "target_ratio_comm_to_comp": 0.05, "seed": -1,
    "adaptive_rate": True, "rho": 0.99, "epsilon": 1e-8, "rate": 0.005,
    "rate_annealing": 1e-6, "rate_decay": 1.0, "momentum_start": 0.0, "momentum_ramp": 1e6,
    "momentum_stable": 0.0, "nesterov_accelerated_gradient": True,
    "input_dropout_ratio": 0.0, "hidden_dropout_ratios": None, "l1": 0.0, "l2": 0.0,
    "max_w2": 3.4028235e38, "initial_weight_distribution": "UniformAdaptive",
    "initial_weight_scale": 1.0, "loss": "Automatic", "distribution": "AUTO",
    "quantile_alpha": 0.5, "tweedie_power": 1.5, "huber_alpha": 0.9, "score_interval": 5.0,
    "score_training_samples": 10000, "score_validation_samples": 0,
    "score_duty_cycle": 0.1, "classification_stop": 0.0, "regression_stop": 1e-6,
    "stopping_rounds": 5, "stopping_metric": "AUTO", "stopping_tolerance": 0.0,
    "max_runtime_secs": 0.0, "score_validation_sampling": "Uniform",
    "overwrite_with_best_model": True, "use_all_factor_levels": True, "standardize": True,
    "missing_values_handling": "MeanImputation", "fast_mode": True,
    "force_load_balance": True, "replicate_training_data": True, "single_node_mode": False,
    "shuffle_training_data": False, "reproducible": False, "variable_importances": True,
    "diagnostics": True, "quiet_mode": False, "autoencoder": False, "sparse": False,
    "col_major": False, "average_activation": 0.0, "sparsity_beta": 0.0,
    "max_categorical_features": 2147483647, "export_weights_and_biases": False,
    "mini_batch_size": 1, "elastic_averaging": False, "elastic_averaging_moving_rate": 0.9,
    "elastic_averaging_regularization": 1e-3, "balance_classes": False,
    "max_after_balance_size": 5.0, "max_confusion_matrix_size": 20, "max_hit_ratio_k": 10,
    "ignore_const_cols": True, "categorical_encoding": "AUTO", "nfolds": 0,
    "fold_assignment": "AUTO", "keep_cross_validation_models": True,
    "keep_cross_validation_predictions": False, "auc_type": "AUTO", "ignored_columns": None,
    "checkpoint": None, "h2o_compat": False, "backend": "auto", "nthreads": -1,
}


@pytest.mark.parametrize(("name", "expected"), sorted(H2O_DEFAULTS.items()))
def test_defaults_equal_h2o(name: str, expected: Any) -> None:
    got = default_params()[name]
    assert got == expected
    assert type(got) is type(expected)


def test_default_params_is_a_fresh_dict() -> None:
    d = default_params()
    d["epochs"] = 99.0
    assert default_params()["epochs"] == 10.0
    assert list(d) == list(PARAMETERS)


def test_every_h2o_parameter_is_in_the_table() -> None:
    page = ("activation hidden epochs train_samples_per_iteration target_ratio_comm_to_comp "
            "seed adaptive_rate rho epsilon rate rate_annealing rate_decay momentum_start "
            "momentum_ramp momentum_stable nesterov_accelerated_gradient input_dropout_ratio "
            "hidden_dropout_ratios l1 l2 max_w2 initial_weight_distribution "
            "initial_weight_scale initial_weights initial_biases loss distribution "
            "quantile_alpha tweedie_power huber_alpha score_interval score_training_samples "
            "score_validation_samples score_duty_cycle score_each_iteration "
            "classification_stop regression_stop stopping_rounds stopping_metric "
            "stopping_tolerance max_runtime_secs score_validation_sampling "
            "overwrite_with_best_model use_all_factor_levels standardize "
            "missing_values_handling fast_mode force_load_balance replicate_training_data "
            "single_node_mode shuffle_training_data reproducible variable_importances "
            "diagnostics quiet_mode verbose autoencoder pretrained_autoencoder sparse "
            "col_major average_activation sparsity_beta max_categorical_features "
            "export_weights_and_biases mini_batch_size elastic_averaging "
            "elastic_averaging_moving_rate elastic_averaging_regularization balance_classes "
            "class_sampling_factors max_after_balance_size max_confusion_matrix_size "
            "max_hit_ratio_k ignore_const_cols categorical_encoding nfolds fold_assignment "
            "fold_column keep_cross_validation_models keep_cross_validation_predictions "
            "keep_cross_validation_fold_assignment auc_type checkpoint export_checkpoints_dir "
            "model_id weights_column offset_column ignored_columns custom_metric_func").split()
    assert set(PARAMETERS) == set(page) | {"h2o_compat", "backend", "nthreads", "scheduler_address",
                                                 "warm_start"}
    assert all(p.name == n for n, p in PARAMETERS.items())
    assert all(p.doc.endswith(".") and "H2O default" in p.doc or "not an H2O" in p.doc
               for p in PARAMETERS.values())


CP_MODIFIABLE_H2O = (
    "seed checkpoint epochs score_interval train_samples_per_iteration "
    "target_ratio_comm_to_comp score_duty_cycle score_training_samples "
    "score_validation_samples score_validation_sampling classification_stop regression_stop "
    "stopping_rounds stopping_metric stopping_tolerance quiet_mode max_confusion_matrix_size "
    "diagnostics variable_importances initial_weight_distribution initial_weight_scale "
    "initial_weights initial_biases force_load_balance replicate_training_data "
    "shuffle_training_data single_node_mode fast_mode l1 l2 max_w2 input_dropout_ratio "
    "hidden_dropout_ratios loss overwrite_with_best_model missing_values_handling "
    "average_activation reproducible export_weights_and_biases elastic_averaging "
    "elastic_averaging_moving_rate elastic_averaging_regularization mini_batch_size "
    "pretrained_autoencoder"
).split()
CP_NOT_MODIFIABLE_H2O = (
    "activation use_all_factor_levels standardize adaptive_rate autoencoder rho epsilon "
    "sparse sparsity_beta col_major rate rate_annealing rate_decay momentum_start "
    "momentum_ramp momentum_stable nesterov_accelerated_gradient ignore_const_cols "
    "max_categorical_features nfolds distribution quantile_alpha huber_alpha tweedie_power "
    "hidden ignored_columns"
).split()


def test_checkpoint_modifiable_follows_h2o() -> None:
    assert set(CP_MODIFIABLE_H2O) <= CHECKPOINT_MODIFIABLE
    assert not set(CP_NOT_MODIFIABLE_H2O) & CHECKPOINT_MODIFIABLE
    assert all(PARAMETERS[n].checkpoint_modifiable for n in CP_MODIFIABLE_H2O)
    assert isinstance(CHECKPOINT_MODIFIABLE, frozenset)


def test_params_are_frozen() -> None:
    with pytest.raises(AttributeError):
        PARAMETERS["epochs"].default = 5.0  # type: ignore[misc]


# --------------------------------------------------------------------------------------
# Data-independent combinations (refused before the data is seen)
# --------------------------------------------------------------------------------------

COMBOS: list[Any] = [
    pytest.param({"hidden": [10, 10], "activation": "RectifierWithDropout",
                  "hidden_dropout_ratios": [0.5]}, ["hidden_dropout_ratios", "hidden"],
                 id="ratios-length"),
    pytest.param({"activation": "Rectifier", "hidden_dropout_ratios": [0.5, 0.5]},
                 ["hidden_dropout_ratios", "activation", "non-dropout"], id="ratios-non-dropout"),
    pytest.param({"activation": "TanhWithDropout", "hidden_dropout_ratios": [0.5, 1.0]},
                 ["hidden_dropout_ratios", "[0, 1)"], id="ratio-1"),
    pytest.param({"activation": "TanhWithDropout", "hidden_dropout_ratios": [-0.1, 0.5]},
                 ["hidden_dropout_ratios"], id="ratio-negative"),
    pytest.param({"input_dropout_ratio": 1.0}, ["input_dropout_ratio", "[0, 1)"],
                 id="input-dropout-1"),
    pytest.param({"input_dropout_ratio": -0.1}, ["input_dropout_ratio"], id="input-dropout-neg"),
    pytest.param({"score_duty_cycle": 1.5}, ["score_duty_cycle", "[0, 1]"], id="duty-high"),
    pytest.param({"score_duty_cycle": -0.1}, ["score_duty_cycle"], id="duty-low"),
    pytest.param({"l1": -1e-5}, ["l1"], id="l1"),
    pytest.param({"l2": -1.0}, ["l2"], id="l2"),
    pytest.param({"max_w2": 0.0}, ["max_w2", "(0, inf]"], id="max_w2-zero"),
    pytest.param({"max_w2": -1.0}, ["max_w2"], id="max_w2-neg"),
    pytest.param({"score_training_samples": -1}, ["score_training_samples"], id="sts"),
    pytest.param({"score_validation_samples": -1}, ["score_validation_samples"], id="svs"),
    pytest.param({"mini_batch_size": 0}, ["mini_batch_size"], id="mini-batch"),
    pytest.param({"hidden": [10, 0]}, ["hidden", ">= 1"], id="hidden-zero"),
    pytest.param({"loss": "ModifiedHuber"}, ["loss", "not supported yet"], id="modified-huber"),
    pytest.param({"loss": "modified_huber"}, ["loss", "not supported yet"],
                 id="modified-huber-snake"),
    pytest.param({"categorical_encoding": "Enum"}, ["categorical_encoding", "not supported"],
                 id="enc-enum"),
    pytest.param({"categorical_encoding": "one_hot_explicit"},
                 ["categorical_encoding", "not supported"], id="enc-onehot-explicit"),
    pytest.param({"col_major": True}, ["col_major=True"], id="col-major"),
    pytest.param({"sparse": True, "elastic_averaging": True}, ["sparse", "elastic_averaging"],
                 id="sparse-elastic"),
    pytest.param({"elastic_averaging_moving_rate": 1.1}, ["elastic_averaging_moving_rate"],
                 id="ea-rate-high"),
    pytest.param({"elastic_averaging_moving_rate": -0.1}, ["elastic_averaging_moving_rate"],
                 id="ea-rate-low"),
    pytest.param({"elastic_averaging_regularization": -0.1},
                 ["elastic_averaging_regularization"], id="ea-reg"),
    pytest.param({"initial_weights": [None, None, None], "checkpoint": "model.zip"},
                 ["initial_weights", "checkpoint", "'model.zip'"], id="weights-checkpoint"),
    pytest.param({"initial_biases": [None, None, None], "checkpoint": "model.zip"},
                 ["initial_biases", "checkpoint"], id="biases-checkpoint"),
    pytest.param({"class_sampling_factors": [1.0, 2.0]},
                 ["class_sampling_factors", "balance_classes=False"], id="csf-no-balance"),
    pytest.param({"tweedie_power": 1.0}, ["tweedie_power", "(1, 2)"], id="tweedie-1"),
    pytest.param({"tweedie_power": 2.0}, ["tweedie_power", "(1, 2)"], id="tweedie-2"),
    pytest.param({"quantile_alpha": 1.5}, ["quantile_alpha", "[0, 1]"], id="quantile-alpha"),
    pytest.param({"quantile_alpha": -0.5}, ["quantile_alpha"], id="quantile-alpha-neg"),
    pytest.param({"huber_alpha": 1.1}, ["huber_alpha", "[0, 1]"], id="huber-alpha"),
    pytest.param({"huber_alpha": -0.1}, ["huber_alpha"], id="huber-alpha-neg"),
    pytest.param({"autoencoder": True, "nfolds": 3}, ["autoencoder", "nfolds=3"],
                 id="ae-nfolds"),
    pytest.param({"autoencoder": True, "custom_metric_func": _metric},
                 ["autoencoder", "custom_metric_func"], id="ae-custom-metric"),
    pytest.param({"autoencoder": True, "stopping_metric": "logloss"},
                 ["autoencoder", "stopping_metric='logloss'"], id="ae-stopping-metric"),
    pytest.param({"autoencoder": True, "activation": "Maxout"},
                 ["autoencoder", "activation='Maxout'"], id="ae-maxout"),
    # H2O lets MaxoutWithDropout through and builds a Maxout output layer; we refuse it
    pytest.param({"autoencoder": True, "activation": "MaxoutWithDropout"},
                 ["autoencoder", "activation='MaxoutWithDropout'"], id="ae-maxout-dropout"),
    pytest.param({"autoencoder": True, "sparsity_beta": 0.1, "activation": "Tanh",
                  "average_activation": 0.1, "mini_batch_size": 8},
                 ["sparsity_beta", "mini_batch_size=8"], id="ae-sparse-minibatch"),
    pytest.param({"autoencoder": True, "sparsity_beta": 0.1, "activation": "Tanh",
                  "average_activation": 1.0},
                 ["autoencoder", "sparsity_beta=0.1", "activation='Tanh'",
                  "average_activation=1.0"], id="ae-sparse-tanh-high"),
    pytest.param({"autoencoder": True, "sparsity_beta": 0.1, "activation": "TanhWithDropout",
                  "average_activation": -1.0},
                 ["sparsity_beta", "activation", "average_activation=-1.0"],
                 id="ae-sparse-tanhdropout-low"),
    pytest.param({"autoencoder": True, "sparsity_beta": 0.1, "activation": "Rectifier",
                  "average_activation": 0.0},
                 ["sparsity_beta", "activation='Rectifier'", "average_activation=0.0"],
                 id="ae-sparse-rectifier"),
    pytest.param({"autoencoder": True, "sparsity_beta": 0.1,
                  "activation": "RectifierWithDropout", "average_activation": -0.5},
                 ["sparsity_beta", "activation", "average_activation=-0.5"],
                 id="ae-sparse-rectifierdropout"),
    pytest.param({"sparsity_beta": 0.1}, ["sparsity_beta=0.1", "autoencoder=False"],
                 id="sparsity-without-ae"),
    pytest.param({"sparsity_beta": -0.1}, ["sparsity_beta=-0.1", "autoencoder=False"],
                 id="sparsity-negative-without-ae"),
    pytest.param({"distribution": "poisson", "loss": "Quadratic"},
                 ["distribution='poisson'", "loss='Quadratic'"], id="poisson-loss"),
    pytest.param({"distribution": "gamma", "loss": "Absolute"},
                 ["distribution='gamma'", "loss='Absolute'"], id="gamma-loss"),
    pytest.param({"distribution": "tweedie", "loss": "Huber"},
                 ["distribution='tweedie'", "loss='Huber'"], id="tweedie-loss"),
    pytest.param({"distribution": "laplace", "loss": "Quadratic"},
                 ["distribution='laplace'", "loss='Quadratic'"], id="laplace-loss"),
    pytest.param({"distribution": "quantile", "loss": "Absolute"},
                 ["distribution='quantile'", "loss='Absolute'"], id="quantile-loss"),
    pytest.param({"distribution": "huber", "loss": "Quadratic"},
                 ["distribution='huber'", "loss='Quadratic'"], id="huber-loss"),
    pytest.param({"autoencoder": True, "loss": "CrossEntropy"},
                 ["autoencoder", "loss='CrossEntropy'"], id="ae-crossentropy"),
    pytest.param({"autoencoder": True, "balance_classes": True},
                 ["autoencoder", "balance_classes"], id="ae-balance"),
    pytest.param({"nfolds": 1}, ["nfolds=1"], id="nfolds-1"),
    pytest.param({"stopping_metric": "custom"}, ["stopping_metric='custom'",
                                                 "custom_metric_func"], id="custom-no-func"),
]


@pytest.mark.parametrize(("given", "mentioned"), COMBOS)
def test_invalid_combinations(given: dict[str, Any], mentioned: list[str]) -> None:
    with pytest.raises(InvalidParameterError) as exc:
        validate_params(given, OWNER)
    message = str(exc.value)
    assert OWNER in message
    for part in mentioned:
        assert part in message


@pytest.mark.parametrize("given", [
    {"autoencoder": True, "sparsity_beta": 0.1, "activation": "Tanh",
     "average_activation": 0.5},
    {"autoencoder": True, "sparsity_beta": 0.1, "activation": "Rectifier",
     "average_activation": 0.1},
    {"autoencoder": True, "stopping_metric": "MSE", "nfolds": 0},
    {"distribution": "laplace", "loss": "Absolute"},
    {"distribution": "quantile", "loss": "quantile"},
    {"distribution": "huber", "loss": "Huber"},
    {"distribution": "gaussian", "loss": "Absolute"},
    {"distribution": "tweedie", "loss": "Automatic"},
    {"balance_classes": True, "class_sampling_factors": [1.0, 2.0]},
    {"activation": "MaxoutWithDropout", "hidden": [3], "hidden_dropout_ratios": [0.0]},
    {"hidden": [], "activation": "RectifierWithDropout", "hidden_dropout_ratios": []},
    {"stopping_metric": "custom_increasing", "custom_metric_func": _metric},
    {"tweedie_power": 1.01, "quantile_alpha": 0.0, "huber_alpha": 1.0},
])
def test_valid_combinations(given: dict[str, Any]) -> None:
    validate_params(given, OWNER)


# --------------------------------------------------------------------------------------
# Warnings
# --------------------------------------------------------------------------------------


def test_manual_rate_with_adaptive_rate_warns_naming_them() -> None:
    with pytest.warns(UserWarning, match=_names_all("rate=0.01", "momentum_start=0.5",
                                                    "adaptive_rate")) as rec:
        validate_params({"rate": 0.01, "momentum_start": 0.5}, OWNER)
    assert rec[0].filename == __file__


def test_manual_rate_without_adaptive_rate_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_params({"adaptive_rate": False, "rate": 0.01, "momentum_start": 0.5}, OWNER)
        validate_params({}, OWNER)


def test_diagnostics_false_is_deprecated() -> None:
    with pytest.warns(UserWarning, match=_names_all("'diagnostics'", "deprecated")) as rec:
        validate_params({"diagnostics": False}, OWNER)
    assert rec[0].filename == __file__


def test_weights_and_offset_warn() -> None:
    with pytest.warns(UserWarning, match=_names_all("weights_column='w'", "offset_column='o'",
                                                    "not re-weighted")):
        validate_params({"weights_column": "w", "offset_column": "o"}, OWNER)


# --------------------------------------------------------------------------------------
# resolve_effective: data-dependent checks
# --------------------------------------------------------------------------------------

DATA_COMBOS: list[Any] = [
    *[pytest.param({"distribution": d}, "classification", {"n_classes": 2},
                   [f"distribution='{d}'", "classification"], id=f"clf-{d}")
      for d in ("gaussian", "huber", "laplace", "quantile", "tweedie", "gamma", "poisson")],
    pytest.param({"distribution": "bernoulli"}, "regression", {},
                 ["distribution='bernoulli'", "regression"], id="reg-bernoulli"),
    pytest.param({"distribution": "multinomial"}, "regression", {},
                 ["distribution='multinomial'", "regression"], id="reg-multinomial"),
    pytest.param({"distribution": "multinomial"}, "autoencoder", {},
                 ["distribution='multinomial'", "autoencoder"], id="ae-multinomial"),
    pytest.param({"distribution": "bernoulli"}, "classification", {"n_classes": 3},
                 ["distribution='bernoulli'", "n_classes=3", "classification"],
                 id="bernoulli-3-classes"),
    *[pytest.param({"loss": loss}, "classification", {"n_classes": 2},
                   [f"loss='{loss}'", "classification"], id=f"clf-{loss}")
      for loss in ("Huber", "Absolute", "Quantile")],
    pytest.param({"loss": "CrossEntropy"}, "regression", {},
                 ["loss='CrossEntropy'", "regression"], id="reg-crossentropy"),
    pytest.param({"offset_column": "off"}, "classification", {"n_classes": 2},
                 ["offset_column='off'", "Offset is only supported for regression",
                  "classification"], id="clf-offset"),
    pytest.param({"balance_classes": True}, "regression", {},
                 ["balance_classes=True", "regression"], id="reg-balance"),
    pytest.param({"balance_classes": True, "class_sampling_factors": [1.0, 2.0]},
                 "classification", {"n_classes": 3},
                 ["class_sampling_factors=(1.0, 2.0)", "n_classes=3", "classification"],
                 id="csf-length"),
    *[pytest.param({"distribution": d}, "regression", {"response_min": -1.5},
                   [f"distribution='{d}'", "-1.5", "regression"], id=f"negative-{d}")
      for d in ("poisson", "gamma", "tweedie")],
    pytest.param({"autoencoder": True}, "classification", {"n_classes": 2},
                 ["autoencoder=True", "classification"], id="ae-flag-clf"),
    pytest.param({"activation": "Maxout"}, "autoencoder", {},
                 ["autoencoder", "activation='Maxout'"], id="ae-task-rechecks"),
]


@pytest.mark.parametrize(("given", "task", "data", "mentioned"), DATA_COMBOS)
def test_data_dependent_checks(given: dict[str, Any], task: str, data: dict[str, Any],
                               mentioned: list[str]) -> None:
    valid = validate_params(given, OWNER)
    with pytest.raises(InvalidParameterError) as exc:
        resolve_effective(valid, owner=OWNER, task=task, **data)
    message = str(exc.value)
    assert OWNER in message
    for part in mentioned:
        assert part in message


@pytest.mark.parametrize(("given", "task", "data"), [
    ({"distribution": "poisson"}, "regression", {"response_min": 0.0}),
    ({"distribution": "gamma"}, "regression", {"response_min": None}),
    ({"distribution": "bernoulli"}, "classification", {"n_classes": 2}),
    ({"loss": "Quadratic"}, "classification", {"n_classes": 4}),
    ({"balance_classes": True, "class_sampling_factors": [1, 2, 3]}, "classification",
     {"n_classes": 3}),
    ({"offset_column": "o"}, "regression", {}),
    ({"distribution": "huber"}, "autoencoder", {}),
])
def test_data_dependent_valid(given: dict[str, Any], task: str, data: dict[str, Any]) -> None:
    resolve_effective(validate_params(given, OWNER), owner=OWNER, task=task, **data)


def test_resolve_argument_errors() -> None:
    with pytest.raises(ValueError, match="task"):
        resolve_effective(default_params(), owner=OWNER, task="ranking")
    with pytest.raises(ValueError, match="n_classes"):
        resolve_effective(default_params(), owner=OWNER, task="classification")


# --------------------------------------------------------------------------------------
# resolve_effective: the rewrite rules of H2O's Sanity.modifyParms
# --------------------------------------------------------------------------------------


def _eff(task: str = "regression", n_classes: int | None = None, n_nodes: int = 1,
         **given: Any) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        valid = validate_params(given, OWNER)
    return resolve_effective(valid, owner=OWNER, task=task, n_classes=n_classes,
                             n_nodes=n_nodes)


def test_resolve_returns_new_dict_and_does_not_mutate() -> None:
    valid = validate_params({"activation": "TanhWithDropout"}, OWNER)
    before = dict(valid)
    eff = resolve_effective(valid, owner=OWNER, task="regression")
    assert valid == before
    assert eff is not valid
    assert set(eff) == set(PARAMETERS)


def test_rule1_dropout_ratios_default() -> None:
    assert _eff(activation="RectifierWithDropout", hidden=[3, 4, 5])[
        "hidden_dropout_ratios"] == (0.5, 0.5, 0.5)
    assert _eff(activation="MaxoutWithDropout", hidden=[])["hidden_dropout_ratios"] == ()
    assert _eff(activation="TanhWithDropout", hidden=[3, 4],
                hidden_dropout_ratios=[0.1, 0.2])["hidden_dropout_ratios"] == (0.1, 0.2)
    assert _eff(activation="Tanh")["hidden_dropout_ratios"] is None


def test_rule2_replication_and_single_node() -> None:
    eff = _eff(n_nodes=1, single_node_mode=True)
    assert eff["replicate_training_data"] is False
    assert eff["single_node_mode"] is False
    eff = _eff(n_nodes=3, single_node_mode=True)
    assert eff["replicate_training_data"] is True
    assert eff["single_node_mode"] is True
    eff = _eff(n_nodes=3, single_node_mode=True, replicate_training_data=False)
    assert eff["single_node_mode"] is False


def test_rule3_autoencoder_uses_all_factor_levels() -> None:
    assert _eff(task="autoencoder", use_all_factor_levels=False)["use_all_factor_levels"]
    assert _eff(task="autoencoder", autoencoder=True)["autoencoder"] is True
    assert _eff(task="autoencoder")["autoencoder"] is True
    assert not _eff(use_all_factor_levels=False)["use_all_factor_levels"]


def test_rule4_nfolds_turns_off_overwrite_with_best_model() -> None:
    assert _eff(nfolds=3)["overwrite_with_best_model"] is False
    assert _eff()["overwrite_with_best_model"] is True


def test_rule5_categorical_encoding_auto() -> None:
    assert _eff()["categorical_encoding"] == "OneHotInternal"
    assert _eff(categorical_encoding="binary")["categorical_encoding"] == "Binary"


def test_rule6_mini_batch_kept_unless_h2o_compat() -> None:
    assert _eff(mini_batch_size=32)["mini_batch_size"] == 32
    valid = validate_params({"mini_batch_size": 32, "h2o_compat": True}, OWNER)
    with pytest.warns(UserWarning, match=_names_all("mini_batch_size=32", "mini-batch size = 1")):
        eff = resolve_effective(valid, owner=OWNER, task="regression")
    assert eff["mini_batch_size"] == 1


def test_rule7_adaptive_rate_zeroes_manual_fields() -> None:
    eff = _eff(rate=0.1, momentum_start=0.5, momentum_stable=0.9)
    for name in ("rate", "rate_decay", "rate_annealing", "momentum_start", "momentum_ramp",
                 "momentum_stable"):
        assert eff[name] == 0.0
    assert eff["rho"] == 0.99 and eff["epsilon"] == 1e-8
    eff = _eff(adaptive_rate=False, rate=0.1)
    assert eff["rho"] == 0.0 and eff["epsilon"] == 0.0
    assert eff["rate"] == 0.1 and eff["momentum_ramp"] == 1e6 and eff["rate_decay"] == 1.0


@pytest.mark.parametrize(("activation", "max_w2", "expected"), [
    ("Rectifier", math.inf, 1000.0),
    ("RectifierWithDropout", math.inf, 1000.0),
    ("Rectifier", 3.4028235e38, 3.4028235e38),
    ("Tanh", math.inf, math.inf),
    ("Maxout", math.inf, math.inf),
    ("Rectifier", 10.0, 10.0),
])
def test_rule8_max_w2_for_rectifier(activation: str, max_w2: float, expected: float) -> None:
    assert _eff(activation=activation, max_w2=max_w2)["max_w2"] == expected


def test_rule9_autoencoder_stopping_metric_mse() -> None:
    assert _eff(task="autoencoder")["stopping_metric"] == "MSE"
    assert _eff(task="autoencoder", stopping_rounds=0)["stopping_metric"] == "MSE"


@pytest.mark.parametrize(("task", "n_classes", "loss", "expected"), [
    ("classification", 2, "Automatic", "bernoulli"),
    ("classification", 3, "Automatic", "multinomial"),
    ("classification", 2, "Quadratic", "bernoulli"),
    ("regression", None, "Automatic", "gaussian"),
    ("regression", None, "Quadratic", "gaussian"),
    ("regression", None, "Absolute", "laplace"),
    ("regression", None, "Quantile", "quantile"),
    ("regression", None, "Huber", "huber"),
    ("autoencoder", None, "Automatic", "gaussian"),
    ("autoencoder", None, "Absolute", "laplace"),
])
def test_rule10_distribution_auto(task: str, n_classes: int | None, loss: str,
                                  expected: str) -> None:
    assert _eff(task=task, n_classes=n_classes, loss=loss)["distribution"] == expected


@pytest.mark.parametrize(("task", "n_classes", "distribution", "expected"), [
    ("regression", None, "gaussian", "Quadratic"),
    ("regression", None, "quantile", "Quantile"),
    ("regression", None, "laplace", "Absolute"),
    ("regression", None, "huber", "Huber"),
    ("regression", None, "poisson", "Automatic"),
    ("regression", None, "gamma", "Automatic"),
    ("regression", None, "tweedie", "Automatic"),
    ("classification", 2, "bernoulli", "CrossEntropy"),
    ("classification", 5, "multinomial", "CrossEntropy"),
    ("classification", 5, "AUTO", "CrossEntropy"),
])
def test_rule11_loss_automatic(task: str, n_classes: int | None, distribution: str,
                               expected: str) -> None:
    eff = _eff(task=task, n_classes=n_classes, distribution=distribution)
    assert eff["loss"] == expected


def test_rule11_explicit_loss_kept() -> None:
    assert _eff(task="classification", n_classes=2, loss="Quadratic")["loss"] == "Quadratic"
    assert _eff(distribution="gaussian", loss="Absolute")["loss"] == "Absolute"


def test_rule12_reproducible() -> None:
    eff = _eff(n_nodes=4, reproducible=True, force_load_balance=False)
    assert eff["force_load_balance"] is True
    assert eff["score_each_iteration"] is True
    assert eff["replicate_training_data"] is False
    assert eff["train_samples_per_iteration"] == -1
    assert _eff(reproducible=True, train_samples_per_iteration=100)[
        "train_samples_per_iteration"] == 100
    assert _eff(train_samples_per_iteration=-2)["train_samples_per_iteration"] == -2


@pytest.mark.parametrize(("task", "n_classes", "given", "expected"), [
    ("classification", 2, {}, "logloss"),
    ("classification", 3, {}, "logloss"),
    ("regression", None, {}, "deviance"),
    ("classification", 2, {"stopping_rounds": 0}, None),
    ("regression", None, {"stopping_rounds": 0}, None),
    ("classification", 2, {"stopping_metric": "auc"}, "AUC"),
    ("regression", None, {"stopping_metric": "rmse", "stopping_rounds": 0}, "RMSE"),
])
def test_stopping_metric_auto(task: str, n_classes: int | None, given: dict[str, Any],
                              expected: str | None) -> None:
    assert _eff(task=task, n_classes=n_classes, **given)["stopping_metric"] == expected


# --------------------------------------------------------------------------------------
# Constraints and docstrings
# --------------------------------------------------------------------------------------


def test_interval_describe_and_nan() -> None:
    assert Interval(float, 0, None, closed="left").describe() == "a float in the range [0, inf)"
    assert Interval(int, 1, 2147483647).describe() == "an int in the range [1, 2147483647]"
    assert Interval(float, 1, 2, closed="neither").describe() == "a float in the range (1, 2)"
    assert Interval(float, None, None).describe() == "a finite float"
    assert not Interval(float, None, None).accepts(float("nan"))
    assert not Interval(float, None, None).accepts(math.inf)
    real = Interval("real", 0, 10)
    assert real.convert(3) == 3 and type(real.convert(3)) is int
    assert type(real.convert(2.5)) is float
    with pytest.raises(ValueError):
        Interval(str, 0, 1)


def test_union_helper() -> None:
    c = union(NoneValue(), IntSequence(min=0))
    assert c.convert(None) is None
    assert c.convert([0, 3]) == (0, 3)
    assert not c.accepts([-1])
    assert c.describe().startswith("None or a list")
    assert c.type_name() == "sequence of int or None"


def test_params_docstring() -> None:
    doc = params_docstring()
    assert doc.startswith("Parameters\n----------\n")
    for name in PARAMETERS:
        assert f"\n{name} : " in doc
    assert "epochs : float, default=10.0\n    " in doc
    assert "hidden : sequence of int, default=(200, 200)\n" in doc
    assert "hidden_dropout_ratios : sequence of float or None, default=None\n" in doc
    assert "activation : {'Tanh', " in doc
    sub = params_docstring(["l2", "epochs"], header=False)
    assert sub.startswith("l2 : float, default=0.0\n")
    assert sub.index("l2 :") < sub.index("epochs :")
    assert "alpha" in sub
    with pytest.raises(KeyError):
        params_docstring(["nope"])


def test_readme_parameter_table_is_the_generated_one() -> None:
    from pathlib import Path

    from dask_deeplearn.params import params_markdown

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- params-table:start -->\n", "\n<!-- params-table:end -->"
    assert start in readme and end in readme
    table = readme.split(start, 1)[1].split(end, 1)[0]
    assert table == params_markdown(), (
        "README's parameter table is out of date: replace it with "
        "dask_deeplearn.params.params_markdown()")
    for name in PARAMETERS:
        assert f"| `{name}` |" in table
