"""The shard manifest as the one record of how windows were cut (bars, programs, caps): training builds its model
from it, the checkpoint keeps it, and data cut otherwise is refused rather than silently misread."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from musicvae.extract import Representation


class Mismatch(ValueError):
    """Windows cut one way met a model or config made for another."""


def of_shards(folder: Path) -> Representation:
    """How the windows of a shard folder were cut, from its manifest (the preprocess stage's record)."""
    manifest = Path(folder) / "manifest.json"
    if not manifest.is_file():
        raise FileNotFoundError(f"{folder}: no manifest.json, so no shards of these windows; run the preprocess stage")
    saved = json.loads(manifest.read_text())["config"]["representation"]
    return Representation(**{k: tuple(v) if isinstance(v, list) else v for k, v in saved.items()})


def check_same(expected: Representation, expected_by: str, found: Representation, found_in: str) -> None:
    """Refuse, naming every setting that differs and both values."""
    differ = [
        f"{f.name} {getattr(expected, f.name)!r} against {getattr(found, f.name)!r}"
        for f in dataclasses.fields(Representation)
        if getattr(expected, f.name) != getattr(found, f.name)
    ]
    if differ:
        raise Mismatch(
            f"{expected_by} expects {expected.name} windows cut otherwise than those of {found_in}: "
            + "; ".join(differ)
        )
