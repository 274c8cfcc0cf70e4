"""Numba kernels: numpy + numba only, never Dask or pandas.

:func:`train_partition` is the unit of work every backend runs where the data lives.
"""

from .hogwild import KernelParams, select_rows, train_partition

__all__ = ["KernelParams", "select_rows", "train_partition"]
