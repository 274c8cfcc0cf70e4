"""Tests of dask_deeplearn.metrics: H2O metrics as mergeable partials."""

from __future__ import annotations

import heapq
import json
import math
import pickle
import time

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from dask_deeplearn.exceptions import DataError, InvalidParameterError
from dask_deeplearn.metrics import (
    BOUNDED_BELOW_BY_ZERO,
    STOPPING_METRIC_DIRECTION,
    AUCBins,
    BinomialPartial,
    ModelMetrics,
    MultinomialPartial,
    RegressionPartial,
    binomial_partial,
    deviance_per_row,
    merge_partials,
    more_is_better,
    multinomial_partial,
    regression_partial,
    weighted_quantile,
)

THRESHOLD_COLUMNS = [
    "threshold", "f1", "f2", "f0point5", "accuracy", "precision", "recall", "specificity",
    "absolute_mcc", "min_per_class_accuracy", "mean_per_class_accuracy", "tns", "fns", "fps",
    "tps", "tnr", "fnr", "fpr", "tpr",
]


@pytest.fixture
def rng():
    return np.random.default_rng(20240601)


def _splits(rng, n, k=5):
    """k random non-empty index blocks covering range(n)."""
    perm = rng.permutation(n)
    cuts = np.sort(rng.choice(np.arange(1, n), size=k - 1, replace=False))
    return np.split(perm, cuts)


def _scalars(m: ModelMetrics) -> dict:
    names = ["nobs", "sum_weights", "mse", "rmse", "mae", "rmsle", "mean_residual_deviance", "r2",
             "logloss", "auc", "aucpr", "gini", "mean_per_class_error", "classification_error",
             "lift_top_group", "max_f1_threshold", "huber_delta"]
    return {n: getattr(m, n) for n in names}


def _assert_scalars_close(a: ModelMetrics, b: ModelMetrics, rtol=1e-12, atol=1e-12, skip=()):
    sa, sb = _scalars(a), _scalars(b)
    for k in sa:
        if k in skip:
            continue
        if sa[k] is None or sb[k] is None:
            assert sa[k] is None and sb[k] is None, k
        else:
            np.testing.assert_allclose(sa[k], sb[k], rtol=rtol, atol=atol, err_msg=k)


# --------------------------------------------------------------------------- regression
def _reg_data(rng, n=500, positive=False):
    y = rng.gamma(2.0, 1.5, n) if positive else rng.normal(1.0, 2.0, n)
    f = y * rng.uniform(0.6, 1.4, n) + (0 if positive else rng.normal(0, 0.5, n))
    if positive:
        f = np.abs(f) + 0.05
    w = rng.uniform(0.1, 3.0, n)
    return y, f, w


@pytest.mark.parametrize("weighted", [False, True])
def test_regression_basic_metrics_match_sklearn(rng, weighted):
    y, f, w = _reg_data(rng)
    sw = w if weighted else None
    m = regression_partial(y, f, sw).result()
    assert m.category == "Regression"
    assert m.nobs == len(y)
    np.testing.assert_allclose(m.sum_weights, w.sum() if weighted else len(y))
    np.testing.assert_allclose(m.mse, skm.mean_squared_error(y, f, sample_weight=sw), rtol=1e-12)
    np.testing.assert_allclose(m.rmse, math.sqrt(skm.mean_squared_error(y, f, sample_weight=sw)), rtol=1e-12)
    np.testing.assert_allclose(m.mae, skm.mean_absolute_error(y, f, sample_weight=sw), rtol=1e-12)
    np.testing.assert_allclose(m.r2, skm.r2_score(y, f, sample_weight=sw), rtol=1e-10)
    np.testing.assert_allclose(m.mean_residual_deviance, m.mse, rtol=1e-12)  # gaussian
    for attr in ("logloss", "auc", "aucpr", "confusion_matrix", "hit_ratios"):
        assert getattr(m, attr) is None


@pytest.mark.parametrize("weighted", [False, True])
def test_regression_rmsle_matches_sklearn(rng, weighted):
    y, f, w = _reg_data(rng, positive=True)
    sw = w if weighted else None
    m = regression_partial(y, f, sw).result()
    np.testing.assert_allclose(m.rmsle, skm.root_mean_squared_log_error(y, f, sample_weight=sw), rtol=1e-12)


def test_regression_rmsle_nan_below_minus_one(rng):
    y, f, _ = _reg_data(rng)
    f[3] = -1.5
    assert math.isnan(regression_partial(y, f).result().rmsle)
    y2, f2, _ = _reg_data(rng, positive=True)
    ok = regression_partial(y2, f2)
    bad = regression_partial(np.array([-2.0]), np.array([0.5]))
    assert math.isnan(ok.merge(bad).result().rmsle)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dist,ref", [
    ("poisson", lambda y, f, w: skm.mean_poisson_deviance(y, f, sample_weight=w)),
    ("gamma", lambda y, f, w: skm.mean_gamma_deviance(y, f, sample_weight=w)),
    ("tweedie", lambda y, f, w: skm.mean_tweedie_deviance(y, f, sample_weight=w, power=1.3)),
    ("laplace", lambda y, f, w: skm.mean_absolute_error(y, f, sample_weight=w)),
    ("quantile", lambda y, f, w: skm.mean_pinball_loss(y, f, sample_weight=w, alpha=0.3)),
    ("gaussian", lambda y, f, w: skm.mean_squared_error(y, f, sample_weight=w)),
])
def test_regression_deviance_matches_sklearn(rng, weighted, dist, ref):
    y, f, w = _reg_data(rng, positive=True)
    sw = w if weighted else None
    m = regression_partial(y, f, sw, distribution=dist, tweedie_power=1.3, quantile_alpha=0.3).result()
    assert m.distribution == dist
    np.testing.assert_allclose(m.mean_residual_deviance, ref(y, f, sw), rtol=1e-10)


