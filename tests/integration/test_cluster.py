"""A real cluster: `dask scheduler` and `dask worker` processes on 127.0.0.1.

Workers run without a nanny, so a worker killed by its pid stays dead (a nanny would
restart it).
"""

from __future__ import annotations

import os
import signal
import sys
import time

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from benchmarks.process_cluster import DieAt as _DieAt  # noqa: E402
from benchmarks.process_cluster import RealCluster  # noqa: E402
from dask_deeplearn import DeepLearningClassifier, load_model, score_parquet  # noqa: E402

FAST = dict(mini_batch_size=16, adaptive_rate=False, rate=0.05, momentum_start=0.9,
            momentum_stable=0.9, nesterov_accelerated_gradient=True, quiet_mode=True)


@pytest.fixture
def cluster(tmp_path):
    c = RealCluster(2, tmp_path)
    try:
        yield c
    finally:
        c.close()


def _wait_for_history(handle, rows: int, timeout: float = 120.0) -> None:
    """Block until a background fit has scored ``rows`` history rows (live history)."""
    deadline = time.time() + timeout
    while (handle.scoring_history is None or len(handle.scoring_history) < rows) \
            and time.time() < deadline:
        time.sleep(0.05)
    assert handle.scoring_history is not None and len(handle.scoring_history) >= rows


def _start_replicated_fit(cluster, *, epochs: int, seed: int):
    """A background fit with H2O's default replication, after its third scoring event."""
    df = _data(10_000)
    feats = [c for c in df.columns if c.startswith("x")]
    ddf = dd.from_pandas(df, npartitions=4)
    clf = DeepLearningClassifier(hidden=[32], epochs=epochs, seed=seed, stopping_rounds=0,
                                 train_samples_per_iteration=2_000, score_each_iteration=True,
                                 **FAST)
    handle = clf.fit(ddf[feats], ddf["y"], client=cluster.client, block=False)
    _wait_for_history(handle, 3)
    return df, feats, handle


def _data(n: int = 20_000, p: int = 20, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = (X[:, 0] + 0.5 * X[:, 1] - X[:, 2] > 0).astype(int)
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(p)]).assign(id=np.arange(n), y=y)


@pytest.mark.slow
def test_train_predict_and_score_parquet_through_a_scheduler_address(cluster, tmp_path):
    df = _data(4_000)
    feats = [c for c in df.columns if c.startswith("x")]
    ddf = dd.from_pandas(df, npartitions=4)
    clf = DeepLearningClassifier(hidden=[16], epochs=3, seed=1,
                                 scheduler_address=cluster.address, **FAST)
    clf.fit(ddf[feats], ddf["y"])
    assert clf.backend_ == "dask" and clf.score(df[feats], df["y"]) > 0.9
    with cluster.client.as_current():
        lazy = clf.predict(ddf[feats]).compute()
    np.testing.assert_array_equal(lazy.to_numpy(), clf.predict(df[feats]))
    ddf.drop(columns="y").to_parquet(tmp_path / "in")
    score_parquet(clf, tmp_path / "in", tmp_path / "out", keep=["id"], client=cluster.client)
    out = pd.read_parquet(tmp_path / "out")
    assert list(out["id"]) == list(df["id"]) and len(out) == len(df)


@pytest.mark.slow
def test_losing_a_worker_mid_training_replans_and_finishes(cluster):
    df = _data()
    feats = [c for c in df.columns if c.startswith("x")]
    ddf = dd.from_pandas(df, npartitions=8)
    params = dict(hidden=[32], epochs=12, seed=2, replicate_training_data=False,
                  train_samples_per_iteration=2_000, score_each_iteration=True,
                  score_training_samples=2_000, stopping_rounds=0, **FAST)
    calm = DeepLearningClassifier(**params).fit(ddf[feats], ddf["y"], client=cluster.client)
    pids = cluster.worker_pids()
    handle = DeepLearningClassifier(**params).fit(ddf[feats], ddf["y"], client=cluster.client,
                                                  block=False)
    _wait_for_history(handle, 4)
    victim = sorted(pids)[0]
    os.kill(pids[victim], signal.SIGKILL)
    hurt = handle.result(timeout=300)
    assert any("re-planned" in e or "left" in e for e in hurt.events_), hurt.events_
    assert list(hurt.worker_rows_) != sorted(pids) or len(hurt.worker_rows_) == 1
    assert hurt.epochs_ >= 12
    acc_calm = calm.score(df[feats], df["y"])
    acc_hurt = hurt.score(df[feats], df["y"])
    assert acc_hurt >= acc_calm - 0.01, (acc_calm, acc_hurt)


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["ddl-train-iter-4-", "ddl-score-train-4-"])
def test_a_worker_dying_inside_a_training_or_scoring_task_is_survived(cluster, phase):
    import cloudpickle
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    df = _data()
    feats = [c for c in df.columns if c.startswith("x")]
    ddf = dd.from_pandas(df, npartitions=8)
    cluster.client.register_plugin(_DieAt("w0", phase), name="die-at")
    clf = DeepLearningClassifier(hidden=[32], epochs=8, seed=2, replicate_training_data=False,
                                 train_samples_per_iteration=2_000, score_each_iteration=True,
                                 score_training_samples=2_000, stopping_rounds=0, **FAST)
    clf.fit(ddf[feats], ddf["y"], client=cluster.client)
    assert len(cluster.client.scheduler_info(n_workers=-1)["workers"]) == 1  # w0 really died
    # noticed in the step that lost the task, or (when Dask quietly re-ran a lost scoring
    # task elsewhere) at the next iteration boundary
    assert any(e.startswith(("iteration 4:", "iteration 5:")) for e in clf.events_), clf.events_
    assert clf.epochs_ >= 8 and len(clf.worker_rows_) == 1
    assert clf.score(df[feats], df["y"]) > 0.9


