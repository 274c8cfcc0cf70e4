"""Numba kernels against float64 numpy references, finite differences and hand-worked steps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dask_deeplearn.kernels import KernelParams, select_rows, train_partition
from dask_deeplearn.kernels import _rng, update
from dask_deeplearn.network import NetworkSpec, forward, init_state

ACTIVATIONS = ["Tanh", "Rectifier", "Maxout"]
DISTRIBUTIONS = ["gaussian", "laplace", "quantile", "huber", "poisson", "gamma", "tweedie"]


def base_params(**kw):
    p = dict(rho=0.99, epsilon=1e-8, rate=1.0, rate_annealing=0.0, rate_decay=1.0,
             momentum_start=0.0, momentum_ramp=1e6, momentum_stable=0.0, l1=0.0, l2=0.0,
             max_w2=3.4028235e38, input_dropout_ratio=0.0, tweedie_power=1.5,
             quantile_alpha=0.3, adaptive_rate=False, nesterov_accelerated_gradient=True,
             fast_mode=False, loss="CrossEntropy", mini_batch_size=1)
    p.update(kw)
    return p


# ----------------------------------------------------------------------------- references
def ref_forward64(spec, W, B, x):
    """float64 forward pass of one row (training mode without dropout), returns output z."""
    a = x.astype(np.float64)
    for l in range(spec.n_layers):
        rows, k, cols = spec.units[l + 1], int(spec.k[l]), spec.units[l]
        Wl = W[spec.w_off[l]:spec.w_off[l + 1]].astype(np.float64).reshape(rows * k, cols)
        z = Wl @ a + B[spec.b_off[l]:spec.b_off[l + 1]].astype(np.float64)
        if l == spec.n_layers - 1:
            return z
        if spec.activation.startswith("Maxout"):
            a = z.reshape(rows, 2).max(axis=1)
        elif spec.activation.startswith("Tanh"):
            a = np.tanh(z)
        else:
            a = np.maximum(z, 0)
    return a


def ref_loss(z, y, dist, loss, off=0.0, alpha=0.3, p=1.5, delta=1.0):
    """The loss whose gradient each kernel implements (H2O's ``-2 negHalfGradient``)."""
    if dist == "softmax":
        e = np.exp(z - z.max())
        pr = e / e.sum()
        t = np.zeros_like(pr)
        t[int(y)] = 1
        if loss == "CrossEntropy":
            return -np.log(pr[int(y)])
        return 0.5 * np.sum((pr - t) ** 2)
    f = z[0] + off
    r = y - f
    if dist == "gaussian":
        return r * r
    if dist == "laplace":
        return abs(r)
    if dist == "quantile":
        return alpha * r if r > 0 else (alpha - 1) * r
    if dist == "huber":
        return r * r if abs(r) <= delta else 2 * delta * abs(r) - delta * delta
    if dist == "poisson":
        return 2 * (np.exp(f) - y * f)
    if dist == "gamma":
        return 2 * (y * np.exp(-f) + f)
    if dist == "tweedie":
        return 2 * (-y * np.exp(f * (1 - p)) / (1 - p) + np.exp(f * (2 - p)) / (2 - p))
    raise AssertionError(dist)


def fd_gradient(spec, W, B, X, Y, dist, loss, offs, h=1e-6):
    """Central finite differences of the mean loss over the rows of X."""
    W64 = W.astype(np.float64)
    B64 = B.astype(np.float64)

    def total(Wv, Bv):
        return np.mean([ref_loss(ref_forward64(spec, Wv, Bv, X[i]), Y[i], dist, loss, offs[i])
                        for i in range(X.shape[0])])

    gW = np.empty_like(W64)
    for i in range(W64.size):
        Wp, Wm = W64.copy(), W64.copy()
        Wp[i] += h
        Wm[i] -= h
        gW[i] = (total(Wp, B64) - total(Wm, B64)) / (2 * h)
    gB = np.empty_like(B64)
    for i in range(B64.size):
        Bp, Bm = B64.copy(), B64.copy()
        Bp[i] += h
        Bm[i] -= h
        gB[i] = (total(W64, Bp) - total(W64, Bm)) / (2 * h)
    return gW, gB


def make_case(activation, dist, rng, n_rows=1):
    out = "softmax" if dist == "softmax" else "linear"
    n_out = 3 if out == "softmax" else 1
    spec = NetworkSpec((4, 5, 3, n_out), activation, out, (0.0, 0.0))
    st = init_state(spec, seed=int(rng.integers(1000)))
    X = rng.normal(size=(n_rows, 4)).astype(np.float32)
    if out == "softmax":
        Y = rng.integers(0, 3, size=n_rows).astype(np.float32)
    elif dist in ("poisson", "gamma", "tweedie"):
        Y = rng.uniform(0.5, 3.0, size=n_rows).astype(np.float32)
    else:
        Y = rng.normal(size=n_rows).astype(np.float32) * 3
    offs = rng.normal(scale=0.1, size=n_rows).astype(np.float32)
    return spec, st, X, Y, offs


PAIRS = ([(a, "softmax", l) for a in ACTIVATIONS for l in ("CrossEntropy", "Quadratic")]
         + [(a, d, "Automatic") for a in ACTIVATIONS for d in DISTRIBUTIONS])


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("activation,dist,loss", PAIRS)
def test_gradient_matches_finite_differences(activation, dist, loss, batch):
    """A manual step with rate 1 moves every parameter by exactly minus its gradient."""
    rng = np.random.default_rng(hash((activation, dist, loss, batch)) % 2**32)
    spec, st, X, Y, offs = make_case(activation, dist, rng, n_rows=batch)
    if dist == "huber":  # keep residuals away from the kink at delta = 1
        Y = Y + np.sign(Y) * 2
    W0, B0 = st.W.copy(), st.B.copy()
    kdist = "multinomial" if dist == "softmax" else dist
    kp = KernelParams.from_params(base_params(loss=loss, mini_batch_size=batch), distribution=kdist)
    off_arg = offs if dist != "softmax" else None
    n = train_partition(st, X, Y, None, off_arg, batch, kp, nthreads=1, seed=0)
    assert n == batch
    gW = W0.astype(np.float64) - st.W
    gB = B0.astype(np.float64) - st.B
    fW, fB = fd_gradient(spec, W0, B0, X, Y, dist, loss,
                         offs if dist != "softmax" else np.zeros(batch))
    np.testing.assert_allclose(gW, fW, rtol=2e-3, atol=3e-4)
    np.testing.assert_allclose(gB, fB, rtol=2e-3, atol=3e-4)


def test_row_weight_scales_the_gradient():
    """Booklet: weights are a loss pre-factor, so weight 2 doubles the manual step."""
    rng = np.random.default_rng(3)
    spec, st, X, Y, offs = make_case("Tanh", "gaussian", rng)
    st2 = st.copy()
    W0 = st.W.copy()
    kp = KernelParams.from_params(base_params(rate=0.01), distribution="gaussian")
    train_partition(st, X, Y, None, None, 1, kp, seed=0)
    train_partition(st2, X, Y, np.array([2.0], np.float32), None, 1, kp, seed=0)
    np.testing.assert_allclose(W0 - st2.W, 2 * (W0 - st.W), rtol=1e-4, atol=1e-6)


def h2o_approx_sqrt(x):
    """H2O's MathUtils.approxSqrt(float): intBitsToFloat(532483686 + (floatToRawIntBits(x) >> 1))."""
    x = np.asarray(x, np.float32)
    return ((x.view(np.int32) >> 1) + np.int32(532483686)).view(np.float32)


def test_approx_sqrt_is_h2os_bit_trick():
    """Bit for bit H2O's formula; within its documented error of the true square root."""
    from numba import njit

    @njit
    def apply(a):
        out = np.empty_like(a)
        for i in range(a.size):
            out[i] = update.approx_sqrt(a[i])
        return out

    x = np.logspace(-30, 30, 20001).astype(np.float32)
    got = apply(x)
    assert np.array_equal(got.view(np.int32), h2o_approx_sqrt(x).view(np.int32))
    rel = got.astype(np.float64) / np.sqrt(x.astype(np.float64)) - 1
    assert rel.min() > -0.025 and rel.max() < 0.045
    assert h2o_approx_sqrt(np.float32(1.0)) == np.array([0x3F7D0E66], np.int32).view(np.float32)[0]


def test_hand_worked_adadelta_step():
    """One row through a 2-2-2 Tanh network with ADADELTA, every number computed by hand.

    The step size is H2O's ``approxSqrt((E[dx²] + eps) / (E[g²] + eps))``.
    """
    spec = NetworkSpec((2, 2, 2), "Tanh", "softmax", (0.0,))
    st = init_state(spec, seed=0)
    W1 = np.array([[0.1, -0.2], [0.3, 0.4]])
    W2 = np.array([[0.5, -0.6], [-0.7, 0.8]])
    b1 = np.array([0.01, -0.02])
    b2 = np.array([0.03, 0.0])
    st.W[:] = np.concatenate([W1.ravel(), W2.ravel()])
    st.B[:] = np.concatenate([b1, b2])
    x = np.array([1.0, -2.0])
    target = 1
    rho, eps = 0.99, 1e-8
    # forward
    h = np.tanh(W1 @ x + b1)
    z = W2 @ h + b2
    p = np.exp(z - z.max())
    p /= p.sum()
    g2 = p - np.array([0.0, 1.0])                  # softmax + cross-entropy
    g1 = (W2.T @ g2) * (1 - h ** 2)                # pre-update W2, tanh derivative

    def adadelta(w, grad):
        eg = (1 - rho) * grad ** 2                 # E[g²] from 0
        rate = h2o_approx_sqrt((0 + eps) / (eg + eps))   # E[Δx²] is 0 before the step
        return w - rate * grad, eg, (1 - rho) * (rate * grad) ** 2

    gW2 = np.outer(g2, h)
    gW1 = np.outer(g1, x)
    W2n, eg2, edx2 = adadelta(W2, gW2)
    W1n, eg1, edx1 = adadelta(W1, gW1)

    def bias(b, g, gw):                            # H2O: bias accumulators see mean grad² of the row
        avg = (gw ** 2).mean(axis=1)
        eg = (1 - rho) * avg
        rate = h2o_approx_sqrt(eps / (eg + eps))
        return b - rate * g

    b2n = bias(b2, g2, gW2)
    b1n = bias(b1, g1, gW1)
    kp = KernelParams.from_params(base_params(adaptive_rate=True, rate=0.0, fast_mode=True),
                                  distribution="multinomial")
    train_partition(st, x[None, :].astype(np.float32), np.array([target], np.float32), None,
                    None, 1, kp, seed=0)
    np.testing.assert_allclose(st.W, np.concatenate([W1n.ravel(), W2n.ravel()]), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(st.B, np.concatenate([b1n, b2n]), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(st.OW[0], np.concatenate([eg1.ravel(), eg2.ravel()]), rtol=1e-4)
    np.testing.assert_allclose(st.OW[1], np.concatenate([edx1.ravel(), edx2.ravel()]), rtol=1e-4)


def _glm(w0=0.5):
    """No hidden layer, one input, identity output: grad of (f - y)² wrt w is 2 (w x - y) x."""
    spec = NetworkSpec((1, 1), "Tanh", "linear", ())
    st = init_state(spec, seed=0)
    st.W[:] = w0
    st.B[:] = 0.0
    return spec, st


def test_momentum_ramp_follows_the_documentation():
    # the documented linear ramp (H2O's code never ramps momentum; its documentation does)
    assert update.momentum_at(0.0, 0.5, 100.0, 0.9) == pytest.approx(0.5)
    assert update.momentum_at(50.0, 0.5, 100.0, 0.9) == pytest.approx(0.7)
    assert update.momentum_at(100.0, 0.5, 100.0, 0.9) == pytest.approx(0.9)
    assert update.momentum_at(1e9, 0.5, 100.0, 0.9) == pytest.approx(0.9)
    hyper = KernelParams.from_params(
        base_params(rate=0.1, rate_decay=0.5, rate_annealing=1e-3, momentum_start=0.5,
                    momentum_ramp=100.0, momentum_stable=0.9), distribution="gaussian").hyper
    r, m = update.manual_rate(2, 50.0, hyper)
    assert m == pytest.approx(0.7)
    assert r == pytest.approx(0.1 * 0.25 / (1 + 0.05) * (1 - 0.7))


@pytest.mark.parametrize("nesterov", [True, False])
def test_momentum_and_nesterov_updates(nesterov):
    x, y, rate, m = 1.5, 2.0, 0.1, 0.6
    spec, st = _glm()
    kp = KernelParams.from_params(
        base_params(rate=rate, momentum_start=m, momentum_stable=m,
                    nesterov_accelerated_gradient=nesterov), distribution="gaussian")
    X = np.array([[x], [x]], np.float32)
    Y = np.array([y, y], np.float32)
    r = rate * (1 - m)                              # H2O scales the rate by (1 - momentum)

    def step(p, v, grad):
        vn = m * v - r * grad
        return (p - m * v + (1 + m) * vn if nesterov else p + vn), vn

    w, b, vw, vb = 0.5, 0.0, 0.0, 0.0
    for _ in range(2):
        g = 2 * (w * x + b - y)
        w, vw = step(w, vw, g * x)
        b, vb = step(b, vb, g)
    train_partition(st, X, Y, None, None, 2, kp, seed=0)
    assert st.W[0] == pytest.approx(w, rel=1e-5)
    assert st.B[0] == pytest.approx(b, rel=1e-5)
    assert st.OW[0, 0] == pytest.approx(vw, rel=1e-5)


@pytest.mark.parametrize("batch", [1, 2])
def test_elastic_averaging_pulls_towards_the_consensus(batch):
    # H2O's elastic averaging: every gradient gets + lam * (w_local - w_consensus)
    x, y, rate, lam = 1.5, 2.0, 0.1, 0.3
    spec, st = _glm(0.5)
    cons = st.copy()
    cons.W[:] = -1.0
    cons.B[:] = 2.0
    kp = KernelParams.from_params(base_params(rate=rate, mini_batch_size=batch),
                                  distribution="gaussian", elastic=lam)
    X = np.array([[x]] * batch, np.float32)
    Y = np.array([y] * batch, np.float32)
    w, b = 0.5, 0.0
    g = 2 * (w * x + b - y)
    w_new = w - rate * (g * x + lam * (w - (-1.0)))
    b_new = b - rate * (g + lam * (b - 2.0))
    train_partition(st, X, Y, None, None, batch, kp, seed=0, consensus=cons)
    assert st.W[0] == pytest.approx(w_new, rel=1e-5)
    assert st.B[0] == pytest.approx(b_new, rel=1e-5)
    # without a consensus model the same parameters train as plain SGD
    spec, plain = _glm(0.5)
    train_partition(plain, X, Y, None, None, batch, kp, seed=0)
    assert plain.W[0] == pytest.approx(w - rate * g * x, rel=1e-5)


def test_rate_annealing_and_decay():
    spec = NetworkSpec((1, 1, 1), "Tanh", "linear", (0.0,))
    st = init_state(spec, seed=0)
    st.W[:] = [0.5, 0.5]
    st.B[:] = 0.0
    st.processed = 1000
    kp = KernelParams.from_params(base_params(rate=0.1, rate_annealing=1e-3, rate_decay=0.5),
                                  distribution="gaussian")
    x, y = 1.0, 2.0
    h = np.tanh(0.5 * x)
    f = 0.5 * h
    g_out = 2 * (f - y)
    g_hid = g_out * 0.5 * (1 - h * h)
    ann = 1 / (1 + 1e-3 * 1000)
    expected_w2 = 0.5 - 0.1 * 0.5 * ann * g_out * h   # layer 1: rate * decay^1
    expected_w1 = 0.5 - 0.1 * ann * g_hid * x          # layer 0: rate * decay^0
    train_partition(st, np.array([[x]], np.float32), np.array([y], np.float32), None, None, 1,
                    kp, seed=0)
    assert st.W[1] == pytest.approx(expected_w2, rel=1e-5)
    assert st.W[0] == pytest.approx(expected_w1, rel=1e-5)


def test_fast_mode_skips_weights_of_zero_inputs():
    spec = NetworkSpec((3, 4, 2), "Tanh", "softmax", (0.0,))
    st = init_state(spec, seed=1)
    X = np.array([[1.0, 0.0, -1.0]], np.float32)
    W0 = st.W.copy()
    kp = KernelParams.from_params(base_params(adaptive_rate=True, fast_mode=True, l2=1e-3),
                                  distribution="multinomial")
    train_partition(st, X, np.array([1.0], np.float32), None, None, 1, kp, seed=0)
    W1 = spec.layer_weights(st.W, 0)[:, 0, :]
    W1_0 = spec.layer_weights(W0, 0)[:, 0, :]
    assert np.array_equal(W1[:, 1], W1_0[:, 1])          # input 1 is 0: untouched, even by L2
    assert np.all(spec.layer_weights(st.OW[0], 0)[:, 0, 1] == 0)
    assert np.all(W1[:, 0] != W1_0[:, 0])
    st2 = init_state(spec, seed=1)
    kp2 = KernelParams.from_params(base_params(adaptive_rate=True, fast_mode=False, l2=1e-3),
                                   distribution="multinomial")
    train_partition(st2, X, np.array([1.0], np.float32), None, None, 1, kp2, seed=0)
    assert np.all(spec.layer_weights(st2.W, 0)[:, 0, 1] != W1_0[:, 1])


@pytest.mark.parametrize("batch", [1, 8])
@pytest.mark.parametrize("activation,adaptive", [("Rectifier", True), ("Maxout", True),
                                                 ("Maxout", False), ("Tanh", False)])
def test_max_w2_bounds_every_row(batch, activation, adaptive):
    rng = np.random.default_rng(0)
    spec = NetworkSpec((10, 8, 2), activation, "softmax", (0.0,))
    st = init_state(spec, seed=2, initial_weight_distribution="Uniform", initial_weight_scale=3.0)
    X = rng.normal(size=(200, 10)).astype(np.float32)
    Y = (X[:, 0] > 0).astype(np.float32)
    manual = {} if adaptive else dict(rate=0.05, momentum_start=0.5, momentum_stable=0.5)
    kp = KernelParams.from_params(base_params(adaptive_rate=adaptive, max_w2=2.0, fast_mode=True,
                                              mini_batch_size=batch, **manual),
                                  distribution="bernoulli")
    before = st.W.copy()
    train_partition(st, X, Y, None, None, 200, kp, seed=0)
    assert not np.array_equal(st.W, before)
    for l in range(spec.n_layers):
        # a unit's incoming weights, both Maxout channels together (H2O's rule)
        sq = (spec.layer_weights(st.W, l).reshape(spec.units[l + 1], -1) ** 2).sum(axis=1)
        assert np.all(sq <= 2.0 * (1 + 1e-4))


def test_input_dropout_draws_the_same_stream_as_one_draw_per_input():
    from numba import njit

    @njit
    def one_by_one(v, state, ratio):
        for c in range(v.shape[0]):
            if _rng.uniform(state) < ratio:
                v[c] = np.float32(0.0)

    @njit
    def counter(v, state, ratio):
        _rng.drop_inputs(v, v.shape[0], _rng.drop_threshold(ratio), state)

    for ratio in (np.float32(0.1), np.float32(0.5), np.float32(0.25)):
        s1 = np.array([12345], np.uint64)
        s2 = s1.copy()
        a = np.ones(1000, np.float32)
        b = np.ones(1000, np.float32)
        for _ in range(3):  # the state carries over from call to call
            one_by_one(a, s1, ratio)
            counter(b, s2, ratio)
        np.testing.assert_array_equal(a, b)
        assert s1[0] == s2[0]
        assert abs((a == 0).mean() - (1 - (1 - ratio) ** 3)) < 0.05


def test_init_ranges_and_biases():
    spec = NetworkSpec((30, 20, 10, 3), "Rectifier", "softmax", (0.0, 0.0))
    st = init_state(spec, seed=5)
    r0 = np.sqrt(6 / 50)
    r2 = 4 * np.sqrt(6 / 13)
    assert np.abs(spec.layer_weights(st.W, 0)).max() <= r0
    assert np.abs(spec.layer_weights(st.W, 0)).max() > 0.8 * r0
    assert np.abs(spec.layer_weights(st.W, 2)).max() <= r2
    assert np.abs(spec.layer_weights(st.W, 2)).max() > 0.6 * r2     # softmax layer: x4
    assert np.all(spec.layer_biases(st.B, 0) == 0.5)
    assert np.all(spec.layer_biases(st.B, 1) == 1.0)
    assert np.all(spec.layer_biases(st.B, 2) == 0.0)
    tanh = init_state(NetworkSpec((30, 20, 3), "Tanh", "softmax", (0.0,)), seed=5)
    assert np.all(tanh.B == 0)
    normal = init_state(spec, seed=5, initial_weight_distribution="Normal", initial_weight_scale=0.01)
    assert 0.008 < normal.W.std() < 0.012
    assert np.array_equal(init_state(spec, seed=5).W, st.W)
    assert not np.array_equal(init_state(spec, seed=6).W, st.W)


def test_scoring_forward_applies_dropout_scaling():
    spec = NetworkSpec((3, 4, 2), "RectifierWithDropout", "softmax", (0.25,))
    st = init_state(spec, seed=1)
    X = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    W1 = spec.layer_weights(st.W, 0)[:, 0, :]
    h = np.maximum(X @ W1.T + spec.layer_biases(st.B, 0)[:, 0], 0) * 0.75
    W2 = spec.layer_weights(st.W, 1)[:, 0, :]
    z = h @ W2.T + spec.layer_biases(st.B, 1)[:, 0]
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(forward(spec, st.W, st.B, X), p, rtol=1e-5)


def test_select_rows_fractions_and_repeats():
    rng = np.random.default_rng(0)
    parts = select_rows(1000, 1000, 2, rng)
    assert [p.tolist() for p in parts] == [list(range(500)), list(range(500, 1000))]
    parts = select_rows(1000, 2500, 2, rng)          # 2.5 epochs: 3 visits, keep-prob 5/6
    total = sum(len(p) for p in parts)
    assert 2300 < total < 2700
    assert all(p.min() >= lo and p.max() < lo + 500 for p, lo in zip(parts, (0, 500)))
    parts = select_rows(1000, 100, 1, rng)
    assert 60 < len(parts[0]) < 140
    assert len(np.unique(parts[0])) == len(parts[0])
    shuffled = select_rows(1000, 1000, 1, rng, shuffle=True)[0]
    assert sorted(shuffled.tolist()) == list(range(1000)) and shuffled.tolist() != list(range(1000))


def _separable(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8)).astype(np.float32)
    Y = ((X[:, 0] + X[:, 1] * X[:, 2]) > 0).astype(np.float32)
    return X, Y


@pytest.mark.parametrize("batch", [1, 16])
def test_one_thread_is_bit_reproducible(batch):
    X, Y = _separable()
    spec = NetworkSpec((8, 16, 16, 2), "RectifierWithDropout", "softmax", (0.2, 0.2))
    kp = KernelParams.from_params(base_params(adaptive_rate=True, input_dropout_ratio=0.1,
                                              fast_mode=True, mini_batch_size=batch),
                                  distribution="bernoulli")
    runs = []
    for _ in range(2):
        st = init_state(spec, seed=7)
        for it in range(3):
            train_partition(st, X, Y, None, None, 3000, kp, nthreads=1, seed=100 + it, shuffle=True)
        runs.append(st)
    assert np.array_equal(runs[0].W, runs[1].W)
    assert np.array_equal(runs[0].B, runs[1].B)
    assert np.array_equal(runs[0].OW, runs[1].OW)


def test_two_threads_differ_but_learn_as_well():
    X, Y = _separable()
    Xt, Yt = _separable(seed=1)
    spec = NetworkSpec((8, 32, 2), "Rectifier", "softmax", (0.0,))
    kp = KernelParams.from_params(base_params(adaptive_rate=True, fast_mode=True),
                                  distribution="bernoulli")
    acc = {}
    weights = {}
    for nthreads in (1, 2):
        st = init_state(spec, seed=3)
        for it in range(5):
            train_partition(st, X, Y, None, None, 3000, kp, nthreads=nthreads, seed=it)
        acc[nthreads] = (forward(spec, st.W, st.B, Xt).argmax(1) == Yt).mean()
        weights[nthreads] = st.W
    assert not np.array_equal(weights[1], weights[2])
    assert acc[1] > 0.85 and acc[2] > 0.85
    assert abs(acc[1] - acc[2]) < 0.05


# ----------------------------------------------------------------------------- recorded weights
# Fixed small networks trained a few hundred rows with one thread (a deterministic function
# of the seeds): weights, biases and optimiser state must stay bit for bit those recorded in
# tests/data/kernel_golden.npz by ``train_cases`` (``python tests/unit/test_kernels.py``
# rewrites the file). A kernel change that moves any of them by one bit fails here.
GOLDEN = Path(__file__).resolve().parents[1] / "data" / "kernel_golden.npz"
N_ROWS = 300


def _golden_params(**kw):
    return base_params(**{"rate": 0.005, "rate_annealing": 1e-6, "adaptive_rate": True, **kw})


#: name -> (activation, output, hidden, dropout, distribution, parameters, row weights,
#: offsets, elastic lambda)
CASES = {
    "tanh_dropout_adadelta": ("TanhWithDropout", "softmax", (6, 5), (0.2, 0.1), "multinomial",
                              dict(input_dropout_ratio=0.1, l1=1e-4, l2=1e-3, max_w2=4.0),
                              True, False, 0.0),
    "rect_nesterov_huber": ("Rectifier", "linear", (7,), (0.0,), "huber",
                            dict(adaptive_rate=False, momentum_start=0.3, momentum_ramp=200.0,
                                 momentum_stable=0.8, rate_decay=0.7, rate_annealing=1e-3,
                                 fast_mode=True), False, True, 0.0),
    "maxout_plain_quadratic": ("MaxoutWithDropout", "softmax", (4,), (0.3,), "bernoulli",
                               dict(adaptive_rate=False, rate=0.01, loss="Quadratic", l2=1e-4,
                                    max_w2=2.0), True, False, 0.0),
    "maxout_momentum_gaussian": ("Maxout", "linear", (5, 3), (0.0, 0.0), "gaussian",
                                 dict(adaptive_rate=False, momentum_start=0.5,
                                      momentum_stable=0.5, nesterov_accelerated_gradient=False,
                                      l1=1e-4), True, True, 0.0),
    "tanh_elastic_poisson": ("Tanh", "linear", (6,), (0.0,), "poisson",
                             dict(fast_mode=True), False, False, 0.05),
    "rect_quantile": ("RectifierWithDropout", "linear", (6,), (0.25,), "quantile",
                      dict(input_dropout_ratio=0.2), False, True, 0.0),
    "tanh_tweedie": ("Tanh", "linear", (4,), (0.0,), "tweedie", dict(), True, False, 0.0),
    "rect_gamma_laplace": ("Rectifier", "linear", (5,), (0.0,), "gamma", dict(l2=1e-3),
                           False, False, 0.0),
    "tanh_laplace": ("Tanh", "linear", (5,), (0.0,), "laplace",
                     dict(adaptive_rate=False, rate=0.01), False, False, 0.0),
    "ae_sparse_exact": ("Tanh", "autoencoder", (3,), (0.0,), "gaussian",
                        dict(autoencoder=True, sparsity_beta=0.5, average_activation=-0.2),
                        False, False, 0.0),
    "ae_h2o_rect": ("RectifierWithDropout", "autoencoder", (4,), (0.2,), "gaussian",
                    dict(autoencoder=True, h2o_compat=True, input_dropout_ratio=0.1),
                    True, False, 0.0),
}
BATCHES = (1, 16)


def _data(output, dist, n_in=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N_ROWS, n_in)).astype(np.float32)
    if output == "autoencoder":
        return X, None
    if output == "softmax":
        n_cls = 3 if dist == "multinomial" else 2
        score = X[:, 0] + X[:, 1] * X[:, 2]
        y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_cls + 1)[1:-1]))
        return X, y.astype(np.float32)
    if dist in ("poisson", "gamma", "tweedie"):
        return X, rng.gamma(2.0, 1.0, size=N_ROWS).astype(np.float32)
    return X, (X[:, 0] - 2 * X[:, 3] + rng.normal(size=N_ROWS)).astype(np.float32)


