"""A table-driven catalogue of bad inputs.

Every row of :data:`CASES` is one bad (or awkward) input: a callable that triggers it, the
exception it must raise, and regular expressions that the message must contain: the
parameter or column, the bad value and, where there is one, what is allowed (our style:
"The 'rate' parameter of DeepLearningClassifier must be a float in the range [0, inf).
Got -0.1 instead.").  A row whose ``raises`` is None is an input that must *work* (extra or
reordered columns at predict time, unseen levels, NaN with MeanImputation, Dask frames with
unknown divisions or categories); its callable asserts the result itself.

The assertions state the behaviour we want.  A row that fails here is a bug of the package
(a traceback from deep inside numpy, a message that does not name the column or value, or
a model that is silently exported with NaN weights), never a reason to weaken the row.

Everything is tiny (120 rows, ``hidden=[4]``, ``epochs=1``) but the one test of a string
column with a million distinct values; the Dask rows share one module-scoped
``LocalCluster`` (one worker process) that starts only when a Dask row runs.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import re
import time
import warnings
import zipfile
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

from dask_deeplearn import (
    DataError,
    DeepLearningClassifier,
    DeepLearningEstimator,
    DeepLearningRegressor,
    InvalidParameterError,
    ModelFileError,
    NotFittedError,
    UnstableModelError,
    load_model,
)
from dask_deeplearn.cli import main as cli_main

TINY = dict(hidden=[4], epochs=1, quiet_mode=True, seed=1)
N_ROWS = 120
#: every refusal must come quickly (no training before a check that needs no training)
# generous: it guards against a hang (a dense million-wide encoding), not a speed target
FAST_SECONDS = 60.0

_rng = np.random.default_rng(7)
X = pd.DataFrame({
    "a": _rng.normal(size=N_ROWS),
    "b": _rng.normal(size=N_ROWS),
    "c": _rng.choice(["x", "y", "z"], size=N_ROWS).astype(object),
})
YC = np.where(X["a"] + 0.3 * _rng.normal(size=N_ROWS) > 0, "p", "q").astype(object)
YR = (2.0 * X["a"] - X["b"] + 0.1 * _rng.normal(size=N_ROWS)).to_numpy()
assert YR.min() < 0  # the log-link cases need a negative response


def _frame(**extra: Any) -> pd.DataFrame:
    """``X`` with a numeric response ``y`` (H2O style), plus ``extra`` columns."""
    return X.assign(y=YR, **extra)


def _cat_frame(**extra: Any) -> pd.DataFrame:
    """``X`` with a categorical response ``y`` (H2O style), plus ``extra`` columns."""
    return X.assign(y=pd.Categorical(YC), **extra)


# --------------------------------------------------------------------------- context


class _Evil:
    """Unpickling this object runs ``open(path, "w")``: it creates the marker file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> Any:
        return (open, (self.path, "w"))


class Ctx:
    """Lazily built shared state: fitted models, a saved model, a Dask client."""

    def __init__(self, tmp: Any) -> None:
        self.tmp = tmp
        self._cluster = None
        self._client = None

    def path(self, name: str) -> str:
        return os.fspath(self.tmp / name)

    @cached_property
    def clf(self) -> DeepLearningClassifier:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return DeepLearningClassifier(**TINY).fit(X, YC)

    @cached_property
    def reg(self) -> DeepLearningRegressor:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return DeepLearningRegressor(**TINY).fit(X, YR)

    @cached_property
    def nan_model(self) -> DeepLearningClassifier:
        """A fitted classifier whose first weight is NaN (an unstable model)."""
        bad = copy.deepcopy(self.clf)
        bad.state_.W[0] = np.nan
        return bad

    @cached_property
    def members(self) -> dict[str, bytes]:
        """The members of a good saved model file."""
        path = self.clf.save(self.path("good.zip"))
        with zipfile.ZipFile(path) as zf:
            return {name: zf.read(name) for name in zf.namelist()}

    def model_zip(self, name: str, drop: tuple[str, ...] = (), **replace: bytes) -> str:
        """A model zip like the good one, with some members replaced or left out."""
        path = self.path(name)
        with zipfile.ZipFile(path, "w") as zf:
            for member, data in {**self.members, **replace}.items():
                if member not in drop:
                    zf.writestr(member, data)
        return path

    @property
    def client(self) -> Any:
        if self._client is None:
            distributed = pytest.importorskip("distributed")
            self._cluster = distributed.LocalCluster(
                n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0")
            self._client = distributed.Client(self._cluster, set_as_default=False)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._cluster.close()


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: Any) -> Any:
    c = Ctx(tmp_path_factory.mktemp("bad_inputs"))
    yield c
    c.close()


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Case:
    """One bad input.

    ``raises`` is the exception (or warning) type expected, or None when the input must
    work (``trigger`` then asserts the outcome); every pattern of ``match`` must be found
    in the message; ``after`` runs once the exception was seen (e.g. "no file written").
    """

    id: str
    trigger: Callable[[Ctx], Any]
    raises: Any
    match: tuple[str, ...] = ()
    after: Callable[[Ctx], None] | None = None


