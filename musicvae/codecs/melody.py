"""Melodies: Magenta's extraction (melody_pipelines.extract_melodies with OneHotMelodyConverter's settings),
bar-hop slicing and the 90-class one-hot vocabulary (0 = no event, 1 = note off, 2.. = pitches 21..108)."""

from __future__ import annotations

from collections import Counter

import numba
import numpy as np

from musicvae.timing import Piece

NO_EVENT, NOTE_OFF = -2, -1  # note-seq's event values; pitches are 0..127
MIN_PITCH, MAX_PITCH = 21, 108
CLASSES = 2 + MAX_PITCH - MIN_PITCH + 1
STEPS_PER_BAR = 16
MAX_STEPS = 100 * STEPS_PER_BAR  # the converter's max_bars=100 truncates longer melodies


@numba.njit(cache=True)
def _instrument_melodies(start, end, pitch, gap_steps, max_steps):  # pragma: no cover (compiled)
    """Every melody of one instrument, as note-seq's extract_melodies loop finds them around
    Melody.from_quantized_sequence. Notes are sorted by (start, -pitch). Returns the melodies' events laid end
    to end, with each melody's start step and length.

    Of simultaneous onsets the first (highest) wins; each onset cuts the note before it; a rest is measured
    from the previous note's own end; the final note-off goes and comes back only if bar padding follows."""
    n = len(start)
    span = (end.max() if n else 0) + 2 * STEPS_PER_BAR + 1
    buffer = np.empty(span, np.int16)
    out = np.empty(span + STEPS_PER_BAR * (n + 1), np.int16)
    origins = np.empty(n, np.int64)
    lengths = np.empty(n, np.int64)
    count, used, i, search = 0, 0, 0, 0
    while True:
        while i < n and start[i] < search:
            i += 1
        if i >= n:
            break
        origin = start[i] - (start[i] - search) % STEPS_PER_BAR
        length, last_on = 0, -1
        while i < n:
            s, e = start[i] - origin, end[i] - origin
            if length and s == last_on:
                i += 1
                continue
            if length and s - (length - 1) >= gap_steps:
                break
            buffer[length:s] = NO_EVENT
            buffer[s] = pitch[i]
            buffer[s + 1 : e] = NO_EVENT
            buffer[e] = NOTE_OFF
            length, last_on = e + 1, s
            i += 1
        length -= 1  # drop the final note-off
        if length % STEPS_PER_BAR:
            buffer[length] = NOTE_OFF
            padded = length + STEPS_PER_BAR - length % STEPS_PER_BAR
            buffer[length + 1 : padded] = NO_EVENT
            length = padded
        kept = min(length, max_steps)
        out[used : used + kept] = buffer[:kept]
        origins[count], lengths[count] = origin, kept
        count, used = count + 1, used + kept
        search = origin + length + (-(origin + length)) % STEPS_PER_BAR
    return out[:used].copy(), origins[:count], lengths[:count]  # a copy: the buffer is sized by the piece


def set_length(events: np.ndarray, length: int) -> np.ndarray:
    """note-seq's Melody.set_length: truncate, or pad with no-events after ending a still-sounding note."""
    if length <= len(events):
        return events[:length]
    out = np.full(length, NO_EVENT, np.int16)
    out[: len(events)] = events
    sounding = events[events != NO_EVENT]
    if len(sounding) and sounding[-1] >= 0:
        out[len(events)] = NOTE_OFF
    return out


