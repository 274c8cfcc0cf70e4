"""What ``train`` and ``info`` print about a model: the scoring-history tail, the metrics."""

from __future__ import annotations

from typing import Any

#: rows of the scoring history printed by ``train`` and ``info``
HISTORY_TAIL = 5


def _history_tail(model: Any) -> str:
    import pandas as pd

    history = getattr(model, "scoring_history_", None)
    if history is None or len(history) == 0:
        return "(no scoring history)"
    with pd.option_context("display.width", 200, "display.max_columns", None):
        return history.tail(HISTORY_TAIL).to_string()


def _print_metrics(model: Any, out: Any) -> None:
    train_m = getattr(model, "training_metrics_", None)
    valid_m = getattr(model, "validation_metrics_", None)
    print("\nTraining metrics:", file=out)
    print(repr(train_m) if train_m is not None else "(none)", file=out)
    if valid_m is not None:
        print("\nValidation metrics:", file=out)
        print(repr(valid_m), file=out)

