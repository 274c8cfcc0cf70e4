"""Preprocessing: the fitted column plan (:class:`DataInfo`) and its float32 blocks."""

from __future__ import annotations

from .data_info import Block, DataInfo
from .hashing import hash_slot, hash_slots, murmurhash2_32, murmurhash2_32_ints

__all__ = ["DataInfo", "Block", "murmurhash2_32", "murmurhash2_32_ints", "hash_slot", "hash_slots"]
