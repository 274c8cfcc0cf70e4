"""Losing workers during a fit: detecting it, re-planning around it, retrying.

The driver keeps the last averaged model, so an iteration interrupted by a lost worker is
re-planned (the lost worker's blocks are recomputed from their lineage on a survivor) and
retried from that model; when no worker is left, :class:`ClusterLostError` ends the fit
and the loop keeps the model of the last finished iteration.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import CancelledError
from typing import Any

from distributed import Future
from distributed.comm.core import CommClosedError
from distributed.scheduler import KilledWorker

from . import tasks

__all__ = ["ClusterLostError", "RecoveryMixin", "SchedulerLostError", "WorkerLostError"]

logger = logging.getLogger("dask_deeplearn")


class ClusterLostError(RuntimeError):
    """Every worker left the cluster during a fit."""


class SchedulerLostError(ClusterLostError):
    """The fit's client lost its connection to the Dask scheduler during a fit."""


class WorkerLostError(RuntimeError):
    """A worker that a pinned task waits for left the cluster (re-planned and retried)."""


def _all_lost() -> ClusterLostError:
    return ClusterLostError(
        "Every Dask worker left the cluster during training; the model of the last finished "
        "iteration is kept. Restart workers and continue with checkpoint=<this model>."
    )


def scheduler_lost(client: Any) -> bool:
    """Whether ``client`` has lost its scheduler (it is reconnecting, or gave up)."""
    return getattr(client, "status", "running") != "running"


def _scheduler_gone(client: Any) -> SchedulerLostError:
    address = getattr(getattr(client, "scheduler", None), "address", None) or "?"
    return SchedulerLostError(
        f"The Dask scheduler at {address} stopped answering during training (client status "
        f"{getattr(client, 'status', '?')!r}); the model of the last finished iteration is "
        "kept. Restart the cluster and continue with checkpoint=<this model>."
    )


#: seconds between two looks at the cluster while the driver waits for tasks
_HEALTH_CHECK = 1.0

#: how often one iteration is re-planned and retried after losing workers
_RETRIES = 3

#: what a lost worker looks like from the driver during an iteration
_LOSS_ERRORS: tuple[type[BaseException], ...] = (tasks.PlacementError, KilledWorker,
                                                  CancelledError, CommClosedError,
                                                  WorkerLostError)


def _wait(futures: list[Future]) -> None:
    """Wait for ``futures`` without fetching their results; re-raise the first error.

    (``distributed.wait`` looks for the process's *default* client, which a fit on an
    explicitly passed client may not have.)
    """
    for f in futures:
        if f.exception() is not None:
            f.result()


