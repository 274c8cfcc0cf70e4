"""Demo: ``python -m dask_deeplearn.demo``.

Trains H2O-style deep learning models on two data sets bundled with scikit-learn
(handwritten digits: 10-class classification; diabetes: regression), and prints the
scoring history and the test metrics of each. Runs in well under a minute on 2 cores.
"""

from __future__ import annotations

import time

import pandas as pd
from sklearn.datasets import load_diabetes, load_digits
from sklearn.model_selection import train_test_split

from . import DeepLearningClassifier, DeepLearningRegressor, presets


def _show(title: str, model, X_test, y_test) -> None:
    with pd.option_context("display.width", 200, "display.max_columns", 20,
                           "display.float_format", "{:.5g}".format):
        print(f"\n=== {title} ===")
        print(model.summary_)
        print(f"stopped by: {model.stop_reason_}, {model.epochs_:.2f} epochs, "
              f"{model.n_iter_} iterations, {model.run_time_:.1f} s")
        print("\nScoring history:")
        print(model.scoring_history_.drop(columns=["timestamp"]).to_string(index=False))
        print("\nTest metrics:")
        print(model.model_performance(X_test, y_test))


def main() -> None:
    """Run the demo."""
    t0 = time.time()
    X, y = load_digits(return_X_y=True, as_frame=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=42, stratify=y)
    clf = DeepLearningClassifier(hidden=[128, 64], epochs=20, seed=42, score_each_iteration=True,
                                 **presets.fast())
    clf.fit(X_tr, y_tr, validation_data=(X_te, y_te))
    _show("Digits: DeepLearningClassifier (fast preset, validation frame)", clf, X_te, y_te)
    print(f"test accuracy: {clf.score(X_te, y_te):.4f}")

    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=42)
    reg = DeepLearningRegressor(hidden=[64, 64], epochs=200, seed=42, l2=1e-4,
                                score_each_iteration=True, stopping_rounds=5)
    reg.fit(X_tr, y_tr, validation_data=(X_te, y_te))
    _show("Diabetes: DeepLearningRegressor (H2O defaults, ADADELTA, early stopping)", reg, X_te, y_te)
    print(f"test R^2: {reg.score(X_te, y_te):.4f}")
    print(f"\ndemo finished in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
