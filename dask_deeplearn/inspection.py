"""Model inspection: Gedeon variable importance and H2O's "Status of Neuron Layers".

numpy + pandas only, following H2O's Deep Learning model output:

* :func:`gedeon_importances` computes one importance per expanded input from the first
  two weight matrices (Gedeon's method, H2O's variable importances);
* :func:`varimp_table` turns them into H2O's "Variable Importances" table (optionally
  aggregated back to the original columns);
* :func:`summary_table` / :func:`summary_title` build the model summary (H2O's "Status of
  Neuron Layers" table and its title line).

Differences from H2O
--------------------
1. Maxout: H2O reads the interleaved two-channel weight array as if it were a plain
   ``units x cols`` matrix (only its first half, with channels mixed up). Here each unit's
   ``|w|`` is the sum of ``|w|`` over its two channels.
2. Hashing (``max_categorical_features``): the table is named by hashed input slot
   (``hash.<i>``), so names are aligned (H2O's are not); the NA-slot zeroing is skipped
   because a hashed slot is shared by several one-hot indices.
3. A hidden unit (or next-layer unit) whose incoming weights are all zero contributes 0
   instead of H2O's ``0 / 0 = NaN``.
4. ADADELTA rates in the summary use exact square roots (H2O: a bit-trick approximation
   with ~3% error).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "gedeon_importances",
    "varimp_table",
    "summary_table",
    "summary_title",
    "constant_inputs",
    "SUMMARY_COLUMNS",
    "VARIMP_COLUMNS",
]

#: Columns of :func:`varimp_table`.
VARIMP_COLUMNS = ["variable", "relative_importance", "scaled_importance", "percentage"]

#: Columns of :func:`summary_table` ("Status of Neuron Layers").
SUMMARY_COLUMNS = [
    "layer",
    "units",
    "type",
    "dropout",
    "l1",
    "l2",
    "mean_rate",
    "rate_rms",
    "momentum",
    "mean_weight",
    "weight_rms",
    "mean_bias",
    "bias_rms",
]

# H2O's Java class names of the layers (``Neurons`` subclasses)
_LAYER_TYPES = {
    "Tanh": "Tanh",
    "TanhWithDropout": "TanhDropout",
    "Rectifier": "Rectifier",
    "RectifierWithDropout": "RectifierDropout",
    "Maxout": "Maxout",
    "MaxoutWithDropout": "MaxoutDropout",
}
_NO_DROPOUT = {
    "Tanh": "Tanh",
    "TanhWithDropout": "Tanh",
    "Rectifier": "Rectifier",
    "RectifierWithDropout": "Rectifier",
    "Maxout": "Maxout",
    "MaxoutWithDropout": "Maxout",
}


# --------------------------------------------------------------------------- importances
def _abs_matrix(spec: Any, W: np.ndarray, l: int) -> np.ndarray:
    """``|W_l|`` as a float32 ``(rows, cols)`` matrix; Maxout channels are summed."""
    w = np.abs(np.asarray(spec.layer_weights(np.asarray(W, dtype=np.float32), l), dtype=np.float32))
    if w.shape[1] == 1:
        return w[:, 0, :]
    return w.sum(axis=1, dtype=np.float32)


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` in float32 with ``x / 0 -> 0``."""
    den = np.asarray(den, dtype=np.float32)
    ok = den != 0
    return np.where(ok, num / np.where(ok, den, np.float32(1.0)), np.float32(0.0)).astype(np.float32)


