"""Resource guards: networks too large for memory, chunked scoring, overflowing statistics.

A network is sized before it is allocated and refused, naming ``hidden``, when it cannot fit;
scoring goes through row chunks whose buffers stay bounded (and give the same bits as one
pass); a column whose mean or standard deviation overflows float64 is refused by name.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import time
import tracemalloc

import numpy as np
import pandas as pd
import pytest

import dask_deeplearn.memory as memory
from dask_deeplearn import (DeepLearningAutoEncoder, DeepLearningClassifier,
                            DeepLearningEstimator, DeepLearningRegressor)
from dask_deeplearn.exceptions import DataError, InvalidParameterError
from dask_deeplearn.network import forward
from dask_deeplearn.scorer import Scorer


def _frame(n: int = 300, p: int = 5, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, p)), columns=[f"x{i}" for i in range(p)])
    y = pd.Series(X.to_numpy() @ np.arange(1.0, p + 1) + rng.normal(size=n), name="y")
    return X, y


# ---------------------------------------------------------------------- network size
def test_a_network_needing_more_than_the_memory_is_refused_before_allocating():
    """hidden=[10**7] on 300 x 5 under a 2 GiB ``ulimit -v`` headroom: refused at once with
    what it needs and what is available (it used to train and then die scoring 300 rows x
    10**7 units in float64). The child process would fail with a MemoryError, not this
    message, if anything allocated the network."""
    code = textwrap.dedent("""
        import resource, time
        import numpy as np, pandas as pd
        from dask_deeplearn import DeepLearningRegressor
        from dask_deeplearn.exceptions import InvalidParameterError
        rng = np.random.default_rng(0)
        X = pd.DataFrame(rng.normal(size=(300, 5)), columns=list("abcde"))
        y = X.sum(axis=1)
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (used + 2 * 2**30, resource.RLIM_INFINITY))
        t0 = time.time()
        try:
            DeepLearningRegressor(hidden=[10**7], epochs=1, seed=1).fit(X, y)
        except InvalidParameterError as exc:
            print("REFUSED", round(time.time() - t0, 2))
            print(exc)
        else:
            print("FITTED")
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600)
    assert run.stdout.startswith("REFUSED"), (run.stdout[-2000:], run.stderr[-3000:])
    seconds = float(run.stdout.split()[1])
    msg = run.stdout.split("\n", 1)[1]
    assert seconds < 10
    assert "hidden=[10000000]" in msg and "70,000,001 weights and biases" in msg
    assert "units 5 -> 10,000,000 -> 1" in msg
    assert re.search(r"need about 3\.\d GiB in this process, but only [\d.]+ GiB is available", msg)
    assert "narrower hidden layers" in msg


def test_a_network_larger_than_any_machine_is_refused_in_process():
    X, y = _frame()
    t0 = time.time()
    with pytest.raises(InvalidParameterError, match=r"hidden=\[100000, 100000\] makes a "
                       r"network of 10,000,\d{3},\d{3} weights.*need about [\d,.]+ GiB in "
                       r"this process, but only [\d,.]+ [GM]iB is available"):
        DeepLearningRegressor(hidden=[10**5, 10**5], epochs=1).fit(X, y)
    assert time.time() - t0 < 10


