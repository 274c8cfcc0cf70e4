"""Training and scoring on a real multi-process ``distributed.LocalCluster``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from dask_deeplearn import DeepLearningClassifier, DeepLearningEstimator, DeepLearningRegressor  # noqa: E402
from dask_deeplearn.distributed import average_states, plan_blocks  # noqa: E402
from dask_deeplearn.distributed.backend import replica_fits  # noqa: E402
from dask_deeplearn.distributed.cluster import WarmupPlugin  # noqa: E402
from dask_deeplearn.distributed.tasks import ddl_transfer_bytes  # noqa: E402
from dask_deeplearn.exceptions import DataError  # noqa: E402
from dask_deeplearn.network import NetworkSpec, init_state  # noqa: E402

FAST = dict(mini_batch_size=16, adaptive_rate=False, rate=0.05, momentum_start=0.9,
            momentum_stable=0.9, nesterov_accelerated_gradient=True, quiet_mode=True)


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    cols = [f"p{i}" for i in range(X.shape[1])]
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0)
    train = pd.DataFrame(Xtr, columns=cols).assign(y=ytr)
    train.index = train.index + 1000  # a non-default index, to check it is kept
    test = pd.DataFrame(Xte, columns=cols).assign(y=yte)
    return train, test, cols


def _dask(frame, n):
    return dd.from_pandas(frame, npartitions=n, sort=False)


def test_eight_partitions_train_like_the_in_process_backend(client, digits):
    train, test, cols = digits
    ddf = _dask(train, 8)
    params = dict(hidden=[32], epochs=10, seed=1, replicate_training_data=False, **FAST)
    on_dask = DeepLearningClassifier(**params).fit(ddf[cols], ddf["y"], client=client)
    local = DeepLearningClassifier(**params).fit(train[cols], train["y"])
    assert on_dask.backend_ == "dask" and local.backend_ == "local"
    assert len(on_dask.worker_rows_) == 2 and sum(on_dask.worker_rows_.values()) == len(train)
    acc_dask = on_dask.score(test[cols], test["y"])
    acc_local = local.score(test[cols], test["y"])
    assert acc_dask > 0.9 and acc_local > 0.9
    assert abs(acc_dask - acc_local) < 0.04
    assert on_dask.epochs_ >= 10 and on_dask.n_iter_ >= 2
    assert list(on_dask.classes_) == list(range(10))


def test_predictions_are_lazy_keep_the_index_and_equal_in_process_ones(client, digits):
    train, test, cols = digits
    ddf = _dask(train, 4)
    clf = DeepLearningClassifier(hidden=[16], epochs=3, seed=2, **FAST).fit(
        ddf[cols], ddf["y"], client=client)
    with client.as_current():
        lazy = clf.predict(ddf[cols])
        proba = clf.predict_proba(ddf[cols])
        assert isinstance(lazy, dd.Series) and isinstance(proba, dd.DataFrame)
        labels = lazy.compute()
        probs = proba.compute()
        perf = clf.model_performance(ddf[cols], ddf["y"])
    assert labels.index.equals(train.index)          # index kept, order kept
    assert np.array_equal(labels.to_numpy(), clf.predict(train[cols]))
    # float32 BLAS products may round differently for a partition than for the whole
    # frame; each partition equals in-process scoring of that partition exactly
    np.testing.assert_allclose(probs.to_numpy(), clf.predict_proba(train[cols]), rtol=1e-5,
                               atol=1e-7)
    first = train[cols].iloc[: len(ddf.partitions[0])]
    assert np.array_equal(probs.to_numpy()[: len(first)], clf.predict_proba(first))
    assert list(probs.columns) == [str(c) for c in range(10)]
    assert perf.logloss == pytest.approx(clf.model_performance(train[cols], train["y"]).logloss,
                                         rel=1e-9)
    # without a current client the model travels as one delayed key (local scheduler)
    assert np.array_equal(clf.predict(ddf[cols]).compute().to_numpy(), labels.to_numpy())


def test_h2o_style_train_and_predict_on_dask(client, digits):
    train, _, cols = digits
    frame = train.assign(y=train["y"].astype("category"))
    ddf = _dask(frame, 3)
    model = DeepLearningEstimator(hidden=[16], epochs=3, seed=3, **FAST)
    model.train(x=cols, y="y", training_frame=ddf, client=client)
    with client.as_current():
        pred = model.predict(ddf).compute()
    local = model.predict(frame)
    assert list(pred.columns) == ["predict"] + [str(c) for c in range(10)]
    pd.testing.assert_frame_equal(pred, local, check_dtype=False, check_categorical=False)


def test_fewer_partitions_than_workers_and_a_worker_without_data(client, digits):
    train, test, cols = digits
    one = _dask(train, 1)
    params = dict(hidden=[16], epochs=3, seed=4, replicate_training_data=False, **FAST)
    balanced = DeepLearningClassifier(**params).fit(one[cols], one["y"], client=client)
    # force_load_balance (H2O's default) splits the frame so both workers train
    assert len(balanced.worker_rows_) == 2
    lonely = DeepLearningClassifier(force_load_balance=False, **params).fit(
        one[cols], one["y"], client=client)
    # the worker holding no data gets no task; training still runs on the other one
    assert len(lonely.worker_rows_) == 1
    assert list(lonely.worker_rows_.values()) == [len(train)]
    assert lonely.score(test[cols], test["y"]) > 0.8


def test_replication_gives_every_worker_a_full_copy(client, digits):
    train, test, cols = digits
    ddf = _dask(train, 4)
    clf = DeepLearningClassifier(hidden=[16], epochs=4, seed=5, **FAST).fit(
        ddf[cols], ddf["y"], client=client)
    assert clf.params_["replicate_training_data"] is True
    assert list(clf.worker_rows_.values()) == [len(train), len(train)]
    assert clf.score(test[cols], test["y"]) > 0.85


def test_validation_on_a_dask_frame_is_reduced_over_workers(client, digits):
    train, test, cols = digits
    ddf, vdf = _dask(train, 4), _dask(test, 3)
    clf = DeepLearningClassifier(hidden=[16], epochs=3, seed=6, score_validation_samples=0,
                                 replicate_training_data=False, **FAST)
    clf.fit(ddf[cols], ddf["y"], validation_data=(vdf[cols], vdf["y"]), client=client)
    hist = clf.scoring_history_
    assert "validation_logloss" in hist and hist["validation_logloss"].iloc[1:].notna().all()
    # the metrics merged from the workers' partials equal the ones of the whole frame
    assert clf.validation_metrics_.logloss == pytest.approx(
        clf.model_performance(test[cols], test["y"]).logloss, rel=1e-6)
    assert clf.validation_metrics_.nobs == len(test)


def test_training_moves_weights_not_rows(client):
    rng = np.random.default_rng(0)
    n, p = 40_000, 30
    X = rng.normal(size=(n, p))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(p)]).assign(y=y)
    # the data already lives on the workers, half on each (as after read_parquet + persist)
    workers = sorted(client.scheduler_info()["workers"])
    chunks = np.array_split(np.arange(n), 8)
    futures = [client.scatter(frame.iloc[c], workers=[workers[i % 2]])
               for i, c in enumerate(chunks)]
    ddf = dd.from_delayed(futures, meta=frame.iloc[:0], verify_meta=False)
    before = client.run(ddl_transfer_bytes)
    # force_load_balance off: it moves blocks on purpose when placement is uneven
    clf = DeepLearningClassifier(hidden=[10], epochs=2, seed=7, replicate_training_data=False,
                                 score_each_iteration=True, force_load_balance=False, **FAST)
    clf.fit(ddf.drop(columns="y"), ddf["y"], client=client)
    after = client.run(ddl_transfer_bytes)
    sent = sum(after[w] - before[w] for w in after)
    data_bytes = n * (p + 1) * 4
    state_bytes = sum(a.nbytes for a in clf.state_.arrays().values())
    events = clf.n_iter_ + len(clf.scoring_history_) + 2
    assert len(clf.worker_rows_) == 2
    # weights go out (gathered states, shared scattered models), rows never do
    assert sent < 8 * state_bytes * events + 200_000
    assert sent < data_bytes / 10


def _models_received(dask_worker, since: float) -> int:
    """Distinct models (``ddl-model-`` keys) this worker got since ``since`` (a time), by
    scatter or from a peer (the worker's log of transitions ends with their times)."""
    return len({str(entry[0]) for entry in dask_worker.state.log
                if str(entry[0]).startswith("ddl-model-") and entry[-1] >= since})


def test_each_worker_gets_each_model_once_for_training_and_scoring(client, digits):
    train, _, cols = digits
    ddf = _dask(train, 4)
    import time

    t0 = time.time()
    clf = DeepLearningClassifier(hidden=[16], epochs=3, seed=3, score_each_iteration=True,
                                 train_samples_per_iteration=600, **FAST)
    clf.fit(ddf[cols], ddf["y"], client=client)
    got = client.run(_models_received, since=t0)
    scored = len(clf.scoring_history_)
    assert scored >= clf.n_iter_ > 3
    # one model per iteration (and the first scoring's), shared by the iteration's scoring
    # and the next iteration's training: not one more for every scoring
    assert len(got) == 2
    for worker, n in got.items():
        assert clf.n_iter_ <= n <= clf.n_iter_ + 2, (worker, n, clf.n_iter_, scored)


def test_a_replicated_training_sample_is_scored_by_every_worker(client, digits):
    train, _, cols = digits
    ddf = _dask(train, 4)
    import time

    client.get_task_stream()  # registers the scheduler's task-stream recorder
    t0 = time.time()
    # every training row in the sample: each worker holds them all (replication)
    clf = DeepLearningClassifier(hidden=[16], epochs=2, seed=4, score_training_samples=0,
                                 **FAST).fit(ddf[cols], ddf["y"], client=client)
    assert clf.params_["replicate_training_data"] is True
    scorers = {t["worker"] for t in client.get_task_stream(start=t0)
               if str(t["key"]).startswith("ddl-score-train-")}
    # each worker scores its share of the sample, not one worker all of it
    assert len(scorers) == 2
    # the shares are the sample, each row once
    assert clf.training_metrics_.nobs == len(train)
    assert clf.training_metrics_.logloss == pytest.approx(
        clf.model_performance(train[cols], train["y"]).logloss, rel=1e-5)


def test_reproducible_is_bit_identical_on_one_worker_thread(client, digits):
    train, _, cols = digits
    ddf = _dask(train, 5)
    params = dict(hidden=[16], epochs=2, seed=8, reproducible=True, quiet_mode=True)
    a = DeepLearningClassifier(**params).fit(ddf[cols], ddf["y"], client=client)
    b = DeepLearningClassifier(**params).fit(ddf[cols], ddf["y"], client=client)
    assert len(a.worker_rows_) == 1 and a.nthreads_ == 1
    assert np.array_equal(a.state_.W, b.state_.W) and np.array_equal(a.state_.B, b.state_.B)
    # and the same as the in-process backend on the same rows in the same order
    local = DeepLearningClassifier(**params).fit(train[cols], train["y"])
    assert np.array_equal(a.state_.W, local.state_.W)


def test_elastic_averaging_trains(client, digits):
    train, test, cols = digits
    ddf = _dask(train, 4)
    clf = DeepLearningClassifier(hidden=[32], epochs=8, seed=9, elastic_averaging=True,
                                 replicate_training_data=False, **FAST)
    clf.fit(ddf[cols], ddf["y"], client=client)
    assert clf.score(test[cols], test["y"]) > 0.85


def test_regression_on_dask_arrays_with_sample_weights(client):
    da = pytest.importorskip("dask.array")
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    w = np.ones_like(y)
    Xd = da.from_array(X, chunks=(100, -1))
    yd = da.from_array(y, chunks=100)
    wd = da.from_array(w, chunks=100)
    reg = DeepLearningRegressor(hidden=[32], epochs=20, seed=10, replicate_training_data=False,
                                **FAST)
    reg.fit(Xd, yd, sample_weight=wd, client=client)
    assert reg.backend_ == "dask"
    assert reg.score(X, y) > 0.3
    with client.as_current():
        pred = reg.predict(Xd).compute()       # a Dask Array in: a Dask Array out
    np.testing.assert_allclose(pred, reg.predict(X), rtol=1e-5)


def test_misaligned_partitions_are_a_clear_error(client, digits):
    train, _, cols = digits
    with pytest.raises(DataError, match="X has 4 partitions but y has 2"):
        DeepLearningClassifier().fit(_dask(train[cols], 4), _dask(train["y"], 2), client=client)


def test_scheduler_address_and_default_client(client, digits):
    train, test, cols = digits
    ddf = _dask(train, 2)
    addr = client.scheduler.address
    clf = DeepLearningClassifier(hidden=[16], epochs=2, seed=11, scheduler_address=addr, **FAST)
    clf.fit(ddf[cols], ddf["y"])
    assert clf.backend_ == "dask"
    # pandas input with a default client goes to the cluster (backend="auto")
    with client.as_current():
        auto = DeepLearningClassifier(hidden=[16], epochs=2, seed=11, **FAST).fit(
            train[cols], train["y"])
    assert auto.backend_ == "dask"
    assert DeepLearningClassifier(hidden=[16], epochs=2, seed=11, **FAST).fit(
        train[cols], train["y"]).backend_ == "local"


def test_a_fit_keeps_its_parameters_under_its_own_key(client, digits):
    """No fit scatters under cluster-wide keys named after parameters ("hidden", "seed", ...).

    Scattering the parameter dict itself did: two fits on one client then shared those keys,
    and the first fit's release cancelled the second's scoring tasks ("lost dependencies").
    """
    import time

    names = set(DeepLearningClassifier().get_params())
    train, _, cols = digits
    ddf = _dask(train, 4)
    handle = (DeepLearningClassifier(hidden=[16], epochs=30, seed=3, score_each_iteration=True,
                                     replicate_training_data=False, **FAST)
              .fit(ddf[cols], ddf["y"], client=client, block=False))
    seen_fit, clashes = False, set()
    deadline = time.monotonic() + 300  # hang guard only; result() below raises if not done
    while not handle.done() and time.monotonic() < deadline:
        keys = client.run_on_scheduler(lambda dask_scheduler: [str(k) for k in dask_scheduler.tasks])
        seen_fit = seen_fit or any(k.startswith("ddl-") for k in keys)
        clashes |= names.intersection(keys)
        time.sleep(0.02)
    assert handle.result(timeout=120).backend_ == "dask"
    assert seen_fit          # the scheduler was looked at while the fit held its data
    assert not clashes, sorted(clashes)


def test_concurrent_fits_do_not_interleave_their_iterations(client, digits):
    train, _, cols = digits
    ddf = _dask(train, 4)
    import time

    client.get_task_stream()  # registers the scheduler's task-stream recorder
    t0 = time.time()
    handles = [
        DeepLearningClassifier(hidden=[16], epochs=6, seed=s, score_each_iteration=True,
                               replicate_training_data=False, **FAST)
        .fit(ddf[cols], ddf["y"], client=client, block=False)
        for s in (12, 13)
    ]
    fitted = [h.result(timeout=120) for h in handles]
    assert all(f.backend_ == "dask" for f in fitted)
    spans: dict[str, list[float]] = {}
    for t in client.get_task_stream(start=t0):
        key = t["key"] if isinstance(t["key"], str) else str(t["key"])
        if key.startswith("ddl-train-"):
            fit_id = key.split("-")[-2]
            start = min(s["start"] for s in t["startstops"])
            stop = max(s["stop"] for s in t["startstops"])
            lo, hi = spans.get(fit_id, [start, stop])
            spans[fit_id] = [min(lo, start), max(hi, stop)]
    assert len(spans) == 2
    (a0, a1), (b0, b1) = spans.values()
    assert a1 <= b0 or b1 <= a0  # one fit's iterations all ran before the other's


def test_cancel_keeps_the_last_finished_model(client, digits):
    import time

    train, test, cols = digits
    ddf = _dask(train, 2)
    clf = DeepLearningClassifier(hidden=[16], epochs=10_000, seed=14, score_each_iteration=True,
                                 train_samples_per_iteration=500, **FAST)
    handle = clf.fit(ddf[cols], ddf["y"], client=client, block=False)
    deadline = time.time() + 60
    while (handle.scoring_history is None or len(handle.scoring_history) < 3) and time.time() < deadline:
        time.sleep(0.05)
    assert handle.scoring_history is not None and len(handle.scoring_history) >= 3  # live
    handle.cancel()
    fitted = handle.result(timeout=60)
    assert fitted.stop_reason_ == "cancelled"
    assert fitted.epochs_ < 10_000 and fitted.state_.is_finite()
    assert fitted.score(test[cols], test["y"]) > 0.5


def test_model_averaging_is_row_weighted():
    spec = NetworkSpec((2, 1), "Tanh", "linear", ())
    a, b = init_state(spec, seed=0), init_state(spec, seed=1)
    a.W[:], b.W[:] = 1.0, 4.0
    a.OW[:], b.OW[:] = 0.0, 3.0
    avg = average_states([a, b], [300, 100])
    np.testing.assert_allclose(avg.W, 1.75)
    np.testing.assert_allclose(avg.OW, 0.75)
    assert avg.W.dtype == np.float32


def test_block_plan_balances_only_when_asked():
    owners = ["w1", "w1", "w1"]
    rows = [100, 50, 60]
    assert plan_blocks(owners, rows, ["w1", "w2"], balance=False) == {"w1": [0, 1, 2]}
    plan = plan_blocks(owners, rows, ["w1", "w2"], balance=True)
    assert plan == {"w1": [0, 2], "w2": [1]}


def test_replication_needs_the_data_to_fit_half_a_worker():
    assert replica_fits(100, [0, 0])                      # no limit
    assert replica_fits(100, [200, 1000])
    assert not replica_fits(101, [200, 1000])             # the smaller worker decides


def test_single_node_mode_trains_on_one_worker_with_all_rows(client, digits):
    train, test, cols = digits
    ddf = _dask(train, 4)
    clf = DeepLearningClassifier(hidden=[16], epochs=3, seed=15, single_node_mode=True, **FAST)
    clf.fit(ddf[cols], ddf["y"], client=client, )
    assert list(clf.worker_rows_.values()) == [len(train)]
    assert clf.score(test[cols], test["y"]) > 0.8


def test_explicit_iteration_size_is_shared_by_the_workers(client, digits):
    train, _, cols = digits
    ddf = _dask(train, 4)
    clf = DeepLearningClassifier(hidden=[16], epochs=2, seed=16, train_samples_per_iteration=300,
                                 score_each_iteration=True, replicate_training_data=False,
                                 shuffle_training_data=True, **FAST)
    clf.fit(ddf[cols], ddf["y"], client=client)
    per_iteration = np.diff(clf.scoring_history_["samples"].to_numpy()[: clf.n_iter_ + 1])
    assert np.all(np.abs(per_iteration - 300) <= 60)      # Bernoulli row sampling per worker
    assert clf.n_iter_ == pytest.approx(2 * len(train) / 300, abs=2)


def test_an_iteration_of_fewer_rows_than_workers_still_trains(client, digits):
    """One row per iteration over two workers: one of them trains it (each worker's share
    used to round to zero rows, and the fit stopped after its first iteration)."""
    train, _, cols = digits
    ddf = _dask(train.iloc[:100], 2)
    clf = DeepLearningClassifier(hidden=[4], epochs=0.05, seed=3, train_samples_per_iteration=1,
                                 replicate_training_data=False, force_load_balance=True,
                                 **FAST)
    clf.fit(ddf[cols], ddf["y"], client=client)
    assert clf.stop_reason_ == "epochs", clf.events_
    # (a worker draws its share of the rows by Bernoulli sampling: one or two per iteration)
    assert clf.state_.processed >= 5 and clf.n_iter_ >= 3, (clf.n_iter_, clf.state_.processed)


def test_auto_tuning_follows_the_communication_target(client):
    """Multi-node auto-tuning (``train_samples_per_iteration=-2``) on two workers: a tiny
    allowed communication share makes the largest iterations the cap allows (about ten
    per fit), a large one iterations at least as small, and both fits reach their epochs.
    (How much smaller depends on the measured exchange and speed, which vary from one
    run to the next; the rule itself is tested on given times in ``test_schedule.py``.)"""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40_000, 10))
    y = (X[:, 0] > 0).astype(int)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(10)]).assign(y=y)
    ddf = _dask(frame, 4)
    common = dict(hidden=[8], epochs=0.5, seed=17, replicate_training_data=False, **FAST)
    chatty = DeepLearningClassifier(target_ratio_comm_to_comp=0.5, **common).fit(
        ddf.drop(columns="y"), ddf["y"], client=client)
    patient = DeepLearningClassifier(target_ratio_comm_to_comp=1e-4, **common).fit(
        ddf.drop(columns="y"), ddf["y"], client=client)
    assert chatty.stop_reason_ == patient.stop_reason_ == "epochs"
    assert 9 <= patient.n_iter_ <= 12                     # capped at ~10 iterations
    # (when the chatty fit is capped too, the two differ only by the last iteration: the
    # rows of ten capped iterations are Bernoulli-sampled and may fall just short)
    assert chatty.n_iter_ >= patient.n_iter_ - 1, (chatty.n_iter_, patient.n_iter_)


