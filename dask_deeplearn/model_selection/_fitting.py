"""Training the models of a search: one fit that never raises, and a queue that runs
``n_jobs`` fits at a time in threads of this process."""

from __future__ import annotations

import concurrent.futures as cf
import contextvars
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

if TYPE_CHECKING:
    from ._strategies import _Candidate


def _is_dask(obj: Any) -> bool:
    return obj is not None and type(obj).__module__.startswith("dask")


@dataclass
class _Task:
    """One fit to run: the candidate it is for, its parameters, the model it continues."""

    candidate: _Candidate
    params: dict[str, Any]
    previous: Any = None
    rung: int | None = None


@dataclass
class _Data:
    """How to train one estimator: H2O ``train`` or scikit-learn ``fit`` arguments."""

    style: str
    kwargs: dict[str, Any]
    client: Any = None

    def run(self, estimator: Any) -> None:
        if self.style == "train":
            estimator.train(**self.kwargs, client=self.client)
        else:
            kw = dict(self.kwargs)
            X, y = kw.pop("X"), kw.pop("y")
            estimator.fit(X, y, client=self.client, **kw)

    def is_dask(self) -> bool:
        values = list(self.kwargs.values())
        vd = self.kwargs.get("validation_data")
        if isinstance(vd, tuple):
            values += list(vd)
        return any(_is_dask(v) for v in values)


def _fit_one(cls: type, params: dict[str, Any],
             data: _Data) -> tuple[Any, BaseException | None, float]:
    """Build and train one estimator; never raises (the error is returned)."""
    start = time.perf_counter()
    try:
        est = cls(**params)
        data.run(est)
        return est, None, time.perf_counter() - start
    except Exception as exc:  # noqa: BLE001 - recorded in the failure table
        return None, exc, time.perf_counter() - start


def run_queue(tasks: Iterable[_Task], n_jobs: int, cls: type, data: _Data,
              can_start: Callable[[int], bool],
              on_done: Callable[[_Task, Any, BaseException | None, float], None]) -> bool:
    """Train tasks, ``n_jobs`` at a time; return whether ``tasks`` ran out.

    ``can_start(n_running)`` is asked before each new task; ``on_done`` runs in this
    thread for each finished task, in completion order.
    """
    it = iter(tasks)
    if n_jobs == 1:
        while can_start(0):
            task = next(it, None)
            if task is None:
                return True
            on_done(task, *_fit_one(cls, task.params, data))
        return False
    exhausted = False
    with cf.ThreadPoolExecutor(max_workers=n_jobs,
                               thread_name_prefix="dask_deeplearn-grid") as pool:
        running: dict[cf.Future, _Task] = {}
        while True:
            while not exhausted and len(running) < n_jobs and can_start(len(running)):
                task = next(it, None)
                if task is None:
                    exhausted = True
                    break
                # in a copy of this context: the fit finds the search's progress bar
                ctx = contextvars.copy_context()
                running[pool.submit(ctx.run, _fit_one, cls, task.params, data)] = task
            if not running:
                return exhausted
            done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            for fut in sorted(done, key=lambda f: running[f].candidate.index):
                on_done(running.pop(fut), *fut.result())
