"""``search_criteria`` of :class:`~dask_deeplearn.model_selection.DeepLearningGridSearch`.

One frozen :class:`SearchCriteria` per search, built by :func:`normalise_criteria` from the
user's dict. Each strategy accepts its own keys; a key of another strategy, an unknown key
or a bad value raises :class:`~dask_deeplearn.exceptions.InvalidParameterError` naming the
key, the strategy, what is allowed and the value received.
"""

from __future__ import annotations

import difflib
import math
import numbers
from dataclasses import dataclass
from typing import Any, Mapping

from ..exceptions import InvalidParameterError
from ..params import canonical

__all__ = ["STRATEGIES", "SearchCriteria", "normalise_criteria"]

#: Search strategies, in canonical spelling.
STRATEGIES: tuple[str, ...] = ("Cartesian", "RandomDiscrete", "SuccessiveHalving", "Hyperband")

_KEYS: dict[str, tuple[str, ...]] = {
    "Cartesian": ("strategy", "max_models", "max_runtime_secs"),
    "RandomDiscrete": ("strategy", "seed", "max_models", "max_runtime_secs", "stopping_rounds",
                       "stopping_metric", "stopping_tolerance"),
    "SuccessiveHalving": ("strategy", "min_epochs", "max_epochs", "eta", "stopping_metric",
                          "seed", "max_candidates"),
    "Hyperband": ("strategy", "min_epochs", "max_epochs", "eta", "stopping_metric", "seed"),
}

# grid-level metrics: the model stopping metrics a fitted model's ModelMetrics can report
_GRID_METRICS = ("AUTO", "deviance", "logloss", "MSE", "RMSE", "MAE", "RMSLE", "AUC", "AUCPR",
                 "lift_top_group", "misclassification", "mean_per_class_error")

_OWNER = "DeepLearningGridSearch"


@dataclass(frozen=True)
class SearchCriteria:
    """Normalised search criteria (H2O's ``HyperSpaceSearchCriteria`` plus ours).

    Attributes
    ----------
    strategy : {"Cartesian", "RandomDiscrete", "SuccessiveHalving", "Hyperband"}
    max_models : int
        Most models to build successfully, 0 for no limit (Cartesian, RandomDiscrete).
    max_runtime_secs : float
        Wall-clock budget of the whole search, 0 for none (Cartesian, RandomDiscrete).
    seed : int
        Random seed of the search, -1 for a random one.
    stopping_rounds, stopping_metric, stopping_tolerance
        Grid-level early stopping (RandomDiscrete); ``stopping_metric`` also ranks the
        candidates of SuccessiveHalving and Hyperband (``"AUTO"``: logloss for
        classification, deviance for regression, MSE for autoencoders).
    min_epochs, max_epochs, eta
        Successive halving budgets in epochs: the first rung trains ``min_epochs``, each
        rung multiplies the budget by ``eta`` up to ``max_epochs`` (None: the base
        model's ``epochs``).
    max_candidates : int
        SuccessiveHalving: start from at most this many combinations drawn at random
        (0: every combination).
    """

    strategy: str = "Cartesian"
    max_models: int = 0
    max_runtime_secs: float = 0.0
    seed: int = -1
    stopping_rounds: int = 0
    stopping_metric: str = "AUTO"
    stopping_tolerance: float = 0.001
    min_epochs: float = 1.0
    max_epochs: float | None = None
    eta: float = 3.0
    max_candidates: int = 0

    @property
    def halving(self) -> bool:
        """Whether the strategy trains by budgets (SuccessiveHalving or Hyperband)."""
        return self.strategy in ("SuccessiveHalving", "Hyperband")


def _canonical_strategy(value: Any) -> str:
    if isinstance(value, str):
        key = value.replace("_", "").replace(" ", "").replace("-", "").lower()
        for s in STRATEGIES:
            if s.lower() == key:
                return s
    raise InvalidParameterError(
        f"The 'strategy' entry of search_criteria of {_OWNER} must be a str among "
        f"{set(STRATEGIES)}. Got {value!r} instead."
    )


def _bad(key: str, strategy: str, allowed: str, value: Any) -> InvalidParameterError:
    return InvalidParameterError(
        f"The {key!r} entry of search_criteria of {_OWNER} (strategy {strategy!r}) must be "
        f"{allowed}. Got {value!r} instead."
    )