def train_case(name: str, batch: int) -> dict[str, np.ndarray]:
    """Train one fixed case with one thread; its final arrays by name."""
    act, output, hidden, drop, dist, kw, has_w, has_off, lam = CASES[name]
    X, y = _data(output, dist)
    n_in = X.shape[1]
    n_out = n_in if output == "autoencoder" else (
        (3 if dist == "multinomial" else 2) if output == "softmax" else 1)
    spec = NetworkSpec((n_in, *hidden, n_out), act, output, drop)
    st = init_state(spec, seed=11)
    if kw.get("sparsity_beta"):
        st.AA = np.zeros(spec.n_biases, np.float32)
    rng = np.random.default_rng(5)
    w = rng.uniform(0.2, 2.0, N_ROWS).astype(np.float32) if has_w else None
    off = rng.normal(scale=0.3, size=N_ROWS).astype(np.float32) if has_off else None
    kp = KernelParams.from_params(_golden_params(mini_batch_size=batch, **kw), distribution=dist,
                                  elastic=lam)
    cons = None
    if lam:
        cons = st.copy()
        cons.W *= np.float32(0.5)
        cons.B += np.float32(0.1)
    done = []
    for it in range(3):
        done.append(train_partition(st, X, y, w, off, 250, kp, nthreads=1, seed=40 + it,
                                    shuffle=it == 1, consensus=cons))
    out = {"W": st.W, "B": st.B, "OW": st.OW, "OB": st.OB, "AA": st.AA,
           "rows": np.array(done + [st.processed], np.int64)}
    return {f"{name}/{batch}/{k}": v for k, v in out.items()}


