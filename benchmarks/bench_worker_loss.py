"""Worker-loss benchmark: one of three ``dask worker`` processes killed at each moment of a fit.

A real ``dask scheduler`` and 3 ``dask worker --nthreads 1`` processes (no nanny, so a
killed worker stays dead) on 127.0.0.1 (``benchmarks/process_cluster.py``); the training
data is a Dask DataFrame read from 8 Parquet files, passed the usual way
(``fit(ddf.drop(columns="label"), ddf["label"], client=client)``).

For every moment below, with ``replicate_training_data`` True and False, and every repeat,
a worker plugin SIGKILLs one worker (the first by address, the one holding the replicated
scoring sample) from inside the first task of that moment that runs on it (the second
scoring task for the final scoring); the kill point is a task key, so it does not depend
on the machine's speed. After each such fit the killed worker is replaced by a fresh process, warmed up (imports, compiled kernels loaded)
before the next fit starts, so every fit starts on 3 equally warm workers (and a short
fit, not measured, on a new cluster pays the first-time costs of the scheduler and the
driver). Moments (the key prefix, and the settings that make the moment happen):

* setup: the first read task (``ddl-read-``: the Parquet read fused with the partition's
  statistics), and the first transform task (``ddl-transform-``);
* calibration: the ``train_samples_per_iteration=-2`` auto-tuning iteration
  (``ddl-calibrate-``);
* a training iteration: the third one (``ddl-train-3-``);
* a scoring task: the training-sample scoring of the third iteration
  (``ddl-score-train-3-``);
* the final scoring: a score interval no fit reaches, so the only scorings are the first
  iteration's (always scored) and the final one, killed in the second ``ddl-score-train-``
  task.

Each setting is also fitted undisturbed on the 3 workers: the reference for the test
accuracy (difference in points = 100 x accuracy difference) and the wall time ("extra s" =
mean wall of the finished disturbed fits minus the undisturbed wall; the disturbed fits
end on 2 workers, which on a 2-core machine can be quicker than 3, so it can be
negative). Wall = ``fit`` only (worker start-up and warm-up excluded). "finished" counts
fits that returned a model; "killed" counts fits whose victim really died.

Usage::

    python benchmarks/bench_worker_loss.py [--rows 8000] [--repeats 3] [--epochs 2]

Needs Debian's ``dataset-fashion-mnist`` package (``apt-get install dataset-fashion-mnist``),
``distributed`` and ``pyarrow``. ``python -m benchmarks.run --only loss`` runs the same
measurement as a section of the benchmark report.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# measure the checkout this script lives in, not an older installed copy
sys.path.insert(0, os.path.dirname(HERE))
if __package__:  # imported by the runner (python -m benchmarks.run)
    from .bench_engine import load_fashion_mnist
    from .process_cluster import DieAt, RealCluster
else:
    from benchmarks.bench_engine import load_fashion_mnist  # noqa: E402
    from benchmarks.process_cluster import DieAt, RealCluster  # noqa: E402

N_WORKERS = 3
#: moment -> (key prefix of the task on the victim that kills it, how many such tasks run
#: untouched before it, settings for the moment)
MOMENTS: dict[str, tuple[str, int, dict]] = {
    "setup (read)": ("ddl-read-", 0, {}),
    "setup (transform)": ("ddl-transform-", 0, {}),
    "calibration (-2)": ("ddl-calibrate-", 0, {"train_samples_per_iteration": -2}),
    "training iteration 3": ("ddl-train-3-", 0, {}),
    "scoring task (iteration 3)": ("ddl-score-train-3-", 0, {}),
    # (the first iteration is always scored: the final scoring is the second)
    "final scoring": ("ddl-score-train-", 1, {"score_each_iteration": False,
                                              "score_interval": 1e6}),
}


def default_params(epochs: float, rows: int, hidden: list[int]) -> dict:
    """The fit of every run: ``presets.fast()``, 2 iterations per epoch, scored at
    every iteration on a 2,000-row training sample, no early stopping."""
    from dask_deeplearn import presets

    return dict(hidden=hidden, activation="Rectifier", epochs=epochs, seed=1,
                quiet_mode=True, train_samples_per_iteration=max(rows // 2, 100),
                score_each_iteration=True, score_training_samples=2_000, stopping_rounds=0,
                **presets.fast())


class Cluster:
    """A :class:`RealCluster` of 3 warm workers, healed after every disturbed fit: the
    killed worker is replaced by a fresh process, warmed (imports, compiled kernels
    loaded) before the next fit, so every fit starts on 3 equally warm workers and its
    wall time is the fit's own."""

    def __init__(self, work: Path, params: dict, path: str) -> None:
        self.work, self.params, self.path = work, params, path
        self._names = iter(range(N_WORKERS, 10**6))
        work.mkdir(parents=True)
        self.real = RealCluster(N_WORKERS, work)
        self.real.client.run(warm_up, params)
        # one short Dask fit on the data (not measured): the scheduler's, the driver's and
        # the Parquet reader's first-time costs are paid here, not by the first fit
        import dask.dataframe as dd

        from dask_deeplearn import DeepLearningClassifier

        ddf = dd.read_parquet(path)
        DeepLearningClassifier(**{**params, "epochs": 0.1}).fit(
            ddf.drop(columns="label"), ddf["label"], client=self.real.client)

    def heal(self) -> None:
        """Remove the kill plugin; start and warm workers until 3 are alive again."""
        client = self.real.client
        client.unregister_worker_plugin("die-at")
        before = set(client.scheduler_info(n_workers=-1)["workers"])
        for _ in range(N_WORKERS - len(before)):
            self.real.add_worker(f"w{next(self._names)}")
        new = set(client.scheduler_info(n_workers=-1)["workers"]) - before
        if new:
            client.run(warm_up, self.params, workers=sorted(new))

    def restart(self) -> None:
        """A whole new cluster (after a fit that did not come back in time)."""
        self.real.close()
        self.__init__(self.work.with_name(self.work.name + "-r"), self.params, self.path)

    def close(self) -> None:
        self.real.close()


