"""Model files (safe JSON + ``.npy``, atomic writes) and Parquet batch scoring."""

from .model_files import FORMAT_VERSION, load_model, save_model
from .parquet import input_columns, score_parquet

__all__ = ["FORMAT_VERSION", "load_model", "save_model", "input_columns", "score_parquet"]
