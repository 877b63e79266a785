"""Exact windows deduplicated across the whole corpus, as Magenta's preprocessing does.

A window keeps the row of its first split (train, eval, test), then its smallest (md5, piece, start bar), and
the md5 of every file that holds it. A copy in the same split is a duplicate; a copy in a later split is
leakage: an eval or test window the model has already seen in training."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import apache_beam as beam
from apache_beam.metrics import Metrics

from pipelines.config import SPLITS
from pipelines.shards import row_order

STATS = "stats"
_RANK = {split: i for i, split in enumerate(SPLITS)}


def dedupe(element) -> Iterator[Any]:  # tagged outputs: no narrower type
    """((rep, window key), rows) → ((rep, split), kept row), plus STATS ((rep, counter), 1) per dropped copy."""
    (rep, _), rows = element
    rows = sorted(rows, key=lambda r: (_RANK[r["split"]], *row_order(r)))
    kept = rows[0]
    yield (rep, kept["split"]), kept | {"sources": sorted({r["md5"] for r in rows})}
    for row in rows[1:]:
        counter = "corpus_duplicates" if row["split"] == kept["split"] else f"leakage.{row['split']}"
        Metrics.counter("preprocess", f"{rep}.{counter}").inc()
        yield beam.pvalue.TaggedOutput(STATS, ((rep, counter), 1))