def gedeon_importances(spec: Any, W: np.ndarray) -> np.ndarray:
    """Gedeon variable importance of every expanded input (H2O's variable importances).

    Without a hidden layer ``vi_i = sum_j |W0[j, i]|``. Otherwise only the first two weight
    matrices are used (input -> h1 and h1 -> next layer, the output layer when there is a
    single hidden layer)::

        S1_j = sum_i |W0[j, i]|            S2_k = sum_j |W1[k, j]|
        Q[i, k] = sum_j (|W0[j, i]| / S1_j) * (|W1[k, j]| / S2_k)
        Q[i, k] /= sum_i Q[i, k]
        vi_i = sum_k Q[i, k]

    and ``vi`` is scaled so that its maximum is 1. Arithmetic is float32, as in H2O. (The
    column normalisation only removes rounding: each column of ``Q`` already sums to 1.)

    Deliberate difference from H2O: for a Maxout layer the ``|w|`` of a unit is the sum
    of ``|w|`` over its two channels (H2O reads only the first half of the interleaved
    channel array, which mixes units and channels up). A zero row sum (a unit whose
    incoming weights are all zero) contributes 0 instead of NaN, and an all-zero result
    stays all zero.

    Parameters
    ----------
    spec : NetworkSpec
        Network layout (``units``, Maxout channels, weight offsets).
    W : ndarray of shape (spec.n_weights,)
        Flat weight buffer (``ModelState.W``).

    Returns
    -------
    ndarray of shape (spec.units[0],), float32
        One importance per expanded input, maximum 1 (unless all are 0). H2O reports 0
        for the NA slot of a categorical that never had a missing value; that needs the
        data layout and is done by :func:`varimp_table`.
    """
    W = np.asarray(W)
    if W.shape != (spec.n_weights,):
        raise ValueError(f"W must have shape ({spec.n_weights},) for this spec; got {W.shape}.")
    A0 = _abs_matrix(spec, W, 0)  # (h1, n_in)
    if spec.n_layers == 1:
        vi = A0.sum(axis=0, dtype=np.float32)
    else:
        A1 = _abs_matrix(spec, W, 1)  # (next, h1)
        S1 = A0.sum(axis=1, dtype=np.float32)  # (h1,)
        S2 = A1.sum(axis=1, dtype=np.float32)  # (next,)
        P0 = _safe_div(A0, S1[:, None])  # |W0[j, i]| / S1_j
        P1 = _safe_div(A1, S2[:, None])  # |W1[k, j]| / S2_k
        Q = (P0.T @ P1.T).astype(np.float32)  # (n_in, next)
        Q = _safe_div(Q, Q.sum(axis=0, dtype=np.float32)[None, :])
        vi = Q.sum(axis=1, dtype=np.float32)
    vi = vi.astype(np.float32)
    top = vi.max() if vi.size else np.float32(0.0)
    if top > 0:
        vi = (vi / top).astype(np.float32)
    return vi


def _na_slots_never_seen(data_info: Any) -> list[int]:
    """Input positions of the NA slots of categoricals without a missing value in training."""
    if data_info.hashing:
        return []
    seen = getattr(data_info, "cat_na_seen", None) or {}
    offs = np.asarray(data_info.cat_offsets, dtype=np.int64)
    return [int(offs[i + 1] - 1) for i, c in enumerate(data_info.cat_columns) if not seen.get(c, True)]


def _input_sources(data_info: Any) -> list[Any]:
    """The original column behind every expanded input (no hashing)."""
    sources: list[Any] = []
    offs = np.asarray(data_info.cat_offsets, dtype=np.int64)
    for i, c in enumerate(data_info.cat_columns):
        sources.extend([c] * int(offs[i + 1] - offs[i]))
    sources.extend(src for _, src, _ in data_info.num_sources)
    return sources


def _finish(variables: list[Any], rel: np.ndarray) -> pd.DataFrame:
    rel = np.asarray(rel, dtype=np.float64)
    top = rel.max() if rel.size else 0.0
    total = rel.sum()
    scaled = rel / top if top > 0 else np.zeros_like(rel)
    pct = rel / total if total > 0 else np.zeros_like(rel)
    order = np.argsort(-rel, kind="stable")
    return pd.DataFrame(
        {
            "variable": pd.Series([variables[i] for i in order], dtype=object),
            "relative_importance": rel[order],
            "scaled_importance": scaled[order],
            "percentage": pct[order],
        },
        columns=VARIMP_COLUMNS,
    )


