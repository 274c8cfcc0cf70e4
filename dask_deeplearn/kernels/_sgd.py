"""Numba SGD kernels: per-sample (H2O semantics) and mini-batch (BLAS) training.

numpy + numba only. Every kernel is ``nogil`` so several Python threads can run it at once
on the same weight buffers (Hogwild: element-wise writes, no locks). The kernels mutate
``W``, ``B``, ``OW`` and ``OB`` in place and return the number of rows they trained on.

Array arguments (see :mod:`dask_deeplearn.network` for the layout):

``X`` (n, n_in) float32, ``y`` (n,) float32 (class index or training-space target; unused
and possibly empty for an autoencoder, whose target is the row of ``X`` before dropout),
``rw`` (n,) float32 row weights or an empty array, ``off`` (n,) float32 offsets (output space)
or an empty array, ``rows`` (m,) int64 rows to train on in order, ``W``/``B`` flat weights and
biases, ``OW``/``OB`` (2, ·) optimiser state, ``units``/``kk``/``w_off``/``b_off``/``act``
(int64) the network layout, ``drop`` (float64) dropout ratio of each receiving layer,
``fp``/``ip`` the hyper-parameters (indices below), ``seed`` the RNG seed of this call,
``n_start``/``n_stride``: the sample counter of this call's first row and how much it advances
per row (the number of threads sharing the model), for annealing and the momentum ramp.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir as _llvm_ir
from numba import njit, types
from numba.extending import intrinsic

# fastmath subset: lets LLVM vectorise float reductions, keeps NaN/inf semantics intact.
FASTMATH = {"reassoc", "contract", "arcp"}
# error_model="numpy": no per-division zero check (a branch that blocks vectorisation).
# Inner loops index slice views (never ``base + c`` into the whole buffer) so that LLVM
# sees non-negative indices and drops numba's wraparound branch.
_JIT = dict(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")

# ---- indices into the float parameter vector ``fp`` ----
FP_RHO = 0
FP_EPS = 1
FP_RATE = 2
FP_ANNEAL = 3
FP_DECAY = 4
FP_MSTART = 5
FP_MRAMP = 6
FP_MSTABLE = 7
FP_L1 = 8
FP_L2 = 9
FP_MAXW2 = 10
FP_INDROP = 11
FP_TWEEDIE = 12
FP_QALPHA = 13
FP_HUBER = 14
FP_ELASTIC = 15
FP_SPARSITY = 16  # sparse autoencoder: sparsity_beta (0: off)
FP_AVG_ACT = 17   # sparse autoencoder: average_activation target
N_FP = 18

# ---- indices into the int parameter vector ``ip`` ----
IP_ADAPTIVE = 0
IP_NESTEROV = 1
IP_FAST = 2
IP_LOSS = 3
IP_DIST = 4
IP_AE = 5  # 0: supervised; autoencoder: 1 with the output activation's derivative, 2 without
N_IP = 6

# autoencoder output-error modes (ip[IP_AE])
AE_OFF = 0
AE_EXACT = 1
AE_H2O = 2  # H2O: the output layer is updated as if it were linear (semantics §5.1 ⚠)

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

DIST_CODES = {
    "gaussian": DIST_GAUSSIAN,
    "laplace": DIST_LAPLACE,
    "quantile": DIST_QUANTILE,
    "huber": DIST_HUBER,
    "poisson": DIST_POISSON,
    "gamma": DIST_GAMMA,
    "tweedie": DIST_TWEEDIE,
    "bernoulli": DIST_SOFTMAX,
    "multinomial": DIST_SOFTMAX,
}

# activation codes (same values as dask_deeplearn.network)
_TANH = 0
_RECT = 1
_MAXOUT = 2
_LINEAR = 3
_SOFTMAX = 4

_MAX_EXP = 1e19


# --------------------------------------------------------------------------- approximate sqrt
@intrinsic
def _f32_bits(typingctx, x):
    """Reinterpret a float32 as its int32 bit pattern (Java's ``floatToRawIntBits``)."""
    if x != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], _llvm_ir.IntType(32))

    return types.int32(types.float32), codegen


