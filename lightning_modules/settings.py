"""params.yaml's `train` and `eval` sections, typed: these dataclasses are their one schema, and params.yaml is the
one place their values are written (no field has a default, so a key params.yaml lacks is an error, not a silent
fallback). OmegaConf checks each section against its schema: a mistyped key or a value of the wrong type names
itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import MISSING, OmegaConf
from omegaconf.errors import OmegaConfBaseException


@dataclass
class Monitor:
    windows: int = MISSING  # of the eval split, judged at every validation
    greedy: int = MISSING  # of those, decoded greedily


@dataclass
class TrainSettings:
    max_steps: int | None = MISSING
    max_minutes: float | None = MISSING
    seed: int = MISSING
    init_from: str | None = MISSING
    num_workers: int = MISSING
    val_every_n_steps: int = MISSING
    log_every_n_steps: int = MISSING
    precision: str = MISSING
    threads: int | None = MISSING
    keep_freed_memory: bool = MISSING
    monitor: Monitor = field(default_factory=Monitor)
    accelerator: str = MISSING
    strategy: str = MISSING
    devices: Any = MISSING  # Lightning's: a count, "auto" or a list of device ids
    num_nodes: int = MISSING


@dataclass
class Interpolation:
    pairs: int = MISSING
    steps: int = MISSING


@dataclass
class Attributes:
    examples: int = MISSING
    quantile: float = MISSING
    amount: float = MISSING


@dataclass
class Samples:
    n: int = MISSING
    temperature: Any = MISSING  # a number above 0 or "greedy", checked by musicvae.temperature
    compared: int = MISSING  # drawn to compare with the test windows (musicvae.realism)


@dataclass
class DecoderBound:
    windows: int = MISSING
    steps: int = MISSING
    learning_rate: float = MISSING


@dataclass
class EvalSettings:
    seed: int = MISSING
    batch_size: int = MISSING
    max_examples: int | None = MISSING
    temperature: Any = MISSING  # a number above 0 or "greedy", checked by musicvae.temperature
    draws: int = MISSING
    interpolation: Interpolation = field(default_factory=Interpolation)
    attributes: Attributes = field(default_factory=Attributes)
    samples: Samples = field(default_factory=Samples)
    external: dict[str, str] = MISSING
    decoder_bound: DecoderBound = field(default_factory=DecoderBound)


def parse(schema: type, section: dict, name: str):
    """`section` (params.yaml's `name` section) as `schema`; ValueError names a missing, unknown or mistyped key."""
    try:  # not frozen: OmegaConf makes a frozen dataclass's nodes read-only, and merging into them fails
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), section))
    except OmegaConfBaseException as e:
        key = getattr(e, "full_key", "") or ""
        raise ValueError(f"params.yaml {name}{'.' + key if key else ''}: {str(e).splitlines()[0]}") from None


def train_settings(section: dict) -> TrainSettings:
    return parse(TrainSettings, section, "train")


def eval_settings(section: dict) -> EvalSettings:
    return parse(EvalSettings, section, "eval")