def varimp_table(importances: np.ndarray, data_info: Any, aggregate: bool = False) -> pd.DataFrame:
    """H2O's "Variable Importances" table.

    The NA slot of every categorical whose missing value never occurred in training
    (``data_info.cat_na_seen``) is set to 0 first, as H2O does; then ``relative_importance`` is
    the importance, ``scaled_importance`` = relative / max and ``percentage`` =
    relative / sum (a fraction in [0, 1], as H2O's table). Rows are sorted by decreasing
    importance; ties keep the input order.

    Parameters
    ----------
    importances : array-like of shape (data_info.n_inputs,)
        One value per expanded input, e.g. from :func:`gedeon_importances`.
    data_info : DataInfo
        The fitted preprocessing plan (names, categorical blocks, numeric sources).
    aggregate : bool, default=False
        False: one row per expanded input (one-hot level, NA slot, numeric), named as
        ``data_info.input_names``. True: the relative importances of a categorical's
        levels and NA slot (and of the several numeric inputs made from one column by the
        Binary encoding) are summed into one row named by the original column; scaled
        importance and percentage are recomputed and the rows sorted again (ties in
        frame order).

    Returns
    -------
    pandas.DataFrame
        Columns ``variable, relative_importance, scaled_importance, percentage``.

    Raises
    ------
    ValueError
        ``importances`` does not have one value per input, or ``aggregate=True`` with
        ``max_categorical_features`` hashing (a hashed slot mixes levels of several
        columns, so it cannot be attributed to one).
    """
    vi = np.array(importances, dtype=np.float64).reshape(-1)
    n_inputs = int(data_info.n_inputs)
    if vi.shape[0] != n_inputs:
        raise ValueError(
            f"importances has {vi.shape[0]} values but the data layout has {n_inputs} inputs."
        )
    if aggregate and data_info.hashing:
        raise ValueError(
            "Cannot aggregate variable importances by original column: the model uses "
            "max_categorical_features hashing, so each hashed input mixes levels of several "
            "categorical columns. Use aggregate=False."
        )
    for slot in _na_slots_never_seen(data_info):
        vi[slot] = 0.0
    if not aggregate:
        return _finish(list(data_info.input_names), vi)

    sources = _input_sources(data_info)
    if len(sources) != n_inputs:  # pragma: no cover - layout invariant
        raise ValueError("The data layout's inputs do not match its columns.")
    sums: dict[Any, float] = {}
    for src, v in zip(sources, vi):
        sums[src] = sums.get(src, 0.0) + float(v)
    order = [c for c in data_info.used_columns if c in sums]
    order += [c for c in sums if c not in set(order)]
    return _finish(order, np.array([sums[c] for c in order], dtype=np.float64))


def constant_inputs(data_info: Any, aggregate: bool = False) -> list[Any]:
    """The inputs whose value never changed in training (what a varimp plot can hide).

    With ``ignore_const_cols=True`` (the default) constant columns are dropped before
    training and never reach the network; with ``ignore_const_cols=False`` they stay.
    Their weights then only move through regularisation, so their importance reflects
    the random initial weights, not the data. Constant inputs are: a numeric input whose
    training SD was 0 (or undefined), the NA slot of a categorical that had no missing
    value in training (its importance is 0, as in H2O), and the only level of a
    categorical with one level and no missing value. Near-constant inputs (a border pixel
    that is non-zero in a few images) vary, so they are not in this list.

    Parameters
    ----------
    data_info : DataInfo
        The fitted preprocessing plan.
    aggregate : bool, default=False
        False: expanded input names (``data_info.input_names``). True: original columns
        all of whose inputs are constant (the rows of ``varimp_table(aggregate=True)``).

    Returns
    -------
    list
        Names in input order.
    """
    names = list(data_info.input_names)
    constant = np.zeros(len(names), dtype=bool)
    sd = np.asarray(data_info.num_sd, dtype=np.float64)
    first_num = len(names) - len(data_info.num_columns)
    constant[first_num:] = ~(sd > 0)  # 0 or NaN
    if not data_info.hashing:
        constant[_na_slots_never_seen(data_info)] = True
        offs = np.asarray(data_info.cat_offsets, dtype=np.int64)
        seen = getattr(data_info, "cat_na_seen", None) or {}
        for i, c in enumerate(data_info.cat_columns):
            if offs[i + 1] - offs[i] == 2 and len(data_info.cat_levels[c]) == 1 \
                    and not seen.get(c, True):
                constant[offs[i]] = True
    if not aggregate:
        return [n for n, const in zip(names, constant) if const]
    if data_info.hashing:  # varimp_table refuses to aggregate a hashed layout
        return []
    every: dict[Any, bool] = {}
    for src, const in zip(_input_sources(data_info), constant):
        every[src] = every.get(src, True) and bool(const)
    return [c for c in data_info.used_columns if every.get(c, False)]


