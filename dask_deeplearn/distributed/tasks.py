"""Functions that run inside Dask worker tasks.

Kept small and importable from the installed package (a function defined in ``__main__``
or a notebook cell cannot be unpickled on process workers). Their tasks are submitted
under keys ``ddl-<stage>-...`` (:func:`task_key`, or keys the backend spells the same
way), so that Dask's ``key_split`` gives the task stream and the Progress panel one
readable name per stage: ``ddl-transform``, ``ddl-prepare``, ``ddl-train``,
``ddl-score-train``, ``ddl-rows``, ``ddl-model`` (the scattered model)...
"""

from __future__ import annotations

import pickle
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from dask.sizeof import sizeof

from ..exceptions import DataError
from ..training.balance import balance_block, block_class_counts
from ..training.local import bernoulli_sample
from ..kernels import KernelParams, train_partition
from ..network import ModelState
from ..preprocessing.data_info import Block

__all__ = [
    "Part",
    "PlacementError",
    "ddl_read",
    "ddl_partial",
    "ddl_transform",
    "ddl_value",
    "ddl_prepare",
    "ddl_slice",
    "ddl_rows",
    "ddl_sample",
    "ddl_train",
    "ddl_score",
    "ddl_transfer_bytes",
    "loosen_restrictions",
    "concat_blocks",
    "progress_message",
    "row_slices",
    "task_key",
]


@sizeof.register(Block)
def _sizeof_block(block: Block) -> int:
    # what the block's arrays take (Dask's generic estimate of an object is a few bytes):
    # the scheduler's memory accounting and the workers' transfer counters use this
    return int(sum(a.nbytes for a in (block.X, block.y, block.weight, block.offset, block.index)
                   if a is not None))


@sizeof.register(ModelState)
def _sizeof_state(state: ModelState) -> int:
    return int(sum(a.nbytes for a in state.arrays().values()))


@dataclass
class Part:
    """One partition of a training frame, read for a fit and kept on its worker.

    Attributes
    ----------
    frame : pandas.DataFrame
        The partition's columns the fit uses.
    partial : object
        What the read computed of it (the partial statistics).
    nbytes : int
        The frame's size, measured once when it is read.
    """

    frame: Any
    partial: Any
    nbytes: int


@sizeof.register(Part)
def _sizeof_part(part: Part) -> int:
    # measured once by the read: Dask's own estimate of a wide pandas frame walks every
    # column each time the worker stores, reports or moves it
    return part.nbytes


def frame_nbytes(frame: Any) -> int:
    """Bytes of a pandas frame: plain numpy columns from their dtype, others by Dask's
    ``sizeof`` (a look at the dtypes, not at every column's array)."""
    n = len(frame)
    total = sizeof(frame.index)
    for j, dtype in enumerate(frame.dtypes):
        if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
            total += n * dtype.itemsize
        else:
            total += sizeof(frame.iloc[:, j])
    return int(total)


#: the kernel warm-up of this worker process (``cluster.WarmupPlugin``): set once the
#: kernels are loaded; None where no warm-up was started
KERNELS_READY: threading.Event | None = None


class PlacementError(RuntimeError):
    """A pinned task ran on another worker than planned (usually: a worker was lost)."""


def _check_address(expected: str | None) -> None:
    if expected is None:
        return
    from distributed import get_worker

    actual = get_worker().address
    if actual != expected:
        raise PlacementError(
            f"dask_deeplearn task planned for worker {expected} ran on {actual}: its data "
            "moved, most likely because a worker left the cluster."
        )


def concat_blocks(blocks: Sequence[Block]) -> Block:
    """One block holding the rows of ``blocks`` in order (``index`` is renumbered)."""
    blocks = [b for b in blocks if b is not None]
    if len(blocks) == 1:
        return blocks[0]
    if not blocks:
        raise ValueError("no blocks to concatenate")

    def cat(name: str) -> np.ndarray | None:
        parts = [getattr(b, name) for b in blocks]
        if parts[0] is None:
            return None
        return np.ascontiguousarray(np.concatenate(parts))

    n = sum(b.n_rows for b in blocks)
    return Block(X=cat("X"), y=cat("y"), weight=cat("weight"), offset=cat("offset"),
                 index=np.arange(n, dtype=np.int64))


