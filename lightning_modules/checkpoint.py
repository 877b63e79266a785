"""Loading a trained MusicVAE without running code from the checkpoint: torch.load(weights_only=True) reads only
tensors and plain containers, and the model is rebuilt from the config saved beside the weights."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch

from lightning_modules.components.musicvae import ModelConfig, MusicVAE
from musicvae.extract import Representation


def _tuples(saved: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()}


class OldCheckpoint(ValueError):
    """A checkpoint from before checkpoints recorded their representation."""


def hyperparameters(config: ModelConfig, training, representation: Representation) -> dict:
    """The plain dict a checkpoint carries beside its weights, as `load_model` reads it: written by training
    (MusicVAEModule) and by the magenta.js import."""
    return {"model": asdict(config), "training": asdict(training), "representation": asdict(representation)}


def load_model(path: str | Path, map_location: str = "cpu") -> MusicVAE:
    checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    saved = checkpoint["hyper_parameters"]
    if "representation" not in saved:
        raise OldCheckpoint("made by an older version, it does not record how its training windows were cut")
    model = MusicVAE(ModelConfig(**_tuples(saved["model"])))
    model.load_state_dict({k.removeprefix("model."): v for k, v in checkpoint["state_dict"].items()})
    model.representation = Representation(**_tuples(saved["representation"]))
    model.learning = checkpoint.get("learning")  # the learning monitor's last verdict, when training recorded one
    model.global_step = checkpoint.get("global_step")  # the training steps done, which `musicvae studio` shows
    return model.eval()
