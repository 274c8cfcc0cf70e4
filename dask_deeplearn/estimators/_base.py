"""Shared machinery of the scikit-learn estimators.

Every H2O Deep Learning parameter is a keyword argument of ``__init__``; the signature and
the numpydoc "Parameters" section are generated from :data:`dask_deeplearn.params.PARAMETERS`
so there is one table, not three copies.
"""

from __future__ import annotations

import concurrent.futures
import inspect
import threading
import warnings
from typing import Any, Callable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

from ..exceptions import DataError, InvalidParameterError, NotFittedError
from ..network import ModelState
from ..params import PARAMETERS, params_docstring
from ..preprocessing import DataInfo
from ..training.loop import TrainResult
from ..weights import weights_frames
from ._fitted import FittedMixin
from ._fitting import FitMixin
from ._inputs import (  # noqa: F401 - re-exported for the estimator modules
    _RESPONSE,
    _WEIGHT,
    _ValueTypeError,
    _attach_dask,
    _check_n_features,
    _is_dask,
    _renamed,
)
from ._inspect import InspectionMixin

__all__ = ["DeepLearningBase", "FitHandle", "with_h2o_parameters"]


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
            import difflib

            hints = []
            for name in unknown:
                close = difflib.get_close_matches(name, list(PARAMETERS), n=1)
                hints.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
            raise TypeError(
                f"{type(self).__name__}.__init__() got unexpected keyword argument(s) "
                f"{', '.join(hints)}; see help({type(self).__name__}) for the parameters."
            )
        for name, p in PARAMETERS.items():
            setattr(self, name, kwargs.get(name, p.default))

    __init__.__signature__ = inspect.Signature(sig_params)  # type: ignore[attr-defined]
    __init__.__doc__ = f"Initialise a {cls.__name__}; see the class docstring."
    cls.__init__ = __init__  # type: ignore[misc]
    if cls.__doc__ and "{parameters}" in cls.__doc__:
        cls.__doc__ = cls.__doc__.replace("{parameters}", params_docstring(header=False))
    return cls


class FitHandle:
    """A fit running in a background thread (``fit(..., block=False)``).

    The estimator's ``scoring_history_`` is updated at every scoring event while the fit
    runs, so a notebook can plot it live.
    """

    def __init__(self, estimator: Any, run: Callable[[], Any]) -> None:
        self.estimator = estimator
        self._future: concurrent.futures.Future = concurrent.futures.Future()

        def target() -> None:
            try:
                self._future.set_result(run())
            except BaseException as exc:  # noqa: BLE001 - handed to result()
                self._future.set_exception(exc)

        self._thread = threading.Thread(target=target, name="dask_deeplearn-fit", daemon=True)
        self._thread.start()

    def done(self) -> bool:
        """Whether the fit has finished (successfully or not)."""
        return self._future.done()

    def result(self, timeout: float | None = None) -> Any:
        """Wait for the fit and return the fitted estimator (re-raises its error)."""
        return self._future.result(timeout)

    def cancel(self) -> None:
        """Stop at the next iteration boundary, keeping the last finished model (H2O's cancel)."""
        self.estimator._stop_event.set()

    @property
    def scoring_history(self) -> pd.DataFrame | None:
        """The scoring history so far (None before the first scoring event)."""
        return getattr(self.estimator, "scoring_history_", None)


