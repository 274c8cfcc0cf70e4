"""All benchmarks in one run: a CSV, a Markdown table and a PNG plot.

Usage (from the repository root)::

    python -m benchmarks.run [--quick] [--only fmnist,rows,workers,scoring,loss]
                             [--skip h2o,torch,sklearn] [--h2o-epochs 10] [--out DIR]

Sections (default: all, in this order):

``fmnist``
    Fashion-MNIST (Debian's ``dataset-fashion-mnist``), 784-200-200-10 Rectifier, 10 epochs,
    2 cores: training samples/s (rows per second of training time, scoring excluded) and
    test accuracy of (a) our H2O semantics (H2O's defaults: ADADELTA, ``mini_batch_size=1``;
    2 threads), (b) ``presets.fast()``, (c) scikit-learn ``MLPClassifier((200, 200),
    batch_size=200)``, (d) PyTorch on the CPU (the same MLP, Adam, batch 200, 2 threads) and
    (e) H2O-3's ``H2ODeepLearningEstimator`` with its defaults on its own 2-thread H2O
    (``--h2o-epochs``, 10 by default: about 9 minutes here). A competitor that is not
    installed gets a row saying so.
``rows``
    Scaling with rows: synthetic data (50 numeric features, a binary response from a
    random nonlinear function), 10k, 100k and 1M rows; seconds per epoch (training time of
    one epoch, in-process, 2 threads) of (b) and (a).
``workers``
    Scaling with worker processes on the Fashion-MNIST fit with ``presets.fast()``:
    in-process vs. Dask ``LocalCluster`` 1 worker x 2 threads vs. 2 workers x 1 thread
    (``benchmarks/bench_dask.py``).
``scoring``
    Batch scoring rows/s on a 10M-row, 20-file Parquet dataset: ``score_parquet`` on a
    ``LocalCluster`` vs. pyarrow's bare read + write (``benchmarks/bench_scoring.py``).
``loss``
    Worker loss: one of 3 ``dask worker --nthreads 1`` processes SIGKILLed from inside the
    first task of each moment of a fit (setup, calibration, a training iteration, a scoring
    task, the final scoring), ``replicate_training_data`` True and False, 3 repeats, each
    on a fresh cluster: finished fits, test accuracy vs. an undisturbed fit, extra seconds
    (Fashion-MNIST, 8,000 rows in 8 Parquet files; ``benchmarks/bench_worker_loss.py``).

``--quick`` uses tiny sizes everywhere (2,000 Fashion-MNIST rows, or scikit-learn's digits
when Fashion-MNIST is not installed; 1 epoch; 1k and 5k rows; 100k scoring rows; worker
loss on 2,000 synthetic rows, 1 repeat); H2O and
PyTorch still run if installed, unless ``--skip``-ped.

Results go to ``DIR/latest.csv``, ``DIR/latest.md`` and ``DIR/latest.png`` (default
``benchmarks/results``), rewritten after every measurement, so a crash late keeps the
early results. Rows whose ``status`` is not ``ok`` ("not installed", "skipped", "failed:
...") carry no numbers.

Optional competitors::

    pip install torch==2.13.0     # PyTorch, CPU build
    pip install h2o               # H2O-3's Python client and jar; needs Java (JDK 17)
"""

from __future__ import annotations

import argparse
import csv
import datetime
import gc
import math
import os
import platform
import sys
import tempfile
import time
import traceback
import warnings
from typing import Callable, Sequence

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# measure the checkout this script lives in, not an older installed copy
sys.path.insert(0, os.path.dirname(HERE))

from . import bench_dask, bench_engine, bench_scoring, bench_worker_loss, competitors  # noqa: E402

SECTIONS = ("fmnist", "rows", "workers", "scoring", "loss")
COMPETITORS = ("sklearn", "torch", "h2o")
COLUMNS = ["section", "config", "status", "rows", "epochs", "samples_per_s", "test_accuracy",
           "epoch_s", "wall_s", "rows_per_s", "finished", "diff_points", "extra_s", "note"]
H2O_REFERENCE = "H2O 3.46 reference on this machine: 1,134 samples/s, 0.875 test accuracy"

