"""`train.init_from`: training starts from a checkpoint's weights instead of an initialisation, as when fine-tuning
a released Magenta model that `musicvae import magentajs` brought in. The checkpoint decides the architecture (its
layer sizes, encoder and decoder); the experiment config still decides the training hyperparameters."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import torch

from lightning_modules.checkpoint import OldCheckpoint, load_model
from lightning_modules.dvc_outputs import refusal
from lightning_modules.experiment import Experiment


class Unusable(ValueError):
    """A train.init_from checkpoint that training cannot start from; the message says why."""


def start_from(path: str | Path, experiment: Experiment) -> tuple[Experiment, dict[str, torch.Tensor], str]:
    """The experiment with the checkpoint's architecture, its weights, and the checkpoint's SHA-256 (MLflow's record
    of which file it was)."""
    path = Path(path)
    if inside := refusal(path, "the checkpoint"):  # DVC has deleted it already, or will at the next run
        raise Unusable(f"train.init_from {path}: {inside[0]}; {inside[1]}")
    try:
        loaded = load_model(path)
    except (OSError, OldCheckpoint, KeyError, RuntimeError) as e:
        raise Unusable(f"train.init_from {path}: cannot be loaded ({e})") from None
    rep = experiment.representation
    if (loaded.representation.name, loaded.representation.kind) != (rep.name, rep.kind):
        raise Unusable(
            f"train.init_from {path}: its model is for {loaded.representation.name} windows, the shards "
            f"hold {rep.name}; choose a checkpoint of the representation model.config trains"
        )
    # the shards decide the windows' length, as for any training (experiment.cut_as)
    config = dataclasses.replace(loaded.model.config, classes=experiment.model.classes, steps=experiment.model.steps)
    return (
        dataclasses.replace(experiment, model=config),
        loaded.model.state_dict(),
        hashlib.sha256(path.read_bytes()).hexdigest(),
    )