# --------------------------------------------------------------------------- summary
def _p(params: Mapping[str, Any], name: str, default: Any) -> Any:
    value = params.get(name, default)
    return default if value is None else value


def _momentum_at(n: float, mstart: float, mramp: float, mstable: float) -> float:
    """The documented linear momentum ramp (same formula as the training kernels)."""
    if mramp > 0.0 and n < mramp:
        return mstart + (mstable - mstart) * n / mramp
    return mstable


def _output_type(spec: Any) -> str:
    if spec.output == "softmax":
        return "Softmax"
    if spec.output == "linear":
        return "Linear"
    if spec.output == "autoencoder":
        return _NO_DROPOUT[spec.activation]
    raise ValueError(f"unknown output layer {spec.output!r}")


def _is_autoencoder(state: Any, data_info: Any) -> bool:
    return state.spec.output == "autoencoder" or getattr(data_info, "task", None) == "autoencoder"


def _format_bytes(n: int) -> str:
    """``541 B``, ``24.8 KB``, ``1.2 MB`` (binary units, one decimal, as H2O's PrettyPrint)."""
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024.0
        if value < 1024.0 or unit == "TB":
            return f"{value:.1f} {unit}"
    return f"{value:.1f} TB"  # pragma: no cover


def summary_title(state: Any, params: Mapping[str, Any], data_info: Any, n_classes: int | None) -> str:
    """The title line of H2O's model summary ("Status of Neuron Layers: ...").

    ``"predicting <response>, <K>-class classification | regression, <distribution>
    distribution, <loss> loss, <#params> weights/biases, <size>, <#samples> training
    samples, mini-batch size <m>"``; an autoencoder has no ``"predicting <response>, "``
    prefix and says ``auto-encoder``. ``<size>`` is the memory held by the model's
    weights, biases and optimiser state, e.g. ``"24.8 KB"``.

    Parameters
    ----------
    state : ModelState
    params : mapping
        Effective parameters (``distribution``, ``loss``, ``mini_batch_size``).
    data_info : DataInfo
    n_classes : int or None
        Number of classes (classification); None otherwise (taken from
        ``data_info.classes`` when None for a classifier).

    Returns
    -------
    str
    """
    spec = state.spec
    if _is_autoencoder(state, data_info):
        prefix, kind = "", "auto-encoder"
    else:
        prefix = f"predicting {data_info.response}, "
        if spec.output == "softmax" or getattr(data_info, "task", None) == "classification":
            if n_classes is None:
                n_classes = len(data_info.classes) if data_info.classes is not None else spec.units[-1]
            kind = f"{int(n_classes)}-class classification"
        else:
            kind = "regression"
    size = sum(int(np.asarray(a).nbytes) for a in (state.W, state.B, state.OW, state.OB))
    return (
        f"{prefix}{kind}, {_p(params, 'distribution', 'AUTO')} distribution, "
        f"{_p(params, 'loss', 'Automatic')} loss, "
        f"{spec.n_weights + spec.n_biases:,} weights/biases, {_format_bytes(size)}, "
        f"{int(state.processed):,} training samples, "
        f"mini-batch size {_p(params, 'mini_batch_size', 1)}"
    )


