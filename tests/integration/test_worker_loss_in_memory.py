"""A worker lost in mid-training when the training frame is held in the workers' memory.

The usual call persists the frame first (``ddf = client.persist(dd.read_parquet(...))``);
each partition's transform is then pinned to the worker that holds it. When that worker
dies, its blocks must come back on a survivor from their lineage.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from benchmarks.process_cluster import DieAt, RealCluster  # noqa: E402
from dask_deeplearn import DeepLearningClassifier  # noqa: E402

FAST = dict(mini_batch_size=16, adaptive_rate=False, rate=0.05, momentum_start=0.9,
            momentum_stable=0.9, nesterov_accelerated_gradient=True, quiet_mode=True)


@pytest.mark.slow
@pytest.mark.parametrize("frame_kind", ["persisted by the user", "read by the fit"])
def test_a_worker_lost_mid_training_on_a_frame_in_memory_is_survived(tmp_path, frame_kind):
    rng = np.random.default_rng(0)
    n, p = 16_000, 10
    X = rng.normal(size=(n, p))
    table = pd.DataFrame(X, columns=[f"x{i}" for i in range(p)]).assign(
        label=(X[:, 0] + X[:, 1] > 0).astype(int))
    cluster = RealCluster(2, tmp_path)
    try:
        client = cluster.client
        if frame_kind == "persisted by the user":
            ddf = client.persist(dd.from_pandas(table, npartitions=8, sort=False))
            client.gather(distributed.futures_of(ddf))  # in memory, on both workers
        else:
            for i, rows in enumerate(np.array_split(np.arange(n), 8)):
                table.iloc[rows].to_parquet(tmp_path / f"part.{i}.parquet")
            ddf = dd.read_parquet(tmp_path, index=False)
        client.register_plugin(DieAt("w0", "ddl-train-2-"), name="die-at-iteration-2")
        clf = DeepLearningClassifier(hidden=[16], epochs=4, seed=1, score_each_iteration=True,
                                     train_samples_per_iteration=4000,
                                     replicate_training_data=False, **FAST)
        out: dict = {}

        def fit():
            try:
                clf.fit(ddf.drop(columns="label"), ddf["label"], client=client)
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                out["error"] = exc

        t = threading.Thread(target=fit, daemon=True)
        t.start()
        t.join(180)
        assert not t.is_alive(), "the fit still waits for the lost worker's blocks"
        assert "error" not in out, out.get("error")
        assert len(client.scheduler_info()["workers"]) == 1  # w0 really died
        assert any("left" in e or "re-planned" in e for e in clf.events_)
        assert clf.epochs_ >= 4
        assert clf.score(table.drop(columns="label"), table["label"]) > 0.9
    finally:
        cluster.close()