@intrinsic
def _bits_f32(typingctx, x):
    """Reinterpret an int32 bit pattern as a float32 (Java's ``intBitsToFloat``)."""
    if x != types.int32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], _llvm_ir.FloatType())

    return types.float32(types.int32), codegen


@njit(inline="always")
def approx_sqrt(x):
    """H2O's ``MathUtils.approxSqrt(float)``: the exponent-halving bit trick.

    ``intBitsToFloat(532483686 + (floatToRawIntBits(x) >> 1))``: between 2.3 % below and
    4.5 % above ``sqrt(x)`` for positive normal ``x``. H2O takes the ADADELTA step sizes of
    weights and biases with it (semantics §6.1), so we do too; it is also a shift and an
    add where a vector square root costs ~10 cycles per 8 lanes. (H2O also rescales
    ``max_w2`` rows with it, which lets a row end up to 9 % above the bound; we keep the
    exact square root there, so the documented constraint holds.)
    """
    return _bits_f32(np.int32(np.int32(532483686) + (_f32_bits(np.float32(x)) >> np.int32(1))))


# --------------------------------------------------------------------------- RNG
@njit(inline="always")
def _next_u64(state):
    """splitmix64 step on a 1-element uint64 array."""
    state[0] += np.uint64(0x9E3779B97F4A7C15)
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(inline="always")
def _rand(state):
    """Uniform float in [0, 1) with 24 random bits."""
    return np.float32(_next_u64(state) >> np.uint64(40)) * np.float32(1.0 / 16777216.0)


@njit(inline="always")
def _drop_threshold(ratio):
    """Integer threshold ``t`` with ``(u64 >> 40) < t``  <=>  ``_rand(state) < ratio``."""
    return np.uint64(np.ceil(ratio * 16777216.0))


@njit(inline="always")
def _drop_inputs(v, n, thr, state):
    """Zero each of ``v[:n]`` with the draws ``_rand(state) < ratio`` would make.

    Same stream and same result as calling :func:`_rand` ``n`` times (splitmix64 is a
    counter: draw ``c`` mixes ``state + (c + 1) * gamma``), but with the state kept in a
    register and an integer compare against ``thr = _drop_threshold(ratio)``: no memory
    round trip per draw, so input dropout costs a few percent of a mini-batch instead of
    fifteen.
    """
    s0 = state[0]
    gamma = np.uint64(0x9E3779B97F4A7C15)
    for c in range(n):
        z = s0 + np.uint64(c + 1) * gamma
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
        if (z >> np.uint64(40)) < thr:
            v[c] = np.float32(0.0)
    state[0] = s0 + np.uint64(n) * gamma


# --------------------------------------------------------------------------- schedules
@njit(inline="always")
def momentum_at(n, mstart, mramp, mstable):
    """Momentum after ``n`` samples: the documented linear ramp (H2O's code never ramps)."""
    if mramp > 0.0 and n < mramp:
        return mstart + (mstable - mstart) * n / mramp
    return mstable


@njit(inline="always")
def manual_rate(layer, n, fp):
    """Effective manual step ``rate * decay**layer / (1 + annealing * n) * (1 - momentum)``."""
    r = fp[FP_RATE] * fp[FP_DECAY] ** layer / (1.0 + fp[FP_ANNEAL] * n)
    m = momentum_at(n, fp[FP_MSTART], fp[FP_MRAMP], fp[FP_MSTABLE])
    return r * (1.0 - m), m