def test_the_estimate_covers_what_a_fit_and_its_scoring_allocate():
    """tracemalloc sees every numpy buffer: a fit plus predict of a wide network peaks
    below the estimate, and the estimate is not wildly pessimistic."""
    X, y = _frame()
    model = DeepLearningRegressor(hidden=[1_000_000], epochs=1, seed=3, reproducible=True,
                                  train_samples_per_iteration=100, score_each_iteration=True)
    tracemalloc.start()
    try:
        model.fit(X, y)
        model.predict(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    spec = model.state_.spec
    estimate = memory.network_memory(spec)
    assert spec.n_weights + spec.n_biases == 7_000_001
    assert peak <= estimate <= 4 * peak, (peak / 2**20, estimate / 2**20)


# ---------------------------------------------------------------------- chunked scoring
def test_scoring_rows_keeps_buffers_within_the_budget():
    assert memory.scoring_rows([10**6], 300) == memory.SCORING_BYTES // (8 * 10**6) == 8
    assert memory.scoring_rows([10**9], 300) == 1  # always at least one row
    assert memory.scoring_rows([32], 300) == 300  # one chunk
    assert memory.scoring_rows([32], 0) == 1
    assert memory.scoring_rows([100], 1000, budget=8 * 100 * 64) == 64
    assert memory.scoring_rows([100], 1000, budget=8 * 100 * 300) == 256  # whole blocks


@pytest.fixture(scope="module")
def chunk_models():
    X, y = _frame(n=1000, p=6, seed=2)
    frame = X.assign(c=np.random.default_rng(4).choice(list("abcd"), 1000))
    reg = DeepLearningRegressor(hidden=[40, 30], epochs=2, seed=5, reproducible=True).fit(frame, y)
    clf = DeepLearningClassifier(hidden=[24], activation="Maxout", epochs=2, seed=5,
                                 reproducible=True).fit(frame, (y > y.median()).astype(int))
    ae = DeepLearningAutoEncoder(hidden=[5], epochs=2, seed=5, reproducible=True).fit(frame)
    return frame, reg, clf, ae


def _outputs(frame, reg, clf, ae):
    dense = Scorer.from_fitted(reg.model_)
    dense.fast = False
    X = reg.data_info_.transform_X(frame)
    return {
        "regression (fused)": reg.predict(frame),
        "regression (dense)": dense.raw(frame),
        "classification (fused)": clf.predict_proba(frame),
        "forward": forward(reg.state_.spec, reg.state_.W, reg.state_.B, X),
        "deepfeatures": Scorer.from_fitted(reg.model_).deepfeatures(X, 1),
        "reconstruction": np.asarray(ae.reconstruct(frame)),
        "anomaly": np.asarray(ae.anomaly(frame)),
        "autoencoder features": np.asarray(ae.transform(frame)),
    }


def test_chunked_scoring_gives_the_same_bits_as_one_pass(chunk_models, monkeypatch):
    frame, reg, clf, ae = chunk_models
    whole = _outputs(frame, reg, clf, ae)
    spec = reg.state_.spec
    widths = [int(u) for u in spec.units] + memory.layer_widths(spec)
    # 128 rows a chunk (the budget holds 150): 1000 rows in 8 chunks, the last one partial
    monkeypatch.setattr(memory, "SCORING_BYTES", 8 * 150 * sum(widths))
    assert memory.dense_scoring_rows(spec, len(frame)) == 128
    import dask_deeplearn.network as network

    passes = []
    one_pass = network._forward_rows
    monkeypatch.setattr(network, "_forward_rows", lambda *a: passes.append(1) or one_pass(*a))
    chunked = _outputs(frame, reg, clf, ae)
    assert len(passes) >= 8  # forward really went chunk by chunk
    differ = [name for name, value in whole.items()
              if not np.array_equal(np.asarray(value), np.asarray(chunked[name]))]
    # the fused scorer's chunks were already its own (4096 rows at most); smaller ones
    # change its first layer's summation order only
    assert differ in ([], ["regression (fused)"])
    np.testing.assert_allclose(chunked["regression (fused)"], whole["regression (fused)"],
                               rtol=1e-13, atol=0)


# ---------------------------------------------------------------------- overflowing statistics
def test_a_response_whose_variance_overflows_is_refused():
    X, y = _frame()
    with pytest.raises(DataError, match=r"Response column y: its standard deviation is inf "
                       r"\(the sums over its values overflow float64.*Rescale the column"):
        DeepLearningRegressor(hidden=[4], epochs=1).fit(X, y * 1e300)
    with pytest.raises(DataError, match=r"Response column 'target': its standard deviation"):
        DeepLearningEstimator(hidden=[4], epochs=1).train(
            y="target", training_frame=X.assign(target=y * 1e300))


def test_a_predictor_or_weights_whose_sums_overflow_are_refused():
    X, y = _frame()
    with pytest.raises(DataError, match=r"Numeric column 'x2': its standard deviation is inf"):
        DeepLearningRegressor(hidden=[4], epochs=1).fit(X.assign(x2=X["x2"] * 1e300), y)
    big = X.assign(x3=np.full(len(X), 1e307))
    big.loc[0, "x3"] = -1e307
    with pytest.raises(DataError, match=r"Numeric column 'x3': its (mean|standard deviation)"):
        DeepLearningRegressor(hidden=[4], epochs=1).fit(big, y)
    with pytest.raises(DataError, match=r"Weights column 'w': the sum of its weights "
                       r"overflows to inf"):
        DeepLearningEstimator(hidden=[4], epochs=1, weights_column="w").train(
            y="y", training_frame=X.assign(y=y, w=np.full(len(X), 1e307)))


def test_overflowing_statistics_are_refused_on_dask(client):
    dd = pytest.importorskip("dask.dataframe")
    X, y = _frame()
    ddf = dd.from_pandas(X.assign(y=y * 1e300), npartitions=3)
    with pytest.raises(DataError, match=r"Response column y: its standard deviation is inf"):
        DeepLearningRegressor(hidden=[4], epochs=1).fit(ddf[list(X.columns)], ddf["y"],
                                                        client=client)
    ddf = dd.from_pandas(X.assign(x1=X["x1"] * 1e300, y=y), npartitions=3)
    with pytest.raises(DataError, match=r"Numeric column 'x1': its standard deviation is inf"):
        DeepLearningEstimator(hidden=[4], epochs=1).train(y="y", training_frame=ddf,
                                                          client=client)
