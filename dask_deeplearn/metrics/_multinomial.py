"""Multinomial classification metrics as mergeable partials."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataError, InvalidParameterError
from ._auc import NBINS, AUCBins
from ._binomial import _check_domain
from ._common import as_1d, as_labels, as_weights, r2_from_sums
from ._model_metrics import ModelMetrics, confusion_matrix_frame, mean_per_class_error

__all__ = ["MultinomialPartial", "multinomial_partial", "AUC_TYPES", "MAX_AUC_CLASSES"]

_OWNER = "multinomial_partial"
_EPS = 1e-15

#: Accepted ``auc_type`` values (H2O's ``MultinomialAucType``).
AUC_TYPES = ("AUTO", "NONE", "MACRO_OVR", "WEIGHTED_OVR", "MACRO_OVO", "WEIGHTED_OVO")
#: H2O's ``MultinomialAUC.MAX_AUC_CLASSES``: above it no multinomial AUC is computed.
MAX_AUC_CLASSES = 50

_HIT_CHUNK = 1 << 16


class MultinomialPartial:
    """Mergeable partial of the multinomial metrics.

    Holds weighted sums (squared error and log loss of the actual class,
    moments of the class index for r2), the weighted K x K confusion matrix
    (argmax prediction, ties to the lowest index), the weighted hit counts
    per rank of the actual class, and, when ``auc_type`` asks for it, AUC
    histograms: one per class for one-vs-rest, and one per ordered class
    pair for one-vs-one (H2O's ``MultinomialAUC``).

    Build it with :func:`multinomial_partial`.
    """

    __slots__ = ("n_classes", "top_k", "auc_type", "nobs", "sum_w", "sum_wy", "sum_wyy",
                 "sum_sqe", "sum_logloss", "cm", "hits", "ovr", "ovo", "nbins")

    def __init__(self, n_classes: int, top_k: int, auc_type: str, nbins: int = NBINS) -> None:
        self.n_classes = int(n_classes)
        self.top_k = int(top_k)
        self.auc_type = auc_type
        self.nbins = int(nbins)
        self.nobs = 0
        self.sum_w = self.sum_wy = self.sum_wyy = self.sum_sqe = self.sum_logloss = 0.0
        self.cm = np.zeros((self.n_classes, self.n_classes))
        self.hits = np.zeros(self.top_k)
        self.ovr: list[AUCBins] | None = None
        self.ovo: dict[tuple[int, int], AUCBins] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            setattr(self, k, v)

    @property
    def computes_auc(self) -> bool:
        """Whether multinomial AUC/AUCPR are computed (auc_type set and <= 50 classes)."""
        return self.auc_type not in ("AUTO", "NONE") and self.n_classes <= MAX_AUC_CLASSES

    def merge(self, other: "MultinomialPartial") -> "MultinomialPartial":
        """Merge with another partial (returns a new partial)."""
        return MultinomialPartial.merge_all([self, other])

    @staticmethod
    def merge_all(parts: Sequence["MultinomialPartial"]) -> "MultinomialPartial":
        """Merge several partials at once."""
        first = parts[0]
        for p in parts:
            if not isinstance(p, MultinomialPartial):
                raise TypeError(f"Cannot merge MultinomialPartial with {type(p).__name__}.")
            if (p.n_classes, p.top_k, p.auc_type, p.nbins) != (first.n_classes, first.top_k,
                                                                 first.auc_type, first.nbins):
                raise InvalidParameterError(
                    "Cannot merge multinomial partials with different (n_classes, top_k, auc_type, nbins): "
                    f"{(first.n_classes, first.top_k, first.auc_type, first.nbins)} vs "
                    f"{(p.n_classes, p.top_k, p.auc_type, p.nbins)}."
                )
        out = MultinomialPartial(first.n_classes, first.top_k, first.auc_type, first.nbins)
        out.nobs = sum(p.nobs for p in parts)
        for k in ("sum_w", "sum_wy", "sum_wyy", "sum_sqe", "sum_logloss"):
            setattr(out, k, math.fsum(getattr(p, k) for p in parts))
        out.cm = np.sum([p.cm for p in parts], axis=0)
        out.hits = np.sum([p.hits for p in parts], axis=0)
        if first.ovr is not None:
            out.ovr = [AUCBins.merge_all([p.ovr[c] for p in parts]) for c in range(first.n_classes)]
        if first.ovo is not None:
            out.ovo = {key: AUCBins.merge_all([p.ovo[key] for p in parts]) for key in first.ovo}
        return out

    # ----------------------------------------------------------------- result
    def _auc_tables(self, labels: list[str]) -> tuple[float, float, pd.DataFrame, pd.DataFrame]:
        """H2O's ``MultinomialAUC``: per class / pair values, macro and weighted averages."""
        k = self.n_classes
        rows: list[tuple[str, str, str, float, float]] = []
        ovr_auc = np.array([b.auc() for b in self.ovr])
        ovr_pr = np.array([b.pr_auc() for b in self.ovr])
        pos = np.array([b.tps.sum() for b in self.ovr])
        for c in range(k):
            rows.append((f"{labels[c]} vs Rest", labels[c], "", ovr_auc[c], ovr_pr[c]))
        res: dict[str, tuple[float, float]] = {}
        res["MACRO_OVR"] = (float(np.mean(ovr_auc)), float(np.mean(ovr_pr)))
        with np.errstate(invalid="ignore", divide="ignore"):
            res["WEIGHTED_OVR"] = (float(np.sum(ovr_auc * pos) / pos.sum()),
                                   float(np.sum(ovr_pr * pos) / pos.sum()))
        rows.append(("Macro OVR", "", "", *res["MACRO_OVR"]))
        rows.append(("Weighted OVR", "", "", *res["WEIGHTED_OVR"]))
        if self.ovo is not None:
            n_total = self.sum_w
            aucs, prs, wts = [], [], []
            for i in range(k - 1):
                for j in range(i + 1, k):
                    first, second = self.ovo[(i, j)], self.ovo[(j, i)]
                    a = (first.auc() + second.auc()) / 2.0
                    pr = (first.pr_auc() + second.pr_auc()) / 2.0
                    a = 0.0 if math.isnan(a) else a
                    pr = 0.0 if math.isnan(pr) else pr
                    aucs.append(a)
                    prs.append(pr)
                    wts.append((first.tps.sum() + second.tps.sum()) / n_total)
                    rows.append((f"Class {labels[i]} vs. {labels[j]}", labels[i], labels[j], a, pr))
            aucs_a, prs_a, wts_a = np.array(aucs), np.array(prs), np.array(wts)
            res["MACRO_OVO"] = (float(np.mean(aucs_a)), float(np.mean(prs_a)))
            with np.errstate(invalid="ignore", divide="ignore"):
                res["WEIGHTED_OVO"] = (float(np.sum(aucs_a * wts_a) / wts_a.sum()),
                                       float(np.sum(prs_a * wts_a) / wts_a.sum()))
            rows.append(("Macro OVO", "", "", *res["MACRO_OVO"]))
            rows.append(("Weighted OVO", "", "", *res["WEIGHTED_OVO"]))
        auc = res[self.auc_type][0]
        # H2O's pr_auc(): unknown/OVR-weighted types fall back to weighted OVR
        aucpr = res[self.auc_type][1] if self.auc_type in res else res["WEIGHTED_OVR"][1]
        frame = pd.DataFrame(rows, columns=["type", "first_class_domain", "second_class_domain",
                                            "auc", "aucpr"])
        auc_t = frame[["type", "first_class_domain", "second_class_domain", "auc"]].rename(columns={"auc": "AUC"})
        pr_t = frame[["type", "first_class_domain", "second_class_domain", "aucpr"]].rename(columns={"aucpr": "auc_pr"})
        return auc, aucpr, auc_t, pr_t

    def result(self, *, domain: Sequence[Any] | None = None,
               max_confusion_matrix_size: int = 20) -> ModelMetrics:
        """Final metrics.

        Parameters
        ----------
        domain : sequence of labels, optional
            Class labels (default ``"0" .. "K-1"``).
        max_confusion_matrix_size : int, default=20
            The confusion matrix is printed (``repr``) for at most this many classes;
            it is always computed and kept in ``confusion_matrix``, as in H2O.

        Returns
        -------
        ModelMetrics
            Category ``"Multinomial"``.  ``auc``/``aucpr`` are ``None`` unless
            ``auc_type`` is one of the OVR/OVO types and there are at most 50
            classes.
        """
        labels = _check_domain(domain, self.n_classes, "MultinomialPartial")
        nan = float("nan")
        sw = self.sum_w
        if self.nobs == 0 or sw <= 0:
            return ModelMetrics("Multinomial", nobs=self.nobs, sum_weights=sw, mse=nan, rmse=nan,
                                logloss=nan, r2=nan, mean_per_class_error=nan,
                                classification_error=nan,
                                auc=nan if self.computes_auc else None,
                                aucpr=nan if self.computes_auc else None, domain=labels)
        mse = self.sum_sqe / sw
        cm = self.cm
        total = cm.sum()
        err = float((total - np.trace(cm)) / total)
        hr = pd.DataFrame({"k": np.arange(1, self.top_k + 1, dtype=np.int64),
                           "hit_ratio": np.cumsum(self.hits) / sw})
        cm_df = confusion_matrix_frame(cm, labels)
        auc = aucpr = None
        auc_t = pr_t = None
        if self.computes_auc:
            auc, aucpr, auc_t, pr_t = self._auc_tables(labels)
        out = ModelMetrics(
            "Multinomial", nobs=self.nobs, sum_weights=sw, mse=mse, rmse=math.sqrt(mse),
            logloss=self.sum_logloss / sw,
            r2=r2_from_sums(mse, sw, self.sum_wy, self.sum_wyy, self.nobs),
            mean_per_class_error=mean_per_class_error(cm), classification_error=err,
            confusion_matrix=cm_df, hit_ratios=hr, auc=auc, aucpr=aucpr,
            multinomial_auc_table=auc_t, multinomial_aucpr_table=pr_t, domain=labels,
        )
        out.max_confusion_matrix_size = int(max_confusion_matrix_size)
        return out


def _true_class_rank(proba: np.ndarray, yi: np.ndarray) -> np.ndarray:
    """0-based rank of the actual class when classes are sorted by decreasing probability (ties: lower index first)."""
    n = proba.shape[0]
    out = np.empty(n, dtype=np.int64)
    cols = np.arange(proba.shape[1])
    for s in range(0, n, _HIT_CHUNK):
        p = proba[s:s + _HIT_CHUNK]
        y = yi[s:s + _HIT_CHUNK]
        pt = p[np.arange(p.shape[0]), y][:, None]
        out[s:s + _HIT_CHUNK] = ((p > pt) | ((p == pt) & (cols[None, :] < y[:, None]))).sum(axis=1)
    return out


def multinomial_partial(actual_index: Any, proba: Any, weight: Any = None, *,
                        n_classes: int | None = None, top_k: int = 10, auc_type: str = "AUTO",
                        nbins: int = NBINS) -> MultinomialPartial:
    """Partial multinomial metrics of one block of rows.

    Rows with NaN actual, any NaN probability or NaN or zero weight are
    skipped and not counted in ``nobs``.

    Parameters
    ----------
    actual_index : array-like of shape (n,)
        Actual class index in ``[0, K)`` (NaN for missing; a pandas
        categorical gives its codes).
    proba : array-like of shape (n, K)
        Class probabilities.
    weight : array-like of shape (n,), optional
        Observation weights (finite, >= 0); ``None`` means 1.
    n_classes : int, optional
        K; defaults to ``proba.shape[1]`` and must equal it.
    top_k : int, default=10
        Hit ratios are reported for k = 1 .. min(top_k, K).
    auc_type : str, default="AUTO"
        ``"AUTO"``/``"NONE"``: no multinomial AUC.  ``"MACRO_OVR"``,
        ``"WEIGHTED_OVR"``: one-vs-rest histograms (one per class, scored by
        that class's probability).  ``"MACRO_OVO"``, ``"WEIGHTED_OVO"``: also
        one-vs-one histograms per ordered pair ``(a, b)``: rows of classes a
        and b scored by ``p_b``, class b positive (H2O's ``MultinomialAUC``).
        Ignored above 50 classes, as in H2O.
    nbins : int, default=400
        Maximum number of bins of each AUC histogram.

    Returns
    -------
    MultinomialPartial

    Raises
    ------
    InvalidParameterError
        For a bad ``auc_type``, ``top_k`` or ``n_classes``.
    DataError
        For bad labels, shapes or weights.
    """
    at = str(auc_type).upper()
    if at not in AUC_TYPES:
        raise InvalidParameterError(
            f"The 'auc_type' parameter of {_OWNER} must be a str among {set(AUC_TYPES)}. "
            f"Got {auc_type!r} instead."
        )
    if int(top_k) < 1:
        raise InvalidParameterError(f"The 'top_k' parameter of {_OWNER} must be an int >= 1. Got {top_k!r} instead.")
    y = as_1d(actual_index, "actual_index", _OWNER)
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] != y.shape[0]:
        raise DataError(f"{_OWNER}: 'proba' must have shape ({y.shape[0]}, K); got {p.shape}.")
    k = p.shape[1] if n_classes is None else int(n_classes)
    if k != p.shape[1] or k < 2:
        raise InvalidParameterError(
            f"The 'n_classes' parameter of {_OWNER} must equal proba.shape[1] ({p.shape[1]}) and be >= 2. "
            f"Got {n_classes!r} instead."
        )
    w = as_weights(weight, y.shape[0], _OWNER)
    as_labels(y, k, _OWNER)
    keep = ~(np.isnan(y) | np.isnan(p).any(axis=1) | np.isnan(w)) & (w != 0)
    if not keep.all():
        y, p, w = y[keep], p[keep], w[keep]
    part = MultinomialPartial(k, min(int(top_k), k), at, nbins)
    yi = y.astype(np.int64)
    n = yi.shape[0]
    part.nobs = int(n)
    if part.computes_auc:
        part.ovr = [AUCBins.empty(nbins) for _ in range(k)]
        if at.endswith("OVO"):
            part.ovo = {(a, b): AUCBins.empty(nbins) for a in range(k) for b in range(k) if a != b}
    if n == 0:
        return part
    p_act = p[np.arange(n), yi]
    err = 1.0 - p_act
    part.sum_w = float(w.sum())
    part.sum_wy = float(np.dot(w, yi))
    part.sum_wyy = float(np.dot(w, yi * yi))
    part.sum_sqe = float(np.dot(w, err * err))
    part.sum_logloss = float(-np.dot(w, np.log(np.maximum(_EPS, p_act))))
    pred = np.argmax(p, axis=1)
    part.cm = np.bincount(yi * k + pred, weights=w, minlength=k * k).reshape(k, k)
    rank = _true_class_rank(p, yi)
    in_top = rank < part.top_k
    part.hits = np.bincount(rank[in_top], weights=w[in_top], minlength=part.top_k)
    if part.computes_auc:
        part.ovr = [AUCBins.from_scores(p[:, c], yi == c, w, nbins) for c in range(k)]
        if part.ovo is not None:
            rows = [np.flatnonzero(yi == c) for c in range(k)]
            for b in range(k):
                for a in range(k):
                    if a == b:
                        continue
                    r = np.concatenate([rows[a], rows[b]])
                    part.ovo[(a, b)] = AUCBins.from_scores(p[r, b], yi[r] == b, w[r], nbins)
    return part
