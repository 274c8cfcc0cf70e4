"""H2O's accessor names on ``DeepLearningEstimator`` (h2o-py's ``ModelBase`` methods).

:class:`H2OAccessorsMixin` reads the fitted model and the cross-validation attributes the
fit left: ``params`` / ``actual_params``, ``weights(i)`` / ``biases(i)``, ``gini``,
``hit_ratio_table``, ``plot``, ``varimp_plot`` and the ``cross_validation_*`` methods.
Where h2o-py returns an H2OFrame or a table, these return pandas DataFrames.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..exceptions import InvalidParameterError
from ..params import PARAMETERS

__all__ = ["H2OAccessorsMixin"]

#: metrics ``plot(metric=...)`` accepts per model category, the first being AUTO's (h2o-py's)
_PLOT_METRICS = {
    "binomial": ("logloss", "auc", "classification_error", "rmse"),
    "multinomial": ("classification_error", "logloss", "rmse"),
    "regression": ("rmse", "deviance", "mae"),
    "autoencoder": ("rmse", "mse"),
}
_TIMESTEPS = ("epochs", "samples", "duration")


def _show_or_save(figure: Any, server: bool, save_plot_path: Any) -> Any:
    """h2o-py's ending of a plot: save when asked, show unless ``server``, wrap the figure."""
    from ..plotting import PlotResult, _pyplot

    if save_plot_path is not None:
        figure.savefig(save_plot_path)
    if not server:
        _pyplot().show()
    return PlotResult(figure)


