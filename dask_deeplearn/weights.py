"""Weights and biases as data frames, user initial weights and pretrained autoencoders.

numpy + pandas only.

* :func:`weights_frames` exports every layer as H2O's ``export_weights_and_biases`` does:
  one weights frame per layer (rows = receiving units, columns = sending units; layer 0's
  columns named by the expanded input names, deeper layers' ``C1..Cn``) and one
  one-column (``C1``) biases frame per layer.
* :func:`apply_initial_weights` overrides the random initialisation with user
  ``initial_weights`` / ``initial_biases``, accepting those frames back.
* :func:`transfer_pretrained` copies the hidden layers of a trained autoencoder into a fresh
  model (H2O's ``pretrained_autoencoder``).

Layer ``l`` (``l = 0 .. L``) is the weight matrix that feeds layer ``l + 1`` from layer
``l``; ``units = spec.units``, ``rows = units[l + 1]``, ``cols = units[l]``.

Maxout representation
---------------------
A Maxout hidden layer has ``k = 2`` channels per unit (H2O's fixed two). Its weights frame
has ``2 * rows`` rows and ``cols`` columns, and its biases frame ``2 * rows`` rows: **row
``2 * r + c`` holds unit ``r``, channel ``c``** (``c`` in ``{0, 1}``). This is H2O's
channel-interleaved order flattened per receiving row (H2O's flat weight index
``2 * (r * cols + j) + c`` is the element ``[2 * r + c, j]`` here; its bias index ``2 * r + c``
is row ``2 * r + c``), and it is exactly the internal layout
``spec.layer_weights(W, l).reshape(2 * rows, cols)``. The same shape is what
:func:`apply_initial_weights` expects for a Maxout layer. All other layers have ``rows``
rows.

Input names
-----------
Layer 0's columns are :attr:`DataInfo.input_names <dask_deeplearn.preprocessing.DataInfo>`,
which follow H2O's ``coefNames``: ``col.level`` for each one-hot level,
``col.missing(NA)`` for each categorical's missing slot, then the numeric column names. A
layer-0 frame exported by H2O can therefore be matched by name, whatever its column order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dask_deeplearn.exceptions import InvalidParameterError
from dask_deeplearn.network import ModelState, NetworkSpec

if TYPE_CHECKING:  # pragma: no cover
    from dask_deeplearn.preprocessing import DataInfo

__all__ = ["weights_frames", "apply_initial_weights", "transfer_pretrained"]

#: how many names an error message lists before eliding the rest
_SHOW = 6


# --------------------------------------------------------------------------- helpers


def _shape_2d(spec: NetworkSpec, l: int) -> tuple[int, int]:
    """Exported shape ``(k * rows, cols)`` of weight matrix ``l``."""
    return int(spec.k[l]) * spec.units[l + 1], spec.units[l]


def _layer_desc(spec: NetworkSpec, l: int) -> str:
    """Human-readable description of weight matrix ``l`` (``inputs -> hidden layer 1``)."""
    n_hidden = spec.n_layers - 1
    src = "inputs" if l == 0 else f"hidden layer {l}"
    dst = "output layer" if l == n_hidden else f"hidden layer {l + 1}"
    maxout = "; Maxout, row 2*r + c = unit r, channel c" if int(spec.k[l]) == 2 else ""
    return f"{src} -> {dst}{maxout}"


def _fmt_names(names: Sequence[Any]) -> str:
    shown = ", ".join(repr(n) for n in list(names)[:_SHOW])
    more = len(names) - _SHOW
    return f"[{shown}{f', ... ({more} more)' if more > 0 else ''}]"


def _input_names(spec: NetworkSpec, data_info: DataInfo | None) -> list[str] | None:
    """Layer-0 column names from ``data_info``, checked against the network width."""
    if data_info is None:
        return None
    names = [str(n) for n in data_info.input_names]
    if len(names) != spec.units[0]:
        raise InvalidParameterError(
            f"data_info has {len(names)} expanded inputs but the network has "
            f"{spec.units[0]} input units; they do not describe the same model."
        )
    return names


def _c_names(n: int) -> list[str]:
    return [f"C{j + 1}" for j in range(n)]


def _check_list(value: Any, param: str, n_layers: int) -> list[Any]:
    """Validate one of the ``initial_*`` lists; ``None`` means all ``None``."""
    if value is None:
        return [None] * n_layers
    if not isinstance(value, (list, tuple)):
        raise InvalidParameterError(
            f"{param} must be a list with one entry (array, DataFrame or None) per weight "
            f"layer, i.e. {n_layers} entries; got {type(value).__name__}."
        )
    if len(value) != n_layers:
        raise InvalidParameterError(
            f"{param} has {len(value)} entries but the network has {n_layers} weight "
            f"layers (hidden layers + 1); give one entry per layer (None keeps the random "
            f"initialisation)."
        )
    return list(value)


def _to_float(values: Any, where: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{where} must hold numbers: {exc}") from None
    return arr


def _check_finite(arr32: np.ndarray, where: str) -> None:
    bad = ~np.isfinite(arr32)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InvalidParameterError(
            f"{where} has {int(bad.sum())} non-finite value(s) (NaN, inf, or beyond the "
            f"float32 range), the first at position {idx}."
        )


def _weights_array(
    entry: Any, l: int, spec: NetworkSpec, names: list[str] | None
) -> np.ndarray:
    """``initial_weights[l]`` as a float32 ``(k * rows, cols)`` array in input order."""
    where = f"initial_weights[{l}]"
    expected = _shape_2d(spec, l)
    if isinstance(entry, pd.DataFrame):
        frame = entry
        by_name = (
            l == 0
            and names is not None
            and not (
                isinstance(frame.columns, pd.RangeIndex)
                and frame.columns.start == 0
                and frame.columns.step == 1
            )
        )
        if by_name:
            assert names is not None
            frame = _match_columns(frame, names, where)
        values = _to_float(frame.to_numpy(), where)
    else:
        values = _to_float(entry, where)
    if values.shape != expected:
        rows_note = " (2 rows per Maxout unit)" if int(spec.k[l]) == 2 else ""
        raise InvalidParameterError(
            f"{where} has shape {values.shape} but layer {l} ({_layer_desc(spec, l)}) "
            f"expects shape {expected}: rows = receiving units{rows_note}, columns = "
            f"sending units."
        )
    with np.errstate(over="ignore"):  # beyond float32 -> inf, reported just below
        out = values.astype(np.float32)
    _check_finite(out, where)
    return out


def _match_columns(frame: pd.DataFrame, names: list[str], where: str) -> pd.DataFrame:
    """Reorder a layer-0 frame's columns to ``names`` (matching by name)."""
    cols = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise InvalidParameterError(
            f"{where}: cannot match columns by name because the model's input names are "
            f"not unique ({_fmt_names(dup)}); pass a numpy array in input order instead."
        )
    if len(set(cols)) != len(cols):
        dup = sorted({c for c in cols if cols.count(c) > 1})
        raise InvalidParameterError(f"{where} has duplicate column names {_fmt_names(dup)}.")
    have, want = set(cols), set(names)
    missing = [n for n in names if n not in have]
    extra = [c for c in cols if c not in want]
    if missing or extra:
        parts = []
        if missing:
            parts.append(
                f"{len(missing)} expected input column(s) are missing: {_fmt_names(missing)}"
            )
        if extra:
            parts.append(f"{len(extra)} column(s) are not model inputs: {_fmt_names(extra)}")
        raise InvalidParameterError(
            f"{where}: the columns do not match the model's expanded inputs; "
            f"{'; '.join(parts)}. Expected the {len(names)} columns of "
            f"data_info.input_names (any order): {_fmt_names(names)}."
        )
    renamed = frame.set_axis(cols, axis=1)
    return renamed[names]


