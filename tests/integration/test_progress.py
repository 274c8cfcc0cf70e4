"""What a user sees while models train: one progress bar per user action.

The terminal cases run real scripts in a subprocess and count the lines of their standard
error split on "\\n" (tqdm redraws one line with "\\r", which stays one line). The notebook
cases run a real Jupyter kernel (nbclient) and count the tqdm widgets still displayed
at the end: a widget the kernel closed (``leave=False``) is no longer shown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from dask_deeplearn.training.loop import _format_row
from dask_deeplearn.training.progress import MAX_WIDTH, ProgressReporter, headline_metrics
from dask_deeplearn.training.scoring import history_columns

TIMEOUT = 600

_DATA = """
import numpy as np, pandas as pd
from dask_deeplearn import (DeepLearningAutoEncoder, DeepLearningClassifier,
                            DeepLearningEstimator, DeepLearningRegressor)
rng = np.random.default_rng(0)
X = rng.normal(size=(300, 4))
y = (X[:, 0] > 0).astype(int)
"""


def _run(body: str) -> tuple[str, list[str]]:
    """Run ``body`` after the data set-up in a fresh Python; its stdout and stderr lines
    (split on "\\n" only; each line shown as its last "\\r" redraw)."""
    code = _DATA + textwrap.dedent(body)
    env = {**os.environ, "COLUMNS": str(MAX_WIDTH)}  # (pytest's own width is not the user's)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=TIMEOUT,
                          env=env)
    err = proc.stderr.decode()
    assert proc.returncode == 0, err
    lines = [part.split("\r")[-1].rstrip() for part in err.split("\n")]
    return proc.stdout.decode(), [line for line in lines if line]


def test_each_user_action_in_a_script_prints_one_line():
    out, lines = _run("""
        from sklearn.model_selection import GridSearchCV, cross_validate
        from dask_deeplearn.model_selection import DeepLearningGridSearch
        small = dict(hidden=[4], seed=1)
        # a fit alone, many scoring events
        DeepLearningClassifier(epochs=3, score_each_iteration=True,
                               train_samples_per_iteration=50, **small).fit(X, y)
        # a default 4 x 3 scikit-learn grid: 12 fold fits and the refit
        gs = GridSearchCV(DeepLearningClassifier(epochs=2, **small),
                          {"l2": [0.0, 1e-4, 1e-3, 1e-2]}, cv=3).fit(X, y)
        print("refit", gs.best_estimator_.epochs_)
        # our cross-validation: 3 fold models and the main model
        DeepLearningClassifier(epochs=2, nfolds=3, **small).fit(X, y)
        # our grid search, two fits at a time in threads
        DeepLearningGridSearch(DeepLearningClassifier(epochs=2, **small),
                               {"l1": [0.0, 1e-4, 1e-3]}, n_jobs=2).fit(X, y)
        # H2O's style: quiet_mode default, 1,000 iterations
        frame = pd.DataFrame(X, columns=list("abcd")).assign(r=X[:, 1] * 2 + X[:, 2])
        m = DeepLearningEstimator(hidden=[4], epochs=100, seed=1, score_each_iteration=True,
                                  train_samples_per_iteration=30, stopping_rounds=0)
        m.train(y="r", training_frame=frame)
        print("iterations", int(m.scoring_history_["iterations"].iloc[-1]))
        DeepLearningAutoEncoder(hidden=[2], epochs=2, seed=1).fit(X)
        # silent: quiet_mode, and scikit-learn's cross_validate (its length is unknown:
        # each fit's bar vanishes when it ends)
        DeepLearningClassifier(epochs=2, quiet_mode=True, **small).fit(X, y)
        cross_validate(DeepLearningClassifier(epochs=2, **small), X, y, cv=3)
    """)
    assert int(out.split("iterations ")[1].split()[0]) >= 1000
    descs = [line.split(":", 1)[0] for line in lines]
    assert descs == ["DeepLearningClassifier", "GridSearchCV", "DeepLearningClassifier CV",
                     "DeepLearningGridSearch", "DeepLearningEstimator",
                     "DeepLearningAutoEncoder"], lines
    fit, search, cv, grid, h2o, auto = lines
    assert all(len(line) <= MAX_WIDTH for line in lines), lines
    # a fit: its epochs, elapsed and remaining time, the classifier's metrics (no R^2)
    assert "3.00/3.00 epochs" in fit and "100%" in fit and "logloss" in fit and "error" in fit
    assert "[00:" in fit and "r2" not in fit
    assert "13.0/13 fits" in search and "100%" in search
    assert "4.0/4 fits" in cv and "3.0/3 fits" in grid
    assert "deviance" in h2o and "rmse" in h2o and "logloss" not in h2o
    assert "mse" in auto


def test_a_scikit_learn_search_in_worker_processes_prints_only_its_refit():
    _, lines = _run("""
        from sklearn.model_selection import GridSearchCV
        GridSearchCV(DeepLearningClassifier(hidden=[4], epochs=2, seed=1, nthreads=1),
                     {"l2": [0.0, 1e-3]}, cv=2, n_jobs=2).fit(X, y)
    """)
    assert len(lines) == 1 and lines[0].startswith("DeepLearningClassifier: 100%"), lines


def test_verbose_prints_each_scoring_row_once_on_stdout_only():
    out, lines = _run("""
        clf = DeepLearningClassifier(hidden=[4], epochs=2, seed=1, verbose=True,
                                     score_each_iteration=True,
                                     train_samples_per_iteration=100).fit(X, y, validation_data=(X, y))
        print("rows", len(clf.scoring_history_))
    """)
    assert lines == []  # no progress line besides the history
    printed = out.splitlines()
    rows = int(printed[-1].split()[1])
    history = [line for line in printed if line.startswith("epochs ")]
    assert len(history) == rows - 1 >= 6  # (the first row is H2O's unscored row 0)
    assert len(set(history)) == len(history)
    assert all(len(line) <= MAX_WIDTH and "valid logloss" in line for line in history)


@pytest.mark.parametrize("task,n_classes,shown", [
    ("classification", 2, ["logloss", "classification_error"]),
    ("classification", 5, ["logloss", "classification_error"]),
    ("regression", None, ["deviance", "rmse"]),
    ("autoencoder", None, ["mse"]),
])
def test_history_lines_show_the_tasks_metrics_within_the_width(task, n_classes, shown):
    cols = history_columns(task, n_classes)
    assert headline_metrics(cols) == shown
    row = {"epochs": 12345.678, "iterations": 1_000_000, "training_speed": 12_345_678.0}
    for c in cols:
        row[f"training_{c}"] = row[f"validation_{c}"] = 1.234567e-05
    line = _format_row(row, cols, has_valid=True)
    assert len(line) <= MAX_WIDTH and "r2" not in line
    assert "valid" in line and f"{shown[0]} 1.235e-05" in line


def test_a_notebook_bar_reads_complete_after_early_stopping_and_notes_go_above_it():
    import io

    stream = io.StringIO()
    rep = ProgressReporter("M", 10.0, notebook=False, stream=stream)
    hist = pd.DataFrame({"epochs": [0.0, 2.5], "training_logloss": [np.nan, 0.3],
                         "training_classification_error": [np.nan, 0.1],
                         "training_r2": [np.nan, 0.5]})
    rep(hist, "line")
    assert rep._bar.n == 2.5 and "train logloss 0.3 error 0.1" in str(rep._bar.postfix)
    rep.note("live training page at http://x/")
    rep.close()  # stopped early: the bar ends at 100 %, not as a failure
    text = stream.getvalue()
    assert "M: live training page at http://x/\n" in text
    assert text.split("\n")[-2].split("\r")[-1].startswith("M: 100%")


# ---------------------------------------------------------------------------- notebook
WIDGET = "application/vnd.jupyter.widget-view+json"


def _bars_shown(cells: list[str], tmp_path) -> list[list[str]]:
    """Per cell, the ids of the widget bars still displayed once the notebook ran."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipywidgets")

    class _Client(nbclient.NotebookClient):
        """nbclient that records the widgets the kernel closed."""

        closed: set[str] = set()

        def handle_comm_msg(self, outs, msg, cell_index):
            if msg["msg_type"] == "comm_close":
                self.closed.add(msg["content"]["comm_id"])
            return super().handle_comm_msg(outs, msg, cell_index)

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(_DATA)] + [nbformat.v4.new_code_cell(textwrap.dedent(c))
                                                     for c in cells]
    client = _Client(nb, timeout=TIMEOUT, kernel_name="python3",
                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    shown = []
    for cell in nb.cells[1:]:
        ids = [o["data"][WIDGET]["model_id"] for o in cell.outputs
               if o.get("output_type") == "display_data" and WIDGET in o.get("data", {})]
        shown.append([i for i in ids if i not in client.closed])
    return shown


def test_a_notebook_shows_one_bar_per_fit_and_per_search(tmp_path):
    shown = _bars_shown([
        """
        DeepLearningClassifier(hidden=[4], epochs=3, seed=1, score_each_iteration=True,
                               train_samples_per_iteration=50).fit(X, y)
        """,
        """
        from sklearn.model_selection import GridSearchCV
        gs = GridSearchCV(DeepLearningClassifier(hidden=[4], epochs=2, seed=1),
                          {"l2": [0.0, 1e-4, 1e-3, 1e-2]}, cv=3).fit(X, y)
        """,
        """
        DeepLearningClassifier(hidden=[4], epochs=2, seed=1, nfolds=3).fit(X, y)
        """,
        """
        DeepLearningClassifier(hidden=[4], epochs=2, seed=1, quiet_mode=True).fit(X, y)
        """,
    ], tmp_path)
    assert [len(ids) for ids in shown] == [1, 1, 1, 0], json.dumps(shown)
