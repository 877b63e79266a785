"""Combining fixed- or self-delimited records as one bytes object per key, not a Python object per record.

A runner holds what crosses a GroupByKey (the FnApiRunner all of it, in memory), and a lifted combine's
accumulators for a whole bundle (in_memory: the whole stage). With the records of a key concatenated, what it
holds is a few bytes per record in a few large objects. The key carries a bucket of the record's hash, so that a
distributed runner still spreads the work over workers."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator

import apache_beam as beam
from apache_beam import coders

BUCKETS = 64  # per representation: few accumulators per bundle, enough for a distributed runner's workers


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


class Concatenate(beam.CombineFn):
    """Accumulates its inputs' bytes; extract_output is the subclass's."""

    def create_accumulator(self) -> bytearray:
        return bytearray()

    def add_input(self, accumulator: bytearray | bytes, record: bytes) -> bytearray:
        if isinstance(accumulator, bytes):  # merged, or decoded
            accumulator = bytearray(accumulator)
        accumulator += record
        return accumulator

    def merge_accumulators(self, accumulators) -> bytes:
        return b"".join(accumulators)

    def compact(self, accumulator: bytearray | bytes) -> bytes:
        return bytes(accumulator)  # as the accumulator coder encodes it

    def get_accumulator_coder(self) -> coders.Coder:
        return coders.BytesCoder()


class SortedLines(beam.CombineFn):
    """Lines, each with its newline, as one bytes object of them sorted: a file whose bytes do not depend on the
    order they came in. Held zlib-compressed in chunks (dead letters are a few hundred bytes a file, and JSON with
    paths compresses several times), as (compressed chunks, the last lines' bytes)."""

    CHUNK = 1 << 18

    def create_accumulator(self) -> tuple[list[bytes], bytearray]:
        return [], bytearray()

    def add_input(self, accumulator, line: bytes):
        chunks, last = accumulator
        last = last if isinstance(last, bytearray) else bytearray(last)  # merged, or decoded
        last += line
        if len(last) >= self.CHUNK:
            chunks.append(zlib.compress(last, 1))
            last = bytearray()
        return chunks, last

    def merge_accumulators(self, accumulators):
        chunks, last = [], bytearray()
        for more, lines in accumulators:
            chunks += more
            last += lines
        return self.compact((chunks, last))

    def compact(self, accumulator) -> tuple[list[bytes], bytes]:
        chunks, last = accumulator
        return chunks + [zlib.compress(last, 1)] if last else chunks, b""  # as the accumulator coder encodes it

    def extract_output(self, accumulator) -> bytes:
        chunks, last = accumulator
        lines = b"".join([*map(zlib.decompress, chunks), last]).splitlines(keepends=True)
        lines.sort()
        return b"".join(lines)