def test_poisson_deviance_zero_actual_and_log_clamp():
    y = np.array([0.0, 0.0, 1e-10, 2.0])
    f = np.array([0.5, 3.0, 1e5, 2.0])
    dev = deviance_per_row(y, f, distribution="poisson")
    np.testing.assert_allclose(dev[:2], 2 * f[:2])  # y log(y/f) = 0 when y = 0
    # log(1e-15) = -34.5 is clamped at -19
    np.testing.assert_allclose(dev[2], 2 * (1e-10 * -19.0 - 1e-10 + 1e5))
    assert dev[3] == 0.0
    np.testing.assert_allclose(skm.mean_poisson_deviance(y[[0, 1, 3]], f[[0, 1, 3]]),
                               regression_partial(y[[0, 1, 3]], f[[0, 1, 3]], distribution="poisson")
                               .result().mean_residual_deviance, rtol=1e-12)


def _huber_ref(y, f, delta):
    r = np.abs(y - f)
    return np.where(r <= delta, r * r, (2 * r - delta) * delta)


def test_huber_delta_is_weighted_quantile_of_residuals(rng):
    y, f, _ = _reg_data(rng)
    m = regression_partial(y, f, distribution="huber", huber_alpha=0.8).result()
    delta = np.quantile(np.abs(y - f), 0.8)
    np.testing.assert_allclose(m.huber_delta, delta, rtol=1e-12)
    np.testing.assert_allclose(m.mean_residual_deviance, _huber_ref(y, f, delta).mean(), rtol=1e-12)
    # integer weights behave as repeated rows
    w = rng.integers(1, 4, len(y)).astype(float)
    mw = regression_partial(y, f, w, distribution="huber", huber_alpha=0.8).result()
    mr = regression_partial(np.repeat(y, w.astype(int)), np.repeat(f, w.astype(int)),
                            distribution="huber", huber_alpha=0.8).result()
    _assert_scalars_close(mw, mr, rtol=1e-10, skip=("nobs",))


def test_huber_given_delta_keeps_no_rows(rng):
    y, f, w = _reg_data(rng)
    p = regression_partial(y, f, w, distribution="huber", huber_delta=0.7)
    assert p.abs_res is None
    m = p.result()
    assert m.huber_delta == 0.7
    np.testing.assert_allclose(m.mean_residual_deviance, np.average(_huber_ref(y, f, 0.7), weights=w), rtol=1e-12)


@pytest.mark.parametrize("dist", ["gaussian", "poisson", "gamma", "tweedie", "laplace", "quantile", "huber"])
def test_regression_merge_of_splits_equals_single(rng, dist):
    y, f, w = _reg_data(rng, n=997, positive=True)
    kw = dict(distribution=dist)
    single = regression_partial(y, f, w, **kw).result()
    parts = [regression_partial(y[i], f[i], w[i], **kw) for i in _splits(rng, len(y))]
    _assert_scalars_close(merge_partials(parts).result(), single)
    # pairwise, in another order
    acc = parts[3]
    for p in (parts[0], parts[4], parts[1], parts[2]):
        acc = p.merge(acc)
    _assert_scalars_close(acc.result(), single)


def test_regression_na_and_zero_weight_rows_are_skipped(rng):
    y, f, w = _reg_data(rng, n=50)
    y2, f2, w2 = y.copy(), f.copy(), w.copy()
    y2[[1, 7]] = np.nan
    f2[[3]] = np.nan
    w2[[10]] = np.nan
    w2[[11]] = 0.0
    keep = np.ones(50, bool)
    keep[[1, 7, 3, 10, 11]] = False
    m = regression_partial(y2, f2, w2).result()
    assert m.nobs == 45
    _assert_scalars_close(m, regression_partial(y[keep], f[keep], w[keep]).result())


def test_regression_single_row_r2_follows_h2o():
    m = regression_partial([1.0], [2.0]).result()
    assert m.nobs == 1 and m.mse == 1.0
    assert m.r2 == -math.inf  # sigma is 0 for one row, as MetricBuilder.weightedSigma


def test_regression_empty_partial_gives_nan():
    m = regression_partial([np.nan, 1.0], [1.0, np.nan]).result()
    assert m.nobs == 0
    assert math.isnan(m.mse) and math.isnan(m.r2)
    assert math.isnan(m.get("deviance"))