# --------------------------------------------------------------------------- gradients
@njit(inline="always")
def dist_gradient(dist, f, y, fp):
    """dE/df of H2O's distributions (``-2 * negHalfGradient``), f = output in link space."""
    if dist == DIST_GAUSSIAN:
        return 2.0 * (f - y)
    if dist == DIST_LAPLACE:
        return 1.0 if f > y else -1.0
    if dist == DIST_QUANTILE:
        a = fp[FP_QALPHA]
        return -a if y > f else 1.0 - a
    if dist == DIST_HUBER:
        d = fp[FP_HUBER]
        if abs(y - f) <= d:
            return 2.0 * (f - y)
        return 2.0 * d if f >= y else -2.0 * d
    if dist == DIST_POISSON:
        return -2.0 * (y - min(np.exp(f), _MAX_EXP))
    if dist == DIST_GAMMA:
        return -2.0 * (y * np.exp(-f) - 1.0)
    if dist == DIST_TWEEDIE:
        p = fp[FP_TWEEDIE]
        return -2.0 * (y * np.exp(f * (1.0 - p)) - np.exp(f * (2.0 - p)))
    return 0.0


@njit(inline="always")
def _softmax_error(p, target, loss, scale, g):
    """dE/dz of a softmax output with probabilities ``p`` for class ``target``.

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


@njit(inline="always")
def _sign(w):
    if w > 0:
        return np.float32(1.0)
    if w < 0:
        return np.float32(-1.0)
    return np.float32(0.0)


@njit(inline="always")
def _activate(code, z):
    if code == _TANH:
        return np.float32(1.0) - np.float32(2.0) / (np.float32(1.0) + np.exp(np.float32(2.0) * z))
    if code == _RECT:
        return z if z > 0 else np.float32(0.0)
    return z


@njit(inline="always")
def _derivative(code, a):
    if code == _TANH:
        return np.float32(1.0) - a * a
    if code == _RECT:
        return np.float32(1.0) if a > 0 else np.float32(0.0)
    return np.float32(1.0)  # maxout: routed to the winning channel


# --------------------------------------------------------------------------- per-sample kernel
@njit(inline="always")
def _penalised(g, w, CW, k, l1, l2, lam):
    """Gradient ``g`` of weight ``k`` (value ``w``) plus H2O's L1/L2 terms and the pull.

    ``g + l1 * sign(w) + l2 * w``, plus ``lam * (w - CW[k])`` towards the consensus model of
    elastic averaging; the pull is pruned at compile time when ``CW`` is None.
    """
    zero = np.float32(0.0)
    grad = g + l1 * (np.float32(w > zero) - np.float32(w < zero)) + l2 * w
    if CW is not None:
        grad += lam * (w - CW[k])
    return grad


@njit(inline="always")
def _adadelta_step(eg0, edx0, grad, upd, rho, eps):
    """One weight's ADADELTA step: new ``(E[g²], E[dx²], dx)``; ``w -= dx``.

    A skipped weight (``upd`` false) gets decay 1, gain 0 and step 0, which leaves its
    values bit-for-bit unchanged while the caller still does plain stores: a
    ``x[c] = old if skip else new`` select is compiled into a masked store, which is
    microcoded and slow on AMD Zen.
    """
    one = np.float32(1.0)
    zero = np.float32(0.0)
    keep = rho if upd else one
    gain = (one - rho) if upd else zero
    eg = keep * eg0 + gain * grad * grad
    rate = approx_sqrt((edx0 + eps) / (eg + eps))
    d = rate * grad if upd else zero
    return eg, keep * edx0 + gain * d * d, d


@njit(inline="always")
def _momentum_step(v, grad, upd, r, m, nesterov):
    """One weight's manual-rate step with momentum: new ``(velocity, dw)``; ``w += dw``.

    Skipped weights get rate 0 and momentum 1: velocity and weight stay unchanged.
    """
    one = np.float32(1.0)
    zero = np.float32(0.0)
    m_c = m if upd else one
    r_c = r if upd else zero
    vn = m_c * v - r_c * grad
    if nesterov:
        step = ((one + m) * vn - m * v) if upd else zero
    else:
        step = vn if upd else zero
    return vn, step


@njit(**_JIT)
def _propagate(W, base, cols, gr, e):
    """``e += gr * W[base:base + cols]`` (error to the layer below, pre-update weights)."""
    Wv = W[base:base + cols]
    for c in range(cols):
        e[c] += gr * Wv[c]


@njit(**_JIT)
def _update_row_adadelta(W, EG, EDX, CW, base, cols, gr, ain, fast, l1, l2, lam, rho, eps):
    """ADADELTA update of one receiving unit's incoming weights (``grad = gr * ain``).

    Branch-free so LLVM vectorises it; weights skipped by ``fast_mode`` (input 0) keep
    their values without a masked store (see :func:`_adadelta_step`). Returns the sum of
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
        grad = _penalised(gr * ac, w, CW, base + c, l1, l2, lam)
        upd = not (fast and ac == zero)
        EGv[c], EDv[c], d = _adadelta_step(EGv[c], EDv[c], grad, upd, rho, eps)
        Wv[c] = w - d
        sumg2 += grad * grad if upd else zero
    return sumg2


