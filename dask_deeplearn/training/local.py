"""In-process backend: Hogwild threads in this process over numpy blocks."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ..kernels import KernelParams, train_partition
from ..network import ModelState
from .scoring import score_block

__all__ = ["LocalBackend", "available_cores", "sample_rows", "score_block"]


def available_cores() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def sample_rows(n_rows: int, n_samples: int, seed: int) -> np.ndarray | None:
    """Fixed scoring sample (§8.2): Bernoulli with ``p = n_samples / n_rows``.

    Returns ``None`` for "all rows" (``n_samples`` 0 or not smaller than ``n_rows``).
    """
    if n_samples <= 0 or n_samples >= n_rows:
        return None
    rng = np.random.default_rng(seed % 2**63)
    idx = np.flatnonzero(rng.random(n_rows) < n_samples / n_rows)
    if idx.size == 0:
        idx = np.array([int(rng.integers(n_rows))])
    return idx


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
            self._scoring["valid"] = _take(
                valid, sample_rows(n_valid, int(params["score_validation_samples"]), seed + 1)
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