class RecoveryMixin:
    """The re-planning half of :class:`~dask_deeplearn.distributed.backend.DaskBackend`.

    Works on the backend's ``prepared`` blocks, ``worker_rows``, ``plan``, ``nthreads``
    and ``n_nodes``; the backend provides ``_workers`` and ``_threads``.
    """

    client: Any
    events: list[str]
    prepared: dict[str, Future]
    worker_rows: dict[str, int]
    plan: dict[str, list[int]]
    nthreads: dict[str, int]
    n_nodes: int
    replicate: bool
    single: bool
    name: str
    n_rows: int
    _iteration: int
    _local: dict[str, Future]
    _sent: Any

    def _lost(self, exc: Exception, attempt: int, what: str) -> None:
        """Decide whether a failed attempt at a cluster step is retried after a lost worker.

        Re-raises ``exc`` when it is not a lost worker or the attempts are used up, and
        raises :class:`ClusterLostError` when no worker is left; otherwise records the
        loss and pauses (growing with ``attempt``: the scheduler may need a moment to
        notice the loss).
        """
        if scheduler_lost(self.client):
            raise _scheduler_gone(self.client) from exc
        if not self._workers(wait=False):
            raise _all_lost() from exc
        if not isinstance(exc, _LOSS_ERRORS) or attempt == _RETRIES:
            raise exc
        self.events.append(f"iteration {self._iteration}: {type(exc).__name__}: {exc}; {what}")
        logger.warning("dask_deeplearn: %s; re-planning (%s)", exc, what)
        time.sleep(0.5 * (attempt + 1))

    def _set_up(self, train: Any, valid: Any | None) -> None:
        """The backend's ``_setup``, started over on the survivors when a worker is lost.

        Every attempt transforms the original partitions again under fresh task keys (the
        fit's ``name`` gets an attempt suffix), so nothing of a failed attempt is needed.
        """
        base = self.name
        for attempt in range(_RETRIES + 1):
            try:
                self._setup(train, valid)
                return
            except Exception as exc:
                self._lost(exc, attempt, "setup started over on the remaining workers")
                self.name = f"{base}s{attempt + 1}"

    def _recover(self, exc: Exception, attempt: int, what: str) -> None:
        """Handle a failure of one attempt at a cluster step: re-plan around lost workers.

        See :meth:`_lost` for what is re-raised; then re-plans on the remaining workers.
        """
        self._lost(exc, attempt, what)
        self._sent = None  # the model sent to the workers may have died with one
        try:
            self._try_replan()
        except ClusterLostError:
            raise
        except Exception:  # noqa: BLE001 - workers may still be dying: next attempt
            if attempt + 1 == _RETRIES:
                raise

    def _settle(self, futs: list[Future], targets: list[str] | None = None) -> None:
        """Wait for ``futs`` (results stay on the workers), watching their workers.

        Tasks pinned strictly to a worker (``allow_other_workers=False``: Dask's work
        stealing would otherwise move a whole data block to an idle worker) wait forever
        in Dask when that worker dies, and so would any task once no worker is left; the
        driver notices instead and raises :class:`WorkerLostError` (re-planned and retried
        by :meth:`_recover`) or :class:`ClusterLostError`. A task's own error is re-raised.
        """
        pending = [f for f in futs if not f.done()]
        while pending:
            try:
                # wakes as soon as the task ends (no polling latency); at most every second
                # the driver looks at the cluster instead
                if pending[-1].exception(timeout=_HEALTH_CHECK) is not None:
                    pending[-1].result()  # the task's own error, at once
                pending = [f for f in pending if not f.done()]
                continue
            except TimeoutError:
                pass
            if scheduler_lost(self.client):
                raise _scheduler_gone(self.client)
            alive = self._workers(wait=False)
            gone = sorted({t for t in targets or () if t not in alive})
            if not alive or gone:
                for f in futs:
                    f.cancel()
                if not alive:
                    raise _all_lost()
                raise WorkerLostError(f"worker(s) {gone} left the cluster")
            pending = [f for f in pending if not f.done()]
        _wait(futs)

    def _gather(self, futs: list[Future], targets: list[str] | None = None) -> list[Any]:
        """:meth:`_settle`, then the (small) results: models, metric partials."""
        self._settle(futs, targets)
        return self.client.gather(futs)

    def _iterate(self, state: Any, n_samples: int, seed: int, shuffle: bool, label: str,
                 report: bool) -> tuple[list[str], list[Future], list[Any]]:
        """Submit one iteration's tasks and gather them, re-planned and retried from
        ``state`` (the last averaged model, kept here on the driver) when a worker is lost.

        Returns the workers, the futures and the results (trained state, rows, seconds).
        """
        for attempt in range(_RETRIES + 1):
            try:
                addrs, futs = self._submit_iteration(  # type: ignore[attr-defined]
                    state, self._shares(n_samples), seed, shuffle,  # type: ignore[attr-defined]
                    label if attempt == 0 else f"{label}-retry{attempt}", report=report)
                return addrs, futs, self._gather(futs, addrs)
            except Exception as exc:
                self._recover(exc, attempt, "re-planned and retried")
        raise AssertionError("unreachable")  # pragma: no cover - _recover raises at the end

    def _adopt(self, joined: list[str], workers: dict[str, dict[str, Any]]) -> None:
        """Use workers that joined mid-training: with replication they get a full copy."""
        if not self.replicate or self.single or not self.prepared:
            self.events.append(f"iteration {self._iteration}: worker(s) {joined} joined; "
                               "not used (their data would have to be moved)")
            logger.info("dask_deeplearn: worker(s) %s joined; not used by this fit "
                        "(replicate_training_data is off)", joined)
            return
        source = next(iter(self.prepared.values()))
        for w in joined:
            # strict placement: with a loose one the scheduler runs the copy where the
            # source already is, and the new worker would get nothing
            self.prepared[w] = self.client.submit(
                tasks.ddl_prepare, w, source, workers=[w], allow_other_workers=False,
                pure=False, key=f"ddl-prepare-{self.name}-joined{self._iteration}-{w}")
            self.worker_rows[w] = self.n_rows
            self.plan[w] = []
            self.nthreads[w] = self._threads(workers[w])
        _wait([self.prepared[w] for w in joined])
        self.n_nodes = len(self.prepared)
        self.events.append(f"iteration {self._iteration}: worker(s) {joined} joined; each got "
                           "a full copy of the data and trains from now on")
        logger.info("dask_deeplearn: worker(s) %s joined and train from this iteration", joined)

    def _try_replan(self) -> None:
        """:meth:`_replan`, turning a failure while the last workers die into ClusterLostError."""
        try:
            self._replan()
        except ClusterLostError:
            raise
        except Exception as exc:  # noqa: BLE001 - decided by what is left of the cluster
            time.sleep(0.5)
            if not self._workers(wait=False):
                raise _all_lost() from exc
            raise

    def _replan(self) -> None:
        """Re-plan after worker loss: train where the prepared blocks are now.

        With replication the survivors already hold full copies, so lost replicas are just
        dropped. Otherwise Dask recomputes a lost worker's blocks from their lineage on a
        survivor; a worker that ends up holding several prepared blocks gets them merged.
        """
        alive = self._workers(wait=False)
        if not alive:
            raise _all_lost()
        prepared = dict(self.prepared)
        rows = dict(self.worker_rows)
        if self.replicate:
            survivors = {w: f for w, f in prepared.items() if w in alive}
            if survivors:
                prepared = survivors
            else:
                first = next(iter(prepared))
                prepared = {first: prepared[first]}
        futures = list(prepared.values())
        _wait(futures)  # lost blocks are recomputed from lineage on the survivors
        who = self.client.who_has(futures)
        groups: dict[str, list[str]] = {}
        for w, f in prepared.items():
            holders = [h for h in (who.get(f.key) or ()) if h in alive]
            # a block may have been copied to another worker by a misplaced task: keep it
            # where it was planned when that worker still holds it
            target = w if w in holders else (holders[0] if holders else next(iter(alive)))
            groups.setdefault(target, []).append(w)
        new_prepared: dict[str, Future] = {}
        new_rows: dict[str, int] = {}
        for holder, olds in groups.items():
            if self.replicate:
                new_prepared[holder], new_rows[holder] = prepared[olds[0]], rows[olds[0]]
                continue
            if len(olds) == 1:
                new_prepared[holder] = prepared[olds[0]]
            else:
                new_prepared[holder] = self.client.submit(
                    tasks.ddl_prepare, holder, *[prepared[o] for o in olds], workers=[holder],
                    allow_other_workers=True, pure=False,
                    key=f"ddl-prepare-{self.name}-replan{self._iteration}-{len(new_prepared)}")
            new_rows[holder] = int(sum(rows[o] for o in olds))
        _wait(list(new_prepared.values()))
        self.prepared = new_prepared
        self.worker_rows = new_rows
        self.plan = {w: [] for w in new_prepared}
        self.nthreads = {w: self._threads(alive[w]) for w in new_prepared}
        self.n_nodes = len(new_prepared)
        self._local.clear()