SIZES = {
    "full": dict(fm_rows=60_000, fm_test=10_000, epochs=10, h2o_epochs=10,
                 row_sizes=(10_000, 100_000, 1_000_000), slow_max_rows=100_000,
                 scoring_rows=10_000_000, scoring_files=20, workers_configs="abc",
                 scoring_skip="", loss_rows=8_000, loss_test=10_000, loss_repeats=3),
    "quick": dict(fm_rows=2_000, fm_test=2_000, epochs=1, h2o_epochs=1,
                  row_sizes=(1_000, 5_000), slow_max_rows=5_000,
                  scoring_rows=100_000, scoring_files=4,
                  # one LocalCluster layout per section keeps --quick short
                  workers_configs="ac", scoring_skip="b", loss_rows=2_000, loss_test=1_000,
                  loss_repeats=1),
}


# --------------------------------------------------------------------------- results


class Results:
    """The rows measured so far; every ``add`` rewrites the CSV, the Markdown and the PNG."""

    def __init__(self, out: str, meta: dict):
        self.out = out
        self.meta = meta
        self.rows: list[dict] = []
        self.notes: dict[str, list[str]] = {s: [] for s in SECTIONS}
        self.section_s: dict[str, float] = {}
        os.makedirs(out, exist_ok=True)

    def add(self, section: str, config: str, status: str = "ok", **values) -> dict:
        row = {c: "" for c in COLUMNS}
        row.update(section=section, config=config, status=status)
        for key, value in values.items():
            if key not in row:
                raise KeyError(key)
            row[key] = value
        self.rows.append(row)
        print(f"[{section}] {config}: {status}" + "".join(
            f", {k} {_fmt(v)}" for k, v in values.items() if k != "note" and v != ""), flush=True)
        self.write()
        return row

    def note(self, section: str, text: str) -> None:
        self.notes[section].append(text)
        print(f"[{section}] {text}", flush=True)
        self.write()

    def write(self, with_plot: bool = False) -> None:
        """The CSV and the Markdown; the PNG too with ``with_plot`` (at a section's end)."""
        csv_path = os.path.join(self.out, "latest.csv")
        with open(csv_path + ".tmp", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            for row in self.rows:
                writer.writerow({k: _csv(v) for k, v in row.items()})
        os.replace(csv_path + ".tmp", csv_path)
        md_path = os.path.join(self.out, "latest.md")
        with open(md_path + ".tmp", "w") as f:
            f.write(self.markdown())
        os.replace(md_path + ".tmp", md_path)
        if not with_plot:
            return
        try:
            plot(self.rows, os.path.join(self.out, "latest.png"), self.meta)
        except Exception as exc:  # a plot failure must not lose the tables
            print(f"plot failed: {type(exc).__name__}: {exc}", file=sys.stderr)

    def markdown(self) -> str:
        m = self.meta
        lines = [f"# dask_deeplearn benchmarks ({m['mode']})", "",
                 f"* Date: {m['date']}",
                 f"* Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, {m['os']}",
                 f"* Versions: {m['versions']}",
                 f"* Command: `{m['command']}`", ""]
        for section in SECTIONS:
            rows = [r for r in self.rows if r["section"] == section]
            if not rows and not self.notes[section]:
                continue
            title = SECTION_TITLES[section]
            lines += [f"## {title}", ""]
            if section in self.section_s:
                lines += [f"Section time: {self.section_s[section]:.0f} s", ""]
            cols = ["config", "status"] + [c for c in COLUMNS[3:] if any(r[c] != "" for r in rows)]
            if rows:
                lines.append("| " + " | ".join(HEADERS.get(c, c) for c in cols) + " |")
                lines.append("|" + "|".join("---" if c in ("config", "status", "note") else "---:"
                                            for c in cols) + "|")
                for r in rows:
                    lines.append("| " + " | ".join(_fmt(r[c]).replace("|", "/") for c in cols)
                                 + " |")
                lines.append("")
            for text in self.notes[section]:
                lines.append(f"* {text}")
            if self.notes[section]:
                lines.append("")
        return "\n".join(lines)

    def table(self) -> str:
        """A plain-text table of every row, for the terminal."""
        import pandas as pd

        if not self.rows:
            return "(no results)"
        frame = pd.DataFrame(self.rows, columns=COLUMNS)
        frame = frame.drop(columns=[c for c in COLUMNS if (frame[c] == "").all()])
        with pd.option_context("display.width", 250, "display.max_colwidth", 60):
            return frame.map(_fmt).to_string(index=False)


SECTION_TITLES = {
    "fmnist": "1. Fashion-MNIST, 784-200-200-10 Rectifier, 2 cores",
    "rows": "2. Scaling with rows (synthetic, 50 features, binary), 1 epoch, in-process",
    "workers": "3. Scaling with worker processes (Fashion-MNIST, presets.fast())",
    "scoring": "4. Batch scoring of a partitioned Parquet dataset",
    "loss": "5. Worker loss: one of 3 dask worker processes killed at each moment of a fit",
}
PLOT_TITLES = {
    "fmnist": "1. Fashion-MNIST 784-200-200-10, training samples/s",
    "rows": "2. Rows: seconds per epoch (synthetic, 50 features)",
    "workers": "3. Worker processes: Fashion-MNIST, presets.fast()",
    "scoring": "4. Batch scoring of partitioned Parquet: rows/s",
}
HEADERS = {"rows": "rows", "samples_per_s": "samples/s", "test_accuracy": "test accuracy",
           "epoch_s": "s / epoch", "wall_s": "wall s", "rows_per_s": "rows/s",
           "diff_points": "accuracy diff (points)", "extra_s": "extra s"}


def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(v):
            return ""
        if abs(v) >= 100:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:,.1f}"
        return f"{v:.4f}" if abs(v) < 1 else f"{v:.2f}"
    if isinstance(v, (int, np.integer)):
        return f"{v:,}"
    return str(v)