def test_kernels_are_warmed_once_per_worker(client, digits):
    train, _, cols = digits
    DeepLearningClassifier(hidden=[4], epochs=1, **FAST).fit(
        _dask(train, 2)[cols], _dask(train, 2)["y"], client=client)
    assert all(client.run(lambda dask_worker: WarmupPlugin.name in dask_worker.plugins).values())


@pytest.mark.slow
def test_no_client_starts_and_closes_an_embedded_cluster(digits):
    import gc

    train, test, cols = digits

    def running():
        return {id(c) for c in distributed.deploy.spec.SpecCluster._instances
                if c.status.name == "running"}

    before = running()
    assert distributed.client._get_global_client() is None
    ddf = _dask(train, 2)
    clf = DeepLearningClassifier(hidden=[16], epochs=2, seed=18, **FAST).fit(ddf[cols], ddf["y"])
    assert clf.backend_ == "dask" and clf.score(test[cols], test["y"]) > 0.7
    # pandas input with backend="dask" goes through an embedded cluster as well
    forced = DeepLearningClassifier(hidden=[16], epochs=2, seed=18, backend="dask", **FAST)
    assert forced.fit(train[cols], train["y"]).backend_ == "dask"
    gc.collect()
    # the embedded clusters were closed: no client or cluster is left behind
    assert distributed.client._get_global_client() is None
    assert running() == before