@njit(**_JIT)
def _update_row_manual(W, V, CW, base, cols, gr, ain, fast, l1, l2, lam, r, m, has_mom, nesterov):
    """Manual-rate update (plain, momentum or Nesterov) of one unit's incoming weights.

    Skipped weights (``fast_mode``, input 0) stay unchanged without a masked store (see
    :func:`_adadelta_step`); one loop per rule, for the same reason.
    """
    zero = np.float32(0.0)
    Wv = W[base:base + cols]
    if has_mom:
        Vv = V[base:base + cols]
        for c in range(cols):
            w = Wv[c]
            ac = ain[c]
            grad = _penalised(gr * ac, w, CW, base + c, l1, l2, lam)
            Vv[c], step = _momentum_step(Vv[c], grad, not (fast and ac == zero), r, m, nesterov)
            Wv[c] = w + step
    else:
        for c in range(cols):
            w = Wv[c]
            ac = ain[c]
            grad = _penalised(gr * ac, w, CW, base + c, l1, l2, lam)
            upd = not (fast and ac == zero)
            Wv[c] = w - (r if upd else zero) * grad
    return zero


@njit(inline="always")
def _update_bias(B, OB, CB, j, gb, avg_g2, adaptive, rho, eps, r, m, has_mom, nesterov, l1, l2,
                 lam):
    b = B[j]
    gb = gb + l1 * _sign(b) + l2 * b
    if CB is not None:
        gb += lam * (b - CB[j])
    if adaptive:
        # H2O: the bias accumulators see the mean squared gradient of the unit's weights
        eg = rho * OB[0, j] + (np.float32(1.0) - rho) * avg_g2
        rate = approx_sqrt((OB[1, j] + eps) / (eg + eps))
        OB[1, j] = rho * OB[1, j] + (np.float32(1.0) - rho) * rate * rate * avg_g2
        OB[0, j] = eg
        B[j] = b - rate * gb
        return rate
    if has_mom:
        v = OB[0, j]
        vn = m * v - r * gb
        OB[0, j] = vn
        if nesterov:
            B[j] = b - m * v + (np.float32(1.0) + m) * vn
        else:
            B[j] = b + vn
    else:
        B[j] = b - r * gb
    return r


@njit(inline="always")
def _max_w2(W, base, length, max_w2):
    Wv = W[base:base + length]
    s = np.float32(0.0)
    for c in range(length):
        s += Wv[c] * Wv[c]
    if s > max_w2:
        scale = np.float32(np.sqrt(max_w2 / s))  # exact: the bound holds (H2O: approxSqrt)
        for c in range(length):
            Wv[c] *= scale


@njit(**_JIT)
def _dot(W, base, a, cols):
    Wv = W[base:base + cols]
    s = np.float32(0.0)
    for c in range(cols):
        s += Wv[c] * a[c]
    return s


