"""Occurrences, sources and dead letters wait on disk, as rows do (pipelines/staged.py): a converting worker appends
them to a batch per key and writes each full batch to a file of its own, and only the file's name travels on. So
do the occurrences the dedupe keeps and the sources, on their way to their shards.

The dedupe needs every occurrence of a key at once, a source is the smallest of its md5's paths, and the dead
letters are sorted as a whole, so a runner would otherwise hold all of them until the conversion ends: 41 bytes a
window, some 80 a file and a few hundred a rejected file, what still grew with the corpus. Names are emitted only
by bundles that complete, so a retried bundle's files are never read twice."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator

from apache_beam.io.filesystems import FileSystems

FOLDER = ".occurrences"  # under the output; cleared when a run starts and removed when it ends
BATCH = 1 << 16  # bytes: a few hundred files' occurrences of one key; the worker holds at most one per key


class Batches:
    """One worker's batches, by key; `add` and `flush` give (key, file name) for each batch written."""

    def __init__(self, folder: str):
        self.folder, self.pending = folder, defaultdict(bytearray)

    def add(self, key: Hashable, packed: bytes) -> Iterator[tuple[Hashable, str]]:
        batch = self.pending[key]
        batch += packed
        if len(batch) >= BATCH:
            yield key, write(self.folder, self.pending.pop(key))

    def flush(self) -> Iterator[tuple[Hashable, str]]:
        for key, batch in self.pending.items():
            yield key, write(self.folder, batch)
        self.pending.clear()


def write(folder: str, data: bytes | bytearray) -> str:
    """`data` as a file of its own in `folder`; its name."""
    name = FileSystems.join(folder, f"{uuid.uuid4().hex}.bin")
    with FileSystems.create(name) as f:
        f.write(data)
    return name


def read(names: Iterable[str]) -> bytes:
    """A key's batches, concatenated in the order of their names (the dedupe sorts its records anyway)."""
    found = []
    for name in sorted(names):
        with FileSystems.open(name) as f:
            found.append(f.read())
    return b"".join(found)
