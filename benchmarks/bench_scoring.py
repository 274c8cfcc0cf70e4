"""Batch scoring benchmark: ``score_parquet`` on a partitioned Parquet dataset vs. pyarrow I/O.

A synthetic dataset is generated file by file with pyarrow (memory stays small): an int64
``id``, 8 float64 numeric columns ``x0..x7`` (about 5% NaN each) and 2 string categorical
columns ``c5`` (5 levels) and ``c50`` (50 levels), about 3% missing each, plus a level
(``"unseen"``) that the model never saw in training. A small model is trained in-process
on 100,000 rows of the same distribution (without the unseen level):
``DeepLearningEstimator(hidden=[32, 32], epochs=1, seed=1, quiet_mode=True)`` with a binomial
response ``y`` derived from the features.

Measured, as wall seconds and rows/s:

(a) pyarrow alone: ``pyarrow.parquet.read_table`` of every file (the model's columns + id)
    and ``pyarrow.parquet.write_table`` of it to another directory (the I/O floor);
(b) ``dask_deeplearn.score_parquet(model, src, dst, keep=["id"], client=client)`` on a
    ``distributed.LocalCluster`` of 2 worker processes x 1 thread (cluster start-up excluded;
    the model's scatter, the workers' first use of the package (its imports) and the writes
    included);
(c) the same on 1 worker process x 2 threads;
(d) ``model.predict(df)`` in-process on a pandas frame of one file's rows (pure compute, no
    I/O; one untimed call first, then the median of 3), extrapolated to rows/s and to the
    whole dataset.

"wall s" of (b) and (c) is the first ``score_parquet`` call on a fresh cluster; "warm s" the
best of ``--repeat - 1`` further calls on the same cluster (workers already warm). "x pyarrow"
is the first call's time over the time of (a); the target is within 2x of (a) for (b)
and (c). The scored output of the first file is checked against ``model.predict`` of the
same rows by the dense path (ids and labels exactly, probabilities to 1e-6).

Workers score through the fused first layer (``dask_deeplearn.fast_scoring``); ``--dense``
uses the dense ``transform_X`` + ``forward`` path instead (``Scorer.fast = False`` here and
on the workers, set, and so the scorer imported, before the timing), to compare both on
the same machine.

Usage::

    python benchmarks/bench_scoring.py [--rows 10000000] [--files 20] [--dir DIR] [--keep-data] [--skip a,b,c,d] [--repeat 2] [--dense]
    python benchmarks/bench_scoring.py --rows 1000000 --files 8

``--dir`` holds ``data/`` (the input), ``out_a/``, ``out_b/``, ``out_c/``; default a temporary
directory. Everything written is removed at the end unless ``--keep-data``; an existing
``DIR/data`` of the requested rows and files (kept by an earlier run) is reused. The model is
trained with Hogwild threads, so it (and its label threshold) varies a little between runs.
Needs ``distributed`` and ``pyarrow``.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import os
import shutil
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# measure the checkout this script lives in, not an older installed copy
sys.path.insert(0, os.path.dirname(HERE))

CONFIGS = "abcd"
NUMERIC = [f"x{i}" for i in range(8)]
LEVELS5 = [f"k{i}" for i in range(5)]
LEVELS50 = [f"L{i:02d}" for i in range(50)]
UNSEEN = "unseen"
TRAIN_ROWS = 100_000
NAN_RATE, MISSING_RATE, UNSEEN_RATE = 0.05, 0.03, 0.01
# fixed per-level effects on the response
EFFECT5 = np.linspace(-1.0, 1.0, len(LEVELS5))
EFFECT50 = np.random.default_rng(12345).normal(0.0, 0.7, len(LEVELS50))


def make_table(n: int, rng: np.random.Generator, first_id: int, *, training: bool):
    """One pyarrow Table of ``n`` rows; ``training`` adds the response ``y`` and no unseen level."""
    import pyarrow as pa

    cols = {"id": pa.array(np.arange(first_id, first_id + n, dtype=np.int64))}
    X = rng.normal(size=(len(NUMERIC), n))
    X[1] = X[1] * 10.0 + 50.0  # a few different scales
    X[2] = rng.exponential(3.0, n)
    logit = 1.2 * X[0] - 0.08 * (X[1] - 50.0) + 0.3 * X[3] * X[4]
    for j, name in enumerate(NUMERIC):
        v = X[j].copy()
        v[rng.random(n) < NAN_RATE] = np.nan
        cols[name] = pa.array(v)  # NaN stays a float NaN (not a null)
    for name, levels, effect in (("c5", LEVELS5, EFFECT5), ("c50", LEVELS50, EFFECT50)):
        k = len(levels)
        idx = rng.integers(0, k, n)
        logit = logit + effect[idx]
        u = rng.random(n)
        if not training:
            idx = np.where(u < UNSEEN_RATE, k, idx)  # index k is the unseen level
        mask = (u >= UNSEEN_RATE) & (u < UNSEEN_RATE + MISSING_RATE)
        dictionary = pa.array(levels + [UNSEEN], pa.string())
        cols[name] = dictionary.take(pa.array(idx, mask=mask))  # plain strings, nulls missing
    if training:
        p = 1.0 / (1.0 + np.exp(-(logit + rng.logistic(size=n) * 0.5)))
        cols["y"] = pa.array(np.where(p >= 0.5, "yes", "no"))
    return pa.table(cols)


def generate(data_dir: str, rows: int, files: int, seed: int = 7) -> float:
    """Write ``files`` Parquet files of ``rows`` rows in total; returns the size in MB."""
    import pyarrow.parquet as pq

    os.makedirs(data_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    sizes = [rows // files + (i < rows % files) for i in range(files)]
    first = 0
    for i, n in enumerate(sizes):
        pq.write_table(make_table(n, rng, first, training=False),
                       os.path.join(data_dir, f"part.{i:05d}.parquet"), compression="snappy")
        first += n
    return dir_mb(data_dir)


def dataset_rows(data_dir: str) -> tuple[int, int]:
    import pyarrow.parquet as pq

    paths = sorted(glob.glob(os.path.join(data_dir, "*.parquet")))
    return sum(pq.ParquetFile(p).metadata.num_rows for p in paths), len(paths)


def dir_mb(path: str) -> float:
    return sum(os.path.getsize(p) for p in glob.glob(os.path.join(path, "*.parquet"))) / 1e6


def train_model():
    """The small binomial model, trained in-process on ``TRAIN_ROWS`` rows."""
    from dask_deeplearn import DeepLearningEstimator

    frame = make_table(TRAIN_ROWS, np.random.default_rng(1), 0, training=True).to_pandas()
    frame["y"] = frame["y"].astype("category")
    model = DeepLearningEstimator(hidden=[32, 32], epochs=1, seed=1, quiet_mode=True)
    model.train(x=NUMERIC + ["c5", "c50"], y="y", training_frame=frame)
    return model


def run_pyarrow(src: str, dst: str, columns: list[str]) -> float:
    """(a): read_table + write_table of every file, one after the other."""
    import pyarrow.parquet as pq

    os.makedirs(dst, exist_ok=True)
    t0 = time.perf_counter()
    for path in sorted(glob.glob(os.path.join(src, "*.parquet"))):
        table = pq.read_table(path, columns=columns)
        pq.write_table(table, os.path.join(dst, os.path.basename(path)), compression="snappy")
    return time.perf_counter() - t0


def use_dense_path() -> None:
    """Score with the dense transform_X + forward path (``--dense``), in this process."""
    from dask_deeplearn.scorer import Scorer

    Scorer.fast = False


def run_cluster(model, src: str, dst: str, n_workers: int, threads: int,
                repeat: int, dense: bool = False) -> list[float]:
    """(b)/(c): ``repeat`` score_parquet calls on a fresh LocalCluster (start-up excluded)."""
    from distributed import Client, LocalCluster

    from dask_deeplearn import score_parquet

    with LocalCluster(n_workers=n_workers, threads_per_worker=threads, processes=True,
                      dashboard_address=":0") as cluster, \
            Client(cluster, set_as_default=False) as client:
        client.wait_for_workers(n_workers)
        if dense:
            client.run(use_dense_path)  # imports the scorer on the workers before timing
        walls = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            score_parquet(model, src, dst, keep=["id"], client=client, overwrite=True)
            walls.append(time.perf_counter() - t0)
        return walls


def run_inprocess(model, path: str) -> tuple[float, int]:
    """(d): model.predict on one file's rows as pandas: median of 3 after an untimed call."""
    import pyarrow.parquet as pq

    df = pq.read_table(path).to_pandas()
    model.predict(df)  # warm-up outside the timing
    walls = []
    for _ in range(3):
        t0 = time.perf_counter()
        model.predict(df)
        walls.append(time.perf_counter() - t0)
    return float(np.median(walls)), len(df)


