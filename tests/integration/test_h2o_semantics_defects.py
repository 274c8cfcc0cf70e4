"""H2O semantics: checkpoint restarts, stopping-metric rules, H2O's call style, metrics.

Every test trains tiny in-process models (``backend="local"``, one thread, a fixed seed)
for one or a few epochs.
"""

from __future__ import annotations

import itertools
import warnings
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

from dask_deeplearn import (
    DeepLearningAutoEncoder,
    DeepLearningClassifier,
    DeepLearningEstimator,
    DeepLearningRegressor,
)
from dask_deeplearn.exceptions import DataError, InvalidParameterError
from dask_deeplearn.params import CHECKPOINT_MODIFIABLE, PARAMETERS

Q: dict[str, Any] = dict(backend="local", nthreads=1, seed=7, quiet_mode=True)


def _data(n: int = 120, seed: int = 0, classes: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    score = X[:, 0] + 0.7 * X[:, 1] - 0.4 * X[:, 2]
    if classes == 2:
        y = (score > 0).astype(int)
    else:
        y = np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))
    return X, y


X, Y = _data()
XV, YV = _data(60, seed=1)
X3, Y3 = _data(150, seed=2, classes=3)
XR = X.copy()
YR = X[:, 0] * 2.0 + X[:, 1] + np.random.default_rng(3).normal(scale=0.1, size=len(X))
XNA = X.copy()
XNA[::4, 1] = np.nan


def _base(cls: type = DeepLearningClassifier, data: tuple[Any, Any] = (X, Y), *,
          valid: Any = None, **params: Any) -> Any:
    """The checkpoint: one epoch of a small dropout network."""
    common = dict(hidden=[8], activation="RectifierWithDropout", hidden_dropout_ratios=[0.0],
                  epochs=1, train_samples_per_iteration=0, stopping_rounds=0, **Q)
    return cls(**{**common, **params}).fit(*data, validation_data=valid)


def _cont(base: Any, data: tuple[Any, Any] = (X, Y), *, valid: Any = None,
          **changes: Any) -> Any:
    """Continue ``base`` to 3 epochs in total with the parameters ``changes``."""
    params = {**base.get_params(deep=False), "checkpoint": base, "epochs": 3, **changes}
    return type(base)(**params).fit(*data, validation_data=valid)


# --------------------------------------------------------------------------------------
# checkpoint restarts: every modifiable parameter takes effect
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clf() -> Any:
    return _base()


def test_new_hidden_dropout_reaches_the_kernels_and_the_summary(clf: Any) -> None:
    same = _cont(clf)
    for ratio in (0.3, 0.9):
        new = _cont(clf, hidden_dropout_ratios=[ratio])
        assert new.params_["hidden_dropout_ratios"] == (ratio,)
        assert new.state_.spec.hidden_dropout_ratios == (ratio,)
        # trained with dropout and scored with the 1 - ratio weight scaling
        assert not np.allclose(new.predict_proba(X), same.predict_proba(X))
        assert not np.array_equal(new.state_.W, same.state_.W)
        table = new.summary()
        assert table["dropout"].iloc[1] == pytest.approx(100 * ratio)
    # the checkpoint keeps its own network
    assert clf.state_.spec.hidden_dropout_ratios == (0.0,)
    assert clf.summary()["dropout"].iloc[1] == 0.0


def test_new_input_dropout_is_applied_and_shown(clf: Any) -> None:
    new = _cont(clf, input_dropout_ratio=0.3)
    assert new.state_.spec.input_dropout_ratio == pytest.approx(0.3)
    assert new.summary()["dropout"].iloc[0] == pytest.approx(30.0)
    assert not np.array_equal(new.state_.W, _cont(clf).state_.W)


def _weights_differ(base: Any, data: tuple[Any, Any] = (X, Y), *, same: dict[str, Any] | None = None,
                    **changes: Any) -> None:
    a = _cont(base, data, **(same or {}))
    b = _cont(base, data, **{**(same or {}), **changes})
    for name, value in changes.items():
        assert b.params_[name] == (tuple(value) if isinstance(value, list) else value), name
    assert not np.array_equal(a.state_.W, b.state_.W), changes


