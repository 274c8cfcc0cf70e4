"""Where training blocks go: which worker trains on which block, and replica sizes."""

from __future__ import annotations

from typing import Any, Sequence

from dask.core import get_dependencies
from distributed import Future

__all__ = ["holders_of", "memory_inputs", "needed_nodes", "plan_blocks", "replica_fits"]

#: fraction of a worker's memory limit replicated training data may take
_REPLICA_MEMORY_FRACTION = 0.5


def replica_fits(nbytes: int, memory_limits: list[int]) -> bool:
    """Whether a full copy of ``nbytes`` of training data fits on every worker.

    A copy may take half of a worker's memory limit (Dask starts spilling at 60 %); a
    limit of 0 means unlimited.
    """
    return all(lim == 0 or nbytes <= _REPLICA_MEMORY_FRACTION * lim for lim in memory_limits)


def split_rows(n: int, sizes: dict[str, int]) -> dict[str, int]:
    """``n`` rows shared among workers in proportion to ``sizes``, summing to ``n``.

    Each worker gets the floor of its share, and the rows left over go to the largest
    remainders (ties to the larger worker, then the first): an iteration of fewer rows than
    workers still trains ``n`` rows, not zero on every worker.
    """
    total = sum(sizes.values())
    if total <= 0 or n <= 0:
        return {w: 0 for w in sizes}
    exact = {w: n * r / total for w, r in sizes.items()}
    out = {w: int(x) for w, x in exact.items()}
    order = sorted(sizes, key=lambda w: (-(exact[w] - out[w]), -sizes[w]))
    for w in order[: n - sum(out.values())]:
        out[w] += 1
    return out


def plan_blocks(
    owners: list[str],
    rows: list[int],
    workers: list[str],
    *,
    balance: bool,
) -> dict[str, list[int]]:
    """Which blocks each worker trains on, without replication.

    Every block stays with the worker holding it. With ``balance`` (H2O's
    ``force_load_balance``), a worker holding nothing takes whole blocks from the most
    loaded worker as long as that makes the split more even (data moves once, at setup).

    Parameters
    ----------
    owners : list of str
        Worker holding each block.
    rows : list of int
        Rows of each block.
    workers : list of str
        Workers that may train.
    balance : bool

    Returns
    -------
    dict
        ``{worker: [block indices, in order]}`` for workers with at least one block.
    """
    plan: dict[str, list[int]] = {w: [] for w in workers}
    for i, owner in enumerate(owners):
        plan.setdefault(owner, []).append(i)
    if balance:
        while True:
            load = {w: sum(rows[i] for i in plan[w]) for w in plan}
            empty = [w for w in plan if not plan[w]]
            donor = max(plan, key=lambda w: load[w])
            if not empty or len(plan[donor]) < 2:
                break
            give = min(plan[donor], key=lambda i: rows[i])
            if rows[give] >= load[donor]:  # pragma: no cover - guarded by len >= 2
                break
            plan[donor].remove(give)
            plan[empty[0]].append(give)
    return {w: sorted(b) for w, b in plan.items() if b}


def needed_nodes(dsk: dict, keys: Sequence[Any]) -> dict[Any, Any]:
    """The nodes of graph ``dsk`` that computing ``keys`` needs, by key.

    The walk stops at data in workers' memory (a ``Future`` node); keys the graph uses
    but does not define map to None.
    """
    needed: dict[Any, Any] = {}
    stack = list(keys)
    while stack:
        key = stack.pop()
        if isinstance(key, list):
            stack.extend(key)
            continue
        if key in needed:
            continue
        node = needed[key] = dsk.get(key)
        if node is not None and not isinstance(node, Future):
            deps = getattr(node, "dependencies", None)  # a task, or a legacy tuple task
            stack.extend(get_dependencies(dsk, key) if deps is None else deps)
    return needed


def memory_inputs(client: Any, collection: Any, dsk: dict | None = None) -> dict[Any, Future]:
    """The keys a Dask collection is computed from but does not compute itself.

    Walks the collection's task graph down to data in workers' memory (a persisted or
    scattered collection appears in the graph as a ``Future``, or as a key the graph uses
    but does not define), returned as futures by key.

    Parameters
    ----------
    client : distributed.Client
    collection : dask collection
        A partition (``to_delayed()`` of a collection) or a whole collection.
    dsk : dict, optional
        The collection's graph as a dict, when the caller has it already.

    Returns
    -------
    dict
    """
    dsk = dict(collection.__dask_graph__()) if dsk is None else dsk
    keys = [collection.key] if hasattr(collection, "key") else list(collection.__dask_keys__())
    # (asked as futures: the scheduler does not match tuple keys sent bare)
    return {k: node if node is not None else Future(k, client=client)
            for k, node in needed_nodes(dsk, keys).items()
            if node is None or isinstance(node, Future)}


def holders_of(client: Any, parts: Sequence[Any], alive: Sequence[str],
               dsk: dict | None = None) -> list[str | None]:
    """For each partition, the live worker holding most of the in-memory data it is
    computed from, or None.

    Walks each partition's task graph down to the keys it does not compute itself: data
    in workers' memory (a persisted or scattered collection appears in the graph as a
    ``Future``) or keys the graph does not define; one look at the scheduler for all
    partitions. None when none of them is in a live worker's memory (a graph that reads
    its data, or a persist still running).

    Parameters
    ----------
    client : distributed.Client
    parts : sequence of dask.delayed.Delayed
        The partitions (``to_delayed()`` of a collection).
    alive : sequence of str
        Addresses of the workers that may compute them.
    dsk : dict, optional
        The partitions' (shared) graph as a dict, when the caller has it already.

    Returns
    -------
    list of str or None
    """
    try:
        external = [memory_inputs(client, p, dsk) for p in parts]
        futures = {k: f for ext in external for k, f in ext.items()}
        who = client.who_has(list(futures.values())) if futures else {}
    except Exception:  # noqa: BLE001 - placement is an optimisation only
        return [None] * len(parts)
    out: list[str | None] = []
    for ext in external:
        held: dict[str, int] = {}
        for key in ext:
            for w in who.get(key, ()):
                if w in alive:
                    held[w] = held.get(w, 0) + 1
        out.append(max(sorted(held), key=held.__getitem__) if held else None)
    return out