def verify(model, src: str, dst: str) -> str:
    """Compare the scored output of the first file with model.predict of its rows (by the
    dense path, the reference of the fused one)."""
    import pandas as pd
    import pyarrow.parquet as pq

    from dask_deeplearn.scorer import Scorer

    src_file = sorted(glob.glob(os.path.join(src, "*.parquet")))[0]
    out_file = sorted(glob.glob(os.path.join(dst, "*.parquet")))[0]
    df = pq.read_table(src_file).to_pandas()
    got = pq.read_table(out_file).to_pandas()
    fast = Scorer.fast
    Scorer.fast = False
    try:
        want = model.predict(df)
    finally:
        Scorer.fast = fast
    if len(got) != len(df):
        return f"FAIL: {os.path.basename(out_file)} has {len(got)} rows, the input file {len(df)}"
    if not np.array_equal(got["id"].to_numpy(), df["id"].to_numpy()):
        return "FAIL: ids differ (row order or partition mapping)"
    if list(got.columns) != ["id"] + list(want.columns):
        return f"FAIL: columns {list(got.columns)} != {['id'] + list(want.columns)}"
    labels_ok = np.array_equal(got["predict"].astype(str).to_numpy(),
                               want["predict"].astype(str).to_numpy())
    prob_cols = [c for c in want.columns if c != "predict"]
    diff = float(np.max(np.abs(got[prob_cols].to_numpy(np.float64)
                               - want[prob_cols].to_numpy(np.float64))))
    ok = labels_ok and diff <= 1e-6
    unseen = int((df["c5"] == UNSEEN).sum() + (df["c50"] == UNSEEN).sum())
    dist = pd.Series(got["predict"].astype(str)).value_counts().to_dict()
    return (f"{'OK' if ok else 'FAIL'}: {os.path.basename(out_file)} ({len(got):,} rows, "
            f"{unseen:,} unseen levels): labels {'equal' if labels_ok else 'DIFFER'}, "
            f"max |proba diff| {diff:.2e}; predicted {dist}")


