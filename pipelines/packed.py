"""Combining fixed- or self-delimited records as one bytes object per key, not a Python object per record.

A runner holds what crosses a GroupByKey (the FnApiRunner all of it, in memory), and a lifted combine's
accumulators for a whole bundle (in_memory: the whole stage). With the records of a key concatenated, what it
holds is a few bytes per record in a few large objects. The key carries a bucket of the record's hash, so that a
distributed runner still spreads the work over workers."""

from __future__ import annotations

import struct
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
