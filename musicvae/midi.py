"""MIDI in: a file or bytes to a compact note table with times in seconds, as note-seq sees them.

symusic checks the file (100-500x faster than pretty_midi, which note-seq uses) and names what is wrong with a
broken one; a small compiled reader then reads its events the way pretty_midi reads them (symusic differs: it
takes tempos and meters from every track, and a note's program at its note-on), and the tempo map is applied the
way pretty_midi applies it, float operation for float operation, so that quantizing gives Magenta's steps. Every
rejection is a `MidiRejected` with a reason from `REASONS` and a detail naming what was wrong."""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np
import symusic

REASONS = (
    "empty",
    "corrupt",
    "too_large",
    "too_many_notes",
    "too_long",
    "bad_tempo",
    "too_many_steps",
    "too_many_time_splits",
    "timeout",
)

NOTE = np.dtype(
    [
        ("instrument", "i4"),
        ("program", "i2"),
        ("is_drum", "?"),
        ("pitch", "i2"),
        ("velocity", "i2"),
        ("start", "f8"),
        ("end", "f8"),
    ]
)


class MidiRejected(ValueError):
    def __init__(self, reason: str, detail: str):
        assert reason in REASONS, reason
        super().__init__(f"{reason}: {detail}")
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class Limits:
    """Per-file caps, each chosen from what it costs (benchmarks/fuzz_extract.py times the costliest files they let
    through). Every cap that decides what goes into the shards counts something in the file, never the clock, so a
    busy machine gives the same bytes."""

    max_bytes: int = 8 << 20
    # A million notes, about what 8 MiB can hold: full Lakh arrangements pass Magenta's preprocess_tfrecord filter
    # of 10,000 (40 of 994 pop multitracks do, up to 16,675), and Magenta's training converts them all. A
    # 1,000,000-note file of melody, bass and drums in 99 tempo pieces extracts in 1.8-2.4 s under 410 MB.
    max_notes: int = 1_000_000
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
    return sorted(
        p for p in glob.glob(pattern, recursive=True) if p.lower().endswith(MIDI_SUFFIXES) and os.path.isfile(p)
    )