def _int(key: str, strategy: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise _bad(key, strategy, f"an int >= {low}", value)
    return int(value)


def _real(key: str, strategy: str, value: Any, *, low: float, strict: bool) -> float:
    ok = (not isinstance(value, bool) and isinstance(value, numbers.Real)
          and math.isfinite(float(value)) and (value > low if strict else value >= low))
    if not ok:
        raise _bad(key, strategy, f"a finite number {'>' if strict else '>='} {low:g}", value)
    return float(value)


def normalise_criteria(search_criteria: Mapping[str, Any] | None) -> SearchCriteria:
    """Check ``search_criteria`` and return it as a :class:`SearchCriteria`.

    Parameters
    ----------
    search_criteria : dict or None
        ``{"strategy": ..., ...}``; None or ``{}`` means ``{"strategy": "Cartesian"}``.
        The strategy is case-insensitive and may use underscores (``"random_discrete"``).

    Returns
    -------
    SearchCriteria

    Raises
    ------
    InvalidParameterError
        Not a dict, an unknown strategy, a key the strategy does not use (close matches
        are suggested) or a value out of range.

    Examples
    --------
    >>> normalise_criteria({"strategy": "random_discrete", "max_models": 5}).max_models
    5
    >>> normalise_criteria({"strategy": "Cartesian", "eta": 2})
    Traceback (most recent call last):
    ...
    dask_deeplearn.exceptions.InvalidParameterError: search_criteria of \
DeepLearningGridSearch: 'eta' is not used by strategy 'Cartesian' (it belongs to \
'SuccessiveHalving', 'Hyperband'). Allowed keys: ['strategy', 'max_models', 'max_runtime_secs'].
    """
    if search_criteria is None:
        return SearchCriteria()
    if not isinstance(search_criteria, Mapping):
        raise InvalidParameterError(
            f"search_criteria of {_OWNER} must be a dict such as {{'strategy': "
            f"'RandomDiscrete', 'max_models': 10}} or None. Got "
            f"{type(search_criteria).__name__} {search_criteria!r} instead."
        )
    strategy = _canonical_strategy(search_criteria.get("strategy", "Cartesian"))
    allowed = _KEYS[strategy]
    for key in search_criteria:
        if key in allowed:
            continue
        owners = [s for s, keys in _KEYS.items() if key in keys]
        if owners:
            detail = f"it belongs to {', '.join(repr(s) for s in owners)}"
        else:
            every = sorted({k for keys in _KEYS.values() for k in keys})
            close = difflib.get_close_matches(str(key), every, n=2, cutoff=0.6)
            detail = ("unknown key" + (f"; did you mean {' or '.join(map(repr, close))}?"
                                       if close else ""))
        raise InvalidParameterError(
            f"search_criteria of {_OWNER}: {key!r} is not used by strategy {strategy!r} "
            f"({detail}). Allowed keys: {list(allowed)}."
        )
    out: dict[str, Any] = {"strategy": strategy}
    sc = search_criteria
    if "max_models" in sc:
        out["max_models"] = _int("max_models", strategy, sc["max_models"], 0)
    if "max_candidates" in sc:
        out["max_candidates"] = _int("max_candidates", strategy, sc["max_candidates"], 0)
    if "max_runtime_secs" in sc:
        out["max_runtime_secs"] = _real("max_runtime_secs", strategy, sc["max_runtime_secs"],
                                        low=0.0, strict=False)
    if "seed" in sc:
        seed = sc["seed"]
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < -1:
            raise _bad("seed", strategy, "an int >= 0, or -1 for a random seed", seed)
        out["seed"] = int(seed)
    if "stopping_rounds" in sc:
        out["stopping_rounds"] = _int("stopping_rounds", strategy, sc["stopping_rounds"], 0)
    if "stopping_tolerance" in sc:
        out["stopping_tolerance"] = _real("stopping_tolerance", strategy,
                                          sc["stopping_tolerance"], low=0.0, strict=False)
    if "stopping_metric" in sc:
        value = sc["stopping_metric"]
        try:
            metric = canonical("stopping_metric", value, owner=f"{_OWNER} search_criteria")
        except InvalidParameterError:
            metric = None
        if metric not in _GRID_METRICS:
            raise _bad("stopping_metric", strategy, f"a str among {list(_GRID_METRICS)} "
                       "(case-insensitive)", value)
        out["stopping_metric"] = metric
    if "min_epochs" in sc:
        out["min_epochs"] = _real("min_epochs", strategy, sc["min_epochs"], low=0.0, strict=True)
    if "max_epochs" in sc and sc["max_epochs"] is not None:
        out["max_epochs"] = _real("max_epochs", strategy, sc["max_epochs"], low=0.0, strict=True)
    if "eta" in sc:
        out["eta"] = _real("eta", strategy, sc["eta"], low=1.0, strict=True)
    crit = SearchCriteria(**out)
    if crit.max_epochs is not None and crit.max_epochs < crit.min_epochs:
        raise InvalidParameterError(
            f"search_criteria of {_OWNER}: max_epochs={crit.max_epochs!r} must be at least "
            f"min_epochs={crit.min_epochs!r} (strategy {strategy!r})."
        )
    return crit
