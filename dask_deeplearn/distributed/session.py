"""Everything a fit on Dask needs around the backend: the client, warm workers, the lock."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import pandas as pd
from distributed import Client, MultiLock

from .cluster import connect, ensure_warm
from .placement import memory_inputs

__all__ = ["training_session", "locked_workers", "as_dask", "read_once", "training_workers",
           "worker_addresses"]


@contextlib.contextmanager
def training_session(client: Client | None = None,
                     scheduler_address: str | None = None) -> Iterator[Client]:
    """Connect (see :func:`connect`) and warm the kernels on the workers.

    Computations of the fit pass this client explicitly (``scheduler=client``):
    ``Client.as_current`` sets Dask's *global* configuration, which two fits running in
    threads would leave in a wrong state.
    """
    with connect(client, scheduler_address) as c:
        ensure_warm(c)
        yield c


def training_workers(client: Client, *, wait: bool = True) -> dict[str, dict[str, Any]]:
    """The workers with at least one thread, by address (sorted), with their scheduler info.

    With ``wait``, an empty cluster is given up to 60 s for a first worker to join.
    """
    info = _workers_now(client)
    if not info and wait:
        client.wait_for_workers(1, timeout=60)
        info = _workers_now(client)
    return {a: w for a, w in sorted(info.items()) if w.get("nthreads", 0) > 0}


def _workers_now(client: Client) -> dict[str, dict[str, Any]]:
    """The scheduler's workers, asked now.

    (``Client.scheduler_info`` returns the client's cached copy, which the client's own
    periodic refresh may overwrite meanwhile with a copy listing no worker at all.)
    """
    if client.asynchronous:  # pragma: no cover - fits run synchronous clients
        return client.scheduler_info(n_workers=-1)["workers"]
    return dict(client.sync(client.scheduler.identity, n_workers=-1)["workers"])


def worker_addresses(client: Client) -> list[str]:
    """Addresses of the workers with at least one thread, sorted."""
    return list(training_workers(client))


@contextlib.contextmanager
def locked_workers(client: Client, timeout: float | None = None) -> Iterator[list[str]]:
    """Hold one lock per worker for a whole fit, so two fits never interleave iterations.

    A ``distributed.MultiLock`` over ``dask_deeplearn:<worker address>`` names, as
    xgboost.dask does: a second fit on the same workers waits for the first.
    """
    workers = worker_addresses(client)
    lock = MultiLock(names=[f"dask_deeplearn:{w}" for w in workers], client=client)
    if not lock.acquire(timeout=timeout):
        raise TimeoutError(
            f"Could not lock the workers {workers} within {timeout} s: another "
            "dask_deeplearn fit is training on them."
        )
    try:
        yield workers
    finally:
        # a lost scheduler took the locks with it (and a release would wait for the client
        # to give up reconnecting: its whole connection timeout)
        if client.status == "running":
            try:
                lock.release()
            except Exception:  # noqa: BLE001 - lost while releasing
                if client.status == "running":
                    raise


def as_dask(frame: Any, client: Client) -> Any:
    """A Dask DataFrame of ``frame`` (pandas frames get one partition per worker)."""
    if frame is None or not isinstance(frame, pd.DataFrame):
        return frame
    import dask.dataframe as dd

    n = max(1, len(worker_addresses(client)))
    return dd.from_pandas(frame, npartitions=min(n, max(1, len(frame))), sort=False)


def read_once(frame: Any, client: Client) -> Any:
    """``frame``, computed once for a fit that reads it twice (statistics, then blocks).

    A frame whose partitions are not in the workers' memory (``read_parquet``, a graph
    from pandas or arithmetic on them) is persisted: the fit's statistics pass computes
    it, and the blocks are then built from the partitions where they landed, instead of
    reading the files a second time. The fit drops the persisted partitions once its
    blocks are built (they stay recomputable from their lineage if a worker is lost).
    A frame computed from data already in memory (a persisted or scattered frame, its
    projections such as ``ddf.drop(columns=...)``) is returned as it is: recomputing a
    projection where its data lives is cheap and keeps the rows where they are. A persist
    still running is waited for, so that its partitions are found where they are. The
    persisted partitions are named ``ddl-read-...`` (the user's graph fused into them), so
    the dashboard shows the read as a stage of the fit.

    Parameters
    ----------
    frame : dask.dataframe.DataFrame or None
    client : distributed.Client

    Returns
    -------
    dask.dataframe.DataFrame or None
    """
    if frame is None or not hasattr(frame, "__dask_graph__"):
        return frame
    held = memory_inputs(client, frame)
    if held:
        for f in held.values():  # a persist still running: its partitions are then found in memory
            while not f.done():
                try:
                    f.exception(timeout=1.0)
                except TimeoutError:
                    # (bounded: with no worker or no scheduler left the fit's own watched
                    # waits say what happened)
                    if client.status != "running" or not training_workers(client, wait=False):
                        return frame
                except Exception:  # noqa: BLE001 - the task reading it reports its error
                    break
        return frame
    from .tasks import ddl_value

    return client.persist(frame.map_partitions(ddl_value, meta=frame._meta,
                                               enforce_metadata=False, token="ddl-read"))
