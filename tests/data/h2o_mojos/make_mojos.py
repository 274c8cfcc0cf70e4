"""Make the H2O-3 MOJO fixtures of ``tests/integration/test_mojo_import.py``.

Needs h2o==3.46.0.11 (the last 3.46 release whose open-source Python client exports
MOJOs; from 3.46.0.12 on ``download_mojo`` answers "MOJO export requires H2O-3 Secure")
and a JDK, in a virtual environment of its own::

    python3 -m venv /tmp/venv-h2o && /tmp/venv-h2o/bin/pip install h2o==3.46.0.11 pandas
    /tmp/venv-h2o/bin/python tests/data/h2o_mojos/make_mojos.py

It starts a local H2O (127.0.0.1), trains small Deep Learning models on synthetic data
with numeric and categorical columns and missing values, and writes into this folder:

* ``train.csv`` and ``test.csv`` (the test frame has missing values and a categorical
  level never seen in training);
* per model ``<name>.zip`` (its MOJO, from the client's ``download_mojo``) and
  ``<name>.h2o.csv``, H2O's own predictions of ``test.csv`` from the cluster
  (``model.predict``); ``<name>.genmodel.csv``, the MOJO's predictions by H2O's
  genmodel (``h2o.mojo_predict_pandas``, which runs ``PredictCsv`` on the MOJO);
* ``gbm.zip``: a tiny GBM MOJO (another algorithm, which the import refuses);
* ``manifest.json``: per model its task, parameters, the epochs H2O reports and the
  largest difference between the cluster's and genmodel's predictions.

Everything is seeded and ``reproducible=True``; reruns give the same files up to the
MOJOs' time stamps and ids.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import h2o
from h2o.estimators import H2ODeepLearningEstimator, H2OGradientBoostingEstimator

HERE = Path(__file__).resolve().parent
H2O_VERSION = "3.46.0.11"

MODELS = {
    # name: (response, parameters)
    "binomial_rectifier": ("yes_no", dict(activation="Rectifier", hidden=[6, 5])),
    "binomial_tanh_dropout": ("yes_no", dict(
        activation="TanhWithDropout", hidden=[6, 4], hidden_dropout_ratios=[0.2, 0.1],
        input_dropout_ratio=0.1, use_all_factor_levels=False)),
    "binomial_balanced": ("rare", dict(
        activation="Rectifier", hidden=[5], balance_classes=True)),
    "multinomial_maxout": ("klass", dict(activation="Maxout", hidden=[5, 4])),
    "multinomial_rectifier_dropout": ("klass", dict(
        activation="RectifierWithDropout", hidden=[6], hidden_dropout_ratios=[0.3],
        standardize=False, use_all_factor_levels=False)),
    "regression_tanh": ("target", dict(activation="Tanh", hidden=[6, 5])),
    "regression_rectifier_nostd": ("target", dict(
        activation="Rectifier", hidden=[6], standardize=False)),
    "regression_maxout_dropout": ("target", dict(
        activation="MaxoutWithDropout", hidden=[4], hidden_dropout_ratios=[0.25],
        use_all_factor_levels=False, missing_values_handling="Skip")),
    "regression_poisson": ("count", dict(
        activation="Rectifier", hidden=[5], distribution="poisson")),
    "autoencoder_tanh": (None, dict(activation="Tanh", hidden=[3], autoencoder=True)),
}
COMMON = dict(epochs=3, seed=1234, reproducible=True, score_each_iteration=True)
PREDICTORS = ["x1", "x2", "x3", "c1", "c2"]


def make_frames(seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def frame(n: int) -> pd.DataFrame:
        x1, x2, x3 = rng.normal(size=n), rng.normal(2.0, 3.0, size=n), rng.uniform(-1, 4, size=n)
        c1 = rng.choice(["a", "b", "c", "d"], size=n)
        c2 = rng.choice(["p", "q", "r"], size=n, p=[0.5, 0.3, 0.2])
        bump = pd.Series(c1).map({"a": -1.0, "b": 0.0, "c": 0.5, "d": 1.5}).to_numpy()
        lin = 0.8 * x1 - 0.3 * x2 + 0.6 * x3 + bump + (c2 == "q") * 0.7
        df = pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "c1": c1, "c2": c2})
        df["yes_no"] = np.where(lin + rng.logistic(size=n) * 0.7 > 0.5, "yes", "no")
        df["rare"] = np.where(lin + rng.normal(size=n) > 3.0, "event", "none")
        df["klass"] = pd.cut(lin + rng.normal(scale=0.5, size=n), [-np.inf, -0.5, 1.0, np.inf],
                             labels=["low", "mid", "high"]).astype(str)
        df["target"] = 3.0 * lin + rng.normal(scale=0.5, size=n) + 10.0
        df["count"] = rng.poisson(np.exp(0.4 * lin).clip(0, 30))
        for col, frac in (("x1", 0.05), ("x3", 0.05), ("c1", 0.05), ("c2", 0.04)):
            df.loc[rng.random(n) < frac, col] = np.nan
        return df

    train, test = frame(400), frame(40)
    test.loc[3, "c1"] = "zzz"            # a level never seen in training
    test.loc[4, "c2"] = "unseen"
    test.loc[5, ["x1", "x2", "x3"]] = np.nan
    test.loc[6, ["c1", "c2"]] = np.nan
    return train, test


def _frame(df: pd.DataFrame) -> "h2o.H2OFrame":
    types = {c: ("real" if pd.api.types.is_numeric_dtype(df[c]) else "enum") for c in df.columns}
    return h2o.H2OFrame(df, column_types=types, na_strings=["", "nan", "NaN"])


def main() -> None:
    if h2o.__version__ != H2O_VERSION:
        sys.exit(f"make_mojos.py needs h2o=={H2O_VERSION}; this is h2o {h2o.__version__}.")
    train, test = make_frames()
    train.to_csv(HERE / "train.csv", index=False)
    test.to_csv(HERE / "test.csv", index=False)
    h2o.init(ip="127.0.0.1", port=54399, nthreads=1, max_mem_size="1G")
    manifest = {"h2o_version": h2o.__version__, "models": {}}
    try:
        tr, te = _frame(train), _frame(test[PREDICTORS])
        te_pd = test[PREDICTORS]
        jar = os.path.join(os.path.dirname(h2o.__file__), "backend", "bin", "h2o.jar")
        for name, (response, params) in MODELS.items():
            model = H2ODeepLearningEstimator(model_id=name, **COMMON, **params)
            if response is None:
                model.train(x=PREDICTORS, training_frame=tr)
            else:
                model.train(x=PREDICTORS, y=response, training_frame=tr)
            mojo = HERE / f"{name}.zip"
            written = model.download_mojo(path=str(mojo))
            assert Path(written) == mojo, written
            cluster = model.predict(te).as_data_frame(use_multi_thread=False)
            cluster.to_csv(HERE / f"{name}.h2o.csv", index=False)
            gen = h2o.mojo_predict_pandas(te_pd.copy(), str(mojo), genmodel_jar_path=jar)
            gen.to_csv(HERE / f"{name}.genmodel.csv", index=False)
            num = [c for c in cluster.columns if c != "predict"]
            diff = float(np.nanmax(np.abs(cluster[num].to_numpy(float)
                                          - gen[num].to_numpy(float)))) if num else 0.0
            history = model.scoring_history()
            manifest["models"][name] = {
                "response": response, "params": {**COMMON, **params},
                "epochs": float(history["epochs"].iloc[-1]),
                "iterations": int(history["iterations"].iloc[-1]),
                "max_abs_diff_cluster_vs_genmodel": diff,
                "bytes": mojo.stat().st_size,
            }
            print(name, mojo.stat().st_size, "bytes; cluster vs genmodel", diff)
        gbm = H2OGradientBoostingEstimator(model_id="gbm", ntrees=2, max_depth=2, seed=1)
        gbm.train(x=PREDICTORS, y="yes_no", training_frame=tr)
        gbm.download_mojo(path=str(HERE / "gbm.zip"))
    finally:
        h2o.cluster().shutdown()
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
