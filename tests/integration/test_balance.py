"""Class balancing and the probability correction to the original priors."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import recall_score

from dask_deeplearn import DeepLearningClassifier, InvalidParameterError, load_model
from dask_deeplearn.preprocessing.data_info import Block
from dask_deeplearn.training.balance import (
    balance_block,
    correct_probabilities,
    sampling_ratios,
)

QUIET = dict(quiet_mode=True, reproducible=True)


def _imbalanced(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """About 5 % positives, learnable from the first two columns."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    logit = 1.5 * X[:, 0] + X[:, 1] - 4.2
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


@pytest.fixture(scope="module")
def data():
    return _imbalanced(20_000, 0), _imbalanced(20_000, 1)


# ---------------------------------------------------------------------------- the rules
def test_default_ratios_bring_every_class_to_the_majority_count():
    s = sampling_ratios([900, 100], max_after_balance_size=5.0)
    np.testing.assert_allclose(s, [1.0, 9.0])
    # capped at max_after_balance_size * N rows: every ratio scaled by T / E
    s = sampling_ratios([900, 100], max_after_balance_size=1.0)
    np.testing.assert_allclose(s * [900, 100], [500, 500])
    np.testing.assert_allclose(s, [500 / 900, 5.0])
    # user factors are used as given
    np.testing.assert_allclose(sampling_ratios([900, 100], factors=[1.0, 2.0]), [1.0, 2.0])


def test_balance_block_copies_rows_by_their_class_ratio():
    y = np.array([0] * 900 + [1] * 100, dtype=np.float32)
    block = Block(X=np.arange(1000, dtype=np.float32).reshape(-1, 1), y=y, weight=None,
                  offset=None, index=np.arange(1000))
    out = balance_block(block, np.array([1.0, 2.5]), seed=3)
    counts = np.bincount(out.y.astype(int))
    assert counts[0] == 900 and 200 <= counts[1] <= 300
    # each minority row appears 2 or 3 times, each majority row once; rows are shuffled
    per_row = np.bincount(out.X[:, 0].astype(int), minlength=1000)
    assert set(per_row[900:]) <= {2, 3} and set(per_row[:900]) == {1}
    assert not np.all(np.diff(out.X[:, 0]) >= 0)


def test_probability_correction_restores_the_priors():
    p = np.array([[0.5, 0.5], [0.9, 0.1]])
    got = correct_probabilities(p, np.array([0.9, 0.1]), np.array([0.5, 0.5]))
    np.testing.assert_allclose(got, [[0.9, 0.1], [0.9 * 0.9 / (0.9 * 0.9 + 0.1 * 0.1 * 1),
                                                  0.01 / 0.82]], rtol=1e-12)
    np.testing.assert_allclose(got.sum(axis=1), 1.0)


# ---------------------------------------------------------------------------- end to end
def test_balanced_training_raises_minority_recall_and_stays_calibrated(data, tmp_path):
    (X, y), (Xt, yt) = data
    kw = dict(hidden=[16], epochs=5, seed=1, **QUIET)
    plain = DeepLearningClassifier(**kw).fit(X, y)
    bal = DeepLearningClassifier(balance_classes=True, **kw).fit(X, y)
    # labelled by H2O's rule (max-F1 threshold), which balancing is tuned for; the
    # scikit-learn predict is the arg-max of the prior-corrected probabilities
    def h2o_labels(m):
        return (m.predict_proba(Xt)[:, 1] >= m.threshold_).astype(int)

    assert recall_score(yt, h2o_labels(bal)) >= recall_score(yt, h2o_labels(plain)) + 0.15
    p1 = bal.predict_proba(Xt)[:, 1]
    assert abs(p1.mean() - yt.mean()) < 0.02, (p1.mean(), yt.mean())
    # the balanced frame defines the epochs: about twice the rows of the original
    assert bal.params_["model_class_distribution"] == pytest.approx([0.5, 0.5], abs=0.01)
    assert bal.params_["prior_class_distribution"][1] == pytest.approx(y.mean())
    assert bal.state_.processed > 1.8 * plain.state_.processed
    back = load_model(bal.save(tmp_path / "balanced.zip"))
    np.testing.assert_array_equal(back.predict_proba(Xt[:50]), bal.predict_proba(Xt[:50]))


def test_exported_scorers_apply_the_correction(data, tmp_path):
    (X, y), (Xt, _) = data
    bal = DeepLearningClassifier(hidden=[8], epochs=1, seed=2, balance_classes=True,
                                 **QUIET).fit(X[:4000], y[:4000])
    want = bal.predict_proba(Xt[:20])
    path = bal.export_python(tmp_path / "bal.py")
    spec = importlib.util.spec_from_file_location("bal_scorer", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = {f"C{i + 1}": Xt[:20, i] for i in range(6)}
    np.testing.assert_allclose(mod.predict_proba(rows), want, atol=1e-9)
    if shutil.which("javac") and shutil.which("java"):
        src = bal.export_java(tmp_path, class_name="Balanced")
        subprocess.run(["javac", "-d", str(tmp_path), str(src)], check=True)
        csv_in = ",".join(rows) + "\n" + "\n".join(
            ",".join(repr(float(v)) for v in r) for r in Xt[:20])
        out = subprocess.run(["java", "-cp", str(tmp_path), "Balanced"], input=csv_in,
                             capture_output=True, text=True, check=True).stdout.splitlines()
        got = np.array([[float(v) for v in line.split(",")[1:]] for line in out[1:]])
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_class_sampling_factors_and_errors(data):
    (X, y), _ = data
    m = DeepLearningClassifier(hidden=[4], epochs=1, seed=1, balance_classes=True,
                               class_sampling_factors=[1.0, 4.0], **QUIET).fit(X[:5000], y[:5000])
    rate = y[:5000].mean()
    assert m.params_["model_class_distribution"][1] == pytest.approx(
        4 * rate / (1 - rate + 4 * rate), abs=0.02)
    with pytest.raises(InvalidParameterError, match="class_sampling_factors"):
        DeepLearningClassifier(balance_classes=True, class_sampling_factors=[1.0]).fit(
            X[:100], y[:100])
    with pytest.raises(InvalidParameterError, match="balance_classes=True"):
        DeepLearningClassifier(class_sampling_factors=[1.0, 2.0]).fit(X[:100], y[:100])


def test_balancing_on_dask_partitions(data):
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("distributed")
    (X, y), (Xt, yt) = data
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(6)]).assign(y=y)
    ddf = dd.from_pandas(frame, npartitions=4)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        m = DeepLearningClassifier(hidden=[16], epochs=5, seed=1, balance_classes=True,
                                   quiet_mode=True).fit(ddf.drop(columns="y"), ddf["y"],
                                                        client=client)
        # no training row went to the driver: blocks were balanced where they live
        assert any("classes balanced" in e for e in m.events_)
    assert m.params_["model_class_distribution"] == pytest.approx([0.5, 0.5], abs=0.01)
    test = pd.DataFrame(Xt, columns=[f"x{i}" for i in range(6)])
    p1 = m.predict_proba(test)[:, 1]
    assert abs(p1.mean() - yt.mean()) < 0.02
    # H2O's labels (max-F1 threshold); predict is the arg-max of the corrected probabilities
    assert recall_score(yt, (p1 >= m.threshold_).astype(int)) > 0.6
