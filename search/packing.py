"""Packed posting blocks: a block's ids delta-encoded into the smallest unsigned integer
type that holds them, and its weights (gram counts) likewise, each as one ``bytes``
object. A posting takes 1–3 bytes and a block becomes a numpy array without a Python
object per posting. ``search.whoosh_store`` writes Whoosh's posting blocks this way.
"""

from __future__ import annotations

import numpy as np

# Rebuilds keep a gram's count in a document in COUNT_BITS bits; ranking caps counts there too.
COUNT_BITS = 12
MAX_COUNT = (1 << COUNT_BITS) - 1

_UINT_TYPES = ((b"B", np.dtype("<u1")), (b"H", np.dtype("<u2")), (b"I", np.dtype("<u4")),
               (b"Q", np.dtype("<u8")))  # fmt: skip
_DTYPE_OF = {code[0]: dtype for code, dtype in _UINT_TYPES} | {ord("f"): np.dtype("<f4")}


def pack_uints(values: np.ndarray) -> bytes:
    """Non-negative integers as a type code byte and the smallest fixed-size array."""
    top = int(values.max()) if len(values) else 0
    for code, dtype in _UINT_TYPES:
        if top <= np.iinfo(dtype).max:
            return code + values.astype(dtype).tobytes()
    raise ValueError("value too large for a posting block")


def unpack(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=_DTYPE_OF[blob[0]], offset=1)


def pack_ids(ids) -> bytes:
    return pack_uints(np.diff(np.asarray(ids, dtype=np.int64), prepend=0))


def unpack_ids(blob: bytes) -> np.ndarray:
    return np.cumsum(unpack(blob), dtype=np.int64)


def pack_weights(weights) -> bytes | None:
    values = np.asarray(weights, dtype=np.float64)
    if (values == 1.0).all():
        return None
    if (values >= 0).all() and (values == np.floor(values)).all():
        return pack_uints(values.astype(np.int64))
    return b"f" + values.astype("<f4").tobytes()


def unpack_weights(blob: bytes | None, size: int) -> np.ndarray:
    if blob is None:
        return np.ones(size, dtype=np.int64)
    return unpack(blob)