class H2OAccessorsMixin:
    """h2o-py's model accessors, for an estimator with ``_metric`` and the fitted views."""

    def _category(self: Any) -> str:
        """h2o-py's model category: binomial, multinomial, regression or autoencoder."""
        self._check_fitted()
        if self.task_ == "classification":
            return "binomial" if len(self.classes_) == 2 else "multinomial"
        return self.task_

    # ------------------------------------------------------------------ parameters
    @property
    def params(self: Any) -> dict[str, dict[str, Any]]:
        """Every parameter's default, actual and input value (h2o-py's ``model.params``).

        Returns
        -------
        dict
            ``{name: {"default": ..., "actual": ..., "input": ...}}``: H2O's default, the
            value the fit used (H2O's effective value, e.g. the resolved ``distribution``
            or the epochs actually trained by cross-validation's main model) and the
            value given to the estimator; ``response_column`` too.

        Raises
        ------
        NotFittedError
            The estimator is not fitted.
        """
        self._check_fitted()
        given = self.__dict__["_fitted"].user_params
        actual = self.params_
        out = {name: {"default": p.default, "actual": actual.get(name, given.get(name)),
                      "input": given.get(name, p.default)}
               for name, p in PARAMETERS.items()}
        response = getattr(self, "response_column_", None)
        out["response_column"] = {"default": None, "actual": response, "input": response}
        return out

    @property
    def actual_params(self: Any) -> dict[str, Any]:
        """The value of every parameter the fit used (h2o-py's ``model.actual_params``).

        Returns
        -------
        dict
            ``{name: value}``, the ``"actual"`` entries of :attr:`params`.
        """
        return {name: entry["actual"] for name, entry in self.params.items()}

    # ------------------------------------------------------------------ weights
    def _layer_frame(self: Any, which: int, index: Any, what: str) -> pd.DataFrame:
        self._check_fitted()
        if not self.params_.get("export_weights_and_biases"):
            raise InvalidParameterError(
                f"{what}({index!r}): this model was fitted with export_weights_and_biases="
                "False, so it keeps no weight or bias frames; refit with "
                "export_weights_and_biases=True.")
        frames = self.weights_ if which == 0 else self.biases_
        n = len(frames)
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < n:
            kind = "weight matrices" if which == 0 else "bias vectors"
            raise InvalidParameterError(
                f"{what}({index!r}) does not exist: the model has {n} {kind} (0-based "
                f"indexing: 0 to {n - 1}).")
        return frames[index]

    def weights(self: Any, matrix_id: int = 0) -> pd.DataFrame:
        """Weight matrix ``matrix_id`` (h2o-py's ``model.weights(i)``).

        Parameters
        ----------
        matrix_id : int, default=0
            0 is the matrix from the inputs to the first hidden layer; the last one feeds
            the output layer.

        Returns
        -------
        pandas.DataFrame
            One row per receiving unit, one column per sending unit (layer 0's columns
            named by the expanded inputs, as H2O's frame).

        Raises
        ------
        InvalidParameterError
            Fitted without ``export_weights_and_biases=True``, or no such matrix.
        """
        return self._layer_frame(0, matrix_id, "weights")

    def biases(self: Any, vector_id: int = 0) -> pd.DataFrame:
        """Bias vector ``vector_id`` as a one-column frame (h2o-py's ``model.biases(i)``).

        Parameters
        ----------
        vector_id : int, default=0

        Returns
        -------
        pandas.DataFrame

        Raises
        ------
        InvalidParameterError
            Fitted without ``export_weights_and_biases=True``, or no such vector.
        """
        return self._layer_frame(1, vector_id, "biases")

    # ------------------------------------------------------------------ metrics
    def gini(self: Any, train: bool = False, valid: bool = False, xval: bool = False) -> Any:
        """Gini coefficient, ``2 * AUC - 1`` (binomial, else None); arguments as ``mse``."""
        return self._metric("gini", train, valid, xval)

    def hit_ratio_table(self: Any, train: bool = False, valid: bool = False,
                        xval: bool = False) -> Any:
        """Top-k hit ratios (h2o-py's ``hit_ratio_table``, multinomial models).

        Parameters
        ----------
        train, valid, xval : bool, default=False
            As in ``mse``.

        Returns
        -------
        pandas.DataFrame or dict
            Columns ``k`` and ``hit_ratio`` (``max_hit_ratio_k`` rows; None when
            ``max_hit_ratio_k=0``), or a dict of them when several sources are asked.

        Raises
        ------
        InvalidParameterError
            The model is not multinomial.
        """
        category = self._category()
        if category != "multinomial":
            raise InvalidParameterError(
                f"hit_ratio_table() is defined for multinomial models (3 or more classes); "
                f"this model is {category}.")
        return self._metric("hit_ratios", train, valid, xval)

    # ------------------------------------------------------------------ plots
    def plot(self: Any, timestep: str = "AUTO", metric: str = "AUTO", server: bool = False,
             save_plot_path: Any = None) -> Any:
        """Plot the scoring history (h2o-py's ``model.plot()``; needs matplotlib).

        Parameters
        ----------
        timestep : {"AUTO", "epochs", "samples", "duration"}, default="AUTO"
            The x axis (AUTO: epochs).
        metric : str, default="AUTO"
            Binomial: ``logloss`` (AUTO), ``auc``, ``classification_error``, ``rmse``;
            multinomial: ``classification_error`` (AUTO), ``logloss``, ``rmse``;
            regression: ``rmse`` (AUTO), ``deviance``, ``mae``; autoencoder: ``rmse``
            (AUTO), ``mse``.
        server : bool, default=False
            True: do not call ``matplotlib.pyplot.show()``.
        save_plot_path : str or PathLike, optional
            Also save the figure there.

        Returns
        -------
        PlotResult
            ``result.figure()`` is the matplotlib Figure.

        Raises
        ------
        InvalidParameterError
            A ``timestep`` or ``metric`` not in the lists above (the message lists them).
        """
        allowed = _PLOT_METRICS[self._category()]
        if timestep != "AUTO" and timestep not in _TIMESTEPS:
            raise InvalidParameterError(f"plot: timestep={timestep!r} is not allowed; use one "
                                        f"of {['AUTO', *_TIMESTEPS]}.")
        if metric != "AUTO" and metric not in allowed:
            raise InvalidParameterError(
                f"plot: metric={metric!r} is not allowed for a {self._category()} model; use "
                f"one of {['AUTO', *allowed]}.")
        step = "epochs" if timestep == "AUTO" else timestep
        chosen = allowed[0] if metric == "AUTO" else metric
        history = self.scoring_history()
        if len(history) > 1 and float(history["samples"].iloc[0]) == 0:
            history = history.iloc[1:]  # the untrained model's row (H2O leaves it out)
        from ..plotting import plot_scoring_history

        ax = plot_scoring_history(history, metric=chosen, timestep=step)
        valid = f"validation_{chosen}" in history.columns
        ax.set_title("Scoring History" if valid else "Training Scoring History")
        ax.set_xlabel(step)
        ax.set_ylabel(chosen if valid else f"training_{chosen}")
        return _show_or_save(ax.figure, server, save_plot_path)

    def varimp_plot(self: Any, num_of_features: int | None = None, server: bool = False,
                    save_plot_path: Any = None) -> Any:
        """Bar chart of the scaled variable importances (h2o-py's ``varimp_plot``).

        Parameters
        ----------
        num_of_features : int, optional
            Number of variables shown (default 10, or all when fewer).
        server, save_plot_path
            As in :meth:`plot`.

        Returns
        -------
        PlotResult

        Raises
        ------
        ValueError
            Fitted with ``variable_importances=False``, or ``num_of_features < 1``.
        """
        table = self.varimp(use_pandas=True)
        n = min(len(table), 10) if num_of_features is None else num_of_features
        from ..plotting import plot_varimp

        ax = plot_varimp(table, n=n)
        ax.set_title("Variable Importance: H2O Deep Learning")
        return _show_or_save(ax.figure, server, save_plot_path)

    # ------------------------------------------------------------------ cross-validation
    def _kept(self: Any, attribute: str, parameter: str, what: str) -> Any:
        self._xval_metrics()
        value = getattr(self, attribute, None)
        if value is None:
            raise InvalidParameterError(f"{what} were not kept; fit with {parameter}=True.")
        return value

    def cross_validation_models(self: Any) -> list[Any]:
        """The fold models, fold 1 first (h2o-py's ``cross_validation_models()``).

        Raises
        ------
        InvalidParameterError
            Fitted without cross-validation or with ``keep_cross_validation_models=False``.
        """
        return list(self._kept("cross_validation_models_", "keep_cross_validation_models",
                               "cross-validation models"))

    def cross_validation_predictions(self: Any) -> list[Any]:
        """Each fold model's holdout predictions (h2o-py's ``cross_validation_predictions()``).

        Returns
        -------
        list of pandas.DataFrame (lazy Dask DataFrames for Dask training data)
            One frame per fold with every training row: the fold model's predictions on
            its own fold and 0 elsewhere (a label column: its first class), as H2O
            expands them; they add up to ``cross_validation_holdout_predictions()``.

        Raises
        ------
        InvalidParameterError
            Fitted without cross-validation or ``keep_cross_validation_predictions=True``.
        """
        holdout = self._kept("cross_validation_holdout_predictions_",
                             "keep_cross_validation_predictions", "cross-validation predictions")
        from ._cv import fold_predictions

        n_folds = len(self.cross_validation_metrics_summary_.columns) - 2
        first = self.classes_[0] if self.task_ == "classification" else None
        return fold_predictions(holdout, self.__dict__["_cv_holdout_folds"], n_folds, first)

    def cross_validation_fold_assignment(self: Any) -> Any:
        """The 0-based fold of every training row (h2o-py's frame, column ``fold_assignment``).

        Returns
        -------
        pandas.DataFrame (a lazy Dask DataFrame for Dask training data)

        Raises
        ------
        InvalidParameterError
            Fitted without cross-validation or
            ``keep_cross_validation_fold_assignment=True``.
        """
        folds = self._kept("cross_validation_fold_assignment_",
                           "keep_cross_validation_fold_assignment",
                           "cross-validation fold assignments")
        return folds.to_frame()