def run_benchmark(n_rows: int = 10_000_000, files: int = 20, workdir: str | None = None,
                  keep_data: bool = False, skip=frozenset(), repeat: int = 2,
                  dense: bool = False) -> dict:
    """Generate (or reuse) the dataset, train the model, run every configuration not in
    ``skip`` and print the table, the verdict and the checks (the output of ``main``).

    Returns ``{"rows": [table rows], "verdict": str, "checks": {key: str}}``.
    """
    import pandas as pd

    from dask_deeplearn.io.parquet import input_columns

    result: dict = {"rows": [], "verdict": "", "checks": {}}
    work = workdir or tempfile.mkdtemp(prefix="bench_scoring_")
    os.makedirs(work, exist_ok=True)
    data = os.path.join(work, "data")
    outs = {k: os.path.join(work, f"out_{k}") for k in "abc"}
    try:
        if os.path.isdir(data) and dataset_rows(data) == (n_rows, files):
            print(f"reusing {data}", flush=True)
        else:
            shutil.rmtree(data, ignore_errors=True)
            t0 = time.perf_counter()
            mb = generate(data, n_rows, files)
            print(f"generated {n_rows:,} rows in {files} files ({mb:,.0f} MB) in "
                  f"{time.perf_counter() - t0:.1f} s into {data}", flush=True)
        t0 = time.perf_counter()
        model = train_model()
        print(f"trained on {TRAIN_ROWS:,} rows in {time.perf_counter() - t0:.1f} s "
              f"(classes {list(model.classes_)}, threshold {model._threshold():.3f})", flush=True)
        columns = ["id"] + input_columns(model)
        if dense:
            use_dense_path()

        print(f"Scoring {n_rows:,} rows in {files} Parquet files "
              f"({dir_mb(data):,.0f} MB), {len(columns) - 1} model columns + id, "
              f"{model.data_info_.n_inputs}-32-32-2 Rectifier network, "
              f"{'dense' if dense else 'fused first-layer'} scoring, {os.cpu_count()} cores "
              f"(load average {os.getloadavg()[0]:.2f} at start), "
              f"{datetime.datetime.now():%Y-%m-%d %H:%M}", flush=True)

        rows = result["rows"]
        t_a = None
        if "a" not in skip:
            t_a = run_pyarrow(data, outs["a"], columns)
            rows.append({"config": "(a) pyarrow read_table + write_table",
                         "workers x threads": "in-process", "wall s": t_a,
                         "rows/s": n_rows / t_a})
        for key, name, n_workers, threads in (("b", "(b) score_parquet, LocalCluster", 2, 1),
                                              ("c", "(c) score_parquet, LocalCluster", 1, 2)):
            if key in skip:
                continue
            walls = run_cluster(model, data, outs[key], n_workers, threads, repeat,
                                dense)
            wall = walls[0]
            rows.append({"config": name, "workers x threads": f"{n_workers} x {threads}",
                         "wall s": wall, "rows/s": n_rows / wall,
                         "warm s": min(walls[1:]) if len(walls) > 1 else np.nan})
            print(f"  {name} {n_workers} x {threads}: " + ", ".join(f"{w:.1f}" for w in walls)
                  + " s", flush=True)
        if "d" not in skip:
            first = sorted(glob.glob(os.path.join(data, "*.parquet")))[0]
            wall, n = run_inprocess(model, first)
            rate = n / wall
            rows.append({"config": f"(d) model.predict, pandas ({n:,} rows), extrapolated",
                         "workers x threads": "in-process", "wall s": n_rows / rate,
                         "rows/s": rate})
        if not rows:
            return result
        table = pd.DataFrame(rows)
        for col in ("warm s", "x pyarrow"):
            if col in table and table[col].isna().all():
                table = table.drop(columns=col)
        if t_a is not None:
            table["x pyarrow"] = [r["wall s"] / t_a if r["config"][:3] in ("(b)", "(c)") else np.nan
                                  for r in rows]
        with pd.option_context("display.width", 200, "display.max_colwidth", 70):
            print(table.to_string(index=False, na_rep="", formatters={
                "wall s": "{:,.1f}".format, "rows/s": "{:,.0f}".format,
                "warm s": lambda v: "" if np.isnan(v) else f"{v:,.1f}",
                "x pyarrow": lambda v: "" if np.isnan(v) else f"{v:.2f}"}))

        dask_rows = [r for r in rows if r["config"][:3] in ("(b)", "(c)")]
        if t_a is not None and dask_rows:
            ratios = {r["config"][:3]: r["wall s"] / t_a for r in dask_rows}
            best = min(ratios, key=ratios.get)
            ok = ratios[best] <= 2.0
            detail = ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items())
            warm = ", ".join(f"{r['config'][:3]} {r['warm s'] / t_a:.2f}x" for r in dask_rows
                             if not np.isnan(r.get("warm s", np.nan)))
            result["verdict"] = (
                f"Verdict: target (score_parquet within 2x of pyarrow) "
                f"{'MET' if ok else 'MISSED'}: first call {detail}"
                + (f"; warm {warm}" if warm else "")
                + ("" if ok else f"; best {best} needs {ratios[best] / 2.0:.2f}x less time "
                   "to meet it"))
        else:
            result["verdict"] = "Verdict: not evaluated (needs (a) and (b) or (c))"
        print(result["verdict"])
        for key in "bc":
            if key not in skip:
                result["checks"][key] = verify(model, data, outs[key])
                print(f"Check ({key}): {result['checks'][key]}")
    finally:
        if keep_data:
            print(f"kept {work}")
        elif workdir:
            for path in outs.values():
                shutil.rmtree(path, ignore_errors=True)
            shutil.rmtree(data, ignore_errors=True)
            if not os.listdir(work):
                os.rmdir(work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000, help="rows of the scored dataset")
    ap.add_argument("--files", type=int, default=20, help="Parquet files of the scored dataset")
    ap.add_argument("--dir", default=None, help="working directory (default: a temporary one)")
    ap.add_argument("--keep-data", action="store_true", help="keep the data and outputs at the end")
    ap.add_argument("--skip", default="", help="comma list of configurations to skip, e.g. a,d")
    ap.add_argument("--repeat", type=int, default=2,
                    help="score_parquet calls per cluster in (b), (c): the first is 'wall s', "
                         "the best later one 'warm s' (default 2; 1 skips 'warm s')")
    ap.add_argument("--dense", action="store_true",
                    help="score with the dense path (transform_X + forward), not the fused "
                         "first layer, for comparison")
    args = ap.parse_args(argv)
    skip = {s.strip().lower() for s in args.skip.split(",") if s.strip()}
    if skip - set(CONFIGS):
        ap.error(f"--skip takes letters among {','.join(CONFIGS)}, got {args.skip!r}")
    if args.rows < args.files or args.files < 1:
        ap.error("need --files >= 1 and --rows >= --files")
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")

    run_benchmark(args.rows, args.files, args.dir, args.keep_data, skip, args.repeat, args.dense)


if __name__ == "__main__":
    main()