@pytest.mark.slow
def test_losing_every_worker_raises_and_keeps_the_last_model(cluster, tmp_path):
    df = _data()
    feats = [c for c in df.columns if c.startswith("x")]
    ddf = dd.from_pandas(df, npartitions=4)
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    clf = DeepLearningClassifier(hidden=[32], epochs=1_000, seed=3,
                                 replicate_training_data=False,
                                 train_samples_per_iteration=2_000, score_each_iteration=True,
                                 export_checkpoints_dir=str(ckpt), model_id="m", **FAST)
    pids = cluster.worker_pids()
    handle = clf.fit(ddf[feats], ddf["y"], client=cluster.client, block=False)
    _wait_for_history(handle, 3)
    for pid in pids.values():
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(RuntimeError, match="Every Dask worker left"):
        handle.result(timeout=120)
    assert clf.state_.is_finite() and clf.stop_reason_ == "failed"
    assert clf.score(df[feats], df["y"]) > 0.8
    files = sorted(ckpt.iterdir(), key=lambda p: p.stat().st_mtime)
    assert files and load_model(files[-1]).score(df[feats], df["y"]) > 0.8


@pytest.mark.slow
def test_a_worker_joining_mid_training_gets_a_replica_and_trains(cluster):
    df, feats, handle = _start_replicated_fit(cluster, epochs=30, seed=4)
    cluster.add_worker("late")
    fitted = handle.result(timeout=300)
    assert any("joined" in e and "full copy" in e for e in fitted.events_), fitted.events_
    assert len(fitted.worker_rows_) == 3, (fitted.events_, fitted.worker_rows_)
    assert fitted.score(df[feats], df["y"]) > 0.9


@pytest.mark.slow
def test_losing_a_worker_with_replicated_data_keeps_training_on_the_survivor(cluster):
    pids = cluster.worker_pids()
    df, feats, handle = _start_replicated_fit(cluster, epochs=20, seed=5)
    victim = sorted(pids)[1]
    os.kill(pids[victim], signal.SIGKILL)
    fitted = handle.result(timeout=300)
    assert fitted.params_["replicate_training_data"] is True
    assert victim not in fitted.worker_rows_ and len(fitted.worker_rows_) == 1
    assert list(fitted.worker_rows_.values()) == [len(df)]   # the survivor's full copy
    assert fitted.epochs_ >= 20 and fitted.score(df[feats], df["y"]) > 0.9


# ---------------------------------------------------------------------- one worker lost at
# each moment of a fit, killed (_DieAt) from inside the first task of that moment on it

#: the moments: the key prefix whose first task on the victim kills it, and the settings
#: that make that moment happen (a score interval no fit reaches: only the final scoring)
MOMENTS = {
    # (the transform is fused into the user's graph: its key names the graph, then ours)
    "setup-transform": ("ddl_transform-", {}),
    "setup-prepare": ("ddl-prepare-", {}),
    "calibration": ("ddl-calibrate-", {"train_samples_per_iteration": -2}),
    "iteration": ("ddl-train-iter-3-", {}),
    "scoring": ("ddl-score-train-3-", {}),
    "end": ("ddl-score-train-", {"score_each_iteration": False, "score_interval": 1e6}),
}
LOSS = dict(hidden=[16], epochs=4, seed=7, train_samples_per_iteration=1_000,
            score_each_iteration=True, score_training_samples=1_000, stopping_rounds=0,
            classification_stop=-1, **FAST)