#: parameter -> (new value, the parameters both continuations share)
_TRAINING_EFFECT: dict[str, tuple[Any, dict[str, Any]]] = {
    "l1": (1e-2, {}),
    "l2": (1e-2, {}),
    "max_w2": (0.05, {}),
    "loss": ("Quadratic", {}),
    "fast_mode": (False, {"hidden_dropout_ratios": [0.5]}),
    "mini_batch_size": (16, {}),
    "seed": (8, {"shuffle_training_data": True}),
    # (two passes per iteration: rows are visited in storage order unless shuffled)
    "shuffle_training_data": (True, {"train_samples_per_iteration": 240}),
    "train_samples_per_iteration": (50, {}),
}


@pytest.mark.parametrize("name", sorted(_TRAINING_EFFECT))
def test_restart_training_parameter_changes_the_training(clf: Any, name: str) -> None:
    value, same = _TRAINING_EFFECT[name]
    _weights_differ(clf, same=same, **{name: value})


def test_restart_epochs_is_the_new_total(clf: Any) -> None:
    assert _cont(clf, epochs=2).epochs_ == pytest.approx(2)
    assert _cont(clf, epochs=4).epochs_ == pytest.approx(4)


def test_restart_missing_values_handling_is_applied() -> None:
    base = _base(data=(XNA, Y))
    skip = _cont(base, (XNA, Y), missing_values_handling="Skip")
    impute = _cont(base, (XNA, Y))
    assert base.data_info_.missing_values_handling == "MeanImputation"
    assert skip.data_info_.missing_values_handling == "Skip"
    assert skip.summary_.count("training samples")
    # Skip trains on the 90 complete rows only: fewer samples in the same epochs
    assert skip.state_.processed - base.state_.processed < impute.state_.processed - base.state_.processed


def test_restart_average_activation_changes_a_sparse_autoencoder() -> None:
    base = DeepLearningAutoEncoder(hidden=[3], activation="Tanh", epochs=1, sparsity_beta=0.5,
                                   average_activation=0.1, stopping_rounds=0, **Q).fit(X)
    a = _cont(base, (X,))
    b = _cont(base, (X,), average_activation=-0.5)
    assert b.params_["average_activation"] == -0.5
    assert not np.array_equal(a.state_.W, b.state_.W)


def test_restart_stopping_rules_take_effect(clf: Any) -> None:
    longer = dict(epochs=6, score_each_iteration=True)
    assert _cont(clf, **longer).stop_reason_ == "epochs"
    assert _cont(clf, classification_stop=0.5, **longer).stop_reason_ == "classification_stop"
    assert _cont(clf, max_runtime_secs=1e-9, **longer).stop_reason_ == "max_runtime_secs"
    # an always-worse custom metric never improves: the stopping rounds end the run
    worse = itertools.count()
    early = _cont(clf, stopping_rounds=1, stopping_metric="custom",
                  custom_metric_func=lambda a, p, w: float(next(worse)), **longer)
    assert early.stop_reason_ == "early_stopping" and early.epochs_ < 6
    tolerant = _cont(clf, stopping_rounds=1, stopping_tolerance=0.9, **longer)
    assert tolerant.stop_reason_ == "early_stopping"
    strict = _cont(clf, stopping_rounds=1, stopping_tolerance=0.0, **longer)
    assert strict.epochs_ > tolerant.epochs_


def test_restart_regression_stop_takes_effect() -> None:
    base = _base(DeepLearningRegressor, (XR, YR), regression_stop=-1)
    assert _cont(base, (XR, YR), epochs=6).stop_reason_ == "epochs"
    assert _cont(base, (XR, YR), epochs=6, regression_stop=100.0).stop_reason_ == "regression_stop"