def _biases_array(entry: Any, l: int, spec: NetworkSpec) -> np.ndarray:
    """``initial_biases[l]`` as a float32 ``(k * rows,)`` array."""
    where = f"initial_biases[{l}]"
    n = _shape_2d(spec, l)[0]
    if isinstance(entry, (pd.DataFrame, pd.Series)):
        values = _to_float(entry.to_numpy(), where)
    else:
        values = _to_float(entry, where)
    if values.shape not in ((n,), (n, 1)):
        rows_note = " (2 per Maxout unit)" if int(spec.k[l]) == 2 else ""
        raise InvalidParameterError(
            f"{where} has shape {values.shape} but layer {l} ({_layer_desc(spec, l)}) "
            f"expects shape ({n},) or ({n}, 1): one bias per receiving unit{rows_note}."
        )
    with np.errstate(over="ignore"):
        out = values.reshape(n).astype(np.float32)
    _check_finite(out, where)
    return out


# --------------------------------------------------------------------------- public API


def weights_frames(
    state: ModelState, data_info: DataInfo | None = None
) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """Every layer's weights and biases as data frames (H2O ``export_weights_and_biases``).

    Parameters
    ----------
    state : ModelState
        The model's weights and biases.
    data_info : DataInfo, optional
        Names layer 0's columns (``data_info.input_names``, H2O's coefficient names). Without
        it layer 0's columns are ``C1..Cn`` like the deeper layers'.

    Returns
    -------
    weights : list of pandas.DataFrame
        One per weight layer ``l = 0 .. L``, float32, shape ``(k * units[l + 1], units[l])``:
        rows = receiving units, columns = sending units. A Maxout layer has two rows per
        unit, row ``2 * r + c`` = unit ``r``, channel ``c`` (see the module docstring).
    biases : list of pandas.DataFrame
        One per weight layer, float32, a single column ``C1`` with ``k * units[l + 1]`` rows
        in the same row order.

    Raises
    ------
    InvalidParameterError
        If ``data_info`` does not have ``units[0]`` expanded inputs.

    Notes
    -----
    The frames hold copies; :func:`apply_initial_weights` reads them back exactly.
    """
    spec = state.spec
    names = _input_names(spec, data_info)
    weights: list[pd.DataFrame] = []
    biases: list[pd.DataFrame] = []
    for l in range(spec.n_layers):
        n_rows, n_cols = _shape_2d(spec, l)
        w = spec.layer_weights(state.W, l).reshape(n_rows, n_cols).copy()
        b = spec.layer_biases(state.B, l).reshape(n_rows, 1).copy()
        cols = names if (l == 0 and names is not None) else _c_names(n_cols)
        weights.append(pd.DataFrame(w, columns=list(cols), copy=False))
        biases.append(pd.DataFrame(b, columns=["C1"], copy=False))
    return weights, biases