@pytest.fixture(scope="module")
def loss_data():
    df = _data(3_000)
    feats = [c for c in df.columns if c.startswith("x")]
    return df, feats


@pytest.fixture(scope="module")
def calm_accuracy(loss_data):
    """Accuracy of the same fit, undisturbed (in-process)."""
    df, feats = loss_data
    calm = DeepLearningClassifier(**LOSS).fit(df[feats], df["y"])
    return calm.score(df[feats], df["y"])


def _kill_at(cluster, prefix: str) -> str:
    import cloudpickle
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    victim = sorted(cluster.worker_pids())[0]  # (holds the replicated scoring sample)
    name = cluster.client.scheduler_info(n_workers=-1)["workers"][victim]["name"]
    cluster.client.register_plugin(_DieAt(name, prefix), name="die-at")
    return victim


@pytest.mark.slow
@pytest.mark.parametrize("replicate", [True, False], ids=["replicated", "local"])
@pytest.mark.parametrize("moment", list(MOMENTS))
def test_one_worker_lost_at_any_moment_of_a_fit_is_survived(cluster, loss_data,
                                                            calm_accuracy, moment, replicate):
    df, feats = loss_data
    prefix, settings = MOMENTS[moment]
    victim = _kill_at(cluster, prefix)
    ddf = dd.from_pandas(df, npartitions=4)
    clf = DeepLearningClassifier(**{**LOSS, **settings, "replicate_training_data": replicate})
    t0 = time.time()
    clf.fit(ddf[feats], ddf["y"], client=cluster.client)
    assert victim not in cluster.client.scheduler_info(n_workers=-1)["workers"]  # it died
    assert time.time() - t0 < 120
    assert clf.stop_reason_ == "epochs" and clf.epochs_ >= 4
    assert list(clf.worker_rows_) != [victim] and victim not in clf.worker_rows_
    assert clf.score(df[feats], df["y"]) >= calm_accuracy - 0.02, clf.events_


def _held_metadata(dask_worker) -> list:
    """Keys of the fit's DataInfo held by a worker (``client.run``)."""
    return [k for k, v in dask_worker.data.items() if type(v).__name__ == "DataInfo"]


@pytest.mark.slow
def test_losing_the_worker_holding_the_data_description_is_survived(cluster, loss_data,
                                                                    calm_accuracy):
    """The DataInfo every scoring task needs is recomputed, not lost with its worker."""
    import cloudpickle
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    df, feats = loss_data
    ddf = dd.from_pandas(df, npartitions=4)
    clf = DeepLearningClassifier(**{**LOSS, "epochs": 60, "replicate_training_data": False})
    pids = cluster.worker_pids()
    handle = clf.fit(ddf[feats], ddf["y"], client=cluster.client, block=False)
    _wait_for_history(handle, 2)
    deadline = time.time() + 60
    while time.time() < deadline and not handle.done():
        held = {w for w, keys in cluster.client.run(_held_metadata).items() if keys}
        if len(held) == 1:  # Dask's memory manager trimmed the copies down to one
            break
        time.sleep(0.02)
    assert len(held) == 1 and not handle.done(), held
    os.kill(pids[held.pop()], signal.SIGKILL)
    fitted = handle.result(timeout=300)
    assert fitted.epochs_ >= 60 and len(fitted.worker_rows_) == 1
    assert fitted.score(df[feats], df["y"]) >= calm_accuracy - 0.02


@pytest.mark.slow
def test_losing_the_scheduler_raises_a_clear_error_and_keeps_the_last_model(cluster, tmp_path,
                                                                            loss_data):
    df, feats = loss_data
    ddf = dd.from_pandas(df, npartitions=4)
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    clf = DeepLearningClassifier(**{**LOSS, "epochs": 1_000, "model_id": "s",
                                    "export_checkpoints_dir": str(ckpt)})
    handle = clf.fit(ddf[feats], ddf["y"], client=cluster.client, block=False)
    _wait_for_history(handle, 3)
    cluster.procs[0].kill()  # the scheduler
    t0 = time.time()
    with pytest.raises(RuntimeError, match="scheduler"):
        handle.result(timeout=120)
    assert time.time() - t0 < 90
    assert clf.state_.is_finite() and clf.stop_reason_ == "failed"
    assert clf.score(df[feats], df["y"]) > 0.8
    files = sorted(ckpt.iterdir(), key=lambda p: p.stat().st_mtime)
    assert files and load_model(files[-1]).score(df[feats], df["y"]) > 0.8