CASES: list[Case] = []


def bad(id: str, trigger: Callable[[Ctx], Any], raises: Any, *match: str,
        after: Callable[[Ctx], None] | None = None) -> None:
    CASES.append(Case(id, trigger, raises, tuple(match), after))


def works(id: str, trigger: Callable[[Ctx], Any]) -> None:
    CASES.append(Case(id, trigger, None))


def _fit(est: type, params: dict[str, Any], X_: Any = None, y: Any = None, **kw: Any) -> Any:
    model = est(**{**TINY, **params})
    X_ = X if X_ is None else X_
    if y is None:
        y = YC if est is DeepLearningClassifier else YR
    return model.fit(X_, y, **kw)


# -- 1. every parameter class: a wrong type and an out-of-range value -------------------

_F0 = "a float in the range [0, inf)"
_U = "a float in the range [0, 1]"
_HIDDEN = "a list, tuple or 1-D array of ints >= 1"
_C, _R = DeepLearningClassifier, DeepLearningRegressor

#: (parameter, bad value, what is allowed, estimator, other parameters, extra pattern)
_PARAMS: list[tuple[str, Any, str, type, dict[str, Any], str | None]] = [
    ("hidden", "4", _HIDDEN, _C, {}, None),
    ("hidden", [0], _HIDDEN, _C, {}, None),
    ("hidden", 4, _HIDDEN, _C, {}, r"\(4,\)"),
    ("hidden", np.array([4.0]), _HIDDEN, _C, {}, None),
    ("epochs", "1", _F0, _C, {}, None),
    ("epochs", -1, _F0, _C, {}, None),
    ("epochs", float("nan"), _F0, _C, {}, None),
    ("rate", "fast", _F0, _C, {"adaptive_rate": False}, None),
    ("rate", -0.1, _F0, _C, {"adaptive_rate": False}, None),
    ("rho", "high", _U, _C, {}, None),
    ("rho", 1.5, _U, _C, {}, None),
    ("epsilon", [1e-8], _F0, _C, {}, None),
    ("epsilon", -1e-8, _F0, _C, {}, None),
    ("l1", "none", _F0, _C, {}, None),
    ("l1", -0.1, _F0, _C, {}, None),
    ("input_dropout_ratio", "0.2", "a float in the range [0, 1)", _C, {}, None),
    ("input_dropout_ratio", 1.0, "a float in the range [0, 1)", _C, {}, None),
    ("hidden_dropout_ratios", 0.5, "None or a list, tuple or 1-D array of floats in the "
     "range [0, 1)", _C, {"activation": "RectifierWithDropout"}, r"\[0\.5\]"),
    ("hidden_dropout_ratios", [1.5], "None or a list, tuple or 1-D array of floats in the "
     "range [0, 1)", _C, {"activation": "RectifierWithDropout"}, None),
    ("activation", 1, "a str among {'Tanh', 'TanhWithDropout', 'Rectifier'", _C, {}, None),
    ("activation", "relu", "a str among {'Tanh', 'TanhWithDropout', 'Rectifier'", _C, {},
     None),
    ("distribution", 3, "a str among {'AUTO', 'bernoulli', 'multinomial', 'gaussian'", _R,
     {}, None),
    ("distribution", "gausian", "a str among {'AUTO', 'bernoulli', 'multinomial'", _R, {},
     r"Did you mean 'gaussian'"),
    ("loss", None, "a str among {'Automatic', 'Quadratic', 'CrossEntropy'", _R, {}, None),
    ("loss", "L2", "a str among {'Automatic', 'Quadratic', 'CrossEntropy'", _R, {}, None),
    ("stopping_metric", 1, "a str among {'AUTO', 'deviance', 'logloss'", _C, {}, None),
    ("stopping_metric", "accuracy", "a str among {'AUTO', 'deviance', 'logloss'", _C, {},
     None),
    ("mini_batch_size", 2.5, "an int in the range [1, inf)", _C, {}, None),
    ("mini_batch_size", 0, "an int in the range [1, inf)", _C, {}, None),
    ("categorical_encoding", None, "a str among {'AUTO', 'OneHotInternal'", _C, {}, None),
    ("categorical_encoding", "OneHot", "a str among {'AUTO', 'OneHotInternal'", _C, {},
     r"Did you mean 'OneHotInternal'"),
    ("missing_values_handling", True, "a str among {'MeanImputation', 'Skip'}", _C, {},
     None),
    ("missing_values_handling", "drop", "a str among {'MeanImputation', 'Skip'}", _C, {},
     None),
    ("max_w2", "inf", "a float in the range (0, inf]", _C, {}, None),
    ("max_w2", -1, "a float in the range (0, inf]", _C, {}, None),
    ("score_interval", "5", _F0, _C, {}, None),
    ("score_interval", -1, _F0, _C, {}, None),
    ("train_samples_per_iteration", 1.5, "an int in the range [-2, inf)", _C, {}, None),
    ("train_samples_per_iteration", -3, "an int in the range [-2, inf)", _C, {}, None),
    ("seed", "1", "an int in the range [-9223372036854775808, 9223372036854775807]", _C,
     {}, None),
    ("seed", 2**64, "an int in the range [-9223372036854775808, 9223372036854775807]", _C,
     {}, None),
    ("adaptive_rate", 1, "a bool", _C, {}, r"Use True instead of 1"),
    ("stopping_rounds", -1, "an int in the range [0, inf)", _C, {}, None),
    ("quantile_alpha", 2, _U, _R, {"distribution": "quantile"}, None),
    ("tweedie_power", 2, "a float in the range (1, 2)", _R, {"distribution": "tweedie"},
     None),
    ("tweedie_power", "1.5", "a float in the range (1, 2)", _R, {"distribution": "tweedie"},
     None),
    ("huber_alpha", 1.1, _U, _R, {"distribution": "huber"}, None),
]