def test_restart_overwrite_with_best_model_takes_effect(clf: Any) -> None:
    def run(overwrite: bool) -> Any:
        calls = itertools.count()  # the first scoring of the restart is the best one
        return _cont(clf, overwrite_with_best_model=overwrite, stopping_metric="custom",
                     custom_metric_func=lambda a, p, w: float(next(calls)))
    assert not np.array_equal(run(True).state_.W, run(False).state_.W)


def test_restart_scoring_schedule_takes_effect(clf: Any) -> None:
    quick = dict(train_samples_per_iteration=20, score_interval=1000.0, epochs=2)
    rare = _cont(clf, **quick)
    each = _cont(clf, score_each_iteration=True, **quick)
    assert len(each.scoring_history_) > len(rare.scoring_history_)
    often = _cont(clf, **{**quick, "score_interval": 0.0, "score_duty_cycle": 1.0})
    assert len(often.scoring_history_) > len(rare.scoring_history_)
    never = _cont(clf, **{**quick, "score_interval": 0.0, "score_duty_cycle": 0.0})
    assert len(never.scoring_history_) < len(often.scoring_history_)


def test_restart_scoring_samples_take_effect() -> None:
    base = _base(valid=(XV, YV))
    full = _cont(base, valid=(XV, YV))
    assert full.training_metrics_.nobs == len(X) and full.validation_metrics_.nobs == len(XV)
    sampled = _cont(base, valid=(XV, YV), score_training_samples=40, score_validation_samples=20)
    assert sampled.training_metrics_.nobs < len(X)
    assert sampled.validation_metrics_.nobs < len(XV)


def test_restart_reporting_parameters_take_effect(clf: Any, capsys: Any, tmp_path: Any) -> None:
    assert _cont(clf, variable_importances=True).varimp() is not None
    with pytest.raises(ValueError, match="variable_importances=False"):
        _cont(clf, variable_importances=False).varimp()
    with pytest.raises(AttributeError):
        _cont(clf).weights_
    assert len(_cont(clf, export_weights_and_biases=True).weights_) == 2
    history = _cont(clf, custom_metric_func=lambda a, p, w: 1.0).scoring_history_
    assert "training_custom" in history.columns
    capsys.readouterr()
    _cont(clf, quiet_mode=False)
    assert "DeepLearningClassifier" in capsys.readouterr().err
    _cont(clf)
    assert capsys.readouterr().err == ""
    _cont(clf, verbose=True)
    assert capsys.readouterr().out + capsys.readouterr().err != ""
    _cont(clf, export_checkpoints_dir=str(tmp_path), model_id="again")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names and all(n.startswith("again_iteration") for n in names)
    with pytest.warns(UserWarning, match="diagnostics"):
        _cont(clf, diagnostics=False)


def test_restart_multinomial_metrics_parameters_take_effect() -> None:
    base = _base(data=(X3, Y3))
    first = _cont(base, (X3, Y3))
    assert first.training_metrics_.auc is None and len(first.training_metrics_.hit_ratios) == 3
    new = _cont(base, (X3, Y3), auc_type="MACRO_OVR", max_hit_ratio_k=2,
                max_confusion_matrix_size=2)
    m = new.training_metrics_
    assert m.auc is not None and len(m.hit_ratios) == 2
    assert m.confusion_matrix is not None and "too large" in repr(m)
    assert "too large" not in repr(first.training_metrics_)


def test_restart_threads_and_reproducibility_take_effect(clf: Any) -> None:
    assert _cont(clf, nthreads=2).nthreads_ == 2
    rep = _cont(clf, nthreads=2, reproducible=True)
    assert rep.nthreads_ == 1 and rep.params_["score_each_iteration"] is True


def test_restart_warm_start_continues_again(clf: Any) -> None:
    model = _cont(clf, warm_start=True)
    done = model.epochs_
    model.set_params(checkpoint=None, epochs=1).fit(X, Y)
    assert model.epochs_ == pytest.approx(done + 1)