def row_slices(block: Block, n: int) -> list[Block]:
    """``block`` cut into ``n`` runs of rows (views; fewer when it is small, none when empty)."""
    rows = block.n_rows
    n = max(1, min(n, rows // 1024 if rows >= 2048 else 1))
    bounds = np.linspace(0, rows, n + 1).astype(np.int64)

    def part(a: np.ndarray | None, i: int) -> np.ndarray | None:
        return None if a is None else a[bounds[i]:bounds[i + 1]]

    return [Block(X=block.X[bounds[i]:bounds[i + 1]], y=part(block.y, i),
                  weight=part(block.weight, i), offset=part(block.offset, i),
                  index=block.index[bounds[i]:bounds[i + 1]])
            for i in range(n) if rows > 0]


def task_key(stage: str) -> str:
    """A new task key for ``stage`` (``"ddl-rows"`` gives ``"ddl-rows-<32 hex digits>"``).

    Dask's ``key_split`` reads the stage back from it: the words before the first one
    holding a digit.
    """
    return f"{stage}-{uuid.uuid4().hex}"


def ddl_value(value: Any) -> Any:
    """``value`` itself: a fit's small constants (DataInfo, parameters) made by a task,
    or a partition renamed (``map_partitions(ddl_value, token=...)``).

    The task holds the value, so when the only worker holding the result is lost the
    scheduler computes it again on another one; a scattered copy has no such lineage
    (and Dask's memory manager trims broadcast replicas down to one).
    """
    return value


def ddl_read(part: Any, columns: list, func: Callable[..., Any], args: tuple) -> Part:
    """Read one partition for a fit: its ``columns``, and ``func(frame, *args)`` of them."""
    frame = part if list(part.columns) == list(columns) else part[list(columns)]
    return Part(frame=frame, partial=func(frame, *args), nbytes=frame_nbytes(frame))


@dataclass(frozen=True)
class Packed:
    """A dict of many arrays of one shape and dtype, as its keys and one stacked array."""

    keys: list
    values: np.ndarray


#: a dict of at least this many same-shaped arrays is sent as one :class:`Packed` array
_PACK_MIN = 16


def pack(value: Any) -> Any:
    """``value`` with every dict of many same-shaped arrays :class:`Packed` (recursively)."""
    if not isinstance(value, dict):
        return value
    arrays = list(value.values())
    if len(arrays) >= _PACK_MIN and all(
            isinstance(a, np.ndarray) and a.shape == arrays[0].shape
            and a.dtype == arrays[0].dtype for a in arrays):
        return Packed(list(value), np.stack(arrays))
    return {k: pack(v) for k, v in value.items()}


def unpack(value: Any) -> Any:
    """The inverse of :func:`pack`: each packed array's rows under their keys again."""
    if isinstance(value, Packed):
        return dict(zip(value.keys, value.values))
    if isinstance(value, dict):
        return {k: unpack(v) for k, v in value.items()}
    return value


def ddl_partial(part: Part) -> bytes:
    """What the read computed of a partition (:attr:`Part.partial`), packed and pickled.

    Partial statistics are dicts of many small arrays (eight numbers per column): sent as
    they are, Dask's serialisation makes one frame of each array, some 30 times slower
    than one pickle for a wide frame, and even one pickle spends most of its time on the
    arrays one by one (on the worker, and again on the driver that reads them). They are
    sent as one array per dict (:func:`pack`). Read back with :func:`partial_from_bytes`.
    """
    return pickle.dumps(pack(part.partial), protocol=pickle.HIGHEST_PROTOCOL)


def partial_from_bytes(data: bytes) -> Any:
    """A partition's partial as :func:`ddl_partial` sent it, unpacked."""
    return unpack(pickle.loads(data))


def ddl_attach(part: Any, *cols: Any, names: Sequence[str], shown: Sequence[str]) -> Any:
    """Add row-aligned companion partitions (response, weights) to a feature partition.

    ``names`` are the columns added, ``shown`` what the user passed them as (``y``,
    ``sample_weight``), for the error when the partitions do not line up.
    """
    extra = {}
    for name, label, col in zip(names, shown, cols):
        values = np.asarray(col).reshape(-1)
        if values.shape[0] != len(part):
            raise DataError(
                f"A partition of X has {len(part)} rows but the matching partition of "
                f"{label} has {values.shape[0]}; X and {label} must have aligned partitions "
                "(repartition/rechunk them alike)."
            )
        extra[name] = values
    return part.assign(**extra)


def ddl_transform(part: Any, info: Any) -> Block:
    """Transform one partition (pandas, or a :class:`Part`) into a float32 training block."""
    return info.transform(part.frame if isinstance(part, Part) else part, training=True)


def ddl_prepare(expected: str | None, *blocks: Block) -> Block:
    """The block one worker trains on: its local blocks (or all of them, replicated).

    ``expected`` is where it was planned. No address check here: after a worker loss Dask
    recomputes this task on a survivor from its lineage, which is the recovery we want;
    the training task that uses the block checks where it runs.
    """
    return concat_blocks(blocks)


def ddl_slice(block: Block, start: int, stop: int) -> Block:
    """Rows ``start:stop`` of a block, copied (a share of one worker's rows for another)."""
    return block.take(np.arange(start, stop))


def ddl_balance(block: Block, ratios: np.ndarray, seed: int) -> Block:
    """One training block resampled by class (``balance_classes``)."""
    return balance_block(block, ratios, seed)


def ddl_class_counts(block: Block, n_classes: int) -> np.ndarray:
    """Rows per class of one (balanced) training block."""
    return block_class_counts(block, n_classes)


def ddl_rows(block: Block) -> int:
    """Rows in a block."""
    return block.n_rows


def ddl_sample(block: Block, fraction: float, seed: int, stratified: bool = False,
               share: tuple[int, int] = (0, 1)) -> Block:
    """Fixed Bernoulli sample of a block for scoring, drawn on the worker.

    ``stratified``: every class of the block is kept with the same probability and is
    drawn at least once (H2O's Stratified validation sampling, without oversampling).
    ``share = (j, n)``: only the ``j``-th of ``n`` runs of the sample's rows, so that ``n``
    workers holding the same block (replicated training data) each score a part of one
    sample; together they are the sample.
    """
    if fraction < 1.0:
        labels = block.y if stratified else None
        block = block.take(bernoulli_sample(block.n_rows, fraction, seed, labels))
    j, n = share
    if n <= 1:
        return block
    bounds = np.linspace(0, block.n_rows, n + 1).astype(np.int64)
    return block.take(np.arange(bounds[j], bounds[j + 1]))


def ddl_train(
    expected: str | None,
    block: Block,
    state: ModelState,
    n_samples: int,
    kp: KernelParams,
    nthreads: int,
    seed: int,
    shuffle: bool,
    consensus: ModelState | None = None,
    progress: tuple[str, str, int] | None = None,
) -> tuple[ModelState, int, float]:
    """One worker's share of an iteration: Hogwild over its local block.

    Returns the trained state, the rows processed and the seconds spent computing.
    ``state`` is copied first: the scattered input stays as it was.

    With ``progress = (topic, fit_id, iteration)`` the task logs a worker progress event
    (:func:`progress_message`) on ``topic`` when it starts and when it ends. Only there:
    the kernel draws the task's rows and every thread's RNG stream from one seed, so
    splitting the share into chunks would change which rows are visited (and the results
    of ``reproducible=True``) and restart the Hogwild threads per chunk; an iteration
    task is short (``train_samples_per_iteration`` is tuned to a few seconds), so its
    start and end are fine-grained enough for a progress bar.
    """
    _check_address(expected)
    if nthreads <= 0 or progress is not None:
        from distributed import get_worker

        worker = get_worker()
        if nthreads <= 0:
            nthreads = worker.state.nthreads
    planned = int(n_samples)  # expected rows: the kernel keeps each row with a probability
    if progress is not None:
        worker.log_event(progress[0], progress_message(progress[1], progress[2], worker.address,
                                                       0, planned, 0.0))
    state = state.copy()
    # (the kernels load in the background when the worker starts: a task that comes
    # first waits for them, so the seconds it reports are training, not compiling)
    if KERNELS_READY is not None:
        KERNELS_READY.wait(600)
    t0 = time.perf_counter()
    done = train_partition(state, block.X, block.y, block.weight, block.offset, n_samples, kp,
                           nthreads=nthreads, seed=seed, shuffle=shuffle, consensus=consensus)
    seconds = time.perf_counter() - t0
    if progress is not None:
        worker.log_event(progress[0], progress_message(progress[1], progress[2], worker.address,
                                                       done, planned, seconds))
    return state, done, seconds


def progress_message(fit_id: str, iteration: int, worker: str, rows_done: int,
                     rows_planned: int, seconds: float) -> dict[str, Any]:
    """The worker progress event of a training task (msgpack-able, JSON-safe).

    Parameters
    ----------
    fit_id : str
    iteration : int
    worker : str
        Address of the worker.
    rows_done : int
        Rows trained so far in this task (0 when it starts).
    rows_planned : int
        Rows this task is asked to train (the kernel's Bernoulli sampling may differ
        slightly).
    seconds : float
        Compute time so far.

    Returns
    -------
    dict
        ``{"fit", "iteration", "worker", "rows_done", "rows_planned", "seconds", "time"}``.
    """
    return {"fit": fit_id, "iteration": int(iteration), "worker": worker,
            "rows_done": int(rows_done), "rows_planned": int(rows_planned),
            "seconds": float(seconds), "time": time.time()}


def ddl_score(
    state: ModelState,
    info: Any,
    task: str,
    distribution: str,
    params: dict[str, Any],
    *blocks: Block,
) -> Any:
    """Merged metric partial of ``state`` over this worker's scoring blocks (or None).

    Every thread of the worker scores a share of the rows, as a training task uses them
    all: the forward pass's matrix products release the GIL, and a Dask worker's BLAS
    runs one thread per process (its environment limits it at start-up).
    """
    from concurrent.futures import ThreadPoolExecutor

    from distributed import get_worker

    from ..metrics import merge_partials
    from ..training.scoring import score_block

    nthreads = max(1, int(get_worker().state.nthreads))
    pieces = [piece for b in blocks for piece in row_slices(b, nthreads)]

    def one(block: Block) -> Any:
        return score_block(state, block, data_info=info, task=task, distribution=distribution,
                           params=params)

    if len(pieces) > 1:
        with ThreadPoolExecutor(min(nthreads, len(pieces))) as pool:
            parts = list(pool.map(one, pieces))
    else:
        parts = [one(p) for p in pieces]
    if not parts:
        return None
    return merge_partials(parts)


def ddl_transfer_bytes(dask_worker: Any = None) -> int:
    """Bytes this worker has sent so far, to peers and to clients (``get_data``).

    Call it with ``client.run(ddl_transfer_bytes)`` (which passes ``dask_worker``) or
    inside a task.
    """
    if dask_worker is None:
        from distributed import get_worker

        dask_worker = get_worker()
    return int(dask_worker.transfer_outgoing_bytes_total)


def loosen_restrictions(dask_scheduler: Any, keys: Sequence[Any]) -> int:
    """Let tasks pinned strictly to a worker be recomputed elsewhere (on the scheduler).

    A transform is pinned strictly to the worker holding its inputs, so that Dask's work
    stealing cannot move the rows; once it has run, that pin would keep the task from
    ever being recomputed if the worker is lost (Dask waits forever for a strictly
    restricted task whose workers are gone). Keeping the worker as a preference only lets
    the lineage bring the block back on a survivor. Run with
    ``client.run_on_scheduler(loosen_restrictions, keys=...)``; returns how many tasks
    changed.
    """
    changed = 0
    for key in keys:
        ts = dask_scheduler.tasks.get(key)
        if ts is not None and not ts.loose_restrictions and (ts.worker_restrictions
                                                            or ts.host_restrictions):
            ts.loose_restrictions = True
            changed += 1
    return changed