def _csv(v):
    if isinstance(v, (float, np.floating)):
        return "" if not math.isfinite(v) else repr(float(v))
    if isinstance(v, np.integer):
        return int(v)
    return v


# --------------------------------------------------------------------------- the plot


def plot(rows: list[dict], path: str, meta: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    def ok(section):
        return [r for r in rows if r["section"] == section and r["status"] == "ok"]

    fig, axes = plt.subplots(2, 2, figsize=(14, 9))
    fig.suptitle(f"dask_deeplearn benchmarks ({meta['mode']}), {meta['date']}, "
                 f"{meta['cpu']}, {meta['cores']} cores", fontsize=11)

    def bars(ax, data, value, label, title, annotate=None):
        """Horizontal bars, ours blue, the others grey."""
        if not data:
            ax.text(0.5, 0.5, "not run", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            ax.set_title(title, fontsize=10)
            return
        names = [r["config"][:48] for r in data][::-1]
        vals = [float(r[value]) for r in data][::-1]
        y = np.arange(len(vals))
        theirs = ("scikit-learn", "PyTorch", "H2O-3", "pyarrow")
        colors = ["tab:gray" if any(t in r["config"] for t in theirs) else "tab:blue"
                  for r in data][::-1]
        ax.barh(y, vals, color=colors)
        ax.set_yticks(y, names, fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_title(title, fontsize=10)
        for i, r in enumerate(data[::-1]):
            text = f" {float(r[value]):,.0f}"
            if annotate and r.get(annotate, "") != "":
                text += f"  (acc {float(r[annotate]):.3f})"
            ax.text(vals[i], i, text, va="center", fontsize=8)
        ax.set_xlim(min(vals) / 2, max(vals) * 20)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())

    bars(axes[0, 0], ok("fmnist"), "samples_per_s", "training samples/s (log)",
         PLOT_TITLES["fmnist"], annotate="test_accuracy")
    bars(axes[1, 0], ok("workers"), "samples_per_s", "training samples/s (log)",
         PLOT_TITLES["workers"], annotate="test_accuracy")
    bars(axes[1, 1], ok("scoring"), "rows_per_s", "rows/s (log)",
         PLOT_TITLES["scoring"])

    ax = axes[0, 1]
    data = ok("rows")
    ax.set_title(PLOT_TITLES["rows"], fontsize=10)
    if data:
        for name in dict.fromkeys(r["config"] for r in data):
            pts = sorted((int(r["rows"]), float(r["epoch_s"])) for r in data if r["config"] == name)
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=name[:40])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("training rows (log)")
        ax.set_ylabel("seconds per epoch (log)")
        ax.legend(fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    else:
        ax.text(0.5, 0.5, "not run", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path + ".tmp.png", dpi=90)
    plt.close(fig)
    os.replace(path + ".tmp.png", path)


# --------------------------------------------------------------------------- machine


def machine_info(mode: str, argv: list[str]) -> dict:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        cpu = platform.processor() or cpu
    memory = "memory unknown"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    memory = f"{int(line.split()[1]) / 2**20:.0f} GiB"
                    break
    except OSError:
        pass
    from importlib import metadata

    versions = [f"Python {platform.python_version()}"]
    for dist in ("dask_deeplearn", "numpy", "numba", "pandas", "dask", "distributed", "pyarrow",
                 "scikit-learn", "torch", "h2o"):
        try:
            versions.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{dist} not installed")
    if competitors.h2o_missing(check_import=False) is None:
        versions.append(f"Java: {competitors.java_version()}")
    return {"mode": mode, "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "cpu": cpu, "cores": os.cpu_count(), "memory": memory,
            "os": f"{platform.system()} {platform.release()}", "versions": ", ".join(versions),
            "command": " ".join(["python -m benchmarks.run"] + argv)}


# --------------------------------------------------------------------------- data


def load_images(n_train: int, n_test: int, quick: bool):
    """Fashion-MNIST (first ``n_train`` / ``n_test`` rows) or, in quick mode without it,
    scikit-learn's digits. Returns ``X, y, Xt, yt, name``."""
    if bench_engine.fashion_mnist_available():
        X, y = bench_engine.load_fashion_mnist("train")
        Xt, yt = bench_engine.load_fashion_mnist("t10k")
        return X[:n_train], y[:n_train], Xt[:n_test], yt[:n_test], "Fashion-MNIST"
    if not quick:
        raise RuntimeError(f"Fashion-MNIST not found in {bench_engine.DATA_DIR}; install it "
                           "with: apt-get update && apt-get install dataset-fashion-mnist "
                           "(or use --quick, which falls back to scikit-learn's digits, or "
                           "--only rows,scoring)")
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32)
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(X))
    train, test = idx[:1400], idx[1400:]
    return X[train], y[train], X[test], y[test], "digits (Fashion-MNIST not installed)"