def test_score_parquet_keeps_ids_and_partitioning(client, tmp_path):
    from dask_deeplearn import score_parquet

    rng = np.random.default_rng(3)
    n = 2000
    df = pd.DataFrame({"id": np.arange(n), "x": rng.normal(size=n),
                       "c": rng.choice(["a", "b", "c"], size=n)})
    df["y"] = pd.Categorical(np.where(df.x + (df.c == "a") > 0.3, "yes", "no"))
    model = DeepLearningEstimator(hidden=[4], epochs=2, seed=19, quiet_mode=True).train(
        x=["x", "c"], y="y", training_frame=df)
    src, dst = tmp_path / "in", tmp_path / "out"
    scoring = df.drop(columns="y")
    scoring.loc[::7, "c"] = "never-seen"       # unseen level -> NA slot, no error
    dd.from_pandas(scoring, npartitions=4).to_parquet(src)
    score_parquet(model, src, dst, keep=["id"], client=client)
    assert sorted(p.name for p in dst.iterdir()) == [f"part.{i:05d}.parquet" for i in range(4)]
    out = pd.read_parquet(dst)
    ref = model.predict(scoring)
    assert list(out.columns) == ["id", "predict", "no", "yes"]
    np.testing.assert_array_equal(out["id"].to_numpy(), scoring["id"].to_numpy())
    np.testing.assert_allclose(out[["no", "yes"]].to_numpy(), ref[["no", "yes"]].to_numpy(),
                               atol=1e-12)
    assert (out["predict"].astype(str).to_numpy() == ref["predict"].astype(str).to_numpy()).all()
    with pytest.raises(DataError, match="exists and is not empty"):
        score_parquet(model, src, dst, keep=["id"], client=client)
    # small files whose extra columns are not read: still one output file per input file
    # (Dask fuses small files into fewer partitions when a reader projects columns)
    wide = scoring.assign(**{f"extra{i}": rng.normal(size=n) for i in range(20)})
    dd.from_pandas(wide, npartitions=8).to_parquet(tmp_path / "wide")
    score_parquet(model, tmp_path / "wide", tmp_path / "wide_out", keep=["id"], client=client)
    assert len(list((tmp_path / "wide_out").iterdir())) == 8
    np.testing.assert_array_equal(pd.read_parquet(tmp_path / "wide_out")["id"].to_numpy(),
                                  scoring["id"].to_numpy())
    with pytest.raises(DataError, match=r"\['nope'\] are not in the Parquet dataset"):
        score_parquet(model, src, tmp_path / "o2", keep=["nope"], client=client)
    with pytest.raises(DataError, match="Cannot read Parquet dataset"):
        score_parquet(model, tmp_path / "missing", tmp_path / "o3")


