"""The study's decoder comparison: each model's decoder-only bound (z fitted per window, lightning_modules/
generalization.py) on the same windows, beside Magenta's released mel_2bar_small decoder.

Magenta's weights come from ../shared/anchors/magenta_mel_2bar_small/deeplearnjs (the pre-1.0 deeplearn.js layout, one
raw float32 file per variable), which lacks the two encoder LSTM kernels: they are filled with seeded values, and
the rebuilt magenta.js folder is imported as `musicvae import magentajs` imports one. The bound never uses the encoder.

    python -m experiments.study.decoder_bound --windows SHARDS/mel_2bar:test --windows jazz=/path/jazz \\
        --checkpoint recipe=runs/recipe/models/best.ckpt --magenta ../shared/anchors/magenta_mel_2bar_small --out F.json
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import torch

from lightning_modules import generation
from lightning_modules.datamodule import read_tokens
from lightning_modules.evaluate import subset
from lightning_modules.generalization import decoder_bound, external_windows
from lightning_modules.magentajs import convert, manifest
from musicvae.extract import REPRESENTATIONS

ENCODER_KERNEL = "encoder/cell_0/bidirectional_rnn/{}/multi_rnn_cell/cell_0/lstm_cell/kernel"


def magenta_decoder(anchor: Path):
    """Magenta's released model with its real decoder (and seeded encoder LSTM kernels)."""
    layout = json.loads((anchor / "deeplearnjs" / "manifest.json").read_text())
    weights = [
        (name, np.fromfile(anchor / "deeplearnjs" / v["filename"], "<f4").reshape(v["shape"]))
        for name, v in layout.items()
        if name not in {ENCODER_KERNEL.format(d) for d in ("fw", "bw")}
    ]
    rng = np.random.default_rng(0)
    width = dict(weights)["encoder/cell_0/bidirectional_rnn/fw/multi_rnn_cell/cell_0/lstm_cell/bias"].shape[0]
    weights += [
        (ENCODER_KERNEL.format(d), rng.normal(0, 0.01, (90 + width // 4, width)).astype(np.float32))
        for d in ("fw", "bw")
    ]
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / convert.CONFIG).write_text((anchor / "tfjs" / "config.json").read_text())
        manifest.write(Path(folder), weights)
        loaded, _ = convert.load(folder)
    return loaded.model


def windows(spec: str, limit: int) -> tuple[str, torch.Tensor]:
    """NAME=FOLDER_OF_MIDI, or SHARD_FOLDER:SPLIT; a seeded choice of at most `limit` windows."""
    if "=" in spec:
        name, source = spec.split("=", 1)
        tokens, _ = external_windows(source, REPRESENTATIONS["mel_2bar"], workers=2)
    else:
        folder, split = spec.rsplit(":", 1)
        name, tokens = split, read_tokens(Path(folder), split)
    return name, subset(tokens, limit, 0).long()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--windows", action="append", required=True)
    parser.add_argument("--checkpoint", action="append", default=[], help="NAME=PATH of a musicvae checkpoint")
    parser.add_argument("--magenta", type=Path, help="the anchor folder of Magenta's released weights")
    parser.add_argument("--limit", type=int, default=256)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    models = {name: generation.load(Path(path)).model for name, path in (c.split("=", 1) for c in args.checkpoint)}
    if args.magenta:
        models["magenta"] = magenta_decoder(args.magenta)
    results = {}
    for spec in args.windows:
        name, tokens = windows(spec, args.limit)
        for model_name, model in models.items():
            results.setdefault(name, {})[model_name] = found = decoder_bound(model, tokens, args.steps)
            print(
                f"{name:>10} {model_name:>12}: greedy {found['greedy_accuracy']:.3f} (baseline "
                f"{found['majority_accuracy']:.3f}), pitch at onsets {found['greedy_pitch_at_onset']:.2f}, "
                f"{found['nats_per_window']:.2f} nats a window",
                flush=True,
            )
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
