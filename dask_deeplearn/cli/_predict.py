"""``dask-deeplearn predict``: score a CSV or Parquet dataset with a saved model."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._cluster import _client
from ._errors import CLIError
from ._files import _check_columns, _data_kind, _load, _read_pandas, _safe_to_replace


def _predict_frame(model: Any, frame: Any) -> Any:
    """H2O-style prediction frame of a pandas frame (a FittedModel of any estimator class):
    what the estimator's ``predict`` gives, as ``score_parquet`` scores each partition."""
    from ..io import input_columns
    from ..scorer import Scorer

    # H2O's predict of an autoencoder is its reconstruction
    kind = ("reconstruction" if model.task == "autoencoder"
            and model.estimator == "DeepLearningEstimator" else "h2o")
    return Scorer.from_fitted(model).predict_pandas(frame[input_columns(model)], kind)


def cmd_predict(args: argparse.Namespace) -> int:
    """Run ``dask-deeplearn predict``.

    Parameters
    ----------
    args : argparse.Namespace

    Returns
    -------
    int
        The exit code.
    """
    import pandas as pd

    from ..exceptions import DataError
    from ..io import input_columns, score_parquet
    from ..io.parquet import prepare_output

    model = _load(args.model)
    src = Path(args.input)
    kind_in = _data_kind(src)
    dst = Path(args.output)
    csv_out = dst.name.lower().endswith(".csv")
    keep = [str(c) for c in dict.fromkeys(args.keep or [])]
    if dst.resolve() == src.resolve():
        raise CLIError(f"the output {dst} is the input; choose another path")
    if csv_out and dst.is_dir():
        raise CLIError(f"output {dst} is a folder; a .csv output is written to a file")
    if dst.exists() and (dst.is_file() or any(dst.iterdir())):
        if not args.overwrite:
            raise CLIError(f"output {dst} exists; pass --overwrite to replace it")
        _safe_to_replace(dst)
    if not dst.parent.is_dir():
        raise CLIError(f"cannot write {dst}: directory {dst.parent} does not exist")
    if not csv_out:  # a Parquet folder: only our own part files are replaced
        prepare_output(dst, overwrite=args.overwrite)
    if kind_in == "parquet" and not csv_out:
        with _client(args.scheduler, embedded=True) as client:
            written = score_parquet(model, src, dst, keep=keep, client=client,
                                    overwrite=args.overwrite)
        print(f"Predictions written to {written}")
        return 0
    frame = _read_pandas(src)
    _check_columns(frame, keep, "--keep column(s)", f"input {src}")
    _check_columns(frame, input_columns(model), "model input column(s)", f"input {src}")
    pred = _predict_frame(model, frame).reset_index(drop=True)
    clash = [c for c in keep if c in pred.columns]
    if clash:
        raise DataError(f"--keep column(s) {clash} clash with prediction columns "
                        f"{list(pred.columns)}")
    result = pd.concat([frame[keep].reset_index(drop=True), pred], axis=1) if keep else pred
    if csv_out:
        result.to_csv(dst, index=False)
    else:
        dst.mkdir(exist_ok=True)
        result.to_parquet(dst / "part.00000.parquet", index=False)
    print(f"{len(result)} predictions written to {dst}")
    return 0