@pytest.mark.parametrize("changes", [
    {"initial_weight_distribution": "Normal"},
    {"initial_weight_scale": 5.0, "initial_weight_distribution": "Uniform"},
])
def test_restart_initial_weight_settings_are_ignored_with_a_warning(clf: Any,
                                                                    changes: dict) -> None:
    with pytest.warns(UserWarning, match="checkpoint.*weights"):
        new = _cont(clf, **changes)
    np.testing.assert_array_equal(new.state_.W, _cont(clf).state_.W)


def test_restart_pretrained_autoencoder_is_ignored_with_a_warning(clf: Any) -> None:
    ae = DeepLearningAutoEncoder(hidden=[8], activation="Rectifier", epochs=1, **Q).fit(X)
    with pytest.warns(UserWarning, match="pretrained_autoencoder.*checkpoint"):
        new = _cont(clf, pretrained_autoencoder=ae)
    np.testing.assert_array_equal(new.state_.W, _cont(clf).state_.W)


def test_restart_initial_weights_are_refused(clf: Any) -> None:
    with pytest.raises(InvalidParameterError, match="initial_weights.*checkpoint"):
        _cont(clf, initial_weights=[None, None])


#: modifiable parameters whose effect needs a Dask cluster of several workers, cannot
#: exist at a restart, or is the restart itself (each with the reason)
_NOT_LOCAL = {
    "replicate_training_data": "several workers",
    "single_node_mode": "several workers",
    "elastic_averaging": "several workers",
    "elastic_averaging_moving_rate": "several workers",
    "elastic_averaging_regularization": "several workers",
    "target_ratio_comm_to_comp": "several workers",
    "backend": "a cluster",
    "scheduler_address": "a cluster",
    "force_load_balance": "no effect on one in-process block",
    "keep_cross_validation_models": "no cross-validation at a restart",
    "keep_cross_validation_predictions": "no cross-validation at a restart",
    "keep_cross_validation_fold_assignment": "no cross-validation at a restart",
    "checkpoint": "the restart itself",
}

_TESTED_ELSEWHERE_HERE = {
    "hidden_dropout_ratios", "input_dropout_ratio", "epochs", "missing_values_handling",
    "average_activation", "classification_stop", "max_runtime_secs", "stopping_rounds",
    "stopping_metric", "stopping_tolerance", "custom_metric_func", "regression_stop",
    "overwrite_with_best_model", "score_each_iteration", "score_interval", "score_duty_cycle",
    "score_training_samples", "score_validation_samples", "variable_importances",
    "export_weights_and_biases", "quiet_mode", "verbose", "export_checkpoints_dir", "model_id",
    "diagnostics", "auc_type", "max_hit_ratio_k", "max_confusion_matrix_size", "nthreads",
    "reproducible", "warm_start", "initial_weight_distribution", "initial_weight_scale",
    "pretrained_autoencoder", "initial_weights", "initial_biases",
    "score_validation_sampling",
}


def test_every_modifiable_parameter_has_an_effect_test() -> None:
    covered = set(_TRAINING_EFFECT) | _TESTED_ELSEWHERE_HERE | set(_NOT_LOCAL)
    assert covered == set(CHECKPOINT_MODIFIABLE)


def test_modifiable_set_holds_h2os_list() -> None:
    h2o = ("seed checkpoint epochs score_interval train_samples_per_iteration "
           "target_ratio_comm_to_comp score_duty_cycle score_training_samples "
           "score_validation_samples score_validation_sampling classification_stop "
           "regression_stop stopping_rounds stopping_metric stopping_tolerance quiet_mode "
           "max_confusion_matrix_size diagnostics variable_importances "
           "initial_weight_distribution initial_weight_scale initial_weights initial_biases "
           "force_load_balance replicate_training_data shuffle_training_data single_node_mode "
           "fast_mode l1 l2 max_w2 input_dropout_ratio hidden_dropout_ratios loss "
           "overwrite_with_best_model missing_values_handling average_activation reproducible "
           "export_weights_and_biases elastic_averaging elastic_averaging_moving_rate "
           "elastic_averaging_regularization mini_batch_size pretrained_autoencoder").split()
    assert set(h2o) <= set(CHECKPOINT_MODIFIABLE)
    for name in ("activation", "hidden", "distribution", "huber_alpha", "nfolds", "rho"):
        assert not PARAMETERS[name].checkpoint_modifiable