@njit(inline="always")
def _hyper(fp, ip):
    """Unpack the parameter vectors shared by both kernels."""
    max_w2 = fp[FP_MAXW2]
    return (ip[IP_ADAPTIVE] != 0, ip[IP_NESTEROV] != 0, ip[IP_FAST] != 0, ip[IP_LOSS],
            ip[IP_DIST], np.float32(fp[FP_RHO]), np.float32(fp[FP_EPS]),
            np.float32(fp[FP_L1]), np.float32(fp[FP_L2]), max_w2, max_w2 < 3.4028234e38,
            np.float32(fp[FP_INDROP]), fp[FP_MSTART] != 0.0 or fp[FP_MSTABLE] != 0.0,
            np.float32(fp[FP_ELASTIC]), ip[IP_AE])


@njit(**_JIT)
def sgd_rows(X, y, rw, off, rows, W, B, OW, OB, CW, CB, AA, units, kk, w_off, b_off, act, drop,
             fp, ip, seed, n_start, n_stride):
    """Train on ``rows`` one sample at a time (H2O's online SGD, semantics §4-§6).

    Per row: forward pass in training mode (input and hidden dropout), output error, then
    for each layer from the output down and each receiving unit: error propagated with the
    pre-update weights, weights updated (ADADELTA or manual rate with momentum/Nesterov),
    ``max_w2`` rescaling, bias update. ``fast_mode`` skips weights whose input is 0 and
    units whose error is 0. Dropped units receive no gradient (H2O still updates dropped
    Tanh/Maxout units; we treat that as a bug). Row weights multiply the gradient.
    With ``fp[FP_ELASTIC] = lam > 0`` every weight and bias gradient gets
    ``lam * (w - c)`` pulling it towards the consensus model ``CW``/``CB`` (H2O's
    elastic averaging, semantics §7.7); pass ``None`` for both when it is off (the
    branch is then compiled away).

    Sparse autoencoder (``fp[FP_SPARSITY] = beta > 0``, semantics §12): ``AA`` (laid out
    like ``B``) holds each hidden unit's running mean activation, ``0.999 * AA + 0.001 * a``
    after every training forward pass, and after each hidden bias update
    ``b -= rate * beta * (AA - fp[FP_AVG_ACT])`` with the bias's own rate. (H2O also updates
    the running means while scoring; we do not: scoring has no side effects here.)

    Mutates ``W``, ``B``, ``OW``, ``OB`` (and ``AA``). Returns the number of rows trained on.
    """
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
     has_mom, lam, ae) = _hyper(fp, ip)
    drop_thr = _drop_threshold(indrop)
    skip_zero = fast or ((not adaptive) and (not has_mom) and l1 == 0 and l2 == 0 and lam == 0)
    has_w = rw.shape[0] > 0
    has_off = off.shape[0] > 0
    n_in = units[0]
    out_l = n_layers - 1
    n_out = units[n_layers]
    oa = a_off[n_layers]
    eg_w = OW[0]
    edx_w = OW[1]
    beta = np.float32(fp[FP_SPARSITY])
    sparse = beta > 0 and AA.shape[0] == B.shape[0]
    target_act = np.float32(fp[FP_AVG_ACT])
    keep_avg = np.float32(0.999)
    new_avg = np.float32(0.001)

    for it in range(rows.shape[0]):
        row = rows[it]
        n = n_start + it * n_stride
        # ---- input layer
        for c in range(n_in):
            a[c] = X[row, c]
        if indrop > 0:
            _drop_inputs(a, n_in, drop_thr, state)
        # ---- forward
        for l in range(n_layers):
            cols = units[l]
            nr = units[l + 1]
            k = kk[l]
            code = act[l]
            ratio = drop[l]
            ai = a_off[l]
            ao = a_off[l + 1]
            wo = w_off[l]
            bo = b_off[l]
            ain = a[ai:ai + cols]
            for r in range(nr):
                if ratio > 0.0:
                    if _rand(state) < ratio:
                        keep[ao + r] = 0
                        a[ao + r] = np.float32(0.0)
                        continue
                    keep[ao + r] = 1
                if k == 1:
                    z = B[bo + r] + _dot(W, wo + r * cols, ain, cols)
                    if code == _SOFTMAX or code == _LINEAR:
                        a[ao + r] = z
                    else:
                        a[ao + r] = _activate(code, z)
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
                    AA[bo + r] = keep_avg * AA[bo + r] + new_avg * a[ao + r]
        # ---- output error
        wr = rw[row] if has_w else np.float32(1.0)
        if act[out_l] == _SOFTMAX:
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
            _softmax_error(a[oa:oa + n_out], target, loss, wr, g[oa:oa + n_out])
        elif ae != AE_OFF:
            # reconstruction of the un-dropped input (denoising autoencoder)
            code = act[out_l]
            for j in range(n_out):
                gj = dist_gradient(dist, np.float64(a[oa + j]), np.float64(X[row, j]), fp) * wr
                if ae == AE_EXACT:
                    gj *= _derivative(code, a[oa + j])
                g[oa + j] = gj
        else:
            f = np.float64(a[oa])
            if has_off:
                f += off[row]
                a[oa] = f
            g[oa] = dist_gradient(dist, f, np.float64(y[row]), fp) * wr
        # ---- backward + update, output layer first
        for l in range(n_layers - 1, -1, -1):
            cols = units[l]
            nr = units[l + 1]
            k = kk[l]
            ai = a_off[l]
            ao = a_off[l + 1]
            wo = w_off[l]
            bo = b_off[l]
            ain = a[ai:ai + cols]
            e = g[ai:ai + cols]
            propagate = l > 0
            if propagate:
                e[:] = np.float32(0.0)
            if adaptive:
                r_l = np.float32(0.0)
                m_l = np.float32(0.0)
            else:
                rr, mm = manual_rate(l, n, fp)
                r_l = np.float32(rr)
                m_l = np.float32(mm)
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
                    sumg2 = _update_row_adadelta(W, eg_w, edx_w, CW, base, cols, gr, ain, fast,
                                                 l1, l2, lam, rho, eps)
                else:
                    sumg2 = _update_row_manual(W, eg_w, CW, base, cols, gr, ain, fast, l1, l2,
                                               lam, r_l, m_l, has_mom, nesterov)
                if check_w2:
                    _max_w2(W, wo + r * k * cols, k * cols, max_w2)
                rate_b = _update_bias(B, OB, CB, bo + j, gr, sumg2 / np.float32(cols), adaptive,
                                      rho, eps, r_l, m_l, has_mom, nesterov, l1, l2, lam)
                if sparse and l < n_layers - 1:
                    B[bo + j] -= rate_b * beta * (AA[bo + j] - target_act)
            if propagate:
                code = act[l - 1]
                dropped = drop[l - 1] > 0.0
                for c in range(cols):
                    if dropped and keep[ai + c] == 0:
                        e[c] = np.float32(0.0)
                    else:
                        e[c] = e[c] * _derivative(code, ain[c])
    return rows.shape[0]


