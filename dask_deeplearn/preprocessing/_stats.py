"""One-pass column statistics: per-partition partials and their exact-enough merge.

:func:`partition_stats` runs on one pandas frame (a whole pandas input, or one Dask
partition) and returns small partials; :func:`combine_stats` merges any number of them.
A pandas fit is ``combine_stats([partition_stats(df)])``; a Dask fit builds the same two
steps as delayed tasks and runs them in one ``dask.compute``, so both paths share every
formula. Means and second moments are merged with Chan's parallel update, so the results
agree to rounding (about 1e-15 relative) whatever the partitioning.

Moments (``n``, ``W``, ``mean``, ``M2``) are taken over rows with a finite value and, when
a weight is given, a weight ``> 0``; ``min``/``max`` over every finite value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._columns import column_matrix, plain_groups
from ._columns import numeric_float64 as _to_float
from .encodings import to_python_scalar

__all__ = ["StatsPlan", "partition_stats", "combine_stats", "NumStats", "moments_variance"]

# layout of a numeric accumulator
_N, _W, _MEAN, _M2, _MIN, _MAX, _NMISS, _NINF = range(8)

#: float64 values worked on at once by the vectorised statistics (8 MB)
_CHUNK = 1 << 20


@dataclass(frozen=True)
class StatsPlan:
    """What to compute in the statistics pass (column names only; picklable)."""

    numeric: tuple = ()
    categorical: tuple = ()
    response: Any = None
    response_kind: str | None = None  # "numeric" | "categorical" | None
    weights: Any = None
    weighted_moments: bool = False
    offset: Any = None
    level_response: tuple = ()  # categorical columns that need per-level response sums


@dataclass
class NumStats:
    """Final statistics of one numeric column."""

    n: int
    wsum: float
    mean: float
    sd: float
    min: float
    max: float
    n_missing: int
    n_inf: int


def moments_variance(n: float, wsum: float, m2: float) -> float:
    """H2O's weighted sample variance ``n / (n - 1) * M2 / W`` (0 when ``n <= 1``).

    ``n`` counts rows, ``W`` sums their weights and ``M2 = sum w (x - mean)^2``. Without
    weights (``W == n``) this is the usual ``M2 / (n - 1)``.
    """
    if n <= 1 or wsum <= 0:
        return 0.0
    return float(n / (n - 1.0) * m2 / wsum)


def _num_acc(x: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    isnan = np.isnan(x)
    isinf = np.isinf(x)
    finite = ~(isnan | isinf)
    acc = np.zeros(8)
    acc[_NMISS] = isnan.sum()
    acc[_NINF] = isinf.sum()
    if finite.any():
        xf = x[finite]
        acc[_MIN] = xf.min()
        acc[_MAX] = xf.max()
    else:
        acc[_MIN] = np.nan
        acc[_MAX] = np.nan
    if w is None:
        xs = x[finite]
        n = xs.shape[0]
        acc[_N] = n
        acc[_W] = n
        if n:
            mean = xs.mean()
            acc[_MEAN] = mean
            acc[_M2] = np.square(xs - mean).sum()
    else:
        sel = finite & (w > 0)
        xs = x[sel]
        ws = w[sel]
        acc[_N] = xs.shape[0]
        wsum = ws.sum()
        acc[_W] = wsum
        if wsum > 0:
            mean = np.dot(ws, xs) / wsum
            acc[_MEAN] = mean
            acc[_M2] = np.dot(ws, np.square(xs - mean))
    return acc


def _num_acc_rows(V: np.ndarray) -> np.ndarray:
    """:func:`_num_acc` without weights of every row of ``V`` (one column per row).

    Rows are C-contiguous, so each row's sums are numpy's pairwise sums of the same values
    in the same order as the one-column function: the results are identical. Rows with a
    missing or infinite value are left to the one-column function.
    """
    k, n = V.shape
    acc = np.zeros((k, 8))
    acc[:, _N] = n
    acc[:, _W] = n
    with np.errstate(invalid="ignore"):  # rows with inf: replaced below
        mean = V.mean(axis=1)
        acc[:, _MEAN] = mean
        acc[:, _M2] = np.square(V - mean[:, None]).sum(axis=1)
    acc[:, _MIN] = V.min(axis=1)
    acc[:, _MAX] = V.max(axis=1)
    for i in np.flatnonzero(~np.isfinite(V).all(axis=1)):
        acc[i] = _num_acc(V[i], None)
    return acc


def _num_accs(pdf: pd.DataFrame, cols: tuple, w: np.ndarray | None) -> dict:
    """:func:`_num_acc` of every column of ``cols``.

    Without weights, columns of a plain numeric dtype are read as 2-D arrays and summed a
    chunk of columns at a time (:func:`_num_acc_rows`): no Python loop over columns, and
    the work is in large numpy operations that release the GIL (two threads of a worker
    run them in parallel). Other columns, and weighted moments, go one column at a time.
    """
    out: dict[Any, np.ndarray] = {}
    n = len(pdf)
    if w is None and n:
        step = max(1, _CHUNK // n)
        for group in plain_groups(pdf, cols):
            A = column_matrix(pdf, group)
            for a in range(0, len(group), step):
                V = A[:, a : a + step].T.astype(np.float64)  # (k, n), C-contiguous rows
                out.update(zip(group[a : a + step], _num_acc_rows(V)))
    return {c: out[c] if c in out else _num_acc(_to_float(pdf[c]), w) for c in cols}


def _merge_num(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.empty(8)
    out[_N] = a[_N] + b[_N]
    wsum = a[_W] + b[_W]
    out[_W] = wsum
    if a[_W] == 0:
        out[_MEAN], out[_M2] = b[_MEAN], b[_M2]
    elif b[_W] == 0:
        out[_MEAN], out[_M2] = a[_MEAN], a[_M2]
    else:
        d = b[_MEAN] - a[_MEAN]
        out[_MEAN] = a[_MEAN] + d * (b[_W] / wsum)
        out[_M2] = a[_M2] + b[_M2] + d * d * (a[_W] * b[_W] / wsum)
    out[_MIN] = np.fmin(a[_MIN], b[_MIN])
    out[_MAX] = np.fmax(a[_MAX], b[_MAX])
    out[_NMISS] = a[_NMISS] + b[_NMISS]
    out[_NINF] = a[_NINF] + b[_NINF]
    return out


def _final_num(acc: np.ndarray) -> NumStats:
    return NumStats(
        n=int(acc[_N]),
        wsum=float(acc[_W]),
        mean=float(acc[_MEAN]),
        sd=float(np.sqrt(moments_variance(acc[_N], acc[_W], acc[_M2]))),
        min=float(acc[_MIN]),
        max=float(acc[_MAX]),
        n_missing=int(acc[_NMISS]),
        n_inf=int(acc[_NINF]),
    )


def _factorize(series: pd.Series) -> tuple[np.ndarray, list, list | None]:
    """Codes (-1 = missing), distinct values (python scalars), categories (or None)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        cats = [to_python_scalar(v) for v in series.cat.categories.tolist()]
        return series.cat.codes.to_numpy().astype(np.int64), cats, cats
    codes, uniq = pd.factorize(series, use_na_sentinel=True)
    return codes.astype(np.int64), [to_python_scalar(v) for v in list(uniq)], None


