"""Mergeable AUC histograms in the manner of H2O's ``hex.AUC2``.

An :class:`AUCBins` holds at most ``nbins`` (default 400) bins, sorted by
increasing threshold.  Each bin has a centre (the weighted mean of the scores
folded into it, which doubles as its threshold), the weight of the positives
(``tps``) and negatives (``fps``) it holds, and its accumulated squared error
(``sqe``, the within-bin weighted variance sum of the scores, H2O's merge cost).

Binning, as H2O's ``AUCBuilder`` does it:

* scores that are equal once rounded to float32 are the same bin (H2O treats
  threshold differences below a float ULP as duplicates and merges them first;
  here that is done always, not only when bins run out, so that a partial and
  a merge of partials bin alike);
* while more than ``nbins`` bins remain, the adjacent pair whose merge adds the
  least squared error, ``sqe_i + sqe_{i+1} + d^2 k_i k_{i+1} / (k_i + k_{i+1})``
  with ``d`` the float32 distance of the centres and ``k`` the bin weights, is
  merged into one bin at the weighted mean of the two centres.

H2O merges one pair at a time.  Here the merges are done in vectorised passes:
a pass merges every pair that is a local minimum of the merge cost and whose
cost is no larger than the smallest cost any of those merges (or any untouched
pair) could produce next.  Those are the merges a one-at-a-time greedy would
also make next, so up to ties the result is H2O's greedy binning.  While more
than ``2 * nbins`` bins remain the bound is relaxed to the median pair cost so
that a million distinct scores take a few dozen passes.  Exact cost ties are
broken by a fixed pseudo-random factor within 1e-9 relative (H2O takes the
leftmost pair).

A bin centre is clamped into the range of the scores it holds, so a bin of
one repeated score has exactly that score as its threshold (a weighted mean
could drift by an ULP and then ``p >= threshold`` would misclassify it).

Two partials merge by concatenating their bins and binning again, as
``AUCBuilder.reduce`` does; with at most ``nbins`` distinct (float32) scores
in total no bin is ever merged and every quantity is exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["NBINS", "AUCBins", "weighted_quantile"]

#: H2O's ``AUC2.NBINS``.
NBINS = 400

_THRESHOLD_COLUMNS = (
    "threshold", "f1", "f2", "f0point5", "accuracy", "precision", "recall",
    "specificity", "absolute_mcc", "min_per_class_accuracy",
    "mean_per_class_accuracy", "tns", "fns", "fps", "tps", "tnr", "fnr", "fpr",
    "tpr", "idx",
)

#: H2O's gains/lift quantile levels (16 groups) used by ``GainsLift``.
GAINS_LIFT_PROBS = (0.99, 0.98, 0.97, 0.96, 0.95, 0.9, 0.85, 0.8, 0.7, 0.6,
                    0.5, 0.4, 0.3, 0.2, 0.1, 0.0)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, alpha: float,
                      *, is_sorted: bool = False) -> float:
    """Frequency-weighted linear-interpolation quantile.

    Weights are treated as frequencies: the quantile sits at position
    ``alpha * (W - 1)`` (``W`` the total weight) of the expanded sample and is
    interpolated linearly between its two neighbours, which is what H2O's
    ``Quantile`` (``combine_method="interpolate"``) computes.  With unit
    weights it equals ``numpy.quantile(values, alpha)``.

    Parameters
    ----------
    values : ndarray of shape (n,)
        Values (no NaN).
    weights : ndarray of shape (n,)
        Non-negative weights.
    alpha : float
        Probability in [0, 1].
    is_sorted : bool, default=False
        Whether ``values`` are already sorted increasingly.

    Returns
    -------
    float
        The quantile, NaN when ``values`` is empty.
    """
    values = np.asarray(values, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if values.size == 0:
        return float("nan")
    if not is_sorted:
        order = np.argsort(values, kind="stable")
        values, weights = values[order], weights[order]
    cum = np.cumsum(weights)
    total = cum[-1]
    pos = min(max(alpha * (total - 1.0), 0.0), max(total - 1.0, 0.0))
    lo = np.floor(pos)
    hi = np.ceil(pos)
    last = values.size - 1
    i_lo = min(int(np.searchsorted(cum, lo, side="right")), last)
    i_hi = min(int(np.searchsorted(cum, hi, side="right")), last)
    v_lo, v_hi = values[i_lo], values[i_hi]
    if i_lo == i_hi:
        return float(v_lo)
    return float(v_lo + (pos - lo) * (v_hi - v_lo))


def _pair_cost(t32: np.ndarray, k: np.ndarray, sqe: np.ndarray) -> np.ndarray:
    """Squared-error cost of merging each adjacent bin pair (H2O formula).

    Bins always have positive weight, so ``k0 + k1 > 0``; equal float32
    centres (``d == 0``) cost nothing beyond the bins' own errors.
    """
    d = t32[1:] - t32[:-1]
    k0, k1 = k[:-1], k[1:]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        derr = d * d * (k0 * k1 / (k0 + k1))
        cost = sqe[:-1] + sqe[1:] + derr
    cost[np.isnan(cost)] = np.inf
    return cost


def _jitter(m: int) -> np.ndarray:
    """Deterministic pseudo-random factors in [1, 1 + 1e-9) that break exact cost ties.

    With exact ties everywhere (evenly spaced scores) strict local minima
    would be rare; the jitter makes about a third of the pairs local minima.
    It only reorders costs equal to 1e-9 relative precision.
    """
    with np.errstate(over="ignore"):
        x = np.arange(1, m + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        x ^= x >> np.uint64(31)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(29)
    return 1.0 + (x >> np.uint64(11)).astype(np.float64) * (1e-9 / 2.0**53)


def _combine_centers(t0, k0, t1, k1):
    """Weighted mean of two centres ``t0 <= t1``, kept inside ``[t0, t1]``."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        c = (t0 * k0 + t1 * k1) / (k0 + k1)
    c = np.where(np.isfinite(c), c, 0.5 * (t0 + t1))
    return np.minimum(np.maximum(c, t0), t1)


