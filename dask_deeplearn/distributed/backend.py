"""The Dask backend of the training loop: workers train on the blocks they hold.

Setup (once per fit): ``DataInfo.transform`` runs on every partition where it lives and the
float32 blocks stay on the workers; ``who_has`` tells which worker holds which block; one
pinned ``ddl-prepare`` task per worker concatenates that worker's blocks (or, with
``replicate_training_data``, all blocks: one distinct key per worker). Each iteration the
driver sends the current model to each worker once, submits one pinned ``ddl-train-<i>``
task per worker, gathers the trained states and averages them weighted by rows processed
(or runs elastic averaging). Only weights travel; training rows never leave their worker.

Where blocks go is in :mod:`.placement`, how trained models combine in :mod:`.averaging`,
and re-planning after a worker loss in :mod:`.recovery`; this module runs the iteration
protocol.
"""

from __future__ import annotations

import asyncio
import logging
import operator
import time
import uuid
import warnings
from typing import Any

import numpy as np

from distributed import Client, Future

from ..exceptions import DataError
from ..kernels import KernelParams
from ..metrics import merge_partials
from ..network import ModelState
from ..training.balance import MODEL_KEY
from ..training.local import stratified_validation
from ..training.plan import (
    FitPlan,
    balance_seed,
    balanced_with_redraws,
    no_rows_error,
    sample_fraction,
    thread_count,
)
from . import tasks
from .averaging import average_states, mix_states
from .dashboard import progress_topic
from .monitor import FitMonitor
from .placement import plan_blocks, replica_fits, split_rows
from .reading import HeldFrame, compute_where_held, loosen
from .recovery import (  # noqa: F401 - ClusterLostError is re-exported
    _RETRIES,
    ClusterLostError,
    RecoveryMixin,
)
from .session import training_workers

__all__ = ["ClusterLostError", "DaskBackend", "average_states", "plan_blocks", "replica_fits"]

logger = logging.getLogger("dask_deeplearn")


