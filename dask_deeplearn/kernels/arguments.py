"""The kernels' arguments, grouped into named tuples (numba passes them as structures).

numpy only. A kernel call reads ``sgd_rows(rows, net, optim, consensus, hyper, seed,
n_start, n_stride)``: every field has the dtype given here (the kernels are compiled once
per combination of field types, so a float field must always hold a float, never an int).
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import numpy as np

__all__ = ["AE_EXACT", "AE_H2O", "AE_OFF", "Consensus", "Hyper", "Net", "Optim", "Rows"]

# autoencoder output-error modes (``Hyper.autoencoder``)
AE_OFF = 0
AE_EXACT = 1
# H2O updates the output layer of an autoencoder as if it were linear (it leaves out the
# output activation's derivative); ``h2o_compat`` reproduces that.
AE_H2O = 2


class Rows(NamedTuple):
    """The training rows of one kernel call.

    Attributes
    ----------
    X : ndarray of shape (n, n_inputs), float32, C-contiguous
    y : ndarray of shape (n,), float32
        Class index or training-space target; unused and possibly empty for an autoencoder,
        whose target is the row of ``X`` before dropout.
    weight : ndarray of shape (n,) or (0,), float32
        Row weights (a factor of the gradient), or empty for weight 1.
    offset : ndarray of shape (n,) or (0,), float32
        Offsets in output (link) space, or empty.
    order : ndarray of shape (m,), int64
        The rows to train on, in order (rows of ``X`` may repeat).
    """

    X: np.ndarray
    y: np.ndarray
    weight: np.ndarray
    offset: np.ndarray
    order: np.ndarray


class Net(NamedTuple):
    """Weights, biases and layout of the network (see :mod:`dask_deeplearn.network`).

    Attributes
    ----------
    W, B : ndarray of shape (n_weights,) and (n_biases,), float32
        Flat weight and bias buffers, updated in place.
    units : ndarray of shape (n_layers + 1,), int64
    channels : ndarray of shape (n_layers,), int64
        Pre-activations per receiving unit of each weight matrix (2 for Maxout, else 1).
    w_off, b_off : ndarray of shape (n_layers + 1,), int64
        Where each weight matrix and bias vector starts in ``W`` and ``B``.
    act : ndarray of shape (n_layers,), int64
        Activation code of each receiving layer (:mod:`~dask_deeplearn.kernels.activations`).
    dropout : ndarray of shape (n_layers,), float64
        Dropout ratio of each receiving layer (0 for the output layer).
    """

    W: np.ndarray
    B: np.ndarray
    units: np.ndarray
    channels: np.ndarray
    w_off: np.ndarray
    b_off: np.ndarray
    act: np.ndarray
    dropout: np.ndarray


class Optim(NamedTuple):
    """Optimiser state, updated in place.

    Attributes
    ----------
    weights, biases : ndarray of shape (2, n_weights) and (2, n_biases), float32
        ADADELTA: slot 0 = E[g²], slot 1 = E[dx²]. Manual rate: slot 0 = velocity.
    mean_activation : ndarray of shape (n_biases,) or (0,), float32
        Running mean activation of every unit (sparse autoencoder), or empty.
    """

    weights: np.ndarray
    biases: np.ndarray
    mean_activation: np.ndarray


class Consensus(NamedTuple):
    """The consensus model of elastic averaging, or ``Consensus(None, None)`` when off.

    With ``W`` and ``B`` None the pull towards them is compiled out of the kernels.
    """

    W: Optional[np.ndarray]
    B: Optional[np.ndarray]


class Hyper(NamedTuple):
    """Hyper-parameters of the update rules (plain Python scalars).

    Attributes
    ----------
    rho, epsilon : float
        ADADELTA decay and conditioning.
    rate, rate_annealing, rate_decay : float
        Manual step ``rate * rate_decay**layer / (1 + rate_annealing * n)``.
    momentum_start, momentum_ramp, momentum_stable : float
        Momentum ramp over the first ``momentum_ramp`` samples.
    l1, l2 : float
        Weight penalties.
    max_w2 : float
        Bound on the sum of squared incoming weights of a unit (float32 max: no bound).
    input_dropout : float
        Probability of zeroing each input.
    tweedie_power, quantile_alpha, huber_delta : float
        Parameters of those distributions.
    elastic : float
        Elastic-averaging pull ``lambda`` towards :class:`Consensus` (0: off).
    sparsity_beta, average_activation : float
        Sparse autoencoder penalty (``sparsity_beta = 0``: off) and its target.
    adaptive, nesterov, fast_mode : bool
        ADADELTA instead of the manual rate; Nesterov momentum; H2O's ``fast_mode``.
    loss : int
        :data:`~dask_deeplearn.kernels.losses.LOSS_CROSSENTROPY` or ``LOSS_QUADRATIC``
        (softmax output).
    distribution : int
        Distribution code (:data:`~dask_deeplearn.kernels.losses.DIST_CODES`).
    autoencoder : int
        :data:`AE_OFF`, :data:`AE_EXACT` or :data:`AE_H2O`.
    """

    rho: float
    epsilon: float
    rate: float
    rate_annealing: float
    rate_decay: float
    momentum_start: float
    momentum_ramp: float
    momentum_stable: float
    l1: float
    l2: float
    max_w2: float
    input_dropout: float
    tweedie_power: float
    quantile_alpha: float
    huber_delta: float
    elastic: float
    sparsity_beta: float
    average_activation: float
    adaptive: bool
    nesterov: bool
    fast_mode: bool
    loss: int
    distribution: int
    autoencoder: int
