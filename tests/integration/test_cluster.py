"""A real cluster: `dask scheduler` and `dask worker` processes on 127.0.0.1.

Workers run without a nanny, so a worker killed by its pid stays dead (a nanny would
restart it), or with their nanny in a process group of their own, killed together (a
whole node lost).
"""

from __future__ import annotations

import contextlib
import os
import re
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


@contextlib.contextmanager
def _running(n_workers: int, tmp_path, nanny: bool = False):
    c = RealCluster(n_workers, tmp_path, nanny=nanny)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def cluster(tmp_path):
    with _running(2, tmp_path) as c:
        yield c


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


def _register(cluster, plugin: distributed.WorkerPlugin) -> None:
    cluster.client.register_plugin(plugin, name="die-at")


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["ddl-train-4-", "ddl-score-train-4-"])
def test_a_worker_dying_inside_a_training_or_scoring_task_is_survived(cluster, phase):
    df = _data()
    feats = [c for c in df.columns if c.startswith("x")]
    ddf = dd.from_pandas(df, npartitions=8)
    _register(cluster, _DieAt("w0", phase))
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


def _interrupted_checkpoint(ckpt, model_id: str, clf, reason: str, data) -> None:
    """The kept model was written as ``<model_id>_iteration<N>_interrupted.zip`` beside
    the scoring events' checkpoints, and loads with the interruption in its history."""
    df, feats = data
    files = sorted(p.name for p in ckpt.iterdir())
    name = f"{model_id}_iteration{clf.n_iter_}_interrupted.zip"
    assert name in files, files
    scored = [f for f in files if not f.endswith("_interrupted.zip")]
    assert len(files) == len(scored) + 1  # (every scoring event's file is still there)
    kept = load_model(ckpt / name)
    assert kept.stop_reason_ == reason and kept.n_iter_ == clf.n_iter_
    assert kept.scoring_history_["status"].iloc[-1] == reason
    np.testing.assert_array_equal(kept.predict(df[feats]), clf.predict(df[feats]))


@pytest.mark.slow
def test_losing_every_worker_raises_and_keeps_the_last_model(cluster, tmp_path):
    """Every worker dies as iteration 4 starts: the model of iteration 3 is kept, marked
    as interrupted on its history row (it was scored), and written as a checkpoint."""
    df = _data(6_000)
    feats = [c for c in df.columns if c.startswith("x")]
    ddf = dd.from_pandas(df, npartitions=4)
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    clf = DeepLearningClassifier(hidden=[32], epochs=1_000, seed=3,
                                 replicate_training_data=False,
                                 train_samples_per_iteration=2_000, score_each_iteration=True,
                                 export_checkpoints_dir=str(ckpt), model_id="m", **FAST)
    _register(cluster, _DieAt(None, "ddl-train-4-"))
    with pytest.raises(RuntimeError, match="Every Dask worker left"):
        clf.fit(ddf[feats], ddf["y"], client=cluster.client)
    reason = "interrupted: every worker lost"
    assert clf.state_.is_finite() and clf.stop_reason_ == reason and clf.n_iter_ == 3
    history = clf.scoring_history_
    assert list(history["iterations"]) == [0, 1, 2, 3]  # (no row added: iteration 3 scored)
    assert history["status"].iloc[-1] == reason and history["status"].iloc[:-1].isna().all()
    assert np.isfinite(history["training_logloss"].iloc[-1])
    assert clf.score(df[feats], df["y"]) > 0.8
    _interrupted_checkpoint(ckpt, "m", clf, reason, (df, feats))


@pytest.mark.slow
def test_a_worker_joining_mid_training_gets_a_replica_and_trains(cluster):
    df, feats, handle = _start_replicated_fit(cluster, epochs=30, seed=4)
    cluster.add_worker("late")
    fitted = handle.result(timeout=300)
    assert any("joined" in e and "full copy" in e for e in fitted.events_), fitted.events_
    assert len(fitted.worker_rows_) == 3, (fitted.events_, fitted.worker_rows_)
    assert fitted.score(df[feats], df["y"]) > 0.9


