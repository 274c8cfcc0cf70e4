"""The fitted-model value, the scoring-constants table and the import direction.

No cluster: small in-memory fits. The exporters are compared on what they embed, read
back from the generated Python module and Java source (no JDK needed).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import pickle
import re
import subprocess
import sys
import uuid
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from dask_deeplearn import (
    DeepLearningAutoEncoder,
    DeepLearningClassifier,
    DeepLearningEstimator,
    DeepLearningRegressor,
    NotFittedError,
    load_model,
)
from dask_deeplearn.export.constants import ScoringConstants
from dask_deeplearn.export.java import export_java
from dask_deeplearn.export.python import export_python
from dask_deeplearn.io import read_model, save_model
from dask_deeplearn.model import FittedModel, as_fitted, storable_params

Q = dict(hidden=[5], epochs=1, seed=1, reproducible=True, quiet_mode=True)


def _frame(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    X["cat"] = pd.Categorical(rng.choice(["x", "y", "z"], n))
    X["off"] = rng.normal(size=n) * 0.1
    return X


@pytest.fixture(scope="module")
def models() -> dict[str, object]:
    X = _frame()
    Xn = X.drop(columns=["off"])
    yb = np.where(X["a"] > 0.2, "yes", "no")
    ym = np.random.default_rng(1).choice(["p", "q", "r"], len(X))
    h2o = DeepLearningEstimator(**Q)
    h2o.train(y="y", training_frame=Xn.assign(y=pd.Categorical(yb)))
    return {
        "binomial": DeepLearningClassifier(balance_classes=True, **Q).fit(Xn, yb),
        "binomial_h2o": h2o,
        "multinomial": DeepLearningClassifier(**Q).fit(Xn, ym),
        "regression": DeepLearningRegressor(offset_column="off", **Q).fit(X, X["a"].to_numpy()),
        "poisson": DeepLearningRegressor(distribution="poisson", **Q).fit(
            Xn, np.abs(X["a"].to_numpy())),
        "autoencoder": DeepLearningAutoEncoder(**Q).fit(Xn),
    }


# --------------------------------------------------------------------------- the value
def test_value_is_frozen_and_holds_only_storable_params(models) -> None:
    model = models["binomial"].model_
    assert isinstance(model, FittedModel)
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.task = "regression"
    with pytest.raises(TypeError):
        model.params["epochs"] = 3
    json.dumps({k: v for k, v in model.params.items()
                if not isinstance(v, (np.ndarray, tuple))}, default=str)
    assert model.estimator == "DeepLearningClassifier" and model.label_rule == "argmax"
    assert models["binomial_h2o"].model_.label_rule == "threshold"


def test_storable_params_drop_live_objects() -> None:
    live = DeepLearningClassifier()
    out = storable_params({"checkpoint": live, "pretrained_autoencoder": "ae.zip",
                           "initial_weights": [pd.DataFrame({"a": [1.0]})],
                           "custom_metric_func": len, "epochs": 2.0})
    assert out == {"checkpoint": None, "pretrained_autoencoder": "ae.zip",
                   "initial_weights": None, "custom_metric_func": None, "epochs": 2.0}


def test_fitted_attributes_are_views_of_the_value(models) -> None:
    clf = models["binomial"]
    model = clf.model_
    assert clf.state_ is model.state and clf.data_info_ is model.data_info
    assert dict(clf.params_) == dict(model.params)
    assert list(clf.classes_) == ["no", "yes"] and clf.n_classes_ == 2
    assert clf.threshold_ == model.threshold
    assert clf.n_iter_ == model.iterations and clf.epochs_ == model.epochs
    assert clf.backend_ == "local" and not hasattr(clf, "worker_rows_")
    assert not hasattr(clf, "response_column_")
    assert models["binomial_h2o"].response_column_ == "y"
    assert not hasattr(models["regression"], "classes_")


def test_threshold_rule() -> None:
    def value(valid, train):
        m = SimpleNamespace(max_f1_threshold=valid) if valid is not None else None
        t = SimpleNamespace(max_f1_threshold=train) if train is not None else None
        return SimpleNamespace(validation_metrics=m, training_metrics=t)

    rule = FittedModel.threshold.fget
    assert rule(value(0.3, 0.7)) == 0.3          # held-out metrics first
    assert rule(value(None, 0.7)) == 0.7
    assert rule(value(float("nan"), 0.7)) == 0.7  # a non-finite threshold is skipped
    assert rule(value(None, None)) == 0.5


def test_value_pickles(models) -> None:
    model = models["multinomial"].model_
    back = pickle.loads(pickle.dumps(model))
    assert dict(back.params) == dict(model.params)
    with pytest.raises(TypeError):
        back.params["epochs"] = 1
    np.testing.assert_array_equal(back.state.W, model.state.W)


def test_as_fitted_names_the_unfitted_object() -> None:
    with pytest.raises(NotFittedError, match="fit this DeepLearningRegressor"):
        as_fitted(DeepLearningRegressor(), "fit this {name}")


def test_read_model_gives_the_value_load_model_wraps_it(models, tmp_path) -> None:
    clf = models["binomial"]
    path = save_model(clf.model_, tmp_path / "m.zip")
    value = read_model(path)
    assert isinstance(value, FittedModel) and value.estimator == "DeepLearningClassifier"
    np.testing.assert_array_equal(value.state.W, clf.state_.W)
    back = load_model(path)
    assert type(back) is DeepLearningClassifier and back.model_.label_rule == "argmax"
    X = _frame().drop(columns=["off"])
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))


# --------------------------------------------------------------------------- constants
def _python_constants(path) -> dict[str, object]:
    spec = importlib.util.spec_from_file_location(f"exported_{uuid.uuid4().hex}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return {"offset_column": mod.OFFSET_COLUMN, "output_names": list(mod.OUTPUT_COLUMNS),
            "threshold": mod.THRESHOLD, "label_rule": mod.LABEL_RULE,
            "log_link": mod._LOG_LINK}


def _java_constants(path) -> dict[str, object]:
    src = path.read_text(encoding="utf-8")

    def decl(name: str) -> str:
        return re.search(rf" {name} = (.*);\n", src).group(1)

    def string(text: str) -> str | None:
        return None if text == "null" else json.loads(text)

    names = re.fullmatch(r"new String\[\] \{(.*)\}", decl("OUTPUT_NAMES")).group(1)
    threshold = decl("DEFAULT_THRESHOLD")
    return {"offset_column": string(decl("OFFSET_COLUMN")),
            "output_names": [json.loads(s) for s in re.findall(r'"(?:[^"\\]|\\.)*"', names)],
            "threshold": None if threshold == "Double.NaN" else float(threshold),
            "label_rule": string(decl("LABEL_RULE")),
            "log_link": decl("LOG_LINK") == "true"}


@pytest.mark.parametrize("name", ["binomial", "binomial_h2o", "multinomial", "regression",
                                  "poisson", "autoencoder"])
def test_both_exporters_embed_the_same_constants(models, tmp_path, name) -> None:
    model = models[name].model_
    table = ScoringConstants.from_fitted(model)
    expected = {"offset_column": table.offset_column, "output_names": table.output_names,
                "threshold": table.threshold, "label_rule": table.label_rule,
                "log_link": table.log_link}
    py = _python_constants(export_python(model, tmp_path / "scorer.py"))
    java = _java_constants(export_java(model, tmp_path, class_name="Scorer"))
    assert py == expected
    assert java == expected


def test_constants_per_task(models) -> None:
    t = {name: ScoringConstants.from_fitted(m.model_) for name, m in models.items()}
    assert t["binomial"].category == "Binomial" and t["binomial"].threshold is not None
    assert t["binomial"].prior is not None  # balance_classes: the prior correction
    assert t["multinomial"].category == "Multinomial" and t["multinomial"].threshold is None
    assert t["multinomial"].output_names == ["predict", "p", "q", "r"]
    assert t["regression"].offset_column == "off" and t["regression"].output_names == ["predict"]
    assert t["poisson"].log_link and not t["regression"].log_link
    ae = t["autoencoder"]
    assert ae.category == "AutoEncoder" and ae.offset_column is None and ae.label_rule is None
    assert ae.output_names == [f"reconstr_{n}" for n in ae.input_names]
    assert all(name in ("tanh", "rectifier", "maxout", "linear", "softmax")
               for name in ae.act_names)


# --------------------------------------------------------------------------- imports
BELOW_ESTIMATORS = [
    "dask_deeplearn.model", "dask_deeplearn.scorer", "dask_deeplearn.io",
    "dask_deeplearn.io.model_files", "dask_deeplearn.io.parquet", "dask_deeplearn.export",
    "dask_deeplearn.export.constants", "dask_deeplearn.export.python",
    "dask_deeplearn.export.java", "dask_deeplearn.distributed.predict",
    "dask_deeplearn.distributed.dashboard", "dask_deeplearn.training.loop",
    "dask_deeplearn.inspection",
]


@pytest.mark.parametrize("module", BELOW_ESTIMATORS)
def test_modules_below_estimators_do_not_import_them(module) -> None:
    code = (f"import sys, {module}\n"
            "assert 'dask_deeplearn.estimators' not in sys.modules, sorted(\n"
            "    m for m in sys.modules if m.startswith('dask_deeplearn.'))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_load_model_importable_from_io() -> None:
    from dask_deeplearn.io import load_model as from_io

    assert from_io is load_model
