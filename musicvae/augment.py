"""Magenta's data recipe on windows already cut: its transposition augmentation and its per-file caps, drawn afresh;
and one augmentation of ours, metric displacement.

Magenta transposes each NoteSequence by a whole number of semitones drawn from `transpose_range` before converting
it (data.NoteSequenceAugmenter, sequences_lib.augment_note_sequence with delete_out_of_range_notes), and its
converters keep at most `max_tensors_per_notesequence` windows of each time-split piece, then of each file, chosen at
random (data.BaseNoteSequenceConverter._maybe_sample_outputs, combine_converter_tensors). Here both act on the
preprocess stage's windows, so nothing decodes MIDI during training.

A transposed window equals the window of the transposed file as long as its pitches stay in 21..108 (the melody
vocabulary). A note pushed out of it is deleted, as Magenta's converter filters it: what sounded before it ends at its
onset (a note-off where a note was sounding), the rest of its steps are rest. That is the file's own result when the
note before it ended where it began, as in legato lines; the file alone knows the other cases. A window left without
a note is not transposed: Magenta would have no such window.

Two augmentations are ours, not Magenta's (docs/results.md). Metric displacement delays a whole window by a few
sixteenths: a rest before it, its last steps cut. Staccato plays each note of a window for half its length, then rests:
the folk tunes, rendered legato, hold nearly every note to the next (a note-off at 1 % of their steps), where pop
windows rest after a fifth of their notes (7 %)."""

from __future__ import annotations

import numpy as np

from musicvae.codecs import melody

NO_EVENT, NOTE_OFF = melody.encode([melody.NO_EVENT, melody.NOTE_OFF]).tolist()
FIRST_PITCH, LAST_PITCH = 2, melody.CLASSES - 1  # class indices of pitches 21 and 108
PITCHED_PARTS = {"melody": (0,), "drums": (), "trio": (0, 1)}  # trio: melody and bass move, drums stay


def _drop_out_of_range(part: np.ndarray, onsets: np.ndarray) -> np.ndarray:
    """One part's classes after a shift, `onsets` marking its notes (whose classes may now lie outside the pitches,
    on the special events' too): the notes outside deleted."""
    out, sounding = part.copy(), False
    for step, (token, onset) in enumerate(zip(part.tolist(), onsets.tolist())):
        if onset:
            in_range = FIRST_PITCH <= token <= LAST_PITCH
            if not in_range:
                out[step] = NOTE_OFF if sounding else NO_EVENT
            sounding = in_range
        elif token == NOTE_OFF:
            if not sounding:  # the deleted note's own end: it was already ended
                out[step] = NO_EVENT
            sounding = False
    return out


def transpose(tokens: np.ndarray, shift: int, kind: str) -> np.ndarray:
    """A window ([steps], or [steps, 3] for a trio) moved by `shift` semitones; drums never move."""
    parts = PITCHED_PARTS[kind]
    if not shift or not parts:
        return tokens
    moved = tokens.astype(np.int16)  # a copy: shards are read-only memory maps
    view = moved[:, None] if moved.ndim == 1 else moved
    for p in parts:
        part = view[:, p]
        pitched = part >= FIRST_PITCH
        part[pitched] += shift
        if (part[pitched] > LAST_PITCH).any() or (part[pitched] < FIRST_PITCH).any():
            part[:] = _drop_out_of_range(part, pitched)
            if not (part >= FIRST_PITCH).any() and pitched.any():
                return tokens
    return moved.astype(tokens.dtype)


def displace(tokens: np.ndarray, steps: int, kind: str) -> np.ndarray:
    """A window ([steps], or [steps, 3] for a trio) delayed by `steps` sixteenths. Class 0 is every codec's silence
    (a melody's no-event, which at a window's start is a rest; drums' nothing hit), so the delay is silence in every
    part. A window whose notes all fall in the steps cut is left as it was."""
    if not steps:
        return tokens
    moved = np.zeros_like(tokens)
    moved[steps:] = tokens[:-steps]
    view = moved[:, None] if moved.ndim == 1 else moved
    silent = [NOTE_OFF if p in PITCHED_PARTS[kind] else NO_EVENT for p in range(view.shape[1])]
    return moved if (view > np.array(silent)).any() else tokens


def staccato(tokens: np.ndarray, kind: str) -> np.ndarray:
    """A window ([steps], or [steps, 3] for a trio) with each note of its melodic parts that lasts two steps or more
    cut to half its length (rounded down), then a rest: a note-off, the steps after it silent."""
    parts = PITCHED_PARTS[kind]
    if not parts:
        return tokens
    played = tokens.copy()
    view = played[:, None] if played.ndim == 1 else played
    for p in parts:
        part = view[:, p]
        events = np.flatnonzero(part != NO_EVENT).tolist() + [len(part)]
        for start, end in zip(events, events[1:]):
            if part[start] >= FIRST_PITCH and end - start >= 2:
                part[start + (end - start) // 2] = NOTE_OFF
                if end < len(part) and part[end] == NOTE_OFF:  # the note's own end, now in the rest
                    part[end] = NO_EVENT
    return played


def _first_per_group(groups: np.ndarray, cap: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of at most `cap` members of each group, chosen uniformly at random."""
    order = np.lexsort((rng.random(len(groups)), groups))
    ordered = groups[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return np.sort(order[rank < cap])


def capped_draw(pieces: np.ndarray, files: np.ndarray, cap: int | None, rng: np.random.Generator) -> np.ndarray:
    """Rows kept by Magenta's caps, drawn afresh: at most `cap` of each piece's windows, then at most `cap` of what
    each file kept. `pieces` and `files` are one id per row. How many each file keeps does not depend on the draw."""
    rows = np.arange(len(pieces))
    if cap is None:
        return rows
    rows = rows[_first_per_group(pieces, cap, rng)]
    return rows[_first_per_group(files[rows], cap, rng)]
