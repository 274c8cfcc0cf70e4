"""Shared machinery of the scikit-learn estimators.

Every H2O Deep Learning parameter is a keyword argument of ``__init__``; the signature and
the numpydoc "Parameters" section are generated from :data:`dask_deeplearn.params.PARAMETERS`
so there is one table, not three copies.
"""

from __future__ import annotations

import inspect
from typing import Any, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ..exceptions import DataError, NotFittedError
from ..network import NetworkSpec, ModelState, init_state
from ..params import PARAMETERS, not_implemented, params_docstring, resolve_effective, validate_params
from ..preprocessing import DataInfo
from ..training.local import LocalBackend, available_cores, score_block
from ..training.loop import TrainResult, run_training
from ..training.scoring import predict_block

__all__ = ["DeepLearningBase", "with_h2o_parameters"]

_RESPONSE = "__response__"
_WEIGHT = "__weight__"


def with_h2o_parameters(cls: type) -> type:
    """Give ``cls`` an ``__init__`` taking every parameter of the table as a keyword.

    scikit-learn reads parameter names from ``inspect.signature(cls.__init__)``, which
    honours ``__signature__``; ``__init__`` only stores the values (validation happens in
    ``fit``, so ``clone`` and ``set_params`` work on any value).
    """
    sig_params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    sig_params += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=p.default)
        for name, p in PARAMETERS.items()
    ]

    def __init__(self: Any, **kwargs: Any) -> None:
        unknown = sorted(set(kwargs) - set(PARAMETERS))
        if unknown:
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected keyword argument(s) "
                f"{', '.join(map(repr, unknown))}; see help({type(self).__name__}) for the "
                "parameters."
            )
        for name, p in PARAMETERS.items():
            setattr(self, name, kwargs.get(name, p.default))

    __init__.__signature__ = inspect.Signature(sig_params)  # type: ignore[attr-defined]
    __init__.__doc__ = f"Initialise a {cls.__name__}; see the class docstring."
    cls.__init__ = __init__  # type: ignore[misc]
    if cls.__doc__ and "{parameters}" in cls.__doc__:
        cls.__doc__ = cls.__doc__.replace("{parameters}", params_docstring(header=False))
    return cls


def _is_dask(obj: Any) -> bool:
    return type(obj).__module__.startswith("dask")


def _resolve_seed(seed: int) -> int:
    if seed is None or int(seed) == -1:
        return int(np.random.SeedSequence().entropy % (2**63 - 1))
    return int(seed)