def synthetic(n: int, n_features: int = 50, seed: int = 0):
    """``n`` rows of standard normal features and a binary response from a fixed random
    nonlinear function (a random 1-hidden-layer tanh net plus pairwise products), balanced
    by its median."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_features), dtype=np.float32)
    frng = np.random.default_rng(12345)  # the function is the same for every n
    W = frng.normal(0, 1 / np.sqrt(n_features), (n_features, 16)).astype(np.float32)
    v = frng.normal(0, 1, 16).astype(np.float32)
    f = np.tanh(X @ W) @ v + 0.5 * X[:, 0] * X[:, 1] - 0.3 * X[:, 2] ** 2
    f += rng.normal(0, 0.1, n).astype(np.float32)
    y = np.where(f > 0.0, "yes", "no")
    cols = [f"x{i}" for i in range(n_features)]
    return pd.DataFrame(X, columns=cols), pd.Series(y, name="y", dtype="category")


# --------------------------------------------------------------------------- sections


def _failed(exc: BaseException) -> str:
    traceback.print_exc()
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"failed: {type(exc).__name__}: {msg}"[:300]


def _competitor(res: Results, config: str, name: str, skip: Sequence[str],
                missing: str | None, rows: int, run: Callable[[], dict]) -> None:
    """One optional competitor's Fashion-MNIST row: measured, skipped or not installed."""
    if name in skip:
        res.add("fmnist", config, f"skipped (--skip {name})"
                + ("" if missing is None else f"; also {missing.split(';')[0]}"))
    elif missing:
        res.add("fmnist", config, missing)
    else:
        try:
            r = run()
            res.add("fmnist", config, rows=rows, epochs=r["epochs"],
                    samples_per_s=r["samples/s"], test_accuracy=r["test accuracy"],
                    wall_s=r["wall s"], note=r["note"])
        except Exception as exc:
            res.add("fmnist", config, _failed(exc))


