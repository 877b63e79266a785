"""Loading a trained MusicVAE without running code from the checkpoint: torch.load(weights_only=True) reads only
tensors and plain containers, and the model is rebuilt from the config saved beside the weights."""

from __future__ import annotations

from pathlib import Path

import torch

from lightning_modules.components.musicvae import ModelConfig, MusicVAE


def load_model(path: str | Path, map_location: str = "cpu") -> MusicVAE:
    checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    saved = checkpoint["hyper_parameters"]["model"]
    config = ModelConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()})
    model = MusicVAE(config)
    model.load_state_dict({k.removeprefix("model."): v for k, v in checkpoint["state_dict"].items()})
    model.learning = checkpoint.get("learning")  # the learning monitor's last verdict, when training recorded one
    return model.eval()