def _param_case(name: str, value: Any, allowed: str, est: type, other: dict[str, Any],
                extra: str | None) -> None:
    patterns = [rf"The '{name}' parameter of {est.__name__} must be ", re.escape(allowed),
                re.escape(f"Got {value!r} instead")]
    if extra:
        patterns.append(extra)
    bad(f"param-{name}={value!r}", lambda ctx: _fit(est, {**other, name: value}),
        InvalidParameterError, *patterns)


for _row in _PARAMS:
    _param_case(*_row)

bad("param-unknown-name-suggests-the-close-one",
    lambda ctx: DeepLearningClassifier(hiden=[4]), (TypeError, InvalidParameterError),
    r"'hiden'", r"'hidden'")

# -- 2. invalid combinations (H2O's DeepLearningModel.validate) --------

_COMBO = r"Invalid parameter combination for "
bad("combo-dropout-ratios-with-non-dropout-activation",
    lambda ctx: _fit(_C, {"hidden_dropout_ratios": [0.2]}), InvalidParameterError,
    _COMBO + "DeepLearningClassifier", r"hidden_dropout_ratios=\(0\.2,\)",
    r"activation='Rectifier'", r"activation='RectifierWithDropout'")
bad("combo-wrong-number-of-dropout-ratios",
    lambda ctx: _fit(_C, {"activation": "TanhWithDropout", "hidden_dropout_ratios": [0.2, 0.3]}),
    InvalidParameterError, _COMBO, r"one entry per hidden layer", r"2 ratios for 1 layers")
bad("combo-adaptive-rate-with-manual-rate-warns",
    lambda ctx: _fit(_C, {"rate": 0.1}), UserWarning,
    r"rate=0\.1", r"adaptive_rate=True", r"ignored", r"adaptive_rate=False")
bad("combo-initial-weights-with-checkpoint",
    lambda ctx: _fit(_C, {"initial_weights": [np.zeros((4, 4))], "checkpoint": "x.zip"}),
    InvalidParameterError, _COMBO, r"initial_weights", r"checkpoint='x\.zip'")
bad("combo-initial-biases-with-checkpoint",
    lambda ctx: _fit(_C, {"initial_biases": [np.zeros(4)], "checkpoint": "x.zip"}),
    InvalidParameterError, _COMBO, r"initial_biases", r"checkpoint")
bad("combo-laplace-with-huber-loss",
    lambda ctx: _fit(_R, {"distribution": "laplace", "loss": "Huber"}),
    InvalidParameterError, _COMBO, r"distribution='laplace'", r"loss='Huber'",
    r"'Automatic' or 'Absolute'")
bad("combo-nfolds-1", lambda ctx: _fit(_C, {"nfolds": 1}), InvalidParameterError,
    _COMBO, r"nfolds=1", r"nfolds >= 2")
bad("combo-sparsity-beta-without-autoencoder", lambda ctx: _fit(_C, {"sparsity_beta": 0.1}),
    InvalidParameterError, _COMBO, r"sparsity_beta=0\.1", r"autoencoder=False")