def summary_table(state: Any, params: Mapping[str, Any], data_info: Any) -> pd.DataFrame:
    """H2O's "Status of Neuron Layers" model summary, one row per layer.

    One row per layer, input layer included (``layer`` is 1-based):

    * ``units``: layer width (Maxout units, not channels); ``type``: H2O's layer class
      (Input, Rectifier, RectifierDropout, Tanh, TanhDropout, Maxout, MaxoutDropout,
      Softmax, Linear; an autoencoder's output layer has the hidden activation's
      non-dropout type);
    * ``dropout``: dropout ratio in percent (input and hidden layers; NaN for the output);
    * ``l1``, ``l2``: the penalties (every layer but the input);
    * ``mean_rate``, ``rate_rms``, ``momentum``: ADADELTA: mean and population SD of the
      per-weight rates ``sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps)`` (exact square roots)
      and momentum 0. Manual rate: ``rate * rate_decay**l / (1 + rate_annealing * n)``
      for the ``l``-th weight matrix (0-based) at ``n = state.processed`` samples, RMS 0,
      and the momentum of the documented linear ramp at ``n`` (the value the training
      kernels use);
    * ``mean_weight``, ``weight_rms``, ``mean_bias``, ``bias_rms``: mean and population SD
      of the layer's incoming weights (all Maxout channels) and biases.

    The input row has only ``layer, units, type, dropout``; the other columns are NaN.

    Parameters
    ----------
    state : ModelState
    params : mapping
        Effective parameters: ``l1``, ``l2``, ``adaptive_rate``, ``epsilon``, ``rate``,
        ``rate_annealing``, ``rate_decay``, ``momentum_start``, ``momentum_ramp``,
        ``momentum_stable`` (plus ``distribution``, ``loss``, ``mini_batch_size`` for the
        title). Dropout ratios are read from ``state.spec``.
    data_info : DataInfo

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`. ``df.attrs["title"]`` is :func:`summary_title`
        and ``df.attrs["unstable"]`` is ``state.unstable_reason()`` (None when stable).
    """
    spec = state.spec
    nan = float("nan")
    l1 = float(_p(params, "l1", 0.0))
    l2 = float(_p(params, "l2", 0.0))
    adaptive = bool(_p(params, "adaptive_rate", True))
    eps = float(_p(params, "epsilon", 1e-8))
    n = float(state.processed)
    rows: list[dict[str, Any]] = [
        {
            "layer": 1,
            "units": int(spec.units[0]),
            "type": "Input",
            "dropout": float(spec.input_dropout_ratio) * 100.0,
            **{c: nan for c in SUMMARY_COLUMNS[4:]},
        }
    ]
    OW = np.asarray(state.OW)
    if not adaptive:
        rate = float(_p(params, "rate", 0.005))
        annealing = float(_p(params, "rate_annealing", 1e-6))
        decay = float(_p(params, "rate_decay", 1.0))
        momentum = _momentum_at(
            n,
            float(_p(params, "momentum_start", 0.0)),
            float(_p(params, "momentum_ramp", 1e6)),
            float(_p(params, "momentum_stable", 0.0)),
        )
    for l in range(spec.n_layers):
        lo, hi = int(spec.w_off[l]), int(spec.w_off[l + 1])
        w = np.asarray(state.W[lo:hi], dtype=np.float64)
        b = np.asarray(state.B[int(spec.b_off[l]) : int(spec.b_off[l + 1])], dtype=np.float64)
        if adaptive:
            eg2 = OW[0, lo:hi].astype(np.float64)
            edx2 = OW[1, lo:hi].astype(np.float64)
            r = np.sqrt(edx2 + eps) / np.sqrt(eg2 + eps)
            mean_rate, rate_rms, mom = float(r.mean()), float(r.std()), 0.0
        else:
            mean_rate = rate * decay**l / (1.0 + annealing * n)
            rate_rms, mom = 0.0, float(momentum)
        is_output = l == spec.n_layers - 1
        rows.append(
            {
                "layer": l + 2,
                "units": int(spec.units[l + 1]),
                "type": _output_type(spec) if is_output else _LAYER_TYPES[spec.activation],
                "dropout": nan if is_output else float(spec.hidden_dropout_ratios[l]) * 100.0,
                "l1": l1,
                "l2": l2,
                "mean_rate": mean_rate,
                "rate_rms": rate_rms,
                "momentum": mom,
                "mean_weight": float(w.mean()),
                "weight_rms": float(w.std()),
                "mean_bias": float(b.mean()),
                "bias_rms": float(b.std()),
            }
        )
    df = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    df["layer"] = df["layer"].astype(np.int64)
    df["units"] = df["units"].astype(np.int64)
    n_classes = None
    if getattr(data_info, "task", None) == "classification" and data_info.classes is not None:
        n_classes = len(data_info.classes)
    df.attrs["title"] = summary_title(state, params, data_info, n_classes)
    df.attrs["unstable"] = state.unstable_reason()
    return df