def apply_initial_weights(
    state: ModelState,
    data_info: DataInfo | None,
    initial_weights: Sequence[Any] | None,
    initial_biases: Sequence[Any] | None,
) -> ModelState:
    """Override the initial weights and biases with user-given ones (as H2O does).

    Parameters
    ----------
    state : ModelState
        The randomly initialised state (:func:`~dask_deeplearn.network.init_state`).
    data_info : DataInfo or None
        Used to match a layer-0 weights DataFrame to the expanded inputs by column name.
        With None, every entry is taken by position.
    initial_weights : list or None
        One entry per weight layer (``spec.n_layers`` = hidden layers + 1). Each entry is
        None (keep the random initialisation), a numpy array (or array-like) or a DataFrame of
        shape ``(k * units[l + 1], units[l])`` (rows = receiving units, columns = sending
        units; Maxout: row ``2 * r + c`` = unit ``r``, channel ``c``). A layer-0 DataFrame
        whose columns are labelled (not a default ``RangeIndex``) is matched to
        ``data_info.input_names`` by name, in any order, and must have exactly those
        columns; arrays, unlabelled frames and deeper layers are taken by position. None
        means no entry is given.
    initial_biases : list or None
        One entry per weight layer, None or of shape ``(k * units[l + 1],)``,
        ``(k * units[l + 1], 1)`` or a one-column DataFrame / a Series.

    Returns
    -------
    ModelState
        A new state (arrays copied; ``state`` is not modified). The given layers are
        replaced (cast to float32); the optimiser state and ``processed`` are copied
        unchanged (all zero for a fresh state).

    Raises
    ------
    InvalidParameterError
        (a :class:`ValueError`) if a list does not have one entry per layer, if only one of
        ``initial_weights[l]`` / ``initial_biases[l]`` is given (H2O needs both), if a shape
        is wrong (the message names the entry, the layer, the given and the expected shape),
        if layer-0 column names do not match the model inputs, or if a value is not finite.
    """
    spec = state.spec
    n = spec.n_layers
    w_list = _check_list(initial_weights, "initial_weights", n)
    b_list = _check_list(initial_biases, "initial_biases", n)
    names = _input_names(spec, data_info)
    new_w: dict[int, np.ndarray] = {}
    new_b: dict[int, np.ndarray] = {}
    for l in range(n):
        w_entry, b_entry = w_list[l], b_list[l]
        if w_entry is None and b_entry is None:
            continue
        if w_entry is None or b_entry is None:
            given, other = (
                ("initial_weights", "initial_biases") if b_entry is None
                else ("initial_biases", "initial_weights")
            )
            raise InvalidParameterError(
                f"{given}[{l}] is given but {other}[{l}] is None: as in H2O, the weights and "
                f"biases of layer {l} ({_layer_desc(spec, l)}) must be given together."
            )
        new_w[l] = _weights_array(w_entry, l, spec, names)
        new_b[l] = _biases_array(b_entry, l, spec)
    out = state.copy()
    for l, w in new_w.items():
        out.W[spec.w_off[l] : spec.w_off[l + 1]] = w.reshape(-1)
        out.B[spec.b_off[l] : spec.b_off[l + 1]] = new_b[l]
    return out


