"""The hashing trick of ``max_categorical_features`` (H2O ``Neurons.Input.setInput``).

H2O hashes every active one-hot index ``c`` (the expanded input index, missing-value
slot included) with the Hadoop variant of MurmurHash 2 (32 bit), fed with the 4-byte
big-endian encoding of ``c`` (``ByteBuffer.allocate(4).putInt(c)``) and the seed
``(int) model_seed``, and increments input slot ``|h % M|`` (Java remainder, then abs).

:func:`murmurhash2_32` is an exact transcription of the reference algorithm (Java ``int``
arithmetic, including the sign extension of the tail bytes that the Hadoop port has);
:func:`murmurhash2_32_ints` is its vectorised form for 4-byte big-endian integers, and
:func:`hash_slots` gives the slot of every one-hot index at once.
"""

from __future__ import annotations

import numpy as np

__all__ = ["to_int32", "murmurhash2_32", "murmurhash2_32_ints", "hash_slot", "hash_slots"]

_M = 0x5BD1E995
_R = 24
_MASK = 0xFFFFFFFF


def to_int32(value: int) -> int:
    """Wrap an integer to Java ``int`` (the low 32 bits, two's complement).

    Parameters
    ----------
    value : int
        Any Python integer (e.g. a 64-bit seed).

    Returns
    -------
    int
        ``(int) value`` as Java computes it, in ``[-2**31, 2**31)``.
    """
    v = int(value) & _MASK
    return v - (1 << 32) if v >= (1 << 31) else v


def murmurhash2_32(data: bytes, seed: int) -> int:
    """Hadoop ``MurmurHash.hash(data, length, seed)`` (MurmurHash 2, 32 bit), exactly.

    Parameters
    ----------
    data : bytes
        The bytes to hash.
    seed : int
        The seed; wrapped to a Java ``int`` first.

    Returns
    -------
    int
        The signed 32-bit hash, as the Java method returns it.
    """
    length = len(data)
    h = (to_int32(seed) ^ length) & _MASK
    len_4 = length >> 2
    for i in range(len_4):
        i4 = i << 2
        k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24)
        k = (k * _M) & _MASK
        k ^= k >> _R
        k = (k * _M) & _MASK
        h = (h * _M) & _MASK
        h ^= k
    left = length - (len_4 << 2)
    if left:
        # Java bytes are signed: ``(int) data[i]`` sign-extends before the shift.
        def sbyte(b: int) -> int:
            return b - 256 if b >= 128 else b

        if left >= 3:
            h ^= (sbyte(data[length - 3]) << 16) & _MASK
        if left >= 2:
            h ^= (sbyte(data[length - 2]) << 8) & _MASK
        h ^= sbyte(data[length - 1]) & _MASK
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return to_int32(h)


def murmurhash2_32_ints(values: np.ndarray, seed: int) -> np.ndarray:
    """Vectorised :func:`murmurhash2_32` of 4-byte big-endian ``int32`` values.

    Parameters
    ----------
    values : ndarray of int
        Integers representable as Java ``int``.
    seed : int
        The seed; wrapped to a Java ``int`` first.

    Returns
    -------
    ndarray of int32
        ``murmurhash2_32(int(v).to_bytes(4, "big", signed=True), seed)`` for every ``v``.
    """
    v = np.asarray(values, dtype=np.int64).astype(np.int32).view(np.uint32)
    m = np.uint32(_M)
    # The big-endian bytes are read back little-endian: k is the byte-swapped value.
    k = v.byteswap()
    with np.errstate(over="ignore"):
        k = k * m
        k ^= k >> np.uint32(_R)
        k = k * m
        h = np.full(v.shape, np.uint32((to_int32(seed) ^ 4) & _MASK), dtype=np.uint32)
        h = h * m
        h ^= k
        h ^= h >> np.uint32(13)
        h = h * m
        h ^= h >> np.uint32(15)
    return h.view(np.int32)


def hash_slot(index: int, n_slots: int, seed: int) -> int:
    """Input slot of one-hot index ``index`` under the hashing trick.

    Parameters
    ----------
    index : int
        The expanded one-hot index (Java ``int``).
    n_slots : int
        ``max_categorical_features`` (``M`` > 0).
    seed : int
        The model seed (wrapped to Java ``int``).

    Returns
    -------
    int
        ``abs(h % M)`` with Java's truncated remainder, in ``[0, M)``.
    """
    h = murmurhash2_32(to_int32(index).to_bytes(4, "big", signed=True), seed)
    return abs(h) % n_slots


def hash_slots(n_indices: int, n_slots: int, seed: int) -> np.ndarray:
    """Slots of one-hot indices ``0 .. n_indices - 1`` (a lookup table), vectorised.

    Parameters
    ----------
    n_indices : int
        Width of the one-hot layout (``cat_offsets[-1]``).
    n_slots : int
        ``max_categorical_features`` (``M`` > 0).
    seed : int
        The model seed.

    Returns
    -------
    ndarray of int64, shape (n_indices,)
    """
    h = murmurhash2_32_ints(np.arange(n_indices, dtype=np.int64), seed).astype(np.int64)
    # abs(java_remainder(h, M)) == abs(h) mod M
    return np.abs(h) % int(n_slots)
