"""Which cluster a fit runs on, and getting the workers ready for it."""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any, Iterator

import numpy as np
from distributed import Client, LocalCluster, WorkerPlugin

__all__ = ["connect", "current_client", "embedded_cluster", "ensure_warm", "wait_warm", "warm_up",
           "WarmupPlugin"]

logger = logging.getLogger("dask_deeplearn")


def current_client() -> Client | None:
    """The default ``distributed.Client`` of this process, or None."""
    from distributed.client import default_client

    try:
        return default_client()
    except ValueError:
        return None


def embedded_cluster(n_workers: int = 1, threads_per_worker: int | None = None) -> LocalCluster:
    """The LocalCluster a fit starts when no cluster is given.

    One worker process per machine by default, with one thread per core: Hogwild wants
    every thread of a machine updating *one* model in one address space (several
    processes per machine would each hold a model replica and a copy of replicated data).
    Its dashboard serves the live training page (``/dask_deeplearn/``, see
    :mod:`dask_deeplearn.distributed.dashboard`).

    Parameters
    ----------
    n_workers : int, default=1
    threads_per_worker : int, optional
        Defaults to ``cores // n_workers`` (at least 1).
    """
    from ..training.local import available_cores

    if threads_per_worker is None:
        threads_per_worker = max(1, available_cores() // max(1, n_workers))
    import dask

    from .dashboard import dashboard_config

    # the scheduler reads its HTTP routes when it starts
    with dask.config.set(dashboard_config()):
        return LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker,
                            processes=True, dashboard_address=":0")


@contextlib.contextmanager
def connect(client: Client | None = None, scheduler_address: str | None = None) -> Iterator[Client]:
    """Yield the client a fit uses, starting (and afterwards closing) one if needed.

    Order: the ``client`` given; a new client to ``scheduler_address``; the process's
    default client; else an embedded :func:`embedded_cluster` closed on exit.
    """
    if client is not None:
        yield client
        return
    if scheduler_address:
        try:
            c = Client(scheduler_address, set_as_default=False, timeout=30)
        except OSError as exc:
            raise ConnectionError(
                f"Could not connect to the Dask scheduler at scheduler_address="
                f"{scheduler_address!r}: {exc}. Start one with `dask scheduler` or pass a "
                "running client with fit(..., client=client)."
            ) from exc
        try:
            yield c
        finally:
            c.close()
        return
    c = current_client()
    if c is not None:
        yield c
        return
    cluster = embedded_cluster()
    c = Client(cluster, set_as_default=False)
    logger.info("dask_deeplearn started an embedded LocalCluster; dashboard at %s",
                c.dashboard_link)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def warm_up() -> bool:
    """Compile (or load from Numba's cache) both training kernels on a tiny network."""
    from ..kernels import KernelParams, train_partition
    from ..network import NetworkSpec, init_state
    from ..params import PARAMETERS

    p = {name: prm.default for name, prm in PARAMETERS.items()}
    X = np.zeros((4, 2), np.float32)
    y = np.zeros(4, np.float32)
    w = np.ones(4, np.float32)
    for output, dist in (("softmax", "multinomial"), ("linear", "gaussian")):
        units = (2, 2, 2 if output == "softmax" else 1)
        spec = NetworkSpec(units, "Rectifier", output, (0.0,))
        for batch in (1, 2):
            st = init_state(spec, seed=0)
            kp = KernelParams.from_params({**p, "mini_batch_size": batch}, distribution=dist)
            train_partition(st, X, y, None, None, 4, kp, nthreads=1, seed=0)
            train_partition(st, X, y, w, w, 4, kp, nthreads=1, seed=0)
    return True


class WarmupPlugin(WorkerPlugin):
    """Compile the kernels once per worker process, when it starts (not per task).

    In a thread of the worker: the fit goes on with its setup (statistics, blocks) while
    the kernels load; a training task that comes first waits for them
    (:data:`~dask_deeplearn.distributed.tasks.KERNELS_READY`).
    """

    name = "dask_deeplearn-warmup"

    def setup(self, worker: Any) -> None:  # pragma: no cover - runs in worker processes
        from . import tasks

        ready = tasks.KERNELS_READY = threading.Event()
        threading.Thread(target=_warm_up_then, args=(ready,), name="ddl-warmup",
                         daemon=True).start()


def _warm_up_then(ready: threading.Event) -> None:  # pragma: no cover - in worker processes
    try:
        warm_up()
    finally:
        ready.set()


def ensure_warm(client: Client) -> None:
    """Register :class:`WarmupPlugin` unless every worker already runs it.

    Registered plugins also run on workers that join later.
    """
    have = client.run(_has_warmup)
    if not have or not all(have.values()):
        client.register_plugin(WarmupPlugin())


def wait_warm(client: Client, timeout: float = 600.0) -> None:
    """:func:`ensure_warm`, then wait until every worker has loaded the kernels.

    A fit does not wait (its setup runs while the kernels load); this is for measuring a
    fit on warm workers, as a long-lived cluster's are after their first fit: also with
    Dask's DataFrame module imported, which a worker does at its first DataFrame task
    (the user's read or persist; about a second).
    """
    ensure_warm(client)
    client.run(_kernels_loaded, timeout)
    client.run(_dataframes_loaded)


def _dataframes_loaded() -> bool:  # pragma: no cover - runs in worker processes
    # (client.run calls it on the worker's event loop: no task is being unpickled with
    # the same modules meanwhile, which can fail when two threads import them at once)
    import dask.dataframe  # noqa: F401 - imported for its side effect

    return True


def _kernels_loaded(timeout: float) -> bool:  # pragma: no cover - runs in worker processes
    from . import tasks

    ready = tasks.KERNELS_READY
    return ready is None or ready.wait(timeout)


def _has_warmup(dask_worker: Any) -> bool:
    return WarmupPlugin.name in dask_worker.plugins
