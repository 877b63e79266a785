"""Parquet shards of windows: the schema and one shard's bytes.

Tokens are fixed-size integer lists (trio: [steps][3]), so pandas, Spark and Arrow readers get the shape
from the file itself, and the data module reads them without copying."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from musicvae.extract import Representation

ROW_GROUP = 8192  # rows


def _numpy_type(rep: Representation) -> type:
    return np.uint8 if max(rep.classes) <= 256 else np.uint16


def token_type(rep: Representation) -> pa.DataType:
    item = pa.from_numpy_dtype(_numpy_type(rep))
    if rep.kind == "trio":
        item = pa.list_(item, len(rep.classes))
    return pa.list_(item, rep.steps)


def schema(rep: Representation) -> pa.Schema:
    return pa.schema(
        [
            ("tokens", token_type(rep)),
            ("source", pa.string()),  # path relative to the corpus root, of the file this row was taken from
            ("md5", pa.string()),
            ("sources", pa.list_(pa.string())),  # md5 of every file that holds this exact window
            ("piece", pa.int32()),  # time-split piece of the file
            ("start_bar", pa.int32()),
            ("qpm", pa.float64()),
            ("programs", pa.list_(pa.int16())),  # General MIDI programs of the melodic parts
        ],
        metadata={"musicvae.representation": rep.name, "musicvae.classes": ",".join(map(str, rep.classes))},
    )


def row_order(row: dict) -> tuple:
    """Total: two instruments with one program can give windows at the same bar."""
    return row["md5"], row["piece"], row["start_bar"], row["programs"], row["tokens"]


def to_parquet(rep: Representation, rows: list[dict]) -> bytes:
    """One shard, rows in a stable order, so equal rows give equal bytes."""
    rows = sorted(rows, key=row_order)
    tokens = pa.array(np.frombuffer(b"".join(r["tokens"] for r in rows), _numpy_type(rep)))
    if rep.kind == "trio":
        tokens = pa.FixedSizeListArray.from_arrays(tokens, len(rep.classes))
    tokens = pa.FixedSizeListArray.from_arrays(tokens, rep.steps)
    fields = schema(rep)
    columns = [tokens] + [pa.array([r[f.name] for r in rows], f.type) for f in list(fields)[1:]]
    sink = io.BytesIO()
    # Row groups bound the writer's working memory: it needs about 12 bytes a token for the group it writes (a
    # 40,000-row trio shard in one group peaked at 470 MB in Arrow's pool, in groups of 8,192 rows at 114 MB).
    pq.write_table(pa.Table.from_arrays(columns, schema=fields), sink, compression="zstd", row_group_size=ROW_GROUP)
    # Arrow's allocator (mimalloc) keeps what it freed: without this, each shard's peak stays in the RSS.
    pa.default_memory_pool().release_unused()
    return sink.getvalue()
