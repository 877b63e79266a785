"""One MIDI file to the windows of a representation, with metadata and per-reason counts, so that a user can
see what happened to a file (`musicvae explain`) and a pipeline can count why files gave nothing."""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from musicvae.codecs import drums, melody
from musicvae.codecs.kinds import KINDS
from musicvae.midi import Limits, MidiRejected, read_midi
from musicvae.timing import Piece, quantize

log = logging.getLogger(__name__)
# Outcomes that say nothing about the file itself: a bug (its traceback is logged) or the safety-net timeout.
FAILURES = ("timeout", "error")


@dataclass(frozen=True)
class Representation:
    name: str
    kind: str  # "melody", "drums" or "trio"
    slice_bars: int
    programs: tuple[int, ...] | None = None  # melody notes kept by General MIDI program; None keeps all
    max_per_piece: int | None = 5  # Magenta's cap on windows per time-split piece, then per file; None keeps all
    gap_bars: float = 1.0  # trio: bars of silence a part may have on each side and still cover a bar

    @property
    def steps(self) -> int:
        return self.slice_bars * melody.STEPS_PER_BAR

    @property
    def classes(self) -> tuple[int, ...]:
        """Classes per part of a step."""
        return {
            "melody": (melody.CLASSES,),
            "drums": (drums.CLASSES,),
            "trio": (melody.CLASSES, melody.CLASSES, drums.CLASSES),
        }[self.kind]


REPRESENTATIONS = {
    "mel_2bar": Representation("mel_2bar", "melody", 2, programs=tuple(range(32))),
    "mel_16bar": Representation("mel_16bar", "melody", 16),
    "drums_2bar": Representation("drums_2bar", "drums", 2),
    "trio_16bar": Representation("trio_16bar", "trio", 16, gap_bars=2),
}


@dataclass(frozen=True)
class Window:
    tokens: np.ndarray  # class indices: [steps] or, for trio, [steps, 3] (melody, bass, drums)
    piece: int  # index of the time-split piece in the file
    start_bar: int  # bar of the piece where the window starts
    qpm: float
    programs: tuple[int, ...]  # General MIDI programs of the melodic parts (none for drums)


@dataclass
class FileResult:
    md5: str
    windows: list[Window] = field(default_factory=list)
    reasons: Counter = field(default_factory=Counter)  # why pieces, windows or the whole file gave nothing
    detail: str = ""  # the rejection's detail when the whole file was rejected


def _piece_windows(piece: Piece, rep: Representation, max_windows: int) -> tuple[list[Window], Counter]:
    found, reasons = KINDS[rep.kind].windows(piece, rep, max_windows)
    return [Window(t, piece.index, s, piece.qpm, p) for t, s, p in found], reasons


def _cap(windows: list[Window], limit: int | None) -> list[Window]:
    """Magenta samples at random; we keep the windows with the smallest hash of their tokens, which is as
    unbiased and gives the same bytes on every run."""
    if limit is None or len(windows) <= limit:
        return windows
    ranked = sorted(windows, key=lambda w: hashlib.sha1(w.tokens.tobytes()).digest())[:limit]
    return sorted(ranked, key=lambda w: (w.piece, w.start_bar, w.programs))


def extract(source: bytes | str | Path, rep: Representation, limits: Limits = Limits()) -> FileResult:
    return extract_all(source, [rep], limits)[rep.name]


def rejected(md5: str, reps: list[Representation], reason: str, detail: str) -> dict[str, FileResult]:
    """The result of a file dropped whole, for every representation."""
    return {rep.name: FileResult(md5, reasons=Counter({reason: 1}), detail=detail) for rep in reps}


def extract_all(
    source: bytes | str | Path, reps: list[Representation], limits: Limits = Limits(), name: str = ""
) -> dict[str, FileResult]:
    """Parse and quantize once, then extract every representation. Never raises: whatever goes wrong becomes the
    file's reason, so that no file stops a corpus."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    md5 = hashlib.md5(data).hexdigest()
    try:
        return _extract_all(data, md5, reps, limits, time.perf_counter() + limits.timeout_seconds)
    except MidiRejected as e:
        return rejected(md5, reps, e.reason, e.detail)
    except Exception as e:  # a bug: the file becomes a dead letter and the traceback goes to the log
        log.exception("extracting %s (md5 %s) failed", name or ("bytes" if isinstance(source, bytes) else source), md5)
        return rejected(md5, reps, "error", f"an internal error ({type(e).__name__}: {e}); please report this file")


def _in_time(deadline: float, limits: Limits, done: str) -> None:
    if time.perf_counter() > deadline:
        raise MidiRejected(
            "timeout",
            f"{done} took over {limits.timeout_seconds} s; the limits should have stopped "
            "this file sooner, please report it",
        )


def _extract_all(
    data: bytes, md5: str, reps: list[Representation], limits: Limits, deadline: float
) -> dict[str, FileResult]:
    table = read_midi(data, limits)
    _in_time(deadline, limits, "reading")
    pieces, bad_pieces = quantize(table, max_steps=limits.max_steps, max_pieces=limits.max_time_splits)
    results = {}
    for rep in reps:
        result = results[rep.name] = FileResult(md5)
        result.reasons["no_notes"] += not len(table.notes)
        result.reasons.update(bad_pieces)
        budget = limits.max_windows  # windows made before the caps, over the file: what time and memory grow with
        for piece in pieces:
            windows, reasons = _piece_windows(piece, rep, budget)
            if reasons["too_many_windows"]:  # this representation of the file gives nothing, the others may
                result.windows, result.reasons = [], Counter(too_many_windows=1)
                break
            budget -= len(windows) + reasons["duplicate"]
            result.reasons.update(reasons)
            kept = _cap(windows, rep.max_per_piece)
            result.reasons["over_cap"] += len(windows) - len(kept)
            result.windows += kept
            _in_time(deadline, limits, f"extracting {rep.name}")
        # Magenta caps again per file (data.py combine_converter_tensors), with the same choice
        kept = _cap(result.windows, rep.max_per_piece)
        result.reasons["over_cap"] += len(result.windows) - len(kept)
        result.windows = kept
        result.reasons["no_windows"] += not result.windows
        result.reasons = +result.reasons  # drop zero counts
    return results
