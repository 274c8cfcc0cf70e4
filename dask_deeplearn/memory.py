"""Memory guards: what a network needs before it is allocated, and row chunks for scoring.

numpy only (plus ``psutil`` when installed, as it is with ``distributed``).

A fit allocates its network once its inputs are known (:func:`check_network_memory` runs
just before): weights and biases in float32 with two optimiser slots each, the copies the
training loop keeps (the last finite model of an iteration, the best model when
``overwrite_with_best_model``), the mini-batch kernel's gradient buffers, and the float64
weights that scoring widens. Scoring then runs in row chunks (:func:`scoring_rows`) whose
per-layer buffers stay near :data:`SCORING_BYTES`, so a wide layer no longer makes a
``rows x units`` float64 matrix.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

from .exceptions import InvalidParameterError

__all__ = ["SCORING_BYTES", "BYTES_PER_PARAMETER", "available_memory", "dense_scoring_rows",
           "layer_widths", "network_memory", "scoring_rows", "check_network_memory"]

#: float64 bytes of one scoring chunk's layer buffers (the chunk holds fewer rows when the
#: network is wide; at least one row)
SCORING_BYTES = 64 * 2**20

#: rows of the blocks a chunk is made of, when at least one block fits the budget
ALIGN_ROWS = 128

#: bytes per weight or bias while training and scoring in one process: the model
#: (float32 value + 2 optimiser slots = 12), the loop's last-finite copy (12) and best-model
#: copy (12), and the float64 weights of the dense and the fused scorer (8 + 8)
BYTES_PER_PARAMETER = 52


def _cgroup_available() -> int | None:
    """Room left under this process's cgroup (v2 or v1) memory limit, or None."""
    for limit_file, usage_file in (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                                   ("/sys/fs/cgroup/memory/memory.limit_in_bytes",
                                    "/sys/fs/cgroup/memory/memory.usage_in_bytes")):
        try:
            with open(limit_file) as f:
                raw = f.read().strip()
            if raw == "max":
                return None
            limit = int(raw)
            with open(usage_file) as f:
                usage = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if limit >= 2**60:  # v1's "no limit"
            return None
        return max(0, limit - usage)
    return None


def _address_space_available() -> int | None:
    """Room left under ``ulimit -v`` (``RLIMIT_AS``), or None when unlimited."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY or soft < 0:
            return None
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[0])
        return max(0, int(soft) - pages * os.sysconf("SC_PAGE_SIZE"))
    except (ImportError, OSError, ValueError, AttributeError):  # pragma: no cover - not Linux
        return None


def available_memory() -> int:
    """Bytes this process can still allocate: the least of the machine's available memory
    (``psutil``; free pages without it), the room under a cgroup memory limit and the room
    under ``ulimit -v``."""
    try:
        import psutil

        room = int(psutil.virtual_memory().available)
    except ImportError:  # pragma: no cover - psutil comes with distributed
        try:
            room = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES"))
        except (AttributeError, ValueError, OSError):
            room = 16 * 2**30
    for other in (_cgroup_available(), _address_space_available()):
        if other is not None:
            room = min(room, other)
    return room


def layer_widths(spec: Any) -> list[int]:
    """Widths of every layer's pre-activation (``units[l + 1] * k[l]``) of a NetworkSpec."""
    return [int(spec.units[l + 1]) * int(spec.k[l]) for l in range(len(spec.units) - 1)]


def network_memory(spec: Any, *, mini_batch_size: int = 1, nthreads: int = 1) -> int:
    """Bytes that training and scoring a network of ``spec`` need in one process.

    Parameters
    ----------
    spec : NetworkSpec
    mini_batch_size : int, default=1
        Rows per update; above 1 every training thread keeps a float32 gradient of every
        weight and batch-sized activation buffers.
    nthreads : int, default=1
        Training threads (each has its own buffers).

    Returns
    -------
    int
        :data:`BYTES_PER_PARAMETER` per weight and bias, the training threads' buffers and
        one scoring chunk (:data:`SCORING_BYTES`, or one row of a wider network).
    """
    params = int(spec.n_weights) + int(spec.n_biases)
    widths = layer_widths(spec)
    per_row = 4 * (int(spec.units[0]) + sum(widths))
    batch = max(1, int(mini_batch_size))
    # per thread: activations, errors, masks of one row; with mini-batches also the weight
    # gradients and about eight batch x width float32 buffers
    thread = 4 * per_row if batch == 1 else 4 * int(spec.n_weights) + 8 * batch * per_row
    scoring = max(SCORING_BYTES, 8 * (int(spec.units[0]) + 2 * sum(widths)))
    return BYTES_PER_PARAMETER * params + max(1, int(nthreads)) * thread + scoring


