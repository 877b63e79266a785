"""MIDI in: a file or bytes to a compact note table with times in seconds, as note-seq sees them.

symusic parses (100-500x faster than pretty_midi, which note-seq uses); the tempo map is applied the way
pretty_midi applies it, float operation for float operation, so that quantizing gives Magenta's steps. Every
rejection is a `MidiRejected` with a reason from `REASONS` and a detail naming what was wrong."""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import symusic

REASONS = ("empty", "corrupt", "too_large", "too_many_notes", "too_long", "bad_tempo", "too_many_steps",
           "too_many_time_splits", "timeout")

NOTE = np.dtype([("instrument", "i4"), ("program", "i2"), ("is_drum", "?"), ("pitch", "i2"), ("velocity", "i2"),
                 ("start", "f8"), ("end", "f8")])


class MidiRejected(ValueError):
    def __init__(self, reason: str, detail: str):
        assert reason in REASONS, reason
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class Limits:
    """Per-file caps; Magenta's preprocessing drops files over 1800 s or 10,000 notes. Every cap that decides what
    goes into the shards counts something in the file, never the clock, so a busy machine gives the same bytes."""

    max_bytes: int = 8 << 20
    max_notes: int = 10_000
    max_seconds: float = 1800.0
    # Sixteenth-note steps over all pieces: what extraction's time and memory grow with. 1800 s at 120 qpm are
    # 14,400; real files reach about 3,000, and only tempos far beyond music's (1 µs a beat) reach millions.
    max_steps: int = 100_000
    max_time_splits: int = 100  # Magenta's preprocessing drops a file split into more pieces than this
    # Windows a representation makes of one file before deduplication and the caps (real files: a few thousand).
    # Many tracks multiply them, trios most (every melody x bass x drums triple); past this the representation
    # gives the file nothing (`too_many_windows`), the others are unaffected.
    max_windows: int = 100_000
    # A safety net, not a limit: the caps above bound the work, so a file that takes this long is a bug. It is
    # rejected loudly (reason `timeout`, counted against the stage's failure share), never silently.
    timeout_seconds: float = 60.0


@dataclass(frozen=True)
class NoteTable:
    """Notes sorted by (start, -pitch) with the tempo and time-signature maps, all in seconds."""

    notes: np.ndarray  # dtype NOTE
    tempos: np.ndarray  # [(time, qpm)], the first at 0
    time_signatures: np.ndarray  # [(time, numerator, denominator)]

    @property
    def total_time(self) -> float:
        return float(self.notes["end"].max()) if len(self.notes) else 0.0


MIDI_SUFFIXES = (".mid", ".midi")


def midi_files(source: str) -> list[str]:
    """The MIDI files of a folder (searched recursively) or glob, `~` expanded, sorted."""
    source = os.path.expanduser(source)
    pattern = os.path.join(source, "**", "*") if os.path.isdir(source) else source
    return sorted(p for p in glob.glob(pattern, recursive=True)
                  if p.lower().endswith(MIDI_SUFFIXES) and os.path.isfile(p))


# symusic's parser errors, in words: what is wrong with the file rather than what the parser tripped on
_PARSER_ERRORS = (
    (re.compile(r"header is not MThd"), lambda m: "it does not begin with a MIDI header"),
    (re.compile(r"midi format \((\d+)\)"), lambda m: f"its header names MIDI format {m[1]}, where 0, 1 or 2 exist"),
    (re.compile(r"chunk length (\d+) \(remaining bytes after header: (\d+)\)"),
     lambda m: f"it ends early: a track announces {m[1]} bytes and {m[2]} follow (a cut-off copy?)"),
)


def _in_words(error: str) -> str:
    for pattern, words in _PARSER_ERRORS:
        if found := pattern.search(error):
            return words(found)
    return error.removeprefix("MiniMidi: ").removesuffix(": iostream error")


def read_midi(source: bytes | str | Path, limits: Limits = Limits()) -> NoteTable:
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if not data:
        raise MidiRejected("empty", "zero-length file")
    if len(data) > limits.max_bytes:
        raise MidiRejected("too_large", f"{len(data)} bytes > {limits.max_bytes}")
    try:
        score = symusic.Score.from_midi(data)
    except RuntimeError as e:  # symusic reports every malformed file this way
        raise MidiRejected("corrupt", _in_words(str(e))) from None
    tpq = score.ticks_per_quarter
    if tpq <= 0:
        raise MidiRejected("corrupt", f"{tpq} ticks per quarter (SMPTE or invalid division)")
    n = score.note_num()
    if n > limits.max_notes:
        raise MidiRejected("too_many_notes", f"{n} notes > {limits.max_notes}")
    table = _table(score, tpq)
    if table.total_time > limits.max_seconds:
        raise MidiRejected("too_long", f"{table.total_time:.0f} s > {limits.max_seconds:.0f} s")
    return table