def _cat_acc(series: pd.Series, w: np.ndarray | None) -> dict:
    codes, values, cats = _factorize(series)
    d = len(values)
    ok = codes >= 0
    c = codes[ok]
    cnt = np.bincount(c, minlength=d).astype(np.int64)
    if w is None:
        cnt_pos = cnt.copy()
        wsum = cnt.astype(np.float64)
        n_miss = int((~ok).sum())
        na_pos, na_w = n_miss, float(n_miss)
    else:
        pos = w > 0  # NaN weight -> False
        okp = ok & pos
        cnt_pos = np.bincount(codes[okp], minlength=d).astype(np.int64)
        wsum = np.bincount(codes[okp], weights=w[okp], minlength=d)
        n_miss = int((~ok).sum())
        nap = ~ok & pos
        na_pos, na_w = int(nap.sum()), float(w[nap].sum())
    return {
        "values": values,
        "cats": cats,
        "cnt": cnt,
        "cnt_pos": cnt_pos,
        "wsum": wsum,
        "n_missing": n_miss,
        "na_cnt_pos": na_pos,
        "na_wsum": na_w,
    }


def _level_response_acc(
    series: pd.Series, y: pd.Series, kind: str, w: np.ndarray | None
) -> dict:
    codes, values, _ = _factorize(series)
    if kind == "numeric":
        yv = _to_float(y)
        sel = (codes >= 0) & np.isfinite(yv)
        if w is not None:
            sel &= w > 0
        ww = np.ones(sel.sum()) if w is None else w[sel]
        d = len(values)
        return {
            "values": values,
            "sum": np.bincount(codes[sel], weights=ww * yv[sel], minlength=d),
            "wsum": np.bincount(codes[sel], weights=ww, minlength=d),
        }
    ycodes, yvalues, _ = _factorize(y)
    sel = (codes >= 0) & (ycodes >= 0)
    if w is not None:
        sel &= w > 0
    ww = np.ones(sel.sum()) if w is None else w[sel]
    k = max(len(yvalues), 1)
    comb = codes[sel] * k + ycodes[sel]
    tab = np.bincount(comb, weights=ww, minlength=len(values) * k).reshape(len(values), k)
    pairs = {}
    for i, j in zip(*np.nonzero(tab)):
        pairs[(values[i], yvalues[j])] = float(tab[i, j])
    return {"pairs": pairs}


