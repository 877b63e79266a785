"""Drums: Magenta's DrumsConverter. All drum instruments merge into one track of per-step onset sets over 9
classes (current note-seq mapping); output one-hot over 2^9 = 512 classes, input roll of 9 + a "nothing hit" bit."""

from __future__ import annotations

from collections import Counter

import numpy as np

from musicvae.codecs.melody import MAX_STEPS, STEPS_PER_BAR
from musicvae.timing import Piece

# note-seq's DEFAULT_DRUM_TYPE_PITCHES; the first pitch of each class is the one written on decoding.
PITCH_CLASSES = (
    (36, 35),  # kick
    (38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85),  # snare
    (42, 44, 54, 68, 69, 70, 71, 73, 78, 80, 22),  # closed hi-hat
    (46, 67, 72, 74, 79, 81, 26),  # open hi-hat
    (45, 29, 41, 43, 61, 64, 84),  # low tom
    (48, 47, 60, 63, 77, 86, 87),  # mid tom
    (50, 30, 62, 76, 83),  # high tom
    (49, 52, 55, 57, 58),  # crash
    (51, 53, 59, 82),  # ride
)
CLASSES = 2 ** len(PITCH_CLASSES)
ROLL = len(PITCH_CLASSES) + 1
EXEMPLARS = tuple(p[0] for p in PITCH_CLASSES)
BIT_OF_PITCH = np.zeros(128, np.uint16)  # 0 = not a mapped drum: dropped
for _c, _pitches in enumerate(PITCH_CLASSES):
    BIT_OF_PITCH[list(_pitches)] = 1 << _c


def _onsets(notes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct onset steps and, per step, the bitmask of the classes hit (durations are ignored)."""
    bits = BIT_OF_PITCH[notes["pitch"]]
    notes, bits = notes[bits > 0], bits[bits > 0]
    order = np.argsort(notes["start"], kind="stable")
    steps, first = np.unique(notes["start"][order], return_index=True)
    return steps, np.bitwise_or.reduceat(bits[order], first) if len(steps) else bits[:0]


def extract_drum_tracks(
    notes: np.ndarray, gap_bars: float = 1.0, max_steps: int | None = MAX_STEPS
) -> list[tuple[int, np.ndarray]]:
    """(start step, per-step class bitmasks) of the drum tracks of a quantized 16-steps-per-bar piece, split at
    rests of `gap_bars` and truncated to `max_steps`."""
    steps, masks = _onsets(notes[notes["is_drum"]])
    tracks, search = [], 0
    while len(steps := steps[steps >= search]):
        masks = masks[-len(steps) :]
        origin = int(steps[0]) - (int(steps[0]) - search) % STEPS_PER_BAR
        index = steps - origin
        gaps = np.flatnonzero(np.diff(index) - 1 >= gap_bars * STEPS_PER_BAR)
        n = int(gaps[0]) + 1 if len(gaps) else len(index)
        length = int(index[n - 1]) + 1
        length += -length % STEPS_PER_BAR
        track = np.zeros(length, np.uint16)
        track[index[:n]] = masks[:n]
        tracks.append((origin, track[:max_steps]))
        end = origin + length
        search = end + (-end % STEPS_PER_BAR)
    return tracks


def roll(indices: np.ndarray) -> np.ndarray:
    """The encoder's input: [T, 10] bools, 9 class bits plus a bit set when nothing is hit."""
    bits = (np.asarray(indices)[:, None] >> np.arange(len(PITCH_CLASSES))) & 1
    return np.concatenate([bits, (indices == 0)[:, None]], axis=1).astype(bool)


def pitches(index: int) -> list[int]:
    """The exemplar GM pitches of one step's classes."""
    return [EXEMPLARS[c] for c in range(len(PITCH_CLASSES)) if index >> c & 1]


def drum_windows(piece: Piece, slice_bars: int, gap_bars: float = 1.0) -> tuple[list[tuple[np.ndarray, int]], Counter]:
    """Distinct windows of one piece in order of first appearance, as (512-class indices, start bar)."""
    if piece.steps_per_bar != STEPS_PER_BAR:
        return [], Counter(not_16_steps_per_bar=1)
    size = slice_bars * STEPS_PER_BAR
    seen: dict[bytes, tuple[np.ndarray, int]] = {}
    reasons = Counter()
    for origin, track in extract_drum_tracks(piece.notes, gap_bars):
        for end in range(size, len(track) + 1, STEPS_PER_BAR):
            window = track[end - size : end]
            key = window.tobytes()
            reasons["duplicate"] += key in seen
            seen.setdefault(key, (window, (origin + end - size) // STEPS_PER_BAR))
    if not seen:
        reasons["no_extraction"] += 1
    return list(seen.values()), +reasons


def to_notes(indices: np.ndarray) -> list[tuple[int, int, int]]:
    """(pitch, start step, end step) per hit, one step long, at each class's exemplar pitch."""
    return [(p, step, step + 1) for step, index in enumerate(np.asarray(indices).tolist()) for p in pitches(index)]