def section_fmnist(res: Results, sz: dict, args) -> None:
    from dask_deeplearn import presets

    X, y, Xt, yt, name = load_images(sz["fm_rows"], sz["fm_test"], args.quick)
    epochs = args.epochs if args.epochs is not None else sz["epochs"]
    res.note("fmnist", f"{name}: {len(X):,} training rows, {len(Xt):,} test rows, "
                       f"{X.shape[1]}-200-200-{len(np.unique(y))} Rectifier, {epochs:g} epochs "
                       f"(H2O: --h2o-epochs), {os.cpu_count()} cores. Samples/s = training rows "
                       "per second of training time (scoring excluded).")
    common = bench_engine.common_params(epochs)
    for config, params in ((bench_engine.NAME_A, common),
                           (bench_engine.NAME_B, {**common, **presets.fast()})):
        try:
            r = bench_engine.run_ours(config, params, X, y, Xt, yt)
            res.add("fmnist", config, rows=len(X), epochs=float(r["epochs"]),
                    samples_per_s=r["samples/s"], test_accuracy=r["test accuracy"],
                    wall_s=r["wall s"], note="training_speed of the scoring history")
        except Exception as exc:
            res.add("fmnist", config, _failed(exc))
        gc.collect()

    config = "(c) scikit-learn MLPClassifier(200,200), batch 200"
    if "sklearn" in args.skip:
        res.add("fmnist", config, "skipped (--skip sklearn)")
    else:
        try:
            r = bench_engine.run_sklearn(X, y, Xt, yt, int(math.ceil(epochs)))
            res.add("fmnist", config, rows=len(X), epochs=float(r["epochs"]),
                    samples_per_s=r["samples/s"], test_accuracy=r["test accuracy"],
                    wall_s=r["wall s"], note="Adam (default), standardised inputs; rows x "
                                             "epochs / fit time")
        except Exception as exc:
            res.add("fmnist", config, _failed(exc))
    gc.collect()

    config = "(d) PyTorch CPU MLP 200-200 ReLU, Adam, batch 200, 2 threads"
    _competitor(res, config, "torch", args.skip,
                competitors.torch_missing(check_import="torch" not in args.skip), len(X),
                lambda: competitors.run_torch(X, y, Xt, yt, int(math.ceil(epochs))))
    gc.collect()

    h2o_epochs = args.h2o_epochs if args.h2o_epochs is not None else sz["h2o_epochs"]
    config = f"(e) H2O-3 H2ODeepLearningEstimator defaults, {h2o_epochs:g} epochs, nthreads=2"
    _competitor(res, config, "h2o", args.skip,
                competitors.h2o_missing(check_import="h2o" not in args.skip), len(X),
                lambda: competitors.run_h2o(X, y, Xt, yt, h2o_epochs,
                                            log=lambda s: print(s, flush=True)))
    res.note("fmnist", H2O_REFERENCE + " (H2O's default network, 10 epochs).")


def section_rows(res: Results, sz: dict, args) -> None:
    from dask_deeplearn import DeepLearningClassifier, presets

    sizes = sz["row_sizes"]
    slow_max = sz["slow_max_rows"]
    res.note("rows", f"Synthetic: 50 standard-normal features, binary response from a fixed "
                     f"random nonlinear function; sizes {', '.join(f'{n:,}' for n in sizes)}; "
                     "1 epoch per fit, 2 threads, in-process. s / epoch = rows / training "
                     "speed (training time only); wall s = the whole fit (preprocessing, "
                     "scoring of H2O's 10,000-row training sample included)."
             + ("" if slow_max >= max(sizes) else
                f" (a) runs only up to {slow_max:,} rows (online SGD is slow)."))
    configs = [("(b) fast preset", presets.fast(), max(sizes)),
               ("(a) H2O semantics", {}, slow_max)]
    for n in sizes:
        X, y = synthetic(n)
        for name, preset, limit in configs:
            if n > limit:
                res.add("rows", name, f"skipped: > {limit:,} rows (--slow-max-rows)", rows=n)
                continue
            try:
                clf = DeepLearningClassifier(hidden=[200, 200], activation="Rectifier",
                                             epochs=1, seed=1, nthreads=2, quiet_mode=True,
                                             **preset)
                t0 = time.perf_counter()
                clf.fit(X, y)
                wall = time.perf_counter() - t0
                speed = float(clf.scoring_history_["training_speed"].iloc[-1])
                res.add("rows", name, rows=n, epochs=float(clf.epochs_), samples_per_s=speed,
                        epoch_s=n / speed, wall_s=wall)
            except Exception as exc:
                res.add("rows", name, _failed(exc), rows=n)
            gc.collect()
        del X, y
        gc.collect()


