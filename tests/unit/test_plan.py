"""The fit plan on its own: planning, shared rules and checkpoint checks (no cluster)."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

from dask_deeplearn.exceptions import DataError, InvalidParameterError
from dask_deeplearn.params import PARAMETERS, validate_params
from dask_deeplearn.training.balance import MODEL_KEY, PRIOR_KEY
from dask_deeplearn.training.plan import (
    Checkpoint,
    balance_seed,
    balanced_with_redraws,
    check_checkpoint,
    no_rows_error,
    plan_continue,
    plan_fit,
    sample_fraction,
    thread_count,
)


def _params(**kw):
    return validate_params({**{n: p.default for n, p in PARAMETERS.items()}, **kw}, "Test")


def _frame(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                         "y": np.where(np.arange(n) < n // 4, "rare", "common")})


def _plan(**kw):
    return plan_fit(_frame(), "y", _params(hidden=[3], seed=1, **kw), owner="Test",
                    task="classification", classes=["common", "rare"], features=None,
                    weights_column=None, seed=1, n_nodes=1)


def _checkpoint(plan, **kw):
    values = dict(state=plan.state, data_info=plan.info, params=_params(hidden=[3], seed=1),
                  history=pd.DataFrame({"iterations": [0, 1]}), n_iter=1, epochs=1.0,
                  distribution=plan.params["distribution"], task=plan.task,
                  has_validation=False)
    return Checkpoint(**{**values, **kw})


def test_plan_holds_data_info_network_and_resolved_params():
    plan = _plan()
    assert plan.task == "classification" and plan.n_classes == 2
    assert plan.state.spec.units == (plan.info.n_inputs, 3, 2)
    assert plan.params["distribution"] == "bernoulli"
    assert plan.balance is None and PRIOR_KEY not in plan.params
    assert plan.history is None and plan.iterations_done == 0 and plan.epochs(40) == 10.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.seed = 2


def test_balanced_plan_records_priors_and_run_params_are_a_new_dict():
    plan = _plan(balance_classes=True)
    assert plan.params[PRIOR_KEY] == [0.75, 0.25]
    assert plan.balance[1] > plan.balance[0]
    before = dict(plan.params)
    run = plan.run_params(n_rows=40, model_class_distribution=[0.5, 0.5],
                          replicate_training_data=False)
    assert run[MODEL_KEY] == [0.5, 0.5] and run is not plan.params
    assert plan.params == before and MODEL_KEY not in plan.params


def test_balancing_redraws_until_no_class_is_empty():
    draws = []

    def draw(attempt):
        draws.append(attempt)
        return attempt, np.array([5, 0 if attempt < 3 else 2])

    out, counts = balanced_with_redraws(draw, np.array([1.0, 2.0]))
    assert out == 3 and draws == [0, 1, 2, 3] and counts.tolist() == [5, 2]
    assert balance_seed(10, 2) == 10 + 0x580FF13 + 2
    assert balance_seed(10, 2, block=1) == balance_seed(10, 2) + 7919


def test_shared_rules():
    p = {"reproducible": False, "nthreads": -1}
    assert thread_count(p, 4, cap=False) == 4 and thread_count(p, 4, cap=True) == 4
    assert thread_count({**p, "nthreads": 8}, 4, cap=True) == 4
    assert thread_count({**p, "nthreads": 8}, 4, cap=False) == 8
    assert thread_count({**p, "reproducible": True}, 4, cap=True) == 1
    assert sample_fraction(0, 100) == 1.0 and sample_fraction(200, 100) == 1.0
    assert sample_fraction(25, 100) == 0.25
    msg = str(no_rows_error({"missing_values_handling": "Skip"}, "w"))
    assert msg.startswith("No rows left in the training frame") and "Skip" in msg
    assert "zero weights" in msg
    assert "Skip" not in str(no_rows_error({"missing_values_handling": "MeanImputation"}, None))


def test_continuing_keeps_the_checkpoint_plan_and_counts_more_passes():
    plan = _plan()
    ckpt = _checkpoint(plan)
    more = plan_continue(_frame(10, seed=3), "y", _params(hidden=[3], seed=1, epochs=2),
                         owner="Test", checkpoint=ckpt, features=None, weights_column=None,
                         seed=1, more_passes=1.0)
    assert more.info is plan.info and more.iterations_done == 1
    assert more.state is not plan.state
    np.testing.assert_array_equal(more.state.W[0], plan.state.W[0])
    processed = plan.state.processed
    assert more.epochs(10) == (processed + 10) / 10
    assert more.run_params(n_rows=10)["epochs"] == more.epochs(10)
    assert more.params["epochs"] == 2  # the plan's own parameters are as resolved


def test_continuing_refuses_other_columns_or_levels():
    ckpt = _checkpoint(_plan())
    frame = _frame(10).assign(c=1.0)
    with pytest.raises(DataError, match="columns differ"):
        plan_continue(frame, "y", _params(hidden=[3]), owner="Test", checkpoint=ckpt,
                      features=None, weights_column=None, seed=1)
    bad = _frame(10).assign(y="other")
    with pytest.raises(DataError, match="not among the model's classes"):
        plan_continue(bad, "y", _params(hidden=[3]), owner="Test", checkpoint=ckpt,
                      features=None, weights_column=None, seed=1)


def test_check_checkpoint():
    ckpt = _checkpoint(_plan())
    ok = _params(hidden=[3], seed=1, epochs=5)
    check_checkpoint(ok, ckpt, owner="Test", has_valid=False)
    with pytest.raises(InvalidParameterError, match=r"Cannot change.*hidden"):
        check_checkpoint({**ok, "hidden": [4]}, ckpt, owner="Test", has_valid=False)
    with pytest.raises(InvalidParameterError, match="must be greater than"):
        check_checkpoint({**ok, "epochs": 1.0}, ckpt, owner="Test", has_valid=False)
    check_checkpoint({**ok, "epochs": 1.0}, ckpt, owner="Test", has_valid=False,
                     incremental=True)
    with pytest.raises(InvalidParameterError, match="validation frame"):
        check_checkpoint(ok, ckpt, owner="Test", has_valid=True)
    with pytest.warns(UserWarning, match="no effect when continuing"):
        check_checkpoint({**ok, "initial_weight_scale": 2.0}, ckpt, owner="Test",
                         has_valid=False)