bad("combo-class-sampling-factors-without-balance-classes",
    lambda ctx: _fit(_C, {"class_sampling_factors": [1.0, 2.0]}), InvalidParameterError,
    _COMBO, r"class_sampling_factors", r"balance_classes=True")
bad("combo-custom-stopping-metric-without-function",
    lambda ctx: _fit(_C, {"stopping_metric": "custom"}), InvalidParameterError,
    _COMBO, r"stopping_metric='custom'", r"custom_metric_func")
bad("combo-col-major", lambda ctx: _fit(_C, {"col_major": True}), InvalidParameterError,
    _COMBO, r"col_major=True", r"col_major=False")
bad("combo-sparse-with-elastic-averaging",
    lambda ctx: _fit(_C, {"sparse": True, "elastic_averaging": True}), InvalidParameterError,
    _COMBO, r"sparse=True", r"elastic_averaging=True")
bad("combo-gaussian-for-a-classifier", lambda ctx: _fit(_C, {"distribution": "gaussian"}),
    InvalidParameterError, _COMBO, r"distribution='gaussian'", r"classification",
    r"'bernoulli' or 'multinomial'")
bad("combo-bernoulli-with-3-classes",
    lambda ctx: _fit(_C, {"distribution": "bernoulli"}, y=X["c"].to_numpy()),
    InvalidParameterError, _COMBO, r"distribution='bernoulli'", r"2 classes",
    r"n_classes=3")
bad("combo-huber-loss-for-a-classifier", lambda ctx: _fit(_C, {"loss": "Huber"}),
    InvalidParameterError, _COMBO, r"loss='Huber'", r"'Automatic', 'CrossEntropy' or 'Quadratic'")
bad("combo-cross-entropy-for-a-regressor", lambda ctx: _fit(_R, {"loss": "CrossEntropy"}),
    InvalidParameterError, _COMBO, r"loss='CrossEntropy'", r"'Automatic' or 'Quadratic'")
bad("combo-offset-for-classification",
    lambda ctx: DeepLearningEstimator(**TINY).train(y="y", training_frame=_cat_frame(o=1.0),
                                                    offset_column="o"),
    (DataError, InvalidParameterError), r"'o'", r"[Oo]ffset", r"regression")

# -- 3. data -----------------------------------------------------------------------------

bad("data-empty-frame", lambda ctx: _fit(_C, {}, X.iloc[:0], YC[:0]), DataError,
    r"empty", r"0 rows")
bad("data-empty-frame-h2o",
    lambda ctx: DeepLearningEstimator(**TINY).train(y="y", training_frame=_frame().iloc[:0]),
    DataError, r"empty", r"0 rows")
bad("data-only-the-response-column",
    lambda ctx: DeepLearningEstimator(**TINY).train(y="y", training_frame=pd.DataFrame({"y": YR})),
    DataError, r"[Nn]o predictor column", r"response")
bad("data-response-all-missing-h2o",
    lambda ctx: DeepLearningEstimator(**TINY).train(y="y", training_frame=X.assign(y=np.nan)),
    DataError, r"'y'", r"all missing")
# the scikit-learn API has no column names: the message must speak of y, not of the
# internal '__response__' column
bad("data-response-all-missing-sklearn",
    lambda ctx: _fit(_R, {}, y=np.full(N_ROWS, np.nan)), DataError,
    r"\by\b", r"all missing")
bad("data-response-infinite-h2o",
    lambda ctx: DeepLearningEstimator(**TINY).train(
        y="y", training_frame=X.assign(y=np.where(np.arange(N_ROWS) == 3, np.inf, YR))),
    DataError, r"'y'", r"1 infinite")
bad("data-inf-in-a-numeric-predictor",
    lambda ctx: _fit(_C, {}, X.assign(b=np.where(np.arange(N_ROWS) == 5, np.inf, X["b"]))),
    DataError, r"'b'", r"[Ii]nfinite")


def _nan_everywhere() -> pd.DataFrame:
    """``X`` with a NaN in every row (in 'b' for even rows, in 'a' for odd ones)."""
    holes = X.copy()
    holes.loc[::2, "b"] = np.nan
    holes.loc[1::2, "a"] = np.nan
    return holes


def _nan_mean_imputation(ctx: Ctx) -> None:
    holes = _nan_everywhere()
    model = _fit(_C, {"missing_values_handling": "MeanImputation"}, holes)
    assert np.isfinite(model.predict_proba(holes)).all()


works("data-nan-with-mean-imputation-trains", _nan_mean_imputation)


bad("data-nan-in-every-row-with-skip",
    lambda ctx: _fit(_C, {"missing_values_handling": "Skip"}, _nan_everywhere()), DataError,
    r"[Nn]o rows left", r"missing_values_handling=Skip")
