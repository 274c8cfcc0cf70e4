"""The activation registry: names, codes, numpy functions and the kernels' jitted dispatch."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from dask_deeplearn.kernels import activations
from dask_deeplearn.kernels.activations import ACTIVATIONS, by_code, hidden_activation
from dask_deeplearn.network import NetworkSpec

POINTWISE = [a for a in ACTIVATIONS.values() if a.name != "softmax"]


@njit
def _jitted(code, z, a):
    f = np.empty_like(z)
    d = np.empty_like(a)
    for i in range(z.shape[0]):
        f[i] = activations.activate(code, z[i])
        d[i] = activations.derivative(code, a[i])
    return f, d


def test_names_and_codes():
    """The codes stored in network layouts and model files never move."""
    assert {a.name: a.code for a in ACTIVATIONS.values()} == {
        "tanh": 0, "rectifier": 1, "maxout": 2, "linear": 3, "softmax": 4}
    for name, a in ACTIVATIONS.items():
        assert a.name == name and by_code(a.code) is a and by_code(np.int64(a.code)) is a
    assert [a.name for a in ACTIVATIONS.values() if a.hidden] == ["tanh", "rectifier", "maxout"]
    assert ACTIVATIONS["maxout"].channels == 2
    assert all(a.channels == 1 for a in ACTIVATIONS.values() if a.name != "maxout")
    with pytest.raises(KeyError):
        by_code(5)


@pytest.mark.parametrize("h2o,name", [("Tanh", "tanh"), ("TanhWithDropout", "tanh"),
                                      ("Rectifier", "rectifier"),
                                      ("RectifierWithDropout", "rectifier"),
                                      ("Maxout", "maxout"), ("MaxoutWithDropout", "maxout")])
def test_h2o_names_map_to_the_hidden_activation(h2o, name):
    assert hidden_activation(h2o) is ACTIVATIONS[name]
    spec = NetworkSpec((3, 4, 2), h2o, "softmax", (0.0,))
    assert list(spec.act) == [ACTIVATIONS[name].code, ACTIVATIONS["softmax"].code]


def test_unknown_h2o_name():
    with pytest.raises(KeyError):
        hidden_activation("relu")
    with pytest.raises(ValueError, match="unknown activation 'relu'"):
        NetworkSpec((3, 4, 2), "relu", "softmax", (0.0,))


@pytest.mark.parametrize("act", POINTWISE, ids=lambda a: a.name)
def test_jitted_dispatch_matches_the_numpy_functions(act):
    z = np.linspace(-6, 6, 1201).astype(np.float32)
    if act.channels == 1:
        ref = act.forward(z.astype(np.float64)[None, :])[0]
        a = act.forward(z[None, :])[0]
        f, d = _jitted(act.code, z, a)
        np.testing.assert_allclose(f, ref, rtol=1e-6, atol=1e-7)
    else:  # the kernels take Maxout's max themselves; its derivative routes the error
        a = z
        _, d = _jitted(act.code, z, a)
    assert np.array_equal(d, act.derivative(a))


@pytest.mark.parametrize("act", POINTWISE, ids=lambda a: a.name)
def test_derivative_is_the_slope_of_forward(act):
    z = np.linspace(-3, 3, 601)
    z = z[np.abs(z) > 1e-3]  # away from the rectifier's kink
    h = 1e-6
    k = act.channels
    zz = np.repeat(z, k)[None, :] if k > 1 else z[None, :]
    if k > 1:
        zz[0, 1::2] -= 1.0  # channel 0 wins everywhere
    slope = (act.forward(zz + h, k) - act.forward(zz - h, k))[0] / (2 * h)
    a = act.forward(zz, k)[0]
    np.testing.assert_allclose(act.derivative(a), slope, rtol=1e-6, atol=1e-6)


def test_forward_in_place_and_into_a_buffer():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(5, 8))
    for act in POINTWISE:
        k = act.channels
        ref = act.forward(z.copy(), k)
        buf = np.empty((5, 8 // k))
        assert np.array_equal(act.forward(z.copy(), k, out=buf), ref)
        if k == 1:
            w = z.copy()
            assert act.forward(w, k, out=w) is w and np.array_equal(w, ref)
    assert np.array_equal(ACTIVATIONS["maxout"].forward(z, 2), z.reshape(5, 4, 2).max(axis=2))


def test_softmax_along_either_axis():
    z = np.random.default_rng(1).normal(size=(6, 3)) * 5
    p = activations.softmax(z)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p, np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))
    zt = z.T.copy()
    assert np.array_equal(activations.softmax(zt, out=zt, axis=0), p.T)
    assert ACTIVATIONS["softmax"].derivative is None
