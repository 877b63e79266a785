"""TensorFlow.js weight files, as tensorflowjs's write_weights writes them and tf.io.loadWeights reads them: a
`weights_manifest.json` listing groups of weights (name, shape, dtype, optional affine quantization to uint8 or
uint16) and each group's bytes cut into shards, concatenated in the order the weights are listed. Also the layout
before it, deeplearn.js's CheckpointLoader (magenta.js 0.x, still served by public demos): a `manifest.json` mapping
each variable to a file of its raw little-endian float32 values."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

MANIFEST = "weights_manifest.json"
DEEPLEARNJS_MANIFEST = "manifest.json"
SHARD_BYTES = 4 * 1024 * 1024  # tensorflowjs's default shard size (4 MB), so that browsers cache each shard
QUANTIZED = {1: np.uint8, 2: np.uint16}
DTYPES = {"float32": np.float32, "int32": np.int32, "uint8": np.uint8, "uint16": np.uint16}


class BadWeights(ValueError):
    """A manifest or shard this reader cannot use; the message says which and why."""


def quantize(data: np.ndarray, dtype) -> tuple[np.ndarray, dict]:
    """tensorflowjs's affine quantization: the range [min, max] in 2^bits - 1 steps, nudged so that 0 is exact."""
    low, high = float(data.min()), float(data.max())
    if low == high:
        return np.zeros_like(data, dtype), {"min": low, "scale": 1.0}
    top = np.iinfo(dtype).max
    scale = (high - low) / top
    if low <= 0 <= high:
        low = -round(-low / scale) * scale
    high = top * scale + low
    return np.round((data.clip(low, high) - low) / scale).astype(dtype), {"min": low, "scale": scale}


def write(
    folder: Path,
    weights: list[tuple[str, np.ndarray]],
    quantize_bytes: int | None = None,
    shard_bytes: int = SHARD_BYTES,
) -> None:
    """One group of float32 weights, optionally quantized to 1 or 2 bytes a weight."""
    entries, chunks = [], []
    for name, data in weights:
        data = np.ascontiguousarray(data, np.float32)
        entry = {"name": name, "shape": list(data.shape), "dtype": "float32"}
        if quantize_bytes:
            data, params = quantize(data, QUANTIZED[quantize_bytes])
            entry["quantization"] = {"dtype": data.dtype.name, **params, "original_dtype": "float32"}
        entries.append(entry)
        chunks.append(data.astype(data.dtype.newbyteorder("<")).tobytes())
    payload = b"".join(chunks)
    count = max(1, math.ceil(len(payload) / shard_bytes))
    paths = [f"group1-shard{i + 1}of{count}.bin" for i in range(count)]
    for i, path in enumerate(paths):
        (folder / path).write_bytes(payload[i * shard_bytes : (i + 1) * shard_bytes])
    (folder / MANIFEST).write_text(json.dumps([{"paths": paths, "weights": entries}]))


def read(get: Callable[[str], bytes]) -> dict[str, np.ndarray]:
    """Every weight as float32, dequantized as tf.io.loadWeights does (q·scale + min). `get` reads a file of the
    checkpoint by its relative path (from a folder or a URL)."""
    try:
        groups = json.loads(get(MANIFEST))
    except json.JSONDecodeError as e:
        raise BadWeights(f"{MANIFEST} is not JSON ({e})") from None
    weights = {}
    for group in groups:
        payload = b"".join(_shard(get, path) for path in group["paths"])
        offset = 0
        for entry in group["weights"]:
            quantization = entry.get("quantization")
            stored = quantization["dtype"] if quantization else entry["dtype"]
            if stored not in DTYPES:
                raise BadWeights(f"weight {entry['name']} is stored as {stored}; this reader takes {', '.join(DTYPES)}")
            dtype = np.dtype(DTYPES[stored]).newbyteorder("<")
            count = math.prod(entry["shape"])
            end = offset + count * dtype.itemsize
            if end > len(payload):
                raise BadWeights(f"weight {entry['name']} runs past the end of its shards ({len(payload)} bytes)")
            data = np.frombuffer(payload[offset:end], dtype).reshape(entry["shape"])
            if quantization:  # as tfjs: q·scale + min in double precision, then stored in a Float32Array
                data = data.astype(np.float64) * quantization["scale"] + quantization["min"]
            weights[entry["name"]] = data.astype(np.float32)
            offset = end
    return weights


def _shard(get: Callable[[str], bytes], path: str) -> bytes:
    try:
        return get(path)
    except ValueError as e:  # the reader's Unreadable: a folder or URL without this file
        raise BadWeights(
            f"{MANIFEST} lists {path}, which cannot be read ({e}): an incomplete copy of the checkpoint"
        ) from None


def read_deeplearnjs(get: Callable[[str], bytes]) -> dict[str, np.ndarray]:
    """Every weight of a deeplearn.js checkpoint: manifest.json's {name: {filename, shape}}, float32 each."""
    try:
        variables = json.loads(get(DEEPLEARNJS_MANIFEST))
    except json.JSONDecodeError as e:
        raise BadWeights(f"{DEEPLEARNJS_MANIFEST} is not JSON ({e})") from None
    weights = {}
    for name, entry in variables.items():
        try:
            data = get(entry["filename"])
        except ValueError as e:
            raise BadWeights(
                f"{DEEPLEARNJS_MANIFEST} lists {entry['filename']}, which cannot be read ({e}): an "
                f"incomplete copy of the checkpoint"
            ) from None
        if len(data) != 4 * math.prod(entry["shape"]):
            raise BadWeights(
                f"{entry['filename']} holds {len(data)} bytes, not the {4 * math.prod(entry['shape'])} "
                f"of a float32 {entry['shape']}"
            )
        weights[name] = np.frombuffer(data, "<f4").reshape(entry["shape"]).astype(np.float32)
    return weights
