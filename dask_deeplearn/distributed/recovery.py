"""Losing workers during a fit: detecting it, re-planning around it, retrying.

The driver keeps the last averaged model, so an iteration interrupted by a lost worker is
re-planned (the lost worker's blocks are recomputed from their lineage on a survivor) and
retried from that model; when no worker is left, :class:`ClusterLostError` ends the fit
and the loop keeps the model of the last finished iteration.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import CancelledError
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Callable

from distributed import Future
from distributed.comm.core import CommClosedError
from distributed.scheduler import KilledWorker

from . import tasks

__all__ = ["ClusterLostError", "RecoveryMixin", "SchedulerLostError", "WorkerLostError", "gather",
           "retry_after_loss", "settle"]

logger = logging.getLogger("dask_deeplearn")


class ClusterLostError(RuntimeError):
    """Every worker left the cluster during a fit.

    The training loop reads :attr:`stop_reason`: the kept model's ``stop_reason_`` and the
    ``status`` of its scoring history's last row.
    """

    #: how the kept model's stop reason and scoring history name the interruption
    stop_reason = "interrupted: every worker lost"


class SchedulerLostError(ClusterLostError):
    """The fit's client lost its connection to the Dask scheduler during a fit."""

    stop_reason = "interrupted: scheduler lost"


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


def _live(client: Any) -> dict[str, dict[str, Any]]:
    from .session import training_workers

    return training_workers(client, wait=False)


def retry_after_loss(client: Any, exc: Exception, attempt: int,
                     workers: Callable[..., dict] | None = None) -> None:
    """Return when a failed attempt at a cluster step is to be retried after a lost worker.

    Raises :class:`SchedulerLostError` when the scheduler is gone and
    :class:`ClusterLostError` when no worker is left; re-raises ``exc`` when it is not a
    lost worker or the attempts are used up. ``workers(wait=False)`` gives the live
    workers (default: :func:`~.session.training_workers`).
    """
    if scheduler_lost(client):
        raise _scheduler_gone(client) from exc
    alive = workers(wait=False) if workers is not None else _live(client)
    if not alive:
        raise (_scheduler_gone(client) if scheduler_lost(client) else _all_lost()) from exc
    if not isinstance(exc, _LOSS_ERRORS) or attempt == _RETRIES:
        raise exc


def _check(client: Any, futs: list[Future], targets: list[str] | None,
           workers: Callable[..., dict] | None) -> None:
    """Raise (cancelling ``futs``) when the scheduler, every worker or a target is gone."""
    if scheduler_lost(client):
        raise _scheduler_gone(client)
    alive = workers(wait=False) if workers is not None else _live(client)
    gone = sorted({t for t in targets or () if t not in alive})
    if not alive or gone:
        for f in futs:
            f.cancel()
        if not alive:
            raise _scheduler_gone(client) if scheduler_lost(client) else _all_lost()
        raise WorkerLostError(f"worker(s) {gone} left the cluster")


def settle(client: Any, futs: list[Future], targets: list[str] | None = None,
           workers: Callable[..., dict] | None = None) -> None:
    """Wait for ``futs`` (results stay on the workers), watching their workers.

    Tasks pinned strictly to a worker (``allow_other_workers=False``: Dask's work
    stealing would otherwise move a whole data block to an idle worker) wait forever
    in Dask when that worker dies, and so would any task once no worker is left; the
    driver notices instead and raises :class:`WorkerLostError` (re-planned and retried)
    or :class:`ClusterLostError`. A task's own error is re-raised.

    Parameters
    ----------
    client : distributed.Client
    futs : list of Future
    targets : list of str, optional
        The workers the tasks are pinned to.
    workers : callable, optional
        ``workers(wait=False)``: the live workers (default:
        :func:`~.session.training_workers`).
    """
    pending = [f for f in futs if not f.done()]
    while pending:
        try:
            # wakes as soon as the task ends (no polling latency); at most every second
            # the driver looks at the cluster instead
            if pending[-1].exception(timeout=_HEALTH_CHECK) is not None:
                pending[-1].result()  # the task's own error, at once
        except TimeoutError:
            _check(client, futs, targets, workers)
        pending = [f for f in pending if not f.done()]
    _wait(futs)


