"""Windows from the preprocess stage's Parquet shards, as token tensors [N, steps, parts].

Tokens are read with Arrow from memory-mapped files and handed to torch without a copy; nothing decodes MIDI during
training. The training order is a seeded shuffle. With a config's data recipe (Magenta's), each epoch also draws
afresh which windows of each piece and file train (the shards then hold every training window) and how far each is
transposed (and, by our augmentations, displaced and played staccato); the draws are seeded by the seed and the
epoch, so a run repeats and a resumed one draws the same."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from lightning import LightningDataModule
from torch.utils.data import DataLoader, Dataset, Sampler, TensorDataset

from musicvae.augment import capped_draw, displace, staccato, transpose
from musicvae.extract import Representation


@dataclass(frozen=True)
class DataRecipe:
    """Magenta's input pipeline around the windows (magenta/models/music_vae/data.py: `NoteSequenceAugmenter`,
    `get_dataset`), for the training split only."""

    transpose: tuple[int, int] | None = None  # semitones, both ends included: Magenta's melody configs (-5, 5)
    # Each epoch, at most the representation's max_per_piece windows of each piece and then of each file, drawn
    # afresh: Magenta's converters cap every config's windows so, at random, but its dataset cache() freezes the
    # first draw (and transposition). False trains on every window of the shards.
    resample: bool = True
    # Not Magenta's: each window delayed by this many sixteenths, both ends included, drawn afresh each epoch
    # (musicvae.augment.displace), so that tunes on the beat also train off it
    displace: tuple[int, int] | None = None
    # Not Magenta's: the share of windows played staccato each epoch (musicvae.augment.staccato), so that a model
    # trained on legato tunes also hears notes that end before the next begins
    staccato: float = 0.0


def table_tokens(table: pa.Table) -> np.ndarray:
    """A shard's token column as [rows, steps, parts], without a copy."""
    tokens = table.column("tokens").combine_chunks()
    steps = tokens.type.list_size
    while hasattr(tokens, "flatten"):
        tokens = tokens.flatten()
    return tokens.to_numpy(zero_copy_only=True).reshape(table.num_rows, steps, -1)


def read_tokens(folder: Path, split: str) -> torch.Tensor:
    """All windows of a split: uint8 or int16 [N, steps, parts] (a trio's parts are its last axis)."""
    arrays = [
        table_tokens(pq.read_table(path, columns=["tokens"], memory_map=True))
        for path in sorted(Path(folder).glob(f"{split}-*.parquet"))
    ]
    if not arrays:
        raise FileNotFoundError(
            f"{folder}: no {split}-*.parquet shard: the {split} split is empty (more files or a "
            f"larger preprocess.splits.{split}), or the preprocess stage has not run"
        )
    tokens = np.concatenate(arrays) if len(arrays) > 1 else arrays[0]
    if tokens.dtype == np.uint16:  # torch has no uint16 arithmetic; drum classes (< 512) fit int16
        tokens = tokens.astype(np.int16)
    with warnings.catch_warnings():  # a read-only memory map; the tensor is never written
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(tokens)


