"""The one driver loop shared by every backend (semantics §7.1, §8, §9).

A backend only trains where the data is and scores fixed samples; iterations, the scoring
schedule, the history, early stopping, the runtime limit and the best model all live here.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from ..exceptions import UnstableModelError
from ..network import ModelState
from .schedule import MORE_IS_BETTER, ScoringSchedule, samples_per_iteration, stop_early
from .scoring import history_columns, history_values

__all__ = ["Backend", "TrainResult", "run_training"]

logger = logging.getLogger("dask_deeplearn")


class Backend(Protocol):
    """What the loop needs from a place that trains (in-process threads, Dask workers)."""

    n_rows: int
    n_nodes: int
    replicate: bool
    has_validation: bool

    def train_iteration(self, state: ModelState, n_samples: int, seed: int, shuffle: bool) -> tuple[ModelState, int]:
        """Train about ``n_samples`` rows; return the (new or updated) state and rows done."""
        ...

    def score(self, state: ModelState, which: str) -> Any:
        """Metrics of ``state`` on the fixed training (``"train"``) or validation sample."""
        ...


@dataclass
class TrainResult:
    """What a finished training run hands back to the estimator."""

    state: ModelState
    history: pd.DataFrame
    training_metrics: Any
    validation_metrics: Any
    stop_reason: str
    iterations: int
    epochs: float
    run_time: float
    events: list[str] = field(default_factory=list)


def _metric_value(m: Any, name: str) -> float:
    if m is None:
        return float("nan")
    try:
        v = m.get(name)
    except (KeyError, AttributeError, ValueError):
        return float("nan")
    return float("nan") if v is None else float(v)


def _loss_for_best(m: Any, metric: str) -> float:
    """H2O's ``loss()`` for the best-model comparison: smaller is better (§9.3)."""
    v = _metric_value(m, metric)
    if metric in MORE_IS_BETTER:
        return 1.0 - v if metric in ("AUC", "AUCPR") else -v
    return v