def train_cases() -> dict[str, np.ndarray]:
    """Every case at every batch size."""
    out: dict[str, np.ndarray] = {}
    for name in CASES:
        for batch in BATCHES:
            out.update(train_case(name, batch))
    return out


def _host_cpu() -> str:
    """The CPU Numba compiles for (its vector width decides how the kernels' reductions,
    vectorised under the kernels' fast-math subset, round)."""
    import llvmlite.binding as llvm

    return f"{llvm.get_host_cpu_name()} {llvm.get_host_cpu_features().flatten()}"


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_kernels_reproduce_the_recorded_weights(name, batch):
    """Per-sample kernels (batch 1, our own loops) reproduce the recorded arrays bit for
    bit on the CPU they were recorded on. Elsewhere, and for mini-batches, to 1e-4
    relative: the kernels let LLVM vectorise float sums (fast-math reassociation), whose
    rounding follows the CPU's vector width (measured: at most 4.4e-5 between two CPUs),
    and mini-batches multiply matrices with the BLAS numpy is built with, whose float32
    rounding differs between builds (at most 1.2e-6). A change to the kernels'
    arithmetic moves weights by far more."""
    golden = np.load(GOLDEN)
    recorded_on = str(golden["cpu"]) if "cpu" in golden.files else None
    got = train_case(name, batch)
    for key, value in got.items():
        ref = golden[key]
        assert value.dtype == ref.dtype and value.shape == ref.shape, key
        if batch == 1 and recorded_on == _host_cpu():
            assert np.array_equal(value.view(np.uint8), ref.view(np.uint8)), key
        else:
            np.testing.assert_allclose(value, ref, rtol=1e-4, atol=1e-6, err_msg=key)