# --------------------------------------------------------------------------- mini-batch kernel
# One loop per update rule. With the rule chosen inside the loop LLVM if-converts the
# branches into masked loads and stores of the optimiser state (microcoded, slow on Zen);
# skipped weights (fast_mode, batch gradient 0) keep their values through decay 1, gain 0
# and step 0, so every lane does a plain store (see _adadelta_step).
@njit(**_JIT)
def _matrix_row_adadelta(Wv, Ev, Dv, gv, CW, lo, cols, fast, l1, l2, lam, rho, eps):
    zero = np.float32(0.0)
    acc = zero
    acc_w = zero
    for c in range(cols):
        w = Wv[c]
        gd = gv[c]
        grad = _penalised(gd, w, CW, lo + c, l1, l2, lam)
        upd = not (fast and gd == zero)
        Ev[c], Dv[c], d = _adadelta_step(Ev[c], Dv[c], grad, upd, rho, eps)
        wn = w - d
        Wv[c] = wn
        acc += grad * grad if upd else zero
        acc_w += wn * wn
    return acc, acc_w


@njit(**_JIT)
def _matrix_row_momentum(Wv, Vv, gv, CW, lo, cols, fast, l1, l2, lam, r, m, nesterov):
    zero = np.float32(0.0)
    acc_w = zero
    for c in range(cols):
        w = Wv[c]
        gd = gv[c]
        grad = _penalised(gd, w, CW, lo + c, l1, l2, lam)
        Vv[c], step = _momentum_step(Vv[c], grad, not (fast and gd == zero), r, m, nesterov)
        wn = w + step
        Wv[c] = wn
        acc_w += wn * wn
    return acc_w


