"""Batch scoring of partitioned Parquet datasets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from ..exceptions import DataError

__all__ = ["score_parquet", "input_columns"]


def input_columns(model: Any) -> list[str]:
    """Columns a fitted model reads when scoring (features, and the offset column)."""
    info = model.data_info_
    cols = [str(c) for c in info.used_columns]
    offset = model.params_.get("offset_column")
    if offset is not None and offset not in cols:
        cols.append(str(offset))
    return cols


def _score_partition(part: pd.DataFrame, model: Any, keep: list[str], features: list[str]) -> pd.DataFrame:
    pred = model._predict_pandas(part[features], "h2o")
    if not keep:
        return pred.reset_index(drop=True)
    out = part[keep].copy()
    for c in pred.columns:
        # .array keeps a string label column as strings (.to_numpy() makes Python objects)
        out[c] = pred[c].array if len(part) else pred[c]
    return out.reset_index(drop=True)


def score_parquet(
    model: Any,
    src: str | os.PathLike,
    dst: str | os.PathLike,
    *,
    columns: Sequence[str] | None = None,
    keep: Sequence[str] | None = None,
    client: Any = None,
    compression: str = "snappy",
    overwrite: bool = False,
    storage_options: dict[str, Any] | None = None,
) -> Path | str:
    """Score a partitioned Parquet dataset and write the predictions as Parquet.

    Reads ``src`` with ``dask.dataframe.read_parquet``, predicts every partition with the
    model sent once per worker (a scattered future with a client, one delayed key
    otherwise), and writes one output file per input partition (``part.00000.parquet``,
    ...), so the partitioning is preserved. (The needed columns are selected inside each
    task, not by the reader: Dask fuses small files into fewer partitions when a reader
    projects columns.)

    Parameters
    ----------
    model : fitted estimator
    src, dst : str or PathLike
        Input dataset (a directory, glob or list understood by ``read_parquet``) and
        output directory.
    columns : sequence of str, optional
        Model input columns to read (default: :func:`input_columns`).
    keep : sequence of str, optional
        Columns copied to the output before the predictions (e.g. row ids).
    client : distributed.Client, optional
        Run on this cluster (default: Dask's current scheduler).
    compression : str, default="snappy"
    overwrite : bool, default=False
        Replace an existing output directory.
    storage_options : dict, optional
        Passed to ``read_parquet`` and ``to_parquet`` (remote file systems).

    Returns
    -------
    The output path.

    Raises
    ------
    DataError
        A model column or a ``keep`` column is not in the dataset, or ``dst`` exists and
        ``overwrite`` is False.
    """
    import dask
    import dask.dataframe as dd

    from ..distributed.predict import model_handle

    model._check_fitted()
    features = list(columns) if columns is not None else input_columns(model)
    keep = [str(c) for c in (keep or [])]
    if isinstance(dst, (str, os.PathLike)) and "://" not in str(dst):
        dst_path = Path(dst)
        if dst_path.exists() and any(dst_path.iterdir()) and not overwrite:
            raise DataError(f"Output {dst_path} exists and is not empty; pass overwrite=True "
                            "to replace it.")
    try:
        ddf = dd.read_parquet(src, storage_options=storage_options)
    except (FileNotFoundError, OSError, ValueError) as exc:
        raise DataError(f"Cannot read Parquet dataset {src!s}: {exc}") from None
    available = list(ddf.columns)
    missing = [c for c in features + keep if c not in available]
    if missing:
        raise DataError(
            f"Columns {missing} are not in the Parquet dataset {src!s} (it has "
            f"{available[:20]}{'...' if len(available) > 20 else ''})."
        )
    pred_meta = model._predict_meta("h2o")
    meta = ddf._meta[keep].copy() if keep else pd.DataFrame()
    for c in pred_meta.columns:
        meta[c] = pred_meta[c]
    meta = meta.reset_index(drop=True)
    handle = model_handle(model._scorer(), client=client)  # no sklearn/numba on workers
    out = ddf.map_partitions(_score_partition, handle, keep, features, meta=meta,
                             align_dataframes=False)
    # one output file per input file: no fusing of small files into bigger partitions
    with dask.config.set({"dataframe.parquet.minimum-partition-size": 1}):
        job = out.to_parquet(dst, compression=compression, write_index=False,
                             name_function=lambda i: f"part.{i:05d}.parquet",
                             overwrite=overwrite, storage_options=storage_options,
                             compute=client is None)
        if client is not None:
            client.compute(job).result()
    return Path(dst) if "://" not in str(dst) else str(dst)
