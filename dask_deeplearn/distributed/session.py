"""Everything a fit on Dask needs around the backend: the client, warm workers, the lock."""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import pandas as pd
from distributed import Client, MultiLock

from .cluster import connect, ensure_warm

__all__ = ["training_session", "locked_workers", "as_dask", "training_workers",
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
