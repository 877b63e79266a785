"""A model the tests train in under a minute on one CPU core until it has memorised a few dozen 2-bar windows:
small enough to be quick, trained long enough that its reconstructions, interpolations and attribute vectors work,
which a model at its baseline (the `trained` fixture's) cannot show; and the same model stopped at that baseline.

Measured on 2 busy cores: 64 windows at 400 steps reach greedy accuracy 0.97-1.00 on them for seeds 0-2, and their
note-density vector moves density by 1.2-1.5 of its spread each way. 32 windows are memorised as well, but for one
seed their vector moved density the wrong way; β = 1 instead of 0.2 keeps the decoder from using z at all."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq

REPRESENTATION = "mel_2bar"
WINDOWS = 64
STEPS = 400
BASELINE_STEPS = 6  # the majority-class baseline: greedy decoding writes only holds and rests
# The debug config made a flat 2-bar model, teacher-forced at a high learning rate, one batch of all the windows a
# step; β 0.2 from the first step orders the codes enough for attribute vectors to work.
OVERRIDES = {
    "representation": REPRESENTATION,
    "batch_size": WINDOWS,
    "model": {"hierarchical": False, "z_size": 16, "enc_rnn_size": [128], "dec_rnn_size": [128]},
    "training": {"learning_rate": 0.01, "max_beta": 0.2, "beta_rate": 0.0, "free_bits": 0},
    "data": {"resample": False},
}  # every window every step: Magenta's caps would hide most of them


def _split(table, folder: Path, name: str) -> dict:
    path = folder / f"{name}-00000-of-00001.parquet"
    pq.write_table(table, path)
    shard = {
        "file": path.name,
        "rows": table.num_rows,
        "bytes": path.stat().st_size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    return {"rows": table.num_rows, "shards": [shard]}


def first_windows(shards: Path, out: Path) -> Path:
    """A shard folder of the first WINDOWS training windows of `shards`: its train split, and its eval split too, so
    that validation and the learning monitor measure the memorising. The manifest is the original's otherwise."""
    source, folder = shards / REPRESENTATION, out / REPRESENTATION
    folder.mkdir(parents=True)
    manifest = json.loads((source / "manifest.json").read_text())
    (train,) = source.glob("train-*.parquet")
    chosen = pq.read_table(train).slice(0, WINDOWS)
    manifest["splits"] |= {name: _split(chosen, folder, name) for name in ("train", "eval")}
    (test,) = source.glob("test-*.parquet")
    manifest["splits"]["test"] = _split(pq.read_table(test), folder, "test")
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return out


def train_both(shards: Path, root: Path) -> dict:
    """The memorising model and its baseline: their models/ folders, the shard folder they trained on, and the
    MLflow store and run the memorising model logged to."""
    import torch

    from lightning_modules.experiment import load
    from lightning_modules.train import train
    from tests.support import training_settings

    memorised = first_windows(shards, root / "shards")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    experiment = load("debug", OVERRIDES)
    threads = torch.get_num_threads()
    try:
        records = {}
        for name, steps in (("learned", STEPS), ("baseline", BASELINE_STEPS)):
            # One thread: a model this small gains nothing from more, and on a busy machine two threads waiting on
            # each other took over 40 times as long. fp32: the same numbers on every CPU, with or without AMX.
            settings = training_settings.settings(
                max_steps=steps, val_every_n_steps=steps, threads=1, precision="32-true"
            )
            records[name] = train(experiment, settings, memorised, root / name, uri)
    finally:
        torch.set_num_threads(threads)  # train() sets it for the whole process
    return {
        "learned": root / "learned",
        "baseline": root / "baseline",
        "shards": memorised / REPRESENTATION,
        "uri": uri,
        "run_id": records["learned"]["run_id"],
    }
