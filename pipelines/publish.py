"""Outputs written once, into a staging folder on the output's filesystem, and moved to their final names together
once every one is written: a killed run leaves no partial file where DVC or a reader looks.

Only names travel after the write, so what the runner holds at the end is a few bytes per output file, not the
shards themselves (WriteToFiles carries each record's bytes to its writer)."""

from __future__ import annotations

from apache_beam.io.filesystems import FileSystems

STAGING = ".staging"  # under the output; cleared when a run starts and removed when it ends


def publish(names: list[str], staging: str, output: str) -> None:
    FileSystems.rename([FileSystems.join(staging, n) for n in names], [FileSystems.join(output, n) for n in names])
