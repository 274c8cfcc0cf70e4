"""Tests for :mod:`dask_deeplearn.plotting` and the estimators' plot methods.

matplotlib is a test dependency: these tests fail (they are not skipped) without it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from dask_deeplearn import DeepLearningClassifier, DeepLearningRegressor  # noqa: E402
from dask_deeplearn.estimators._inspect import InspectionMixin  # noqa: E402
from dask_deeplearn.inspection import (  # noqa: E402
    constant_inputs,
    gedeon_importances,
    varimp_table,
)
from dask_deeplearn.plotting import (  # noqa: E402
    plot_anomaly,
    plot_scoring_history,
    plot_varimp,
    rescored_rows,
    scoring_history_metrics,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def save_png(ax: Axes, path: Path) -> None:
    ax.figure.savefig(path, dpi=60)
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 5000  # a real figure, not an empty canvas
    plt.close(ax.figure)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


class _Regressor(DeepLearningRegressor, InspectionMixin):
    pass


class _Classifier(DeepLearningClassifier, InspectionMixin):
    pass


@pytest.fixture(scope="module")
def regressor() -> _Regressor:
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.normal(size=(500, 6)), columns=[f"x{i}" for i in range(6)])
    X["cat"] = pd.Categorical(rng.choice(["u", "v", "w"], 500))
    y = X["x0"] - 2 * X["x1"]
    return _Regressor(hidden=[8], epochs=4, seed=1, reproducible=True, quiet_mode=True).fit(X, y)


@pytest.fixture(scope="module")
def classifier() -> _Classifier:
    rng = np.random.default_rng(2)
    X = pd.DataFrame(rng.normal(size=(400, 3)), columns=list("abc"))
    y = pd.Series(np.where(X["a"] > 0, "yes", "no"))
    return _Classifier(hidden=[6], epochs=3, seed=1, reproducible=True, quiet_mode=True).fit(X, y)


def history_with_validation() -> pd.DataFrame:
    epochs = np.array([0.0, 1.0, 2.0, 3.0])
    return pd.DataFrame({
        "timestamp": pd.Timestamp("2024-01-01"),
        "training_speed": [np.nan, 10.0, 11.0, 12.0],
        "epochs": epochs,
        "training_rmse": [np.nan, 1.0, 0.8, 0.7],
        "training_deviance": [np.nan, 1.0, 0.64, 0.49],
        "validation_rmse": [np.nan, 1.1, 0.9, 0.85],
        "validation_deviance": [np.nan, 1.21, 0.81, 0.7225],
    })


# --------------------------------------------------------------------------- scoring history
def test_plot_scoring_history_auto_regression(regressor: _Regressor, tmp_path: Path) -> None:
    hist = regressor.scoring_history_
    ax = plot_scoring_history(hist)
    assert isinstance(ax, Axes)
    lines = ax.get_lines()
    assert [l.get_label() for l in lines] == ["Training Deviance"]  # AUTO -> deviance
    np.testing.assert_allclose(lines[0].get_xdata(), hist["epochs"])
    np.testing.assert_allclose(lines[0].get_ydata(), hist["training_deviance"])
    assert ax.get_xlabel() == "Epochs"
    assert "Deviance" in ax.get_title()
    save_png(ax, tmp_path / "history.png")


def test_plot_scoring_history_auto_classification(classifier: _Classifier, tmp_path: Path) -> None:
    ax = plot_scoring_history(classifier.scoring_history_, metric="AUTO")
    assert [l.get_label() for l in ax.get_lines()] == ["Training Log loss"]
    save_png(ax, tmp_path / "logloss.png")
    ax = plot_scoring_history(classifier.scoring_history_, metric="Classification_Error")
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(),
                               classifier.scoring_history_["training_classification_error"])


def test_plot_scoring_history_validation_and_case(tmp_path: Path) -> None:
    hist = history_with_validation()
    fig, ax0 = plt.subplots()
    ax = plot_scoring_history(hist, metric="RMSE", ax=ax0)
    assert ax is ax0
    labels = [l.get_label() for l in ax.get_lines()]
    assert labels == ["Training RMSE", "Validation RMSE"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), hist["validation_rmse"])
    save_png(ax, tmp_path / "rmse.png")
    # MSE is drawn as RMSE**2 when there is no MSE column
    ax = plot_scoring_history(hist, metric="mse")
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), hist["training_rmse"] ** 2)
    # alias of deviance
    ax = plot_scoring_history(hist, metric="mean_residual_deviance")
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), hist["validation_deviance"])


def test_plot_scoring_history_unknown_metric() -> None:
    hist = history_with_validation()
    assert scoring_history_metrics(hist) == ["rmse", "mse", "deviance"]
    with pytest.raises(ValueError, match=r"'auc'.*available metrics: rmse, mse, deviance"):
        plot_scoring_history(hist, metric="auc")
    with pytest.raises(ValueError, match="speed"):
        # training_speed is not a metric
        plot_scoring_history(hist, metric="speed")
    with pytest.raises(ValueError, match="epochs"):
        plot_scoring_history(hist.drop(columns="epochs"))


# --------------------------------------------------------------------------- varimp
def test_plot_varimp(regressor: _Regressor, tmp_path: Path) -> None:
    table = varimp_table(gedeon_importances(regressor.state_.spec, regressor.state_.W),
                         regressor.data_info_)
    ax = plot_varimp(table, n=5)
    assert isinstance(ax, Axes)
    bars = ax.patches
    assert len(bars) == 5
    # largest at the top: highest y position has the largest width
    ys = [b.get_y() for b in bars]
    widths = [b.get_width() for b in bars]
    assert widths[int(np.argmax(ys))] == pytest.approx(1.0)
    np.testing.assert_allclose(sorted(widths, reverse=True), table["scaled_importance"].iloc[:5])
    labels = {t.get_text() for t in ax.get_yticklabels()}
    assert labels == set(table["variable"].iloc[:5])
    save_png(ax, tmp_path / "varimp.png")
    assert len(plot_varimp(table, n=100).patches) == len(table)
    with pytest.raises(ValueError):
        plot_varimp(table, n=0)
    with pytest.raises(ValueError, match="scaled_importance"):
        plot_varimp(table.drop(columns="scaled_importance"))


# --------------------------------------------------------------------------- anomaly
def test_plot_anomaly(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    err = np.concatenate([rng.exponential(0.01, 300), [0.5, 0.8, 1.2]])
    rng.shuffle(err)
    ax = plot_anomaly(err, threshold=0.3)
    assert isinstance(ax, Axes)
    line, thr = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), np.sort(err))
    assert thr.get_ydata()[0] == pytest.approx(0.3)
    assert "3 rows above" in thr.get_label()
    save_png(ax, tmp_path / "anomaly.png")
    frame = pd.DataFrame({"Reconstruction.MSE": err})
    ax = plot_anomaly(frame)
    assert len(ax.get_lines()) == 1
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), np.sort(err))
    np.testing.assert_allclose(plot_anomaly(frame["Reconstruction.MSE"]).get_lines()[0].get_ydata(),
                               np.sort(err))
    with pytest.raises(ValueError, match="Reconstruction.MSE"):
        plot_anomaly(pd.DataFrame({"a": err, "b": err}))
    with pytest.raises(ValueError):
        plot_anomaly(np.ones((3, 3)))


# --------------------------------------------------------------------------- estimator methods
def test_estimator_plot_methods(regressor: _Regressor, tmp_path: Path) -> None:
    ax = regressor.plot_scoring_history(metric="rmse")
    assert isinstance(ax, Axes)
    assert ax.get_title().startswith("_Regressor")
    save_png(ax, tmp_path / "est_history.png")
    ax = regressor.plot_varimp(n=3)
    assert len(ax.patches) == 3
    save_png(ax, tmp_path / "est_varimp.png")
    ax = regressor.plot_varimp(aggregate=True)
    assert {t.get_text() for t in ax.get_yticklabels()} == {f"x{i}" for i in range(6)} | {"cat"}


def test_missing_matplotlib_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # import now fails
    with pytest.raises(ImportError, match=r"pip install matplotlib.*dask_deeplearn\[plot\]"):
        plot_anomaly(np.ones(3))
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_scoring_history(history_with_validation())


# --------------------------------------------------------------------------- best-model row
def _lines(ax: Axes) -> dict[str, object]:
    return {line.get_label(): line for line in ax.get_lines()}


def test_the_best_model_row_is_a_marker_not_a_vertical_jump_of_the_line() -> None:
    history = pd.DataFrame({
        "epochs": [1.0, 2.0, 3.0, 3.0],
        "iterations": [1, 2, 3, 3],
        "samples": [100.0, 200.0, 300.0, 300.0],
        "training_logloss": [0.9, 0.5, 0.7, 0.5],
        "validation_logloss": [1.0, 0.6, 0.8, 0.6],
    })
    np.testing.assert_array_equal(rescored_rows(history), [False, False, False, True])
    lines = _lines(plot_scoring_history(history, "logloss"))
    for name, best in (("Training", 0.5), ("Validation", 0.6)):
        line = lines[f"{name} Log loss"]
        xs = np.asarray(line.get_xdata(), dtype=float)
        assert list(xs) == [1.0, 2.0, 3.0]          # one point per epoch: no jump back
        marker = lines[f"{name} Log loss, best model (final)"]
        assert list(marker.get_xdata()) == [3.0] and list(marker.get_ydata()) == [best]
        assert marker.get_linestyle() == "None" and marker.get_color() == line.get_color()
    # no such row: plain lines, nothing marked
    lines = _lines(plot_scoring_history(history.iloc[:3], "logloss"))
    assert set(lines) == {"Training Log loss", "Validation Log loss"}
    assert not rescored_rows(history_with_validation()).any()   # no iterations column


def test_a_fit_that_puts_back_its_best_model_plots_it_as_a_marker() -> None:
    rng = np.random.default_rng(6)
    X = rng.normal(size=(60, 20))
    y = X[:, 0] + rng.normal(size=60)
    Xv = rng.normal(size=(200, 20))
    yv = Xv[:, 0] + rng.normal(size=200)
    reg = _Regressor(hidden=[64, 64], epochs=100, seed=1, reproducible=True, quiet_mode=True,
                     stopping_rounds=0).fit(X, y, validation_data=(Xv, yv))
    assert "overwritten" in " ".join(reg.events_)
    h = reg.scoring_history_
    assert list(np.flatnonzero(rescored_rows(h))) == [len(h) - 1]
    lines = _lines(reg.plot_scoring_history("deviance"))
    xs = np.asarray(lines["Validation Deviance"].get_xdata(), dtype=float)
    assert (np.diff(xs) > 0).all() and len(xs) == len(h) - 1
    marker = lines["Validation Deviance, best model (final)"]
    assert float(marker.get_ydata()[0]) == pytest.approx(h["validation_deviance"].iloc[1:-1].min())


# --------------------------------------------------------------------------- constant inputs
def test_varimp_plots_hide_inputs_that_were_constant_in_training(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(300, 3)), columns=["a", "b", "c"])
    X["flat"] = 5.0                                     # constant: kept with ignore_const_cols=False
    X["one"] = pd.Categorical(["only"] * 300)          # a categorical with one level
    y = X["a"] - X["b"]
    reg = _Regressor(hidden=[8], epochs=2, seed=1, reproducible=True, quiet_mode=True,
                     ignore_const_cols=False).fit(X, y)
    info = reg.data_info_
    assert "flat" in info.used_columns
    assert constant_inputs(info) == ["one.only", "one.missing(NA)", "flat"]   # input order
    assert constant_inputs(info, aggregate=True) == ["flat", "one"]            # frame order

    shown = {t.get_text() for t in reg.plot_varimp(n=50).get_yticklabels()}
    assert shown == {"a", "b", "c"}
    everything = {t.get_text() for t in reg.plot_varimp(n=50, hide_constant=False)
                  .get_yticklabels()}
    assert everything == set(info.input_names)
    agg = {t.get_text() for t in reg.plot_varimp(n=50, aggregate=True).get_yticklabels()}
    assert agg == {"a", "b", "c"}
    # the scaled importances shown are the table's (not rescaled after hiding)
    table = reg.varimp()
    ax = reg.plot_varimp(n=50)
    widths = {t.get_text(): b.get_width() for t, b in
              zip(ax.get_yticklabels(), sorted(ax.patches, key=lambda b: -b.get_y()))}
    for name, width in widths.items():
        assert width == pytest.approx(table.set_index("variable").loc[name, "scaled_importance"])
    save_png(ax, tmp_path / "varimp_hidden.png")
    with pytest.raises(ValueError, match="hide_constant"):
        reg.plot_varimp(hide_constant="yes")
    with pytest.raises(ValueError, match="exclude"):
        plot_varimp(table, exclude="flat")
    # the default drops constant columns before training: nothing left to hide
    dropped = _Regressor(hidden=[8], epochs=1, seed=1, quiet_mode=True).fit(X, y)
    assert dropped.data_info_.used_columns == ["a", "b", "c"]
    assert constant_inputs(dropped.data_info_) == []
