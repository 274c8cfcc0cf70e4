"""Output errors of the kernels: H2O's distributions (linear output) and softmax losses.

numpy + numba only (and the pure-Python registry :mod:`dask_deeplearn.distributions`).
:data:`DIST_CODES` maps a distribution name to the code the kernels dispatch on
(``Hyper.distribution``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..distributions import KERNEL_CODES

__all__ = ["DIST_CODES", "LOSS_CROSSENTROPY", "LOSS_QUADRATIC", "dist_gradient",
           "softmax_error"]

# loss codes (softmax output)
LOSS_CROSSENTROPY = 0
LOSS_QUADRATIC = 1

# distribution codes (linear output)
DIST_GAUSSIAN = 0
DIST_LAPLACE = 1
DIST_QUANTILE = 2
DIST_HUBER = 3
DIST_POISSON = 4
DIST_GAMMA = 5
DIST_TWEEDIE = 6
DIST_SOFTMAX = 7  # bernoulli / multinomial

#: distribution name -> code (the registry's; the constants above are what the jitted
#: dispatch compares against, checked equal by the test of the registry)
DIST_CODES = KERNEL_CODES

# H2O caps exp(f) of the Poisson gradient at this value
_MAX_EXP = 1e19


@njit(inline="always")
def dist_gradient(dist, f, y, hyper):
    """dE/df of H2O's distributions (``-2 * negHalfGradient``), f = output in link space."""
    if dist == DIST_GAUSSIAN:
        return 2.0 * (f - y)
    if dist == DIST_LAPLACE:
        return 1.0 if f > y else -1.0
    if dist == DIST_QUANTILE:
        a = hyper.quantile_alpha
        return -a if y > f else 1.0 - a
    if dist == DIST_HUBER:
        d = hyper.huber_delta
        if abs(y - f) <= d:
            return 2.0 * (f - y)
        return 2.0 * d if f >= y else -2.0 * d
    if dist == DIST_POISSON:
        return -2.0 * (y - min(np.exp(f), _MAX_EXP))
    if dist == DIST_GAMMA:
        return -2.0 * (y * np.exp(-f) - 1.0)
    if dist == DIST_TWEEDIE:
        p = hyper.tweedie_power
        return -2.0 * (y * np.exp(f * (1.0 - p)) - np.exp(f * (2.0 - p)))
    return 0.0


@njit(inline="always")
def softmax_error(p, target, loss, scale, g):
    """dE/dz of a softmax output with probabilities ``p`` for class ``target``, into ``g``.

    CrossEntropy: ``p - t``. Quadratic (E = ½ Σ (p - t)²): the full softmax Jacobian,
    ``p_k ((p_k - t_k) - Σ_j (p_j - t_j) p_j)``. (H2O uses only the Jacobian's diagonal,
    ``(p - t) p (1 - p)``, which is not the gradient of any loss.)
    """
    n = p.shape[0]
    if loss == LOSS_CROSSENTROPY:
        for j in range(n):
            t = 1.0 if j == target else 0.0
            g[j] = (p[j] - t) * scale
    else:
        s = 0.0
        for j in range(n):
            t = 1.0 if j == target else 0.0
            s += (p[j] - t) * p[j]
        for j in range(n):
            t = 1.0 if j == target else 0.0
            g[j] = p[j] * ((p[j] - t) - s) * scale