# --------------------------------------------------------------------------------------
# checkpoint with cross-validation
# --------------------------------------------------------------------------------------


def test_checkpoint_with_nfolds_says_cross_validation_is_not_supported(clf: Any) -> None:
    with pytest.raises(InvalidParameterError,
                       match=r"nfolds=3.*checkpoint.*[Cc]ross-validation is not supported"):
        _cont(clf, nfolds=3)
    with pytest.raises(InvalidParameterError, match=r"fold_column='f'.*checkpoint"):
        _cont(clf, fold_column="f")


def test_a_cross_validated_model_continues_without_folds() -> None:
    cv = _base(nfolds=2)
    with pytest.raises(InvalidParameterError, match="[Cc]ross-validation is not supported"):
        _cont(cv)
    more = _cont(cv, nfolds=0)
    assert more.epochs_ == pytest.approx(3)


# --------------------------------------------------------------------------------------
# huber_alpha in the metrics
# --------------------------------------------------------------------------------------


def test_huber_alpha_sets_the_metric_delta() -> None:
    fits = {a: DeepLearningRegressor(hidden=[4], epochs=1, distribution="huber", huber_alpha=a,
                                     **Q).fit(XR, YR) for a in (0.5, 0.9)}
    m5, m9 = fits[0.5].training_metrics_, fits[0.9].training_metrics_
    res5 = np.abs(YR - fits[0.5].predict(XR))
    assert m5.huber_delta < m9.huber_delta
    assert m5.huber_delta == pytest.approx(np.quantile(res5, 0.5), rel=0.2)
    assert m5.mean_residual_deviance != m9.mean_residual_deviance


# --------------------------------------------------------------------------------------
# stopping metrics that do not apply to the task
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "data", "metric"), [
    (DeepLearningClassifier, (X, Y), "deviance"),
    (DeepLearningClassifier, (X, Y), "MAE"),
    (DeepLearningClassifier, (X, Y), "RMSLE"),
    (DeepLearningClassifier, (X3, Y3), "AUC"),
    (DeepLearningClassifier, (X3, Y3), "lift_top_group"),
    (DeepLearningRegressor, (XR, YR), "logloss"),
    (DeepLearningRegressor, (XR, YR), "AUC"),
    (DeepLearningRegressor, (XR, YR), "AUCPR"),
    (DeepLearningRegressor, (XR, YR), "misclassification"),
    (DeepLearningRegressor, (XR, YR), "mean_per_class_error"),
    (DeepLearningRegressor, (XR, YR), "lift_top_group"),
])
def test_stopping_metric_that_does_not_apply_is_refused(cls: type, data: Any,
                                                        metric: str) -> None:
    model = cls(hidden=[4], epochs=1, stopping_metric=metric, **Q)
    with pytest.raises(InvalidParameterError, match=rf"stopping_metric='{metric}'"):
        model.fit(*data)
    assert not hasattr(model, "state_")


@pytest.mark.parametrize(("cls", "data", "metric"), [
    (DeepLearningClassifier, (X, Y), "AUC"),
    (DeepLearningClassifier, (X, Y), "lift_top_group"),
    (DeepLearningClassifier, (X3, Y3), "misclassification"),
    (DeepLearningRegressor, (XR, YR), "MAE"),
    (DeepLearningRegressor, (XR, YR), "RMSLE"),
    (DeepLearningRegressor, (XR, YR), "deviance"),
])
def test_stopping_metric_that_applies_is_accepted(cls: type, data: Any, metric: str) -> None:
    assert cls(hidden=[4], epochs=1, stopping_metric=metric, **Q).fit(*data).params_[
        "stopping_metric"] == metric


def test_inapplicable_stopping_metric_in_the_h2o_face() -> None:
    frame = pd.DataFrame(X, columns=list("abcd")).assign(y=pd.Categorical(Y))
    with pytest.raises(InvalidParameterError, match="stopping_metric='deviance'.*classification"):
        DeepLearningEstimator(hidden=[4], epochs=1, stopping_metric="deviance", **Q).train(
            y="y", training_frame=frame)


