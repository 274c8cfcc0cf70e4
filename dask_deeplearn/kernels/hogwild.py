"""Hogwild training of one local block: the unit of work a backend runs where the data is.

numpy, numba, threadpoolctl and the standard library only (no Dask, no pandas).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
from threadpoolctl import threadpool_limits

from ..network import ModelState
from . import _sgd

__all__ = ["KernelParams", "select_rows", "train_partition"]


@dataclass(frozen=True)
class KernelParams:
    """Hyper-parameters packed for the kernels.

    Attributes
    ----------
    fp : ndarray of shape (N_FP,), float64
    ip : ndarray of shape (N_IP,), int64
    mini_batch_size : int
    """

    fp: np.ndarray
    ip: np.ndarray
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
            Elastic-averaging regularisation ``lambda`` (semantics §7.7); 0 turns it off.
        """
        fp = np.zeros(_sgd.N_FP, dtype=np.float64)
        fp[_sgd.FP_RHO] = p["rho"]
        fp[_sgd.FP_EPS] = p["epsilon"]
        fp[_sgd.FP_RATE] = p["rate"]
        fp[_sgd.FP_ANNEAL] = p["rate_annealing"]
        fp[_sgd.FP_DECAY] = p["rate_decay"]
        fp[_sgd.FP_MSTART] = p["momentum_start"]
        fp[_sgd.FP_MRAMP] = p["momentum_ramp"]
        fp[_sgd.FP_MSTABLE] = p["momentum_stable"]
        fp[_sgd.FP_L1] = p["l1"]
        fp[_sgd.FP_L2] = p["l2"]
        fp[_sgd.FP_MAXW2] = min(float(p["max_w2"]), 3.4028234663852886e38)
        fp[_sgd.FP_INDROP] = p["input_dropout_ratio"]
        fp[_sgd.FP_TWEEDIE] = p["tweedie_power"]
        fp[_sgd.FP_QALPHA] = p["quantile_alpha"]
        fp[_sgd.FP_HUBER] = huber_delta
        fp[_sgd.FP_ELASTIC] = elastic
        if p.get("autoencoder"):
            fp[_sgd.FP_SPARSITY] = float(p.get("sparsity_beta", 0.0))
            fp[_sgd.FP_AVG_ACT] = float(p.get("average_activation", 0.0))
        ip = np.zeros(_sgd.N_IP, dtype=np.int64)
        ip[_sgd.IP_ADAPTIVE] = int(bool(p["adaptive_rate"]))
        ip[_sgd.IP_NESTEROV] = int(bool(p["nesterov_accelerated_gradient"]))
        ip[_sgd.IP_FAST] = int(bool(p["fast_mode"]))
        ip[_sgd.IP_LOSS] = _sgd.LOSS_QUADRATIC if p["loss"] == "Quadratic" else _sgd.LOSS_CROSSENTROPY
        ip[_sgd.IP_DIST] = _sgd.DIST_CODES[distribution]
        if p.get("autoencoder"):
            ip[_sgd.IP_AE] = _sgd.AE_H2O if p.get("h2o_compat") else _sgd.AE_EXACT
        return cls(fp=fp, ip=ip, mini_batch_size=int(p["mini_batch_size"]))


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
    """Choose which rows each thread trains on in one iteration (semantics §7.4).

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
        gradients are pulled towards its weights and biases (semantics §7.7).

    Returns
    -------
    int
        Rows actually trained on (added to ``state.processed``).
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = _empty_f32() if y is None else np.ascontiguousarray(y, dtype=np.float32)
    rw = _empty_f32() if weight is None else np.ascontiguousarray(weight, dtype=np.float32)
    off = _empty_f32() if offset is None else np.ascontiguousarray(offset, dtype=np.float32)
    nthreads = max(1, min(int(nthreads), max(1, X.shape[0])))
    rng = np.random.default_rng(_thread_seed(seed, 1 << 20))
    parts = select_rows(X.shape[0], int(n_samples), nthreads, rng, shuffle=shuffle)
    spec = state.spec
    layout = (
        spec.units_array,
        spec.k,
        spec.w_off,
        spec.b_off,
        spec.act,
        spec.dropout,
    )
    n0 = int(state.processed)
    if consensus is None or kp.fp[_sgd.FP_ELASTIC] == 0:
        CW = CB = None  # no pull: the kernels are compiled without the elastic term
    else:
        CW = np.ascontiguousarray(consensus.W, dtype=np.float32)
        CB = np.ascontiguousarray(consensus.B, dtype=np.float32)
        if CW.shape != state.W.shape or CB.shape != state.B.shape:
            raise ValueError("consensus model has a different network shape")

    def run(t: int) -> int:
        rows = parts[t]
        if rows.shape[0] == 0:
            return 0
        common = (state.W, state.B, state.OW, state.OB, CW, CB) + layout + (kp.fp, kp.ip)
        tail = (_thread_seed(seed, t), n0 + t, nthreads)
        if kp.mini_batch_size > 1:
            return int(_sgd.sgd_batches(X, y, rw, off, rows, kp.mini_batch_size, *common, *tail))
        head, rest = common[:6], common[6:]
        return int(_sgd.sgd_rows(X, y, rw, off, rows, *head, state.AA, *rest, *tail))

    with threadpool_limits(limits=1, user_api="blas"):
        if nthreads == 1:
            done = run(0)
        else:
            with ThreadPoolExecutor(max_workers=nthreads, thread_name_prefix="ddl-hogwild") as ex:
                done = sum(ex.map(run, range(nthreads)))
    state.processed = n0 + done
    return done
