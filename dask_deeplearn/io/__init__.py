"""Model files (safe JSON + ``.npy``, atomic writes) and Parquet batch scoring.

:func:`read_model` and :func:`write_model` read and write
:class:`~dask_deeplearn.model.FittedModel` values; ``load_model`` (which wraps the value
in its estimator class) lives with the estimators and is importable from here too.
"""

from typing import Any

from .model_files import FORMAT_VERSION, read_model, save_model, write_model
from .parquet import input_columns, score_parquet

__all__ = ["FORMAT_VERSION", "load_model", "read_model", "save_model", "write_model",
           "input_columns", "score_parquet"]


def __getattr__(name: str) -> Any:
    # load_model needs the estimator classes; they are imported on first use, so
    # importing this package never imports dask_deeplearn.estimators
    if name == "load_model":
        from ..estimators import load_model

        return load_model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"load_model"})