def warm_up(params: dict) -> None:
    """Run on a worker (``client.run``): the imports of a fit and a tiny in-process fit with
    the benchmark's settings, which loads the compiled kernels a Dask fit runs."""
    import dask.dataframe  # noqa: F401  (what the Parquet read and the transform import)
    import pyarrow.parquet  # noqa: F401

    import dask_deeplearn.distributed.tasks  # noqa: F401
    from dask_deeplearn import DeepLearningClassifier

    X = np.random.default_rng(0).normal(size=(200, 4)).astype(np.float32)
    DeepLearningClassifier(**{**params, "epochs": 1, "train_samples_per_iteration": 0,
                              "nthreads": 1}).fit(X, (X[:, 0] > 0).astype(int))


def fit_once(cluster: Cluster, params: dict, path: str, Xt, yt, prefix: str | None,
             timeout: float, skip: int = 0) -> dict:
    """One fit on ``cluster``'s 3 workers; with ``prefix``, the first worker (by address)
    is killed from inside its task number ``skip + 1`` whose key contains it, and the
    cluster is healed afterwards (restarted when the fit did not come back within
    ``timeout`` seconds).

    Returns ``finished`` (a model came back), ``killed`` (the victim died), ``wall``
    (seconds of ``fit``), ``accuracy`` (on ``Xt, yt``) and ``error`` (the first line of
    what the fit raised, or "").
    """
    import dask.dataframe as dd

    from dask_deeplearn import DeepLearningClassifier

    client = cluster.real.client
    workers = client.scheduler_info(n_workers=-1)["workers"]
    victim = sorted(workers)[0]
    if prefix is not None:
        client.register_plugin(DieAt(workers[victim]["name"], prefix, skip=skip),
                               name="die-at")
    ddf = dd.read_parquet(path)
    clf = DeepLearningClassifier(**params)
    t0 = time.perf_counter()
    hung = False
    try:
        clf.fit(ddf.drop(columns="label"), ddf["label"], client=client,
                block=False).result(timeout=timeout)
        wall, error = time.perf_counter() - t0, ""
        accuracy = float(clf.score(Xt, yt))
    except Exception as exc:  # a failed fit is a result of this benchmark
        wall, accuracy = time.perf_counter() - t0, math.nan
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        error = f"{type(exc).__name__}: {first}"[:200]
        hung = isinstance(exc, TimeoutError)
    killed = victim not in client.scheduler_info(n_workers=-1)["workers"]
    if hung:
        cluster.restart()
    elif prefix is not None:
        cluster.heal()
    return {"finished": not error, "killed": killed, "wall": wall, "accuracy": accuracy,
            "error": error}


def write_parquet(X, y, path: str, npartitions: int = 8) -> None:
    """The training rows as a Parquet dataset of ``npartitions`` files, response ``label``."""
    import dask.dataframe as dd
    import pandas as pd

    frame = (X.copy() if isinstance(X, pd.DataFrame)
             else pd.DataFrame(X, columns=[f"p{i}" for i in range(X.shape[1])]))
    frame["label"] = np.asarray(y)
    dd.from_pandas(frame, npartitions=npartitions).to_parquet(path, write_index=False)