# --------------------------------------------------------------------------------------
# x and y as column positions in train()
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.DataFrame(XR, columns=["a", "b", "c", "d"]).assign(target=YR)


def test_train_takes_column_positions(frame: pd.DataFrame) -> None:
    by_pos = DeepLearningEstimator(hidden=[4], epochs=1, **Q).train(
        x=list(range(3)), y=4, training_frame=frame)
    by_name = DeepLearningEstimator(hidden=[4], epochs=1, **Q).train(
        x=["a", "b", "c"], y="target", training_frame=frame)
    assert by_pos.data_info_.feature_names == ["a", "b", "c"]
    assert by_pos.response_column_ == "target"
    np.testing.assert_array_equal(by_pos.predict(frame), by_name.predict(frame))
    neg = DeepLearningEstimator(hidden=[4], epochs=1, **Q).train(x=[0, "b", 2], y=-1,
                                                                 training_frame=frame)
    assert neg.response_column_ == "target" and neg.data_info_.feature_names == ["a", "b", "c"]


@pytest.mark.parametrize(("x", "y", "pattern"), [
    ([0, 7], "target", r"x.*7.*out of range.*5 columns"),
    ([0, 1], 5, r"y=5.*out of range.*5 columns"),
    ([0, -6], "target", r"x.*-6.*out of range"),
])
def test_train_refuses_positions_out_of_range(frame: pd.DataFrame, x: Any, y: Any,
                                              pattern: str) -> None:
    with pytest.raises(DataError, match=pattern):
        DeepLearningEstimator(hidden=[4], epochs=1, **Q).train(x=x, y=y, training_frame=frame)


# --------------------------------------------------------------------------------------
# confusion matrix above max_confusion_matrix_size
# --------------------------------------------------------------------------------------


def test_confusion_matrix_is_kept_above_max_confusion_matrix_size() -> None:
    model = DeepLearningClassifier(hidden=[4], epochs=1, max_confusion_matrix_size=2,
                                   **Q).fit(X3, Y3)
    cm = model.training_metrics_.confusion_matrix
    assert cm is not None and cm.shape == (4, 5)
    assert model.model_performance(X3, Y3).confusion_matrix is not None
    assert "too large" in repr(model.training_metrics_)


# --------------------------------------------------------------------------------------
# an autoencoder given a response
# --------------------------------------------------------------------------------------


def test_autoencoder_train_with_y_warns_and_ignores_it(frame: pd.DataFrame) -> None:
    with pytest.warns(UserWarning, match=r"y='a'.*ignored"):
        ae = DeepLearningEstimator(hidden=[3], activation="Tanh", epochs=1, autoencoder=True,
                                   **Q).train(x=list(range(5)), y=0, training_frame=frame)
    plain = DeepLearningEstimator(hidden=[3], activation="Tanh", epochs=1, autoencoder=True,
                                  **Q).train(x=list(range(5)), training_frame=frame)
    assert ae.task_ == "autoencoder" and ae.response_column_ is None
    assert ae.data_info_.feature_names == plain.data_info_.feature_names
    np.testing.assert_array_equal(ae.state_.W, plain.state_.W)
    with pytest.warns(UserWarning, match=r"y='target'.*ignored"):
        DeepLearningEstimator(hidden=[3], activation="Tanh", epochs=1, autoencoder=True,
                              **Q).train(y="target", training_frame=frame)


def test_autoencoder_fit_with_y_warns_and_ignores_it() -> None:
    with pytest.warns(UserWarning, match="y.*ignored"):
        ae = DeepLearningEstimator(hidden=[3], activation="Tanh", epochs=1, autoencoder=True,
                                   **Q).fit(X, Y)
    assert ae.task_ == "autoencoder"
    # the scikit-learn autoencoder ignores y silently, as scikit-learn's transformers do
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DeepLearningAutoEncoder(hidden=[3], activation="Tanh", epochs=1, **Q).fit(X, Y)