def scoring_rows(widths: Sequence[int], n_rows: int, *, budget: int | None = None) -> int:
    """Rows per scoring chunk: as many as keep ``8 * rows * sum(widths)`` within ``budget``.

    Parameters
    ----------
    widths : sequence of int
        Float64 values kept per row (the widths of the layer buffers of one pass).
    n_rows : int
        Rows to score.
    budget : int, optional
        Bytes; default :data:`SCORING_BYTES` (read at each call).

    Returns
    -------
    int
        Between 1 and ``max(1, n_rows)``; ``n_rows`` (one chunk) when they all fit, else a
        multiple of :data:`ALIGN_ROWS` when at least that many fit.
    """
    per_row = 8 * max(1, int(sum(int(w) for w in widths)))
    budget = SCORING_BYTES if budget is None else int(budget)
    rows = budget // per_row
    if rows < n_rows and rows >= ALIGN_ROWS:
        # BLAS chooses its kernel by matrix size: chunks of whole ALIGN_ROWS blocks give
        # each row the same bits as one pass (narrower chunks agree to float64 rounding)
        rows -= rows % ALIGN_ROWS
    return max(1, min(max(1, int(n_rows)), rows))


def dense_scoring_rows(spec: Any, n_rows: int) -> int:
    """Rows per chunk of the dense forward pass (``network.forward``) of ``spec``: its
    float64 inputs, every layer's pre-activation and activation per row."""
    return scoring_rows([int(u) for u in spec.units] + layer_widths(spec), n_rows)


def _gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB" if n >= 2**28 else f"{n / 2**20:,.0f} MiB"


def check_network_memory(spec: Any, hidden: Sequence[int], *, mini_batch_size: int = 1,
                         nthreads: int = 1, client: Any = None) -> None:
    """Refuse a network that cannot fit in memory, before anything is allocated.

    Checks this process (the model, its copies and scoring) and, with a Dask ``client``,
    every worker that has a memory limit (each trains and scores its own copy).

    Parameters
    ----------
    spec : NetworkSpec
        The network about to be initialised.
    hidden : sequence of int
        The ``hidden`` parameter (named in the error).
    mini_batch_size, nthreads : int
        As for :func:`network_memory`.
    client : distributed.Client, optional
        The fit's cluster.

    Raises
    ------
    InvalidParameterError
        Naming ``hidden``, the network's size, what it needs and what is available.
    """
    need = network_memory(spec, mini_batch_size=mini_batch_size, nthreads=nthreads)
    places = [("in this process", available_memory())]
    if client is not None:
        try:
            workers = client.scheduler_info()["workers"]
        except Exception:  # noqa: BLE001 - an old or unreachable scheduler: skip workers
            workers = {}
        for addr, w in sorted(workers.items()):
            limit = int(w.get("memory_limit") or 0)
            if limit > 0:
                used = int((w.get("metrics") or {}).get("memory") or 0)
                places.append((f"on worker {addr} (memory_limit {_gib(limit)})",
                               max(0, limit - used)))
    for where, room in places:
        if need > room:
            n_params = int(spec.n_weights) + int(spec.n_biases)
            layout = " -> ".join(f"{int(u):,}" for u in spec.units)
            raise InvalidParameterError(
                f"hidden={list(hidden)!r} makes a network of {n_params:,} weights and biases "
                f"(units {layout}); training and scoring it need about {_gib(need)} {where}, "
                f"but only {_gib(room)} is available. Use fewer or narrower hidden layers "
                "(or fewer inputs: drop or hash wide categorical columns)."
            )
