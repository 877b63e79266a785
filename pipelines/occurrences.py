"""A window's occurrence in a file, and the occurrence the dedupe keeps, as the few bytes the runner holds per
window instead of its row.

Between stages a runner holds these (the FnApiRunner keeps a GroupByKey's whole input in memory), so they are
packed bytes, laid out so that ordering the bytes orders them as the dedupe and the shards need: no decoding to
choose or sort."""

from __future__ import annotations

import struct
from typing import NamedTuple

from pipelines.config import SPLITS

_OCCURRENCE = struct.Struct(">B16sI")  # split rank, md5, index; then the source path
_KEPT = struct.Struct(">16sIH")  # md5, index, number of sources; then their md5s, then the source path
_MD5 = 16


class Occurrence(NamedTuple):
    """A window at `index` of its file's windows, in row order (pipelines/staged.py)."""

    split: str
    md5: str
    index: int
    source: str

    def pack(self) -> bytes:
        """The smallest packed occurrence of a window is the one kept: first split, then row order, then the
        path, which decides only between copies of one file."""
        return _OCCURRENCE.pack(SPLITS.index(self.split), bytes.fromhex(self.md5), self.index) + self.source.encode()

    @classmethod
    def unpack(cls, packed: bytes) -> Occurrence:
        rank, md5, index = _OCCURRENCE.unpack_from(packed)
        return cls(SPLITS[rank], md5.hex(), index, packed[_OCCURRENCE.size :].decode())


class Kept(NamedTuple):
    """The occurrence a window's row is taken from, with the md5 of every file that holds the window."""

    md5: str
    index: int
    source: str
    sources: list[str]

    def pack(self) -> bytes:
        """Ordered as bytes by md5 then index: the shard's row order."""
        head = _KEPT.pack(bytes.fromhex(self.md5), self.index, len(self.sources))
        return head + b"".join(map(bytes.fromhex, self.sources)) + self.source.encode()

    @classmethod
    def unpack(cls, packed: bytes) -> Kept:
        md5, index, n = _KEPT.unpack_from(packed)
        end = _KEPT.size + n * _MD5
        sources = [packed[i : i + _MD5].hex() for i in range(_KEPT.size, end, _MD5)]
        return cls(md5.hex(), index, packed[end:].decode(), sources)
