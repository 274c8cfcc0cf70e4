"""The grid-level early stopping of a RandomDiscrete search, as H2O implements it.

The rule is H2O's ``RandomDiscreteValueWalker.stopEarly`` over the models built so far,
described in :mod:`dask_deeplearn.model_selection.grid`. :class:`GridStopping` holds the
whole decision (the metric, its "AUTO" choice and the rule) so that the search asks one
object after each model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from ..training.stopping import StoppingRule
from ._ranking import metric_is_increasing, model_metric, resolve_metric


def grid_should_stop(values: Sequence[float], *, stopping_rounds: int, stopping_metric: str,
                     stopping_tolerance: float) -> bool:
    """H2O's grid-level early stopping over the metrics of the models built so far.

    The values (one per model, any order; NaN left out) are sorted from worst to best,
    the worst is dropped and H2O's moving-average rule is applied (see
    :mod:`dask_deeplearn.model_selection.grid`).

    Parameters
    ----------
    values : sequence of float
        The metric of each model built so far.
    stopping_rounds : int
        ``k``; 0 disables.
    stopping_metric : str
        Canonical stopping-metric name (decides the direction).
    stopping_tolerance : float
        Relative improvement the best ``k`` must show over the next ``k``.

    Returns
    -------
    bool

    Examples
    --------
    >>> grid_should_stop([0.3, 0.3, 0.3, 0.3, 0.3], stopping_rounds=2,
    ...                  stopping_metric="logloss", stopping_tolerance=1e-3)
    True
    >>> grid_should_stop([0.9, 0.5, 0.45, 0.2, 0.1], stopping_rounds=2,
    ...                  stopping_metric="logloss", stopping_tolerance=1e-3)
    False
    """
    rule = StoppingRule(stopping_metric, int(stopping_rounds), float(stopping_tolerance))
    return rule.should_stop_among(values, more_is_better=metric_is_increasing(stopping_metric))


@dataclass
class GridStopping:
    """Whether a search walking the grid stops early, asked after each model is built.

    Parameters
    ----------
    stopping_rounds : int
        ``k`` of :func:`grid_should_stop`; 0 never stops.
    stopping_metric : str
        The search criteria's metric; "AUTO" becomes the default metric of the task of
        the first model built.
    stopping_tolerance : float

    Attributes
    ----------
    stopped : bool
        Whether the rule has fired (it never un-fires).

    Examples
    --------
    >>> rule = GridStopping(stopping_rounds=0, stopping_metric="AUTO", stopping_tolerance=1e-3)
    >>> rule.model_built(None, [None]), rule.stopping_metric
    (False, 'logloss')
    """

    stopping_rounds: int
    stopping_metric: str
    stopping_tolerance: float
    stopped: bool = False

    def model_built(self, model: Any, built: Sequence[Any]) -> bool:
        """Take a newly built ``model`` into account and return whether to stop.

        Parameters
        ----------
        model : estimator
            The model just built.
        built : sequence of estimators
            Every model built so far (``model`` included), in build order.

        Returns
        -------
        bool
            :attr:`stopped`.
        """
        if self.stopping_metric == "AUTO":
            self.stopping_metric = resolve_metric("AUTO", model)
        if self.stopping_rounds and not self.stopped:
            values = [model_metric(m, self.stopping_metric) for m in built]
            self.stopped = grid_should_stop(
                values, stopping_rounds=self.stopping_rounds,
                stopping_metric=self.stopping_metric,
                stopping_tolerance=self.stopping_tolerance)
        return self.stopped