def section_workers(res: Results, sz: dict, args) -> None:
    from dask_deeplearn import presets

    X, y, Xt, yt, name = load_images(sz["fm_rows"], sz["fm_test"], args.quick)
    epochs = args.epochs if args.epochs is not None else sz["epochs"]
    params = dict(hidden=[200, 200], activation="Rectifier", epochs=epochs, seed=1,
                  quiet_mode=True, **presets.fast())
    res.note("workers", f"{name}: {len(X):,} training rows, presets.fast(), {epochs:g} epochs; "
                        "Dask rows train on a Dask DataFrame of 8 Parquet files persisted "
                        "on the workers before the timed fit, as the in-process fit has its "
                        "arrays in memory (benchmarks/bench_dask.py); wall s = fit time, "
                        "cluster start-up excluded. On one 2-core machine this measures the "
                        "distributed protocol's cost, not a speed-up.")
    walls: dict[str, float] = {}

    def log(r):
        walls[r["workers x threads"] + r["backend"]] = r["fit s"]
        res.add("workers", f"{r['config']}, {r['workers x threads']} ({r['backend']})",
                rows=len(X), epochs=r["epochs"], samples_per_s=r["samples/s"],
                test_accuracy=r["test accuracy"], wall_s=r["fit s"],
                note=f"{r['iterations']} iterations")

    labels = {"a": "(a) in-process, 1 x 2", "b": "(b) Dask, 1 x 2", "c": "(c) Dask, 2 x 1"}
    for key in "abc":  # one at a time, so a failure costs one row only
        if key not in sz["workers_configs"]:
            res.add("workers", labels[key], "skipped (--quick: one LocalCluster layout)")
            continue
        try:
            bench_dask.run_configs(params, X, y, Xt, yt, skip=set("abcd") - {key}, log=log)
        except Exception as exc:
            res.add("workers", labels[key], _failed(exc))
        gc.collect()
    base = walls.get("1 x 2local")
    if base:
        ratios = [f"{label} {walls[k] / base:.2f}x (target <= {target:.2f}x)"
                  for k, label, target in (("1 x 2dask", "(b) 1 x 2", 1.15),
                                           ("2 x 1dask", "(c) 2 x 1", 1.30)) if k in walls]
        if ratios:
            res.note("workers", "Dask fit wall / in-process fit wall, this run: "
                                + "; ".join(ratios) + ".")


def section_scoring(res: Results, sz: dict, args) -> None:
    n, files = sz["scoring_rows"], sz["scoring_files"]
    res.note("scoring", f"{n:,} rows in {files} Parquet files (8 numeric + 2 categorical "
                        "columns, NaNs, missing and unseen levels), a 32-32 binomial model; "
                        "benchmarks/bench_scoring.py, one score_parquet call per fresh "
                        "LocalCluster (start-up excluded, the workers' first imports included).")
    skip = set(sz["scoring_skip"])
    with tempfile.TemporaryDirectory(prefix="bench_run_scoring_") as work:
        out = bench_scoring.run_benchmark(n, files, work, keep_data=False, skip=skip,
                                          repeat=1)
    for r in out["rows"]:
        key = r["config"][1]
        check = out["checks"].get(key, "")
        config = f"{r['config']}, {r['workers x threads']}"
        if check.startswith("FAIL"):  # a wrong output has no meaningful speed
            res.add("scoring", config, "failed: output check " + check, rows=n)
            continue
        res.add("scoring", config, rows=n, wall_s=r["wall s"], rows_per_s=r["rows/s"],
                note="OK (output = model.predict)" if check.startswith("OK") else "")
    if "b" in skip:
        res.add("scoring", "(b) score_parquet, LocalCluster, 2 x 1",
                "skipped (--quick: one LocalCluster layout)")
    if out["verdict"]:
        res.note("scoring", out["verdict"])


