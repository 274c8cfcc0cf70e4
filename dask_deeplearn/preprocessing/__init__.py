"""Preprocessing: the fitted column plan (:class:`DataInfo`) and its float32 blocks.

:mod:`.data_info` holds the value and its description format, :mod:`.options` the
preprocessing options a fit takes, :mod:`.fit` fits the plan in one pass over the data and
:mod:`.transform` applies it to a pandas frame.
"""

from __future__ import annotations

from .data_info import Block, DataInfo
from .hashing import hash_slot, hash_slots, murmurhash2_32, murmurhash2_32_ints
from .options import PreprocessingOptions

__all__ = ["DataInfo", "Block", "PreprocessingOptions", "murmurhash2_32", "murmurhash2_32_ints",
           "hash_slot", "hash_slots"]
