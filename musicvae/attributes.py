"""The melody attributes of the paper's attribute vectors (Roberts et al. 2018, §5), over the 90-class melody tokens
[T] or [N, T] (0 = hold, 1 = note off, k ≥ 2 = onset of MIDI pitch 21 + k − 2) at 16 steps per bar.

Each returns a float for one melody and an array [N] for a batch. Attributes counted per note are 0 for a melody
with no notes. Steps are counted from the window's start, which is a bar line (windows hop by whole bars)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from musicvae.codecs.melody import MIN_PITCH

FIRST_PITCH_TOKEN = 2  # class of MIN_PITCH; 0 and 1 are hold and note off
C_DIMINISHED_TRIAD = frozenset({0, 3, 6})  # C, E♭, G♭
STEPS_PER_BEAT = 4


def _onsets(tokens: np.ndarray) -> np.ndarray:
    return np.asarray(tokens) >= FIRST_PITCH_TOKEN


def _per_melody(x: np.ndarray) -> float | np.ndarray:
    return float(x) if x.ndim == 0 else x


def _share_of_notes(tokens: np.ndarray, chosen: np.ndarray) -> float | np.ndarray:
    """Fraction of a melody's notes whose onset is also `chosen`."""
    notes = _onsets(tokens)
    count = notes.sum(axis=-1)
    share = np.divide((notes & chosen).sum(axis=-1), count, out=np.zeros(count.shape), where=count > 0)
    return _per_melody(share)


def note_density(tokens: np.ndarray) -> float | np.ndarray:
    """Note onsets per step: the fraction of steps that start a note."""
    return _per_melody(_onsets(tokens).mean(axis=-1))


def average_interval(tokens: np.ndarray) -> float | np.ndarray:
    """Mean absolute interval in semitones between consecutive notes, across rests; 0 with fewer than two notes."""
    tokens = np.asarray(tokens, dtype=np.int64)
    rows = tokens.reshape(-1, tokens.shape[-1])
    melody, step = np.nonzero(_onsets(rows))  # row-major: each melody's notes in order
    pairs = melody[1:] == melody[:-1]
    leaps = np.abs(np.diff(rows[melody, step]))[pairs]
    count = np.bincount(melody[1:][pairs], minlength=len(rows))
    total = np.bincount(melody[1:][pairs], weights=leaps, minlength=len(rows))
    mean = np.divide(total, count, out=np.zeros(len(rows)), where=count > 0)
    return _per_melody(mean.reshape(tokens.shape[:-1]))


def syncopation_8th(tokens: np.ndarray) -> float | np.ndarray:
    """Fraction of notes starting on an off-beat 8th: the "and" halfway through a beat (step ≡ 2 mod 4)."""
    step = np.arange(np.shape(tokens)[-1])
    return _share_of_notes(tokens, step % STEPS_PER_BEAT == STEPS_PER_BEAT // 2)


def syncopation_16th(tokens: np.ndarray) -> float | np.ndarray:
    """Fraction of notes starting on an off-beat 16th, between 8th positions (odd steps); disjoint from 8th ones."""
    step = np.arange(np.shape(tokens)[-1])
    return _share_of_notes(tokens, step % 2 == 1)


def chord_share(tokens: np.ndarray, pitch_classes: frozenset[int] | set[int]) -> float | np.ndarray:
    """Fraction of notes (onsets, not weighted by duration) whose pitch class (C = 0) is in `pitch_classes`."""
    tokens = np.asarray(tokens, dtype=np.int64)
    pitch_class = (tokens - FIRST_PITCH_TOKEN + MIN_PITCH) % 12
    return _share_of_notes(tokens, np.isin(pitch_class, list(pitch_classes)))


ATTRIBUTES: dict[str, Callable[[np.ndarray], float | np.ndarray]] = {
    "note_density": note_density,
    "average_interval": average_interval,
    "syncopation_8th": syncopation_8th,
    "syncopation_16th": syncopation_16th,
    "c_dim_triad": lambda tokens: chord_share(tokens, C_DIMINISHED_TRIAD),
}


def diagonal_dominance(effect: np.ndarray) -> float:
    """Share of the rows of an effect matrix [vectors, attributes] (square, same order) whose own attribute moves
    strictly most, and at all: a row of zeros (a model that ignores z) dominates nothing, and a tie is no win."""
    magnitude = np.abs(np.asarray(effect, dtype=np.float64))
    own = np.diag(magnitude)
    others = np.where(np.eye(len(magnitude), dtype=bool), -np.inf, magnitude).max(1)
    return float(((own > others) & (own > 0)).mean())
