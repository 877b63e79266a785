"""A window's occurrence in a file, and the occurrence the dedupe keeps, as the few bytes the runner holds per
window instead of its row.

Between stages a runner holds these (the FnApiRunner keeps a GroupByKey's whole input in memory, and a lifted
combine's accumulators for a whole bundle), so they are fixed-size records concatenated in a few large bytes
objects, not a Python object per window, laid out so that ordering the bytes orders them as the dedupe needs."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from pipelines.config import SPLITS

# The window's sha1, its file's split rank, md5 and the window's index in the file's staged rows: sorted as bytes,
# a window's occurrences are together and the one the dedupe keeps comes first (first split, then row order).
OCCURRENCE = np.dtype([("window", "S20"), ("split", "u1"), ("md5", "S16"), ("index", ">u4")])
_KEPT = struct.Struct(">B16sII")  # split rank, md5, index, number of sources (a drum beat: many); then their md5s
MD5 = 16


def occurrence(window: bytes, split: str, md5: str, index: int) -> bytes:
    """`window` is the sha1 of the window's tokens; `index` its place in its file's windows, in row order
    (pipelines/staged.py)."""
    return window + struct.pack(">B16sI", SPLITS.index(split), bytes.fromhex(md5), index)


class Kept(NamedTuple):
    """The occurrence a window's row is taken from, with the md5 of every file that holds the window. Its source
    path is its md5's (pipelines/sources.py): identical files hold identical windows."""

    split: str
    md5: str
    index: int
    sources: list[str]

    def pack(self) -> bytes:
        head = _KEPT.pack(SPLITS.index(self.split), bytes.fromhex(self.md5), self.index, len(self.sources))
        return head + b"".join(map(bytes.fromhex, self.sources))

    @classmethod
    def unpack_all(cls, packed: bytes) -> Iterator[tuple[Kept, bytes]]:
        """Each of the concatenated packed records, with its bytes."""
        start = 0
        while start < len(packed):
            rank, md5, index, n = _KEPT.unpack_from(packed, start)
            end = start + _KEPT.size + n * MD5
            sources = [packed[i : i + MD5].hex() for i in range(start + _KEPT.size, end, MD5)]
            yield cls(SPLITS[rank], md5.hex(), index, sources), packed[start:end]
            start = end
