"""The search strategies: which candidates are trained, in which order, for how long.

:class:`SearchRun` is what one search builds (its candidates, failed fits, halving rungs,
samples and stop reason); :meth:`SearchRun.walk` runs Cartesian and RandomDiscrete,
:meth:`SearchRun.halving` SuccessiveHalving and Hyperband.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

import numpy as np

from ..exceptions import InvalidParameterError
from ..params import PARAMETERS
from ._criteria import SearchCriteria
from ._fitting import _Data, _Task, run_queue
from ._halving import hyperband_brackets, n_survivors
from ._inputs import _is_default
from ._ranking import model_metric, rank, resolve_metric
from ._stopping import GridStopping

#: relative slack when comparing epochs budgets
_EPS = 1e-9


def _combination(hyper: Mapping[str, list[Any]], index: int) -> dict[str, Any]:
    """The ``index``-th combination in ``itertools.product`` order (last name fastest)."""
    out: dict[str, Any] = {}
    for name in reversed(list(hyper)):
        values = hyper[name]
        index, i = divmod(index, len(values))
        out[name] = values[i]
    return {name: out[name] for name in hyper}


def _random_order(total: int, rng: np.random.Generator) -> Iterator[int]:
    """Combination indices at random without replacement (H2O's RandomDiscrete walk)."""
    if total <= 1 << 20:
        for i in rng.permutation(total):
            yield int(i)
        return
    seen: set[int] = set()
    while len(seen) < total:
        i = int(rng.integers(total))
        if i not in seen:
            seen.add(i)
            yield i


@dataclass
class _Candidate:
    """One hyper-parameter combination and the models trained for it."""

    index: int
    model_id: str
    hyper: dict[str, Any]
    params: dict[str, Any]
    bracket: int | None = None
    model: Any = None
    history: list[Any] = field(default_factory=list)
    fit_time: float = 0.0
    rung: int | None = None
    final: bool = False
    failed: bool = False


class SearchRun:
    """What one search builds, and the strategies that build it.

    Parameters
    ----------
    grid_id : str
        Models are named ``"<grid_id>_model_<n>"``.
    hyper : dict of str to list
        The checked hyper-parameters (name -> candidate values).
    criteria : SearchCriteria

    Attributes
    ----------
    candidates : list of _Candidate
        In build order.
    failures : list of dict
        One per failed fit.
    rungs : list of dict
        One per successive-halving rung.
    total_samples : int
        Samples of every fit (a continued fit counts only its new samples).
    stop_reason : str
    """

    def __init__(self, grid_id: str, hyper: dict[str, list[Any]],
                 criteria: SearchCriteria) -> None:
        self.grid_id = grid_id
        self.hyper = hyper
        self.criteria = criteria
        self.candidates: list[_Candidate] = []
        self.failures: list[dict[str, Any]] = []
        self.rungs: list[dict[str, Any]] = []
        self.total_samples = 0
        self.stop_reason = "exhausted"

    def built(self) -> list[_Candidate]:
        """The candidates with a fitted model, in build order."""
        return [c for c in self.candidates if c.model is not None]

    def _new_candidate(self, combo: dict[str, Any], base: Mapping[str, Any],
                       seed: int | None, bracket: int | None = None) -> _Candidate:
        n = len(self.candidates)
        model_id = f"{self.grid_id}_model_{n + 1}"
        params = {**base, **combo, "model_id": model_id}
        if seed is not None:
            params["seed"] = seed + n
        cand = _Candidate(index=n, model_id=model_id, hyper=combo, params=params,
                          bracket=bracket)
        self.candidates.append(cand)
        return cand

    def _record(self, task: _Task, model: Any, exc: BaseException | None, secs: float) -> bool:
        """Book a finished fit on its candidate; return whether it succeeded."""
        c = task.candidate
        c.fit_time += secs
        if exc is not None:
            c.failed = True
            self.failures.append({
                "model_id": c.model_id, **c.hyper, "rung": task.rung,
                "error_type": type(exc).__name__, "error": str(exc), "_exception": exc})
            return False
        # a continued fit (checkpoint=) adds only its new samples
        ckpt = task.params.get("checkpoint") if task.previous is not None else None
        before = 0 if ckpt is None else int(ckpt.state_.processed)
        self.total_samples += int(model.state_.processed) - before
        c.model = model
        c.history.append(model)
        return True

    # Cartesian and RandomDiscrete ----------------------------------------------------
    def walk(self, cls: type, base: dict[str, Any], data: _Data, n_jobs: int,
             start: float) -> None:
        """Train the combinations in order (Cartesian) or at random (RandomDiscrete).

        Parameters
        ----------
        cls : type
            The estimator class every model is built from.
        base : dict
            The base model parameters.
        data : _Data
            How each model is trained.
        n_jobs : int
            Fits at a time.
        start : float
            ``time.monotonic()`` when the search started (``max_runtime_secs``).
        """
        crit, hyper = self.criteria, self.hyper
        total = math.prod(len(v) for v in hyper.values())
        random = crit.strategy == "RandomDiscrete"
        rng = np.random.default_rng(None if crit.seed == -1 else crit.seed)
        order = _random_order(total, rng) if random else iter(range(total))
        deadline = start + crit.max_runtime_secs if crit.max_runtime_secs > 0 else None
        seed = crit.seed if (random and crit.seed != -1
                             and _is_default("seed", base.get("seed", -1))) else None
        built = [0]
        stopping = GridStopping(crit.stopping_rounds, crit.stopping_metric,
                                crit.stopping_tolerance)

        def tasks() -> Iterator[_Task]:
            for idx in order:
                cand = self._new_candidate(_combination(hyper, idx), base, seed)
                if deadline is not None:
                    left = max(deadline - time.monotonic(), 1e-3)
                    own = float(cand.params.get("max_runtime_secs") or 0.0)
                    cand.params["max_runtime_secs"] = min(own, left) if own > 0 else left
                yield _Task(cand, dict(cand.params))

        def can_start(running: int) -> bool:
            if stopping.stopped:
                return False
            if crit.max_models and built[0] + running >= crit.max_models:
                return False
            return deadline is None or time.monotonic() < deadline

        def on_done(task: _Task, model: Any, exc: BaseException | None, secs: float) -> None:
            if not self._record(task, model, exc, secs):
                return
            task.candidate.final = True
            built[0] += 1
            stopping.model_built(model, [c.model for c in self.built()])

        exhausted = run_queue(tasks(), n_jobs, cls, data, can_start, on_done)
        if stopping.stopped:
            self.stop_reason = "early_stopping"
        elif crit.max_models and built[0] >= crit.max_models:
            self.stop_reason = "max_models"
        elif not exhausted and deadline is not None:
            self.stop_reason = "max_runtime_secs"
        else:
            self.stop_reason = "exhausted"

    # SuccessiveHalving and Hyperband -------------------------------------------------
    def halving(self, cls: type, base: dict[str, Any], data: _Data, n_jobs: int) -> None:
        """Run successive halving (one bracket) or Hyperband (several).

        Parameters
        ----------
        cls : type
            The estimator class every model is built from.
        base : dict
            The base model parameters (their ``epochs`` is the default ``max_epochs``).
        data : _Data
            How each model is trained.
        n_jobs : int
            Fits at a time.

        Raises
        ------
        InvalidParameterError
            ``max_epochs`` below ``min_epochs``.
        """
        crit, hyper = self.criteria, self.hyper
        total = math.prod(len(v) for v in hyper.values())
        rng = np.random.default_rng(None if crit.seed == -1 else crit.seed)
        max_epochs = crit.max_epochs
        if max_epochs is None:
            max_epochs = float(base.get("epochs", PARAMETERS["epochs"].default))
        if max_epochs < crit.min_epochs:
            raise InvalidParameterError(
                f"{crit.strategy}: max_epochs={max_epochs!r} (the base model's epochs unless "
                f"search_criteria sets max_epochs) is below min_epochs={crit.min_epochs!r}.")
        seed = crit.seed if (crit.seed != -1
                             and _is_default("seed", base.get("seed", -1))) else None
        if crit.strategy == "SuccessiveHalving":
            if crit.max_candidates and crit.max_candidates < total:
                picks = sorted(int(i) for i in rng.choice(total, crit.max_candidates,
                                                          replace=False))
            else:
                picks = list(range(total))
            brackets: list[tuple[list[int], float, int]] = [(picks, crit.min_epochs, 0)]
        else:
            brackets = []
            for b, (n, r0) in enumerate(hyperband_brackets(crit.min_epochs, max_epochs, crit.eta)):
                picks = sorted(int(i) for i in rng.choice(total, min(n, total), replace=False))
                brackets.append((picks, r0, b))
        for picks, r0, bracket in brackets:
            cands = [self._new_candidate(_combination(hyper, i), base, seed, bracket)
                     for i in picks]
            self._halve(cands, r0, max_epochs, cls, data, n_jobs)
        self.stop_reason = "halving_done"

    def _halve(self, cands: list[_Candidate], budget: float, max_epochs: float, cls: type,
               data: _Data, n_jobs: int) -> None:
        """One successive-halving run; survivors continue from their own models."""
        crit = self.criteria
        alive = cands
        rung = 0
        while alive:
            tasks = []
            for c in alive:
                prev = c.model
                if prev is not None and float(prev.epochs_) >= budget * (1 - _EPS):
                    continue  # its last fit already overshot this budget
                params = {**c.params, "epochs": float(budget)}
                if prev is not None:
                    params["checkpoint"] = prev
                tasks.append(_Task(c, params, prev, rung))

            def on_done(task: _Task, model: Any, exc: BaseException | None, secs: float) -> None:
                self._record(task, model, exc, secs)

            run_queue(tasks, n_jobs, cls, data, lambda _: True, on_done)
            ok = [c for c in alive if not c.failed]
            for c in ok:
                c.rung = rung
            metric = resolve_metric(crit.stopping_metric, ok[0].model if ok else None)
            ranked = rank(ok, metric)
            last = not ok or budget >= max_epochs * (1 - _EPS)
            kept = ranked if last else ranked[:n_survivors(len(ok), crit.eta)]
            if last:
                for c in ok:
                    c.final = True
            self.rungs.append({
                "bracket": cands[0].bracket, "rung": rung, "epochs": float(budget),
                "n_candidates": len(alive), "n_trained": len(tasks),
                "candidates": [c.model_id for c in alive], "kept": [c.model_id for c in kept],
                "metric": metric,
                "values": {c.model_id: model_metric(c.model, metric) for c in ok}})
            if last:
                return
            alive = kept
            rung += 1
            budget = max_epochs if len(kept) == 1 else min(budget * crit.eta, max_epochs)
