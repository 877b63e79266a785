"""Fixed- or self-delimited records concatenated as one bytes object per key, not a Python object per record, and
the bucket of a record's hash that keys them.

They wait on disk in batches (pipelines/batches.py) and a step reads those of one key at a time: a few bytes per
record in a few large objects. The bucket in the key lets a distributed runner spread that work over workers."""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator

BUCKETS = 64  # per representation: few batches per worker, enough keys for a distributed runner's workers


def bucket(digest: bytes) -> int:
    return digest[0] % BUCKETS


def records(packed: bytes | bytearray, head: struct.Struct, tail: Callable[[tuple], int]) -> Iterator[tuple]:
    """Walks concatenated self-delimited records: a fixed `head`, then `tail(head's fields)` more bytes. Yields
    each record's head fields, and where its tail starts and it ends."""
    start = 0
    while start < len(packed):
        fields = head.unpack_from(packed, start)
        end = start + head.size + tail(fields)
        yield fields, start + head.size, end
        start = end