class DeepLearningBase(BaseEstimator):
    """Common code of the classifier, the regressor and the H2O-style estimator."""

    _task: str | None = None  # "classification", "regression" or None (decided at fit)

    # ------------------------------------------------------------------ inputs
    def _params(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in PARAMETERS}

    @staticmethod
    def _as_frame(X: Any, *, n_features: int | None = None) -> tuple[pd.DataFrame, bool]:
        """pandas frame of ``X`` and whether ``X`` had its own column names."""
        if _is_dask(X):
            raise NotImplementedError(
                "Training and scoring on Dask collections arrive with Dask training "
                "(issue 3); call .compute() on a small frame or pass pandas/numpy data."
            )
        if isinstance(X, pd.DataFrame):
            return X, True
        if isinstance(X, pd.Series):
            return X.to_frame(), True
        arr = np.asarray(X)
        if arr.ndim == 1:
            raise DataError(
                "Expected a 2-D array for X, got a 1-D array of shape "
                f"{arr.shape}; reshape with X.reshape(-1, 1) for one feature."
            )
        if arr.ndim != 2:
            raise DataError(f"Expected a 2-D array for X, got an array of shape {arr.shape}.")
        if n_features is not None and arr.shape[1] != n_features:
            raise DataError(
                f"X has {arr.shape[1]} features, but the model was fitted with "
                f"{n_features} features."
            )
        return pd.DataFrame(arr, columns=[f"C{i + 1}" for i in range(arr.shape[1])]), False

    # ------------------------------------------------------------------ fitting
    def _fit_frames(
        self,
        frame: pd.DataFrame,
        response: str,
        valid: pd.DataFrame | None,
        *,
        features: Sequence[str] | None,
        task: str,
        classes: Sequence[Any] | None,
        weights_column: str | None,
    ) -> "DeepLearningBase":
        owner = type(self).__name__
        params = validate_params(self._params(), owner)
        not_implemented(params, owner)
        if params["weights_column"] is not None and weights_column is None:
            weights_column = params["weights_column"]
        if len(frame) == 0:
            raise DataError("The training frame is empty (0 rows).")
        seed = _resolve_seed(params["seed"])
        info = DataInfo.fit(
            frame,
            response=response,
            features=features,
            ignored_columns=params["ignored_columns"],
            weights_column=weights_column,
            offset_column=params["offset_column"],
            task=task,
            classes=classes,
            standardize=params["standardize"],
            sparse=params["sparse"],
            ignore_const_cols=params["ignore_const_cols"],
            missing_values_handling=params["missing_values_handling"],
            use_all_factor_levels=params["use_all_factor_levels"],
            categorical_encoding=params["categorical_encoding"],
            max_categorical_features=params["max_categorical_features"],
            distribution=params["distribution"],
            seed=seed,
        )
        n_classes = len(info.classes) if info.task == "classification" else None
        response_min = None
        if info.task == "regression":
            response_min = float(pd.to_numeric(frame[response], errors="coerce").min())
        eff = resolve_effective(params, owner=owner, task=info.task, n_classes=n_classes,
                                response_min=response_min, n_nodes=1)
        train = info.transform(frame, training=True)
        if train.X.shape[0] == 0:
            raise DataError(
                "No rows left in the training frame after removing rows with a missing "
                f"response{', missing values (missing_values_handling=Skip)' if eff['missing_values_handling'] == 'Skip' else ''}"
                f"{' or zero weights' if weights_column else ''}."
            )
        vblock = info.transform(valid, training=True) if valid is not None else None
        if vblock is not None and vblock.X.shape[0] == 0:
            raise DataError("The validation frame has no rows with a response.")
        hidden = tuple(eff["hidden"])
        ratios = eff["hidden_dropout_ratios"] or (0.0,) * len(hidden)
        spec = NetworkSpec(
            units=(info.n_inputs, *hidden, n_classes if n_classes else 1),
            activation=eff["activation"],
            output="softmax" if info.task == "classification" else "linear",
            hidden_dropout_ratios=tuple(ratios),
            input_dropout_ratio=float(eff["input_dropout_ratio"]),
        )
        state = init_state(
            spec,
            seed=seed,
            initial_weight_distribution=eff["initial_weight_distribution"],
            initial_weight_scale=float(eff["initial_weight_scale"]),
        )
        nthreads = 1 if eff["reproducible"] else (
            available_cores() if int(eff["nthreads"]) == -1 else int(eff["nthreads"])
        )
        backend = LocalBackend(train, vblock, data_info=info, task=info.task,
                               distribution=eff["distribution"], params=eff,
                               nthreads=nthreads, seed=seed)
        result = run_training(backend, state, eff, task=info.task, n_classes=n_classes,
                              seed=seed, verbose=bool(eff["verbose"]))
        self._set_fitted(result, info, eff, seed, nthreads)
        return self

    def _set_fitted(self, result: TrainResult, info: DataInfo, eff: dict[str, Any],
                    seed: int, nthreads: int) -> None:
        self.state_: ModelState = result.state
        self.data_info_: DataInfo = info
        self.params_: dict[str, Any] = eff
        self.seed_: int = seed
        self.nthreads_: int = nthreads
        self.scoring_history_: pd.DataFrame = result.history
        self.training_metrics_ = result.training_metrics
        self.validation_metrics_ = result.validation_metrics
        self.stop_reason_: str = result.stop_reason
        self.n_iter_: int = result.iterations
        self.epochs_: float = result.epochs
        self.run_time_: float = result.run_time
        self.events_: list[str] = result.events
        self.task_: str = info.task
        self.distribution_: str = eff["distribution"]
        if info.task == "classification":
            self.classes_ = np.asarray(info.classes)
            self.n_classes_ = len(info.classes)

    def _fit_xy(self, X: Any, y: Any, *, validation_data: Any, sample_weight: Any,
                task: str) -> "DeepLearningBase":
        """scikit-learn style fit: arrays or frames for X, a vector for y."""
        frame, named = self._as_frame(X)
        raw_names = list(frame.columns)
        if _is_dask(y):
            self._as_frame(y)  # raises the Dask message
        yv = np.asarray(y)
        if yv.ndim != 1:
            yv = yv.reshape(-1) if yv.ndim == 2 and yv.shape[1] == 1 else yv
        if yv.ndim != 1 or yv.shape[0] != len(frame):
            raise DataError(
                f"y must be a 1-D vector with one value per row of X ({len(frame)} rows); "
                f"got shape {np.shape(y)}."
            )
        classes = None
        if task == "classification":
            present = pd.Series(yv).dropna()
            classes = list(np.unique(present.to_numpy()))
        extra = {_RESPONSE: yv}
        weights_column = None
        if sample_weight is not None:
            sw = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
            if sw.shape[0] != len(frame):
                raise DataError(
                    f"sample_weight has {sw.shape[0]} values but X has {len(frame)} rows."
                )
            extra[_WEIGHT] = sw
            weights_column = _WEIGHT
        train = frame.assign(**extra)
        valid = None
        if validation_data is not None:
            try:
                Xv, yv_ = validation_data
            except (TypeError, ValueError):
                raise DataError(
                    "validation_data must be a tuple (X_valid, y_valid); got "
                    f"{type(validation_data).__name__}."
                ) from None
            vframe, _ = self._as_frame(Xv, n_features=None if named else len(raw_names))
            if not named:
                vframe.columns = raw_names
            valid = vframe.assign(**{_RESPONSE: np.asarray(yv_).reshape(-1)})
        self._fit_frames(train, _RESPONSE, valid, features=raw_names, task=task,
                         classes=classes, weights_column=weights_column)
        self.n_features_in_ = len(raw_names)
        self._n_raw_features = len(raw_names)
        self._fit_had_names = named
        self._raw_feature_names = raw_names
        if named and all(isinstance(c, str) for c in raw_names):
            self.feature_names_in_ = np.asarray(raw_names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self

    # ------------------------------------------------------------------ scoring
    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "state_")

    def _check_fitted(self) -> None:
        if not hasattr(self, "state_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' (or "
                "'train') with appropriate arguments before using this estimator."
            )

    def _scoring_frame(self, X: Any) -> pd.DataFrame:
        self._check_fitted()
        frame, named = self._as_frame(X, n_features=getattr(self, "_n_raw_features", None))
        if not named and getattr(self, "_fit_had_names", False):
            # numpy input for a model fitted on a DataFrame: columns by position
            frame.columns = list(self._raw_feature_names)
        return frame

    def _raw_predict(self, frame: pd.DataFrame) -> np.ndarray:
        info = self.data_info_
        if self.params_.get("offset_column") is not None:
            block = info.transform(frame, training=False)
            X, offset = block.X, block.offset
        else:
            X, offset = info.transform_X(frame), None
        return predict_block(self.state_, X, offset, task=self.task_,
                             distribution=self.distribution_,
                             response_mean=info.response_mean, response_sd=info.response_sd)

    def _threshold(self) -> float:
        """Binomial label threshold: max-F1 of the validation, else training metrics (H2O)."""
        for m in (self.validation_metrics_, self.training_metrics_):
            t = getattr(m, "max_f1_threshold", None) if m is not None else None
            if t is not None and np.isfinite(t):
                return float(t)
        return 0.5

    def _labels(self, proba: np.ndarray) -> np.ndarray:
        if proba.shape[1] == 2:
            idx = (proba[:, 1] >= self._threshold()).astype(np.int64)
        else:
            idx = proba.argmax(axis=1)
        return self.classes_[idx]

    def _performance(self, frame: pd.DataFrame, response: str, weights_column: str | None) -> Any:
        info = self.data_info_
        block = info.transform(frame, training=False)
        if block.y is None:
            raise DataError(f"The frame has no response column {response!r} to score against.")
        part = score_block(self.state_, block, data_info=info, task=self.task_,
                           distribution=self.distribution_, params=self.params_)
        return part.result(domain=info.classes,
                           max_confusion_matrix_size=int(self.params_["max_confusion_matrix_size"]))

    @property
    def summary_(self) -> str:
        """One-line description of the fitted network (H2O's summary title line)."""
        self._check_fitted()
        spec = self.state_.spec
        kind = (f"{self.n_classes_}-class classification" if self.task_ == "classification"
                else "regression")
        return (f"{kind}, {self.distribution_} distribution, {self.params_['loss']} loss, "
                f"{spec.n_weights + spec.n_biases:,} weights/biases, "
                f"{self.state_.processed:,} training samples, "
                f"mini-batch size {self.params_['mini_batch_size']}")
