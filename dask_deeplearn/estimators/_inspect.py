"""Inspection methods shared by the estimators: variable importance, summary, plots.

:class:`InspectionMixin` reads only fitted attributes (``state_``, ``data_info_``,
``params_``, ``scoring_history_``) and delegates to :mod:`dask_deeplearn.inspection` and
:mod:`dask_deeplearn.plotting` (matplotlib is imported only by the plotting methods).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..inspection import constant_inputs, gedeon_importances, summary_table, varimp_table

__all__ = ["InspectionMixin"]


class InspectionMixin:
    """H2O-style model inspection: ``varimp``, ``summary`` and plots.

    Expects the fitted attributes ``state_`` (ModelState), ``data_info_`` (DataInfo),
    ``params_`` (effective parameters), ``scoring_history_`` (DataFrame), ``task_`` and a
    ``_check_fitted()`` method, as set by the estimator base class (the mixin does not
    define ``_check_fitted`` so that it never shadows the estimator's).
    """

    state_: Any
    data_info_: Any
    params_: dict[str, Any]
    scoring_history_: pd.DataFrame

    def varimp(self, aggregate: bool = False, use_pandas: bool = True) -> Any:
        """Gedeon variable importances (H2O's "Variable Importances" table).

        Computed from the first two weight matrices of the fitted network (see
        :func:`dask_deeplearn.inspection.gedeon_importances`).

        Parameters
        ----------
        aggregate : bool, default=False
            False: one row per expanded input (one-hot level, NA slot, numeric), as H2O.
            True: one row per original column (levels and NA slot summed). Not possible
            with ``max_categorical_features`` hashing.
        use_pandas : bool, default=True
            True: a DataFrame. False: a list of ``(variable, relative_importance,
            scaled_importance, percentage)`` tuples, as h2o-py's ``varimp()``.

        Returns
        -------
        pandas.DataFrame or list of tuple
            Columns ``variable, relative_importance, scaled_importance, percentage``,
            sorted by decreasing importance.

        Raises
        ------
        NotFittedError
            The estimator is not fitted.
        ValueError
            The model was fitted with ``variable_importances=False``, or ``aggregate=True``
            with hashing.
        """
        self._check_fitted()
        if not bool(self.params_.get("variable_importances", True)):
            raise ValueError(
                f"This {type(self).__name__} was fitted with variable_importances=False, so it "
                "has no variable importances; refit with variable_importances=True."
            )
        vi = gedeon_importances(self.state_.spec, self.state_.W)
        table = varimp_table(vi, self.data_info_, aggregate=aggregate)
        if use_pandas:
            return table
        return [
            (v, float(r), float(s), float(p))
            for v, r, s, p in table.itertuples(index=False, name=None)
        ]

    def summary(self) -> pd.DataFrame:
        """H2O's model summary, "Status of Neuron Layers" (one row per layer).

        Returns
        -------
        pandas.DataFrame
            Columns ``layer, units, type, dropout, l1, l2, mean_rate, rate_rms, momentum,
            mean_weight, weight_rms, mean_bias, bias_rms``; ``attrs["title"]`` holds H2O's
            title line and ``attrs["unstable"]`` why the model is unstable (or None).
            See :func:`dask_deeplearn.inspection.summary_table`.

        Raises
        ------
        NotFittedError
            The estimator is not fitted.
        """
        self._check_fitted()
        table = summary_table(self.state_, self.params_, self.data_info_)
        # scikit-learn fits name the response internally; show the user's name for it
        table.attrs["title"] = table.attrs["title"].replace("predicting __response__",
                                                            "predicting y")
        return table

    def plot_scoring_history(self, metric: str = "AUTO", ax: Any = None) -> Any:
        """Plot a metric of the scoring history against epochs.

        Parameters
        ----------
        metric : str, default="AUTO"
            Case-insensitive metric name; AUTO picks logloss, else deviance, else MSE,
            else RMSE. See :func:`dask_deeplearn.plotting.plot_scoring_history`.
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure is created when None.

        Returns
        -------
        matplotlib.axes.Axes

        Raises
        ------
        NotFittedError
            The estimator is not fitted.
        ValueError
            Unknown metric (the message lists the available ones).
        ImportError
            matplotlib is not installed.
        """
        self._check_fitted()
        from ..plotting import plot_scoring_history

        ax = plot_scoring_history(self.scoring_history_, metric=metric, ax=ax)
        ax.set_title(f"{type(self).__name__}: {ax.get_title()}")
        return ax

    def plot_varimp(self, n: int = 20, ax: Any = None, aggregate: bool = False,
                    hide_constant: bool = True) -> Any:
        """Horizontal bar chart of the ``n`` most important variables.

        Parameters
        ----------
        n : int, default=20
            Number of variables shown (largest at the top).
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure is created when None.
        aggregate : bool, default=False
            Aggregate one-hot levels into their original column (see :meth:`varimp`).
        hide_constant : bool, default=True
            Leave out the inputs that were constant in training
            (:func:`dask_deeplearn.inspection.constant_inputs`: kept in the network with
            ``ignore_const_cols=False``, their importance only reflects the initial
            weights). The scaled importances of the others are unchanged.

        Returns
        -------
        matplotlib.axes.Axes

        Raises
        ------
        NotFittedError
            The estimator is not fitted.
        ValueError
            Fitted with ``variable_importances=False``, or ``aggregate=True`` with hashing.
        ImportError
            matplotlib is not installed.
        """
        if not isinstance(hide_constant, (bool, np.bool_)):
            raise ValueError(f"hide_constant must be True or False; got {hide_constant!r}.")
        table = self.varimp(aggregate=aggregate, use_pandas=True)
        from ..plotting import plot_varimp

        hidden = constant_inputs(self.data_info_, aggregate=aggregate) if hide_constant else None
        return plot_varimp(table, n=n, ax=ax, exclude=hidden)
