"""The files a command reads or replaces: data (CSV / Parquet), saved models, and the
guard against replacing the working directory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from ._errors import CLIError


def _data_kind(path: Path) -> str:
    """``"csv"`` or ``"parquet"`` from a path's extension (a directory is Parquet)."""
    if not path.exists():
        raise CLIError(f"{path} does not exist")
    if path.is_dir():
        return "parquet"
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        return "parquet"
    if ".csv" in suffixes[-2:]:  # data.csv, data.csv.gz
        return "csv"
    raise CLIError(f"cannot tell the format of {path}: expected a .csv file, a .parquet file "
                   "or a directory of Parquet files")


def _read_pandas(path: str | os.PathLike) -> Any:
    """Read a CSV or Parquet file/directory into a pandas DataFrame."""
    import pandas as pd

    p = Path(path)
    kind = _data_kind(p)
    try:
        return pd.read_csv(p) if kind == "csv" else pd.read_parquet(p)
    except Exception as exc:  # any parser / IO failure: the file cannot be used
        raise CLIError(f"cannot read {kind.upper() if kind == 'csv' else 'Parquet'} "
                       f"{p}: {type(exc).__name__}: {exc}") from None


def _read_dask(path: str | os.PathLike) -> Any:
    """Read a CSV or Parquet file/directory into a Dask DataFrame."""
    import dask.dataframe as dd

    p = Path(path)
    kind = _data_kind(p)
    try:
        return dd.read_csv(str(p)) if kind == "csv" else dd.read_parquet(str(p))
    except Exception as exc:
        raise CLIError(f"cannot read {kind.upper() if kind == 'csv' else 'Parquet'} "
                       f"{p}: {type(exc).__name__}: {exc}") from None


def _check_columns(frame: Any, columns: Sequence[str], what: str, source: Any) -> None:
    """Raise :class:`DataError` naming the ``columns`` missing from ``frame``."""
    from ..exceptions import DataError

    have = [str(c) for c in frame.columns]
    missing = [c for c in columns if c not in have]
    if missing:
        shown = ", ".join(have[:20]) + (", ..." if len(have) > 20 else "")
        raise DataError(f"{what} {', '.join(map(repr, missing))} not in {source} "
                        f"(columns: {shown})")


def _as_categorical(frame: Any, columns: Sequence[str]) -> Any:
    """``frame`` with ``columns`` converted to ``category`` (known categories for Dask)."""
    if not columns:
        return frame
    frame = frame.copy()
    if type(frame).__module__.startswith("dask"):
        import dask
        import pandas as pd

        uniques = dask.compute(*[frame[c].dropna().unique() for c in columns])
        for c, u in zip(columns, uniques):
            levels = sorted(pd.unique(pd.Series(u)).tolist(), key=lambda v: (str(type(v)), v))
            frame[c] = frame[c].astype(pd.CategoricalDtype(levels))
        return frame
    for c in columns:
        frame[c] = frame[c].astype("category")
    return frame


#: the estimator classes a model file may name, each with the rule its binomial labels
#: follow (as the classes' own ``_label_rule``): the commands that only read a model load
#: it as a FittedModel, without scikit-learn or the trainer
LABEL_RULES = {"DeepLearningClassifier": "argmax", "DeepLearningRegressor": "argmax",
               "DeepLearningEstimator": "threshold", "DeepLearningAutoEncoder": "threshold"}


def _load(path: str | os.PathLike) -> Any:
    """Read a saved model as a :class:`~dask_deeplearn.model.FittedModel`, with a one-line
    error for a missing path (numpy, pandas and the forward pass: no scikit-learn)."""
    from ..io.model_files import read_model

    p = Path(path)
    if not p.exists():
        raise CLIError(f"model {p} does not exist")
    return read_model(p, estimators=LABEL_RULES, stacklevel=2)


def _safe_to_replace(path: Path) -> None:
    """Refuse to delete the working directory, one of its parents, or the file system root."""
    resolved = path.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents or resolved == Path(resolved.anchor):
        raise CLIError(f"refusing to replace {path}: it is the working directory or one of "
                       "its parents")

