"""Windows from the preprocess stage's Parquet shards, as token tensors [N, steps, parts].

Tokens are read with Arrow from memory-mapped files and handed to torch without a copy; nothing decodes MIDI during
training. The training order is a seeded shuffle."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from lightning import LightningDataModule
from torch.utils.data import DataLoader, TensorDataset


def table_tokens(table: pa.Table) -> np.ndarray:
    """A shard's token column as [rows, steps, parts], without a copy."""
    tokens = table.column("tokens").combine_chunks()
    steps = tokens.type.list_size
    while hasattr(tokens, "flatten"):
        tokens = tokens.flatten()
    return tokens.to_numpy(zero_copy_only=True).reshape(table.num_rows, steps, -1)


def read_tokens(folder: Path, split: str) -> torch.Tensor:
    """All windows of a split: uint8 or int16 [N, steps, parts] (a trio's parts are its last axis)."""
    arrays = [table_tokens(pq.read_table(path, columns=["tokens"], memory_map=True))
              for path in sorted(Path(folder).glob(f"{split}-*.parquet"))]
    if not arrays:
        raise FileNotFoundError(f"{folder}: no {split}-*.parquet shard: the {split} split is empty (more files or a "
                                f"larger preprocess.splits.{split}), or the preprocess stage has not run")
    tokens = np.concatenate(arrays) if len(arrays) > 1 else arrays[0]
    if tokens.dtype == np.uint16:  # torch has no uint16 arithmetic; drum classes (< 512) fit int16
        tokens = tokens.astype(np.int16)
    with warnings.catch_warnings():  # a read-only memory map; the tensor is never written
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(tokens)


class ShardDataModule(LightningDataModule):
    def __init__(self, shards: str | Path, batch_size: int, num_workers: int = 0, seed: int = 0):
        super().__init__()
        self.folder = Path(shards)
        self.batch_size, self.num_workers, self.seed = batch_size, num_workers, seed
        self.splits: dict[str, TensorDataset] = {}

    @property
    def manifest(self) -> dict:
        return json.loads((self.folder / "manifest.json").read_text())

    def setup(self, stage: str | None = None) -> None:
        for split in ("train", "eval"):  # the evaluate stage reads the test split itself
            if split not in self.splits and self.manifest["splits"][split]["rows"]:
                self.splits[split] = TensorDataset(read_tokens(self.folder, split))

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        if split not in self.splits:
            raise ValueError(f"{self.folder}: the {split} split is empty")
        data = self.splits[split]
        return DataLoader(data, batch_size=min(self.batch_size, len(data)), shuffle=shuffle, drop_last=shuffle,
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0,
                          generator=torch.Generator().manual_seed(self.seed) if shuffle else None)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("eval", shuffle=False)
