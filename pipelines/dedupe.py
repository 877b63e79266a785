"""Exact windows deduplicated across the whole corpus, as Magenta's preprocessing does.

A window keeps the row of its first split (train, eval, test), then its smallest (md5, piece, start bar), and
the md5 of every file that holds it. A copy in the same split is a duplicate; a copy in a later split is
leakage: an eval or test window the model has already seen in training. Only occurrences are grouped, a few
dozen bytes each (pipelines/occurrences.py): rows wait on disk (pipelines/staged.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipelines.occurrences import Kept, Occurrence

STATS = "stats"


def dedupe(element) -> Iterator[Any]:  # tagged outputs: no narrower type
    """((rep, window key), packed occurrences) → ((rep, split), packed Kept), plus STATS ((rep, counter), 1) per
    dropped copy."""
    (rep, _), packed = element
    kept, *copies = map(Occurrence.unpack, sorted(packed))
    sources = sorted({kept.md5, *(copy.md5 for copy in copies)})
    yield (rep, kept.split), Kept(kept.md5, kept.index, kept.source, sources).pack()
    for copy in copies:
        counter = "corpus_duplicates" if copy.split == kept.split else f"leakage.{copy.split}"
        Metrics.counter("preprocess", f"{rep}.{counter}").inc()
        yield beam.pvalue.TaggedOutput(STATS, ((rep, counter), 1))