@pytest.mark.slow
def test_a_worker_joining_mid_training_gets_a_share_of_the_rows_and_trains(cluster):
    """Without replication, force_load_balance gives a joining worker an even share of
    the rows; it runs a training task in every iteration from the one that saw it join
    (the task stream of the scheduler), and in none before."""
    df = _data(6_000)
    feats = [c for c in df.columns if c.startswith("x")]
    ddf = dd.from_pandas(df, npartitions=4)
    clf = DeepLearningClassifier(hidden=[32], epochs=1_000, seed=4, stopping_rounds=0,
                                 replicate_training_data=False, force_load_balance=True,
                                 train_samples_per_iteration=2_000, score_each_iteration=True,
                                 **FAST)
    with distributed.get_task_stream(client=cluster.client) as stream:
        handle = clf.fit(ddf[feats], ddf["y"], client=cluster.client, block=False)
        _wait_for_history(handle, 3)
        cluster.add_worker("late")
        scored = int(handle.scoring_history["iterations"].max())  # (scoring lags by <= 1)
        _wait_for_history(handle, len(handle.scoring_history) + 4)
        handle.cancel()
        fitted = handle.result(timeout=300)
    late = next(a for a, w in cluster.client.scheduler_info(n_workers=-1)["workers"].items()
                if w["name"] == "late")
    joined = [e for e in fitted.events_ if "joined" in e]
    assert len(joined) == 1 and "a share of the rows" in joined[0], fitted.events_
    first = int(re.match(r"iteration (\d+):", joined[0]).group(1))
    assert first <= scored + 2  # the first iteration that started after it joined
    ran: dict[int, set[str]] = {}  # iteration -> the workers that ran its training tasks
    for task in stream.data:
        m = re.match(r"ddl-train-(\d+)-", str(task["key"]))
        if m:
            ran.setdefault(int(m.group(1)), set()).add(task["worker"])
    assert max(ran) >= first + 2, ran
    assert all(late in ran[i] for i in range(first, max(ran) + 1)), (first, ran)
    assert all(late not in ran[i] for i in ran if i < first), (first, ran)
    assert fitted.worker_rows_[late] == len(df) // 3 and len(fitted.worker_rows_) == 3
    assert sum(fitted.worker_rows_.values()) == len(df)
    assert fitted.stop_reason_ == "cancelled" and fitted.score(df[feats], df["y"]) > 0.9


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


# ---------------------------------------------------------------------- one worker of three
# lost at each moment of a fit, killed (_DieAt) from inside the first task of that moment

#: the moments: the key prefix of the task on the victim that kills it, how many such
#: tasks it runs first, and the settings that make the moment happen (a score interval no
#: fit reaches: the first iteration is scored, then only the final one)
MOMENTS = {
    # (the read of the partitions, with their statistics, during the statistics pass)
    "setup-read": ("ddl-read-", 0, {}),
    "setup-transform": ("ddl-transform-", 0, {}),
    "setup-prepare": ("ddl-prepare-", 0, {}),
    "calibration": ("ddl-calibrate-", 0, {"train_samples_per_iteration": -2}),
    "iteration": ("ddl-train-3-", 0, {}),
    "scoring": ("ddl-score-train-3-", 0, {}),
    "end": ("ddl-score-train-", 1, {"score_each_iteration": False, "score_interval": 1e6}),
}
#: a short fit (one pass over the 3,000 rows per iteration) whose accuracy has converged
#: to within a few tenths of a point whether it trains on three workers, two or one
LOSS = dict(hidden=[16], epochs=6, seed=7, train_samples_per_iteration=3_000,
            score_each_iteration=True, score_training_samples=1_000, stopping_rounds=0,
            classification_stop=-1, **FAST)


@pytest.fixture(scope="module")
def loss_data():
    df = _data(3_000)
    feats = [c for c in df.columns if c.startswith("x")]
    return df, feats


@pytest.fixture
def cluster3(tmp_path):
    with _running(3, tmp_path) as c:
        yield c


@pytest.fixture
def nodes3(tmp_path):
    """Three workers, each with its nanny (a node)."""
    with _running(3, tmp_path, nanny=True) as c:
        yield c


