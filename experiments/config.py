"""Named experiment configs (experiments/configs/<name>.yaml): the representation, the model's sizes, the batch
size and Magenta's training hyperparameters. Selecting one is a single param: `dvc exp run -S model.config=NAME`;
params.yaml's `model.overrides` is merged over the named file, key by key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from omegaconf import OmegaConf

from lightning_modules.components.musicvae import ModelConfig
from lightning_modules.vae_module import TrainingConfig
from musicvae.extract import REPRESENTATIONS

CONFIGS = Path(__file__).resolve().parent / "configs"
# Parameters of Magenta's models (../shared/docs/musicvae_reference.md §3.4, for LSTMBlockCell + Dense). PyTorch's
# LSTMs carry two bias vectors where TF has one, so ours count slightly more.
MAGENTA_PARAMS = {"cat-mel_2bar_small": 4.4e6, "cat-mel_2bar_big": 134.6e6, "cat-drums_2bar_small": 4.6e6,
                  "flat-mel_16bar": 235e6, "hierdec-mel_16bar": 176e6, "hierdec-trio_16bar": 231e6}


@dataclass(frozen=True)
class Experiment:
    name: str
    representation: str
    model: ModelConfig
    batch_size: int
    training: TrainingConfig


def names() -> list[str]:
    return sorted(p.stem for p in CONFIGS.glob("*.yaml"))


def load(name: str, overrides: dict | None = None) -> Experiment:
    """The named config, with `overrides` (same layout, any subset of keys) merged over it."""
    path = CONFIGS / f"{name}.yaml"
    if not path.exists():
        raise ValueError(f"no experiment config {name!r}; choose from {', '.join(names())}")
    raw = OmegaConf.to_container(OmegaConf.merge(OmegaConf.load(path), OmegaConf.create(overrides or {})))
    rep = REPRESENTATIONS[raw["representation"]]
    sizes = {k: tuple(v) if isinstance(v, list) else v for k, v in raw["model"].items()}
    model = ModelConfig(kind=rep.kind, classes=rep.classes, steps=rep.steps, **sizes)
    return Experiment(name, rep.name, model, int(raw["batch_size"]), TrainingConfig(**raw.get("training", {})))