def partition_stats(pdf: pd.DataFrame, plan: StatsPlan) -> dict:
    """Partial statistics of one pandas frame (a whole frame or one partition).

    Parameters
    ----------
    pdf : pandas.DataFrame
    plan : StatsPlan

    Returns
    -------
    dict
        Small partials (numpy arrays, lists, numbers), merged by :func:`combine_stats`.
    """
    out: dict[str, Any] = {"n_rows": int(len(pdf))}
    w = None
    if plan.weights is not None:
        wv = _to_float(pdf[plan.weights])
        out["weights"] = {
            "n_missing": int(np.isnan(wv).sum()),
            "n_negative": int((wv < 0).sum()),
            "n_inf": int(np.isinf(wv).sum()),
            "sum_pos": float(wv[(wv > 0) & np.isfinite(wv)].sum()),
        }
        if plan.weighted_moments:
            w = np.where(np.isfinite(wv), wv, np.nan)
    out["num"] = _num_accs(pdf, plan.numeric, w)
    out["cat"] = {c: _cat_acc(pdf[c], w) for c in plan.categorical}
    if plan.response is not None:
        y = pdf[plan.response]
        if plan.response_kind == "numeric":
            out["resp_num"] = _num_acc(_to_float(y), w)
        else:
            out["resp_cat"] = _cat_acc(y, None)
        out["level_resp"] = {
            c: _level_response_acc(pdf[c], y, plan.response_kind, w) for c in plan.level_response
        }
    if plan.offset is not None:
        ov = _to_float(pdf[plan.offset])
        out["offset"] = {"n_missing": int(np.isnan(ov).sum()), "n_inf": int(np.isinf(ov).sum())}
    return out


def _merge_cat(parts: list[dict]) -> dict:
    cats_lists = [p["cats"] for p in parts]
    index: dict[Any, int] = {}
    values: list = []
    for p in parts:
        for v in p["values"]:
            if v not in index:
                index[v] = len(values)
                values.append(v)
    d = len(values)
    cnt = np.zeros(d, dtype=np.int64)
    cnt_pos = np.zeros(d, dtype=np.int64)
    wsum = np.zeros(d)
    for p in parts:
        idx = np.fromiter((index[v] for v in p["values"]), dtype=np.int64, count=len(p["values"]))
        np.add.at(cnt, idx, p["cnt"])
        np.add.at(cnt_pos, idx, p["cnt_pos"])
        np.add.at(wsum, idx, p["wsum"])
    categories = None
    if parts and all(c is not None for c in cats_lists):
        first = cats_lists[0]
        categories = first if all(c == first for c in cats_lists) else "mixed"
    return {
        "values": values,
        "categories": categories,
        "cnt": dict(zip(values, cnt.tolist())),
        "cnt_pos": dict(zip(values, cnt_pos.tolist())),
        "wsum": dict(zip(values, wsum.tolist())),
        "n_missing": sum(p["n_missing"] for p in parts),
        "na_cnt_pos": sum(p["na_cnt_pos"] for p in parts),
        "na_wsum": float(sum(p["na_wsum"] for p in parts)),
    }


def _merge_level_resp(parts: list[dict], kind: str) -> dict:
    if kind == "numeric":
        s: dict = {}
        ws: dict = {}
        for p in parts:
            for v, a, b in zip(p["values"], p["sum"].tolist(), p["wsum"].tolist()):
                s[v] = s.get(v, 0.0) + a
                ws[v] = ws.get(v, 0.0) + b
        return {"sum": s, "wsum": ws}
    pairs: dict = {}
    for p in parts:
        for k, v in p["pairs"].items():
            pairs[k] = pairs.get(k, 0.0) + v
    return {"pairs": pairs}


def combine_stats(parts: list[dict], plan: StatsPlan) -> dict:
    """Merge partials from :func:`partition_stats` into final statistics.

    Parameters
    ----------
    parts : list of dict
        One partial per partition (at least one).
    plan : StatsPlan

    Returns
    -------
    dict
        ``n_rows``; ``num`` (column -> :class:`NumStats`); ``cat`` (column -> merged level
        counts, keyed by level value); ``resp_num`` / ``resp_cat``; ``level_resp``;
        ``weights``; ``offset``.
    """
    out: dict[str, Any] = {"n_rows": sum(p["n_rows"] for p in parts)}
    num = {}
    for c in plan.numeric:
        acc = parts[0]["num"][c]
        for p in parts[1:]:
            acc = _merge_num(acc, p["num"][c])
        num[c] = _final_num(acc)
    out["num"] = num
    out["cat"] = {c: _merge_cat([p["cat"][c] for p in parts]) for c in plan.categorical}
    if plan.weights is not None:
        out["weights"] = {
            k: sum(p["weights"][k] for p in parts) for k in ("n_missing", "n_negative", "n_inf", "sum_pos")
        }
    if plan.response is not None:
        if plan.response_kind == "numeric":
            acc = parts[0]["resp_num"]
            for p in parts[1:]:
                acc = _merge_num(acc, p["resp_num"])
            out["resp_num"] = _final_num(acc)
        else:
            out["resp_cat"] = _merge_cat([p["resp_cat"] for p in parts])
        out["level_resp"] = {
            c: _merge_level_resp([p["level_resp"][c] for p in parts], plan.response_kind)
            for c in plan.level_response
        }
    if plan.offset is not None:
        out["offset"] = {k: sum(p["offset"][k] for p in parts) for k in ("n_missing", "n_inf")}
    return out
