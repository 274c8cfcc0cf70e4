"""Recommended parameter sets, shared by the README, the benchmarks and users."""

from __future__ import annotations

from typing import Any

__all__ = ["fast", "h2o"]


def fast(**overrides: Any) -> dict[str, Any]:
    """The recommended fast configuration: BLAS mini-batches beyond H2O's online SGD.

    Mini-batches of 48 rows computed with float32 matrix products (one update per batch,
    Hogwild across threads), manual learning rate 0.08 annealed as ``rate / (1 + 1e-5 n)``
    after ``n`` samples, Nesterov momentum 0.9, a light L2 penalty (3e-5), 10 % input
    dropout and H2O's ``max_w2`` cap on each unit's squared incoming weights (10). On
    Fashion-MNIST it trains several times faster than H2O semantics at better accuracy
    (see ``benchmarks/bench_engine.py``; tuned over seeds there: without the input dropout
    and the ``max_w2`` cap, 5 of 22 seeds fell below 0.885 test accuracy; with them, 9 of
    9 reached 0.8866 to 0.8909; batch 64 with rate 0.1 was faster but less accurate).

    Parameters
    ----------
    **overrides
        Parameters to change in the returned dict.

    Returns
    -------
    dict
        Keyword arguments for any estimator: ``DeepLearningClassifier(**fast())``.
    """
    params: dict[str, Any] = {
        "mini_batch_size": 48,
        "adaptive_rate": False,
        "rate": 0.08,
        "rate_annealing": 1e-5,
        "l2": 3e-5,
        "momentum_start": 0.9,
        "momentum_stable": 0.9,
        "nesterov_accelerated_gradient": True,
        "input_dropout_ratio": 0.1,
        "max_w2": 10.0,
    }
    params.update(overrides)
    return params


def h2o(**overrides: Any) -> dict[str, Any]:
    """H2O's own defaults (an empty dict plus ``overrides``), for symmetry with :func:`fast`."""
    return dict(overrides)
