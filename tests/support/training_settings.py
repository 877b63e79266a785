"""params.yaml's `train` section made short for tests: no wall-clock cap, every step logged, a small monitor; and a
bare Lightning trainer."""

import sys
from pathlib import Path

import lightning
import yaml

from lightning_modules.settings import TrainSettings, train_settings
from tests.support import PARAMS


def settings(**changes) -> TrainSettings:
    # A small learning monitor: the tests validate often, and it decodes its windows greedily each time.
    return train_settings(
        yaml.safe_load(PARAMS.read_text())["train"]
        | {"max_minutes": None, "log_every_n_steps": 1, "monitor": {"windows": 32, "greedy": 4}}
        | changes
    )


def bare_trainer(**kwargs) -> lightning.Trainer:
    """A CPU trainer that writes nothing: no logger, checkpoints, progress bar or summary."""
    return lightning.Trainer(
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        **kwargs,
    )


SHORT = settings(max_steps=12, val_every_n_steps=6)  # a run that validates twice


def train_stage(folder: Path, shards: Path) -> list[str]:
    """The train stage as dvc.yaml runs it, reading folder/params.yaml and writing folder/models."""
    params, out = str(folder / "params.yaml"), str(folder / "models")
    return [sys.executable, "-m", "lightning_modules.train", "--params", params, "--shards", str(shards), "--out", out]