def transfer_pretrained(state: ModelState, pretrained_state: ModelState) -> ModelState:
    """Initialise the hidden layers from a pretrained autoencoder (as H2O does).

    Weight matrices ``0 .. L - 1`` (every layer but the output layer) and the hidden biases
    are copied from the autoencoder; the output layer's weights stay as in ``state`` (the
    random initialisation) and its biases are set to 0. Like H2O, activations and input
    scaling are not compared, only the shapes.

    Parameters
    ----------
    state : ModelState
        The freshly initialised supervised model.
    pretrained_state : ModelState
        The autoencoder's state (its output layer reconstructs the inputs and is ignored).

    Returns
    -------
    ModelState
        A new state with zero optimiser state and ``processed = 0``.

    Raises
    ------
    InvalidParameterError
        (a :class:`ValueError`) if the numbers of hidden layers differ or a copied layer's
        weights have a different shape; the message names the layer and both shapes.
    """
    if not isinstance(pretrained_state, ModelState):
        raise InvalidParameterError(
            f"pretrained_autoencoder must provide a ModelState; got "
            f"{type(pretrained_state).__name__}."
        )
    spec, ae = state.spec, pretrained_state.spec
    n_hidden, ae_hidden = spec.n_layers - 1, ae.n_layers - 1
    if n_hidden != ae_hidden:
        raise InvalidParameterError(
            f"pretrained_autoencoder: the autoencoder has {ae_hidden} hidden layer(s) "
            f"{tuple(ae.units[1:-1])} but this model has {n_hidden} {tuple(spec.units[1:-1])}; "
            f"the hidden layers must match."
        )
    for l in range(n_hidden):
        a_shape, b_shape = _shape_2d(ae, l), _shape_2d(spec, l)
        if a_shape != b_shape:
            hint = ""
            if l == 0 and ae.units[0] != spec.units[0]:
                hint = (
                    f" (the input widths differ, {ae.units[0]} vs {spec.units[0]}: train both "
                    f"on the same columns with the same use_all_factor_levels)"
                )
            raise InvalidParameterError(
                f"pretrained_autoencoder: layer {l} ({_layer_desc(spec, l)}) weights have "
                f"shape {a_shape} in the autoencoder but {b_shape} in this model{hint}."
            )
    W = state.W.copy()
    B = state.B.copy()
    w_end, b_end = int(spec.w_off[n_hidden]), int(spec.b_off[n_hidden])
    W[:w_end] = pretrained_state.W[: int(ae.w_off[n_hidden])]
    B[:b_end] = pretrained_state.B[: int(ae.b_off[n_hidden])]
    B[b_end:] = 0.0
    return ModelState(
        spec=spec,
        W=W,
        B=B,
        OW=np.zeros_like(state.OW),
        OB=np.zeros_like(state.OB),
        processed=0,
    )
