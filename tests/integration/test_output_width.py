"""What a model prints fits a terminal: ``print(model)`` and metrics, at most 100 columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer

from dask_deeplearn import DeepLearningClassifier, DeepLearningEstimator

QUICK = dict(seed=1, reproducible=True, quiet_mode=True)


def _too_wide(text: str) -> list[str]:
    return [line for line in text.splitlines() if len(line) > 100]


def test_h2o_report_lines_fit_100_characters_with_h2os_sections():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    frame = X.assign(label=y.map({0: "no", 1: "yes"}).astype("category"))
    model = DeepLearningEstimator(hidden=[6], epochs=4, nfolds=3, score_each_iteration=True,
                                  **QUICK)
    model.train(y="label", training_frame=frame.iloc[:450], validation_frame=frame.iloc[450:])
    text = repr(model)
    assert not _too_wide(text), _too_wide(text)[:3]
    # H2O's section titles are kept (their order is checked with the report's content)
    sections = ["Model Details", "Status of Neuron Layers: predicting label",
                "** Reported on cross-validation data. **", "Cross-Validation Metrics Summary:",
                "Scoring History:", "Variable Importances:"]
    positions = [text.index(s) for s in sections]
    assert positions == sorted(positions)
    history = text[text.index("Scoring History:"):text.index("Variable Importances:")]
    # no timestamp, no empty columns (a binomial history has no classification-only
    # columns missing; its multinomial-only ones are absent), short headers
    assert "timestamp" not in history and "train_auc" in history and "valid_err" in history
    # every layer-table column is still printed, in blocks of columns
    layers = text[text.index("Status of Neuron Layers:"):text.index("ModelMetrics")]
    for column in model.summary().columns:
        assert column in layers, column
    assert "timestamp" in model.scoring_history_.columns  # H2O's table is unchanged


def test_metrics_of_20_classes_print_within_100_characters():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(400, 4)), columns=list("abcd"))
    y = pd.Series(rng.integers(0, 20, 400)).map(lambda k: f"class_{k:02d}")
    model = DeepLearningClassifier(hidden=[8], epochs=1, **QUICK).fit(X, y)
    text = repr(model.training_metrics_)
    assert "Confusion Matrix:" in text and "class_19" in text
    assert not _too_wide(text), _too_wide(text)[:3]
