"""Hogwild training of one local block: the unit of work a backend runs where the data is.

numpy, numba, threadpoolctl and the standard library only (no Dask, no pandas).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
from threadpoolctl import threadpool_limits

from .arguments import AE_EXACT, AE_H2O, AE_OFF, Consensus, Hyper, Net, Optim, Rows
from .losses import DIST_CODES, LOSS_CROSSENTROPY, LOSS_QUADRATIC
from .mini_batch import sgd_batches
from .per_sample import sgd_rows

if TYPE_CHECKING:  # network imports the activation registry from this package
    from ..network import ModelState

__all__ = ["KernelParams", "select_rows", "train_partition"]


@dataclass(frozen=True)
class KernelParams:
    """Hyper-parameters packed for the kernels.

    Attributes
    ----------
    hyper : Hyper
        The update rules' scalars.
    mini_batch_size : int
        1: the per-sample kernel (H2O's online SGD); more: the mini-batch kernel.
    """

    hyper: Hyper
    mini_batch_size: int = 1

    @classmethod
    def from_params(cls, p: Mapping[str, Any], *, distribution: str, huber_delta: float = 1.0,
                    elastic: float = 0.0) -> "KernelParams":
        """Build kernel parameters from effective (resolved) model parameters.

        Parameters
        ----------
        p : mapping
            Effective parameters (see :func:`dask_deeplearn.params.resolve_effective`).
        distribution : str
            Effective distribution (``"bernoulli"``, ``"gaussian"``, ...).
        huber_delta : float, default=1.0
            Huber threshold in training (standardised) units; H2O always trains with 1.
        elastic : float, default=0.0
            Elastic-averaging regularisation ``lambda``: gradients are pulled towards the
            consensus model of the last averaging (H2O's elastic averaging); 0 turns it off.
        """
        autoencoder = bool(p.get("autoencoder"))
        if autoencoder:
            ae_mode = AE_H2O if p.get("h2o_compat") else AE_EXACT
        else:
            ae_mode = AE_OFF
        hyper = Hyper(
            rho=float(p["rho"]),
            epsilon=float(p["epsilon"]),
            rate=float(p["rate"]),
            rate_annealing=float(p["rate_annealing"]),
            rate_decay=float(p["rate_decay"]),
            momentum_start=float(p["momentum_start"]),
            momentum_ramp=float(p["momentum_ramp"]),
            momentum_stable=float(p["momentum_stable"]),
            l1=float(p["l1"]),
            l2=float(p["l2"]),
            max_w2=min(float(p["max_w2"]), 3.4028234663852886e38),
            input_dropout=float(p["input_dropout_ratio"]),
            tweedie_power=float(p["tweedie_power"]),
            quantile_alpha=float(p["quantile_alpha"]),
            huber_delta=float(huber_delta),
            elastic=float(elastic),
            sparsity_beta=float(p.get("sparsity_beta", 0.0)) if autoencoder else 0.0,
            average_activation=float(p.get("average_activation", 0.0)) if autoencoder else 0.0,
            adaptive=bool(p["adaptive_rate"]),
            nesterov=bool(p["nesterov_accelerated_gradient"]),
            fast_mode=bool(p["fast_mode"]),
            loss=LOSS_QUADRATIC if p["loss"] == "Quadratic" else LOSS_CROSSENTROPY,
            distribution=int(DIST_CODES[distribution]),
            autoencoder=ae_mode,
        )
        return cls(hyper=hyper, mini_batch_size=int(p["mini_batch_size"]))


def _thread_seed(seed: int, thread: int) -> int:
    return (int(seed) * 0x9E3779B1 + thread * 0x85EBCA77 + 0x165667B1) % 2**63


def select_rows(
    n_rows: int,
    n_samples: int,
    nthreads: int,
    rng: np.random.Generator,
    *,
    shuffle: bool = False,
) -> list[np.ndarray]:
    """Choose which rows each thread trains on in one iteration, as H2O samples them.

    The block is split into ``nthreads`` contiguous chunks. With fraction
    ``f = n_samples / n_rows`` each chunk is visited ``R = ceil(f)`` times; each visit keeps
    a row with probability ``q = f / R``. When ``q < 0.999`` or ``shuffle`` is set, each visit
    walks a fresh random permutation of the chunk (H2O's sampling mode); otherwise rows are
    visited in storage order.

    Parameters
    ----------
    n_rows : int
        Rows in the local block.
    n_samples : int
        Rows to train on in this iteration (across all threads).
    nthreads : int
    rng : numpy.random.Generator
    shuffle : bool, default=False

    Returns
    -------
    list of ndarray of int64
        One array of row indices per thread.
    """
    if n_rows == 0 or n_samples <= 0:
        return [np.empty(0, np.int64) for _ in range(nthreads)]
    f = n_samples / n_rows
    repeats = max(1, math.ceil(f - 1e-12))
    q = f / repeats
    sampling = q < 0.999 or shuffle
    bounds = np.linspace(0, n_rows, nthreads + 1).astype(np.int64)
    out = []
    for t in range(nthreads):
        lo, hi = int(bounds[t]), int(bounds[t + 1])
        size = hi - lo
        parts = []
        for _ in range(repeats):
            if size == 0:
                break
            if sampling:
                perm = rng.permutation(size).astype(np.int64) + lo
                if q < 0.999:
                    perm = perm[rng.random(size) < q]
                parts.append(perm)
            else:
                parts.append(np.arange(lo, hi, dtype=np.int64))
        out.append(np.concatenate(parts) if parts else np.empty(0, np.int64))
    return out


def _empty_f32() -> np.ndarray:
    return np.empty(0, dtype=np.float32)


def train_partition(
    state: ModelState,
    X: np.ndarray,
    y: np.ndarray,
    weight: np.ndarray | None,
    offset: np.ndarray | None,
    n_samples: int,
    kp: KernelParams,
    *,
    nthreads: int = 1,
    seed: int = 0,
    shuffle: bool = False,
    consensus: ModelState | None = None,
) -> int:
    """Train ``state`` in place on about ``n_samples`` rows of one local block (Hogwild).

    ``nthreads`` Python threads each run a ``nogil`` Numba kernel over their own rows,
    all updating the same weight buffers without locks. BLAS is pinned to one thread for
    the duration so Hogwild threads × BLAS threads never oversubscribe the cores. With
    ``nthreads=1`` the result is a deterministic function of ``seed``.

    Parameters
    ----------
    state : ModelState
        Mutated in place (weights, biases, optimiser state, ``processed``).
    X : ndarray of shape (n_rows, n_inputs), float32, C-contiguous
    y : ndarray of shape (n_rows,), float32, or None
        Class index or training-space target; None for an autoencoder.
    weight, offset : ndarray of shape (n_rows,), float32, or None
    n_samples : int
        Rows to train on (H2O's per-node share of ``train_samples_per_iteration``).
    kp : KernelParams
    nthreads : int, default=1
    seed : int, default=0
        Seeds row sampling and the dropout RNG of every thread.
    shuffle : bool, default=False
        Visit rows in a random order even when a whole epoch is taken.
    consensus : ModelState, optional
        The consensus model of elastic averaging: with ``kp`` built with ``elastic > 0``,
        gradients are pulled towards its weights and biases (H2O's elastic averaging).

    Returns
    -------
    int
        Rows actually trained on (added to ``state.processed``).
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = _empty_f32() if y is None else np.ascontiguousarray(y, dtype=np.float32)
    weight = _empty_f32() if weight is None else np.ascontiguousarray(weight, dtype=np.float32)
    offset = _empty_f32() if offset is None else np.ascontiguousarray(offset, dtype=np.float32)
    nthreads = max(1, min(int(nthreads), max(1, X.shape[0])))
    rng = np.random.default_rng(_thread_seed(seed, 1 << 20))
    parts = select_rows(X.shape[0], int(n_samples), nthreads, rng, shuffle=shuffle)
    spec = state.spec
    net = Net(state.W, state.B, spec.units_array, spec.k, spec.w_off, spec.b_off, spec.act,
              spec.dropout)
    optim = Optim(state.OW, state.OB, state.AA)
    n0 = int(state.processed)
    hyper = kp.hyper
    if consensus is None or hyper.elastic == 0:
        pull = Consensus(None, None)  # no pull: the kernels are compiled without the term
    else:
        pull = Consensus(np.ascontiguousarray(consensus.W, dtype=np.float32),
                         np.ascontiguousarray(consensus.B, dtype=np.float32))
        if pull.W.shape != state.W.shape or pull.B.shape != state.B.shape:
            raise ValueError("consensus model has a different network shape")

    def run(t: int) -> int:
        if parts[t].shape[0] == 0:
            return 0
        data = Rows(X, y, weight, offset, parts[t])
        seed_t, n_start = _thread_seed(seed, t), n0 + t
        if kp.mini_batch_size > 1:
            return int(sgd_batches(data, kp.mini_batch_size, net, optim, pull, hyper, seed_t,
                                   n_start, nthreads))
        return int(sgd_rows(data, net, optim, pull, hyper, seed_t, n_start, nthreads))

    with threadpool_limits(limits=1, user_api="blas"):
        if nthreads == 1:
            done = run(0)
        else:
            with ThreadPoolExecutor(max_workers=nthreads, thread_name_prefix="ddl-hogwild") as ex:
                done = sum(ex.map(run, range(nthreads)))
    state.processed = n0 + done
    return done