def read_groups(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Per row of the split, in read_tokens' order: an id of its piece and an id of its file."""
    tables = [pq.read_table(path, columns=["md5", "piece"]) for path in sorted(Path(folder).glob(f"{split}-*.parquet"))]
    md5 = np.concatenate([t.column("md5").to_numpy(zero_copy_only=False) for t in tables]).astype(str)
    piece = np.concatenate([t.column("piece").to_numpy() for t in tables]).astype(np.int64)
    _, files = np.unique(md5, return_inverse=True)
    return files * (int(piece.max()) + 1) + piece, files


class Augmented(Dataset):
    """Windows fetched by (row, semitones, sixteenths of delay, staccato or not)."""

    def __init__(self, tokens: torch.Tensor, kind: str):
        self.tokens, self.kind = tokens.numpy(), kind

    def __len__(self) -> int:
        return len(self.tokens)

    def __getitem__(self, draw: tuple[int, int, int, bool]) -> tuple[torch.Tensor]:
        row, shift, delay, detached = draw
        window = displace(transpose(self.tokens[row], shift, self.kind), delay, self.kind)
        window = staccato(window, self.kind) if detached else window
        # a copy: an unaugmented window is a view of the read-only memory map
        return (torch.from_numpy(np.array(window)),)


class RecipeSampler(Sampler):
    """Each epoch the windows the caps keep, in a random order, each with its transposition, delay and articulation,
    as (row, semitones, sixteenths, staccato). The fit loop calls set_epoch before every epoch."""

    def __init__(
        self,
        groups: tuple[np.ndarray, np.ndarray],
        cap: int | None,
        shifts: tuple[int, int] | None,
        seed: int,
        delays: tuple[int, int] | None = None,
        staccato: float = 0.0,
    ):
        self.pieces, self.files = groups
        self.cap, self.shifts, self.seed, self.epoch = cap, shifts or (0, 0), seed, 0
        self.delays, self.staccato = delays, staccato
        self.size = len(capped_draw(self.pieces, self.files, cap, np.random.default_rng(0)))

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.size

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        rows = rng.permutation(capped_draw(self.pieces, self.files, self.cap, rng))
        shifts = rng.integers(self.shifts[0], self.shifts[1] + 1, len(rows))
        # ours drawn after Magenta's, and only when asked, so a recipe without them draws what it always drew
        delays = rng.integers(self.delays[0], self.delays[1] + 1, len(rows)) if self.delays else np.zeros_like(rows)
        detached = rng.random(len(rows)) < self.staccato if self.staccato else np.zeros(len(rows), bool)
        return iter(zip(rows.tolist(), shifts.tolist(), delays.tolist(), detached.tolist()))


class ShardDataModule(LightningDataModule):
    def __init__(
        self,
        shards: str | Path,
        batch_size: int,
        num_workers: int = 0,
        seed: int = 0,
        recipe: DataRecipe | None = None,
        representation: Representation | None = None,
    ):
        """Without a `recipe` (and the `representation` of the shards it needs) training windows are shuffled."""
        super().__init__()
        self.folder = Path(shards)
        self.batch_size, self.num_workers, self.seed, self.recipe = batch_size, num_workers, seed, recipe
        self.representation = representation
        self.splits: dict[str, Dataset] = {}
        self.sampler: RecipeSampler | None = None

    @property
    def manifest(self) -> dict:
        return json.loads((self.folder / "manifest.json").read_text())

    def setup(self, stage: str | None = None) -> None:
        for split in ("train", "eval"):  # the evaluate stage reads the test split itself
            if split not in self.splits and self.manifest["splits"][split]["rows"]:
                self.splits[split] = TensorDataset(read_tokens(self.folder, split))
        recipe = self.recipe
        augments = recipe and (recipe.transpose or recipe.resample or recipe.displace or recipe.staccato)
        if augments and self.sampler is None and "train" in self.splits:
            rep = self.representation
            self.splits["train"] = Augmented(self.splits["train"].tensors[0], rep.kind)
            self.sampler = RecipeSampler(
                read_groups(self.folder, "train"),
                rep.max_per_piece if recipe.resample else None,
                recipe.transpose,
                self.seed,
                recipe.displace,
                recipe.staccato,
            )

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        if split not in self.splits:
            raise ValueError(f"{self.folder}: the {split} split is empty")
        data = self.splits[split]
        if shuffle and self.sampler is not None:
            return DataLoader(
                data,
                batch_size=min(self.batch_size, len(self.sampler)),
                sampler=self.sampler,
                drop_last=True,
                num_workers=self.num_workers,
                persistent_workers=self.num_workers > 0,
            )
        return DataLoader(
            data,
            batch_size=min(self.batch_size, len(data)),
            shuffle=shuffle,
            drop_last=shuffle,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            generator=torch.Generator().manual_seed(self.seed) if shuffle else None,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("eval", shuffle=False)
