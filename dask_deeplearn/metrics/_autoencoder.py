"""Reconstruction metrics of an autoencoder (H2O's ``ModelMetricsAutoEncoder``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._model_metrics import ModelMetrics

__all__ = ["AutoEncoderPartial", "autoencoder_partial"]


class AutoEncoderPartial:
    """Mergeable sums of per-row reconstruction errors.

    H2O's autoencoder MSE is the plain (unweighted) mean over rows of each row's mean
    squared reconstruction error over the expanded, normalised input vector.
    Build it with :func:`autoencoder_partial`.
    """

    __slots__ = ("nobs", "sum_row_mse")

    def __init__(self) -> None:
        self.nobs = 0
        self.sum_row_mse = 0.0

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for k, v in state.items():
            setattr(self, k, v)

    def merge(self, other: "AutoEncoderPartial") -> "AutoEncoderPartial":
        """Merge with another partial (returns a new partial)."""
        if not isinstance(other, AutoEncoderPartial):
            raise TypeError(f"Cannot merge AutoEncoderPartial with {type(other).__name__}.")
        out = AutoEncoderPartial()
        out.nobs = self.nobs + other.nobs
        out.sum_row_mse = self.sum_row_mse + other.sum_row_mse
        return out

    def result(self, *, domain: Any = None, max_confusion_matrix_size: int = 20) -> ModelMetrics:
        """Final metrics (category ``"AutoEncoder"``: ``mse`` and ``rmse``).

        Parameters
        ----------
        domain, max_confusion_matrix_size
            Ignored (accepted for a uniform signature across partials).

        Returns
        -------
        ModelMetrics
        """
        mse = self.sum_row_mse / self.nobs if self.nobs else float("nan")
        return ModelMetrics("AutoEncoder", nobs=self.nobs, sum_weights=float(self.nobs),
                            mse=mse, rmse=math.sqrt(mse) if mse == mse else mse)


def autoencoder_partial(row_mse: Any) -> AutoEncoderPartial:
    """Partial of one block from its per-row reconstruction MSE.

    Parameters
    ----------
    row_mse : array-like of shape (n_samples,)
        ``mean_j (reconstruction_j - input_j)**2`` of each row.

    Returns
    -------
    AutoEncoderPartial
    """
    r = np.asarray(row_mse, dtype=np.float64)
    p = AutoEncoderPartial()
    p.nobs = int(r.shape[0])
    p.sum_row_mse = float(r.sum())
    return p