bad("data-categorical-response-with-1-class-h2o",
    lambda ctx: DeepLearningEstimator(**TINY).train(
        y="y", training_frame=X.assign(y=pd.Categorical(["p"] * N_ROWS))),
    DataError, r"'y'", r"at least 2 classes", r"\['p'\]")
bad("data-categorical-response-with-1-class-sklearn",
    lambda ctx: _fit(_C, {}, y=np.array(["p"] * N_ROWS, dtype=object)), DataError,
    r"\by\b", r"at least 2 classes", r"\['p'\]")
bad("data-multinomial-with-numeric-response-regressor",
    lambda ctx: _fit(_R, {"distribution": "multinomial"}), InvalidParameterError,
    r"distribution='multinomial'", r"categorical response", r"regression")
bad("data-multinomial-with-numeric-response-h2o",
    lambda ctx: DeepLearningEstimator(**{**TINY, "distribution": "multinomial"}).train(
        y="y", training_frame=_frame()),
    InvalidParameterError, r"distribution='multinomial'", r"categorical response")
for _dist in ("poisson", "gamma", "tweedie"):
    bad(f"data-negative-response-with-{_dist}",
        lambda ctx, d=_dist: _fit(_R, {"distribution": d}), InvalidParameterError,
        rf"distribution='{_dist}'", r"response >= 0", rf"minimum {re.escape(repr(float(YR.min())))}")
_neg_w = np.ones(N_ROWS)
_neg_w[5] = -1.0
bad("data-negative-weight-h2o",
    lambda ctx: DeepLearningEstimator(**TINY).train(y="y", training_frame=_frame(w=_neg_w),
                                                    weights_column="w"),
    DataError, r"'w'", r"1 negative")
bad("data-all-zero-weights-h2o",
    lambda ctx: DeepLearningEstimator(**TINY).train(y="y", training_frame=_frame(w=0.0),
                                                    weights_column="w"),
    DataError, r"'w'", r"no positive weight")
# scikit-learn API: the message must speak of sample_weight, not of '__weight__'
bad("data-negative-sample-weight-sklearn",
    lambda ctx: _fit(_C, {}, sample_weight=_neg_w), DataError,
    r"sample_weight", r"1 negative")
bad("data-all-zero-sample-weight-sklearn",
    lambda ctx: _fit(_C, {}, sample_weight=np.zeros(N_ROWS)), DataError,
    r"sample_weight", r"no positive weight")
bad("data-weights-column-not-in-frame",
    lambda ctx: DeepLearningEstimator(**TINY).train(y="y", training_frame=_frame(),
                                                    weights_column="w"),
    DataError, r"'w'", r"not in the frame")
bad("data-response-column-not-in-frame",
    lambda ctx: DeepLearningEstimator(**TINY).train(y="nope", training_frame=_frame()),
    DataError, r"'nope'", r"training_frame", r"'a', 'b', 'c', 'y'")
bad("data-datetime-predictor",
    lambda ctx: _fit(_R, {}, X.assign(d=pd.date_range("2020-01-01", periods=N_ROWS))),
    DataError, r"'d'", r"[Dd]atetime", r"convert them to numbers")
bad("data-y-length-differs", lambda ctx: _fit(_C, {}, y=YC[:50]), DataError,
    r"\by\b", r"120 rows", r"\(50,\)")

# -- 4. predict --------------------------------------------------------------------------

bad("predict-missing-columns", lambda ctx: ctx.clf.predict(X.drop(columns=["b"])), DataError,
    r"'b'", r"missing")


def _predict_extra_columns(ctx: Ctx) -> None:
    np.testing.assert_array_equal(ctx.clf.predict_proba(X.assign(extra=1.0, other="z")),
                                  ctx.clf.predict_proba(X))


def _predict_reordered(ctx: Ctx) -> None:
    np.testing.assert_array_equal(ctx.clf.predict_proba(X[["c", "b", "a"]]),
                                  ctx.clf.predict_proba(X))


def _predict_numbers_as_strings(ctx: Ctx) -> None:
    # "1.5" strings are converted to the number 1.5
    np.testing.assert_array_equal(ctx.clf.predict_proba(X.assign(a="1.5")),
                                  ctx.clf.predict_proba(X.assign(a=1.5)))
    as_text = X.assign(a=[repr(float(v)) for v in X["a"]])
    np.testing.assert_array_equal(ctx.clf.predict_proba(as_text), ctx.clf.predict_proba(X))