def test_dask_restart_applies_the_new_dropout_and_missing_value_handling(client: Any) -> None:
    import dask.dataframe as dd

    frame = pd.DataFrame(XNA, columns=list("abcd")).assign(y=Y)
    Xd = dd.from_pandas(frame[list("abcd")], npartitions=2)
    yd = dd.from_pandas(frame["y"], npartitions=2)
    common = dict(hidden=[8], activation="RectifierWithDropout", hidden_dropout_ratios=[0.0],
                  stopping_rounds=0, seed=7, quiet_mode=True)
    base = DeepLearningClassifier(epochs=1, **common).fit(Xd, yd, client=client)
    new = DeepLearningClassifier(epochs=2, checkpoint=base, **{
        **common, "hidden_dropout_ratios": [0.4], "input_dropout_ratio": 0.2,
        "missing_values_handling": "Skip"}).fit(Xd, yd, client=client)
    assert new.backend_ == "dask"
    assert new.state_.spec.hidden_dropout_ratios == (0.4,)
    assert list(new.summary()["dropout"].iloc[:2]) == pytest.approx([20.0, 40.0])
    assert new.data_info_.missing_values_handling == "Skip"


# --------------------------------------------------------------------------------------
# score_validation_sampling
# --------------------------------------------------------------------------------------
def _rare_validation(n: int = 400, rare: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    Xv = rng.normal(size=(n, 4))
    yv = np.zeros(n, dtype=int)
    yv[rng.choice(n, rare, replace=False)] = 1
    return Xv, yv


def _scored_classes(m: Any) -> np.ndarray:
    """Rows per actual class (0, 1) in the validation scoring sample."""
    first = m.validation_metrics_.thresholds_and_metric_scores.iloc[0]
    return np.array([first["fps"] + first["tns"], first["tps"] + first["fns"]])


@pytest.mark.parametrize("backend", ["local", "dask"])
def test_stratified_validation_sampling_scores_every_class(backend: str, request: Any) -> None:
    kw: dict[str, Any] = {}
    if backend == "dask":
        kw["client"] = request.getfixturevalue("client")
    Xv, yv = _rare_validation()
    counts = {}
    for sampling in ("Uniform", "Stratified"):
        per_seed = []
        for seed in range(4):
            m = DeepLearningClassifier(
                hidden=[4], epochs=1, seed=seed, quiet_mode=True, balance_classes=True,
                score_validation_samples=20, score_validation_sampling=sampling,
                backend=backend).fit(X, Y, validation_data=(Xv, yv), **kw)
            per_seed.append(_scored_classes(m))
        counts[sampling] = np.array(per_seed)
    # 20 of 400 rows: a uniform sample misses the 3 rare rows in most draws, a stratified
    # one always holds both classes, in about the same proportion otherwise
    assert (counts["Uniform"][:, 1] == 0).any()
    assert (counts["Stratified"] > 0).all()
    assert (counts["Stratified"].sum(axis=1) < 60).all()


def test_stratified_validation_sampling_needs_balance_classes() -> None:
    # as in H2O: without balance_classes the validation sample is uniform
    Xv, yv = _rare_validation()
    got = [DeepLearningClassifier(hidden=[4], epochs=1, seed=0, quiet_mode=True,
                                  score_validation_samples=20, score_validation_sampling=s,
                                  ).fit(X, Y, validation_data=(Xv, yv)) for s in
           ("Uniform", "Stratified")]
    np.testing.assert_array_equal(_scored_classes(got[0]), _scored_classes(got[1]))


def test_restart_score_validation_sampling_takes_effect() -> None:
    Xv, yv = _rare_validation()
    seen = []
    for seed in range(4):
        base = _base(valid=(Xv, yv), seed=seed, balance_classes=True,
                     score_validation_samples=20)
        seen.append(_scored_classes(_cont(base, valid=(Xv, yv),
                                          score_validation_sampling="Stratified")))
    assert (np.array(seen) > 0).all()