class DaskBackend(RecoveryMixin):
    """Run the loop's iterations on the workers of a ``distributed.Client``.

    Parameters
    ----------
    client : distributed.Client
    train : dask.dataframe.DataFrame
        Training frame (features, response and weights/offset columns).
    valid : dask.dataframe.DataFrame or None
    plan : FitPlan
        The fit plan: preprocessing, effective parameters, seed, class balancing.
        ``replicate_training_data`` and ``single_node_mode`` are decided here, from the
        data size and the cluster (:attr:`replicate`).
    name : str, optional
        Short id used in task keys (``ddl-train-3-<name>-0``).

    Attributes
    ----------
    model_class_distribution : list of float or None
        Class frequencies of the balanced training blocks (``balance_classes``).
    """

    def __init__(self, client: Client, train: Any, valid: Any | None, plan: FitPlan, *,
                 name: str | None = None) -> None:
        self.client = client
        self.balance = plan.balance
        self.data_info = plan.info
        self.task = plan.info.task
        self.params = plan.params
        self.distribution = plan.params["distribution"]
        self.seed = int(plan.seed)
        self.name = name or uuid.uuid4().hex[:8]
        self.kp = KernelParams.from_params(
            self.params, distribution=self.distribution,
            elastic=float(self.params["elastic_averaging_regularization"])
            if self.params["elastic_averaging"] else 0.0)
        self.has_validation = valid is not None
        self.last_timing: tuple[float, float] | None = None
        self.events: list[str] = []
        self.model_class_distribution: list[float] | None = None
        self._iteration = 0
        self._local: dict[str, Future] = {}      # elastic averaging: each worker's own model
        self._consensus_started = False
        self._monitor: FitMonitor | None = None
        # the model on the workers now: its copy on each worker
        self._sent: tuple[ModelState, dict[str, Future]] | None = None
        self._alive: set[str] = set()
        self._set_up(train, valid)

    def observer(self, reporter: Any | None = None) -> FitMonitor:
        """The training loop's live reporting of this fit (dashboard page, progress bar).

        From now on every training task logs its progress on the fit's progress topic
        (see :mod:`dask_deeplearn.distributed.monitor`).

        Parameters
        ----------
        reporter : ProgressReporter, optional
            The fit's progress reporter (see :class:`FitMonitor`).

        Returns
        -------
        FitMonitor
        """
        self._monitor = FitMonitor(self, reporter)
        return self._monitor

    # ------------------------------------------------------------------ setup
    def _workers(self, wait: bool = True) -> dict[str, dict[str, Any]]:
        workers = training_workers(self.client, wait=wait)
        self._alive = set(workers)  # the last look at the cluster
        return workers

    def _balanced(self, blocks: list[Future]) -> list[Future]:
        """Resample every block by class where it lives; record the balanced frequencies.

        A class that comes out empty is redrawn with the next seed (up to 10 times, as H2O).
        """
        client = self.client
        n_classes = len(self.data_info.classes)

        def draw(attempt: int) -> tuple[list[Future], np.ndarray]:
            out = [client.submit(tasks.ddl_balance, b, self.balance,
                                 balance_seed(self.seed, attempt, i), pure=False,
                                 key=f"ddl-balance-{self.name}-{attempt}-{i}")
                   for i, b in enumerate(blocks)]
            counts = np.sum(self._gather([client.submit(
                tasks.ddl_class_counts, b, n_classes, pure=False,
                key=f"ddl-class-counts-{self.name}-{attempt}-{i}") for i, b in enumerate(out)]),
                axis=0)
            return out, counts

        out, counts = balanced_with_redraws(draw, self.balance)
        self.model_class_distribution = (counts / counts.sum()).tolist()
        # (a new dict: the plan's parameters stay as planned)
        self.params = {**self.params, MODEL_KEY: self.model_class_distribution}
        self.events.append(f"classes balanced: {int(counts.sum()):,} training rows "
                           f"(per class {counts.tolist()})")
        return out

    def _transform(self, frame: Any, prefix: str) -> list[Future]:
        """Transform every partition into a float32 block, where the partition's data lives.

        A :class:`~.reading.HeldFrame` (the training frame, read by the statistics pass)
        is transformed from its kept parts, each on the worker holding it. Another frame
        (the validation frame) gets the transform added to its graph (``map_partitions``),
        so Dask fuses it with whatever the partition is computed by (column projections
        such as ``X = ddf.drop(columns=...)`` / ``y = ddf[...]``, ``assign``, arithmetic,
        ``read_parquet``), placed by :func:`~.reading.compute_where_held`. Pinned tasks
        are strict until computed (Dask's work stealing would move the rows), then keep
        their worker as a preference only, so that a lost block's lineage can run on a
        survivor.

        ``prefix`` names the fit stage in the log and events (training or validation).
        """
        client = self.client
        alive = self._workers(wait=False)
        if isinstance(frame, HeldFrame):
            who = client.who_has(frame.parts)
            pinned, futures = [], []
            for i, part in enumerate(frame.parts):
                where = [w for w in who.get(part.key, ()) if w in alive][:1]
                pinned.extend(where)
                futures.append(client.submit(
                    tasks.ddl_transform, part, self._info, workers=where or None,
                    allow_other_workers=not where, pure=False,
                    key=f"{prefix}-{self.name}-{i}"))
            keys = [f.key for f in futures]
        else:
            blocks = frame.map_partitions(tasks.ddl_transform, self._info, meta=frame._meta,
                                          enforce_metadata=False, align_dataframes=False,
                                          token=prefix)
            futures, pinned, keys = compute_where_held(client, blocks, list(alive),
                                                       f"{prefix}-{self.name}")
        logger.debug("dask_deeplearn: %s of %d partitions transformed where their data is "
                     "(%s)", len(pinned), len(futures), prefix)
        # raises a worker's exception (a DataError names the column); a task pinned to a
        # worker that dies would wait for it forever: that ends the wait as a lost worker
        self._settle(futures, pinned)
        loosen(client, keys)
        return futures

    def _split(self, blocks: list[Future], rows: list[int], owners: list[str],
               n: int) -> tuple[list[Future], list[int], list[str]]:
        """Cut the largest blocks in two where they are until there are ``n`` blocks.

        ``force_load_balance`` with fewer blocks than workers (one big partition): the
        pieces are made on the block's worker, and only those given to another worker move.
        """
        blocks, rows, owners = list(blocks), list(rows), list(owners)
        while len(blocks) < n:
            i = max(range(len(blocks)), key=rows.__getitem__)
            if rows[i] < 2:
                break
            half = rows[i] // 2
            cut = [self.client.submit(tasks.ddl_slice, blocks[i], a, b, workers=[owners[i]],
                                      allow_other_workers=True, pure=False,
                                      key=f"ddl-slice-{self.name}-{len(blocks)}-{a}")
                   for a, b in ((0, half), (half, rows[i]))]
            blocks[i:i + 1], rows[i:i + 1] = cut, [half, rows[i] - half]
            owners[i:i + 1] = [owners[i], owners[i]]
        self._settle(blocks)
        return blocks, rows, owners

    def _setup(self, train: Any, valid: Any | None) -> None:
        p = self.params
        client = self.client
        workers = self._workers()
        # the model's metadata travels once per worker, not once per task; made by a task
        # (not scattered) so that it is recomputed when the worker holding it is lost
        self._info = client.submit(tasks.ddl_value, self.data_info, pure=False,
                                   key=f"ddl-info-{self.name}")
        n_workers = len(workers)
        blocks = self._transform(train, "ddl-transform")
        if self.balance is not None:
            blocks = self._balanced(blocks)
        # (after balancing: the scoring tasks read the balanced class frequencies)
        # one object under a fresh key: scattering the dict itself would put each value under
        # a cluster-wide key named after its parameter ("hidden", "seed", ...), shared by
        # every fit on the cluster, so one fit releasing them dropped another's dependencies
        # (on every worker: scattered data has no lineage, so a lost copy could not come
        # back; this task's result is recomputed when the worker holding it is lost)
        self._params_f = client.submit(tasks.ddl_value, self.params, pure=False,
                                       key=f"ddl-params-{self.name}")
        rows = self._gather([client.submit(tasks.ddl_rows, b, pure=False,
                                           key=tasks.task_key("ddl-rows")) for b in blocks])
        self.n_rows = int(sum(rows))
        if self.n_rows == 0:
            raise no_rows_error(p, self.data_info.weights_column)
        who = client.who_has(blocks)
        owners = [who[b.key][0] if who.get(b.key) else next(iter(workers)) for b in blocks]
        order = list(range(len(blocks)))
        nbytes = self.n_rows * (self.data_info.n_inputs + 4) * 4
        limits = [w.get("memory_limit") or 0 for w in workers.values()]
        replicate = bool(p["replicate_training_data"]) and n_workers > 1
        if replicate and not replica_fits(nbytes, limits):
            warnings.warn(
                f"replicate_training_data=True, but the training data ({nbytes / 2**20:,.0f} "
                f"MiB as float32) does not fit in half of every worker's memory limit "
                f"({min(l for l in limits if l) / 2**20:,.0f} MiB); each worker trains on "
                "its local partitions only.", UserWarning, stacklevel=4)
            self.events.append("replicate_training_data turned off: data too large for a worker")
            replicate = False
        single = bool(p["reproducible"]) or (bool(p["single_node_mode"]) and replicate)
        load = {w: 0 for w in workers}
        for o, r in zip(owners, rows):
            load[o] = load.get(o, 0) + r
        if single:
            # one worker, all blocks in partition order: the one already holding the most
            target = max(load, key=lambda w: load[w])
            plan = {target: order}
            replicate = False
        elif replicate:
            plan = {w: order for w in workers}
        else:
            if p["force_load_balance"] and len(blocks) < n_workers:
                blocks, rows, owners = self._split(blocks, rows, owners, n_workers)
            plan = plan_blocks(owners, rows, list(workers), balance=bool(p["force_load_balance"]))
        self.replicate = replicate
        self.single = single
        self.plan = plan
        self.worker_rows = {w: int(sum(rows[i] for i in idx)) for w, idx in plan.items()}
        self.nthreads = {w: self._threads(workers[w]) for w in plan}
        self.prepared: dict[str, Future] = {}
        for j, (w, idx) in enumerate(plan.items()):
            self.prepared[w] = client.submit(
                tasks.ddl_prepare, w, *[blocks[i] for i in idx], workers=[w],
                allow_other_workers=True, pure=False, key=f"ddl-prepare-{self.name}-{j}")
        self._settle(list(self.prepared.values()))
        del blocks  # the prepared blocks are what training uses from now on
        self.n_nodes = len(plan)
        self._seen: set[str] = set(workers)  # workers present at setup (idle ones stay idle)
        # fixed scoring samples (the same rows at every scoring event), drawn on the workers
        self._valid_frame = valid
        self._score_blocks: dict[str, dict[str, list[Future]]] = {
            "train": self._train_samples("ddl-sample-train")}
        if valid is not None:
            self._score_blocks["valid"] = self._valid_samples("ddl-sample-valid")
        self._settle([f for d in self._score_blocks.values() for fs in d.values() for f in fs],
                     [w for d in self._score_blocks.values() for w, fs in d.items() for _ in fs])

    def _train_samples(self, label: str) -> dict[str, list[Future]]:
        """The training scoring sample, one Bernoulli sample per prepared block.

        With replication every worker holds the same rows in the same order and draws the
        same sample, then keeps its share of it: the workers score one sample together.
        """
        n_score = int(self.params["score_training_samples"])
        frac = sample_fraction(n_score, self.n_rows)
        n = len(self.prepared)
        return {w: [self.client.submit(
            tasks.ddl_sample, src, frac, self.seed if self.replicate else self.seed + 7919 * j,
            False, (j, n) if self.replicate else (0, 1), workers=[w],
            allow_other_workers=False, pure=False, key=f"{label}-{self.name}-{j}")]
            for j, (w, src) in enumerate(self.prepared.items())}

    def _valid_samples(self, label: str) -> dict[str, list[Future]]:
        """The validation scoring sample, drawn where the validation partitions land."""
        client = self.client
        vblocks = self._transform(self._valid_frame, f"{label}-transform")
        vrows = self._gather([client.submit(tasks.ddl_rows, b, pure=False,
                                            key=tasks.task_key("ddl-rows")) for b in vblocks])
        n_valid = int(sum(vrows))
        if n_valid == 0:
            raise DataError("The validation frame has no rows with a response.")
        n_vs = int(self.params["score_validation_samples"])
        vfrac = sample_fraction(n_vs, n_valid)
        stratified = stratified_validation(self.params, self.task)
        vwho = client.who_has(vblocks)
        by_worker: dict[str, list[Future]] = {}
        for i, b in enumerate(vblocks):
            w = vwho[b.key][0] if vwho.get(b.key) else next(iter(self._workers()))
            by_worker.setdefault(w, []).append(client.submit(
                tasks.ddl_sample, b, vfrac, self.seed + 1 + 7919 * i, stratified, workers=[w],
                allow_other_workers=False, pure=False, key=f"{label}-{self.name}-{i}"))
        self.n_valid = n_valid
        return by_worker

    def _threads(self, worker: dict[str, Any]) -> int:
        return thread_count(self.params, int(worker.get("nthreads", 1)), cap=True)

    # ------------------------------------------------------------------ training
    def _shares(self, n_samples: int) -> dict[str, int]:
        if self.replicate:
            # every node processes about tspi / nodes rows of its full copy (as H2O)
            each = max(1, int(round(n_samples / self.n_nodes)))
            return {w: each for w in self.plan}
        return split_rows(n_samples, self.worker_rows)

    def _send(self, state: ModelState) -> dict[str, Future]:
        """The model on the workers: sent once, used by its scoring and the next iteration.

        Returns the copy on each worker by address (:meth:`_model_on` picks a task's).
        ``state`` is sent straight to every worker that trains or scores, one copy under
        its own key each, so that every task reads the copy on its own worker. Not with
        ``scatter(broadcast=True)``: Dask copies a broadcast value from worker to worker
        in a loop that never ends when one of them dies meanwhile (the fit hung), and its
        memory manager later trims the copies, so that a task would wait for one from
        another worker. The same state asked again (the scoring of a model, then the
        iteration that starts from it) is not sent again. A retry after a lost worker
        sends it again (:meth:`_recover` forgets the copies, which may have died with
        the worker).
        """
        if self._sent is not None and self._sent[0] is state:
            return self._sent[1]
        targets = sorted(set(self.prepared) | {w for d in self._score_blocks.values() for w in d})
        # (the last look at the cluster: a worker lost since fails the step, which is
        # then re-planned and retried)
        targets = [w for w in targets if w in self._alive] or [None]
        # (named: Dask's task stream and Progress panel show "ddl-model", not "ModelState")
        key = tasks.task_key("ddl-model")
        client = self.client

        async def send_all() -> list[dict[str, Future]]:
            # (the copies go out at once, not one after the other)
            return await asyncio.gather(*(
                client.scatter({f"{key}-{j}": state}, workers=None if w is None else [w],
                               asynchronous=True)
                for j, w in enumerate(targets)))

        copies = client.sync(send_all)
        sent = {w: copies[j][f"{key}-{j}"] for j, w in enumerate(targets)}
        self._sent = (state, sent)
        return sent

    @staticmethod
    def _model_on(sent: dict[str, Future], worker: str) -> Future:
        """The copy of the model sent to ``worker`` (another one if none was: a worker
        not seen alive when the model was sent, whose task then fails as a lost one)."""
        return sent[worker] if worker in sent else next(iter(sent.values()))

    def _submit_iteration(self, state: ModelState, shares: dict[str, int], seed: int,
                          shuffle: bool, label: str,
                          report: bool = False) -> tuple[list[str], list[Future]]:
        client = self.client
        sent = self._send(state)
        elastic = bool(self.params["elastic_averaging"]) and not self.single
        progress = ((progress_topic(self.name), self.name, self._iteration)
                    if report and self._monitor is not None else None)
        addrs, futs = [], []
        for j, (w, n) in enumerate(shares.items()):
            if n <= 0:
                continue
            sf = self._model_on(sent, w)
            start = self._local.get(w, sf) if elastic else sf
            full_epoch = n == self.worker_rows[w] and not self.replicate
            auto_shuffle = (
                (self.replicate and self.n_nodes > 1 and not self.params["reproducible"]
                 and n == self.n_rows)
                or (self.nthreads[w] == 1 and full_epoch)
            )
            futs.append(client.submit(
                tasks.ddl_train, w, self.prepared[w], start, n, self.kp, self.nthreads[w],
                (seed + 0x9E3779B1 * j) % 2**62, shuffle or auto_shuffle,
                sf if elastic else None, progress,
                workers=[w], allow_other_workers=False, pure=False,
                key=f"{label}-{self.name}-{j}"))
            addrs.append(w)
        return addrs, futs

    def train_iteration(self, state: ModelState, n_samples: int, seed: int,
                        shuffle: bool) -> tuple[ModelState, int]:
        """One iteration: the model sent, one pinned task per worker, gather, average."""
        self._iteration += 1
        label = f"ddl-train-{self._iteration}"
        if self._monitor is not None:
            self._monitor.iteration(self._iteration, state.processed)
        t0 = time.perf_counter()
        workers = self._workers(wait=False)
        alive = set(workers)
        lost = sorted(set(self.plan) - alive)
        if lost:
            self.events.append(f"iteration {self._iteration}: worker(s) {lost} left; re-planned")
            logger.warning("dask_deeplearn: worker(s) %s left the cluster; re-planning", lost)
            try:
                self._try_replan()
            except ClusterLostError:
                raise
            except Exception:  # noqa: BLE001 - retried below with the attempts
                pass
        joined = sorted(alive - set(self.plan) - set(self._seen))
        if lost or joined:
            self._sent = None  # sent again, to the workers of the new plan
        if joined:
            self._seen.update(joined)
            self._adopt(joined, workers)
        addrs, futs, results = self._iterate(state, n_samples, seed, shuffle, label, True)
        wall = time.perf_counter() - t0
        states = [r[0] for r in results]
        done = [int(r[1]) for r in results]
        compute = max((r[2] for r in results), default=0.0)
        total = int(sum(done))
        if compute > 0 and total > 0:
            self.last_timing = (max(0.0, wall - compute), total / compute)
        if total == 0:
            return state, 0
        if self.params["elastic_averaging"] and not self.single:
            for w, f in zip(addrs, futs):
                self._local[w] = self.client.submit(
                    operator.getitem, f, 0, workers=[w], allow_other_workers=True,
                    pure=False, key=f"ddl-local-model-{self._iteration}-{self.name}-{w}")
            avg = average_states(states, [1.0 if d > 0 else 0.0 for d in done])
            alpha = float(self.params["elastic_averaging_moving_rate"])
            new = avg if not self._consensus_started or alpha >= 1 else mix_states(avg, state, alpha)
            self._consensus_started = True
        else:
            new = average_states(states, done)
        new.processed = state.processed + total
        return new, total

    def calibrate(self, state: ModelState) -> None:
        """Measure communication time and training speed with a throw-away iteration."""
        n = max(self.n_nodes, min(self.n_rows, 2000 * self.n_nodes))
        t0 = time.perf_counter()
        _, _, results = self._iterate(state, n, self.seed, False, "ddl-calibrate", False)
        wall = time.perf_counter() - t0
        compute = max(r[2] for r in results)
        rows = sum(r[1] for r in results)
        self.last_timing = (max(0.0, wall - compute), rows / max(compute, 1e-6))
        self._local.clear()

    # ------------------------------------------------------------------ scoring
    def score(self, state: ModelState, which: str) -> Any:
        """Metrics on the fixed scoring sample, reduced from one partial per worker."""
        for attempt in range(_RETRIES + 1):
            try:
                sent = self._send(state)
                futs, targets = [], []
                for j, (w, blocks) in enumerate(self._score_blocks[which].items()):
                    targets.append(w)
                    futs.append(self.client.submit(
                        tasks.ddl_score, self._model_on(sent, w), self._info, self.task,
                        self.distribution, self._params_f, *blocks, workers=[w],
                        allow_other_workers=False, pure=False,
                        key=f"ddl-score-{which}-{self._iteration}-{self.name}-{j}-{attempt}"))
                parts = [p for p in self._gather(futs, targets) if p is not None]
                break
            except Exception as exc:
                # the sample lived on a lost worker: re-plan, then draw it again from the
                # blocks the survivors hold
                self._recover(exc, attempt, f"re-planned, {which} scoring sample redrawn")
                try:
                    self._score_blocks[which] = (
                        self._train_samples(f"ddl-sample-train-r{self._iteration}-{attempt}")
                        if which == "train" else
                        self._valid_samples(f"ddl-sample-valid-r{self._iteration}-{attempt}"))
                    blocks = self._score_blocks[which]
                    self._settle([f for fs in blocks.values() for f in fs],
                                 [w for w, fs in blocks.items() for _ in fs])
                except Exception as again:  # noqa: BLE001 - the next attempt decides
                    if not self._workers(wait=False):
                        raise self._gone() from again
        if not parts:
            return None
        return merge_partials(parts).result(
            domain=self.data_info.classes,
            max_confusion_matrix_size=int(self.params["max_confusion_matrix_size"]))

    def close(self) -> None:
        """Release every future this fit holds on the cluster."""
        self.prepared.clear()
        self._score_blocks.clear()
        self._sent = None
        self._local.clear()

    def worker_map(self) -> dict[str, int]:
        """Rows each training worker trains on (its local share, or all with replication)."""
        return dict(self.worker_rows)