def _tick_scales(score: symusic.Score, tpq: int) -> tuple[np.ndarray, np.ndarray]:
    """pretty_midi's tempo map: seconds per tick from each change on; a change at tick 0 replaces the default
    120 qpm, and a repeated tempo is no change."""
    ticks, scales = [0], [60.0 / (120.0 * tpq)]
    for tempo in score.tempos:
        if tempo.mspq <= 0:
            raise MidiRejected("bad_tempo", f"a tempo of {tempo.mspq} microseconds per beat at tick {tempo.time}: "
                                            "a beat that takes no time")
        scale = 60.0 / ((6e7 / tempo.mspq) * tpq)
        if tempo.time == 0:
            ticks, scales = [0], [scale]
        elif scale != scales[-1]:
            ticks.append(tempo.time)
            scales.append(scale)
    return np.array(ticks, dtype=np.int64), np.array(scales)


def _seconds(ticks: np.ndarray, map_ticks: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """pretty_midi's tick_to_time, vectorized with its exact float operations."""
    bases = np.zeros(len(map_ticks))
    for i in range(1, len(map_ticks)):
        bases[i] = bases[i - 1] + scales[i - 1] * (map_ticks[i] - map_ticks[i - 1])
    seg = np.searchsorted(map_ticks, ticks, side="right") - 1
    return bases[seg] + scales[seg] * (ticks - map_ticks[seg])


def _pretty_midi_ends(begin: np.ndarray, voice: np.ndarray, offs: np.ndarray, off_voice: np.ndarray) -> np.ndarray:
    """symusic pairs overlapping notes of one pitch first in, first out; pretty_midi ends every open note of
    the pitch at the first note-off after its start. Recover pretty_midi's ends from symusic's pairs, per voice
    (track and pitch). Every note-off counts, a zero-length note's too; the notes asked about have a length, so
    their own note-off lies after their start."""
    span = int(offs.max(initial=0)) + 1
    keys = np.sort(off_voice * span + offs)
    return keys[np.searchsorted(keys, voice * span + begin, side="right")] - voice * span


def _table(score: symusic.Score, tpq: int) -> NoteTable:
    map_ticks, scales = _tick_scales(score, tpq)
    tracks = [t.notes.numpy() for t in score.tracks]
    counts = [len(t["time"]) for t in tracks]
    field = lambda name: np.concatenate([t[name] for t in tracks]) if tracks else np.zeros(0)  # noqa: E731
    instrument = np.repeat(np.arange(len(tracks)), counts)
    begin, duration, pitch = field("time").astype(np.int64), field("duration"), field("pitch").astype(np.int64)
    voice = instrument * 128 + pitch
    keep = np.flatnonzero(duration > 0)  # pretty_midi drops notes that end where they start
    end = _pretty_midi_ends(begin[keep], voice[keep], begin + duration, voice)
    seconds = _seconds(np.concatenate([begin[keep], end]), map_ticks, scales)
    start, end = seconds[: len(keep)], seconds[len(keep):]
    rank = np.lexsort((-pitch[keep], start))  # by onset, the highest pitch first
    order = keep[rank]
    notes = np.empty(len(order), NOTE)
    notes["instrument"], notes["pitch"], notes["velocity"] = instrument[order], pitch[order], field("velocity")[order]
    notes["program"] = np.repeat([t.program for t in score.tracks], counts)[order]
    notes["is_drum"] = np.repeat([t.is_drum for t in score.tracks], counts)[order]
    notes["start"], notes["end"] = start[rank], end[rank]
    tempos = np.stack([_seconds(map_ticks, map_ticks, scales), 60.0 / (scales * tpq)], axis=1)
    ts = np.array([(t.time, t.numerator, t.denominator) for t in score.time_signatures], dtype=np.float64)
    if len(ts):
        ts[:, 0] = _seconds(ts[:, 0].astype(np.int64), map_ticks, scales)
    return NoteTable(notes, tempos, ts.reshape(-1, 3))
