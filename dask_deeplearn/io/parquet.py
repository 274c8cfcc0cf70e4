"""Batch scoring of partitioned Parquet datasets."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from ..exceptions import DataError
from ..model import FittedModel, HasFittedModel, as_fitted
from ..scorer import Scorer

__all__ = ["score_parquet", "input_columns"]


_NOT_FITTED = ("This {name} instance is not fitted yet. Call 'fit' (or 'train') with "
               "appropriate arguments before using this estimator.")


def input_columns(model: FittedModel | HasFittedModel) -> list[str]:
    """Columns a fitted model reads when scoring (features, and the offset column)."""
    fitted = as_fitted(model, _NOT_FITTED)
    cols = [str(c) for c in fitted.data_info.used_columns]
    offset = fitted.params.get("offset_column")
    if offset is not None and offset not in cols:
        cols.append(str(offset))
    return cols


#: the files score_parquet (and ``dask-deeplearn predict``) write in an output folder
_PART = re.compile(r"part\.\d{5}\.parquet")


def prepare_output(dst: str | os.PathLike, *, overwrite: bool,
                   storage_options: dict[str, Any] | None = None) -> None:
    """Make ``dst`` ready for new part files without touching files we did not write.

    An absent or empty folder is fine. A non-empty one is refused unless ``overwrite``; then
    its ``part.NNNNN.parquet`` files (ours) are removed, and any other entry makes it
    refuse, naming them (they are never deleted).

    Parameters
    ----------
    dst : str or PathLike
        Output folder (local, or a URL understood by fsspec).
    overwrite : bool
    storage_options : dict, optional

    Raises
    ------
    DataError
        ``dst`` is a file, is not empty and ``overwrite`` is False, or holds entries that
        are not our part files.
    """
    from fsspec.core import url_to_fs

    fs, path = url_to_fs(os.fspath(dst), **(storage_options or {}))
    if not fs.exists(path):
        return
    if not fs.isdir(path):
        raise DataError(f"Output {dst!s} exists and is a file, not a folder of Parquet files; "
                        "choose another path.")
    entries = fs.ls(path, detail=True)
    if not entries:
        return
    if not overwrite:
        raise DataError(f"Output {dst!s} exists and is not empty; pass overwrite=True to "
                        "replace it.")
    ours = [e["name"] for e in entries
            if e["type"] == "file" and _PART.fullmatch(e["name"].rstrip("/").rsplit("/", 1)[-1])]
    foreign = sorted(e["name"].rstrip("/").rsplit("/", 1)[-1] for e in entries
                     if e["name"] not in ours)
    if foreign:
        raise DataError(
            f"Output {dst!s} holds entries that were not written by score_parquet "
            f"({', '.join(foreign[:10])}{', ...' if len(foreign) > 10 else ''}); overwrite=True "
            "replaces only its own part.NNNNN.parquet files and never deletes others: move "
            "them or choose another folder.")
    for name in ours:
        fs.rm(name)


def _score_partition(part: pd.DataFrame, scorer: Scorer, keep: list[str],
                     features: list[str]) -> pd.DataFrame:
    pred = scorer.predict_pandas(part[features], "h2o")
    if not keep:
        return pred.reset_index(drop=True)
    out = part[keep].copy()
    for c in pred.columns:
        # .array keeps a string label column as strings (.to_numpy() makes Python objects)
        out[c] = pred[c].array if len(part) else pred[c]
    return out.reset_index(drop=True)


def score_parquet(
    model: FittedModel | HasFittedModel,
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
    model : FittedModel or fitted estimator
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
        Write into an existing non-empty output directory, replacing the
        ``part.NNNNN.parquet`` files a previous run wrote there. Any other file or folder in
        it is never deleted: its presence is refused, even with ``overwrite=True``.
    storage_options : dict, optional
        Passed to ``read_parquet`` and ``to_parquet`` (remote file systems).

    Returns
    -------
    The output path.

    Raises
    ------
    DataError
        A model column or a ``keep`` column is not in the dataset, ``dst`` is not empty
        and ``overwrite`` is False, or ``dst`` holds files score_parquet did not write.
    """
    import dask
    import dask.dataframe as dd

    from ..distributed.predict import model_handle

    scorer = Scorer.from_fitted(as_fitted(model, _NOT_FITTED))
    features = list(columns) if columns is not None else input_columns(model)
    keep = [str(c) for c in (keep or [])]
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
    if isinstance(src, (str, os.PathLike)) and isinstance(dst, (str, os.PathLike)):
        from fsspec.core import url_to_fs

        src_path = url_to_fs(os.fspath(src), **(storage_options or {}))[1].rstrip("/") + "/"
        dst_path = url_to_fs(os.fspath(dst), **(storage_options or {}))[1].rstrip("/") + "/"
        if src_path.startswith(dst_path):
            raise DataError(f"The output {dst!s} is the input {src!s} or holds it; choose "
                            "another output folder.")
    prepare_output(dst, overwrite=overwrite, storage_options=storage_options)
    pred_meta = scorer.meta("h2o")
    meta = ddf._meta[keep].copy() if keep else pd.DataFrame()
    for c in pred_meta.columns:
        meta[c] = pred_meta[c]
    meta = meta.reset_index(drop=True)
    handle = model_handle(scorer, client=client)  # no sklearn/numba on workers
    out = ddf.map_partitions(_score_partition, handle, keep, features, meta=meta,
                             align_dataframes=False)
    # one output file per input file: no fusing of small files into bigger partitions
    with dask.config.set({"dataframe.parquet.minimum-partition-size": 1}):
        job = out.to_parquet(dst, compression=compression, write_index=False,
                             name_function=lambda i: f"part.{i:05d}.parquet",
                             storage_options=storage_options,
                             compute=client is None)
        if client is not None:
            client.compute(job).result()
    return Path(dst) if "://" not in str(dst) else str(dst)
