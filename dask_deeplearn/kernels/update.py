"""Update rules of the kernels: step sizes, penalties, ADADELTA, momentum, bias, max_w2.

numpy + numba only. Every function here updates one weight, one bias or one unit's
incoming weights; the kernels in :mod:`.per_sample` and :mod:`.mini_batch` call them.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir as _llvm_ir
from numba import njit, types
from numba.extending import intrinsic, overload

__all__ = ["approx_sqrt", "manual_rate", "momentum_at"]

#: ``max_w2`` at or above this (float32 max) means no bound
NO_MAX_W2 = 3.4028234e38


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
    weights and biases with it, so we do too (the trained weights then follow H2O's); it
    is also a shift and an add where a vector square root costs ~10 cycles per 8 lanes.
    (H2O also rescales ``max_w2`` rows with it, which lets a row end up to 9 % above the
    bound; we keep the exact square root there, so the documented constraint holds.)
    """
    return _bits_f32(np.int32(np.int32(532483686) + (_f32_bits(np.float32(x)) >> np.int32(1))))


# --------------------------------------------------------------------------- schedules
@njit(inline="always")
def momentum_at(n, mstart, mramp, mstable):
    """Momentum after ``n`` samples: the documented linear ramp (H2O's code never ramps)."""
    if mramp > 0.0 and n < mramp:
        return mstart + (mstable - mstart) * n / mramp
    return mstable


@njit(inline="always")
def manual_rate(layer, n, hyper):
    """Effective manual step ``rate * decay**layer / (1 + annealing * n) * (1 - momentum)``.

    Returns the step and the momentum after ``n`` samples (``hyper`` a :class:`Hyper`).
    """
    r = hyper.rate * hyper.rate_decay ** layer / (1.0 + hyper.rate_annealing * n)
    m = momentum_at(n, hyper.momentum_start, hyper.momentum_ramp, hyper.momentum_stable)
    return r * (1.0 - m), m


@njit(inline="always")
def layer_rate(adaptive, layer, n, hyper):
    """Float32 manual step and momentum of ``layer`` after ``n`` samples (0, 0 for ADADELTA)."""
    if adaptive:
        return np.float32(0.0), np.float32(0.0)
    rr, mm = manual_rate(layer, n, hyper)
    return np.float32(rr), np.float32(mm)


@njit(inline="always")
def rule_scalars(hyper):
    """The update-rule scalars both kernels read, with the float32 ones narrowed once.

    Returns ``(adaptive, nesterov, fast, loss, dist, rho, eps, l1, l2, max_w2, check_w2,
    input_dropout, has_momentum, elastic, autoencoder)``.
    """
    max_w2 = hyper.max_w2
    return (hyper.adaptive, hyper.nesterov, hyper.fast_mode, hyper.loss, hyper.distribution,
            np.float32(hyper.rho), np.float32(hyper.epsilon), np.float32(hyper.l1),
            np.float32(hyper.l2), max_w2, max_w2 < NO_MAX_W2, np.float32(hyper.input_dropout),
            hyper.momentum_start != 0.0 or hyper.momentum_stable != 0.0,
            np.float32(hyper.elastic), hyper.autoencoder)


# --------------------------------------------------------------------------- one weight
def add_pull(grad, consensus, k, w, lam):
    """``grad + lam * (w - consensus[k])``; just ``grad`` when ``consensus`` is None.

    Chosen by type at compile time, so a kernel compiled without a consensus model has
    no elastic-averaging term at all.
    """
    raise NotImplementedError("only callable from jitted code")


@overload(add_pull, inline="always")
def _add_pull(grad, consensus, k, w, lam):
    if isinstance(consensus, types.NoneType):
        return lambda grad, consensus, k, w, lam: grad
    return lambda grad, consensus, k, w, lam: grad + lam * (w - consensus[k])


@njit(inline="always")
def sign(w):
    """Sign of ``w`` as float32 (0 at 0)."""
    if w > 0:
        return np.float32(1.0)
    if w < 0:
        return np.float32(-1.0)
    return np.float32(0.0)


@njit(inline="always")
def penalised(g, w, cons_W, k, l1, l2, lam):
    """Gradient ``g`` of weight ``k`` (value ``w``) plus H2O's L1/L2 terms and the pull.

    ``g + l1 * sign(w) + l2 * w``, plus ``lam * (w - cons_W[k])`` towards the consensus
    model of elastic averaging (pruned at compile time when ``cons_W`` is None).
    """
    zero = np.float32(0.0)
    grad = g + l1 * (np.float32(w > zero) - np.float32(w < zero)) + l2 * w
    return add_pull(grad, cons_W, k, w, lam)


@njit(inline="always")
def adadelta_step(eg0, edx0, grad, upd, rho, eps):
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
def momentum_step(v, grad, upd, r, m, nesterov):
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


# --------------------------------------------------------------------------- one unit
@njit(inline="always")
def update_bias(B, OB, cons_B, j, gb, avg_g2, adaptive, rho, eps, r, m, has_mom, nesterov, l1,
                l2, lam):
    """Update bias ``j`` from its gradient ``gb``; returns the step size it used.

    ``avg_g2``: the mean squared gradient of the unit's incoming weights, which H2O's
    ADADELTA feeds to the bias accumulators (instead of the bias's own squared gradient).
    """
    b = B[j]
    gb = gb + l1 * sign(b) + l2 * b
    gb = add_pull(gb, cons_B, j, b, lam)
    if adaptive:
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
def rescale_max_w2(W, base, length, max_w2):
    """Scale ``W[base:base + length]`` (one unit's incoming weights) to squared norm ``max_w2``
    when it is above."""
    Wv = W[base:base + length]
    s = np.float32(0.0)
    for c in range(length):
        s += Wv[c] * Wv[c]
    if s > max_w2:
        scale = np.float32(np.sqrt(max_w2 / s))  # exact: the bound holds (H2O: approxSqrt)
        for c in range(length):
            Wv[c] *= scale