def _predict_unseen_levels(ctx: Ctx) -> None:
    unseen = ctx.clf.predict_proba(X.assign(c="never-seen"))
    assert np.isfinite(unseen).all()
    # an unseen level goes to the NA slot, like a missing value
    np.testing.assert_array_equal(unseen, ctx.clf.predict_proba(X.assign(c=np.nan)))


works("predict-extra-columns-ignored", _predict_extra_columns)
works("predict-reordered-columns", _predict_reordered)
works("predict-numeric-column-as-strings-converted", _predict_numbers_as_strings)
works("predict-unseen-categorical-levels", _predict_unseen_levels)
bad("predict-numeric-column-with-non-numeric-strings",
    lambda ctx: ctx.clf.predict(X.assign(a=np.where(np.arange(N_ROWS) == 4, "abc", "1.5"))),
    DataError, r"'a'", r"numeric", r"'abc'")
bad("predict-inf-in-a-numeric-column",
    lambda ctx: ctx.clf.predict(X.assign(a=np.where(np.arange(N_ROWS) == 2, -np.inf, X["a"]))),
    DataError, r"'a'", r"[Ii]nfinite")
bad("predict-numpy-with-wrong-width", lambda ctx: ctx.clf.predict(X.to_numpy()[:, :2]),
    DataError, r"2 features", r"fitted with 3 features")
bad("predict-before-fit", lambda ctx: DeepLearningClassifier(**TINY).predict(X),
    NotFittedError, r"DeepLearningClassifier", r"not fitted")

# -- 5. Dask -----------------------------------------------------------------------------


def _dd() -> Any:
    return pytest.importorskip("dask.dataframe")


def _dask_unknown_divisions(ctx: Ctx) -> None:
    dd = _dd()
    ddf = dd.from_pandas(_frame(), npartitions=3, sort=False).clear_divisions()
    assert not ddf.known_divisions
    model = _fit(_R, {}, ddf[["a", "b", "c"]], ddf["y"], client=ctx.client)
    assert model.backend_ == "dask" and model.epochs_ > 0
    assert np.isfinite(model.predict(X)).all()


def _dask_unknown_categories(ctx: Ctx) -> None:
    dd = _dd()
    ddf = dd.from_pandas(_frame(), npartitions=3).astype({"c": "category"})
    ddf["c"] = ddf["c"].cat.as_unknown()
    assert not ddf["c"].cat.known
    model = _fit(_R, {}, ddf[["a", "b", "c"]], ddf["y"], client=ctx.client)
    assert model.backend_ == "dask"
    assert list(model.data_info_.cat_levels["c"]) == ["x", "y", "z"]
    assert np.isfinite(model.predict(X)).all()


works("dask-unknown-divisions-trains", _dask_unknown_divisions)
works("dask-unknown-categories-trains", _dask_unknown_categories)
bad("dask-mismatched-partitions",
    lambda ctx: _fit(_R, {}, _dd().from_pandas(X, npartitions=3),
                     _dd().from_pandas(pd.Series(YR), npartitions=2), client=ctx.client),
    DataError, r"X has 3 partitions", r"y has 2")


def _misaligned_rows(ctx: Ctx) -> None:
    import dask.array as da

    Xd = _dd().from_pandas(X, npartitions=2, sort=False)       # 60 + 60 rows
    yd = da.from_array(YR, chunks=((40, 80),))                 # 40 + 80 rows
    _fit(_R, {}, Xd, yd, client=ctx.client)


bad("dask-same-partition-count-but-misaligned-rows", _misaligned_rows, DataError,
    r"60 rows", r"y has (40|80)")
bad("dask-X-with-in-memory-y",
    lambda ctx: _fit(_R, {}, _dd().from_pandas(X, npartitions=3), YR, client=ctx.client),
    DataError, r"\by\b", r"Dask")


def _dask_empty(ctx: Ctx) -> Any:
    ddf = _dd().from_pandas(X.drop(columns="c"), npartitions=2)
    none = ddf[ddf["a"] > 100]
    return _fit(_R, {}, none[["a", "b"]], none["a"], client=ctx.client)


bad("dask-empty-frame", _dask_empty, DataError, r"empty", r"0 rows")

# -- 6. checkpoints ----------------------------------------------------------------------

bad("checkpoint-different-architecture",
    lambda ctx: _fit(_C, {"hidden": [5], "epochs": 2, "checkpoint": ctx.clf}),
    InvalidParameterError, r"checkpoint", r"hidden", r"4\]? -> \(?5")
bad("checkpoint-of-the-wrong-kind",
    lambda ctx: _fit(_C, {"epochs": 2, "checkpoint": ctx.reg}), InvalidParameterError,
    r"checkpoint is a DeepLearningRegressor", r"DeepLearningClassifier")
