"""Training rows stay on the worker that holds them, whatever graph X and y come from.

Measured with the workers' own transfer counters on a real 2-process ``LocalCluster``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from dask_deeplearn import DeepLearningClassifier  # noqa: E402
from dask_deeplearn.distributed.tasks import ddl_transfer_bytes  # noqa: E402

FAST = dict(mini_batch_size=16, adaptive_rate=False, rate=0.05, momentum_start=0.9,
            momentum_stable=0.9, nesterov_accelerated_gradient=True, quiet_mode=True)
N, P = 40_000, 30


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, P))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(P)]).assign(label=y)


def _persisted(client, frame, holders):
    """``frame`` persisted as ``len(holders)`` partitions, partition i on ``holders[i]``."""
    parts = dd.from_pandas(frame, npartitions=len(holders), sort=False).to_delayed()
    futures = [client.compute(p, workers=[w]) for p, w in zip(parts, holders)]
    ddf = client.persist(dd.from_delayed(futures, meta=frame.iloc[:0], verify_meta=False))
    with client.as_current():
        distributed.wait(distributed.futures_of(ddf))
    return ddf


def _peer_bytes(dask_worker) -> int:
    """Bytes this worker fetched from other workers so far (its incoming transfer log)."""
    return int(sum(t["total"] for t in dask_worker.transfer_incoming_log))


def _fit_and_count(client, X, y, **params):
    """Fit on the cluster; bytes that crossed between workers meanwhile.

    Checks on the way that the workers' outgoing counters (peers and client together)
    stay within 10 % of the training bytes plus the protocol traffic (weights, metric
    partials), so nothing bypasses the peer counters.
    """
    sent0, peer0 = client.run(ddl_transfer_bytes), client.run(_peer_bytes)
    clf = DeepLearningClassifier(hidden=[10], epochs=2, seed=7, replicate_training_data=False,
                                 score_each_iteration=True, **FAST, **params)
    clf.fit(X, y, client=client)
    sent1, peer1 = client.run(ddl_transfer_bytes), client.run(_peer_bytes)
    sent = sum(sent1[w] - sent0.get(w, 0) for w in sent1)
    peer = sum(peer1[w] - peer0.get(w, 0) for w in peer1)
    assert sent - peer < 0.1 * N * (P + 2) * 4 + 300_000
    return clf, peer


def test_projected_columns_of_a_persisted_uneven_frame_stay_where_they_are(client, table):
    workers = sorted(client.scheduler_info()["workers"])
    holders = [workers[0]] * 6 + [workers[1]] * 2
    ddf = _persisted(client, table, holders)
    clf, sent = _fit_and_count(client, ddf.drop(columns="label"), ddf["label"],
                               force_load_balance=False)
    # every worker trains on exactly the rows it held: 6/8 and 2/8 of the frame
    assert clf.worker_rows_ == {workers[0]: N * 6 // 8, workers[1]: N * 2 // 8}
    training_bytes = N * (P + 1) * 4  # the float32 training blocks
    assert sent < 0.05 * training_bytes, f"{sent:,} bytes moved of {training_bytes:,}"


def test_arithmetic_and_assign_on_a_persisted_frame_stay_local(client, table):
    workers = sorted(client.scheduler_info()["workers"])
    holders = [workers[1]] * 5 + [workers[0]] * 3
    ddf = _persisted(client, table, holders)
    X = ddf.drop(columns="label").assign(x0=ddf["x0"] * 2 + 1, extra=ddf["x1"] - ddf["x2"])
    clf, sent = _fit_and_count(client, X, ddf["label"] == 1, force_load_balance=False)
    assert clf.worker_rows_ == {workers[1]: N * 5 // 8, workers[0]: N * 3 // 8}
    assert sent < 0.05 * N * (P + 2) * 4


def test_read_parquet_partitions_are_read_and_transformed_in_one_place(client, table, tmp_path):
    for i, rows in enumerate(np.array_split(np.arange(N), 8)):
        table.iloc[rows].to_parquet(tmp_path / f"part.{i}.parquet")
    ddf = dd.read_parquet(tmp_path)
    clf, sent = _fit_and_count(client, ddf.drop(columns="label"), ddf["label"],
                               force_load_balance=False)
    assert sum(clf.worker_rows_.values()) == N
    assert sent < 0.05 * N * (P + 1) * 4


def test_one_persisted_partition_is_split_where_it_lives(client, table):
    workers = sorted(client.scheduler_info()["workers"])
    one = _persisted(client, table, [workers[0]])
    X, y = one.drop(columns="label"), one["label"]
    training_bytes = N * (P + 1) * 4
    # force_load_balance=False: nothing moves, the holder trains on everything
    lonely, sent = _fit_and_count(client, X, y, force_load_balance=False)
    assert lonely.worker_rows_ == {workers[0]: N}
    assert sent < 0.05 * training_bytes
    # force_load_balance=True (the default): split where it lives, the other half moves
    balanced, sent = _fit_and_count(client, X, y, force_load_balance=True)
    assert balanced.worker_rows_ == {workers[0]: N // 2, workers[1]: N // 2}
    assert 0.4 * training_bytes < sent < 0.6 * training_bytes
    assert balanced.score(table.drop(columns="label"), table["label"]) > 0.9


def test_a_parquet_frame_is_read_once_per_fit(client, table, tmp_path):
    # the statistics pass and the blocks come from one read of each file, not two
    for i, rows in enumerate(np.array_split(np.arange(N), 8)):
        table.iloc[rows].to_parquet(tmp_path / f"part.{i}.parquet")
    ddf = dd.read_parquet(tmp_path)
    with distributed.get_task_stream(client=client) as stream:
        clf, sent = _fit_and_count(client, ddf.drop(columns="label"), ddf["label"],
                                   force_load_balance=False)
    # (the file reads are fused into the fit's read tasks, one per file; a separate read
    # would show under its own key: read-parquet-..., read_parquet-...)
    alone = [t["key"] for t in stream.data
             if "read-parquet" in str(t["key"]) or "read_parquet" in str(t["key"])]
    reads = [t["key"] for t in stream.data if str(t["key"]).startswith("ddl-read-")]
    assert alone == [] and len(reads) == 8, f"{len(reads)} reads for 8 files, {alone}"
    assert sent < 0.05 * N * (P + 1) * 4
    # the persisted partitions are released once the blocks are built
    assert not [k for k in client.who_has() if "read" in str(k) and "parquet" in str(k)]


def test_a_persisted_frame_is_read_once_by_the_fits_own_tasks(client, table):
    """Statistics and blocks come from one read of each persisted partition, by tasks of
    the fit (``ddl-read``): no alias task of the persisted frame runs, and no pandas
    partition is stored as a task result on the way (each would be stored and measured
    again by its worker, a large part of a fit's setup on a wide frame)."""
    from dask.utils import key_split

    workers = sorted(client.scheduler_info()["workers"])
    ddf = _persisted(client, table, [workers[0]] * 4 + [workers[1]] * 4)
    with distributed.get_task_stream(client=client) as stream:
        clf, sent = _fit_and_count(client, ddf.drop(columns="label"), ddf["label"],
                                   force_load_balance=False)
    stages = [key_split(t["key"]) for t in stream.data]
    assert [s for s in stages if not s.startswith("ddl-")] == [], sorted(set(stages))
    assert stages.count("ddl-read") == 8 and stages.count("ddl-transform") == 8
    assert sent < 0.05 * N * (P + 1) * 4


def _slow_partition(part, seconds):
    import time

    time.sleep(seconds)
    return part


def test_a_persist_still_running_when_fit_starts_stays_where_it_lands(client, table):
    workers = sorted(client.scheduler_info()["workers"])
    holders = [workers[0]] * 6 + [workers[1]] * 2
    parts = dd.from_pandas(table, npartitions=8, sort=False).to_delayed()
    import dask

    futures = [client.compute(dask.delayed(_slow_partition)(p, 0.5), workers=[w])
               for p, w in zip(parts, holders)]
    ddf = dd.from_delayed(futures, meta=table.iloc[:0], verify_meta=False)
    assert not all(f.done() for f in futures)  # still running when fit starts
    clf, sent = _fit_and_count(client, ddf.drop(columns="label"), ddf["label"],
                               force_load_balance=False)
    assert clf.worker_rows_ == {workers[0]: N * 6 // 8, workers[1]: N * 2 // 8}
    assert sent < 0.05 * N * (P + 1) * 4


#: what a worker must not import to run a fit's tasks
HEAVY = ("sklearn", "dask_deeplearn.estimators")


def test_a_new_worker_runs_a_fit_without_importing_the_estimators(table):
    """A Dask fit's tasks are read on the workers with the light worker-side modules: not
    with the estimators and scikit-learn (two seconds of a new worker's first fit, spent
    unpickling the task that attaches ``y`` to ``X``)."""
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster, set_as_default=False) as c:
        ddf = dd.from_pandas(table, npartitions=2)
        clf = DeepLearningClassifier(hidden=[4], epochs=1, seed=1, **FAST)
        clf.fit(ddf.drop(columns="label"), ddf["label"], client=c)
        assert clf.backend_ == "dask"
        # (a lambda travels by value: a function of this module would import it, and the
        # estimators with it, on the worker)
        imported = c.run(lambda: [m for m in HEAVY if m in __import__("sys").modules])
        assert list(imported.values()) == [[]]
