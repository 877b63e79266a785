"""What a preprocessing output holds, written after the pipeline: shard checksums and row counts per split,
the configuration hash and the code version. Training records this file in MLflow."""

from __future__ import annotations

import functools
import hashlib
import json
from importlib import metadata

import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from musicvae.extract import Representation
from musicvae.provenance import code_sha256
from pipelines.config import SPLITS, PreprocessConfig


@functools.cache
def code_version() -> dict:
    """The installed version and a hash of the code the preprocess command runs (its import closure); unlike a git
    commit it changes only when that code does, so the manifest stays byte-identical across unrelated commits."""
    return {"musicvae": metadata.version("musicvae"), "source_sha256": code_sha256("pipelines.preprocess")}


def _describe(path: str) -> dict:
    digest, size = hashlib.sha256(), 0
    with FileSystems.open(path) as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    entry = {"file": path.rsplit("/", 1)[-1], "bytes": size, "sha256": digest.hexdigest()}
    if path.endswith(".parquet"):
        with FileSystems.open(path) as f:
            entry["rows"] = pq.ParquetFile(f).metadata.num_rows
    return entry


def _files(folder: str, pattern: str) -> list[str]:
    return sorted(m.path for m in FileSystems.match([FileSystems.join(folder, pattern)])[0].metadata_list)


def write(output: str, config: PreprocessConfig, rep: Representation, input: str, report: dict) -> dict:
    folder = FileSystems.join(output, rep.name)
    splits = {}
    for split in SPLITS:
        shards = [_describe(p) for p in _files(folder, f"{split}-*.parquet")]
        splits[split] = {"rows": sum(s["rows"] for s in shards), "shards": shards}
    manifest = {
        "representation": rep.name,
        "config": config.settings(rep),
        "config_hash": config.hash(rep),
        "code_version": code_version(),
        "input": input,
        "splits": splits,
        "dead_letters": _describe(FileSystems.join(folder, "dead_letters.jsonl")),
        "report": report,
    }
    with FileSystems.create(FileSystems.join(folder, "manifest.json")) as f:
        f.write(json.dumps(manifest, indent=1, sort_keys=True).encode() + b"\n")
    return manifest
