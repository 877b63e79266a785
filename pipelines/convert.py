"""One MIDI file to the windows of every representation, with its split and why anything was dropped."""

from __future__ import annotations

import hashlib
import json
import posixpath

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.timestamp import MIN_TIMESTAMP
from apache_beam.utils.windowed_value import WindowedValue

from musicvae.extract import FAILURES, FileResult, extract_all, rejected
from musicvae.midi import REASONS
from musicvae.reasons import commonest
from pipelines import staged
from pipelines.batches import Batches
from pipelines.config import SPLITS, PreprocessConfig
from pipelines.occurrences import occurrences
from pipelines.packed import bucket
from pipelines.sources import Source

WINDOWS, SOURCES, FILES, DEAD_LETTERS = "windows", "sources", "files", "dead_letters"


def split_of(md5: str, fractions: dict[str, float]) -> str:
    """A file's split depends only on its content and the fractions, so adding files never moves old ones."""
    u = int.from_bytes(hashlib.sha256(f"split:{md5}".encode()).digest()[:8], "big") / 2**64
    bound = 0.0
    for split in SPLITS:
        bound += fractions[split]
        if u < bound:
            return split
    return SPLITS[-1]


def source_id(path: str, base: str) -> str:
    """The path relative to the corpus root, so that shards do not depend on where the corpus lies."""
    return posixpath.relpath(path, base) if base and path.startswith(base.rstrip("/") + "/") else path


def dead_letter_reason(result: FileResult) -> str:
    """The file-level rejection, or else the commonest reason a piece or window gave nothing."""
    for reason in dict.fromkeys((*REASONS, *FAILURES)):
        if result.reasons[reason]:
            return reason
    return commonest(result.reasons)


class ConvertFile(beam.DoFn):
    """ReadableFile → tagged outputs, each batch's for each batch written (pipelines/batches.py): WINDOWS ((rep,
    bucket), name of a file of packed occurrences), SOURCES (bucket, name of a file of packed Sources of the files
    with windows), DEAD_LETTERS (rep, name of a file of JSON lines of the files that gave a representation nothing);
    and FILES (rep, outcome) for every file. The windows themselves are staged in `folder` (pipelines/staged.py)."""

    def __init__(self, config: PreprocessConfig, base: str, folder: str, batches: str):
        self.config, self.base, self.folder, self.batches_folder = config, base, folder, batches

    def start_bundle(self):
        self.batches = {tag: Batches(self.batches_folder) for tag in (WINDOWS, SOURCES, DEAD_LETTERS)}

    def finish_bundle(self):
        for tag, batches in self.batches.items():
            for element in batches.flush():
                yield beam.pvalue.TaggedOutput(tag, WindowedValue(element, MIN_TIMESTAMP, [GlobalWindow()]))

    def process(self, readable):
        path = readable.metadata.path
        if readable.metadata.size_in_bytes > self.config.limits.max_bytes:
            md5 = self._md5_in_chunks(readable)
            split = split_of(md5, self.config.splits)
            detail = f"{readable.metadata.size_in_bytes} bytes > {self.config.limits.max_bytes}"
            results = rejected(md5, list(self.config.representations), "too_large", detail)
        else:  # never raises: a bug on one file becomes its dead letter, with the traceback in the log
            data = readable.read()
            md5 = hashlib.md5(data).hexdigest()
            split = split_of(md5, self.config.splits)
            results = extract_all(data, self.config.representations_for(split), self.config.limits, name=path)
        source = source_id(path, self.base)
        windows = {name: sorted(r.windows, key=staged.row_order) for name, r in results.items() if r.windows}
        if windows:
            staged.stage(self.folder, md5, windows)
            names = [rep.name for rep in self.config.representations]
            reps = sum(1 << names.index(name) for name in windows)
            for element in self.batches[SOURCES].add(
                bucket(bytes.fromhex(md5)), Source(md5, split, reps, source).pack()
            ):
                yield beam.pvalue.TaggedOutput(SOURCES, element)
        for name, result in results.items():
            for reason, count in result.reasons.items():
                Metrics.counter("preprocess", f"{name}.{reason}").inc(count)
            Metrics.counter("preprocess", f"{name}.files").inc()
            yield beam.pvalue.TaggedOutput(
                FILES, (name, {"split": split, "windows": len(result.windows), "reasons": dict(result.reasons)})
            )
            if not result.windows:
                letter = {
                    "path": source,
                    "md5": md5,
                    "reason": dead_letter_reason(result),
                    "detail": result.detail or ", ".join(f"{k}={v}" for k, v in sorted(result.reasons.items())),
                }
                line = json.dumps(letter, sort_keys=True) + "\n"
                for element in self.batches[DEAD_LETTERS].add(name, line.encode()):
                    yield beam.pvalue.TaggedOutput(DEAD_LETTERS, element)
            hashes = [hashlib.sha1(w.tokens.tobytes()).digest() for w in windows.get(name, [])]
            for key, packed in occurrences(hashes, split, md5):
                for element in self.batches[WINDOWS].add((name, key), packed):
                    yield beam.pvalue.TaggedOutput(WINDOWS, element)

    @staticmethod
    def _md5_in_chunks(readable) -> str:
        """An oversized file is never held in memory."""
        md5 = hashlib.md5()
        with readable.open() as f:
            while chunk := f.read(1 << 20):
                md5.update(chunk)
        return md5.hexdigest()
