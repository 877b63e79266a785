"""Exact windows deduplicated across the whole corpus, as Magenta's preprocessing does.

A window keeps the row of its first split (train, eval, test), then its smallest (md5, piece, start bar), and
the md5 of every file that holds it. A copy in the same split is a duplicate; a copy in a later split is
leakage: an eval or test window the model has already seen in training. Only occurrences are read, 41 bytes each
(pipelines/occurrences.py), those of one (representation, bucket of the window's hash) at a time
(pipelines/batches.py): rows wait on disk (pipelines/staged.py)."""

from __future__ import annotations

import numpy as np

from pipelines.config import SPLITS
from pipelines.occurrences import MD5, OCCURRENCE, Kept

_PAIR = np.dtype([("window", "u8"), ("md5", "S16")])


def _hex(md5: bytes) -> str:
    """numpy gives a bytes field without its trailing zero bytes."""
    return md5.ljust(MD5, b"\0").hex()


def dedupe(packed: bytes | bytearray) -> tuple[bytes, dict[str, int]]:
    """Packed occurrences of one key → (packed Kept records, counts): corpus_duplicates, leakage.<split> and
    splits.<split>.windows, the rows kept."""
    # Sorted as bytes: by window, the kept occurrence first.
    records = np.sort(np.frombuffer(packed, f"S{OCCURRENCE.itemsize}")).view(OCCURRENCE)
    first = np.ones(len(records), bool)
    first[1:] = records["window"][1:] != records["window"][:-1]
    window = np.cumsum(first) - 1  # of each occurrence, as the index of its kept one
    kept, copies = records[first], records[~first]
    kept_split = kept["split"][window[~first]]  # of each copy's window
    counts = {"corpus_duplicates": int((copies["split"] == kept_split).sum())}
    for rank, split in enumerate(SPLITS):
        counts[f"splits.{split}.windows"] = int((kept["split"] == rank).sum())
        if rank:
            counts[f"leakage.{split}"] = int(((copies["split"] == rank) & (kept_split != rank)).sum())
    pairs = np.empty(len(records), _PAIR)
    pairs["window"], pairs["md5"] = window, records["md5"]
    pairs = np.unique(pairs)  # the distinct files of each window, by md5
    ends = np.cumsum(np.bincount(pairs["window"], minlength=len(kept)))
    sources = [_hex(md5) for md5 in pairs["md5"].tolist()]
    packed_kept, start = [], 0
    for (_, rank, md5, index), end in zip(kept.tolist(), ends.tolist(), strict=True):
        packed_kept.append(Kept(SPLITS[rank], _hex(md5), index, sources[start:end]).pack())
        start = end
    return b"".join(packed_kept), counts
