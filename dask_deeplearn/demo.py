"""Demo: ``python -m dask_deeplearn.demo``.

Starts an embedded Dask ``LocalCluster`` (worker processes on this machine), trains
H2O-style deep learning models on two data sets bundled with scikit-learn (handwritten
digits: 10-class classification from a Dask DataFrame; diabetes: regression) on its
workers, and prints the scoring history and the test metrics of each. Runs in well under a
minute on 2 cores.
"""

from __future__ import annotations

import argparse
import time

import dask.dataframe as dd
from distributed import Client
from sklearn.datasets import load_diabetes, load_digits
from sklearn.model_selection import train_test_split

from . import DeepLearningClassifier, DeepLearningRegressor, presets
from ._display import history_text, wrap_words
from .distributed import embedded_cluster


def _show(title: str, model, X_test, y_test) -> None:
    # every line at most 100 characters: the history without its empty columns, in
    # blocks of columns each led by ``epochs``
    print(f"\n=== {title} ===")
    print(wrap_words(model.summary_))
    print(f"stopped by: {model.stop_reason_}, {model.epochs_:.2f} epochs, "
          f"{model.n_iter_} iterations, {model.run_time_:.1f} s")
    print("\nScoring history:")
    print(history_text(model.scoring_history_))
    print("\nTest metrics:")
    print(model.model_performance(X_test, y_test))


def main(argv: list[str] | None = None) -> None:
    """Run the demo.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (``sys.argv[1:]`` when None); ``--help`` lists them.
    """
    parser = argparse.ArgumentParser(
        prog="python -m dask_deeplearn.demo",
        description="Train on scikit-learn's digits (classification, Dask DataFrame) and "
                    "diabetes (regression) data sets on an embedded Dask LocalCluster and "
                    "print the scoring histories and test metrics.")
    parser.add_argument("--workers", type=int, default=2, metavar="N",
                        help="worker processes of the embedded cluster, 1 thread each "
                             "(default: 2)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers must be >= 1, got {args.workers}")
    t0 = time.time()
    with embedded_cluster(n_workers=args.workers, threads_per_worker=1) as cluster, \
            Client(cluster, set_as_default=False) as client:
        print(f"Embedded LocalCluster: {args.workers} worker process(es) x 1 thread, "
              f"dashboard {client.dashboard_link}")
        X, y = load_digits(return_X_y=True, as_frame=True)
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=42,
                                                  stratify=y)
        # a Dask DataFrame of 4 partitions: each worker trains on the partitions it holds
        train = dd.from_pandas(X_tr.assign(target=y_tr), npartitions=4)
        valid = dd.from_pandas(X_te.assign(target=y_te), npartitions=2)
        features = list(X.columns)
        clf = DeepLearningClassifier(hidden=[128, 64], epochs=20, seed=42,
                                     score_each_iteration=True, quiet_mode=True,
                                     **presets.fast())
        clf.fit(train[features], train["target"],
                validation_data=(valid[features], valid["target"]), client=client)
        _show("Digits: DeepLearningClassifier on Dask (fast preset, validation frame)",
              clf, X_te, y_te)
        print(wrap_words(f"rows per worker: {clf.worker_rows_}"))
        print(f"test accuracy: {clf.score(X_te, y_te):.4f}")

        X, y = load_diabetes(return_X_y=True, as_frame=True)
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=42)
        reg = DeepLearningRegressor(hidden=[64, 64], epochs=200, seed=42, l2=1e-4,
                                    score_each_iteration=True, stopping_rounds=5,
                                    quiet_mode=True)
        reg.fit(X_tr, y_tr, validation_data=(X_te, y_te), client=client)
        _show("Diabetes: DeepLearningRegressor on Dask (H2O defaults, ADADELTA, early stopping)",
              reg, X_te, y_te)
        print(f"test R^2: {reg.score(X_te, y_te):.4f}")
    print(f"\ndemo finished in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
