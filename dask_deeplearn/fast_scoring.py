"""Fused batch scoring: the first layer straight from category codes, never a dense ``X``.

numpy (and pandas for an offset column) only: imported by :mod:`dask_deeplearn.scorer`, so
on every Dask worker that scores; no Numba, no scikit-learn.

The dense path (``DataInfo.transform_X`` then ``network.forward``) builds a float32 matrix
``X`` with one one-hot block per categorical column and the scaled numerics, widens it to
float64 and multiplies it by the first weight matrix. A one-hot block holds at most one
1.0 (the active level; the NA slot for a missing or unseen value; nothing for the
reference level when ``use_all_factor_levels=False``), so, with ``W0T = W0.T``::

    X @ W0.T + b0  ==  b0 + sum_i W0T[cat_offsets[i] + slot_i] + num @ W0T[num_start:]

:class:`FusedNetwork` computes the right-hand side: one gather of first-layer weight rows
per row and categorical column (columns with few slots are grouped: a group's table holds
the summed rows of every combination of its columns' slots, the bias included in the
first group, so one gather per group), plus the numerics block, then the rest of the
network exactly as :func:`dask_deeplearn.network.forward` (float64, ``1 - ratio`` dropout
scaling, Maxout, softmax or linear + offset). The numerics are scaled, imputed and
rounded to float32 exactly as ``transform_X`` stores them, so the result equals the dense
path up to float64 summation order (~1e-15 relative). Rows go through the network in
chunks of at most :data:`CHUNK_ROWS` with preallocated buffers, so every intermediate
stays in cache and no large temporary is allocated per layer (fewer rows for a very wide
network: the buffers stay within :data:`dask_deeplearn.memory.SCORING_BYTES`).

:func:`fused_network` returns None, and the caller uses the dense path, for
``max_categorical_features`` hashing (several levels share an input there; not
implemented) and for autoencoders (their outputs need ``X`` itself). The categorical encodings need no special case: they
all arrive as level codes of a one-hot block or as numeric columns
(``DataInfo.scoring_inputs``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .memory import scoring_rows
from .kernels import activations

__all__ = ["CHUNK_ROWS", "FusedNetwork", "fused_network", "scoring_offset", "unsupported_reason"]

#: most rows per pass through the network; a pass takes fewer rows when a layer is wide,
#: so that a layer's float64 buffer stays near CHUNK_BYTES (measured on 2 cores: 4096 rows
#: for 32 units, 512 for 200: gemm efficiency against cache misses and per-pass overhead)
CHUNK_ROWS = 4096
CHUNK_BYTES = 1 << 20
MIN_CHUNK_ROWS = 256
#: largest joint table of a group of categorical columns (bytes); a single column always
#: gets its own table, whatever its size
MAX_TABLE_BYTES = 256 * 1024


def unsupported_reason(data_info: Any, state: Any) -> str | None:
    """Why the fused path cannot score this model (None when it can)."""
    spec = state.spec
    if bool(getattr(data_info, "hashing", False)):
        return "max_categorical_features hashing"
    if spec.output not in ("softmax", "linear"):
        return f"{spec.output} output"
    if not hasattr(data_info, "scoring_inputs"):
        return "DataInfo without scoring_inputs"
    cat_width = int(data_info.cat_offsets[-1])
    n_num = len(data_info.num_columns)
    if cat_width + n_num != int(spec.units[0]) or int(data_info.n_inputs) != int(spec.units[0]):
        return "input layout differs from the network's"
    if len(data_info.num_sources) != n_num or len(data_info.num_mul) != n_num:
        return "numeric layout"
    return None


def fused_network(data_info: Any, state: Any) -> "FusedNetwork | None":
    """The fused scorer of a model, or None when the dense path must be used."""
    if unsupported_reason(data_info, state) is not None:
        return None
    return FusedNetwork(data_info, state)


class FusedNetwork:
    """Float64 weight tables of one model, laid out for :meth:`forward`.

    Parameters
    ----------
    data_info : DataInfo
        Without hashing (see :func:`unsupported_reason`).
    state : ModelState
        Softmax or linear output.
    """

    def __init__(self, data_info: Any, state: Any) -> None:
        spec = state.spec
        W, B = state.W, state.B
        self.n_outputs = int(spec.units[-1])
        self.output = spec.output
        # ---- first layer (may also be the output layer when there is no hidden layer)
        rows0, k0 = int(spec.units[1]), int(spec.k[0])
        width0 = rows0 * k0
        W0T = np.ascontiguousarray(
            spec.layer_weights(W, 0).reshape(width0, int(spec.units[0])).T, dtype=np.float64)
        b0 = spec.layer_biases(B, 0).reshape(width0).astype(np.float64)
        self.width0 = width0
        self.b0 = b0
        # categorical blocks: per column, its rows of W0T (+ a zero row for the reference
        # level when use_all_factor_levels=False) and the code -> row rule
        offs = np.asarray(data_info.cat_offsets, dtype=np.int64)
        self.all_levels = bool(data_info.use_all_factor_levels)
        blocks, self.widths = [], []
        for i in range(len(offs) - 1):
            block = W0T[offs[i] : offs[i + 1]]
            if not self.all_levels:
                block = np.vstack([block, np.zeros((1, width0))])
            blocks.append(block)
            self.widths.append(int(offs[i + 1] - offs[i]))
        # groups of consecutive columns whose joint table stays small
        self.groups: list[tuple[list[int], list[int], np.ndarray]] = []
        limit = max(1, MAX_TABLE_BYTES // (8 * width0))
        i = 0
        while i < len(blocks):
            cols, sizes, table = [i], [blocks[i].shape[0]], blocks[i]
            if not self.groups:
                table = b0 + table  # the bias lives in the first table
            i += 1
            while i < len(blocks) and table.shape[0] * blocks[i].shape[0] <= limit:
                table = (table[:, None, :] + blocks[i][None, :, :]).reshape(-1, width0)
                cols.append(i)
                sizes.append(blocks[i].shape[0])
                i += 1
            self.groups.append((cols, sizes, np.ascontiguousarray(table)))
        # numerics: x' = (x - sub) * mul, missing -> (fill - sub) * mul, rounded to float32
        n_num = len(data_info.num_columns)
        self.n_num = n_num
        self.num_sub = np.asarray(data_info.num_sub, dtype=np.float64).reshape(n_num, 1)
        self.num_mul = np.asarray(data_info.num_mul, dtype=np.float64).reshape(n_num, 1)
        fill = np.asarray(data_info.num_fill, dtype=np.float64).reshape(n_num, 1)
        self.num_fill = (fill - self.num_sub) * self.num_mul  # as DataInfo._build_X
        self.WnumT = np.ascontiguousarray(W0T[offs[-1] :])
        # ---- the following layers: (W.T, bias, activation, k, dropout ratio), float64
        L = spec.n_layers
        self.act0, self.k0, self.ratio0 = int(spec.act[0]), k0, float(spec.dropout[0])
        self.layers = []
        for l in range(1, L):
            rows, k, cols = int(spec.units[l + 1]), int(spec.k[l]), int(spec.units[l])
            WT = np.ascontiguousarray(
                spec.layer_weights(W, l).reshape(rows * k, cols).T, dtype=np.float64)
            b = spec.layer_biases(B, l).reshape(rows * k).astype(np.float64)
            self.layers.append((WT, b, int(spec.act[l]), k, float(spec.dropout[l])))
        self.n_hidden = L - 1
        self.widest = max([width0] + [WT.shape[1] for WT, _, _, _, _ in self.layers])
        if self.layers:  # the output layer, (n_outputs, cols) and (n_outputs, 1): its dot
            # products are written straight into the transposed output
            self.Wo = np.ascontiguousarray(self.layers[-1][0].T)
            self.bo = self.layers[-1][1].reshape(-1, 1).copy()

    # ------------------------------------------------------------------ helpers
    def _group_rows(self, cat_codes: list[np.ndarray]) -> list[np.ndarray]:
        """Row of every group's table per frame row (int64)."""
        out = []
        for cols, sizes, _ in self.groups:
            j = None
            for c, size in zip(cols, sizes):
                code = np.asarray(cat_codes[c])
                na = self.widths[c] - 1  # the column's NA slot (missing or unseen value)
                if self.all_levels:
                    r = np.where(code >= 0, code, na)
                else:  # level 0 is the reference (no active input): the zero row
                    r = np.where(code > 0, code - 1, np.where(code == 0, size - 1, na))
                if j is None:
                    j = r.astype(np.int64)
                else:
                    j *= size
                    j += r
            out.append(j)
        return out

    @staticmethod
    def _activate(z: np.ndarray, act: int, k: int, ratio: float, buf: np.ndarray | None
                  ) -> np.ndarray:
        """A hidden layer's activation, in place (Maxout into ``buf``), dropout-scaled.

        As ``network.hidden_activations``: the registry's activation of code ``act``
        (Maxout, the max over the ``k`` channels ``z[:, r * k + c]``, is written into
        ``buf``, every other one over ``z``); dropout layers are multiplied by
        ``1 - ratio``.
        """
        m = z.shape[0]
        a = activations.by_code(act).forward(z, k, out=buf[:m] if k > 1 else z)
        if ratio > 0.0:
            a *= np.float64(1.0 - ratio)
        return a

    # ------------------------------------------------------------------ scoring
    def forward(self, cat_codes: list[np.ndarray], num_values: list[np.ndarray],
                offset: np.ndarray | None = None) -> np.ndarray:
        """The network output of every row, transposed.

        Parameters
        ----------
        cat_codes, num_values : list of ndarray
            ``DataInfo.scoring_inputs(frame)``: per categorical column the level index
            (-1 missing or unseen), per numeric input the raw float64 value (NaN missing).
        offset : ndarray of shape (n,), float64, optional
            Offsets in network output space (a linear output only), rounded to float32
            as the dense path stores them.

        Returns
        -------
        ndarray of shape (n_outputs, n), float64, C-contiguous
            ``forward(spec, W, B, transform_X(frame), offset).T``: probabilities (softmax)
            or link-space outputs (linear).
        """
        if cat_codes:
            n = len(cat_codes[0])
        elif num_values:
            n = len(num_values[0])
        else:
            raise ValueError("a network without inputs")
        out = np.empty((self.n_outputs, n), dtype=np.float64)
        if n == 0:
            return out
        C = min(CHUNK_ROWS, n, max(MIN_CHUNK_ROWS, CHUNK_BYTES // (8 * self.widest)))
        # and never more than SCORING_BYTES of float64 buffers (a very wide network)
        C = min(C, scoring_rows([3 * self.width0, 2 * self.n_num,
                                 *(2 * WT.shape[1] for WT, *_ in self.layers[:-1])], n))
        group_rows = self._group_rows(cat_codes)
        nums = [np.asarray(v, dtype=np.float64) for v in num_values]
        # buffers, one set per call (calls may run in parallel threads)
        w0, n_num = self.width0, self.n_num
        Z0 = np.empty((C, w0))
        T0 = np.empty((C, w0)) if len(self.groups) > 1 or (self.groups and n_num) else None
        XB = np.empty((n_num, C))
        X32 = np.empty((n_num, C), dtype=np.float32)
        NB = np.empty((n_num, C), dtype=bool)
        M0 = np.empty((C, w0 // self.k0)) if self.k0 > 1 else None
        hidden = self.layers[:-1]
        bufs = [(np.empty((C, WT.shape[1])), np.empty((C, WT.shape[1] // k)) if k > 1 else None)
                for WT, _, _, k, _ in hidden]
        for r0 in range(0, n, C):
            r1 = min(n, r0 + C)
            m = r1 - r0
            # ---- first layer, fused: numerics block + gathered categorical rows + bias
            z = Z0[:m]
            if n_num:
                xb = XB[:, :m]
                np.stack([v[r0:r1] for v in nums], out=xb)
                nb = np.isnan(xb, out=NB[:, :m])
                np.subtract(xb, self.num_sub, out=xb)
                np.multiply(xb, self.num_mul, out=xb)
                np.copyto(xb, self.num_fill, where=nb)
                x32 = X32[:, :m]
                np.copyto(x32, xb, casting="same_kind")  # the dense X is float32
                np.copyto(xb, x32)
                np.matmul(xb.T, self.WnumT, out=z)
                g0 = 0
            else:
                np.take(self.groups[0][2], group_rows[0][r0:r1], axis=0, out=z, mode="clip")
                g0 = 1
            for g in range(g0, len(self.groups)):
                t = T0[:m]
                np.take(self.groups[g][2], group_rows[g][r0:r1], axis=0, out=t, mode="clip")
                z += t
            if not self.groups:
                z += self.b0
            blk = out[:, r0:r1]
            if self.n_hidden == 0:
                np.copyto(blk, z.T)
            else:
                # ---- hidden layers, then the output layer written transposed
                a = self._activate(z, self.act0, self.k0, self.ratio0, M0)
                for (WT, b, act, k, ratio), (Z, M) in zip(hidden, bufs):
                    z = np.matmul(a, WT, out=Z[:m])
                    z += b
                    a = self._activate(z, act, k, ratio, M)
                np.matmul(self.Wo, a.T, out=blk)
                blk += self.bo
            if self.output == "softmax":  # blk holds one row per column
                activations.softmax(blk, out=blk, axis=0)
            elif offset is not None:
                blk += offset[r0:r1]
        return out


def scoring_offset(data_info: Any, frame: Any) -> np.ndarray | None:
    """The offsets of ``frame`` as the dense path uses them, or None to use the dense path.

    ``DataInfo.transform(frame, training=False)`` reads the offset column as float64,
    moves it to network space (``(o - response_mean) / response_sd`` when the response is
    standardised) and stores it as float32; ``forward`` widens it again. None (the caller
    then takes the dense path, which gives the same result or raises the same error) when
    the frame holds the response or weights column (``transform`` checks and may drop
    rows for them), or when the offset column is absent, not a plain numeric column, or
    has a missing or infinite value.
    """
    import pandas as pd

    col = data_info.offset_column
    if col is None or col not in frame.columns:
        return None
    for other in (data_info.response, data_info.weights_column):
        if other is not None and other in frame.columns:
            return None
    series = frame[col]
    dtype = series.dtype
    if (not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
            or pd.api.types.is_complex_dtype(dtype)):
        return None
    o = series.to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(o).all():
        return None
    if data_info.response_mean is not None:
        o = (o - data_info.response_mean) / data_info.response_sd
    return o.astype(np.float32).astype(np.float64)
