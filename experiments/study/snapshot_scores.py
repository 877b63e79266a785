"""The study's scores over training: greedy accuracy and pitch at onsets of checkpoints saved along one run, on the
test split and on held-out collections, each next to its majority-class baseline, and how like each set the prior's
samples are (musicvae.realism). The evaluate stage scores only the run's best checkpoint; this shows whether a
held-out score is still rising when training stops.

    python -m experiments.study.snapshot_scores --windows SHARDS/mel_2bar:test --windows jazz=/path/jazz \\
        --limit 1024 --out F.json CHECKPOINT...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from experiments.study.decoder_bound import windows
from lightning_modules import generation
from musicvae import learning, metrics
from musicvae.realism import attribute_overlap
from musicvae.temperature import GREEDY

SAMPLES_TEMPERATURE = 0.5  # params.yaml's eval.samples.temperature, Magenta's default


def scores(model, tokens: torch.Tensor, sampled: torch.Tensor, batch: int = 256) -> dict:
    """Greedy decoding from the posterior mean, as the evaluate stage's greedy accuracy; the prior's samples
    against the windows, as its attribute overlap."""
    with torch.no_grad():
        _, mu, _ = generation.encode(model, tokens, batch)
        greedy = generation.decode(model, mu, GREEDY, batch)[..., 0]
    onsets = metrics.onsets(greedy, tokens[..., 0])
    return {
        "greedy": float(metrics.accuracy(greedy, tokens[..., 0])),
        "pitch_at_onset": onsets["pitch_at_onset"],
        "majority": learning.majority_accuracy(tokens),
        "samples_overlap": attribute_overlap(sampled[..., 0].numpy(), tokens[..., 0].numpy())["mean"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--windows", action="append", required=True, help="NAME=FOLDER_OF_MIDI or SHARDS:SPLIT")
    parser.add_argument("--limit", type=int, default=1024, help="a seeded choice of at most this many windows")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    sets = dict(windows(spec, args.limit) for spec in args.windows)
    results = []
    for checkpoint in args.checkpoints:
        loaded = generation.load(checkpoint)
        row = {"checkpoint": checkpoint.name, "step": loaded.global_step}
        torch.manual_seed(0)
        with torch.no_grad():
            sampled = loaded.model.sample(args.limit, SAMPLES_TEMPERATURE)
        for name, tokens in sets.items():
            row[name] = found = scores(loaded.model, tokens, sampled)
            print(
                f"{checkpoint.name} step {loaded.global_step:>6}: {name} greedy {found['greedy']:.3f} (baseline "
                f"{found['majority']:.3f}), pitch at onsets {found['pitch_at_onset']:.2f}, samples' overlap "
                f"{found['samples_overlap']:.2f}",
                flush=True,
            )
        results.append(row)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
