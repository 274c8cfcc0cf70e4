"""In-process backend: Hogwild threads in this process over numpy blocks."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..kernels import KernelParams, train_partition
from ..network import ModelState
from .scoring import score_block

__all__ = ["LocalBackend", "available_cores", "bernoulli_sample", "sample_rows", "score_block"]


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def sample_rows(n_rows: int, n_samples: int, seed: int,
                labels: np.ndarray | None = None) -> np.ndarray | None:
    """Fixed scoring sample: Bernoulli with ``p = n_samples / n_rows`` per row.

    Returns ``None`` for "all rows" (``n_samples`` 0 or not smaller than ``n_rows``).
    Otherwise at least one row is drawn; with ``labels`` (stratified sampling) every class
    present in ``labels`` is drawn at least once (see :func:`bernoulli_sample`).
    """
    if n_samples <= 0 or n_samples >= n_rows:
        return None
    idx = bernoulli_sample(n_rows, n_samples / n_rows, seed, labels)
    if idx.size == 0:  # one row, drawn from the same stream after the empty draw
        rng = np.random.default_rng(seed % 2**63)
        rng.random(n_rows)
        idx = np.array([int(rng.integers(n_rows))])
    return idx


def bernoulli_sample(n_rows: int, fraction: float, seed: int,
                     labels: np.ndarray | None = None) -> np.ndarray:
    """Positions of a Bernoulli sample of ``n_rows`` rows, each kept with ``fraction``.

    With ``labels`` (class indices, NaN for none) the sample is stratified as H2O's
    ``score_validation_sampling="Stratified"`` draws it without oversampling: every class
    is kept with the same probability (the sample keeps the class proportions), and a
    draw in which a class present in ``labels`` got no row is redrawn with the next seed,
    up to 10 times, as H2O does; a class still without a row after that gets one of its
    rows, drawn at random, so a rare class is always scored.

    Returns
    -------
    ndarray of int64
        Sorted positions (possibly empty without ``labels``).
    """
    present = None
    if labels is not None:
        y = np.asarray(labels, dtype=np.float64)
        present = np.unique(y[~np.isnan(y)])
    for attempt in range(11 if present is not None else 1):
        rng = np.random.default_rng((seed + attempt) % 2**63)
        idx = np.flatnonzero(rng.random(n_rows) < fraction)
        if present is None or np.isin(present, y[idx]).all():
            return idx
    missing = present[~np.isin(present, y[idx])]
    extra = [int(rng.choice(np.flatnonzero(y == c))) for c in missing]
    return np.sort(np.concatenate([idx, np.asarray(extra, dtype=idx.dtype)]))


def stratified_validation(params: dict[str, Any], task: str) -> bool:
    """Whether the validation scoring sample is stratified by class.

    As in H2O: ``score_validation_sampling="Stratified"`` applies to classification with
    ``balance_classes=True``; every other fit samples the validation rows uniformly.
    """
    return (task == "classification" and bool(params["balance_classes"])
            and params["score_validation_sampling"] == "Stratified")


def _take(block: Any, idx: np.ndarray | None) -> Any:
    return block if idx is None else block.take(idx)


class LocalBackend:
    """Run iterations with Hogwild threads in this process.

    Parameters
    ----------
    train, valid : Block
        Transformed training and (optional) validation data.
    data_info : DataInfo
    task : {"classification", "regression"}
    distribution : str
        Effective distribution.
    params : dict
        Effective parameters.
    nthreads : int
    seed : int
        Resolved model seed (fixes the scoring samples).
    """

    n_nodes = 1
    replicate = False
    #: train_iteration updates the given state in place
    in_place = True

    def __init__(self, train: Any, valid: Any | None, *, data_info: Any, task: str,
                 distribution: str, params: dict[str, Any], nthreads: int, seed: int) -> None:
        self.train = train
        self.valid = valid
        self.data_info = data_info
        self.task = task
        self.distribution = distribution
        self.params = params
        self.nthreads = nthreads
        self.n_rows = int(train.X.shape[0])
        self.has_validation = valid is not None
        self.kp = KernelParams.from_params(params, distribution=distribution)
        self._scoring = {
            "train": _take(train, sample_rows(self.n_rows, int(params["score_training_samples"]), seed)),
        }
        if valid is not None:
            n_valid = int(valid.X.shape[0])
            labels = valid.y if stratified_validation(params, task) else None
            self._scoring["valid"] = _take(
                valid, sample_rows(n_valid, int(params["score_validation_samples"]), seed + 1,
                                   labels)
            )

    def train_iteration(self, state: ModelState, n_samples: int, seed: int, shuffle: bool) -> tuple[ModelState, int]:
        """Train ``state`` in place on ``n_samples`` rows; H2O shuffles a single chunk."""
        t = self.train
        shuffle = shuffle or (self.nthreads == 1 and n_samples == self.n_rows)
        done = train_partition(state, t.X, t.y, t.weight, t.offset, n_samples, self.kp,
                               nthreads=self.nthreads, seed=seed, shuffle=shuffle)
        return state, done

    def score(self, state: ModelState, which: str) -> Any:
        """Metrics on the fixed training or validation scoring sample."""
        block = self._scoring[which]
        part = score_block(state, block, data_info=self.data_info, task=self.task,
                           distribution=self.distribution, params=self.params)
        return part.result(domain=self.data_info.classes,
                           max_confusion_matrix_size=int(self.params["max_confusion_matrix_size"]))
