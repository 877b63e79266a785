"""What a preprocessing output holds, written after the pipeline: shard checksums and row counts per split,
the configuration hash and the code version. Training records this file in MLflow."""

from __future__ import annotations

import functools
import hashlib
import json
from importlib import metadata
from pathlib import Path

import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from musicvae.extract import Representation
from pipelines.config import SPLITS, PreprocessConfig

# The code that makes windows: exactly the code deps of dvc.yaml's preprocess stage (a test checks), hashed file by
# file as DVC does, so that a code change the stage does not depend on leaves the manifest's bytes alone.
SOURCES = ("musicvae/codecs", "musicvae/extract.py", "musicvae/midi.py", "musicvae/timing.py", "pipelines")


@functools.cache
def code_version() -> dict:
    """The installed version and a hash of the code that makes windows; unlike a git commit it changes only
    when that code does, so the manifest stays byte-identical across unrelated commits."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    files = (root / s for s in SOURCES)
    for path in sorted(p for f in files for p in (f.rglob("*") if f.is_dir() else [f])
                       if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return {"musicvae": metadata.version("musicvae"), "source_sha256": digest.hexdigest()}


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
