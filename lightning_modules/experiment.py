"""Named experiment configs (experiments/configs/<name>.yaml): the representation, the model's sizes, the batch
size, Magenta's training hyperparameters and its data recipe (transposition, per-epoch caps). A config names the one
it varies as `base` and states only what differs (Magenta's own configs state everything). Selecting one is a single
param: `dvc exp run -S model.config=NAME`; params.yaml's `model.overrides` is merged over the named file, key by key.

The representation's settings (bars, programs, caps) are not the config's: they come from the shards' manifest,
which records how the windows were cut, so the model is built for the data it trains on."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from importlib.resources import files

from omegaconf import OmegaConf

from lightning_modules.components.musicvae import ModelConfig
from lightning_modules.datamodule import DataRecipe
from lightning_modules.representations import Mismatch
from lightning_modules.vae_module import TrainingConfig
from musicvae.extract import REPRESENTATIONS, Representation

CONFIGS = files("experiments") / "configs"  # package data: in the repository and in an installed wheel alike
# Parameters of Magenta's models (magenta/models/music_vae/configs.py `CONFIG_MAP`, counted for LSTMBlockCell and
# Dense layers as lstm_models.py builds them). PyTorch's
# LSTMs carry two bias vectors where TF has one, so ours count slightly more.
MAGENTA_PARAMS = {
    "cat-mel_2bar_small": 4.4e6,
    "cat-mel_2bar_big": 134.6e6,
    "cat-drums_2bar_small": 4.6e6,
    "flat-mel_16bar": 235e6,
    "hierdec-mel_16bar": 176e6,
    "hierdec-trio_16bar": 231e6,
}
SIZES = ("z_size", "enc_rnn_size", "dec_rnn_size")  # what every config must give, itself or through its base
# What a config file may set, section by section (ModelConfig's kind, classes and steps come from the data).
SECTIONS = {
    "base": None,
    "representation": None,
    "batch_size": None,
    "model": {f.name for f in dataclasses.fields(ModelConfig)} - {"kind", "classes", "steps"},
    "training": {f.name for f in dataclasses.fields(TrainingConfig)},
    "data": {f.name for f in dataclasses.fields(DataRecipe)},
}


@dataclass(frozen=True)
class Experiment:
    name: str
    representation: Representation
    model: ModelConfig
    batch_size: int
    training: TrainingConfig
    data: DataRecipe = DataRecipe()


def names() -> list[str]:
    return sorted(p.name.removesuffix(".yaml") for p in CONFIGS.iterdir() if p.name.endswith(".yaml"))


def _check_keys(raw: dict, name: str) -> None:
    """A mistyped key would otherwise be a bare TypeError, or silently ignored."""
    for key, value in raw.items():
        if key not in SECTIONS:
            raise ValueError(f"config {name}: unknown key {key!r}; valid keys: {', '.join(SECTIONS)}")
        unknown = sorted(set(value) - SECTIONS[key]) if SECTIONS[key] else []
        if unknown:
            raise ValueError(
                f"config {name}: unknown key {key}.{unknown[0]}; valid {key} keys: {', '.join(sorted(SECTIONS[key]))}"
            )


def _raw(name: str, seen: tuple[str, ...] = ()) -> dict:
    """The named file merged over its bases, key by key (a list replaces its base's)."""
    path = CONFIGS / f"{name}.yaml"
    if not path.is_file():
        raise ValueError(f"no experiment config {name!r}; choose from {', '.join(names())}")
    if name in seen:
        raise ValueError(f"config {seen[0]}: its bases loop back to {name}")
    raw = OmegaConf.create(path.read_text())
    base = raw.pop("base", None)
    return OmegaConf.merge(_raw(base, (*seen, name)) if base else {}, raw)


def load(name: str, overrides: dict | None = None) -> Experiment:
    """The named config, with `overrides` (same layout, any subset of keys) merged over it, for its representation's
    built-in settings (`cut_as` adapts it to the shards')."""
    raw = OmegaConf.to_container(OmegaConf.merge(_raw(name), OmegaConf.create(overrides or {})))
    _check_keys(raw, name)
    for key in ("representation", "batch_size", "model"):
        if key not in raw:
            raise ValueError(f"config {name}: no {key}, in the file or its bases")
    rep = REPRESENTATIONS[raw["representation"]]
    sizes = {k: tuple(v) if isinstance(v, list) else v for k, v in raw["model"].items()}
    unset = [f.name for f in dataclasses.fields(ModelConfig) if f.name in SIZES and f.name not in sizes]
    if unset:  # no silent fallback to the paper's sizes
        raise ValueError(f"config {name}: no model.{unset[0]}, in the file or its bases")
    model = ModelConfig(kind=rep.kind, classes=rep.classes, steps=rep.steps, **sizes)
    data = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.get("data", {}).items()}
    return Experiment(
        name, rep, model, int(raw["batch_size"]), TrainingConfig(**raw.get("training", {})), DataRecipe(**data)
    )


def cut_as(experiment: Experiment, rep: Representation) -> Experiment:
    """The experiment for windows cut as `rep` (a shard manifest's record): the model's length follows the data."""
    if (rep.name, rep.kind) != (experiment.representation.name, experiment.representation.kind):
        raise Mismatch(
            f"config {experiment.name} is for {experiment.representation.name} windows, but the shards "
            f"hold {rep.name} ({rep.kind}) windows"
        )
    model = dataclasses.replace(experiment.model, classes=rep.classes, steps=rep.steps)
    return dataclasses.replace(experiment, representation=rep, model=model)
