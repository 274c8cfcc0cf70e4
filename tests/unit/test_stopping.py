"""The stopping rule and the metric registries on their own (no data, no cluster)."""

import math

import pytest

from dask_deeplearn.metrics import STOPPING_METRIC_DIRECTION
from dask_deeplearn.training.schedule import stop_early
from dask_deeplearn.training.stopping import (
    DEFAULT_METRIC,
    MORE_IS_BETTER,
    StoppingRule,
    default_metric,
    metric_value,
)


def test_registries_agree_with_the_metric_table():
    assert MORE_IS_BETTER == {m for m, up in STOPPING_METRIC_DIRECTION.items() if up}
    assert {"AUC", "AUCPR", "lift_top_group", "custom_increasing"} <= MORE_IS_BETTER
    assert not {"logloss", "MSE", "deviance", "misclassification"} & MORE_IS_BETTER
    assert DEFAULT_METRIC == {"classification": "logloss", "regression": "deviance",
                              "autoencoder": "MSE"}
    assert default_metric(None) == "deviance" and default_metric("regression") == "deviance"


def test_from_params_uses_the_task_default_for_auto():
    p = {"stopping_metric": None, "stopping_rounds": 3, "stopping_tolerance": 0.01}
    assert StoppingRule.from_params(p, "classification") == StoppingRule("logloss", 3, 0.01)
    assert StoppingRule.from_params(p, "autoencoder").metric == "MSE"
    auc = StoppingRule.from_params({**p, "stopping_metric": "AUC"}, "classification")
    assert auc.more_is_better and auc.rounds == 3


def test_should_stop_is_the_moving_average_rule():
    rule = StoppingRule("logloss", rounds=2, tolerance=0.0)
    assert rule.should_stop([0.5, 0.5, 0.5, 0.5])
    assert not rule.should_stop([0.5, 0.5, 0.5])             # needs 2k values
    assert not rule.should_stop([0.9, 0.7, 0.5, 0.3])        # still improving
    assert not rule.should_stop([1.0, math.nan, 1.0, 1.0])   # NaN in the window
    assert not StoppingRule("logloss", 0).should_stop([0.5] * 10)
    assert StoppingRule("MSE", 2).should_stop([0.0] * 4)     # bounded below, reference 0
    up = StoppingRule("AUC", rounds=2, tolerance=0.0)
    assert not up.should_stop([0.5, 0.6, 0.7, 0.8])
    assert up.should_stop([0.9, 0.9, 0.9, 0.9])


@pytest.mark.parametrize("metric", ["logloss", "AUC", "MSE", "deviance", "lift_top_group"])
@pytest.mark.parametrize("values", [[0.9, 0.5, 0.45, 0.44, 0.44, 0.43],
                                    [0.1, 0.2, 0.2, 0.2], [1.0, -1.0, 0.5, 0.5]])
def test_stop_early_is_the_rule(metric, values):
    for k, tol in ((1, 0.0), (2, 0.05), (3, 1e-3)):
        assert stop_early(values, stopping_rounds=k, stopping_metric=metric,
                          stopping_tolerance=tol) == StoppingRule(metric, k, tol).should_stop(values)


def test_loss_and_best_model_order():
    class M:
        def __init__(self, **v):
            self.v = v

        def get(self, name):
            return self.v[name]

    assert StoppingRule("AUC").loss(M(AUC=0.8)) == pytest.approx(0.2)
    assert StoppingRule("lift_top_group").loss(M(lift_top_group=3.0)) == -3.0
    assert StoppingRule("logloss").loss(M(logloss=0.3)) == 0.3
    assert math.isnan(StoppingRule("logloss").loss(None))
    assert math.isnan(metric_value(M(), "logloss"))
    assert StoppingRule("logloss").best([0.7, 0.4, 0.6, 0.4]) == 1
    assert StoppingRule("AUC").best([0.7, math.nan, 0.9]) == 2
    assert StoppingRule("AUC").best([math.nan]) is None


def test_should_stop_among_sorts_worst_first_and_drops_the_worst():
    rule = StoppingRule("logloss", rounds=2, tolerance=1e-3)
    assert rule.should_stop_among([0.3] * 5, more_is_better=False)
    assert not rule.should_stop_among([0.3] * 4, more_is_better=False)
    assert not rule.should_stop_among([0.9, 0.5, 0.45, 0.2, 0.1], more_is_better=False)
    auc = StoppingRule("AUC", rounds=2, tolerance=1e-3)
    assert auc.should_stop_among([0.5, 0.8, 0.8, 0.8, 0.8], more_is_better=True)