@pytest.fixture(scope="module")
def calm_accuracy(loss_data, tmp_path_factory):
    """``calm_accuracy(settings)``: accuracy of the same fit, same data and seed,
    undisturbed on a cluster of three workers (one fit per distinct settings)."""
    df, feats = loss_data
    done: dict[str, float] = {}

    def accuracy(settings: dict) -> float:
        key = repr(sorted(settings.items()))
        if key not in done:
            ddf = dd.from_pandas(df, npartitions=6)
            calm = DeepLearningClassifier(**{**LOSS, **settings})
            calm.fit(ddf[feats], ddf["y"], client=cluster.client)
            assert not any("left" in e for e in calm.events_), calm.events_
            done[key] = calm.score(df[feats], df["y"])
        return done[key]

    with _running(3, tmp_path_factory.mktemp("calm")) as cluster:
        yield accuracy


def _kill_at(cluster, prefix: str, skip: int, node: bool = False) -> tuple[str, str]:
    """Arm the kill: the first worker (by address) dies in its task ``skip + 1`` of
    ``prefix``."""
    victim = sorted(cluster.worker_pids())[0]  # (it scores a share of every sample)
    name = cluster.client.scheduler_info(n_workers=-1)["workers"][victim]["name"]
    _register(cluster, _DieAt(name, prefix, node=node, skip=skip))
    return victim, name


def _survives(cluster, loss_data, calm_accuracy, moment: str, replicate: bool,
              node: bool = False) -> str:
    """One worker of three killed at ``moment``: the fit finishes on the other two within
    1 point of the accuracy of the undisturbed fit. Returns the victim's name."""
    df, feats = loss_data
    prefix, skip, settings = MOMENTS[moment]
    settings = {**settings, "replicate_training_data": replicate}
    calm = calm_accuracy(settings)
    victim, name = _kill_at(cluster, prefix, skip, node=node)
    ddf = dd.from_pandas(df, npartitions=6)
    clf = DeepLearningClassifier(**{**LOSS, **settings})
    t0 = time.time()
    clf.fit(ddf[feats], ddf["y"], client=cluster.client)
    assert time.time() - t0 < 120
    workers = cluster.client.scheduler_info(n_workers=-1)["workers"]
    assert victim not in workers and len(workers) == 2, workers  # it died, and stayed dead
    assert clf.stop_reason_ == "epochs" and clf.epochs_ >= 6
    assert victim not in clf.worker_rows_ and clf.worker_rows_
    acc = clf.score(df[feats], df["y"])
    assert acc >= calm - 0.01, (acc, calm, clf.events_)
    return name


@pytest.mark.slow
@pytest.mark.parametrize("replicate", [True, False], ids=["replicated", "local"])
@pytest.mark.parametrize("moment", list(MOMENTS))
def test_one_worker_of_three_lost_at_any_moment_of_a_fit_is_survived(
        cluster3, loss_data, calm_accuracy, moment, replicate):
    _survives(cluster3, loss_data, calm_accuracy, moment, replicate)


@pytest.mark.slow
@pytest.mark.parametrize("replicate", [True, False], ids=["replicated", "local"])
@pytest.mark.parametrize("moment", ["iteration", "scoring"])
def test_a_whole_node_of_three_lost_in_an_iteration_or_a_scoring_is_survived(
        nodes3, loss_data, calm_accuracy, moment, replicate):
    """The worker and its nanny are killed together (SIGKILL of their process group)."""
    name = _survives(nodes3, loss_data, calm_accuracy, moment, replicate, node=True)
    assert nodes3.nodes[name].poll() is not None  # the nanny died too: nothing restarts it


def _held_metadata(dask_worker) -> list:
    """Keys of the fit's DataInfo held by a worker (``client.run``)."""
    return [k for k, v in dask_worker.data.items() if type(v).__name__ == "DataInfo"]


