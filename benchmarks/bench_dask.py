"""Dask backend benchmark on Fashion-MNIST: in-process training vs. Dask workers.

Network 784-200-200-10 Rectifier, the same parameters in every row (the README's fast
configuration ``dask_deeplearn.presets.fast()``, or H2O's defaults with ``--h2o``):

(a) in-process: ``DeepLearningClassifier(...).fit(X, y)`` on numpy arrays, backend
    ``local``, 2 Hogwild threads;
(b) Dask, ``LocalCluster`` of 1 worker process x 2 threads, trained on a Dask DataFrame
    of a Parquet dataset of 8 files (``fit(ddf.drop(columns="label"), ddf["label"],
    client=client)``), persisted on the workers before the clock starts (as the
    in-process fit has its arrays in memory; ``--source parquet``: the timed fit reads
    the files);
(c) Dask, 2 worker processes x 1 thread, same data and fit;
(d) as (c) with ``replicate_training_data=False``: each worker trains only on the
    partitions it holds (H2O's default, True, gives every worker a full copy).

On one machine the Dask rows do not measure a speed-up: the cores are the same, so they
measure the cost of the distributed protocol (the model's weights scattered to the
workers once per iteration, one pinned training task per worker, model averaging of the
workers' results, scoring on the workers) on top of the in-process engine.

Samples/s counts training rows per second of training time (scoring excluded: H2O's
"training speed" column), measured by the estimators themselves; "fit s" is the wall time
of ``fit`` (cluster start-up excluded: the workers have loaded the kernels before the
clock starts, as the in-process fit's process has from the first round on). Test accuracy
is ``clf.score`` on the 10,000 test rows as numpy (prediction in this process, also for
the Dask-trained models).

"x in-process" is the Dask fit's wall time over the in-process fit's, measured in the same
run (with ``--repeat``, configurations are measured in turn, a ratio only within one
round). Targets for the protocol's cost: 1 worker x 2 threads <= 1.15x, 2 workers x 1
thread <= 1.30x (column "target").

Usage::

    python benchmarks/bench_dask.py [--epochs 10] [--rows 60000] [--h2o] [--skip a,b,c,d]
                                    [--repeat 3]

Needs Debian's ``dataset-fashion-mnist`` package (``apt-get install dataset-fashion-mnist``;
files under ``/usr/share/datasets/fashion-mnist/``), ``distributed`` and ``pyarrow``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# measure the checkout this script lives in, not an older installed copy
sys.path.insert(0, os.path.dirname(HERE))
if __package__:  # imported by the runner (python -m benchmarks.run)
    from .bench_engine import load_fashion_mnist
else:
    sys.path.insert(0, HERE)
    from bench_engine import load_fashion_mnist  # noqa: E402

CONFIGS = "abcd"


def run(name: str, layout: str, params: dict, X, y, Xt, yt, client=None) -> dict:
    """Fit one configuration and return its table row."""
    from dask_deeplearn import DeepLearningClassifier

    clf = DeepLearningClassifier(**params)
    t0 = time.perf_counter()
    if client is None:
        clf.fit(X, y)
    else:
        clf.fit(X, y, client=client)
    wall = time.perf_counter() - t0
    speed = float(clf.scoring_history_["training_speed"].iloc[-1])
    return {"config": name, "workers x threads": layout, "backend": clf.backend_,
            "samples/s": speed, "fit s": wall, "epochs": float(clf.epochs_),
            "iterations": int(clf.n_iter_), "test accuracy": clf.score(Xt, yt)}


def run_cluster(name: str, n_workers: int, threads: int, params: dict, ddf, Xt, yt,
                source: str = "memory") -> dict:
    """Start a LocalCluster, fit on the Dask DataFrame, close the cluster.

    ``source="memory"``: the frame is persisted on the workers before the timed fit, as
    the in-process fit has its arrays in memory (the protocol's cost alone);
    ``"parquet"``: the timed fit reads the files itself.
    """
    import pandas as pd
    from distributed import Client, LocalCluster

    from dask_deeplearn.distributed.cluster import wait_warm

    with LocalCluster(n_workers=n_workers, threads_per_worker=threads, processes=True,
                      dashboard_address=":0") as cluster, \
            Client(cluster, set_as_default=False) as client:
        client.wait_for_workers(n_workers)
        # the kernels loaded before the clock, as the in-process fit's are (a long-lived
        # cluster loads them once per worker process, at its first fit)
        wait_warm(client)
        if source == "memory":
            from distributed import futures_of

            ddf = client.persist(ddf)
            client.gather(futures_of(ddf))  # in the workers' memory before the clock starts
        # (the test rows under the training frame's column names: a model fitted on named
        # columns warns when it scores a bare array, as scikit-learn's do)
        Xt = pd.DataFrame(Xt, columns=[c for c in ddf.columns if c != "label"])
        row = run(name, f"{n_workers} x {threads}", {**params, "backend": "dask"},
                  ddf.drop(columns="label"), ddf["label"], Xt, yt, client=client)
        row["data"] = "persisted" if source == "memory" else "read_parquet"
        return row


def run_configs(params: dict, X, y, Xt, yt, skip=frozenset(), log=None,
                source: str = "memory") -> list[dict]:
    """Fit every configuration not in ``skip`` (letters of ``CONFIGS``); returns the rows.

    ``params`` are the estimator's parameters without ``backend`` and ``nthreads``; the
    Dask rows read a Parquet dataset of 8 files written to a temporary directory.
    ``log``, when given, is called with each row as soon as it is measured.
    """
    import dask.dataframe as dd
    import pandas as pd

    rows = []

    def add(row):
        rows.append(row)
        if log is not None:
            log(row)

    with tempfile.TemporaryDirectory(prefix="bench_dask_") as tmp:
        if set("bcd") - set(skip):
            frame = pd.DataFrame(X, columns=[f"p{i}" for i in range(X.shape[1])])
            frame["label"] = y
            path = os.path.join(tmp, "train.parquet")
            dd.from_pandas(frame, npartitions=8).to_parquet(path, write_index=False)
            del frame
        if "a" not in skip:
            row = run("(a) in-process", "1 x 2",
                      {**params, "backend": "local", "nthreads": 2}, X, y, Xt, yt)
            add({**row, "data": "numpy"})
        dask_runs = [
            ("b", "(b) Dask", 1, 2, {}),
            ("c", "(c) Dask", 2, 1, {}),
            ("d", "(d) Dask, replicate_training_data=False", 2, 1,
             {"replicate_training_data": False}),
        ]
        for key, name, n_workers, threads, extra in dask_runs:
            if key in skip:
                continue
            ddf = dd.read_parquet(path)
            add(run_cluster(name, n_workers, threads, {**params, **extra}, ddf, Xt, yt,
                            source=source))
    return rows


#: the protocol cost allowed, as the Dask fit's wall over the in-process fit's wall
TARGETS = {"1 x 2": 1.15, "2 x 1": 1.30}


def add_ratios(rows: list[dict]) -> None:
    """Add ``x in-process``: each Dask fit's wall over the in-process fit of the same run.

    Rows carry ``run`` (1, 2, ...) when the configurations were measured more than once;
    a ratio is only taken within one run, so the machine's load at the time counts for
    both fits alike.
    """
    local = {r.get("run", 1): r["fit s"] for r in rows if r["backend"] == "local"}
    for r in rows:
        base = local.get(r.get("run", 1))
        r["x in-process"] = r["fit s"] / base if base else float("nan")
        target = TARGETS.get(r["workers x threads"]) if r["backend"] == "dask" else None
        r["target"] = f"<= {target:.2f}" if target else ""


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=float, default=10)
    ap.add_argument("--rows", type=int, default=60000, help="training rows to use (the first N)")
    ap.add_argument("--h2o", action="store_true",
                    help="H2O's defaults (ADADELTA, online SGD) instead of presets.fast()")
    ap.add_argument("--skip", default="", help="comma list of configurations to skip, e.g. a,d")
    ap.add_argument("--source", choices=("memory", "parquet"), default="memory",
                    help="memory: the Dask rows fit a frame persisted on the workers (as the "
                         "in-process fit has its arrays in memory: the protocol's cost); "
                         "parquet: the timed Dask fit reads the 8 Parquet files itself")
    ap.add_argument("--repeat", type=int, default=1,
                    help="measure every configuration this many times, in turn (a, b, c, d, "
                         "a, b, ...); each Dask fit is divided by the in-process fit of its run")
    args = ap.parse_args(argv)
    skip = {s.strip().lower() for s in args.skip.split(",") if s.strip()}
    if skip - set(CONFIGS):
        ap.error(f"--skip takes letters among {','.join(CONFIGS)}, got {args.skip!r}")

    import pandas as pd

    from dask_deeplearn import presets

    X, y = load_fashion_mnist("train")
    Xt, yt = load_fashion_mnist("t10k")
    X, y = X[: args.rows], y[: args.rows]
    preset = presets.h2o() if args.h2o else presets.fast()
    params = dict(hidden=[200, 200], activation="Rectifier", epochs=args.epochs, seed=1,
                  quiet_mode=True, **preset)
    preset_name = "H2O defaults" if args.h2o else "presets.fast()"

    print(f"Fashion-MNIST, {len(X)} training rows, {len(Xt)} test rows, 784-200-200-10 Rectifier, "
          f"{preset_name}, {args.epochs:g} epochs, {os.cpu_count()} cores, "
          f"{datetime.datetime.now():%Y-%m-%d %H:%M}", flush=True)

    rows = []
    for rep in range(args.repeat):
        rows += [{**r, "run": rep + 1}
                 for r in run_configs(params, X, y, Xt, yt, skip, source=args.source)]

    if not rows:
        return
    add_ratios(rows)
    table = pd.DataFrame(rows)
    fmt = lambda v: f"{v:,.3f}" if v < 10 else f"{v:,.0f}"  # noqa: E731
    with pd.option_context("display.width", 200, "display.max_colwidth", 70):
        print(table.to_string(index=False, float_format=fmt))
        if args.repeat > 1:
            print(f"\nMedian over the {args.repeat} runs (each ratio taken within its run):")
            print(summary(table).to_string(index=False, float_format=fmt))


def summary(table):
    """One row per configuration: median fit seconds and median ``x in-process`` ratio
    over the runs, with the target."""
    keys = ["config", "workers x threads", "backend"]
    med = (table.groupby(keys, sort=False)
           .agg(runs=("run", "nunique"), **{"median fit s": ("fit s", "median"),
                                           "median x in-process": ("x in-process", "median"),
                                           "target": ("target", "first")})
           .reset_index())
    return med


if __name__ == "__main__":
    main()
