"""Where the studio's melodies come from: an uploaded MIDI file, cut into windows as the model commands cut a file
(numbered as `musicvae explain` numbers them), or a window of the test split of the current shards."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePath

import numpy as np
import pyarrow.parquet as pq

from lightning_modules import representations
from musicvae import windows
from musicvae.extract import Representation
from musicvae.midi import Limits

MAX_BYTES = Limits().max_bytes  # the preprocess stage's limit on one MIDI file (params.yaml: preprocess.limits)


@dataclass(frozen=True)
class Source:
    label: str
    tokens: np.ndarray  # [T, P]
    qpm: float
    programs: tuple[int, ...]


def upload_name(given: str | None) -> str:
    """The uploaded file's own name, without any folder a browser or script sent, for the messages."""
    return PurePath((given or "upload.mid").replace("\\", "/")).name or "upload.mid"


def of_upload(name: str, data: bytes, rep: Representation) -> list[Source]:
    """Every window of an uploaded file, labelled as `explain` lists them; a UsageError naming the file when it has
    none (not MIDI, damaged, another meter, too short for the model's windows)."""
    listing = windows.of_file(Path(name), rep, data)
    return [
        Source(f"{name} window {listing.line(i)}", w.tokens.reshape(len(w.tokens), -1), w.qpm, tuple(w.programs))
        for i, w in enumerate(listing.windows)
    ]


class ShardTestSplit:
    """The test windows of the shards cut as the model's windows were; `why_none` says why there are none."""

    def __init__(self, shards: Path, rep: Representation, checkpoint: str):
        self.sources: list[Source] = []
        self.why_none = ""
        folder = shards / rep.name
        try:
            representations.check_same(rep, checkpoint, representations.of_shards(folder), str(folder))
        except (FileNotFoundError, representations.Mismatch) as e:
            self.why_none = str(e)
            return
        columns = ["tokens", "source", "start_bar", "qpm", "programs"]
        for path in sorted(folder.glob("test-*.parquet")):
            table = pq.read_table(path, columns=columns)
            for row in table.to_pylist():
                tokens = np.asarray(row["tokens"], dtype=np.int64).reshape(rep.steps, -1)
                label = (
                    f"test {len(self.sources)}: {PurePath(row['source']).name}, bars {row['start_bar']}-"
                    f"{row['start_bar'] + rep.slice_bars - 1}"
                )
                self.sources.append(Source(label, tokens, row["qpm"], tuple(row["programs"] or ())))
        if not self.sources:
            self.why_none = f"{folder}: the test split is empty"
