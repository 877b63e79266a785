"""The `preprocess` section of params.yaml, validated, with the hash that names a configuration."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import yaml

from musicvae.extract import REPRESENTATIONS, Representation
from musicvae.midi import Limits

SPLITS = ("train", "eval", "test")


@dataclasses.dataclass(frozen=True)
class PreprocessConfig:
    representations: tuple[Representation, ...]
    splits: dict[str, float]  # fraction of source files per split, in SPLITS order
    rows_per_shard: int  # target rows of one Parquet shard; shards per split = ceil(rows / this)
    limits: Limits
    # The stage fails when more of a representation's files than this end in a bug or the safety-net timeout
    # (params.yaml holds its value, the one place it is written).
    max_failure_share: float
    # The splits whose files Magenta's max_per_piece caps (all, as Magenta); leaving out train gives training every
    # window while eval and test stay comparable with Magenta's.
    cap_splits: tuple[str, ...] = SPLITS

    def settings(self, rep: Representation) -> dict:
        """What the shards of `rep` depend on, besides the input files and the code."""
        return {
            "representation": dataclasses.asdict(rep),
            "splits": self.splits,
            "rows_per_shard": self.rows_per_shard,
            "limits": dataclasses.asdict(self.limits),
            **({} if self.cap_splits == SPLITS else {"cap_splits": list(self.cap_splits)}),
        }

    def representations_for(self, split: str) -> list[Representation]:
        """What a file of `split` is cut with: uncapped outside cap_splits."""
        if split in self.cap_splits:
            return list(self.representations)
        return [dataclasses.replace(rep, max_per_piece=None) for rep in self.representations]

    def hash(self, rep: Representation) -> str:
        return hashlib.sha256(json.dumps(self.settings(rep), sort_keys=True).encode()).hexdigest()


def _programs(spec: list | None) -> tuple[int, ...] | None:
    """General MIDI programs as a list of numbers and inclusive "a-b" ranges, e.g. [0-31]."""
    if spec is None:
        return None
    programs: set[int] = set()
    for item in spec:
        low, _, high = str(item).partition("-")
        programs.update(range(int(low), int(high or low) + 1))
    if not programs <= set(range(128)):
        raise ValueError(f"programs {spec} are outside 0-127")
    return tuple(sorted(programs))


def _representation(name: str, settings: dict) -> Representation:
    if name not in REPRESENTATIONS:
        raise ValueError(f"unknown representation {name!r}; choose from {', '.join(REPRESENTATIONS)}")
    fields = {f.name for f in dataclasses.fields(Representation)} - {"name", "kind"}
    unknown = set(settings) - fields
    if unknown:
        raise ValueError(f"preprocess.{name}: unknown settings {sorted(unknown)}; known: {sorted(fields)}")
    if "programs" in settings:
        settings = settings | {"programs": _programs(settings["programs"])}
    return dataclasses.replace(REPRESENTATIONS[name], **settings)


def parse(section: dict, only: list[str] | None = None) -> PreprocessConfig:
    """`section` is params.yaml's `preprocess`; `only` picks representations instead of its list."""
    names = only or section["representations"]
    splits = {name: float(section["splits"][name]) for name in SPLITS}
    if abs(sum(splits.values()) - 1) > 1e-9 or min(splits.values()) < 0:
        raise ValueError(f"preprocess.splits {splits} must be non-negative and sum to 1")
    cap_splits = tuple(section.get("cap_splits", SPLITS))
    if not set(cap_splits) <= set(SPLITS):
        raise ValueError(f"preprocess.cap_splits {list(cap_splits)}: each must be one of {', '.join(SPLITS)}")
    return PreprocessConfig(
        representations=tuple(_representation(n, section.get(n) or {}) for n in names),
        splits=splits,
        rows_per_shard=int(section["rows_per_shard"]),
        limits=Limits(**section.get("limits", {})),
        max_failure_share=float(section["max_failure_share"]),
        cap_splits=tuple(s for s in SPLITS if s in cap_splits),
    )


def load(params: Path, overrides: list[str] = (), only: list[str] | None = None) -> PreprocessConfig:
    """Read params.yaml; each override is `dotted.key=yaml_value` under `preprocess`."""
    section = yaml.safe_load(Path(params).read_text())["preprocess"]
    for override in overrides:
        key, sep, value = override.partition("=")
        if not sep:
            raise ValueError(f"override {override!r} is not key=value")
        *parents, leaf = key.removeprefix("preprocess.").split(".")
        node = section
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = yaml.safe_load(value)
    return parse(section, only)
