"""A real Dask cluster of processes on 127.0.0.1 and a worker plugin that kills its worker.

Shared by the worker-loss benchmark (``benchmarks/bench_worker_loss.py``) and the cluster
tests (``tests/integration/test_cluster.py``); it lives here, outside the package, so
``dask_deeplearn`` carries no test tooling.

:class:`RealCluster` starts a ``dask scheduler`` and ``dask worker --nthreads 1`` processes.
The workers run without a nanny, so a worker killed by its pid stays dead (a nanny would
restart it). :class:`DieAt` SIGKILLs its own worker process from inside the first task of
a chosen key prefix: a worker death at a fixed point of a fit, independent of the
machine's speed.

The worker processes get this checkout on their ``PYTHONPATH``, so they import
``benchmarks.process_cluster`` (to unpickle :class:`DieAt`) and ``dask_deeplearn`` from it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import distributed

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DASK = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
WORKER = [sys.executable, "-m", "distributed.cli.dask_worker"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RealCluster:
    """A scheduler and worker processes, torn down by :meth:`close` even after a failure.

    Parameters
    ----------
    n_workers : int
        Worker processes to start (``--nthreads 1``, ``--memory-limit 2GiB``, no nanny),
        named ``w0``, ``w1``, ...; the constructor returns once all have joined.
    tmp_path : pathlib.Path
        Directory for ``cluster.log`` (every process's output) and the workers' local
        directories.

    Attributes
    ----------
    procs : list of subprocess.Popen
        The scheduler first, then the workers in the order they were started.
    address : str
        The scheduler's address, ``tcp://127.0.0.1:<port>``.
    client : distributed.Client
        A client connected to the scheduler (not set as the default client).
    """

    def __init__(self, n_workers: int, tmp_path: Path, nanny: bool = False) -> None:
        self.procs: list[subprocess.Popen] = []
        self.nodes: dict[str, subprocess.Popen] = {}
        port = free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])}
        tmp_path = Path(tmp_path)
        self._log = open(tmp_path / "cluster.log", "w")
        log = self._log

        def spawn(name: str) -> None:
            proc = subprocess.Popen(
                WORKER + [self.address, "--nthreads", "1", "--memory-limit", "2GiB",
                          *(() if nanny else ("--no-nanny",)), "--dashboard-address", ":0",
                          "--name", name, "--local-directory", str(tmp_path / name)],
                stdout=log, stderr=log, env=env, start_new_session=nanny)
            self.procs.append(proc)
            if nanny:
                self.nodes[name] = proc

        self._spawn = spawn
        self.procs.append(subprocess.Popen(
            DASK + ["--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"],
            stdout=log, stderr=log, env=env))
        try:
            for i in range(n_workers):
                self._spawn(f"w{i}")
            self.client = distributed.Client(self.address, timeout=60, set_as_default=False)
            self.client.wait_for_workers(n_workers, timeout=120)
        except BaseException:
            self._stop()
            raise

    def add_worker(self, name: str) -> None:
        """Start one more worker named ``name`` and wait until it has joined."""
        n = len(self.client.scheduler_info(n_workers=-1)["workers"])
        self._spawn(name)
        self.client.wait_for_workers(n + 1, timeout=120)

    def worker_pids(self) -> dict[str, int]:
        """The process id of every live worker, by worker address."""
        return self.client.run(os.getpid)

    def close(self) -> None:
        """Close the client, kill every process still running and wait for them."""
        try:
            self.client.close(timeout=10)
        except Exception:  # noqa: BLE001 - best effort at teardown
            pass
        self._stop()

    def _stop(self) -> None:
        for p in self.procs:
            if p in self.nodes.values():
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)  # the nanny and its worker
            elif p.poll() is None:
                p.kill()
        for p in self.procs:
            p.wait(timeout=30)
        self._log.close()


class DieAt(distributed.WorkerPlugin):
    """Kills a process (SIGKILL) the moment a task whose key contains ``prefix`` starts
    executing on the worker named ``victim`` (on every worker when None): a death at a
    fixed point of the fit, independent of the machine's speed.

    What dies: the worker process itself; with ``node``, the worker and its nanny (the
    process group the nanny leads: a whole node, nothing restarts it); with ``pid``, that
    process instead (the scheduler, or another worker), once. With ``stamp``, the time of
    the kill is written there first. ``skip``: the first ``skip`` such tasks on the victim
    run untouched.

    ``on="memory"`` triggers when a key with ``prefix`` arrives in the victim's memory
    instead (a task's result, or data scattered or copied to it); with ``pid`` the
    process of another worker, that worker dies while the data is being sent to both.

    Parameters
    ----------
    victim : str or None
        The worker's name (``--name``), e.g. ``"w0"``.
    prefix : str
        A substring of the task key, e.g. ``"ddl-train-3-"``.
    """

    def __init__(self, victim: str | None, prefix: str, *, node: bool = False,
                 pid: int | None = None, stamp: str | None = None,
                 skip: int = 0, on: str = "executing") -> None:
        if on not in ("executing", "memory"):
            raise ValueError(f"on must be 'executing' or 'memory', got {on!r}")
        self.victim, self.prefix, self.name = victim, prefix, None
        self.node, self.pid, self.stamp, self.skip, self.on = node, pid, stamp, skip, on

    def setup(self, worker) -> None:
        self.name = worker.name

    def transition(self, key, start, finish, **kwargs) -> None:
        if (self.victim in (None, self.name) and finish == self.on
                and self.prefix is not None and self.prefix in str(key)):
            self.skip -= 1
            if self.skip >= 0:
                return
            if self.stamp is not None:
                with open(self.stamp, "w") as f:
                    f.write(repr(time.time()))
            if self.pid is not None:
                self.prefix = None  # (once: the victim's later tasks run untouched)
                os.kill(self.pid, signal.SIGKILL)
                return
            if self.node:
                assert os.getpgid(0) == os.getppid()  # the nanny leads this process group
                os.killpg(os.getpgid(0), signal.SIGKILL)
            os.kill(os.getpid(), signal.SIGKILL)