def run_section(params: dict, X, y, Xt, yt, repeats: int = 3,
                moments: dict[str, tuple[str, int, dict]] = MOMENTS,
                log: Callable[[dict], None] | None = None, timeout: float = 600) -> list[dict]:
    """Measure every moment x ``replicate_training_data`` True/False x ``repeats``.

    Parameters
    ----------
    params : dict
        The estimator's parameters (without ``replicate_training_data``); each moment's
        settings are applied on top.
    X, y : array-like
        The training rows and response, written as 8 Parquet files.
    Xt, yt : array-like
        The test rows and response for the accuracy.
    repeats : int
        Disturbed fits per moment and replication setting.
    moments : dict
        Moment name -> (kill key prefix, tasks skipped, settings); :data:`MOMENTS` by
        default.
    log : callable, optional
        Called with each row as soon as it is measured.
    timeout : float
        Seconds one fit may take before it counts as not finished.

    Returns
    -------
    list of dict
        One row per undisturbed reference (``moment`` "undisturbed ...") and per moment x
        replication: ``moment``, ``replicate``, ``finished`` ("k/n"), ``killed`` ("k/n"
        whose victim really died), ``accuracy`` (mean over the finished fits),
        ``diff_points``, ``wall``, ``extra_s`` and ``errors``.
    """
    rows: list[dict] = []

    def add(row: dict) -> None:
        rows.append(row)
        if log is not None:
            log(row)

    with tempfile.TemporaryDirectory(prefix="bench_worker_loss_") as tmp:
        path = os.path.join(tmp, "train.parquet")
        write_parquet(X, y, path)
        cluster = Cluster(Path(tmp) / "cluster", params, path)
        try:
            # one undisturbed reference per distinct setting the moments need
            settings = {repr(sorted(s.items())): s for _, _, s in moments.values()}
            for replicate in (True, False):
                ref = {}
                for key, extra in settings.items():
                    p = {**params, **extra, "replicate_training_data": replicate}
                    r = ref[key] = fit_once(cluster, p, path, Xt, yt, None, timeout)
                    add({"moment": "undisturbed" + (f" {_describe(extra)}" if extra else ""),
                         "replicate": replicate, "finished": f"{int(r['finished'])}/1",
                         "killed": "", "accuracy": r["accuracy"], "diff_points": math.nan,
                         "wall": r["wall"], "extra_s": math.nan, "errors": r["error"]})
                for moment, (prefix, skip, extra) in moments.items():
                    p = {**params, **extra, "replicate_training_data": replicate}
                    out = [fit_once(cluster, p, path, Xt, yt, prefix, timeout, skip)
                           for _ in range(repeats)]
                    add(_summary(moment, replicate, out, ref[repr(sorted(extra.items()))]))
        finally:
            cluster.close()
    return rows


def _summary(moment: str, replicate: bool, out: list[dict], base: dict) -> dict:
    """One table row from the disturbed fits ``out`` and their undisturbed ``base``."""
    done = [r for r in out if r["finished"]]
    acc = float(np.mean([r["accuracy"] for r in done])) if done else math.nan
    wall = float(np.mean([r["wall"] for r in done])) if done else math.nan
    return {"moment": moment, "replicate": replicate, "finished": f"{len(done)}/{len(out)}",
            "killed": f"{sum(r['killed'] for r in out)}/{len(out)}", "accuracy": acc,
            "diff_points": 100 * (acc - base["accuracy"]), "wall": wall,
            "extra_s": wall - base["wall"],
            "errors": "; ".join(sorted({r["error"] for r in out if r["error"]}))}


def _describe(settings: dict) -> str:
    return "(" + ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in settings.items()) + ")"


def table(rows: list[dict]) -> str:
    """The rows as a plain-text table."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    return frame.to_string(index=False, float_format=lambda v: f"{v:,.2f}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=8_000, help="training rows (the first N)")
    ap.add_argument("--test-rows", type=int, default=10_000, help="test rows (the first N)")
    ap.add_argument("--epochs", type=float, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    if args.rows < 100 or args.test_rows < 1 or args.epochs <= 0 or args.repeats < 1:
        ap.error("--rows must be >= 100, --test-rows and --repeats >= 1, --epochs > 0; got "
                 f"--rows {args.rows}, --test-rows {args.test_rows}, "
                 f"--repeats {args.repeats}, --epochs {args.epochs:g}")
    X, y = load_fashion_mnist("train")
    Xt, yt = load_fashion_mnist("t10k")
    X, y, Xt, yt = X[:args.rows], y[:args.rows], Xt[:args.test_rows], yt[:args.test_rows]
    params = default_params(args.epochs, len(X), [64])
    print(f"Fashion-MNIST, {len(X)} training rows in 8 Parquet files, {len(Xt)} test rows, "
          f"784-64-10 Rectifier, presets.fast(), {args.epochs:g} epochs, {N_WORKERS} workers "
          f"x 1 thread, {os.cpu_count()} cores, {datetime.datetime.now():%Y-%m-%d %H:%M}",
          flush=True)
    rows = run_section(params, X, y, Xt, yt, repeats=args.repeats,
                       log=lambda r: print(r, flush=True))
    print(table(rows))


if __name__ == "__main__":
    main()