bad("checkpoint-epochs-not-above",
    lambda ctx: _fit(_C, {"epochs": ctx.clf.epochs_, "checkpoint": ctx.clf}),
    InvalidParameterError, r"epochs=", r"must be greater than", r"checkpoint")
bad("checkpoint-not-a-model", lambda ctx: _fit(_C, {"epochs": 2, "checkpoint": 42}),
    InvalidParameterError, r"checkpoint", r"int", r"fitted dask_deeplearn model")
# (a string is a model id or a path: the error says which of the two it is not)
bad("checkpoint-path-does-not-exist",
    lambda ctx: _fit(_C, {"epochs": 2, "checkpoint": ctx.path("no-such-model.zip")}),
    InvalidParameterError, r"checkpoint=", r"no-such-model\.zip", r"neither the id of a model",
    r"existing model file")

# -- 7. model files ----------------------------------------------------------------------

bad("modelfile-corrupt-json",
    lambda ctx: load_model(ctx.model_zip("corrupt.zip",
                                         **{"model.json": ctx.members["model.json"][:-40]})),
    ModelFileError, r"corrupt\.zip", r"model\.json", r"not valid JSON")


def _truncated(ctx: Ctx) -> Any:
    raw = open(ctx.clf.save(ctx.path("whole.zip")), "rb").read()
    path = ctx.path("truncated.zip")
    with open(path, "wb") as f:
        f.write(raw[: len(raw) // 2])
    return load_model(path)


bad("modelfile-truncated-zip", _truncated, ModelFileError, r"truncated\.zip",
    r"truncated or damaged")


def _future(ctx: Ctx) -> Any:
    doc = json.loads(ctx.members["model.json"])
    doc["format_version"] = 99
    return load_model(ctx.model_zip("future.zip", **{"model.json": json.dumps(doc).encode()}))


bad("modelfile-future-format-version", _future, ModelFileError, r"future\.zip",
    r"version 99", r"up to 1", r"[Uu]pgrade")


def _npy_objects(*objects: Any) -> bytes:
    arr = np.empty(len(objects), dtype=object)
    arr[:] = list(objects)
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


bad("modelfile-pickle-bearing-npy",
    lambda ctx: load_model(ctx.model_zip("pickled.zip", **{"W.npy": _npy_objects(1.0, "x")})),
    ModelFileError, r"pickled\.zip", r"W\.npy", r"unpickling")


def _code_executing_npy(ctx: Ctx) -> Any:
    # the payload is live: loading it with allow_pickle=True does run code
    control = ctx.path("CONTROL_MARKER")
    np.load(io.BytesIO(_npy_objects(_Evil(control))), allow_pickle=True)
    assert os.path.exists(control), "the crafted payload should be able to run code"
    return load_model(ctx.model_zip("evil.zip", **{"W.npy": _npy_objects(
        _Evil(ctx.path("PWNED_MARKER")))}))


def _no_marker(ctx: Ctx) -> None:
    assert not os.path.exists(ctx.path("PWNED_MARKER")), "loading the model ran code"


bad("modelfile-code-executing-pickle-refused", _code_executing_npy, ModelFileError,
    r"evil\.zip", r"W\.npy", r"unpickling", after=_no_marker)
bad("modelfile-missing-member",
    lambda ctx: load_model(ctx.model_zip("incomplete.zip", drop=("W.npy",))),
    ModelFileError, r"incomplete\.zip", r"W\.npy", r"missing")
bad("modelfile-does-not-exist", lambda ctx: load_model(ctx.path("absent.zip")),
    FileNotFoundError, r"absent\.zip")

# -- 8. export ---------------------------------------------------------------------------


def _absent(name: str) -> Callable[[Ctx], None]:
    def check(ctx: Ctx) -> None:
        assert not os.path.exists(ctx.path(name)), f"{name} was written anyway"
    return check


bad("export-python-unfitted",
    lambda ctx: DeepLearningClassifier(**TINY).export_python(ctx.path("unfitted.py")),
    NotFittedError, r"DeepLearningClassifier", r"fit", after=_absent("unfitted.py"))
bad("export-java-unfitted",
    lambda ctx: DeepLearningClassifier(**TINY).export_java(ctx.path("UnfittedModel.java")),
    NotFittedError, r"DeepLearningClassifier", r"fit", after=_absent("UnfittedModel.java"))
bad("save-unfitted", lambda ctx: DeepLearningClassifier(**TINY).save(ctx.path("unfitted.zip")),
    NotFittedError, r"DeepLearningClassifier", r"fit", after=_absent("unfitted.zip"))
# an unstable model (NaN weights) must be refused, not exported
bad("export-python-nan-weights", lambda ctx: ctx.nan_model.export_python(ctx.path("nan.py")),
    UnstableModelError, r"finite|NaN", after=_absent("nan.py"))
bad("export-java-nan-weights",
    lambda ctx: ctx.nan_model.export_java(ctx.path("NanModel.java"), class_name="NanModel"),
    UnstableModelError, r"finite|NaN", after=_absent("NanModel.java"))
bad("save-nan-weights", lambda ctx: ctx.nan_model.save(ctx.path("nan.zip")),
    (UnstableModelError, ModelFileError), r"finite|NaN", after=_absent("nan.zip"))

# -- 9. command line ---------------------------------------------------------------------


class CLIFailed(Exception):
    """What ``dask_deeplearn.cli.main`` reported: exit code, line count and stderr."""


def _cli(*argv: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(list(argv))
    text = err.getvalue().strip()
    raise CLIFailed(f"exit={code} lines={len(text.splitlines())}: {text}")


def _csv(ctx: Ctx, name: str, frame: pd.DataFrame) -> str:
    path = ctx.path(name)
    frame.to_csv(path, index=False)
    return path


bad("cli-predict-missing-model-file",
    lambda ctx: _cli("predict", "--model", ctx.path("missing.zip"), "--input",
                     _csv(ctx, "in.csv", X), "--output", ctx.path("out.csv")),
    CLIFailed, r"^exit=2 lines=1: dask-deeplearn predict: error: ", r"missing\.zip")
bad("cli-predict-damaged-model-file",
    lambda ctx: _cli("predict", "--model", ctx.model_zip("cli-bad.zip", **{"model.json": b"{"}),
                     "--input", _csv(ctx, "in.csv", X), "--output", ctx.path("out.csv")),
    CLIFailed, r"^exit=2 lines=1: dask-deeplearn predict: error: ", r"cli-bad\.zip",
    r"JSON")
bad("cli-predict-input-lacks-a-model-column",
    lambda ctx: _cli("predict", "--model", os.fspath(ctx.clf.save(ctx.path("cli.zip"))),
                     "--input", _csv(ctx, "nob.csv", X.drop(columns="b")),
                     "--output", ctx.path("out.csv")),
    CLIFailed, r"^exit=2 lines=1: dask-deeplearn predict: error: ", r"'b'", r"nob\.csv")
bad("cli-train-bad-param-value",
    lambda ctx: _cli("train", "--train", _csv(ctx, "train.csv", _frame()), "--y", "y",
                     "--output", ctx.path("t.zip"), "--param", "epochs=-1"),
    CLIFailed, r"^exit=2 lines=1: dask-deeplearn train: error: ", r"'epochs'", r"Got -1",
    re.escape("[0, inf)"))


# --------------------------------------------------------------------------- the tests


def test_the_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 45
    assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, ctx: Ctx) -> None:
    if case.raises is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            case.trigger(ctx)
        return
    start = time.perf_counter()
    if isinstance(case.raises, type) and issubclass(case.raises, Warning):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            case.trigger(ctx)
        messages = [str(w.message) for w in seen if issubclass(w.category, case.raises)]
        assert any(all(re.search(p, m) for p in case.match) for m in messages), (
            f"no {case.raises.__name__} matching {case.match}; got {messages}")
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(case.raises) as info:
            case.trigger(ctx)
    elapsed = time.perf_counter() - start
    message = str(info.value)
    missing = [p for p in case.match if not re.search(p, message)]
    assert not missing, (f"{type(info.value).__name__} message {message!r} lacks "
                         f"{missing}")
    assert elapsed < FAST_SECONDS, f"took {elapsed:.1f} s to refuse"
    if case.after is not None:
        case.after(ctx)


def test_string_column_with_a_million_levels_trains_or_fails_clearly_and_fast() -> None:
    """1e6 unique strings: either it trains (hashing, sparse input...) or it is refused
    at once with an error naming the column, its level count and the way out."""
    n = 1_000_000
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=n), "s": [f"id{i}" for i in range(n)]})
    y = 2.0 * frame["x"].to_numpy()
    start = time.perf_counter()
    try:
        model = DeepLearningRegressor(**TINY).fit(frame, y)
    except (DataError, InvalidParameterError) as exc:
        elapsed = time.perf_counter() - start
        message = str(exc)
        for pattern in (r"'s'", r"1,?000,?000", r"max_categorical_features|categorical_encoding"
                        r"|ignored_columns"):
            assert re.search(pattern, message), f"{message!r} lacks {pattern!r}"
    else:
        elapsed = time.perf_counter() - start
        assert np.isfinite(model.predict(frame.iloc[:100])).all()
    assert elapsed < FAST_SECONDS, f"took {elapsed:.1f} s"
