"""What Magenta's data recipe costs the training loop: batches of the default shards' training windows fetched plain
(a seeded shuffle of a tensor) against drawn by the recipe (per-epoch caps, then every window transposed on the
fly), side by side in one run, next to the time of one training step on the same batches.

    python benchmarks/bench_recipe.py [--shards data/shards/mel_2bar] [--batches 200]

Goal: fetching a batch with the recipe costs under 5 % of a training step."""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import torch

from lightning_modules.components.musicvae import MusicVAE
from lightning_modules.datamodule import DataRecipe, ShardDataModule
from lightning_modules.experiment import load
from lightning_modules.representations import of_shards
from lightning_modules.vae_module import MusicVAEModule

CONFIG = "cat-mel_2bar_small-tf-cpu"
RECIPE = DataRecipe(transpose=(-5, 5), resample=True)  # Magenta's, as cat-mel_2bar_small carries it


def fetch_seconds(data: ShardDataModule, batches: int) -> float:
    """Seconds a batch, over `batches` batches (epochs restart as needed)."""
    data.setup()
    loader = data.train_dataloader()
    start = time.perf_counter()
    for _ in itertools.islice(itertools.chain.from_iterable(itertools.repeat(loader)), batches):
        pass
    return (time.perf_counter() - start) / batches


def step_seconds(experiment, batch: torch.Tensor, steps: int = 20) -> float:
    """Seconds of one forward and backward pass of the config's model on `batch` (fp32)."""
    module = MusicVAEModule(MusicVAE(experiment.model), experiment.training, experiment.representation)
    optimizer = torch.optim.Adam(module.parameters())
    module.model(batch.long(), 0.0)  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        optimizer.zero_grad()
        logits, _, _ = module.model(batch.long(), 0.0)
        sum(
            torch.nn.functional.cross_entropy(lg.transpose(1, 2), batch.long()[..., p]) for p, lg in enumerate(logits)
        ).backward()
        optimizer.step()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shards", type=Path, default=Path("data/shards/mel_2bar"))
    parser.add_argument("--batches", type=int, default=200)
    args = parser.parse_args()
    if not (args.shards / "manifest.json").exists():
        raise SystemExit(f"{args.shards}: no shards; run `dvc repro preprocess` (or `make run`) first")
    torch.set_num_threads(1)
    experiment = load(CONFIG)
    rep = of_shards(args.shards)
    plain = ShardDataModule(args.shards, experiment.batch_size, seed=0)
    recipe = ShardDataModule(args.shards, experiment.batch_size, seed=0, recipe=RECIPE, representation=rep)
    plain_s, recipe_s = fetch_seconds(plain, args.batches), fetch_seconds(recipe, args.batches)
    step = step_seconds(experiment, next(iter(recipe.train_dataloader()))[0])
    share = recipe_s / step
    print(
        f"{CONFIG}, batch {experiment.batch_size}, one thread: {len(plain.splits['train'])} training windows, "
        f"{len(recipe.sampler)} drawn per epoch by the recipe ({RECIPE})"
    )
    print(
        f"  fetch a batch, plain shuffle: {plain_s * 1e3:.2f} ms; with the recipe: {recipe_s * 1e3:.2f} ms "
        f"({recipe_s / plain_s:.1f}x)"
    )
    print(
        f"  one fp32 training step: {step * 1e3:.1f} ms; the recipe's fetch is {100 * share:.1f} % of it   "
        f"goal < 5 %: {'met' if share < 0.05 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
