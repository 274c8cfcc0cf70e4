"""Numba kernels: numpy + numba only, never Dask or pandas.

:func:`train_partition` is the unit of work every backend runs where the data lives.

Modules, one concern each: :mod:`.activations` (the activation registry and its jitted
dispatch), :mod:`.losses` (output errors), :mod:`.update` (update rules), :mod:`._rng`
(random numbers and dropout), :mod:`.arguments` (the kernels' named arguments),
:mod:`.per_sample` and :mod:`.mini_batch` (the two training kernels), :mod:`.hogwild`
(threads over one local block).
"""

from .hogwild import KernelParams, select_rows, train_partition

__all__ = ["KernelParams", "select_rows", "train_partition"]