class DeepLearningBase(FitMixin, FittedMixin, InspectionMixin, BaseEstimator):
    """Common code of the classifier, the regressor and the H2O-style estimator."""

    _task: str | None = None  # "classification", "regression" or None (decided at fit)
    #: how a binomial model's predict labels a row: "threshold" (H2O: class 1 when
    #: p1 >= threshold_) or "argmax" (scikit-learn: classes_[argmax(predict_proba)]);
    #: the scorers exported from the model (Python, Java, score_parquet, the CLI) use it too
    _label_rule: str = "threshold"

    # ------------------------------------------------------------------ inputs
    def _params(self) -> dict[str, Any]:
        # (model_id: the parameter, never a trained DeepLearningEstimator's id)
        return {**{name: getattr(self, name) for name in PARAMETERS},
                "model_id": self.__dict__.get("model_id")}

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The parameters as given (scikit-learn's ``get_params``).

        ``model_id`` is the parameter, None unless one was given, also after a fit that
        generated an id (``model_id_``): ``clone`` copies what the user passed.
        """
        out = super().get_params(deep=deep)
        out["model_id"] = self.__dict__.get("model_id")
        return out

    # ------------------------------------------------------------------ cross-validation
    def _xval_metrics(self) -> Any:
        """The cross-validation metrics (clear error when the fit had no cross-validation)."""
        self._check_fitted()
        m = getattr(self, "cross_validation_metrics_", None)
        if m is None:
            raise InvalidParameterError(
                f"This {type(self).__name__} was fitted without cross-validation; set "
                "nfolds >= 2 (or a fold_column) to get cross-validation metrics.")
        return m

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` fits use when none is passed to ``fit`` (not a
        parameter: it is not cloned, and not pickled)."""
        return getattr(self, "_client", None)

    @client.setter
    def client(self, value: Any) -> None:
        self._client = value

    def _launch(self, run: Callable[[], Any], block: bool) -> Any:
        """Run a fit now (``block=True``) or in a background thread (returns a handle)."""
        self._stop_event = getattr(self, "_stop_event", None) or threading.Event()
        if block:
            return run()
        return FitHandle(self, run)

    def _remember_features(self, raw_names: list[Any], named: bool) -> None:
        self._apply_features(self, raw_names, named)

    @staticmethod
    def _feature_attributes(raw_names: list[Any], named: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"n_features_in_": len(raw_names),
                               "_n_raw_features": len(raw_names), "_fit_had_names": named,
                               "_raw_feature_names": raw_names}
        if named and all(isinstance(c, str) for c in raw_names):
            out["feature_names_in_"] = np.asarray(raw_names, dtype=object)
        return out

    @classmethod
    def _apply_features(cls, target: Any, raw_names: list[Any], named: bool) -> None:
        attrs = cls._feature_attributes(raw_names, named)
        for name, value in attrs.items():
            setattr(target, name, value)
        if "feature_names_in_" not in attrs and hasattr(target, "feature_names_in_"):
            del target.feature_names_in_

    # ------------------------------------------------------------------ scikit-learn
    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "state_")

    def __sklearn_tags__(self) -> Any:
        """scikit-learn estimator tags.

        Missing values are imputed (``missing_values_handling``), DataFrames may hold
        categorical columns, and SciPy sparse input is densified. Training is
        non-deterministic unless ``seed`` is set and it runs single-threaded
        (``reproducible=True`` or ``nthreads=1``): multi-threaded Hogwild updates race.
        """
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.input_tags.categorical = True
        seeded = self.seed is not None and self.seed != -1
        single = self.reproducible is True or self.nthreads == 1
        tags.non_deterministic = not (seeded and single)
        return tags

    def _expected_failed_checks(self) -> dict[str, str]:
        """scikit-learn estimator checks that cannot pass, with the reason for each.

        Pass to ``sklearn.utils.estimator_checks.check_estimator(...,
        expected_failed_checks=est._expected_failed_checks())`` or to
        ``parametrize_with_checks(..., expected_failed_checks=...)``. (scikit-learn >= 1.6
        takes the list there; ``_more_tags`` / ``_xfail_checks`` are no longer read.)
        """
        reason = (
            "sample_weight multiplies each row's SGD step (H2O's weights_column), so a "
            "row of weight 2 takes one double step at one point of an epoch while a "
            "repeated row takes two steps at two points: stochastic training is not "
            "equivalent to repeating or removing rows, only close in expectation."
        )
        return {"check_sample_weight_equivalence_on_dense_data": reason,
                "check_sample_weight_equivalence_on_sparse_data": reason}

    # ------------------------------------------------------------------ scoring

    def _scoring_frame(self, X: Any) -> pd.DataFrame:
        self._check_fitted()
        return self._input_frame(X)

    def _input_frame(self, X: Any) -> Any:
        """``X`` as a frame with the fitted column names (scoring, continued fits).

        For a model fitted with ``fit(X, y)``: an array must have the fitted number of
        columns, which are taken by position; a DataFrame is matched by column name if
        the model was fitted on one, else by position (scikit-learn's warnings in the
        mixed cases). A model trained with ``train`` matches columns by name only.
        """
        owner = type(self).__name__
        n_raw = getattr(self, "_n_raw_features", None)
        frame, named = self._as_frame(X, n_features=n_raw, owner=owner)
        fitted_names = getattr(self, "_fit_had_names", False)
        if n_raw is None:  # train(): H2O matches columns by name
            if not named and fitted_names:
                frame.columns = list(self._raw_feature_names)
            return frame
        raw = list(self._raw_feature_names)
        if named and not fitted_names:
            _check_n_features(len(frame.columns), n_raw, owner)
            if all(isinstance(c, str) for c in frame.columns):
                warnings.warn(f"X has feature names, but {owner} was fitted without feature "
                              "names; its columns are taken by position.", UserWarning,
                              stacklevel=3)
            return _renamed(frame, raw)
        if not named and fitted_names:
            if hasattr(self, "feature_names_in_"):
                warnings.warn(f"X does not have valid feature names, but {owner} was fitted "
                              "with feature names; its columns are taken by position.",
                              UserWarning, stacklevel=3)
            return _renamed(frame, raw)
        return frame