def section_loss(res: Results, sz: dict, args) -> None:
    n, repeats = sz["loss_rows"], sz["loss_repeats"]
    if args.quick:
        X, y = synthetic(n + sz["loss_test"], n_features=20)
        X, y, Xt, yt = X[:n], y[:n], X[n:], y[n:]
        name, hidden = "synthetic (20 features, binary)", [16]
    else:
        X, y, Xt, yt, name = load_images(n, sz["loss_test"], quick=False)
        hidden = [64]
    params = bench_worker_loss.default_params(2, n, hidden)
    res.note("loss", f"{name}: {n:,} training rows in 8 Parquet files, {len(Xt):,} test rows, "
                     f"hidden {hidden}, presets.fast(), 2 epochs of 2 iterations, scored at "
                     "each; a real dask scheduler + 3 dask worker --nthreads 1 processes on "
                     "127.0.0.1 (a killed worker is replaced by a fresh, warmed-up process "
                     f"before the next fit), {os.cpu_count()} cores. Each moment: {repeats} "
                     "fit(s) in which the first worker is SIGKILLed from inside the first "
                     "task of that moment on it (benchmarks/bench_worker_loss.py). Test "
                     "accuracy = mean of the finished fits; accuracy diff = 100 x (that - "
                     "the undisturbed fit's); extra s = mean fit wall - the undisturbed "
                     "fit's (one undisturbed fit per setting; the survivors are 2 workers on "
                     "2 cores, so it can be negative). On a machine shared with other jobs "
                     "the seconds are noisy.")

    def log(r):
        note = (f"victim killed {r['killed']}" if r["killed"] else "") + (
            f"; errors: {r['errors']}" if r["errors"] else "")
        res.add("loss", f"{r['moment']}, replicate={r['replicate']}", rows=n,
                test_accuracy=r["accuracy"], wall_s=r["wall"], finished=r["finished"],
                diff_points=r["diff_points"], extra_s=r["extra_s"], note=note)

    bench_worker_loss.run_section(params, X, y, Xt, yt, repeats=repeats, log=log)


SECTION_FUNCS = {"fmnist": section_fmnist, "rows": section_rows, "workers": section_workers,
                 "scoring": section_scoring, "loss": section_loss}


# --------------------------------------------------------------------------- main


def _list(value: str, allowed, option: str, ap) -> list[str]:
    items = [s.strip().lower() for s in value.split(",") if s.strip()]
    bad = [s for s in items if s not in allowed]
    if bad:
        ap.error(f"{option} takes names among {','.join(allowed)}, got {','.join(bad)}")
    return items


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes everywhere (for tests)")
    ap.add_argument("--only", default=",".join(SECTIONS),
                    help=f"comma list of sections among {','.join(SECTIONS)} (default all)")
    ap.add_argument("--skip", default="",
                    help=f"comma list of competitors not to run, among {','.join(COMPETITORS)}")
    ap.add_argument("--h2o-epochs", type=float, default=None,
                    help="epochs of H2O-3 (default 10; 1 with --quick)")
    ap.add_argument("--epochs", type=float, default=None,
                    help="epochs of the Fashion-MNIST fits (default 10; 1 with --quick)")
    ap.add_argument("--slow-max-rows", type=int, default=None,
                    help="largest size of the rows section for (a) H2O semantics (default "
                         "100,000: online SGD at 1M rows takes minutes; 5,000 with --quick)")
    ap.add_argument("--out", default=os.path.join(HERE, "results"),
                    help="output directory (default benchmarks/results)")
    args = ap.parse_args(argv)
    sections = _list(args.only, SECTIONS, "--only", ap)
    args.skip = set(_list(args.skip, COMPETITORS, "--skip", ap))
    sz = dict(SIZES["quick" if args.quick else "full"])
    if args.slow_max_rows is not None:
        sz["slow_max_rows"] = args.slow_max_rows

    warnings.filterwarnings("ignore", category=FutureWarning)
    meta = machine_info("quick" if args.quick else "full", argv)
    res = Results(os.path.abspath(args.out), meta)
    print(f"{meta['date']}: {meta['cpu']}, {meta['cores']} cores, {meta['memory']}\n"
          f"{meta['versions']}\nwriting {res.out}/latest.{{csv,md,png}}", flush=True)
    t_all = time.perf_counter()
    failed = False
    for section in SECTIONS:
        if section not in sections:
            continue
        print(f"=== {SECTION_TITLES[section]}", flush=True)
        t0 = time.perf_counter()
        try:
            SECTION_FUNCS[section](res, sz, args)
        except Exception as exc:
            failed = True
            res.add(section, "(section)", _failed(exc))
        res.section_s[section] = time.perf_counter() - t0
        res.write(with_plot=True)
        print(f"=== {section} done in {res.section_s[section]:.0f} s", flush=True)
    print("\n" + res.table())
    print("\nSection times: " + ", ".join(f"{k} {v:.0f} s" for k, v in res.section_s.items())
          + f"; total {time.perf_counter() - t_all:.0f} s")
    print(f"wrote {res.out}/latest.csv, latest.md, latest.png")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
