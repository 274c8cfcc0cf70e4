"""Iteration sizing and the scoring schedule (H2O's ``train_samples_per_iteration`` and
``score_interval`` / ``score_duty_cycle`` rules); the stopping rule is in
:mod:`dask_deeplearn.training.stopping`.

Pure Python; no Dask, no numba.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

from .stopping import BOUNDED_BELOW, MORE_IS_BETTER, StoppingRule

__all__ = ["samples_per_iteration", "adjust_samples_per_iteration", "ScoringSchedule",
           "stop_early", "MORE_IS_BETTER", "BOUNDED_BELOW"]



def samples_per_iteration(
    tspi: int,
    *,
    n_rows: int,
    epochs: float,
    n_nodes: int = 1,
    replicate: bool = False,
    single_node_mode: bool = False,
    rows_per_10s: float | None = None,
    comm_seconds: float | None = None,
    rows_per_second: float | None = None,
    target_ratio_comm_to_comp: float = 0.05,
) -> int:
    """Resolve ``train_samples_per_iteration`` to the global rows per iteration (H2O's rule).

    Parameters
    ----------
    tspi : int
        The parameter: ``0`` (one epoch), ``-1`` (all data on every node), ``-2`` (auto) or a
        positive row count.
    n_rows : int
        Training rows N.
    epochs : float
    n_nodes : int, default=1
    replicate : bool, default=False
        Whether every node holds all the data (effective ``replicate_training_data``).
    single_node_mode : bool, default=False
    rows_per_10s : float, optional
        Measured rows trained in 10 s on one node; when given, auto-tuning caps an
        iteration at about 10 s of work (H2O's single-node rule, driven by measurement
        instead of a Linpack estimate).
    comm_seconds, rows_per_second : float, optional
        Multi-node auto-tuning (``n_nodes > 1``, not ``single_node_mode``): the measured
        time of one weight exchange (scatter, task round trip, gather) and the measured
        training rows per second of the whole cluster. An iteration is sized so that
        communication takes ``target_ratio_comm_to_comp`` of the iteration, H2O's
        ``(t_comm / f - t_comm) / time_per_row`` with measured instead of Linpack times.
    target_ratio_comm_to_comp : float, default=0.05

    Returns
    -------
    int
        Rows per iteration, at least 1.
    """
    N = max(1, int(n_rows))
    if tspi == 0:
        return N
    if tspi == -1:
        if replicate and not single_node_mode:
            return N * n_nodes
        return N
    if tspi > 0:
        return int(max(1, min(tspi, math.ceil(epochs * N))))
    multi = n_nodes > 1 and not single_node_mode
    if multi and comm_seconds is not None and rows_per_second:
        # -2 on several nodes: communication should be target_ratio of the iteration
        f = max(float(target_ratio_comm_to_comp), 1e-6)
        t = (comm_seconds / f - comm_seconds) * rows_per_second
        t = min(max(t, 1.0), 10.0 * N * n_nodes)
        if t > N and (t % N) / N < 0.2:
            t = N * math.floor(t / N)
        t = min(t, max(1.0, epochs * N / 10.0))
        return int(max(1, min(round(t), 100_000 * n_nodes)))
    # -2: auto-tune. Single-node rule: min(~10 s of work, epochs*N/10, 100000) rows.
    target = max(1.0, epochs * N / 10.0)
    if rows_per_10s is not None:
        target = min(target, max(1.0, rows_per_10s))
    t = min(target, 10.0 * N * n_nodes)
    if t > N and (t % N) / N < 0.2:
        t = N * math.floor(t / N)
    return int(max(1, min(round(t), 100_000 * n_nodes)))


def adjust_samples_per_iteration(tspi: int, *, comm_seconds: float, iteration_seconds: float,
                                 target_ratio_comm_to_comp: float,
                                 max_rows: float | None = None) -> int:
    """H2O's multi-node correction of the iteration size after an iteration.

    With ``ratio = comm / iteration`` and ``corr = clamp(target / ratio, 0.5, 2)``, the
    iteration size becomes ``tspi / corr`` when ``corr`` is outside ``[0.8, 1.2]``;
    communication under 10 ms is not worth correcting for. ``max_rows`` keeps the
    initial rule's caps (at least ~10 iterations, at most 100,000 rows per node), so a
    tiny frame whose exchange dominates cannot grow its last iteration far past ``epochs``.
    """
    if comm_seconds <= 0.01 or iteration_seconds <= 0:
        return tspi
    ratio = comm_seconds / iteration_seconds
    corr = min(2.0, max(0.5, float(target_ratio_comm_to_comp) / ratio))
    if corr < 0.8 or corr > 1.2:
        tspi = int(round(tspi / corr))
    if max_rows is not None:
        tspi = min(tspi, int(max_rows))
    return max(1, tspi)


@dataclass
class ScoringSchedule:
    """When to score (H2O's scoring schedule).

    Score at the end of training, at every iteration when ``score_each_iteration``, and
    otherwise when more than ``score_interval`` seconds passed since the last scoring
    started *and* the time spent scoring stays below ``score_duty_cycle`` of the time
    since then. The first iteration is always scored.
    """

    score_interval: float = 5.0
    score_duty_cycle: float = 0.1
    score_each_iteration: bool = False
    last_start: float | None = None
    last_duration: float = 0.0
    total_scoring: float = field(default=0.0)

    def due(self, now: float, *, final: bool) -> bool:
        """Whether to score now."""
        if final or self.score_each_iteration or self.last_start is None:
            return True
        since = now - self.last_start
        return since > self.score_interval and self.last_duration / since < self.score_duty_cycle

    def record(self, start: float, end: float) -> None:
        """Remember a scoring event that ran from ``start`` to ``end``."""
        self.last_start = start
        self.last_duration = end - start
        self.total_scoring += end - start


def stop_early(
    values: Sequence[float],
    *,
    stopping_rounds: int,
    stopping_metric: str,
    stopping_tolerance: float,
) -> bool:
    """H2O's moving-average early-stopping rule (``ScoreKeeper.stopEarly``).

    The function form of :meth:`dask_deeplearn.training.stopping.StoppingRule.should_stop`.

    Parameters
    ----------
    values : sequence of float
        The stopping metric at each scoring event, oldest first, *excluding* the first
        history row (H2O skips it as not conservative).
    stopping_rounds : int
        Window ``k``; 0 disables.
    stopping_metric : str
        Canonical metric name (decides the direction).
    stopping_tolerance : float
        Relative improvement required.

    Returns
    -------
    bool
        True when the last ``k`` moving averages show no sufficient improvement over the
        reference average.
    """
    return StoppingRule(stopping_metric, int(stopping_rounds),
                        float(stopping_tolerance)).should_stop(values)
