"""Loading a trained MusicVAE without running code from the checkpoint: torch.load(weights_only=True) reads only
tensors and plain containers, and the model is rebuilt from the config saved beside the weights."""

from __future__ import annotations

from dataclasses import asdict, dataclass
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


@dataclass(frozen=True)
class LoadedModel:
    """A trained model as its checkpoint gives it: the network, in eval mode, and what it records beside the weights."""

    model: MusicVAE
    representation: Representation  # how its training windows were cut: every command cuts a file the same way
    learning: dict | None = None  # the learning monitor's last verdict, when training recorded one
    global_step: int | None = None  # the training steps done, which `musicvae studio` shows


def load_model(path: str | Path, map_location: str = "cpu") -> LoadedModel:
    checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    saved = checkpoint["hyper_parameters"]
    if "representation" not in saved:
        raise OldCheckpoint("made by an older version, it does not record how its training windows were cut")
    model = MusicVAE(ModelConfig(**_tuples(saved["model"])))
    model.load_state_dict({k.removeprefix("model."): v for k, v in checkpoint["state_dict"].items()})
    representation = Representation(**_tuples(saved["representation"]))
    return LoadedModel(model.eval(), representation, checkpoint.get("learning"), checkpoint.get("global_step"))