@pytest.mark.slow
def test_losing_the_worker_holding_the_data_description_is_survived(cluster, loss_data,
                                                                    calm_accuracy):
    """The DataInfo every scoring task needs is recomputed, not lost with its worker."""
    import cloudpickle
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    calm = calm_accuracy({"replicate_training_data": False})
    df, feats = loss_data
    ddf = dd.from_pandas(df, npartitions=4)
    # (long enough that Dask's memory manager trims the copies before the fit ends, also
    # on a loaded machine: the setup got faster, and once a 60-epoch fit ended first)
    clf = DeepLearningClassifier(**{**LOSS, "epochs": 120, "replicate_training_data": False})
    pids = cluster.worker_pids()
    handle = clf.fit(ddf[feats], ddf["y"], client=cluster.client, block=False)
    _wait_for_history(handle, 2)
    deadline = time.time() + 60
    while time.time() < deadline and not handle.done():
        held = {w for w, keys in cluster.client.run(_held_metadata).items() if keys}
        if len(held) == 1:  # Dask's memory manager trimmed the copies down to one
            break
        time.sleep(0.02)
    assert len(held) == 1 and not handle.done(), (held, handle.done())
    os.kill(pids[held.pop()], signal.SIGKILL)
    fitted = handle.result(timeout=300)
    assert fitted.epochs_ >= 120 and len(fitted.worker_rows_) == 1
    assert fitted.score(df[feats], df["y"]) >= calm - 0.01


@pytest.mark.slow
@pytest.mark.parametrize("replicate", [True, False], ids=["replicated", "local"])
def test_a_worker_lost_while_the_model_is_sent_to_the_workers_is_survived(
        cluster, loss_data, calm_accuracy, replicate):
    """w0 kills w1 as it receives its 4th copy of a model: sending the copy to the dead
    worker fails, and the fit goes on with the survivor. (Sent with
    ``scatter(broadcast=True)``, Dask copied the model to the dead worker in a loop that
    never ends, and the fit hung.)"""
    df, feats = loss_data
    calm = calm_accuracy({"replicate_training_data": replicate})
    info = cluster.client.scheduler_info(n_workers=-1)["workers"]
    pids = {info[a]["name"]: pid for a, pid in cluster.worker_pids().items()}
    _register(cluster, _DieAt("w0", "ddl-model", on="memory", skip=3, pid=pids["w1"]))
    ddf = dd.from_pandas(df, npartitions=6)
    clf = DeepLearningClassifier(**{**LOSS, "replicate_training_data": replicate})
    fitted = clf.fit(ddf[feats], ddf["y"], client=cluster.client, block=False).result(
        timeout=120)
    assert len(cluster.client.scheduler_info(n_workers=-1)["workers"]) == 1  # one died
    assert any("left" in e or "re-planned" in e for e in fitted.events_), fitted.events_
    assert fitted.stop_reason_ == "epochs" and fitted.epochs_ >= 6
    assert fitted.score(df[feats], df["y"]) >= calm - 0.01


@pytest.mark.slow
def test_losing_the_scheduler_raises_a_clear_error_and_keeps_the_last_model(cluster, tmp_path,
                                                                            loss_data):
    """The scheduler is killed as iteration 4 starts, with no scoring after iteration 1:
    the model of iteration 3 is kept, on a history row of its own (nothing could score it),
    marked as interrupted, and written as a checkpoint. The error comes within seconds of
    the kill: nothing waits for the client to give up reconnecting (its connection
    timeout, 60 s here), not even releasing the workers' locks."""
    df, feats = loss_data
    ddf = dd.from_pandas(df, npartitions=4)
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    stamp = tmp_path / "killed-at"
    clf = DeepLearningClassifier(**{**LOSS, "epochs": 1_000, "model_id": "s",
                                    "score_each_iteration": False, "score_interval": 1e6,
                                    "export_checkpoints_dir": str(ckpt)})
    _register(cluster, _DieAt("w0", "ddl-train-4-", pid=cluster.procs[0].pid,
                              stamp=str(stamp)))
    with pytest.raises(RuntimeError, match="scheduler"):
        clf.fit(ddf[feats], ddf["y"], client=cluster.client)
    assert time.time() - float(stamp.read_text()) < 15
    reason = "interrupted: scheduler lost"
    assert clf.state_.is_finite() and clf.stop_reason_ == reason and clf.n_iter_ == 3
    history = clf.scoring_history_
    # (the first iteration is always scored; the kept model never was)
    assert list(history["iterations"]) == [0, 1, 3]
    assert list(history["status"].isna()) == [True, True, False]
    assert history["status"].iloc[-1] == reason
    assert list(history["training_logloss"].isna()) == [True, False, True]
    assert history["samples"].iloc[-1] == clf.state_.processed
    assert clf.score(df[feats], df["y"]) > 0.8
    _interrupted_checkpoint(ckpt, "s", clf, reason, (df, feats))