def gather(client: Any, futs: list[Future], targets: list[str] | None = None,
           workers: Callable[..., dict] | None = None) -> list[Any]:
    """:func:`settle`, then the (small) results: models, metric partials.

    The fetch is watched as well: a worker lost after its task finished and before
    its result arrives makes Dask recompute the task, which a strictly pinned task
    would wait for forever.
    """
    settle(client, futs, targets, workers)
    fetch = asyncio.run_coroutine_threadsafe(
        client.gather(futs, asynchronous=True), client.loop.asyncio_loop)
    while True:
        try:
            return fetch.result(timeout=1.0)
        except FutureTimeout:
            try:
                _check(client, futs, targets, workers)
            except BaseException:
                fetch.cancel()
                raise


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
    params: dict[str, Any]
    name: str
    n_rows: int
    _iteration: int
    _local: dict[str, Future]
    _sent: Any
    _seen: set[str]

    def _gone(self) -> ClusterLostError:
        """The error for a cluster found empty: the scheduler's loss when that is the cause
        (a call to a lost scheduler waits for the client to give up, then finds no one)."""
        return _scheduler_gone(self.client) if scheduler_lost(self.client) else _all_lost()

    def _lost(self, exc: Exception, attempt: int, what: str) -> None:
        """Decide whether a failed attempt at a cluster step is retried after a lost worker.

        See :func:`retry_after_loss`; a retried loss is recorded in the fit's events.
        """
        retry_after_loss(self.client, exc, attempt, self._workers)
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
        """:func:`settle` on the fit's client."""
        settle(self.client, futs, targets, self._workers)

    def _gather(self, futs: list[Future], targets: list[str] | None = None) -> list[Any]:
        """:func:`gather` on the fit's client."""
        return gather(self.client, futs, targets, self._workers)

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
        """Use workers that joined mid-training, from this iteration on.

        With replication each gets a full copy of the data. Without it, and with
        ``force_load_balance`` (H2O's default), each gets an even share of the rows: the
        most loaded workers cut rows off the end of their blocks where they are, and only
        those rows move. With both off (or ``reproducible``, or too few rows to share) a
        joining worker stays idle: using it would move rows nobody asked to move.

        When moving the data fails (a joined worker lost while it gets its copy), the plan
        stays as it was and the joined workers are tried again next iteration.
        """
        share = not self.replicate and bool(self.params["force_load_balance"]) \
            and self.n_rows // (len(self.prepared) + len(joined)) > 0
        if self.single or not self.prepared or not (self.replicate or share):
            why = ("one node trains (reproducible or single_node_mode)" if self.single
                   else "replicate_training_data and force_load_balance are off"
                   if not self.params["force_load_balance"] else "too few rows to share")
            self.events.append(f"iteration {self._iteration}: worker(s) {joined} joined; "
                               f"not used ({why}: their data would have to be moved)")
            logger.info("dask_deeplearn: worker(s) %s joined; not used by this fit (%s)",
                        joined, why)
            return
        try:
            prepared, rows = (self._replicas(joined) if self.replicate
                              else self._rebalanced(joined))
        except ClusterLostError:
            raise
        except Exception as exc:  # noqa: BLE001 - a worker was lost while the data moved
            self._seen.difference_update(joined)
            self.events.append(f"iteration {self._iteration}: worker(s) {joined} joined; "
                               f"not used yet ({type(exc).__name__}: {exc})")
            return
        self.prepared, self.worker_rows = prepared, rows
        for w in joined:
            self.plan[w] = []
            self.nthreads[w] = self._threads(workers[w])
        self.n_nodes = len(self.prepared)
        how = ("a full copy of the data" if self.replicate else
               f"a share of the rows ({', '.join(f'{rows[w]:,}' for w in joined)})")
        self.events.append(f"iteration {self._iteration}: worker(s) {joined} joined; each got "
                           f"{how} and trains from now on")
        logger.info("dask_deeplearn: worker(s) %s joined and train from this iteration", joined)

    def _replicas(self, joined: list[str]) -> tuple[dict[str, Future], dict[str, int]]:
        """A full copy of the training data for each joined worker (replication)."""
        source = next(iter(self.prepared.values()))
        # strict placement: with a loose one the scheduler runs the copy where the source
        # already is, and the new worker would get nothing
        new = {w: self.client.submit(
            tasks.ddl_prepare, w, source, workers=[w], allow_other_workers=False,
            pure=False, key=f"ddl-prepare-{self.name}-joined{self._iteration}-{w}")
            for w in joined}
        self._settle(list(new.values()), joined)
        return {**self.prepared, **new}, {**self.worker_rows, **{w: self.n_rows for w in new}}

    def _rebalanced(self, joined: list[str]) -> tuple[dict[str, Future], dict[str, int]]:
        """The prepared blocks with an even share of the rows moved to ``joined``.

        Each joined worker gets ``n_rows // workers`` rows, cut off the end of the blocks
        of the workers holding the most rows beyond that share (a slice made where the
        block is, so only the share crosses); the donors keep the start of their blocks.
        Placed loosely, as the setup's blocks: a block whose worker is lost later is
        recomputed from its lineage on a survivor (a strict task would wait for its worker).
        """
        base = self.n_rows // (len(self.prepared) + len(joined))
        spare = {w: max(0, r - base) for w, r in self.worker_rows.items()}
        keep = dict(self.worker_rows)
        pieces: dict[str, list[tuple[str, int, int]]] = {j: [] for j in joined}
        for j in joined:
            need = base
            for w in sorted(spare, key=lambda d: -spare[d]):
                n = min(need, spare[w])
                if n > 0:
                    pieces[j].append((w, keep[w] - n, keep[w]))
                    keep[w] -= n
                    spare[w] -= n
                    need -= n
        key = f"{self.name}-joined{self._iteration}"
        sub = self.client.submit
        new, changed = dict(self.prepared), []
        for w in self.prepared:
            if keep[w] != self.worker_rows[w]:
                new[w] = sub(tasks.ddl_slice, self.prepared[w], 0, keep[w], workers=[w],
                             allow_other_workers=True, pure=False,
                             key=f"ddl-prepare-{key}-kept-{w}")
                changed.append(w)
        for j, cut in pieces.items():
            parts = [sub(tasks.ddl_slice, self.prepared[w], a, b, workers=[w],
                         allow_other_workers=True, pure=False,
                         key=f"ddl-slice-{key}-{j}-{w}") for w, a, b in cut]
            new[j] = sub(tasks.ddl_prepare, j, *parts, workers=[j], allow_other_workers=True,
                         pure=False, key=f"ddl-prepare-{key}-{j}")
            changed.append(j)
        self._settle([new[w] for w in changed])
        rows = {w: keep.get(w, 0) for w in new}
        rows.update({j: sum(b - a for _, a, b in cut) for j, cut in pieces.items()})
        return new, rows

    def _try_replan(self) -> None:
        """:meth:`_replan`, turning a failure while the last workers die into ClusterLostError."""
        try:
            self._replan()
        except ClusterLostError:
            raise
        except Exception as exc:  # noqa: BLE001 - decided by what is left of the cluster
            time.sleep(0.5)
            if not self._workers(wait=False):
                raise self._gone() from exc
            raise

    def _replan(self) -> None:
        """Re-plan after worker loss: train where the prepared blocks are now.

        With replication the survivors already hold full copies, so lost replicas are just
        dropped. Otherwise Dask recomputes a lost worker's blocks from their lineage on a
        survivor; a worker that ends up holding several prepared blocks gets them merged.
        """
        alive = self._workers(wait=False)
        if not alive:
            raise self._gone()
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
        self._settle(futures)  # lost blocks are recomputed from lineage on the survivors
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
        self._settle(list(new_prepared.values()))
        self.prepared = new_prepared
        self.worker_rows = new_rows
        self.plan = {w: [] for w in new_prepared}
        self.nthreads = {w: self._threads(alive[w]) for w in new_prepared}
        self.n_nodes = len(new_prepared)
        self._local.clear()