def test_autoencoder_trains_on_workers_and_scores_lazily(client, digits):
    from dask_deeplearn import DeepLearningAutoEncoder

    train, test, cols = digits
    ddf = _dask(train[cols], 4)
    ae = DeepLearningAutoEncoder(hidden=[16], activation="Tanh", epochs=4, seed=1,
                                 sparsity_beta=0.05, average_activation=-0.2,
                                 ignore_const_cols=False, quiet_mode=True)
    ae.fit(ddf, validation_data=_dask(test[cols], 2), client=client)
    assert ae.backend_ == "dask" and len(ae.worker_rows_) == 2
    h = ae.scoring_history_
    assert h.loc[0, "iterations"] == 0 and h["validation_mse"].iloc[-1] < h.loc[0, "validation_mse"]
    # the workers' running mean activations are averaged like the weights
    assert ae.state_.AA.shape == (ae.state_.spec.n_biases,) and np.all(ae.state_.AA[:16] != 0)
    with client.as_current():
        lazy = ae.anomaly(ddf)
        feats = ae.deepfeatures(ddf, 0)
        assert isinstance(lazy, dd.DataFrame) and list(feats.columns)[0] == "DF.L1.C1"
        got = lazy.compute()
        perf = ae.model_performance(ddf)
    pd.testing.assert_frame_equal(got.sort_index(), ae.anomaly(train[cols]).sort_index())
    assert perf.mse == pytest.approx(got["Reconstruction.MSE"].mean())
