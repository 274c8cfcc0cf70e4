"""The per-sample kernel: H2O's online SGD, one update per training row.

numpy + numba only. :func:`sgd_rows` is ``nogil``, so several Python threads can run it at
once on the same weight buffers (Hogwild: element-wise writes, no locks).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._jit import JIT
from ._rng import drop_inputs, drop_threshold, uniform
from .activations import LINEAR, SOFTMAX, activate, derivative
from .arguments import AE_EXACT, AE_OFF
from .losses import dist_gradient, softmax_error
from .update import (adadelta_step, layer_rate, momentum_step, penalised, rescale_max_w2,
                     rule_scalars, update_bias)

__all__ = ["sgd_rows"]


@njit(**JIT)
def _propagate(W, base, cols, gr, e):
    """``e += gr * W[base:base + cols]`` (error to the layer below, pre-update weights)."""
    Wv = W[base:base + cols]
    for c in range(cols):
        e[c] += gr * Wv[c]


@njit(**JIT)
def _update_row_adadelta(W, EG, EDX, cons_W, base, cols, gr, ain, fast, l1, l2, lam, rho, eps):
    """ADADELTA update of one receiving unit's incoming weights (``grad = gr * ain``).

    Branch-free so LLVM vectorises it; weights skipped by ``fast_mode`` (input 0) keep
    their values without a masked store (see :func:`adadelta_step`). Returns the sum of
    squared gradients of the updated weights (H2O's bias ADADELTA rule).
    """
    zero = np.float32(0.0)
    sumg2 = zero
    Wv = W[base:base + cols]
    EGv = EG[base:base + cols]
    EDv = EDX[base:base + cols]
    for c in range(cols):
        w = Wv[c]
        ac = ain[c]
        grad = penalised(gr * ac, w, cons_W, base + c, l1, l2, lam)
        upd = not (fast and ac == zero)
        EGv[c], EDv[c], d = adadelta_step(EGv[c], EDv[c], grad, upd, rho, eps)
        Wv[c] = w - d
        sumg2 += grad * grad if upd else zero
    return sumg2


@njit(**JIT)
def _update_row_manual(W, V, cons_W, base, cols, gr, ain, fast, l1, l2, lam, r, m, has_mom,
                       nesterov):
    """Manual-rate update (plain, momentum or Nesterov) of one unit's incoming weights.

    Skipped weights (``fast_mode``, input 0) stay unchanged without a masked store (see
    :func:`adadelta_step`); one loop per rule, for the same reason.
    """
    zero = np.float32(0.0)
    Wv = W[base:base + cols]
    if has_mom:
        Vv = V[base:base + cols]
        for c in range(cols):
            w = Wv[c]
            ac = ain[c]
            grad = penalised(gr * ac, w, cons_W, base + c, l1, l2, lam)
            Vv[c], step = momentum_step(Vv[c], grad, not (fast and ac == zero), r, m, nesterov)
            Wv[c] = w + step
    else:
        for c in range(cols):
            w = Wv[c]
            ac = ain[c]
            grad = penalised(gr * ac, w, cons_W, base + c, l1, l2, lam)
            upd = not (fast and ac == zero)
            Wv[c] = w - (r if upd else zero) * grad
    return zero


@njit(**JIT)
def _dot(W, base, a, cols):
    Wv = W[base:base + cols]
    s = np.float32(0.0)
    for c in range(cols):
        s += Wv[c] * a[c]
    return s


@njit(**JIT)
def sgd_rows(data, net, optim, consensus, hyper, seed, n_start, n_stride):
    """Train on ``data.order`` one sample at a time (H2O's online SGD).

    Per row: forward pass in training mode (input and hidden dropout), output error, then
    for each layer from the output down and each receiving unit: error propagated with the
    pre-update weights, weights updated (ADADELTA or manual rate with momentum/Nesterov),
    ``max_w2`` rescaling, bias update. ``fast_mode`` skips weights whose input is 0 and
    units whose error is 0. Dropped units receive no gradient (H2O still updates dropped
    Tanh/Maxout units; we treat that as a bug). Row weights multiply the gradient.
    With ``hyper.elastic = lam > 0`` and a :class:`Consensus` model every weight and bias
    gradient gets ``lam * (w - c)`` pulling it towards the consensus (H2O's elastic
    averaging); with ``Consensus(None, None)`` that term is compiled away.

    Sparse autoencoder (``hyper.sparsity_beta = beta > 0``): ``optim.mean_activation``
    (laid out like ``B``) holds each hidden unit's running mean activation,
    ``0.999 * mean + 0.001 * a`` after every training forward pass, and after each hidden
    bias update ``b -= rate * beta * (mean - hyper.average_activation)`` with the bias's own
    rate: H2O's penalty pulling the mean activation towards the target. (H2O also updates
    the running means while scoring; we do not: scoring has no side effects here.)

    Parameters
    ----------
    data : Rows
    net : Net
    optim : Optim
    consensus : Consensus
    hyper : Hyper
    seed : int
        Seed of this call's dropout RNG.
    n_start, n_stride : int
        Sample counter of the first row and how much it advances per row (the number of
        threads sharing the model): drives annealing and the momentum ramp.

    Returns
    -------
    int
        Rows trained on. Mutates ``net.W``, ``net.B`` and ``optim``'s arrays.
    """
    X, y, weight, offset, order = data
    W, B, units, channels, w_off, b_off, act, dropout = net
    w_state, b_state, mean_act = optim
    cons_W, cons_B = consensus
    n_layers = units.shape[0] - 1
    a_off = np.zeros(n_layers + 2, np.int64)
    for l in range(n_layers + 1):
        a_off[l + 1] = a_off[l] + units[l]
    a = np.zeros(a_off[-1], np.float32)      # activations of every layer
    g = np.zeros(a_off[-1], np.float32)      # errors dE/dz of every layer
    keep = np.ones(a_off[-1], np.uint8)      # dropout masks
    win = np.zeros(a_off[-1], np.int8)       # maxout winning channel
    state = np.empty(1, np.uint64)
    state[0] = np.uint64(seed)

    (adaptive, nesterov, fast, loss, dist, rho, eps, l1, l2, max_w2, check_w2, indrop,
     has_mom, lam, ae) = rule_scalars(hyper)
    drop_thr = drop_threshold(indrop)
    skip_zero = fast or ((not adaptive) and (not has_mom) and l1 == 0 and l2 == 0 and lam == 0)
    has_w = weight.shape[0] > 0
    has_off = offset.shape[0] > 0
    n_in = units[0]
    out_l = n_layers - 1
    n_out = units[n_layers]
    oa = a_off[n_layers]
    eg_w = w_state[0]
    edx_w = w_state[1]
    beta = np.float32(hyper.sparsity_beta)
    sparse = beta > 0 and mean_act.shape[0] == B.shape[0]
    target_act = np.float32(hyper.average_activation)
    keep_avg = np.float32(0.999)
    new_avg = np.float32(0.001)

    for it in range(order.shape[0]):
        row = order[it]
        n = n_start + it * n_stride
        # ---- input layer
        for c in range(n_in):
            a[c] = X[row, c]
        if indrop > 0:
            drop_inputs(a, n_in, drop_thr, state)
        # ---- forward
        for l in range(n_layers):
            cols = units[l]
            nr = units[l + 1]
            k = channels[l]
            code = act[l]
            ratio = dropout[l]
            ai = a_off[l]
            ao = a_off[l + 1]
            wo = w_off[l]
            bo = b_off[l]
            ain = a[ai:ai + cols]
            for r in range(nr):
                if ratio > 0.0:
                    if uniform(state) < ratio:
                        keep[ao + r] = 0
                        a[ao + r] = np.float32(0.0)
                        continue
                    keep[ao + r] = 1
                if k == 1:
                    z = B[bo + r] + _dot(W, wo + r * cols, ain, cols)
                    if code == SOFTMAX or code == LINEAR:
                        a[ao + r] = z
                    else:
                        a[ao + r] = activate(code, z)
                else:
                    z0 = B[bo + 2 * r] + _dot(W, wo + (2 * r) * cols, ain, cols)
                    z1 = B[bo + 2 * r + 1] + _dot(W, wo + (2 * r + 1) * cols, ain, cols)
                    if z1 > z0:
                        a[ao + r] = z1
                        win[ao + r] = 1
                    else:
                        a[ao + r] = z0
                        win[ao + r] = 0
            if sparse and l < n_layers - 1:
                for r in range(nr):
                    mean_act[bo + r] = keep_avg * mean_act[bo + r] + new_avg * a[ao + r]
        # ---- output error
        wr = weight[row] if has_w else np.float32(1.0)
        if act[out_l] == SOFTMAX:
            zmax = a[oa]
            for j in range(1, n_out):
                if a[oa + j] > zmax:
                    zmax = a[oa + j]
            s = 0.0
            for j in range(n_out):
                p = np.exp(np.float64(a[oa + j] - zmax))
                a[oa + j] = p
                s += p
            target = int(y[row])
            for j in range(n_out):
                a[oa + j] = a[oa + j] / s
            softmax_error(a[oa:oa + n_out], target, loss, wr, g[oa:oa + n_out])
        elif ae != AE_OFF:
            # reconstruction of the un-dropped input (denoising autoencoder)
            code = act[out_l]
            for j in range(n_out):
                gj = dist_gradient(dist, np.float64(a[oa + j]), np.float64(X[row, j]), hyper) * wr
                if ae == AE_EXACT:
                    gj *= derivative(code, a[oa + j])
                g[oa + j] = gj
        else:
            f = np.float64(a[oa])
            if has_off:
                f += offset[row]
                a[oa] = f
            g[oa] = dist_gradient(dist, f, np.float64(y[row]), hyper) * wr
        # ---- backward + update, output layer first
        for l in range(n_layers - 1, -1, -1):
            cols = units[l]
            nr = units[l + 1]
            k = channels[l]
            ai = a_off[l]
            ao = a_off[l + 1]
            wo = w_off[l]
            bo = b_off[l]
            ain = a[ai:ai + cols]
            e = g[ai:ai + cols]
            propagate = l > 0
            if propagate:
                e[:] = np.float32(0.0)
            r_l, m_l = layer_rate(adaptive, l, n, hyper)
            for r in range(nr):
                gr = g[ao + r]
                if skip_zero and gr == 0:
                    continue
                ch = np.int64(win[ao + r]) if k == 2 else 0
                j = r * k + ch
                base = wo + j * cols
                if propagate:
                    _propagate(W, base, cols, gr, e)
                if adaptive:
                    sumg2 = _update_row_adadelta(W, eg_w, edx_w, cons_W, base, cols, gr, ain, fast,
                                                 l1, l2, lam, rho, eps)
                else:
                    sumg2 = _update_row_manual(W, eg_w, cons_W, base, cols, gr, ain, fast, l1, l2,
                                               lam, r_l, m_l, has_mom, nesterov)
                if check_w2:
                    rescale_max_w2(W, wo + r * k * cols, k * cols, max_w2)
                rate_b = update_bias(B, b_state, cons_B, bo + j, gr, sumg2 / np.float32(cols),
                                     adaptive, rho, eps, r_l, m_l, has_mom, nesterov, l1, l2, lam)
                if sparse and l < n_layers - 1:
                    B[bo + j] -= rate_b * beta * (mean_act[bo + j] - target_act)
            if propagate:
                code = act[l - 1]
                dropped = dropout[l - 1] > 0.0
                for c in range(cols):
                    if dropped and keep[ai + c] == 0:
                        e[c] = np.float32(0.0)
                    else:
                        e[c] = e[c] * derivative(code, ain[c])
    return order.shape[0]