@njit(**_JIT)
def _matrix_row_plain(Wv, gv, CW, lo, cols, fast, l1, l2, lam, r):
    zero = np.float32(0.0)
    acc_w = zero
    for c in range(cols):
        w = Wv[c]
        gd = gv[c]
        grad = _penalised(gd, w, CW, lo + c, l1, l2, lam)
        upd = not (fast and gd == zero)
        wn = w - (r if upd else zero) * grad
        Wv[c] = wn
        acc_w += wn * wn
    return acc_w


@njit(**_JIT)
def _update_matrix(W, EG, EDX, CW, GW, base, nrows, cols, adaptive, fast, l1, l2, lam, rho,
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
            acc, acc_w = _matrix_row_adadelta(Wv, EG[lo:lo + cols], EDX[lo:lo + cols], gv, CW,
                                              lo, cols, fast, l1, l2, lam, rho, eps)
        elif has_mom:
            acc = np.float32(0.0)
            acc_w = _matrix_row_momentum(Wv, EG[lo:lo + cols], gv, CW, lo, cols, fast, l1, l2,
                                         lam, r, m, nesterov)
        else:
            acc = np.float32(0.0)
            acc_w = _matrix_row_plain(Wv, gv, CW, lo, cols, fast, l1, l2, lam, r)
        sumg2[j] = acc
        sumw2[j] = acc_w


@njit(**_JIT)
def sgd_batches(X, y, rw, off, rows, batch, W, B, OW, OB, CW, CB, units, kk, w_off, b_off, act, drop,
                fp, ip, seed, n_start, n_stride):
    """Train on ``rows`` in mini-batches of ``batch`` rows with one update per batch.

    Forward and backward passes are float32 matrix products (BLAS). The gradient is the
    (row-weighted) mean over the batch; ``fast_mode`` skips weights whose batch gradient
    is exactly 0 (at batch size 1 this is H2O's rule). Dropout masks are drawn per row.
    ``CW``/``CB`` and ``fp[FP_ELASTIC]``: the elastic-averaging pull, as in :func:`sgd_rows`.

    Mutates ``W``, ``B``, ``OW``, ``OB``. Returns the number of rows trained on.
    """
    n_layers = units.shape[0] - 1
    state = np.empty(1, np.uint64)
    state[0] = np.uint64(seed)
    (adaptive, nesterov, fast, loss, dist, rho, eps, l1, l2, max_w2, check_w2, indrop,
     has_mom, lam, ae) = _hyper(fp, ip)
    drop_thr = _drop_threshold(indrop)
    has_w = rw.shape[0] > 0
    has_off = off.shape[0] > 0
    n_in = units[0]
    n_out = units[n_layers]
    m_rows = rows.shape[0]
    eg_w = OW[0]
    edx_w = OW[1]
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
        nrk = units[l + 1] * kk[l]
        Zbuf.append(np.empty((batch, nrk), np.float32))
        Abuf.append(np.empty((batch, units[l + 1]) if kk[l] == 2 else (1, 1), np.float32))
        Mbuf.append(np.empty((batch, units[l + 1]) if drop[l] > 0.0 else (1, 1), np.uint8))
        Xbuf.append(np.empty((batch, units[l + 1]) if kk[l] == 2 else (1, 1), np.int8))
        GWbuf.append(np.empty((nrk, units[l]), np.float32))
        Ebuf.append(np.empty((batch, units[l]) if l > 0 else (1, 1), np.float32))
        Gbuf.append(np.empty((batch, units[l]) if l > 0 else (1, 1), np.float32))
        Gxbuf.append(np.empty((batch, nrk) if kk[l] == 2 else (1, 1), np.float32))
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
            row = rows[start + i]
            for c in range(n_in):
                A0[i, c] = X[row, c]
            if indrop > 0:
                _drop_inputs(A0[i], n_in, drop_thr, state)
        acts = [A0]
        masks = [np.ones((1, 1), np.uint8)]
        wins = [np.zeros((1, 1), np.int8)]
        A = A0
        for l in range(n_layers):
            cols = units[l]
            nr = units[l + 1]
            k = kk[l]
            code = act[l]
            Wl = W[w_off[l]:w_off[l + 1]].reshape((nr * k, cols))
            Z = Zbuf[l][:nb]
            np.dot(A, Wl.T, Z)
            bo = b_off[l]
            for i in range(nb):
                for j in range(nr * k):
                    Z[i, j] += B[bo + j]
            ratio = drop[l]
            mask = Mbuf[l]
            if ratio > 0.0:
                mask = Mbuf[l][:nb]
                for i in range(nb):
                    for j in range(nr):
                        mask[i, j] = 0 if _rand(state) < ratio else 1
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
            elif code == _TANH or code == _RECT:
                for i in range(nb):
                    for j in range(nr):
                        Z[i, j] = _activate(code, Z[i, j])
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
            row = rows[start + i]
            wr = rw[row] if has_w else np.float32(1.0)
            if act[n_layers - 1] == _SOFTMAX:
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
                _softmax_error(out[i], target, loss, wr * inv_nb, G[i])
            elif ae != AE_OFF:
                code = act[n_layers - 1]
                for j in range(n_out):
                    gj = dist_gradient(dist, np.float64(out[i, j]), np.float64(X[row, j]),
                                       fp) * wr * inv_nb
                    if ae == AE_EXACT:
                        gj *= _derivative(code, out[i, j])
                    G[i, j] = gj
            else:
                f = np.float64(out[i, 0])
                if has_off:
                    f += off[row]
                G[i, 0] = dist_gradient(dist, f, np.float64(y[row]), fp) * wr * inv_nb
        # ---- backward + update
        for l in range(n_layers - 1, -1, -1):
            cols = units[l]
            nr = units[l + 1]
            k = kk[l]
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
            if adaptive:
                r_l = np.float32(0.0)
                m_l = np.float32(0.0)
            else:
                rr, mm = manual_rate(l, n, fp)
                r_l = np.float32(rr)
                m_l = np.float32(mm)
            sumg2 = SGbuf[l]
            sumw2 = SWbuf[l]
            _update_matrix(W, eg_w, edx_w, CW, GW, wo, nr * k, cols, adaptive, fast, l1, l2,
                           lam, rho, eps, r_l, m_l, has_mom, nesterov, sumg2, sumw2)
            for j in range(nr * k):
                gb = np.float32(0.0)
                for i in range(nb):
                    gb += Gx[i, j]
                if fast and gb == 0:
                    continue
                _update_bias(B, OB, CB, bo + j, gb, sumg2[j] / np.float32(cols), adaptive, rho,
                             eps, r_l, m_l, has_mom, nesterov, l1, l2, lam)
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
                dropped = drop[l - 1] > 0.0
                G = Gbuf[l][:nb]
                for i in range(nb):
                    for c in range(cols):
                        if dropped and mask[i, c] == 0:
                            G[i, c] = np.float32(0.0)
                        else:
                            G[i, c] = E[i, c] * _derivative(code, Aprev[i, c])
    return m_rows
