"""A window's occurrence in a file, and the occurrence the dedupe keeps, as the few bytes the runner holds per
window instead of its row.

They wait on disk in batches (pipelines/batches.py) until the dedupe reads those of one key, so they are
fixed-size records concatenated in a few large bytes objects, not a Python object per window, laid out so that
ordering the bytes orders them as the dedupe needs."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

from pipelines.config import SPLITS
from pipelines.packed import BUCKETS, records

# The window's sha1, its file's split rank, md5 and the window's index in the file's staged rows: sorted as bytes,
# a window's occurrences are together and the one the dedupe keeps comes first (first split, then row order).
OCCURRENCE = np.dtype([("window", "S20"), ("split", "u1"), ("md5", "S16"), ("index", ">u4")])
_KEPT = struct.Struct(">B16sII")  # split rank, md5, index, number of sources (a drum beat: many); then their md5s
MD5 = 16


def occurrences(windows: list[bytes], split: str, md5: str) -> Iterator[tuple[int, bytes]]:
    """A file's windows of one representation, as the sha1s of their tokens in row order (pipelines/staged.py), to
    their occurrences by bucket of the hash: (bucket, the bucket's occurrences concatenated). One element per bucket
    and file, not one per window: a runner's cost per element outweighs a record's."""
    table = np.empty(len(windows), OCCURRENCE)
    table["window"], table["split"], table["md5"] = windows, SPLITS.index(split), bytes.fromhex(md5)
    table["index"] = np.arange(len(windows))
    buckets = table.view(np.uint8).reshape(len(table), OCCURRENCE.itemsize)[:, 0] % BUCKETS  # bucket()'s
    order = np.argsort(buckets, kind="stable")
    ends = np.cumsum(np.bincount(buckets, minlength=BUCKETS)).tolist()
    for key, (start, end) in enumerate(zip([0, *ends[:-1]], ends, strict=True)):
        if end > start:
            yield key, table[order[start:end]].tobytes()


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
        for (rank, md5, index, _), tail, end in records(packed, _KEPT, lambda head: head[3] * MD5):
            sources = [packed[i : i + MD5].hex() for i in range(tail, end, MD5)]
            yield cls(SPLITS[rank], md5.hex(), index, sources), packed[tail - _KEPT.size : end]