def extract_melodies(
    notes: np.ndarray, gap_bars: float = 1.0, max_steps: int = MAX_STEPS
) -> list[tuple[int, int, np.ndarray]]:
    """(start step, program, events) of every melody of every instrument of a quantized 16-steps-per-bar
    piece (drums excluded)."""
    notes = notes[~notes["is_drum"]]
    notes = notes[np.lexsort((-notes["pitch"], notes["start"], notes["instrument"]))]
    bounds = np.flatnonzero(np.diff(notes["instrument"])) + 1
    melodies = []
    for own in np.split(notes, bounds) if len(notes) else []:
        # Contiguous copies: numba types strided views of a record array slowly on every call.
        events, origins, lengths = _instrument_melodies(
            np.ascontiguousarray(own["start"]),
            np.ascontiguousarray(own["end"]),
            own["pitch"].astype(np.int16),
            gap_bars * STEPS_PER_BAR,
            max_steps,
        )
        program = int(own["program"][0])
        melodies += [
            (origin, program, chunk)
            for origin, chunk in zip(origins.tolist(), np.split(events, np.cumsum(lengths)[:-1]))
        ]
    return melodies


def slices(events: np.ndarray, slice_bars: int) -> tuple[np.ndarray, np.ndarray]:
    """(start steps, [n, steps] windows) of `slice_bars` with a one-bar hop, as class indices; note-offs before
    a window's first note become no-events."""
    size = slice_bars * STEPS_PER_BAR
    if len(events) < size:
        return np.zeros(0, np.int64), np.zeros((0, size), np.uint8)
    windows = np.lib.stride_tricks.sliding_window_view(encode(events), size)[::STEPS_PER_BAR].copy()
    pitched = windows >= 2
    first = np.where(pitched.any(axis=1), pitched.argmax(axis=1), size)
    windows[(np.arange(size) < first[:, None]) & (windows == 1)] = 0
    return np.arange(len(windows)) * STEPS_PER_BAR, windows


def encode(events: tuple[int, ...] | list[int]) -> np.ndarray:
    e = np.asarray(events, dtype=np.int16)
    return np.where(e < 0, e + 2, e - MIN_PITCH + 2).astype(np.uint8)


def decode(indices: np.ndarray) -> list[int]:
    i = np.asarray(indices, dtype=np.int16)
    return np.where(i < 2, i - 2, i + MIN_PITCH - 2).tolist()


def melody_windows(
    piece: Piece, slice_bars: int, programs: set[int] | None = None, gap_bars: float = 1.0, max_windows: float = np.inf
) -> tuple[list[tuple[np.ndarray, int, int]], Counter]:
    """Distinct windows of one piece in order of first appearance, as (class indices, start bar, program);
    counts the duplicates dropped and why no window came. Past `max_windows` windows, duplicates included, the
    piece gives none (`too_many_windows`), before they are made."""
    if piece.steps_per_bar != STEPS_PER_BAR:
        return [], Counter(not_16_steps_per_bar=1)
    notes = piece.notes
    keep = (notes["pitch"] >= MIN_PITCH) & (notes["pitch"] <= MAX_PITCH)
    if programs is not None:
        keep &= np.isin(notes["program"], list(programs))
    seen: dict[bytes, tuple[np.ndarray, int, int]] = {}
    reasons, made = Counter(), 0
    for origin, program, events in extract_melodies(notes[keep], gap_bars):
        made += max(0, (len(events) - slice_bars * STEPS_PER_BAR) // STEPS_PER_BAR + 1)
        if made > max_windows:
            return [], Counter(too_many_windows=1)
        starts, windows = slices(events, slice_bars)
        for start, window in zip(starts.tolist(), windows):
            key = window.tobytes()
            reasons["duplicate"] += key in seen
            seen.setdefault(key, (window, (origin + start) // STEPS_PER_BAR, program))
    if not seen:
        reasons["no_extraction"] += 1
    return list(seen.values()), +reasons


def to_notes(indices: np.ndarray) -> list[tuple[int, int, int]]:
    """(pitch, start step, end step) per note, as note-seq's Melody.to_sequence reads events: a no-event holds,
    a note-off or a new pitch ends the sounding note, and the window's end ends the last one."""
    notes, pitch, start = [], None, 0
    for step, event in enumerate(decode(indices) + [NOTE_OFF]):
        if event == NO_EVENT:
            continue
        if pitch is not None:
            notes.append((pitch, start, step))
        pitch, start = (event, step) if event >= 0 else (None, step)
    return notes
