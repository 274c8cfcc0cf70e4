"""The training frame of a fit on Dask, read once into the workers' memory.

A fit needs its training data twice: the statistics (scaling, levels, classes) and then the
float32 blocks built with them. :class:`HeldFrame` reads each partition once, on the worker
that holds (or reads) its data, computes the partition's statistics in the same task and
keeps the partition there as a :class:`~.tasks.Part`; the blocks are then transformed from
the kept parts, where they are, and the parts are released. Nothing of the partition is
stored as a pandas task result on the way (a worker measures every result it stores, and a
wide frame's measure walks every column), and the partials come back as small values.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Callable, Sequence

from dask._task_spec import Alias
from distributed import Future

from . import tasks
from .placement import holders_of, memory_inputs, needed_nodes
from .recovery import _RETRIES, gather, retry_after_loss, settle

__all__ = ["HeldFrame", "compute_where_held"]


def _wait_for_inputs(client: Any, frame: Any) -> None:
    """Wait for the in-memory data a frame is computed from (a persist still running).

    Its partitions are then found where they landed. Bounded: with no worker or no
    scheduler left, the fit's own watched waits say what happened.
    """
    from .session import training_workers

    for f in memory_inputs(client, frame).values():
        while not f.done():
            try:
                f.exception(timeout=1.0)
            except TimeoutError:
                if client.status != "running" or not training_workers(client, wait=False):
                    return
            except Exception:  # noqa: BLE001 - the task reading it reports its error
                break


def partition_graph(part: Any, dsk: dict | None = None) -> dict:
    """The tasks computing one partition, with aliases of data in memory taken out.

    A persisted collection's partitions enter every graph built on it through alias tasks
    (``read_parquet-<new token>, i`` -> the persisted key): each would run as a task whose
    result, the whole pandas partition, the worker stores and measures again. The tasks
    that use them read the persisted key directly instead.

    Parameters
    ----------
    part : dask.delayed.Delayed
        One partition (``to_delayed()`` of a collection).
    dsk : dict, optional
        The partition's graph as a dict, when the caller has it already (the partitions
        of one collection share one graph).

    Returns
    -------
    dict
        The graph (keys to tasks, and to the ``Future`` of each in-memory input).
    """
    dsk = dict(part.__dask_graph__()) if dsk is None else dsk
    needed = {k: v for k, v in needed_nodes(dsk, [part.key]).items() if v is not None}
    held = {k: v.target for k, v in needed.items()
            if isinstance(v, Alias) and (v.target not in dsk or isinstance(dsk[v.target], Future))}
    if not held:
        return needed
    return {k: v if isinstance(v, Future) else v.substitute(held)
            for k, v in needed.items() if k not in held}


def compute_where_held(client: Any, collection: Any, alive: Sequence[str], name: str
                       ) -> tuple[list[Future], list[str], list[Any]]:
    """Compute every partition of ``collection`` on the worker holding its inputs.

    A partition computed from data in workers' memory (a persisted or scattered frame,
    its projections, ``assign``, arithmetic) runs on the live worker holding most of
    those inputs, strictly: Dask's work stealing would otherwise move it to an idle
    worker and the rows with it. Other partitions (``read_parquet``, ``from_pandas``
    graphs) are computed wherever Dask schedules them, and stay there. Each partition is
    computed from :func:`partition_graph`, as key ``f"{name}-{i}"`` (Dask's dashboard
    names a fused task after its parts; this names it after the fit's stage).

    Returns
    -------
    futures : list of Future
        One per partition.
    pinned : list of str
        The worker of each pinned partition (to watch while waiting).
    pinned_keys : list
        The keys of the pinned tasks (their restrictions are loosened once computed).
    """
    delayed = collection.to_delayed()
    # (the partitions share one graph: made a dict once, not once per partition)
    graph = dict(delayed[0].__dask_graph__()) if delayed else {}
    where = holders_of(client, delayed, alive, graph)
    futures, pinned, pinned_keys = [], [], []
    for i, (part, w) in enumerate(zip(delayed, where)):
        dsk = partition_graph(part, graph)
        key = f"{name}-{i}"
        dsk[key] = dsk.pop(part.key).substitute({}, key=key)
        if w:
            pinned.append(w)
            pinned_keys.extend(k for k, v in dsk.items() if not isinstance(v, Future))
        futures.append(client.get(dsk, key, sync=False, workers=[w] if w else None,
                                  allow_other_workers=not w))
    return futures, pinned, pinned_keys


def loosen(client: Any, keys: list[Any]) -> None:
    """Once computed, a pinned task may be recomputed on a survivor if its worker is lost
    (see :func:`~.tasks.loosen_restrictions`)."""
    if keys:
        client.run_on_scheduler(tasks.loosen_restrictions, keys=keys)


class HeldFrame:
    """The partitions of a training frame, read once for one fit and kept on the workers.

    Stands in for the Dask frame in the fit's statistics pass
    (:meth:`map_partials`, which ``DataInfo.fit`` calls) and in the backend's setup
    (:attr:`parts`, transformed where they are). Dropping the object releases the parts;
    the blocks built from them stay recomputable from their lineage (the read) if a
    worker is lost.

    Parameters
    ----------
    client : distributed.Client
    frame : dask.dataframe.DataFrame
        The training frame (features, response, weights and offset columns).

    Attributes
    ----------
    columns : list
    dtypes : pandas.Series
    npartitions : int
    parts : list of Future
        The read partitions (:class:`~.tasks.Part`), after :meth:`map_partials`.
    """

    def __init__(self, client: Any, frame: Any) -> None:
        self.client = client
        self.frame = frame
        self.columns = list(frame.columns)
        self.dtypes = frame.dtypes
        self.npartitions = int(frame.npartitions)
        self.name = uuid.uuid4().hex[:8]
        self.parts: list[Future] = []

    def map_partials(self, func: Callable[..., Any], *args: Any, columns: Sequence[Any]
                     ) -> list[Any]:
        """Read every partition's ``columns`` where its data is; ``func(part, *args)`` of each.

        The read is fused with the frame's own graph (column projections, ``assign``,
        ``read_parquet``...): one task per partition computes it, computes ``func`` of it
        and keeps it on that worker. A worker lost meanwhile is survived: the read starts
        over on the remaining workers.

        Returns
        -------
        list
            ``func``'s result for each partition, in order.
        """
        from .session import training_workers

        for attempt in range(_RETRIES + 1):
            try:
                _wait_for_inputs(self.client, self.frame)
                read = self.frame.map_partitions(
                    tasks.ddl_read, list(columns), func, args, meta=("part", object),
                    enforce_metadata=False, align_dataframes=False, token="ddl-read")
                alive = list(training_workers(self.client))
                futures, pinned, keys = compute_where_held(
                    self.client, read, alive, f"ddl-read-{self.name}r{attempt}")
                settle(self.client, futures, pinned)
                loosen(self.client, keys)
                self.parts = futures
                partials = [self.client.submit(
                    tasks.ddl_partial, f, pure=False,
                    key=f"ddl-stats-{self.name}r{attempt}-{i}") for i, f in enumerate(futures)]
                return [tasks.partial_from_bytes(b) for b in gather(self.client, partials)]
            except Exception as exc:
                self.parts = []
                retry_after_loss(self.client, exc, attempt)
                time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover - the last attempt raises

    def release(self) -> None:
        """Drop the read partitions (the fit's blocks are built)."""
        self.parts = []
