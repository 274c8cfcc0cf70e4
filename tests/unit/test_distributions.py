"""The distribution registry is the one source of the distributions' tasks, links and codes."""

from __future__ import annotations

import numpy as np
import pytest

from dask_deeplearn import distributions as reg
from dask_deeplearn.kernels import losses
from dask_deeplearn.metrics import DISTRIBUTIONS as METRIC_DISTRIBUTIONS, deviance_per_row
from dask_deeplearn.params import PARAMETERS


def test_kernel_codes_match_the_jitted_dispatch_constants():
    assert losses.DIST_CODES == reg.KERNEL_CODES
    for name, const in [("gaussian", losses.DIST_GAUSSIAN), ("laplace", losses.DIST_LAPLACE),
                        ("quantile", losses.DIST_QUANTILE), ("huber", losses.DIST_HUBER),
                        ("poisson", losses.DIST_POISSON), ("gamma", losses.DIST_GAMMA),
                        ("tweedie", losses.DIST_TWEEDIE), ("bernoulli", losses.DIST_SOFTMAX),
                        ("multinomial", losses.DIST_SOFTMAX)]:
        assert reg.DISTRIBUTIONS[name].code == const


def test_parameter_table_and_metrics_read_the_registry():
    options = PARAMETERS["distribution"].constraint.names
    assert tuple(options) == ("AUTO", *reg.DISTRIBUTIONS)
    assert METRIC_DISTRIBUTIONS == reg.REGRESSION_DISTRIBUTIONS
    assert reg.LOG_LINK == {"poisson", "gamma", "tweedie"}
    assert reg.IDENTITY_LINK == {"auto", "gaussian", "laplace", "quantile", "huber"}


@pytest.mark.parametrize("name", reg.REGRESSION_DISTRIBUTIONS)
def test_every_regression_distribution_has_a_deviance(name):
    y = np.array([1.0, 2.0, 3.0])
    f = np.array([1.5, 2.0, 2.5])
    extra = {"huber_delta": 1.0} if name == "huber" else {}
    assert np.all(np.isfinite(deviance_per_row(y, f, distribution=name, **extra)))
