"""Lazy scoring of Dask DataFrames: one ``map_partitions`` with an explicit ``meta``.

The scorer (:class:`~dask_deeplearn.scorer.Scorer`, or the cross-validation holdout
scorer) goes to the workers once: as one scattered future when a client is current (each
worker fetches it once), else as one ``dask.delayed`` key; never as a plain argument
copied into every partition's task.
"""

from __future__ import annotations

from typing import Any, Protocol

import dask
import pandas as pd

from ..metrics import merge_partials
from .cluster import current_client

__all__ = ["PartitionScorer", "model_handle", "map_predict", "reduce_partials"]


class PartitionScorer(Protocol):
    """What scores one pandas partition on a worker (a ``Scorer``)."""

    def _predict_pandas(self, frame: pd.DataFrame, kind: str) -> Any: ...

    def _partial_pandas(self, frame: pd.DataFrame) -> Any: ...


def model_handle(model: PartitionScorer, client: Any = None) -> Any:
    """A scattered future of ``model`` (``hash=False``, no broadcast) or a delayed.

    Scattered to ``client``, else to the current default client; without any, one
    ``dask.delayed`` key.
    """
    client = client if client is not None else current_client()
    if client is not None:
        return client.scatter(model, hash=False)
    return dask.delayed(model, pure=False)


def _predict_partition(part: pd.DataFrame, model: PartitionScorer, kind: str) -> Any:
    return model._predict_pandas(part, kind)


def map_predict(model: PartitionScorer, frame: Any, kind: str, meta: Any) -> Any:
    """``frame.map_partitions`` of ``model._predict_pandas(partition, kind)``.

    Parameters
    ----------
    model : Scorer
    frame : dask.dataframe.DataFrame
    kind : str
        What to return per partition (see ``Scorer.predict_pandas``).
    meta : pandas.DataFrame or pandas.Series
        Empty object with the output's columns and dtypes.

    Returns
    -------
    dask.dataframe.DataFrame or Series
        Lazy; each partition keeps the input's index.
    """
    return frame.map_partitions(_predict_partition, model_handle(model), kind, meta=meta,
                                align_dataframes=False)


def _partial_partition(part: pd.DataFrame, model: PartitionScorer) -> Any:
    return model._partial_pandas(part)


def reduce_partials(model: PartitionScorer, frame: Any) -> Any:
    """Metric partials of every partition, merged (computed on the current scheduler)."""
    handle = model_handle(model)
    parts = [dask.delayed(_partial_partition)(p, handle) for p in frame.to_delayed()]
    merged = dask.delayed(_merge)(parts)
    return merged.compute()


def _merge(parts: list[Any]) -> Any:
    parts = [p for p in parts if p is not None]
    return merge_partials(parts) if parts else None