# symusic's parser errors, in words: what is wrong with the file rather than what the parser tripped on
_PARSER_ERRORS = (
    (re.compile(r"header is not MThd"), lambda m: "it does not begin with a MIDI header"),
    (re.compile(r"midi format \((\d+)\)"), lambda m: f"its header names MIDI format {m[1]}, where 0, 1 or 2 exist"),
    (
        re.compile(r"chunk length (\d+) \(remaining bytes after header: (\d+)\)"),
        lambda m: f"it ends early: a track announces {m[1]} bytes and {m[2]} follow (a cut-off copy?)",
    ),
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
    table = _table(data, tpq)
    if table.total_time > limits.max_seconds:
        raise MidiRejected("too_long", f"{table.total_time:.0f} s > {limits.max_seconds:.0f} s")
    return table


# Data bytes after each status byte, as mido reads them: two for notes, aftertouch, controls and pitch bends, one
# for program changes and channel pressure, and the system messages' own counts (0xF0, 0xF7, 0xFF carry a length).
_DATA_BYTES = np.array([0] * 0x80 + [2] * 0x40 + [1] * 0x20 + [2] * 0x10 + [0, 1, 2, 1] + [0] * 12, np.int64)


@numba.njit(cache=True)
def _room(rows, used):  # pragma: no cover (compiled)
    """`rows` with room for one more past the first `used`: twice as many when full."""
    if used < len(rows):
        return rows
    more = np.empty((2 * len(rows), rows.shape[1]), rows.dtype)
    more[:used] = rows[:used]
    return more


@numba.njit(cache=True)
def _vlq(data, at, end):  # pragma: no cover (compiled)
    """A variable-length quantity: at most 4 bytes, as the standard and symusic have it."""
    value, stop = 0, min(at + 4, end)
    while at < stop:
        byte = data[at]
        at += 1
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            break
    return value, at


@numba.njit(cache=True)
def _read_events(data):  # pragma: no cover (compiled)
    """The events pretty_midi reads, in its way. Tempos and meters come from the first track alone; notes pair
    per track, channel and pitch, a note-off ending every note of its pitch begun at an earlier tick, and a note
    takes the program its channel has when it ends. Returns the first track's tempos (tick, microseconds a beat;
    -1 for an event too short to hold one) and meters (tick, numerator, power of 2 of the denominator; -1 for
    too short), and the notes (track, channel, program, pitch, velocity, start tick, end tick) in the order
    pretty_midi ends them."""
    tempos, meters, notes = np.empty((8, 2), np.int64), np.empty((8, 3), np.int64), np.empty((64, 7), np.int64)
    ons = np.empty((64, 3), np.int64)  # every note-on: tick, velocity, the next open note-on of its pitch
    n_tempos = n_meters = n_notes = n_ons = 0
    end = len(data)
    tracks = data[10] << 8 | data[11]
    at = 8 + (data[4] << 24 | data[5] << 16 | data[6] << 8 | data[7])
    track = 0
    while track < tracks and at + 8 <= end:
        size = data[at + 4] << 24 | data[at + 5] << 16 | data[at + 6] << 8 | data[at + 7]
        is_track = data[at] == 77 and data[at + 1] == 84 and data[at + 2] == 114 and data[at + 3] == 107  # MTrk
        at += 8
        chunk_end = min(at + size, end)
        if not is_track:  # symusic skips other chunks
            at = chunk_end
            continue
        program = np.zeros(16, np.int64)
        first = np.full(16 * 128, -1, np.int64)  # per channel and pitch, the open notes as a linked list
        last = np.full(16 * 128, -1, np.int64)
        tick, running = 0, 0
        while at < chunk_end:
            delta, at = _vlq(data, at, chunk_end)
            tick += delta
            if at >= chunk_end:
                break
            status = data[at]
            if status < 0x80:  # running status: the byte is data
                status = running
            else:
                at += 1
                if status != 0xFF:  # meta events leave running status as it was
                    running = status
            if status == 0xFF:
                if at >= chunk_end:
                    break
                kind = data[at]
                length, at = _vlq(data, at + 1, chunk_end)
                if at + length > chunk_end:
                    break
                if track == 0 and kind == 0x51:
                    tempos = _room(tempos, n_tempos)
                    tempos[n_tempos] = tick, data[at] << 16 | data[at + 1] << 8 | data[at + 2] if length >= 3 else -1
                    n_tempos += 1
                elif track == 0 and kind == 0x58:
                    meters = _room(meters, n_meters)
                    meters[n_meters] = tick, data[at] if length >= 4 else -1, data[at + 1] if length >= 4 else -1
                    n_meters += 1
                at += length
                continue
            if status == 0xF0 or status == 0xF7:  # sysex: a length, then the bytes
                length, at = _vlq(data, at, chunk_end)
                at += length
                continue
            size = _DATA_BYTES[status]
            if status < 0x80 or at + size > chunk_end:
                break
            # mido refuses a data byte past 127, and past one nothing here can be trusted
            if (size and data[at] > 0x7F) or (size == 2 and data[at + 1] > 0x7F):
                break
            kind, channel = status & 0xF0, status & 0x0F
            if kind == 0xC0:
                program[channel] = data[at]
            elif kind == 0x90 and data[at + 1] > 0:
                key = channel * 128 + data[at]
                ons = _room(ons, n_ons)
                ons[n_ons] = tick, data[at + 1], -1
                if last[key] >= 0:
                    ons[last[key], 2] = n_ons
                else:
                    first[key] = n_ons
                last[key] = n_ons
                n_ons += 1
            elif kind == 0x80 or kind == 0x90:
                # Every open note of the pitch ends here, but one begun at this very tick stays open, unless
                # no other note ended, when it is dropped (pretty_midi's rule).
                key = channel * 128 + data[at]
                note, kept_first, kept_last, ended = first[key], -1, -1, False
                while note >= 0:
                    if ons[note, 0] != tick:
                        notes = _room(notes, n_notes)
                        notes[n_notes] = track, channel, program[channel], data[at], ons[note, 1], ons[note, 0], tick
                        n_notes += 1
                        ended = True
                    elif kept_last >= 0:
                        ons[kept_last, 2] = note
                        kept_last = note
                    else:
                        kept_first = kept_last = note
                    note = ons[note, 2]
                if kept_last >= 0:
                    ons[kept_last, 2] = -1
                first[key], last[key] = (kept_first, kept_last) if ended else (-1, -1)
            at += size
        at = chunk_end
        track += 1
    return tempos[:n_tempos], meters[:n_meters], notes[:n_notes]


def _tick_scales(tempos: np.ndarray, tpq: int) -> tuple[np.ndarray, np.ndarray]:
    """pretty_midi's tempo map: seconds per tick from each change on; a change at tick 0 replaces the default
    120 qpm, and a repeated tempo is no change."""
    ticks, scales = [0], [60.0 / (120.0 * tpq)]
    for tick, mspq in tempos.tolist():
        if mspq < 0:
            raise MidiRejected("corrupt", f"a tempo event at tick {tick} holds fewer than the 3 bytes of a tempo")
        if mspq == 0:
            raise MidiRejected(
                "bad_tempo", f"a tempo of 0 microseconds per beat at tick {tick}: a beat that takes no time"
            )
        scale = 60.0 / ((6e7 / mspq) * tpq)
        if tick == 0:
            ticks, scales = [0], [scale]
        elif scale != scales[-1]:
            ticks.append(tick)
            scales.append(scale)
    return np.array(ticks, dtype=np.int64), np.array(scales)


def _seconds(ticks: np.ndarray, map_ticks: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """pretty_midi's tick_to_time, vectorized with its exact float operations."""
    bases = np.zeros(len(map_ticks))
    for i in range(1, len(map_ticks)):
        bases[i] = bases[i - 1] + scales[i - 1] * (map_ticks[i] - map_ticks[i - 1])
    seg = np.searchsorted(map_ticks, ticks, side="right") - 1
    return bases[seg] + scales[seg] * (ticks - map_ticks[seg])


def _time_signatures(meters: np.ndarray) -> np.ndarray:
    """(tick, numerator, denominator) of each meter. A denominator past 2^7 reads as 0, as symusic reads it, so
    that such a meter stays an impossible one (`bad_time_signature`) rather than a 4/256 bar."""
    if (meters[:, 1] < 0).any():
        raise MidiRejected(
            "corrupt", f"a time signature at tick {meters[meters[:, 1] < 0][0, 0]} holds fewer than its 4 bytes"
        )
    power = meters[:, 2]
    return np.stack([meters[:, 0], meters[:, 1], np.where(power < 8, 1 << np.minimum(power, 7), 0)], axis=1)


def _table(data: bytes, tpq: int) -> NoteTable:
    tempos, meters, rows = _read_events(np.frombuffer(data, np.uint8).astype(np.int64))
    map_ticks, scales = _tick_scales(tempos, tpq)
    meters = _time_signatures(meters)
    track, channel, program, pitch, velocity, begin, end = rows.T
    # pretty_midi makes an instrument of each (track, channel, program) when its first note ends, and note-seq
    # numbers the instruments in that order
    _, first, which = np.unique((track * 16 + channel) * 128 + program, return_index=True, return_inverse=True)
    instrument = np.argsort(np.argsort(first))[which]
    seconds = _seconds(np.concatenate([begin, end]), map_ticks, scales)
    start, end = seconds[: len(rows)], seconds[len(rows) :]
    # by onset, the highest pitch first; ties in note-seq's order: by instrument, then as they ended
    order = np.lexsort((instrument, -pitch, start))
    notes = np.empty(len(order), NOTE)
    notes["instrument"], notes["program"], notes["is_drum"] = instrument[order], program[order], channel[order] == 9
    notes["pitch"], notes["velocity"] = pitch[order], velocity[order]
    notes["start"], notes["end"] = start[order], end[order]
    tempos = np.stack([_seconds(map_ticks, map_ticks, scales), 60.0 / (scales * tpq)], axis=1)
    ts = meters.astype(np.float64)
    ts[:, 0] = _seconds(meters[:, 0], map_ticks, scales)
    return NoteTable(notes, tempos, ts)