def _compress(ths, sqe, tps, fps, nbins):
    """Merge adjacent bins until at most ``nbins`` remain (see module docstring)."""
    ths, sqe, tps, fps = ths.copy(), sqe.copy(), tps.copy(), fps.copy()
    n = ths.size
    if n <= nbins:
        return ths, sqe, tps, fps
    jitter_all = _jitter(n - 1)
    t32 = ths.astype(np.float32).astype(np.float64)
    while n > nbins:
        k = tps + fps
        cost = _pair_cost(t32, k, sqe)
        if n == 2:  # nbins == 1
            c = _combine_centers(ths[:1], k[:1], ths[1:], k[1:])
            return c, cost, tps[:1] + tps[1:], fps[:1] + fps[1:]
        m = n - 1
        key = cost * jitter_all[:m]
        # strict local minima of the (jittered) cost
        loc = np.empty(m, dtype=bool)
        loc[0] = key[0] < key[1]
        loc[-1] = key[-1] < key[-2]
        np.logical_and(key[1:-1] < key[:-2], key[1:-1] < key[2:], out=loc[1:-1])
        cand = np.flatnonzero(loc)
        if cand.size == 0:  # flat costs (zero or inf): merge the first cheapest pair
            cand = np.array([int(np.argmin(key))])
        c_cost = cost[cand]
        if n > 2 * nbins:
            # coarse phase: local minima up to the median cost
            sample = key if m <= 65536 else key[:: m // 32768]
            bound = float(np.partition(sample, sample.size // 2)[sample.size // 2])
            sel = cand[key[cand] <= bound]
        else:
            bound = _greedy_bound(cand, c_cost, cost, ths, t32, k, sqe)
            sel = cand[c_cost <= bound]
        if sel.size == 0:
            sel = cand[[int(np.argmin(key[cand]))]]
        excess = n - nbins
        if sel.size > excess:
            sel = np.sort(sel[np.argsort(key[sel], kind="stable")[:excess]])
        # merge bins sel and sel + 1 into sel (arrays are private copies)
        nxt = sel + 1
        ths[sel] = _combine_centers(ths[sel], k[sel], ths[nxt], k[nxt])
        t32[sel] = ths[sel].astype(np.float32)
        sqe[sel] = cost[sel]
        tps[sel] += tps[nxt]
        fps[sel] += fps[nxt]
        keep = np.ones(n, dtype=bool)
        keep[nxt] = False
        ths, t32, sqe, tps, fps = ths[keep], t32[keep], sqe[keep], tps[keep], fps[keep]
        n = ths.size
    return ths, sqe, tps, fps


def _greedy_bound(cand, c_cost, cost, ths, t32, k, sqe):
    """Lower bound of the costs of the pairs a one-at-a-time greedy could merge after ``cand``.

    It is the smallest of: the costs of the pairs the candidate merges would
    create (bounded below using the unmerged neighbours), and the costs of
    the pairs no candidate merge touches.
    """
    n = ths.size
    m = n - 1
    km = k[cand] + k[cand + 1]
    cm = _combine_centers(ths[cand], k[cand], ths[cand + 1], k[cand + 1])
    cm32 = cm.astype(np.float32).astype(np.float64)
    bound = np.inf
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        has_l = cand > 0
        if has_l.any():
            il = cand[has_l] - 1
            d = cm32[has_l] - t32[il]
            nl = sqe[il] + c_cost[has_l] + d * d * k[il] * km[has_l] / (k[il] + km[has_l])
            if not np.all(np.isnan(nl)):
                bound = min(bound, float(np.nanmin(nl)))
        has_r = cand + 2 < n
        if has_r.any():
            ir = cand[has_r] + 2
            d = t32[ir] - cm32[has_r]
            nr = c_cost[has_r] + sqe[ir] + d * d * k[ir] * km[has_r] / (k[ir] + km[has_r])
            if not np.all(np.isnan(nr)):
                bound = min(bound, float(np.nanmin(nr)))
    touched = np.zeros(m, dtype=bool)
    touched[cand] = True
    touched[cand[cand > 0] - 1] = True
    touched[cand[cand + 1 < m] + 1] = True
    if not touched.all():
        bound = min(bound, float(cost[~touched].min()))
    return bound


def _group_float32(ths, sqe, tps, fps):
    """Merge bins whose centres are equal in float32 (H2O's duplicate rule)."""
    if ths.size == 0:
        return ths, sqe, tps, fps
    key = ths.astype(np.float32)
    if ths.size > 1 and not np.any(key[1:] == key[:-1]):
        return ths, sqe, tps, fps
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    k = tps + fps
    ks = np.add.reduceat(k, starts)
    tks = np.add.reduceat(ths * k, starts)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = tks / ks
    lo = ths[starts]  # ths is sorted
    hi = ths[np.r_[starts[1:], ths.size] - 1]
    c = np.where(np.isfinite(c), c, lo)
    c = np.minimum(np.maximum(c, lo), hi)
    return (c, np.add.reduceat(sqe, starts), np.add.reduceat(tps, starts),
            np.add.reduceat(fps, starts))


class AUCBins:
    """A mergeable AUC2-style histogram (see the module docstring).

    Parameters
    ----------
    ths, sqe, tps, fps : ndarray of shape (n_bins,), float64
        Bin centres (increasing), squared errors, positive and negative weights.
    nbins : int, default=400
        Maximum number of bins.
    """

    __slots__ = ("ths", "sqe", "tps", "fps", "nbins")

    def __init__(self, ths: np.ndarray, sqe: np.ndarray, tps: np.ndarray,
                 fps: np.ndarray, nbins: int = NBINS) -> None:
        self.ths = np.asarray(ths, dtype=np.float64)
        self.sqe = np.asarray(sqe, dtype=np.float64)
        self.tps = np.asarray(tps, dtype=np.float64)
        self.fps = np.asarray(fps, dtype=np.float64)
        self.nbins = int(nbins)

    def __getstate__(self):
        return (self.ths, self.sqe, self.tps, self.fps, self.nbins)

    def __setstate__(self, state):
        self.ths, self.sqe, self.tps, self.fps, self.nbins = state

    # ------------------------------------------------------------------ build
    @classmethod
    def empty(cls, nbins: int = NBINS) -> "AUCBins":
        """Bins of no rows."""
        z = np.zeros(0)
        return cls(z, z, z, z, nbins)

    @classmethod
    def from_scores(cls, scores: np.ndarray, positive: np.ndarray,
                    weights: np.ndarray, nbins: int = NBINS) -> "AUCBins":
        """Bin scored rows.

        Parameters
        ----------
        scores : ndarray of shape (n,)
            Finite scores (probability of the positive class).
        positive : ndarray of shape (n,), bool
            Whether each row is a positive.
        weights : ndarray of shape (n,)
            Positive finite row weights.
        nbins : int, default=400
            Maximum number of bins.
        """
        scores = np.asarray(scores, dtype=np.float64)
        if scores.size == 0:
            return cls.empty(nbins)
        weights = np.asarray(weights, dtype=np.float64)
        positive = np.asarray(positive, dtype=bool)
        key = scores.astype(np.float32)
        order = np.argsort(key)
        ks = key[order]
        starts = np.flatnonzero(np.r_[True, ks[1:] != ks[:-1]])
        m = starts.size
        wo = weights[order]
        po = positive[order]
        tps = np.add.reduceat(np.where(po, wo, 0.0), starts)
        fps = np.add.reduceat(np.where(po, 0.0, wo), starts)
        kk = tps + fps
        so = scores[order]
        sws = np.add.reduceat(wo * so, starts)
        lo = np.minimum.reduceat(so, starts)
        hi = np.maximum.reduceat(so, starts)
        with np.errstate(divide="ignore", invalid="ignore"):
            ths = sws / kk
        bad = ~np.isfinite(ths)
        if bad.any():
            ths[bad] = lo[bad]
        # keep the centre inside the group (a repeated score stays exactly itself)
        ths = np.minimum(np.maximum(ths, lo), hi)
        sqe = np.zeros(m)
        if m > nbins:
            ths, sqe, tps, fps = _compress(ths, sqe, tps, fps, nbins)
        return cls(ths, sqe, tps, fps, nbins)

    @classmethod
    def merge_all(cls, bins: "list[AUCBins]") -> "AUCBins":
        """Merge several histograms (``AUCBuilder.reduce`` for a list)."""
        nbins = bins[0].nbins
        if any(b.nbins != nbins for b in bins):
            raise ValueError("Cannot merge AUC bins built with different numbers of bins.")
        ths = np.concatenate([b.ths for b in bins])
        sqe = np.concatenate([b.sqe for b in bins])
        tps = np.concatenate([b.tps for b in bins])
        fps = np.concatenate([b.fps for b in bins])
        order = np.lexsort((fps, tps, sqe, ths))
        ths, sqe, tps, fps = _group_float32(ths[order], sqe[order], tps[order], fps[order])
        if ths.size > nbins:
            ths, sqe, tps, fps = _compress(ths, sqe, tps, fps, nbins)
        return cls(ths, sqe, tps, fps, nbins)

    def merge(self, other: "AUCBins") -> "AUCBins":
        """Merge with another histogram."""
        return AUCBins.merge_all([self, other])

    # -------------------------------------------------------------- results
    @property
    def n_bins(self) -> int:
        """Number of bins in use."""
        return int(self.ths.size)

    def _rolled(self):
        """Thresholds decreasing and cumulative tp/fp weights (as ``AUC2``)."""
        ths = self.ths[::-1]
        ctp = np.cumsum(self.tps[::-1])
        cfp = np.cumsum(self.fps[::-1])
        return ths, ctp, cfp

    def auc(self) -> float:
        """ROC AUC by the trapezoid rule over the bins (``AUC2.compute_auc``)."""
        if self.n_bins == 0:
            return float("nan")
        _, ctp, cfp = self._rolled()
        p, n = ctp[-1], cfp[-1]
        if n == 0:
            return 1.0
        if p == 0:
            return 0.0
        tp0 = np.r_[0.0, ctp[:-1]]
        fp0 = np.r_[0.0, cfp[:-1]]
        area = np.sum((cfp - fp0) * (ctp + tp0) / 2.0)
        return float(area / p / n)

    def pr_auc(self) -> float:
        """Area under the precision-recall curve (``AUC2.pr_auc``).

        Between two bins precision is interpolated as H2O (and XGBoost) do:
        the false positives grow linearly with the true positives, and the
        area of each segment is integrated in closed form.
        """
        if self.n_bins == 0:
            return float("nan")
        _, tp, fp = self._rolled()
        p, n = tp[-1], fp[-1]
        if n == 0:
            return 1.0
        if p == 0:
            return 0.0
        ptp = np.r_[0.0, tp[:-1]]
        pfp = np.r_[0.0, fp[:-1]]
        same = tp == ptp
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.where(same, 0.0, (fp - pfp) / np.where(same, 1.0, tp - ptp))
            a = np.where(same, 1.0, 1.0 + h)
            b = np.where(same, 0.0, (pfp - h * ptp) / p)
            tpp = tp / p
            ptpp = ptp / p
            with_b = (tpp - ptpp - b / a * (np.log(a * tpp + b) - np.log(a * ptpp + b))) / a
            without_b = (tpp - ptpp) / a
        seg = np.where(b != 0, with_b, without_b)
        return float(np.sum(seg))

    def threshold_table(self) -> pd.DataFrame:
        """H2O's ``thresholds_and_metric_scores`` table (one row per bin, thresholds decreasing)."""
        ths, tp, fp = self._rolled()
        p = tp[-1] if tp.size else 0.0
        n = fp[-1] if fp.size else 0.0
        tn = n - fp
        fn = p - tp
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            prec = tp / (tp + fp)
            rec = tp / (tp + fn)
            spec = tn / (tn + fp)
            f1 = 2.0 * (prec * rec) / (prec + rec)
            f2 = 5.0 * (prec * rec) / (4.0 * prec + rec)
            f05 = 1.25 * (prec * rec) / (0.25 * prec + rec)
            acc = (tn + tp) / (tp + fn + tn + fp)
            num = tp * tn - fp * fn
            den = np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
            mcc = np.where(num == 0, 0.0, np.minimum(np.abs(num / den), 1.0))
            minpca = np.minimum(rec, spec)
            meanpca = 0.5 * (rec + spec)
            fnr = fn / (fn + tp)
            fpr = fp / (fp + tn)
        return pd.DataFrame({
            "threshold": ths, "f1": f1, "f2": f2, "f0point5": f05, "accuracy": acc,
            "precision": prec, "recall": rec, "specificity": spec, "absolute_mcc": mcc,
            "min_per_class_accuracy": minpca, "mean_per_class_accuracy": meanpca,
            "tns": tn, "fns": fn, "fps": fp, "tps": tp, "tnr": spec, "fnr": fnr,
            "fpr": fpr, "tpr": rec, "idx": np.arange(ths.size, dtype=np.int64),
        }, columns=list(_THRESHOLD_COLUMNS))

    def max_f1_index(self) -> int:
        """Index (in decreasing-threshold order) of the first maximal F1, -1 if none."""
        if self.n_bins == 0:
            return -1
        _, tp, fp = self._rolled()
        p = tp[-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            prec = tp / (tp + fp)
            rec = tp / p
            f1 = 2.0 * (prec * rec) / (prec + rec)
        if np.all(np.isnan(f1)):
            return -1
        return int(np.nanargmax(f1))

    def cm_at(self, idx: int) -> np.ndarray:
        """2x2 confusion matrix ``[[tn, fp], [fn, tp]]`` at decreasing-threshold index ``idx``."""
        _, tp, fp = self._rolled()
        p, n = tp[-1], fp[-1]
        return np.array([[n - fp[idx], fp[idx]], [p - tp[idx], tp[idx]]])

    def gains_lift(self) -> pd.DataFrame | None:
        """H2O's 16-group gains/lift table computed from the bins.

        The group boundaries are the frequency-weighted interpolated
        quantiles (:func:`weighted_quantile`) of the bin centres at H2O's
        levels 0.99, 0.98, ..., 0.1, 0 (duplicates dropped); group ``i`` holds
        the bins whose centre is ``>=`` its lower threshold and ``<`` the
        previous one.  With unmerged bins (at most 400 distinct scores) this
        is exactly H2O's ``GainsLift`` on the rows.
        """
        if self.n_bins == 0:
            return None
        k = self.tps + self.fps
        total_w = float(k.sum())
        total_p = float(self.tps.sum())
        if total_w <= 0:
            return None
        qs = [weighted_quantile(self.ths, k, a, is_sorted=True) for a in GAINS_LIFT_PROBS]
        thr = np.array(sorted(set(qs), reverse=True))
        # group index of each bin: first t with ths >= thr[t]
        grp = np.searchsorted(-thr, -self.ths, side="left")
        grp = np.minimum(grp, thr.size - 1)
        obs = np.bincount(grp, weights=k, minlength=thr.size)
        ev = np.bincount(grp, weights=self.tps, minlength=thr.size)
        avg = total_p / total_w
        with np.errstate(divide="ignore", invalid="ignore"):
            rr = np.where(obs == 0, 0.0, ev / np.where(obs == 0, 1.0, obs))
            cobs = np.cumsum(obs)
            cev = np.cumsum(ev)
            lift = rr / avg
            clift = cev / cobs / avg
            capture = ev / total_p
            ccapture = cev / total_p
        return pd.DataFrame({
            "group": np.arange(1, thr.size + 1),
            "cumulative_data_fraction": cobs / total_w,
            "lower_threshold": thr,
            "lift": lift,
            "cumulative_lift": clift,
            "response_rate": rr,
            "cumulative_response_rate": cev / cobs,
            "capture_rate": capture,
            "cumulative_capture_rate": ccapture,
            "gain": 100.0 * (lift - 1.0),
            "cumulative_gain": 100.0 * (clift - 1.0),
        })
