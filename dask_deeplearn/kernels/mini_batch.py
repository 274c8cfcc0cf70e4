"""The mini-batch kernel: one update per batch of rows, forward and backward as matrix products.

numpy + numba only. :func:`sgd_batches` is ``nogil``, so several Python threads can run it
at once on the same weight buffers (Hogwild).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._jit import JIT
from ._rng import drop_inputs, drop_threshold, uniform
from .activations import RECTIFIER, SOFTMAX, TANH, activate, derivative
from .arguments import AE_EXACT, AE_OFF
from .losses import dist_gradient, softmax_error
from .update import adadelta_step, layer_rate, momentum_step, penalised, rule_scalars, update_bias

__all__ = ["sgd_batches"]


# One loop per update rule. With the rule chosen inside the loop LLVM if-converts the
# branches into masked loads and stores of the optimiser state (microcoded, slow on Zen);
# skipped weights (fast_mode, batch gradient 0) keep their values through decay 1, gain 0
# and step 0, so every lane does a plain store (see adadelta_step).
@njit(**JIT)
def _matrix_row_adadelta(Wv, Ev, Dv, gv, cons_W, lo, cols, fast, l1, l2, lam, rho, eps):
    zero = np.float32(0.0)
    acc = zero
    acc_w = zero
    for c in range(cols):
        w = Wv[c]
        gd = gv[c]
        grad = penalised(gd, w, cons_W, lo + c, l1, l2, lam)
        upd = not (fast and gd == zero)
        Ev[c], Dv[c], d = adadelta_step(Ev[c], Dv[c], grad, upd, rho, eps)
        wn = w - d
        Wv[c] = wn
        acc += grad * grad if upd else zero
        acc_w += wn * wn
    return acc, acc_w


@njit(**JIT)
def _matrix_row_momentum(Wv, Vv, gv, cons_W, lo, cols, fast, l1, l2, lam, r, m, nesterov):
    zero = np.float32(0.0)
    acc_w = zero
    for c in range(cols):
        w = Wv[c]
        gd = gv[c]
        grad = penalised(gd, w, cons_W, lo + c, l1, l2, lam)
        Vv[c], step = momentum_step(Vv[c], grad, not (fast and gd == zero), r, m, nesterov)
        wn = w + step
        Wv[c] = wn
        acc_w += wn * wn
    return acc_w


@njit(**JIT)
def _matrix_row_plain(Wv, gv, cons_W, lo, cols, fast, l1, l2, lam, r):
    zero = np.float32(0.0)
    acc_w = zero
    for c in range(cols):
        w = Wv[c]
        gd = gv[c]
        grad = penalised(gd, w, cons_W, lo + c, l1, l2, lam)
        upd = not (fast and gd == zero)
        wn = w - (r if upd else zero) * grad
        Wv[c] = wn
        acc_w += wn * wn
    return acc_w


@njit(**JIT)
def _update_matrix(W, EG, EDX, cons_W, GW, base, nrows, cols, adaptive, fast, l1, l2, lam, rho,
                   eps, r, m, has_mom, nesterov, sumg2, sumw2):
    """Apply one update to a (nrows, cols) weight block from its gradient ``GW``.

    Writes each row's sum of squared gradients into ``sumg2`` (bias ADADELTA rule) and
    the sum of squares of its updated weights into ``sumw2`` (``max_w2``, without a
    second pass over the weights).
    """
    for j in range(nrows):
        lo = base + j * cols
        Wv = W[lo:lo + cols]
        gv = GW[j]
        if adaptive:
            acc, acc_w = _matrix_row_adadelta(Wv, EG[lo:lo + cols], EDX[lo:lo + cols], gv, cons_W,
                                              lo, cols, fast, l1, l2, lam, rho, eps)
        elif has_mom:
            acc = np.float32(0.0)
            acc_w = _matrix_row_momentum(Wv, EG[lo:lo + cols], gv, cons_W, lo, cols, fast, l1, l2,
                                         lam, r, m, nesterov)
        else:
            acc = np.float32(0.0)
            acc_w = _matrix_row_plain(Wv, gv, cons_W, lo, cols, fast, l1, l2, lam, r)
        sumg2[j] = acc
        sumw2[j] = acc_w


@njit(**JIT)
def sgd_batches(data, batch, net, optim, consensus, hyper, seed, n_start, n_stride):
    """Train on ``data.order`` in mini-batches of ``batch`` rows with one update per batch.

    Forward and backward passes are float32 matrix products (BLAS). The gradient is the
    (row-weighted) mean over the batch; ``fast_mode`` skips weights whose batch gradient
    is exactly 0 (at batch size 1 this is H2O's rule). Dropout masks are drawn per row.
    ``consensus`` and ``hyper.elastic``: the elastic-averaging pull, as in
    :func:`~dask_deeplearn.kernels.per_sample.sgd_rows` (the sparse-autoencoder penalty
    is not applied here).

    Parameters
    ----------
    data : Rows
    batch : int
        Rows per update.
    net : Net
    optim : Optim
    consensus : Consensus
    hyper : Hyper
    seed, n_start, n_stride : int
        As in :func:`~dask_deeplearn.kernels.per_sample.sgd_rows`.

    Returns
    -------
    int
        Rows trained on. Mutates ``net.W``, ``net.B``, ``optim.weights`` and ``optim.biases``.
    """
    X, y, weight, offset, order = data
    W, B, units, channels, w_off, b_off, act, dropout = net
    w_state, b_state, _ = optim
    cons_W, cons_B = consensus
    n_layers = units.shape[0] - 1
    state = np.empty(1, np.uint64)
    state[0] = np.uint64(seed)
    (adaptive, nesterov, fast, loss, dist, rho, eps, l1, l2, max_w2, check_w2, indrop,
     has_mom, lam, ae) = rule_scalars(hyper)
    drop_thr = drop_threshold(indrop)
    has_w = weight.shape[0] > 0
    has_off = offset.shape[0] > 0
    n_in = units[0]
    n_out = units[n_layers]
    m_rows = order.shape[0]
    eg_w = w_state[0]
    edx_w = w_state[1]
    # Work buffers, allocated once per call and viewed as [:nb] per batch. Fresh ~1 MB
    # arrays per batch are mmap'd and unmapped every time when MALLOC_TRIM_THRESHOLD_ is
    # set (Dask's Nanny sets it): measured 25 % slower training in a worker.
    A0buf = np.empty((batch, n_in), np.float32)
    Zbuf = []
    Abuf = []
    Mbuf = []
    Xbuf = []
    GWbuf = []
    Ebuf = []
    Gbuf = []
    Gxbuf = []
    SGbuf = []
    SWbuf = []
    for l in range(n_layers):
        nrk = units[l + 1] * channels[l]
        Zbuf.append(np.empty((batch, nrk), np.float32))
        Abuf.append(np.empty((batch, units[l + 1]) if channels[l] == 2 else (1, 1), np.float32))
        Mbuf.append(np.empty((batch, units[l + 1]) if dropout[l] > 0.0 else (1, 1), np.uint8))
        Xbuf.append(np.empty((batch, units[l + 1]) if channels[l] == 2 else (1, 1), np.int8))
        GWbuf.append(np.empty((nrk, units[l]), np.float32))
        Ebuf.append(np.empty((batch, units[l]) if l > 0 else (1, 1), np.float32))
        Gbuf.append(np.empty((batch, units[l]) if l > 0 else (1, 1), np.float32))
        Gxbuf.append(np.empty((batch, nrk) if channels[l] == 2 else (1, 1), np.float32))
        SGbuf.append(np.empty(nrk, np.float32))
        SWbuf.append(np.empty(nrk, np.float32))
    Gout = np.empty((batch, n_out), np.float32)

    for start in range(0, m_rows, batch):
        nb = min(batch, m_rows - start)
        n = n_start + start * n_stride
        inv_nb = np.float32(1.0 / nb)
        # ---- forward
        A0 = A0buf[:nb]
        for i in range(nb):
            row = order[start + i]
            for c in range(n_in):
                A0[i, c] = X[row, c]
            if indrop > 0:
                drop_inputs(A0[i], n_in, drop_thr, state)
        acts = [A0]
        masks = [np.ones((1, 1), np.uint8)]
        wins = [np.zeros((1, 1), np.int8)]
        A = A0
        for l in range(n_layers):
            cols = units[l]
            nr = units[l + 1]
            k = channels[l]
            code = act[l]
            Wl = W[w_off[l]:w_off[l + 1]].reshape((nr * k, cols))
            Z = Zbuf[l][:nb]
            np.dot(A, Wl.T, Z)
            bo = b_off[l]
            for i in range(nb):
                for j in range(nr * k):
                    Z[i, j] += B[bo + j]
            ratio = dropout[l]
            mask = Mbuf[l]
            if ratio > 0.0:
                mask = Mbuf[l][:nb]
                for i in range(nb):
                    for j in range(nr):
                        mask[i, j] = 0 if uniform(state) < ratio else 1
            win = Xbuf[l]
            if k == 2:
                Anew = Abuf[l][:nb]
                win = Xbuf[l][:nb]
                win[:] = 0
                for i in range(nb):
                    for j in range(nr):
                        z0 = Z[i, 2 * j]
                        z1 = Z[i, 2 * j + 1]
                        if z1 > z0:
                            Anew[i, j] = z1
                            win[i, j] = 1
                        else:
                            Anew[i, j] = z0
                A = Anew
            elif code == TANH or code == RECTIFIER:
                for i in range(nb):
                    for j in range(nr):
                        Z[i, j] = activate(code, Z[i, j])
                A = Z
            else:
                A = Z
            if ratio > 0.0:
                for i in range(nb):
                    for j in range(nr):
                        if mask[i, j] == 0:
                            A[i, j] = np.float32(0.0)
            acts.append(A)
            masks.append(mask)
            wins.append(win)
        # ---- output error (mean over the batch)
        out = acts[n_layers]
        G = Gout[:nb]
        for i in range(nb):
            row = order[start + i]
            wr = weight[row] if has_w else np.float32(1.0)
            if act[n_layers - 1] == SOFTMAX:
                zmax = out[i, 0]
                for j in range(1, n_out):
                    if out[i, j] > zmax:
                        zmax = out[i, j]
                s = 0.0
                for j in range(n_out):
                    s += np.exp(np.float64(out[i, j] - zmax))
                target = int(y[row])
                for j in range(n_out):
                    out[i, j] = np.exp(np.float64(out[i, j] - zmax)) / s
                softmax_error(out[i], target, loss, wr * inv_nb, G[i])
            elif ae != AE_OFF:
                code = act[n_layers - 1]
                for j in range(n_out):
                    gj = dist_gradient(dist, np.float64(out[i, j]), np.float64(X[row, j]),
                                       hyper) * wr * inv_nb
                    if ae == AE_EXACT:
                        gj *= derivative(code, out[i, j])
                    G[i, j] = gj
            else:
                f = np.float64(out[i, 0])
                if has_off:
                    f += offset[row]
                G[i, 0] = dist_gradient(dist, f, np.float64(y[row]), hyper) * wr * inv_nb
        # ---- backward + update
        for l in range(n_layers - 1, -1, -1):
            cols = units[l]
            nr = units[l + 1]
            k = channels[l]
            wo = w_off[l]
            bo = b_off[l]
            Wl = W[wo:w_off[l + 1]].reshape((nr * k, cols))
            if k == 2:
                Gx = Gxbuf[l][:nb]
                Gx[:] = np.float32(0.0)
                win = wins[l + 1]
                for i in range(nb):
                    for j in range(nr):
                        Gx[i, 2 * j + win[i, j]] = G[i, j]
            else:
                Gx = G
            Aprev = acts[l]
            GW = GWbuf[l]
            np.dot(Gx.T, Aprev, GW)
            E = Ebuf[l]
            if l > 0:
                E = Ebuf[l][:nb]
                np.dot(Gx, Wl, E)  # pre-update weights
            r_l, m_l = layer_rate(adaptive, l, n, hyper)
            sumg2 = SGbuf[l]
            sumw2 = SWbuf[l]
            _update_matrix(W, eg_w, edx_w, cons_W, GW, wo, nr * k, cols, adaptive, fast, l1, l2,
                           lam, rho, eps, r_l, m_l, has_mom, nesterov, sumg2, sumw2)
            for j in range(nr * k):
                gb = np.float32(0.0)
                for i in range(nb):
                    gb += Gx[i, j]
                if fast and gb == 0:
                    continue
                update_bias(B, b_state, cons_B, bo + j, gb, sumg2[j] / np.float32(cols),
                            adaptive, rho, eps, r_l, m_l, has_mom, nesterov, l1, l2, lam)
            if check_w2:
                for r in range(nr):
                    s2 = np.float32(0.0)
                    for t in range(k):
                        s2 += sumw2[r * k + t]
                    if s2 > max_w2:
                        Wr = W[wo + r * k * cols:wo + (r + 1) * k * cols]
                        scale = np.float32(np.sqrt(max_w2 / s2))
                        for c in range(k * cols):
                            Wr[c] *= scale
            if l > 0:
                code = act[l - 1]
                mask = masks[l]
                dropped = dropout[l - 1] > 0.0
                G = Gbuf[l][:nb]
                for i in range(nb):
                    for c in range(cols):
                        if dropped and mask[i, c] == 0:
                            G[i, c] = np.float32(0.0)
                        else:
                            G[i, c] = E[i, c] * derivative(code, Aprev[i, c])
    return m_rows