if __name__ == "__main__":  # rewrite the recorded arrays
    np.savez_compressed(GOLDEN, cpu=np.array(_host_cpu()), **train_cases())
    print(f"wrote {GOLDEN}")


def test_a_pickled_state_leaves_out_an_optimiser_slot_of_zeros():
    """A model travels to a Dask worker and back every iteration: the unused second slot
    of a manual rate with momentum is not sent, and every array comes back the same."""
    import pickle

    spec = NetworkSpec((50, 40, 3), "Rectifier", "softmax", (0.0,))
    rng = np.random.default_rng(0)
    state = init_state(spec, seed=1)
    state.OW[0] = rng.normal(size=state.W.shape)      # momentum: slot 0 only
    state.OB[0] = rng.normal(size=state.B.shape)
    state.processed = 1234
    full = sum(a.nbytes for a in state.arrays().values())
    data = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    assert len(data) < full - state.OW[1].nbytes + 2000
    back = pickle.loads(data)
    assert back.processed == 1234 and back.spec == spec
    for name, a in state.arrays().items():
        b = getattr(back, name)
        assert b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b), name
    # ADADELTA: both slots used, both sent; a negative zero is not an unused slot
    state.OW[1] = rng.random(size=state.W.shape)
    state.OB[1] = -0.0
    back = pickle.loads(pickle.dumps(state))
    assert np.array_equal(back.OW, state.OW)
    assert np.signbit(back.OB[1]).all()
    # and it is copied (deep) like any object
    import copy

    deep = copy.deepcopy(state)
    assert deep.OW is not state.OW and np.array_equal(deep.OW, state.OW)
