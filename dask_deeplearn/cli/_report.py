"""What ``train`` and ``info`` print about a model (an estimator, or the FittedModel that
``info`` reads): the scoring-history tail, the metrics."""

from __future__ import annotations

from typing import Any

from .._display import history_text

#: rows of the scoring history printed by ``train`` and ``info``
HISTORY_TAIL = 5


def _history_tail(model: Any) -> str:
    """The last rows of a model's (estimator's or FittedModel's) scoring history, at most
    100 characters a line (no timestamp, no column without a value, short headers)."""
    return history_text(_fitted_field(model, "scoring_history"), tail=HISTORY_TAIL)


def _fitted_field(model: Any, name: str) -> Any:
    """A fitted value of an estimator (``<name>_``) or of a FittedModel (``<name>``)."""
    return getattr(model, f"{name}_", getattr(model, name, None))


def _print_metrics(model: Any, out: Any) -> None:
    train_m = _fitted_field(model, "training_metrics")
    valid_m = _fitted_field(model, "validation_metrics")
    print("\nTraining metrics:", file=out)
    print(repr(train_m) if train_m is not None else "(none)", file=out)
    if valid_m is not None:
        print("\nValidation metrics:", file=out)
        print(repr(valid_m), file=out)

