"""Trio: Magenta's TrioConverter. Instruments are typed by General MIDI program (0-31 melody, 32-39 bass, drum
channel drums); every (melody, bass, drums) triple whose gap-filled bar coverage spans a window gives a window
of three parts, melody and bass in the 90-class melody vocabulary and drums in the 512-class one."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np

from musicvae.codecs import drums, melody
from musicvae.codecs.melody import STEPS_PER_BAR
from musicvae.timing import Piece

MEL_PROGRAMS, BASS_PROGRAMS = range(0, 32), range(32, 40)
MAX_BARS = 1024
MAX_INSTRUMENT = 127


def _type(program: int, is_drum: bool) -> str:
    if is_drum:
        return "drums"
    return "mel" if program in MEL_PROGRAMS else "bass" if program in BASS_PROGRAMS else "invalid"


def _full_melody(notes: np.ndarray, total: int) -> np.ndarray | None:
    """The instrument as one melody over the whole piece (no gap splitting), as class indices."""
    notes = notes[(notes["pitch"] >= melody.MIN_PITCH) & (notes["pitch"] <= melody.MAX_PITCH)]
    found = melody.extract_melodies(notes, gap_bars=np.inf, max_steps=1 << 62)
    if not found:
        return None
    ((origin, _, events),) = found
    return melody.encode(melody.set_length(np.r_[np.full(origin, melody.NO_EVENT, np.int16), events], total))


def _full_drums(notes: np.ndarray, total: int) -> np.ndarray | None:
    tracks = drums.extract_drum_tracks(notes, np.inf, max_steps=None)
    if not tracks:
        return None
    origin, track = tracks[0]
    out = np.zeros(total, np.uint16)
    out[origin : origin + len(track)] = track[: max(total - origin, 0)]
    return out


def trio_windows(
    piece: Piece, slice_bars: int = 16, gap_bars: int = 2, max_windows: float = np.inf
) -> tuple[list[tuple[np.ndarray, int, tuple[int, int]]], Counter]:
    """Windows of one piece as ([steps, 3] indices for melody, bass, drums, start bar, (mel, bass) programs).
    Every (melody, bass, drums) triple is tried, so many parts multiply: past `max_windows` the piece gives none
    (`too_many_windows`), before they are made."""
    if piece.steps_per_bar != STEPS_PER_BAR:
        return [], Counter(not_16_steps_per_bar=1)
    notes = piece.notes[piece.notes["instrument"] <= MAX_INSTRUMENT]
    total_bars = min(int(np.ceil(int(piece.notes["end"].max(initial=0)) / STEPS_PER_BAR)), MAX_BARS)
    total = total_bars * STEPS_PER_BAR
    kinds: dict[int, str] = {}
    program_of: dict[int, int] = {}
    parts = np.unique((notes["instrument"].astype(np.int64) * 128 + notes["program"]) * 2 + notes["is_drum"])
    for i, program, is_drum in zip((parts // 256).tolist(), (parts // 2 % 128).tolist(), (parts % 2).tolist()):
        kind = _type(program, is_drum)
        kinds[i] = kind if kinds.get(i, kind) == kind else "invalid"
        program_of.setdefault(i, program)
    by_kind = {k: sorted(i for i, v in kinds.items() if v == k) for k in ("mel", "bass", "drums")}
    if not all(by_kind.values()):
        return [], Counter(missing_trio_part=1)
    # A note covers the bars it overlaps: +1 where it starts, -1 where it ends, summed along time.
    starts = notes["start"] // STEPS_PER_BAR
    inside = starts < total_bars
    delta = np.zeros((total_bars + 1, MAX_INSTRUMENT + 1), np.int32)
    np.add.at(delta, (starts[inside], notes["instrument"][inside]), 1)
    np.add.at(
        delta, (np.minimum(-(-notes["end"][inside] // STEPS_PER_BAR), total_bars), notes["instrument"][inside]), -1
    )
    coverage = np.cumsum(delta, axis=0)[:-1] > 0
    encoded = {}
    for kind, encode in (("mel", _full_melody), ("bass", _full_melody), ("drums", _full_drums)):
        for i in by_kind[kind]:
            tokens = encode(notes[notes["instrument"] == i], total)
            if tokens is None:
                coverage[:, i] = False
            else:
                encoded[i] = tokens
    # Bar j counts as covered when any bar within gap_bars of it is.
    running = np.concatenate([np.zeros((1, coverage.shape[1]), np.int32), np.cumsum(coverage, axis=0)])
    bars = np.arange(total_bars)
    filled = running[np.minimum(bars + gap_bars + 1, total_bars)] - running[np.maximum(bars - gap_bars, 0)] > 0
    starts = {}  # per triple, the bars where a window starts
    for group in itertools.product(by_kind["mel"], by_kind["bass"], by_kind["drums"]):
        if not all(i in encoded for i in group):
            continue
        cover = filled[:, group].all(axis=1)
        # Within gap_bars of either end a part counts as present when any part of the trio is.
        cover[:gap_bars] = filled[:gap_bars, group].any()
        cover[-gap_bars:] = filled[-gap_bars:, group].any()
        spans = (
            np.lib.stride_tricks.sliding_window_view(cover, slice_bars).all(axis=1)
            if total_bars >= slice_bars
            else np.zeros(0, bool)
        )
        starts[group] = np.flatnonzero(spans).tolist()
    if sum(map(len, starts.values())) > max_windows:
        return [], Counter(too_many_windows=1)
    windows = [
        (
            np.stack([encoded[i][j * STEPS_PER_BAR : (j + slice_bars) * STEPS_PER_BAR] for i in group], axis=1).astype(
                np.uint16
            ),
            j,
            (program_of[group[0]], program_of[group[1]]),
        )
        for group, js in starts.items()
        for j in js
    ]
    return windows, Counter() if windows else Counter(no_extraction=1)


def to_parts(tokens: np.ndarray) -> list[tuple[list[tuple[int, int, int]], int, bool]]:
    """A window's three parts as (notes, program, is_drum), with Magenta's output programs: melody 0, bass 33."""
    return [
        (melody.to_notes(tokens[:, 0]), 0, False),
        (melody.to_notes(tokens[:, 1]), 33, False),
        (drums.to_notes(tokens[:, 2]), 0, True),
    ]
