"""Network layout, model state, H2O's weight initialisation and the numpy forward pass.

numpy only. The forward pass here is the scorer used by ``predict`` and the reference the
Numba kernels are tested against.

Layout (H2O's). ``units = (n_inputs, h_1, ..., h_L, n_outputs)``. Weight matrix ``l``
(``l = 0..L``) connects layer ``l`` to layer ``l + 1`` and is stored in one flat ``float32``
buffer ``W`` at ``W[w_off[l]:w_off[l + 1]]``, row-major with **rows = receiving units**:
shape ``(rows, k, cols)`` where ``k = 2`` for a Maxout hidden layer (H2O's fixed two
channels) and ``k = 1`` otherwise. (H2O interleaves the Maxout channels as
``(rows, cols, k)``; exporters convert.) Biases live in one flat ``float32`` buffer ``B``
shaped ``(rows, k)`` per layer. Everything is float32 (H2O keeps biases and activations in
float64; float32 doubles the SIMD width and changes results only in the last bits).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .kernels import activations
from .memory import dense_scoring_rows

__all__ = [
    "ACT_TANH",
    "ACT_RECTIFIER",
    "ACT_MAXOUT",
    "ACT_LINEAR",
    "ACT_SOFTMAX",
    "NetworkSpec",
    "ModelState",
    "init_state",
    "forward",
    "hidden_activations",
]

# activation codes of ``NetworkSpec.act`` (the registry's; kept here under their old names)
ACT_TANH = activations.TANH
ACT_RECTIFIER = activations.RECTIFIER
ACT_MAXOUT = activations.MAXOUT
ACT_LINEAR = activations.LINEAR
ACT_SOFTMAX = activations.SOFTMAX

#: H2O adds this to the seed of every weight matrix's RNG (``seed + 0xBAD5EED + l + 1``).
_WEIGHT_SEED_SALT = 0xBAD5EED


@dataclass(frozen=True)
class NetworkSpec:
    """The shape of a network: layer sizes, activations and dropout.

    Parameters
    ----------
    units : tuple of int
        ``(n_inputs, h_1, ..., h_L, n_outputs)``.
    activation : str
        Canonical H2O activation of the hidden layers (``"Rectifier"``, ``"TanhWithDropout"``...).
    output : {"softmax", "linear", "autoencoder"}
        Output layer: softmax for classification, linear (link space) for regression, and
        for an autoencoder ``units[0]`` units with the hidden activation (without dropout;
        Tanh or Rectifier), as in H2O.
    hidden_dropout_ratios : tuple of float
        One ratio per hidden layer (all 0 for activations without dropout).
    input_dropout_ratio : float, default=0.0
        Probability of zeroing each input during training.
    """

    units: tuple[int, ...]
    activation: str
    output: str
    hidden_dropout_ratios: tuple[float, ...]
    input_dropout_ratio: float = 0.0
    # derived, filled in __post_init__
    k: np.ndarray = field(init=False, repr=False, compare=False)
    w_off: np.ndarray = field(init=False, repr=False, compare=False)
    b_off: np.ndarray = field(init=False, repr=False, compare=False)
    act: np.ndarray = field(init=False, repr=False, compare=False)
    dropout: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        units = tuple(int(u) for u in self.units)
        object.__setattr__(self, "units", units)
        object.__setattr__(
            self, "hidden_dropout_ratios", tuple(float(r) for r in self.hidden_dropout_ratios)
        )
        try:
            hidden = activations.hidden_activation(self.activation)
        except KeyError:
            raise ValueError(f"unknown activation {self.activation!r}") from None
        if self.output not in ("softmax", "linear", "autoencoder"):
            raise ValueError(
                f"output must be 'softmax', 'linear' or 'autoencoder', got {self.output!r}")
        n_hidden = len(units) - 2
        if n_hidden < 0 or any(u < 1 for u in units):
            raise ValueError(f"invalid units {units!r}")
        if len(self.hidden_dropout_ratios) != n_hidden:
            raise ValueError("need one hidden dropout ratio per hidden layer")
        hid = hidden.code
        if self.output == "autoencoder":
            if hid == ACT_MAXOUT:
                raise ValueError("an autoencoder needs a Tanh or Rectifier activation, "
                                 f"got {self.activation!r}")
            if units[-1] != units[0]:
                raise ValueError(f"an autoencoder has as many outputs as inputs, got {units!r}")
            out = hid
        else:
            out = ACT_SOFTMAX if self.output == "softmax" else ACT_LINEAR
        act = np.array([hid] * n_hidden + [out], dtype=np.int64)
        k = np.where(act == ACT_MAXOUT, 2, 1).astype(np.int64)
        w_sizes = [units[l + 1] * k[l] * units[l] for l in range(n_hidden + 1)]
        b_sizes = [units[l + 1] * k[l] for l in range(n_hidden + 1)]
        object.__setattr__(self, "act", act)
        object.__setattr__(self, "k", k)
        object.__setattr__(self, "w_off", np.concatenate([[0], np.cumsum(w_sizes)]).astype(np.int64))
        object.__setattr__(self, "b_off", np.concatenate([[0], np.cumsum(b_sizes)]).astype(np.int64))
        object.__setattr__(
            self, "dropout", np.array(list(self.hidden_dropout_ratios) + [0.0], dtype=np.float64)
        )

    @property
    def n_layers(self) -> int:
        """Number of weight matrices (hidden layers + 1)."""
        return len(self.units) - 1

    @property
    def n_weights(self) -> int:
        """Total number of weights."""
        return int(self.w_off[-1])

    @property
    def n_biases(self) -> int:
        """Total number of biases."""
        return int(self.b_off[-1])

    @property
    def units_array(self) -> np.ndarray:
        """``units`` as an int64 array (kernel argument)."""
        return np.asarray(self.units, dtype=np.int64)

    def layer_weights(self, W: np.ndarray, l: int) -> np.ndarray:
        """View of weight matrix ``l`` in ``W``, shape ``(rows, k, cols)``."""
        rows, cols, k = self.units[l + 1], self.units[l], int(self.k[l])
        return W[self.w_off[l] : self.w_off[l + 1]].reshape(rows, k, cols)

    def layer_biases(self, B: np.ndarray, l: int) -> np.ndarray:
        """View of bias vector ``l`` in ``B``, shape ``(rows, k)``."""
        rows, k = self.units[l + 1], int(self.k[l])
        return B[self.b_off[l] : self.b_off[l + 1]].reshape(rows, k)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable description (inverse of :meth:`from_dict`)."""
        return {
            "units": list(self.units),
            "activation": self.activation,
            "output": self.output,
            "hidden_dropout_ratios": list(self.hidden_dropout_ratios),
            "input_dropout_ratio": self.input_dropout_ratio,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "NetworkSpec":
        """Rebuild a spec from :meth:`to_dict` output."""
        return cls(
            units=tuple(d["units"]),
            activation=d["activation"],
            output=d["output"],
            hidden_dropout_ratios=tuple(d["hidden_dropout_ratios"]),
            input_dropout_ratio=float(d["input_dropout_ratio"]),
        )


@dataclass
class ModelState:
    """Weights, biases and optimiser state of one network.

    Attributes
    ----------
    spec : NetworkSpec
    W, B : ndarray of shape (n_weights,) and (n_biases,), float32
        Flat weight and bias buffers (see module docstring for the layout).
    OW, OB : ndarray of shape (2, n_weights) and (2, n_biases), float32
        Optimiser state. ADADELTA: slot 0 = E[g²], slot 1 = E[Δx²]. Manual rate with
        momentum: slot 0 = velocity (slot 1 unused).
    processed : int
        Training samples processed so far (drives annealing and the momentum ramp).
    AA : ndarray of shape (n_biases,) or (0,), float32
        Running mean activation of every unit (laid out like ``B``), kept only by a sparse
        autoencoder (``sparsity_beta > 0``); empty otherwise.
    """

    spec: NetworkSpec
    W: np.ndarray
    B: np.ndarray
    OW: np.ndarray
    OB: np.ndarray
    processed: int = 0
    AA: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    def __reduce__(self) -> tuple:
        # (pickled for every Dask transfer of a model, twice an iteration per worker: an
        # optimiser slot of only zero bits travels as its length, e.g. the unused second
        # slot of a manual rate with momentum, a third of the bytes)
        return (_rebuild_state, (self.spec, self.W, self.B, _slots(self.OW), _slots(self.OB),
                                 self.processed, self.AA))

    def copy(self) -> "ModelState":
        """Deep copy (arrays copied)."""
        return dataclasses.replace(
            self, W=self.W.copy(), B=self.B.copy(), OW=self.OW.copy(), OB=self.OB.copy(),
            AA=self.AA.copy()
        )

    def is_finite(self) -> bool:
        """True when every weight and bias is finite."""
        return bool(np.isfinite(self.W).all() and np.isfinite(self.B).all())

    def unstable_reason(self) -> str | None:
        """Why H2O would mark this model unstable, or None.

        Non-finite weights or biases, or a layer whose mean |weight| or weight RMS exceeds
        1e10, or whose mean |bias| or bias RMS exceeds 1e5.
        """
        if not self.is_finite():
            bad = int((~np.isfinite(self.W)).sum() + (~np.isfinite(self.B)).sum())
            return f"{bad} weights and biases are not finite"
        spec = self.spec
        for l in range(spec.n_layers):
            w = self.W[spec.w_off[l] : spec.w_off[l + 1]].astype(np.float64)
            b = self.B[spec.b_off[l] : spec.b_off[l + 1]].astype(np.float64)
            if abs(w.mean()) > 1e10 or w.std() > 1e10:
                return f"layer {l + 1} weights exploded (mean {w.mean():.3g}, RMS {w.std():.3g})"
            if abs(b.mean()) > 1e5 or b.std() > 1e5:
                return f"layer {l + 1} biases exploded (mean {b.mean():.3g}, RMS {b.std():.3g})"
        return None

    def arrays(self) -> dict[str, np.ndarray]:
        """The state's arrays by name (for model files and transport); ``AA`` only when kept."""
        out = {"W": self.W, "B": self.B, "OW": self.OW, "OB": self.OB}
        if self.AA.size:
            out["AA"] = self.AA
        return out


def _slots(opt: np.ndarray) -> Any:
    """Optimiser state for pickling: a 2-D array's rows, all-zero rows as their length."""
    if opt.ndim != 2 or opt.dtype != np.float32:
        return opt
    return tuple(row if row.view(np.uint32).any() else row.shape[0] for row in opt)


def _unslot(slots: Any) -> np.ndarray:
    if isinstance(slots, np.ndarray):
        return slots
    n = next(s.shape[0] if isinstance(s, np.ndarray) else s for s in slots)
    out = np.zeros((len(slots), n), dtype=np.float32)
    for i, s in enumerate(slots):
        if isinstance(s, np.ndarray):
            out[i] = s
    return out


def _rebuild_state(spec: NetworkSpec, W: np.ndarray, B: np.ndarray, OW: Any, OB: Any,
                   processed: int, AA: np.ndarray) -> "ModelState":
    """A :class:`ModelState` from its pickled parts (``ModelState.__reduce__``)."""
    return ModelState(spec, W, B, _unslot(OW), _unslot(OB), processed, AA)


def init_state(
    spec: NetworkSpec,
    *,
    seed: int,
    initial_weight_distribution: str = "UniformAdaptive",
    initial_weight_scale: float = 1.0,
) -> ModelState:
    """Initialise weights and biases as H2O does.

    Weight matrix ``l`` is drawn from its own generator seeded with
    ``seed + 0xBAD5EED + l + 1``: ``UniformAdaptive`` draws ``U(-r, r)`` with
    ``r = sqrt(6 / (fan_in + fan_out))`` (times 4 for a softmax output layer), ``Uniform``
    draws ``U(-s, s)`` and ``Normal`` draws ``N(0, s²)`` with ``s = initial_weight_scale``.
    Biases: 0.5 on the first hidden layer and 1.0 on deeper hidden layers for Rectifier and
    Maxout, 0 for Tanh and for the output layer. Optimiser state starts at 0.

    Parameters
    ----------
    spec : NetworkSpec
    seed : int
        The resolved model seed.
    initial_weight_distribution : {"UniformAdaptive", "Uniform", "Normal"}
    initial_weight_scale : float

    Returns
    -------
    ModelState
    """
    W = np.empty(spec.n_weights, dtype=np.float32)
    B = np.zeros(spec.n_biases, dtype=np.float32)
    for l in range(spec.n_layers):
        rng = np.random.default_rng((int(seed) + _WEIGHT_SEED_SALT + l + 1) % 2**64)
        size = int(spec.w_off[l + 1] - spec.w_off[l])
        if initial_weight_distribution == "UniformAdaptive":
            r = np.sqrt(6.0 / (spec.units[l] + spec.units[l + 1]))
            if spec.act[l] == ACT_SOFTMAX:
                r *= 4.0
            vals = rng.uniform(-r, r, size)
        elif initial_weight_distribution == "Uniform":
            vals = rng.uniform(-initial_weight_scale, initial_weight_scale, size)
        elif initial_weight_distribution == "Normal":
            vals = rng.normal(0.0, initial_weight_scale, size)
        else:
            raise ValueError(f"unknown initial_weight_distribution {initial_weight_distribution!r}")
        W[spec.w_off[l] : spec.w_off[l + 1]] = vals
        if l < spec.n_layers - 1 and spec.act[l] in (ACT_RECTIFIER, ACT_MAXOUT):
            B[spec.b_off[l] : spec.b_off[l + 1]] = 0.5 if l == 0 else 1.0
    OW = np.zeros((2, spec.n_weights), dtype=np.float32)
    OB = np.zeros((2, spec.n_biases), dtype=np.float32)
    return ModelState(spec=spec, W=W, B=B, OW=OW, OB=OB)


def hidden_activations(
    spec: NetworkSpec, W: np.ndarray, B: np.ndarray, X: np.ndarray, dtype: Any = np.float32
) -> list[np.ndarray]:
    """Scoring-mode activations of every hidden layer.

    Dropout layers are multiplied by ``1 - ratio`` (H2O's weight-scaling inference rule);
    input dropout has no scoring-time compensation, as in H2O.

    Parameters
    ----------
    spec : NetworkSpec
    W, B : ndarray, float32
        Flat weight and bias buffers.
    X : ndarray of shape (n_samples, n_inputs), float32
    dtype : numpy dtype, default=float32
        Arithmetic precision (the weights are cast to it).

    Returns
    -------
    list of ndarray of shape (n_samples, h_l), of ``dtype``
    """
    a = np.ascontiguousarray(X, dtype=dtype)
    W = np.asarray(W, dtype=dtype)
    B = np.asarray(B, dtype=dtype)
    out = []
    for l in range(spec.n_layers - 1):
        rows, k, cols = spec.units[l + 1], int(spec.k[l]), spec.units[l]
        Wl = W[spec.w_off[l] : spec.w_off[l + 1]].reshape(rows * k, cols)
        z = a @ Wl.T
        z += B[spec.b_off[l] : spec.b_off[l + 1]]
        a = activations.by_code(spec.act[l]).forward(z, k)
        ratio = spec.dropout[l]
        if ratio > 0.0:
            a *= a.dtype.type(1.0 - ratio)
        out.append(a)
    return out


def forward(
    spec: NetworkSpec,
    W: np.ndarray,
    B: np.ndarray,
    X: np.ndarray,
    offset: np.ndarray | None = None,
) -> np.ndarray:
    """Scoring-mode forward pass, in float64 (as H2O scores).

    The float32 weights are widened, so standalone scorers in double precision (Java,
    numpy) reproduce predictions to ~1e-12 whatever the scale of the response.

    Parameters
    ----------
    spec : NetworkSpec
    W, B : ndarray, float32
        Flat weight and bias buffers.
    X : ndarray of shape (n_samples, n_inputs), float32
        Transformed inputs (see :class:`~dask_deeplearn.preprocessing.DataInfo`).
    offset : ndarray of shape (n_samples,), optional
        Offsets in output (link) space, added to a linear output.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs), float64
        Class probabilities (softmax), the link-space output (linear) or the
        reconstruction of the transformed inputs (autoencoder).

    Notes
    -----
    Rows go through the network in chunks of :func:`~dask_deeplearn.memory.dense_scoring_rows`
    (one chunk unless the layers are wide), so the float64 layer buffers stay near
    :data:`~dask_deeplearn.memory.SCORING_BYTES`; every row is computed as it would be
    in one pass.
    """
    n = int(X.shape[0])
    step = dense_scoring_rows(spec, n)
    if step >= n:
        return _forward_rows(spec, W, B, X, offset)
    W64 = np.asarray(W, dtype=np.float64)  # widened once for every chunk
    B64 = np.asarray(B, dtype=np.float64)
    out = np.empty((n, spec.units[-1]), dtype=np.float64)
    for r0 in range(0, n, step):
        r1 = min(n, r0 + step)
        out[r0:r1] = _forward_rows(spec, W64, B64, X[r0:r1],
                                   None if offset is None else offset[r0:r1])
    return out


def _forward_rows(
    spec: NetworkSpec,
    W: np.ndarray,
    B: np.ndarray,
    X: np.ndarray,
    offset: np.ndarray | None,
) -> np.ndarray:
    """:func:`forward` of one chunk of rows, in one pass."""
    hidden = hidden_activations(spec, W, B, X, dtype=np.float64)
    a = hidden[-1] if hidden else np.ascontiguousarray(X, dtype=np.float64)
    l = spec.n_layers - 1
    rows, cols = spec.units[l + 1], spec.units[l]
    Wl = np.asarray(W[spec.w_off[l] : spec.w_off[l + 1]], dtype=np.float64).reshape(rows, cols)
    z = a @ Wl.T
    z += B[spec.b_off[l] : spec.b_off[l + 1]]
    if spec.output == "softmax":
        return activations.softmax(z, out=z)
    if spec.output == "autoencoder":
        return activations.by_code(spec.act[l]).forward(z)
    if offset is not None:
        z += np.asarray(offset, dtype=np.float64).reshape(-1, 1)
    return z
