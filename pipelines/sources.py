"""The path a row names as its source: of the files with the row's content, the smallest path.

Identical files hold identical windows at the same places, so the path depends on the md5 alone and travels once
per file, not once per window: a record of the file's md5, split, the representations it gave windows to and its
path, which waits on disk with the others of its bucket of the md5 (pipelines/batches.py) until the bucket is
reduced to the smallest path of each md5."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import NamedTuple

from pipelines.config import SPLITS
from pipelines.packed import records

_SOURCE = struct.Struct(">16sBQI")  # md5, split rank, representations with windows (bit i: config's i-th), path length


class Source(NamedTuple):
    md5: str
    split: str
    reps: int  # bit i: the file gave windows to the config's i-th representation
    path: str  # relative to the corpus root

    def pack(self) -> bytes:
        path = self.path.encode()
        return _SOURCE.pack(bytes.fromhex(self.md5), SPLITS.index(self.split), self.reps, len(path)) + path

    @classmethod
    def unpack_all(cls, packed: bytes | bytearray) -> Iterator[tuple[Source, bytes]]:
        """Each of the concatenated packed records, with its bytes."""
        for (md5, rank, reps, _), path, end in records(packed, _SOURCE, lambda head: head[3]):
            yield cls(md5.hex(), SPLITS[rank], reps, packed[path:end].decode()), packed[path - _SOURCE.size : end]


def smallest_paths(packed: bytes) -> Iterator[tuple[Source, bytes]]:
    """Packed sources → the source of the smallest path of each md5, with its bytes."""
    smallest: dict[str, tuple[Source, bytes]] = {}
    for source, record in Source.unpack_all(packed):
        if source.md5 not in smallest or source.path < smallest[source.md5][0].path:
            smallest[source.md5] = source, record
    return iter(smallest.values())