@pytest.mark.parametrize("kwargs,match", [
    (dict(distribution="bernoulli"), "distribution"),
    (dict(distribution="tweedie", tweedie_power=2.5), "tweedie_power"),
    (dict(quantile_alpha=1.5), "quantile_alpha"),
    (dict(huber_alpha=-0.1), "huber_alpha"),
    (dict(huber_delta=-1.0), "huber_delta"),
])
def test_regression_bad_parameters(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        regression_partial([1.0, 2.0], [1.0, 2.0], **kwargs)


def test_regression_bad_data():
    with pytest.raises(DataError, match="rows"):
        regression_partial([1.0, 2.0], [1.0])
    with pytest.raises(DataError, match="weights"):
        regression_partial([1.0, 2.0], [1.0, 2.0], [1.0, -1.0])


def test_regression_merge_rejects_other_settings():
    a = regression_partial([1.0], [2.0], distribution="poisson")
    b = regression_partial([1.0], [2.0], distribution="gamma")
    with pytest.raises(InvalidParameterError, match="different settings"):
        a.merge(b)
    with pytest.raises(TypeError, match="one kind"):
        merge_partials([a, binomial_partial([1], [0.5])])
    with pytest.raises(ValueError, match="at least one"):
        merge_partials([])


# --------------------------------------------------------------------------- binomial
def _bin_data(rng, n=2000, decimals=2):
    y = (rng.random(n) < 0.35).astype(float)
    p = np.clip(rng.normal(0.35 + 0.25 * y, 0.2), 0.01, 0.99)
    if decimals is not None:
        p = np.round(p, decimals)  # few distinct scores: binning is exact
    w = rng.uniform(0.2, 2.5, n)
    return y, p, w


@pytest.mark.parametrize("weighted", [False, True])
def test_binomial_matches_sklearn(rng, weighted):
    y, p, w = _bin_data(rng)
    sw = w if weighted else None
    m = binomial_partial(y, p, sw).result()
    assert m.category == "Binomial"
    assert m.nobs == len(y)
    np.testing.assert_allclose(m.logloss, skm.log_loss(y, p, sample_weight=sw), rtol=1e-10)
    np.testing.assert_allclose(m.mse, skm.brier_score_loss(y, p, sample_weight=sw), rtol=1e-10)
    np.testing.assert_allclose(m.auc, skm.roc_auc_score(y, p, sample_weight=sw), rtol=0, atol=1e-12)
    np.testing.assert_allclose(m.gini, 2 * m.auc - 1, atol=1e-15)
    np.testing.assert_allclose(m.aucpr, skm.average_precision_score(y, p, sample_weight=sw), atol=0.03)
    np.testing.assert_allclose(m.r2, 1 - m.mse / np.cov(y, aweights=w if weighted else None, bias=True), rtol=1e-10)
    for attr in ("mae", "rmsle", "mean_residual_deviance", "hit_ratios"):
        assert getattr(m, attr) is None


def test_binomial_aucpr_close_to_average_precision_for_continuous_scores(rng):
    y, p, _ = _bin_data(rng, n=20000, decimals=None)
    m = binomial_partial(y, p).result()
    np.testing.assert_allclose(m.aucpr, skm.average_precision_score(y, p), atol=5e-3)
    np.testing.assert_allclose(m.auc, skm.roc_auc_score(y, p), atol=1e-3)


def test_binomial_two_column_proba_equals_p1(rng):
    y, p, w = _bin_data(rng, n=300)
    a = binomial_partial(y, p, w).result()
    b = binomial_partial(y, np.column_stack([1 - p, p]), w).result()
    _assert_scalars_close(a, b)


def test_binomial_confusion_matrix_and_error_at_max_f1(rng):
    y, p, w = _bin_data(rng)
    m = binomial_partial(y, p, w).result(domain=["no", "yes"])
    thr = m.max_f1_threshold
    pred = (p >= thr).astype(float)
    cm = skm.confusion_matrix(y, pred, sample_weight=w)
    np.testing.assert_allclose(m.confusion_matrix.loc[["no", "yes"], ["no", "yes"]].to_numpy(), cm, rtol=1e-10)
    np.testing.assert_allclose(m.classification_error, 1 - skm.accuracy_score(y, pred, sample_weight=w), rtol=1e-10)
    np.testing.assert_allclose(m.error, m.classification_error)
    np.testing.assert_allclose(m.mean_per_class_error,
                               1 - skm.balanced_accuracy_score(y, pred, sample_weight=w), rtol=1e-10)
    # the threshold maximises F1 over the distinct scores
    f1s = [skm.f1_score(y, (p >= t).astype(float), sample_weight=w) for t in np.unique(p)]
    np.testing.assert_allclose(skm.f1_score(y, pred, sample_weight=w), max(f1s), rtol=1e-10)


def test_binomial_max_f1_threshold_hand_example():
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    y = np.array([1, 1, 0, 1, 0, 0])
    m = binomial_partial(y, p).result()
    # F1 by threshold: .9: .5, .8: .8, .7: 2/3, .6: 6/7, .5: .75, .4: 2/3
    assert m.max_f1_threshold == pytest.approx(0.6)
    t = m.thresholds_and_metric_scores
    np.testing.assert_allclose(t["f1"].to_numpy(), [0.5, 0.8, 2 / 3, 6 / 7, 0.75, 2 / 3])
    np.testing.assert_allclose(t["threshold"].to_numpy(), p)
    cm = m.confusion_matrix
    assert cm.loc["0", "0"] == 2 and cm.loc["0", "1"] == 1
    assert cm.loc["1", "0"] == 0 and cm.loc["1", "1"] == 3
    assert m.classification_error == pytest.approx(1 / 6)
    assert m.mean_per_class_error == pytest.approx((1 / 3 + 0) / 2)
    assert m.auc == pytest.approx(skm.roc_auc_score(y, p))


def test_binomial_confusion_matrix_layout():
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    y = np.array([1, 1, 0, 1, 0, 0])
    cm = binomial_partial(y, p).result(domain=["neg", "pos"]).confusion_matrix
    assert list(cm.index) == ["neg", "pos", "Total"]
    assert list(cm.columns) == ["neg", "pos", "Error", "Rate"]
    assert cm.loc["neg", "neg"] == 2 and cm.loc["Total", "neg"] == 2 and cm.loc["Total", "pos"] == 4
    np.testing.assert_allclose(cm["Error"].to_numpy(), [1 / 3, 0.0, 1 / 6])
    assert list(cm["Rate"]) == ["1 / 3", "0 / 3", "1 / 6"]
    # non-integral weights: 4-decimal rates
    cmw = binomial_partial(y, p, np.full(6, 0.5)).result().confusion_matrix
    assert cmw.loc["0", "Rate"] == "0.5000 / 1.5000"


def test_binomial_threshold_table(rng):
    y, p, w = _bin_data(rng)
    t = binomial_partial(y, p, w).result().thresholds_and_metric_scores
    assert [c for c in t.columns if c != "idx"] == THRESHOLD_COLUMNS
    assert np.all(np.diff(t["threshold"].to_numpy()) < 0)
    # thresholds are exactly the distinct scores (no rounding drift of the bin centres)
    np.testing.assert_array_equal(t["threshold"].to_numpy(), np.unique(p)[::-1])
    np.testing.assert_allclose(t["tps"] + t["fns"], w[y == 1].sum(), rtol=1e-12)
    np.testing.assert_allclose(t["fps"] + t["tns"], w[y == 0].sum(), rtol=1e-12)
    thr = t["threshold"].iloc[10]
    pred = p >= thr
    np.testing.assert_allclose(t["tps"].iloc[10], w[pred & (y == 1)].sum(), rtol=1e-12)
    np.testing.assert_allclose(t["precision"].iloc[10], skm.precision_score(y, pred, sample_weight=w), rtol=1e-10)
    np.testing.assert_allclose(t["absolute_mcc"].iloc[10],
                               abs(skm.matthews_corrcoef(y, pred, sample_weight=w)), rtol=1e-10)


def test_binomial_lift_top_group(rng):
    n = 400
    p = rng.permutation(np.arange(1, n + 1) / n)  # distinct scores, no bin merged
    y = (rng.random(n) < p).astype(float)
    m = binomial_partial(y, p).result()
    q = np.quantile(p, 0.99)
    top = p >= q
    np.testing.assert_allclose(m.lift_top_group, y[top].mean() / y.mean(), rtol=1e-12)
    gl = m.gains_lift
    assert len(gl) == 16
    np.testing.assert_allclose(gl["cumulative_data_fraction"].iloc[-1], 1.0)
    np.testing.assert_allclose(gl["cumulative_lift"].iloc[-1], 1.0)
    np.testing.assert_allclose(gl["lower_threshold"].iloc[5], np.quantile(p, 0.9), rtol=1e-12)


def test_binomial_no_positives_follows_h2o():
    m = binomial_partial([0, 0, 0], [0.1, 0.5, 0.7]).result()
    assert m.auc == 0.0
    assert m.max_f1_threshold == 0.5
    assert m.confusion_matrix is None
    assert math.isnan(m.classification_error)


def test_binomial_integer_weights_equal_repeated_rows(rng):
    y, p, _ = _bin_data(rng, n=400)
    w = rng.integers(1, 4, len(y))
    a = binomial_partial(y, p, w.astype(float)).result()
    b = binomial_partial(np.repeat(y, w), np.repeat(p, w)).result()
    _assert_scalars_close(a, b, rtol=1e-10, skip=("nobs",))
    pd.testing.assert_frame_equal(a.confusion_matrix, b.confusion_matrix)


def test_binomial_merge_exact_with_few_distinct_scores(rng):
    y, p, w = _bin_data(rng, n=3000)
    single = binomial_partial(y, p, w).result()
    merged = merge_partials([binomial_partial(y[i], p[i], w[i]) for i in _splits(rng, len(y))]).result()
    _assert_scalars_close(merged, single, rtol=1e-12, atol=1e-12)
    pd.testing.assert_frame_equal(merged.thresholds_and_metric_scores, single.thresholds_and_metric_scores,
                                  rtol=1e-12, atol=1e-9)
    pd.testing.assert_frame_equal(merged.confusion_matrix, single.confusion_matrix, rtol=1e-12)
    # pairwise merges in any order give the same
    parts = [binomial_partial(y[i], p[i], w[i]) for i in _splits(rng, len(y))]
    acc = parts[4].merge(parts[2]).merge(parts[0].merge(parts[1])).merge(parts[3])
    _assert_scalars_close(acc.result(), single)


def test_binomial_merge_close_with_many_distinct_scores(rng):
    y, p, w = _bin_data(rng, n=100_000, decimals=None)
    assert len(np.unique(p)) > 90_000
    single = binomial_partial(y, p, w).result()
    merged = merge_partials([binomial_partial(y[i], p[i], w[i]) for i in _splits(rng, len(y))]).result()
    assert abs(merged.auc - single.auc) < 1e-3
    assert abs(merged.auc - skm.roc_auc_score(y, p, sample_weight=w)) < 1e-3
    assert abs(merged.aucpr - single.aucpr) < 1e-3
    np.testing.assert_allclose(merged.logloss, single.logloss, rtol=1e-12)
    np.testing.assert_allclose(merged.mse, single.mse, rtol=1e-12)
    assert len(merged.thresholds_and_metric_scores) <= 400


def test_binomial_na_rows_skipped(rng):
    y, p, w = _bin_data(rng, n=100)
    y2, p2, w2 = y.copy(), p.copy(), w.copy()
    y2[0] = np.nan
    p2[5] = np.nan
    w2[9] = 0.0
    keep = np.ones(100, bool)
    keep[[0, 5, 9]] = False
    m = binomial_partial(y2, p2, w2).result()
    assert m.nobs == 97
    _assert_scalars_close(m, binomial_partial(y[keep], p[keep], w[keep]).result())


def test_binomial_pandas_categorical_actual():
    y = pd.Series(pd.Categorical(["a", "b", None, "b"], categories=["a", "b"]))
    m = binomial_partial(y, [0.2, 0.9, 0.5, 0.6]).result()
    assert m.nobs == 3


def test_binomial_bad_labels():
    with pytest.raises(DataError, match="class indices"):
        binomial_partial([0, 2], [0.1, 0.2])
    with pytest.raises(DataError, match="shape"):
        binomial_partial([0, 1], np.ones((2, 3)) / 3)


def test_binomial_partial_1e6_rows_is_fast(rng):
    n = 1_000_000
    y = (rng.random(n) < 0.3).astype(float)
    p = 1 / (1 + np.exp(-(rng.normal(size=n) + y)))
    best = math.inf
    for _ in range(2):
        t0 = time.perf_counter()
        part = binomial_partial(y, p)
        best = min(best, time.perf_counter() - t0)
    assert best < 1.0, f"1e6-row binomial partial took {best:.2f}s"
    assert part.bins.n_bins == 400


# --------------------------------------------------------------------------- AUC bins
def _greedy_reference(ths, tps, fps, nbins):
    """One-merge-at-a-time AUC2 binning (slow reference)."""
    ths, tps, fps = list(ths), list(tps), list(fps)
    n = len(ths)
    sqe = [0.0] * n
    nxt = list(range(1, n + 1))
    prv = list(range(-1, n - 1))
    alive = [True] * n
    ver = [0] * n

    def cost(i):
        j = nxt[i]
        k0, k1 = tps[i] + fps[i], tps[j] + fps[j]
        d = float(np.float32(ths[j])) - float(np.float32(ths[i]))
        return sqe[i] + sqe[j] + d * d * k0 * k1 / (k0 + k1)

    heap = [(cost(i), i, 0) for i in range(n - 1)]
    heapq.heapify(heap)
    count = n
    while count > nbins:
        c, i, v = heapq.heappop(heap)
        if not alive[i] or v != ver[i] or nxt[i] >= n:
            continue
        j = nxt[i]
        k0, k1 = tps[i] + fps[i], tps[j] + fps[j]
        ths[i] = (ths[i] * k0 + ths[j] * k1) / (k0 + k1)
        sqe[i], tps[i], fps[i] = c, tps[i] + tps[j], fps[i] + fps[j]
        alive[j] = False
        nxt[i] = nxt[j]
        if nxt[i] < n:
            prv[nxt[i]] = i
        count -= 1
        ver[i] += 1
        if nxt[i] < n:
            heapq.heappush(heap, (cost(i), i, ver[i]))
        if prv[i] >= 0:
            ver[prv[i]] += 1
            heapq.heappush(heap, (cost(prv[i]), prv[i], ver[prv[i]]))
    idx = [i for i in range(n) if alive[i]]
    return np.array([ths[i] for i in idx]), np.array([tps[i] for i in idx]), np.array([fps[i] for i in idx])


@pytest.mark.parametrize("n", [700, 2500])
def test_auc_bins_match_one_at_a_time_greedy(rng, n):
    s = rng.random(n) ** 2
    y = rng.random(n) < s
    w = rng.integers(1, 4, n).astype(float)
    exact = AUCBins.from_scores(s, y, w, nbins=10**9)
    ref_t, ref_tp, ref_fp = _greedy_reference(exact.ths, exact.tps, exact.fps, 400)
    b = AUCBins.from_scores(s, y, w)
    assert b.n_bins == 400
    np.testing.assert_allclose(b.ths, ref_t, rtol=1e-12)
    np.testing.assert_allclose(b.tps, ref_tp)
    np.testing.assert_allclose(b.fps, ref_fp)


def test_auc_bins_float32_duplicates_merge():
    s = np.array([0.5, 0.5 + 1e-12, 0.25])
    b = AUCBins.from_scores(s, np.array([1, 0, 1], bool), np.ones(3))
    assert b.n_bins == 2
    np.testing.assert_allclose(b.tps, [1, 1])
    np.testing.assert_allclose(b.fps, [0, 1])


def test_weighted_quantile(rng):
    v = rng.normal(size=101)
    for a in (0.0, 0.1, 0.5, 0.9, 0.99, 1.0):
        np.testing.assert_allclose(weighted_quantile(v, np.ones_like(v), a), np.quantile(v, a), rtol=1e-12)
    w = rng.integers(1, 5, v.size)
    np.testing.assert_allclose(weighted_quantile(v, w.astype(float), 0.37),
                               np.quantile(np.repeat(v, w), 0.37), rtol=1e-12)
    assert math.isnan(weighted_quantile(np.zeros(0), np.zeros(0), 0.5))


# --------------------------------------------------------------------------- multinomial
def _multi_data(rng, n=1500, k=4, distinct=True):
    if distinct:
        proto = rng.dirichlet(np.ones(k), size=12)  # few distinct score vectors: exact AUC bins
        proba = proto[rng.integers(0, len(proto), n)]
    else:
        proba = rng.dirichlet(np.ones(k), size=n)
    y = np.array([rng.choice(k, p=0.5 * pr + 0.5 / k) for pr in proba])
    w = rng.uniform(0.3, 2.0, n)
    return y, proba, w


@pytest.mark.parametrize("weighted", [False, True])
def test_multinomial_matches_sklearn(rng, weighted):
    y, p, w = _multi_data(rng, distinct=False)
    sw = w if weighted else None
    m = multinomial_partial(y, p, sw).result()
    assert m.category == "Multinomial"
    np.testing.assert_allclose(m.logloss, skm.log_loss(y, p, sample_weight=sw, labels=range(4)), rtol=1e-10)
    np.testing.assert_allclose(m.mse, np.average((1 - p[np.arange(len(y)), y]) ** 2, weights=sw), rtol=1e-12)
    pred = p.argmax(axis=1)
    cm = skm.confusion_matrix(y, pred, sample_weight=sw)
    np.testing.assert_allclose(m.confusion_matrix.iloc[:4, :4].to_numpy(), cm, rtol=1e-10)
    np.testing.assert_allclose(m.classification_error, 1 - skm.accuracy_score(y, pred, sample_weight=sw), rtol=1e-10)
    np.testing.assert_allclose(m.mean_per_class_error,
                               1 - skm.balanced_accuracy_score(y, pred, sample_weight=sw), rtol=1e-10)
    np.testing.assert_allclose(m.hit_ratios["hit_ratio"].iloc[3], 1.0)
    for k in range(1, 4):
        np.testing.assert_allclose(m.hit_ratios["hit_ratio"].iloc[k - 1],
                                   skm.top_k_accuracy_score(y, p, k=k, sample_weight=sw, labels=range(4)),
                                   rtol=1e-10)
    var = np.cov(y, aweights=sw, bias=True)
    np.testing.assert_allclose(m.r2, 1 - m.mse / var, rtol=1e-10)
    assert m.auc is None and m.aucpr is None
    assert math.isnan(m.get("AUC"))


def test_multinomial_hit_ratios_by_hand():
    p = np.array([
        [0.5, 0.3, 0.2],   # actual 0: rank 1
        [0.5, 0.3, 0.2],   # actual 1: rank 2
        [0.5, 0.3, 0.2],   # actual 2: rank 3
        [0.4, 0.4, 0.2],   # actual 1, tie with class 0 -> lower index first: rank 2
    ])
    y = np.array([0, 1, 2, 1])
    m = multinomial_partial(y, p).result()
    assert list(m.hit_ratios.columns) == ["k", "hit_ratio"]
    assert list(m.hit_ratios["k"]) == [1, 2, 3]
    np.testing.assert_allclose(m.hit_ratios["hit_ratio"], [0.25, 0.75, 1.0])
    # argmax ties go to the lowest index: row 4 predicted class 0
    assert m.confusion_matrix.loc["1", "0"] == 2
    mw = multinomial_partial(y, p, [1.0, 1.0, 2.0, 0.5], top_k=2).result()
    np.testing.assert_allclose(mw.hit_ratios["hit_ratio"], [1 / 4.5, 2.5 / 4.5])


@pytest.mark.parametrize("auc_type,multi_class,average", [
    ("MACRO_OVR", "ovr", "macro"),
    ("WEIGHTED_OVR", "ovr", "weighted"),
    ("MACRO_OVO", "ovo", "macro"),
    ("WEIGHTED_OVO", "ovo", "weighted"),
])
@pytest.mark.parametrize("weighted", [False, True])
def test_multinomial_auc_matches_sklearn(rng, auc_type, multi_class, average, weighted):
    y, p, w = _multi_data(rng)
    sw = w if weighted else None
    m = multinomial_partial(y, p, sw, auc_type=auc_type).result()
    if multi_class == "ovo" and weighted:
        # sklearn's OVO ignores sample_weight; check by pairs instead
        ref = _ovo_reference(y, p, w, average)
    else:
        ref = skm.roc_auc_score(y, p, multi_class=multi_class, average=average, sample_weight=sw)
    np.testing.assert_allclose(m.auc, ref, rtol=0, atol=1e-12)
    assert 0 < m.aucpr <= 1
    table = m.multinomial_auc_table
    assert "Macro OVR" in set(table["type"])
    assert ("Macro OVO" in set(table["type"])) == (multi_class == "ovo")
    np.testing.assert_allclose(m.get("auc"), m.auc)


def _ovo_reference(y, p, w, average):
    k = p.shape[1]
    aucs, wts = [], []
    for i in range(k - 1):
        for j in range(i + 1, k):
            r = (y == i) | (y == j)
            a1 = skm.roc_auc_score(y[r] == j, p[r, j], sample_weight=w[r])
            a2 = skm.roc_auc_score(y[r] == i, p[r, i], sample_weight=w[r])
            aucs.append((a1 + a2) / 2)
            wts.append(w[r].sum())
    return np.mean(aucs) if average == "macro" else np.average(aucs, weights=wts)


def test_multinomial_ovr_aucpr_matches_binomial(rng):
    y, p, w = _multi_data(rng, distinct=False)
    m = multinomial_partial(y, p, w, auc_type="MACRO_OVR").result()
    per_class = [binomial_partial((y == c).astype(float), p[:, c], w).result().aucpr for c in range(4)]
    np.testing.assert_allclose(m.aucpr, np.mean(per_class), rtol=1e-12)


@pytest.mark.parametrize("auc_type", ["AUTO", "WEIGHTED_OVO"])
def test_multinomial_merge_of_splits_equals_single(rng, auc_type):
    y, p, w = _multi_data(rng)
    single = multinomial_partial(y, p, w, auc_type=auc_type).result(domain=list("abcd"))
    parts = [multinomial_partial(y[i], p[i], w[i], auc_type=auc_type) for i in _splits(rng, len(y))]
    merged = merge_partials(parts).result(domain=list("abcd"))
    _assert_scalars_close(merged, single)
    pd.testing.assert_frame_equal(merged.confusion_matrix, single.confusion_matrix, rtol=1e-12)
    pd.testing.assert_frame_equal(merged.hit_ratios, single.hit_ratios, rtol=1e-12)
    if auc_type != "AUTO":
        pd.testing.assert_frame_equal(merged.multinomial_auc_table, single.multinomial_auc_table, rtol=1e-12)
    acc = parts[2].merge(parts[0]).merge(parts[4].merge(parts[3])).merge(parts[1])
    _assert_scalars_close(acc.result(), single)


def test_multinomial_na_rows_skipped(rng):
    y, p, w = _multi_data(rng, n=60, distinct=False)
    y2 = y.astype(float)
    p2 = p.copy()
    y2[2] = np.nan
    p2[4, 1] = np.nan
    keep = np.ones(60, bool)
    keep[[2, 4]] = False
    m = multinomial_partial(y2, p2, w).result()
    assert m.nobs == 58
    _assert_scalars_close(m, multinomial_partial(y[keep], p[keep], w[keep]).result())


def test_multinomial_sizes_and_limits(rng):
    k = 55
    p = rng.dirichlet(np.ones(k), size=300)
    y = rng.integers(0, k, 300)
    m = multinomial_partial(y, p, auc_type="MACRO_OVR").result()
    assert m.auc is None  # more than 50 classes: no multinomial AUC, as H2O
    # more classes than max_confusion_matrix_size: the matrix is kept, only not printed
    assert m.confusion_matrix.shape == (k + 1, k + 2)
    assert "Confusion Matrix is too large to print: 55 classes" in repr(m)
    assert "max_confusion_matrix_size=20" in repr(m)
    assert not math.isnan(m.mean_per_class_error)
    assert len(m.hit_ratios) == 10
    m2 = multinomial_partial(y, p).result(max_confusion_matrix_size=60)
    assert m2.confusion_matrix.shape == (k + 1, k + 2)
    assert "too large" not in repr(m2) and "Confusion Matrix: Row labels" in repr(m2)
    assert m2 == m  # the print limit is not a metric


def test_multinomial_bad_inputs():
    p = np.full((2, 3), 1 / 3)
    with pytest.raises(InvalidParameterError, match="auc_type"):
        multinomial_partial([0, 1], p, auc_type="MICRO")
    with pytest.raises(InvalidParameterError, match="n_classes"):
        multinomial_partial([0, 1], p, n_classes=4)
    with pytest.raises(DataError, match="class indices"):
        multinomial_partial([0, 3], p)
    with pytest.raises(DataError, match="domain"):
        multinomial_partial([0, 1], p).result(domain=["a", "b"])
    a = multinomial_partial([0, 1], p, top_k=2)
    with pytest.raises(InvalidParameterError, match="different"):
        a.merge(multinomial_partial([0, 1], p, top_k=3))


# --------------------------------------------------------------------------- ModelMetrics
def _all_metrics(rng):
    y, f, w = _reg_data(rng, n=200, positive=True)
    yb, pb, wb = _bin_data(rng, n=200)
    ym, pm, wm = _multi_data(rng, n=200)
    return {
        "Regression": regression_partial(y, f, w, distribution="huber").result(),
        "Binomial": binomial_partial(yb, pb, wb).result(domain=["n", "y"]),
        "Multinomial": multinomial_partial(ym, pm, wm, auc_type="MACRO_OVO").result(),
    }


_GET_NAMES = {
    "deviance": "mean_residual_deviance", "logloss": "logloss", "MSE": "mse", "RMSE": "rmse",
    "MAE": "mae", "RMSLE": "rmsle", "AUC": "auc", "AUCPR": "aucpr", "lift_top_group": "lift_top_group",
    "misclassification": "classification_error", "mean_per_class_error": "mean_per_class_error",
    "r2": "r2",
}


@pytest.mark.parametrize("name", sorted(_GET_NAMES))
def test_get_every_stopping_metric_name(rng, name):
    for cat, m in _all_metrics(rng).items():
        attr = getattr(m, _GET_NAMES[name])
        for spelled in (name, name.upper(), name.lower()):
            got = m.get(spelled)
            assert isinstance(got, float)
            if attr is None:
                assert math.isnan(got), (cat, name)
            else:
                assert got == attr or (math.isnan(got) and math.isnan(attr)), (cat, name)


def test_get_applicable_values_are_finite(rng):
    ms = _all_metrics(rng)
    for name in ("deviance", "MSE", "RMSE", "MAE", "RMSLE", "r2"):
        assert math.isfinite(ms["Regression"].get(name))
    for name in ("logloss", "MSE", "AUC", "AUCPR", "lift_top_group", "misclassification", "mean_per_class_error"):
        assert math.isfinite(ms["Binomial"].get(name))
    for name in ("logloss", "AUC", "AUCPR", "misclassification", "mean_per_class_error"):
        assert math.isfinite(ms["Multinomial"].get(name))


def test_get_unknown_name(rng):
    m = _all_metrics(rng)["Binomial"]
    with pytest.raises(ValueError, match="unknown metric"):
        m.get("accuracy_at_k")


def test_stopping_metric_tables():
    more = {k for k, v in STOPPING_METRIC_DIRECTION.items() if v}
    assert {"AUC", "AUCPR", "lift_top_group", "custom_increasing"} <= more
    assert more - {"AUC", "AUCPR", "lift_top_group", "custom_increasing"} == {"r2"}
    for k in ("deviance", "logloss", "MSE", "RMSE", "MAE", "RMSLE", "misclassification",
              "mean_per_class_error", "custom"):
        assert STOPPING_METRIC_DIRECTION[k] is False
    assert BOUNDED_BELOW_BY_ZERO == frozenset({"logloss", "MSE", "RMSE", "MAE", "RMSLE", "AUC", "AUCPR",
                                               "misclassification", "mean_per_class_error"})
    assert more_is_better("auc") and not more_is_better("LogLoss")
    with pytest.raises(ValueError, match="Unknown stopping metric"):
        more_is_better("f1")


def test_pickle_round_trip(rng):
    y, p, w = _bin_data(rng, n=500)
    parts = [binomial_partial(y[i], p[i], w[i]) for i in _splits(rng, 500, k=2)]
    back = [pickle.loads(pickle.dumps(x)) for x in parts]
    _assert_scalars_close(back[0].merge(back[1]).result(), parts[0].merge(parts[1]).result())
    yr, fr, wr = _reg_data(rng, n=100)
    rp = regression_partial(yr, fr, wr, distribution="huber")
    _assert_scalars_close(pickle.loads(pickle.dumps(rp)).result(), rp.result())
    ym, pm, wm = _multi_data(rng, n=100)
    mp = multinomial_partial(ym, pm, wm, auc_type="WEIGHTED_OVO")
    _assert_scalars_close(pickle.loads(pickle.dumps(mp)).result(), mp.result())
    for m in _all_metrics(rng).values():
        assert pickle.loads(pickle.dumps(m)) == m


def test_to_dict_json_round_trip(rng):
    for cat, m in _all_metrics(rng).items():
        d = m.to_dict()
        text = json.dumps(d, allow_nan=False)
        assert json.loads(text) == d
        assert d["category"] == cat
        assert d["nobs"] == m.nobs
    b = _all_metrics(rng)["Binomial"].to_dict()
    assert b["confusion_matrix"]["columns"] == ["n", "y", "Error", "Rate"]
    assert b["confusion_matrix"]["index"] == ["n", "y", "Total"]
    assert b["thresholds_and_metric_scores"]["columns"][:3] == ["threshold", "f1", "f2"]
    # NaN becomes None
    assert regression_partial([1.0], [1.0]).result().to_dict()["r2"] is None


def test_repr_is_readable(rng):
    ms = _all_metrics(rng)
    text = repr(ms["Binomial"])
    assert text.startswith("ModelMetricsBinomial")
    for line in ("MSE:", "RMSE:", "LogLoss:", "AUC:", "AUCPR:", "Gini:", "Mean Per-Class Error:",
                 "Confusion Matrix (Act/Pred) for max f1 @ threshold ="):
        assert line in text
    assert "Mean Residual Deviance:" in repr(ms["Regression"])
    assert "Hit Ratios" in repr(ms["Multinomial"])


def test_partials_are_small_and_picklable_types(rng):
    y, p, w = _bin_data(rng, n=50_000, decimals=None)
    part = binomial_partial(y, p, w)
    assert isinstance(part, BinomialPartial)
    assert len(pickle.dumps(part)) < 40_000
    assert isinstance(regression_partial([1.0], [1.0]), RegressionPartial)
    assert isinstance(multinomial_partial([0], [[0.6, 0.4]]), MultinomialPartial)


def test_empty_partials_merge_as_identity(rng):
    y, p, w = _bin_data(rng, n=300)
    full = binomial_partial(y, p, w)
    empty = binomial_partial([np.nan], [0.3])
    assert empty.nobs == 0
    _assert_scalars_close(merge_partials([empty, full, empty]).result(), full.result())
    ym, pm, wm = _multi_data(rng, n=300)
    fm = multinomial_partial(ym, pm, wm, auc_type="MACRO_OVO")
    em = multinomial_partial(np.zeros(0), np.zeros((0, 4)), auc_type="MACRO_OVO")
    _assert_scalars_close(em.merge(fm).result(), fm.result())
    yr, fr, wr = _reg_data(rng, n=300)
    fr_p = regression_partial(yr, fr, wr, distribution="huber")
    er = regression_partial(np.zeros(0), np.zeros(0), distribution="huber")
    _assert_scalars_close(er.merge(fr_p).result(), fr_p.result())
    assert math.isnan(em.result().logloss)


def test_auc_bins_merge_conserves_weight_and_bounds_bins(rng):
    parts = []
    for _ in range(6):
        s = rng.random(5000)
        y = rng.random(5000) < s
        w = rng.uniform(0.5, 1.5, 5000)
        parts.append((AUCBins.from_scores(s, y, w), w[y].sum(), w[~y].sum()))
    merged = AUCBins.merge_all([b for b, _, _ in parts])
    assert merged.n_bins <= 400
    np.testing.assert_allclose(merged.tps.sum(), sum(t for _, t, _ in parts), rtol=1e-12)
    np.testing.assert_allclose(merged.fps.sum(), sum(f for _, _, f in parts), rtol=1e-12)
    assert np.all(np.diff(merged.ths) > 0)
    assert merged.ths.min() >= 0 and merged.ths.max() <= 1
