"""Engine benchmark on Fashion-MNIST: samples/s and test accuracy.

Network 784-200-200-10 Rectifier, 10 epochs, compared in one process:

(a) H2O semantics: H2O's defaults (ADADELTA, online SGD ``mini_batch_size=1``), 2 threads;
(b) the README's fast configuration, ``dask_deeplearn.presets.fast()`` (BLAS mini-batches);
(c) scikit-learn's ``MLPClassifier(hidden_layer_sizes=(200, 200), batch_size=200)``.

Samples/s counts training rows per second of training time (scoring excluded: H2O's
"training speed" column), measured by the estimators themselves.

Usage::

    python benchmarks/bench_engine.py [--epochs 10] [--rows 60000] [--skip-sklearn] [--seeds 4]

Needs Debian's ``dataset-fashion-mnist`` package (``apt-get install dataset-fashion-mnist``;
files under ``/usr/share/datasets/fashion-mnist/``).
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time
import warnings

import numpy as np

DATA_DIR = "/usr/share/datasets/fashion-mnist"
# measure the checkout this script lives in, not an older installed copy
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


NAME_A = "(a) H2O semantics: ADADELTA, mini_batch_size=1, 2 threads"
NAME_B = "(b) fast preset: presets.fast(), 2 threads"


def fashion_mnist_available() -> bool:
    """True when the Debian package's IDX files are installed."""
    return all(os.path.exists(os.path.join(DATA_DIR, f"{kind}-{part}-idx{n}-ubyte.gz"))
               for kind in ("train", "t10k") for part, n in (("images", 3), ("labels", 1)))


def common_params(epochs: float) -> dict:
    """(a): H2O's defaults for everything but the seed, the threads and the log."""
    return dict(hidden=[200, 200], activation="Rectifier", epochs=epochs, seed=1,
                nthreads=2, quiet_mode=True)


def load_fashion_mnist(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Read the IDX files of the Debian package (``kind`` is ``train`` or ``t10k``)."""
    images = os.path.join(DATA_DIR, f"{kind}-images-idx3-ubyte.gz")
    labels = os.path.join(DATA_DIR, f"{kind}-labels-idx1-ubyte.gz")
    if not os.path.exists(images):
        sys.exit(
            f"Fashion-MNIST not found in {DATA_DIR}.\n"
            "Install it with:  apt-get update && apt-get install dataset-fashion-mnist"
        )
    with gzip.open(images) as f:
        X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(np.float32)
    with gzip.open(labels) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return X, y


def run_ours(name: str, params: dict, X, y, Xt, yt) -> dict:
    from dask_deeplearn import DeepLearningClassifier

    clf = DeepLearningClassifier(**params)
    t0 = time.time()
    clf.fit(X, y)
    wall = time.time() - t0
    speed = float(clf.scoring_history_["training_speed"].iloc[-1])
    return {"config": name, "samples/s": speed, "test accuracy": clf.score(Xt, yt),
            "epochs": clf.epochs_, "wall s": wall}


def run_sklearn(X, y, Xt, yt, epochs: int) -> dict:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X)
    Xs, Xts = scaler.transform(X), scaler.transform(Xt)
    mlp = MLPClassifier(hidden_layer_sizes=(200, 200), batch_size=200, max_iter=epochs,
                        random_state=1)
    t0 = time.time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(Xs, y)
    wall = time.time() - t0
    return {"config": "(c) scikit-learn MLPClassifier(200,200), batch 200", "samples/s": len(X) * mlp.n_iter_ / wall,
            "test accuracy": mlp.score(Xts, yt), "epochs": float(mlp.n_iter_), "wall s": wall}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=float, default=10)
    ap.add_argument("--rows", type=int, default=60000, help="training rows to use")
    ap.add_argument("--skip-sklearn", action="store_true")
    ap.add_argument("--seeds", type=int, default=1,
                    help="also train the fast preset with seeds 2..N and report its accuracy range")
    args = ap.parse_args(argv)

    import pandas as pd

    from dask_deeplearn import presets

    X, y = load_fashion_mnist("train")
    Xt, yt = load_fashion_mnist("t10k")
    X, y = X[: args.rows], y[: args.rows]
    # H2O's defaults for everything else (scoring schedule, early stopping, best model)
    common = common_params(args.epochs)
    rows = [
        run_ours(NAME_A, common, X, y, Xt, yt),
        run_ours(NAME_B, {**common, **presets.fast()}, X, y, Xt, yt),
    ]
    if not args.skip_sklearn:
        rows.append(run_sklearn(X, y, Xt, yt, int(args.epochs)))
    table = pd.DataFrame(rows)
    if not args.skip_sklearn:
        ref = table["samples/s"].iloc[-1]
        table["x scikit-learn"] = table["samples/s"] / ref
    with pd.option_context("display.width", 200, "display.max_colwidth", 70):
        print(f"Fashion-MNIST, {len(X)} training rows, {len(Xt)} test rows, 784-200-200-10 Rectifier, "
              f"{args.epochs:g} epochs, {os.cpu_count()} cores")
        print(table.to_string(index=False, float_format=lambda v: f"{v:,.3f}" if v < 10 else f"{v:,.0f}"))
        print("H2O 3.46 on this 2-core machine (reference): 1,134 samples/s, 0.875 test accuracy")
    if args.seeds > 1:
        # Hogwild threads race by design: report the fast preset over several seeds
        fast = [rows[1]] + [
            run_ours(f"(b) seed {s}", {**common, "seed": s, **presets.fast()}, X, y, Xt, yt)
            for s in range(2, args.seeds + 1)
        ]
        accs = [r["test accuracy"] for r in fast]
        speeds = [r["samples/s"] for r in fast]
        print(f"(b) fast preset over seeds 1-{args.seeds}: test accuracy "
              + ", ".join(f"{a:.4f}" for a in accs)
              + f" (min {min(accs):.4f}, mean {np.mean(accs):.4f}); samples/s "
              f"{min(speeds):,.0f}-{max(speeds):,.0f}")


if __name__ == "__main__":
    main()