def run_training(
    backend: Backend,
    state: ModelState,
    params: dict[str, Any],
    *,
    task: str,
    n_classes: int | None,
    seed: int,
    verbose: bool = False,
) -> TrainResult:
    """Train ``state`` with ``backend`` until the epochs, a stop rule or the time limit end it.

    Parameters
    ----------
    backend : Backend
    state : ModelState
        Initial model (not modified when the backend returns new states).
    params : dict
        Effective parameters.
    task : {"classification", "regression"}
    n_classes : int or None
    seed : int
        Resolved model seed.
    verbose : bool, default=False
        Print every scoring-history row as it is added.

    Returns
    -------
    TrainResult
    """
    t0 = time.time()
    N = backend.n_rows
    epochs = float(params["epochs"])
    stopping_rounds = int(params["stopping_rounds"])
    default_metric = "logloss" if task == "classification" else "deviance"
    stopping_metric = params.get("stopping_metric") or default_metric
    best_metric = params.get("stopping_metric") or default_metric
    max_runtime = float(params["max_runtime_secs"])
    cols = history_columns(task, n_classes)
    has_valid = backend.has_validation
    schedule = ScoringSchedule(
        score_interval=float(params["score_interval"]),
        score_duty_cycle=float(params["score_duty_cycle"]),
        score_each_iteration=bool(params["score_each_iteration"]),
    )
    nan_row = {f"training_{c}": float("nan") for c in cols}
    if has_valid:
        nan_row.update({f"validation_{c}": float("nan") for c in cols})
    rows: list[dict[str, Any]] = [
        {"timestamp": pd.Timestamp.now(), "duration": 0.0, "training_speed": float("nan"),
         "epochs": state.processed / N, "iterations": 0, "samples": float(state.processed), **nan_row}
    ]
    stop_values: list[float] = []
    train_time = 0.0
    iteration = 0
    stop_reason = "epochs"
    best_state: ModelState | None = None
    best_loss = math.inf
    train_m = valid_m = None
    rows_per_10s: float | None = None
    events: list[str] = []

    def score_now(final_flag: bool) -> None:
        nonlocal train_m, valid_m, best_state, best_loss
        start = time.time()
        train_m = backend.score(state, "train")
        valid_m = backend.score(state, "valid") if has_valid else None
        end = time.time()
        schedule.record(start, end)
        row = {
            "timestamp": pd.Timestamp.now(),
            "duration": end - t0,
            "training_speed": state.processed / max(train_time, 1e-9),
            "epochs": state.processed / N,
            "iterations": iteration,
            "samples": float(state.processed),
        }
        row.update({f"training_{k}": v for k, v in history_values(train_m, cols).items()})
        if has_valid:
            row.update({f"validation_{k}": v for k, v in history_values(valid_m, cols).items()})
        rows.append(row)
        ref = valid_m if has_valid else train_m
        stop_values.append(_metric_value(ref, stopping_metric))
        loss = _loss_for_best(ref, best_metric)
        if params["overwrite_with_best_model"] and not math.isnan(loss) and loss < best_loss:
            best_loss = loss
            best_state = state.copy()
        if verbose:
            print(_format_row(row, cols, has_valid), flush=True)
        logger.info(_format_row(row, cols, has_valid))

    if epochs <= 0:
        score_now(True)
        stop_reason = "epochs"
    while state.processed / N < epochs:
        iteration += 1
        tspi = samples_per_iteration(
            int(params["train_samples_per_iteration"]),
            n_rows=N,
            epochs=epochs,
            n_nodes=backend.n_nodes,
            replicate=backend.replicate,
            single_node_mode=bool(params["single_node_mode"]),
            rows_per_10s=rows_per_10s,
        )
        shuffle = bool(params["shuffle_training_data"])
        it_start = time.time()
        new_state, done = backend.train_iteration(state, tspi, seed + state.processed, shuffle)
        dt = time.time() - it_start
        train_time += dt
        if done > 0 and dt > 0:
            rows_per_10s = done / dt * 10.0
        if not new_state.is_finite():
            raise UnstableModelError(
                "Training diverged: the weights are not finite after iteration "
                f"{iteration} ({new_state.processed / N:.3f} epochs). Likely causes: a "
                "manual 'rate' that is too large, no 'max_w2' constraint with Rectifier, or "
                "unscaled inputs with standardize=False. Try adaptive_rate=True, a smaller "
                "rate, or max_w2=10."
            )
        state = new_state
        if done == 0:
            events.append(f"iteration {iteration}: no rows were trained")
            stop_reason = "no training rows"
            score_now(True)
            break
        timed_out = max_runtime > 0 and time.time() - t0 > max_runtime
        final = state.processed / N >= epochs or timed_out
        if schedule.due(time.time(), final=final):
            score_now(final)
            # classification_stop / regression_stop on the training sample (§9.2)
            if task == "classification":
                cs = float(params["classification_stop"])
                err = _metric_value(train_m, "misclassification")
                if cs >= 0 and not math.isnan(err) and err <= cs:
                    stop_reason = "classification_stop"
                    break
            else:
                rs = float(params["regression_stop"])
                mse = _metric_value(train_m, "MSE")
                if rs >= 0 and not math.isnan(mse) and mse <= rs:
                    stop_reason = "regression_stop"
                    break
            if stop_early(stop_values, stopping_rounds=stopping_rounds,
                          stopping_metric=stopping_metric,
                          stopping_tolerance=float(params["stopping_tolerance"])):
                stop_reason = "early_stopping"
                break
        if timed_out:
            stop_reason = "max_runtime_secs"
            break
    # Overwrite with the best model (§9.3). H2O skips this on timeout; we do not (a bug).
    if params["overwrite_with_best_model"] and best_state is not None:
        ref = valid_m if has_valid else train_m
        if best_loss < _loss_for_best(ref, best_metric):
            best_state.processed = state.processed
            state = best_state
            events.append("final model overwritten with the best scored model")
            score_now(True)
    history = pd.DataFrame(rows)
    return TrainResult(
        state=state,
        history=history,
        training_metrics=train_m,
        validation_metrics=valid_m,
        stop_reason=stop_reason,
        iterations=iteration,
        epochs=state.processed / N,
        run_time=time.time() - t0,
        events=events,
    )


def _format_row(row: dict[str, Any], cols: list[str], has_valid: bool) -> str:
    parts = [
        f"epochs {row['epochs']:.2f}",
        f"iter {row['iterations']}",
        f"{row['training_speed']:.0f} obs/s",
    ]
    for c in cols[:3]:
        parts.append(f"train {c} {row['training_' + c]:.5g}")
        if has_valid:
            parts.append(f"valid {c} {row['validation_' + c]:.5g}")
    return " | ".join(parts)
