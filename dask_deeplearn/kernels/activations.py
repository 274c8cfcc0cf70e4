"""The activation registry: one entry per activation, shared by every part of the package.

numpy + numba only. Each :class:`Activation` carries

* ``name``: the lower-case name the exporters write (``"tanh"``, ``"rectifier"``, ...);
* ``code``: the integer the network layout stores per layer (``NetworkSpec.act``) and the
  jitted kernels dispatch on (:func:`activate`, :func:`derivative`);
* ``forward``: the numpy function of the scoring path (float64 in :mod:`network` and
  :mod:`fast_scoring`), ``forward(z, k=1, out=None)``;
* ``derivative``: the numpy derivative as a function of the activation's value ``a``
  (what the kernels' :func:`derivative` computes in float32), None for softmax, whose
  gradient is taken together with its loss.

:data:`ACTIVATIONS` maps names to entries (the model is scikit-learn's ``ACTIVATIONS``
dict); :func:`by_code` goes from a layout code back to its entry, and
:func:`hidden_activation` from an H2O activation parameter (``"RectifierWithDropout"``) to
the entry of its hidden layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
from numba import njit

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "LINEAR",
    "MAXOUT",
    "RECTIFIER",
    "SOFTMAX",
    "TANH",
    "activate",
    "by_code",
    "derivative",
    "hidden_activation",
    "softmax",
]

# Integer codes: the values stored in ``NetworkSpec.act`` and in saved model layouts (do
# not renumber), compared against in the jitted kernels as compile-time constants.
TANH = 0
RECTIFIER = 1
MAXOUT = 2
LINEAR = 3
SOFTMAX = 4


# --------------------------------------------------------------------------- numpy functions
def _tanh(z: np.ndarray, k: int = 1, out: np.ndarray | None = None) -> np.ndarray:
    return np.tanh(z, out=out)


def _rectifier(z: np.ndarray, k: int = 1, out: np.ndarray | None = None) -> np.ndarray:
    return np.maximum(z, 0.0, out=out, dtype=z.dtype)


def _maxout(z: np.ndarray, k: int = 1, out: np.ndarray | None = None) -> np.ndarray:
    # unit r's channels are the columns r * k .. r * k + k - 1 (the layout's rows, k, cols)
    n, width = z.shape
    return np.max(z.reshape(n, width // k, k), axis=2, out=out)


def _linear(z: np.ndarray, k: int = 1, out: np.ndarray | None = None) -> np.ndarray:
    if out is None or out is z:
        return z
    np.copyto(out, z)
    return out


def softmax(z: np.ndarray, k: int = 1, out: np.ndarray | None = None,
            axis: int = -1) -> np.ndarray:
    """Softmax along ``axis`` (the outputs of one row), max-shifted; in place with ``out=z``."""
    if out is None:
        out = z.copy()
    elif out is not z:
        np.copyto(out, z)
    out -= out.max(axis=axis, keepdims=True)
    np.exp(out, out=out)
    out /= out.sum(axis=axis, keepdims=True)
    return out


def _d_tanh(a: np.ndarray) -> np.ndarray:
    return 1.0 - a * a


def _d_rectifier(a: np.ndarray) -> np.ndarray:
    return (a > 0).astype(a.dtype)


def _d_one(a: np.ndarray) -> np.ndarray:
    # Maxout routes the error to the winning channel unchanged; linear passes it on.
    return np.ones_like(a)


# --------------------------------------------------------------------------- the registry
@dataclass(frozen=True)
class Activation:
    """One activation: its name, layout code, numpy function and derivative.

    Attributes
    ----------
    name : str
        Lower-case name used by the exporters (``"tanh"``, ``"rectifier"``, ``"maxout"``,
        ``"linear"``, ``"softmax"``).
    code : int
        Value stored per layer in ``NetworkSpec.act`` and dispatched on by the kernels.
    forward : callable
        ``forward(z, k=1, out=None) -> ndarray``: the activation of pre-activations ``z``
        of shape ``(n, units * k)`` (``k = 2`` channels for Maxout, 1 otherwise); written
        into ``out`` when given (``out=z`` works in place except for Maxout, whose result
        is ``k`` times narrower).
    derivative : callable or None
        ``derivative(a) -> ndarray``: d activation / dz as a function of the activation
        value ``a``; None for softmax (its gradient is taken together with the loss).
    hidden : bool
        Whether hidden layers may use it (H2O's ``activation`` parameter).
    channels : int
        Pre-activations per unit (2 for Maxout, H2O's fixed two channels; 1 otherwise).
    """

    name: str
    code: int
    forward: Callable[..., np.ndarray]
    derivative: Optional[Callable[[np.ndarray], np.ndarray]]
    hidden: bool
    channels: int = 1


#: name -> activation (the codes 0..4 in order)
ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation("tanh", TANH, _tanh, _d_tanh, hidden=True),
    "rectifier": Activation("rectifier", RECTIFIER, _rectifier, _d_rectifier, hidden=True),
    "maxout": Activation("maxout", MAXOUT, _maxout, _d_one, hidden=True, channels=2),
    "linear": Activation("linear", LINEAR, _linear, _d_one, hidden=False),
    "softmax": Activation("softmax", SOFTMAX, softmax, None, hidden=False),
}

_BY_CODE = {a.code: a for a in ACTIVATIONS.values()}

#: H2O's ``activation`` parameter -> registry name of the hidden layers' activation
#: (the ``WithDropout`` variants differ only in their dropout ratios)
_H2O_HIDDEN = {
    "Tanh": "tanh",
    "TanhWithDropout": "tanh",
    "Rectifier": "rectifier",
    "RectifierWithDropout": "rectifier",
    "Maxout": "maxout",
    "MaxoutWithDropout": "maxout",
}


def by_code(code: int) -> Activation:
    """The activation stored as ``code`` in a network layout.

    Raises
    ------
    KeyError
        When ``code`` is not an activation code.
    """
    return _BY_CODE[int(code)]


def hidden_activation(h2o_name: str) -> Activation:
    """The hidden layers' activation of H2O's ``activation`` parameter value.

    Raises
    ------
    KeyError
        When ``h2o_name`` is not one of H2O's six activation names.
    """
    return ACTIVATIONS[_H2O_HIDDEN[h2o_name]]


# --------------------------------------------------------------------------- jitted dispatch
@njit(inline="always")
def activate(code, z):
    """Float32 activation of one pre-activation ``z`` (Tanh, Rectifier; others: ``z``).

    Tanh is ``1 - 2 / (1 + exp(2 z))``: one exponential, and exact at +-inf. Maxout is
    the max of its channels, taken by the kernels before this is reached.
    """
    if code == TANH:
        return np.float32(1.0) - np.float32(2.0) / (np.float32(1.0) + np.exp(np.float32(2.0) * z))
    if code == RECTIFIER:
        return z if z > 0 else np.float32(0.0)
    return z


@njit(inline="always")
def derivative(code, a):
    """Float32 d activation / dz at activation value ``a`` (see ``Activation.derivative``)."""
    if code == TANH:
        return np.float32(1.0) - a * a
    if code == RECTIFIER:
        return np.float32(1.0) if a > 0 else np.float32(0.0)
    return np.float32(1.0)  # maxout: routed to the winning channel; linear
