"""Model selection: grid, random and successive-halving search (H2O's ``H2OGridSearch``).

DeepLearningGridSearch
    ``DeepLearningGridSearch(model, hyper_params, grid_id=None, search_criteria=None,
    n_jobs=1)`` with ``.train(x=, y=, training_frame=, validation_frame=)`` (H2O style) or
    ``.fit(X, y, validation_data=)`` (scikit-learn style); strategies ``"Cartesian"``,
    ``"RandomDiscrete"``, ``"SuccessiveHalving"`` and ``"Hyperband"``.
GridSearchError
    Raised when every model of a search failed.
SearchCriteria, normalise_criteria
    The checked form of ``search_criteria``.
grid_should_stop, metric_is_increasing
    H2O's grid-level early-stopping rule; the direction of a metric.
halving_budgets, hyperband_brackets, n_survivors
    The successive-halving and Hyperband schedules (epochs per rung).

Modules, one concern each: ``grid`` (the search class and its results), ``_criteria``
(``search_criteria``), ``_inputs`` (checks of the hyper-parameters, base parameters and
``n_jobs``), ``_strategies`` (the walk and successive halving: which candidates train, for
how long), ``_fitting`` (one fit, the queue of ``n_jobs`` fits), ``_ranking`` (metric
direction, a model's metric, the default metric), ``_stopping`` (the grid-level early
stopping), ``_halving`` (the schedules).
"""

from ._criteria import STRATEGIES, SearchCriteria, normalise_criteria
from ._halving import halving_budgets, hyperband_brackets, n_survivors
from .grid import DeepLearningGridSearch, GridSearchError, grid_should_stop, metric_is_increasing

__all__ = [
    "DeepLearningGridSearch",
    "GridSearchError",
    "STRATEGIES",
    "SearchCriteria",
    "grid_should_stop",
    "halving_budgets",
    "hyperband_brackets",
    "metric_is_increasing",
    "n_survivors",
    "normalise_criteria",
]
