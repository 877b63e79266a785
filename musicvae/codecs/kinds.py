"""What each kind of representation does differently, behind one interface, as Magenta keeps it in its converter
classes (magenta/models/music_vae/data.py: OneHotMelodyConverter, DrumsConverter, TrioConverter): how a piece is
cut into windows, how a window's tokens become parts to play, and whether part 0 is a melody (the paper's
attributes and pitch at onsets are melodic)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from musicvae.codecs import drums, melody, trio

Part = tuple[list[tuple[int, int, int]], int, bool]  # (notes as (pitch, start step, end step), program, is_drum)
Found = tuple[list[tuple[np.ndarray, int, tuple[int, ...]]], Counter]  # (tokens, start bar, programs), reasons


@dataclass(frozen=True)
class Kind:
    name: str
    melodic: bool  # part 0 is a melody
    windows: Callable[..., Found]  # (piece, representation, max_windows) → the piece's windows and why none
    parts: Callable[[np.ndarray, tuple[int, ...]], list[Part]]  # (tokens [steps, parts], programs) → parts
    greedy_key: str = "greedy"  # the accuracy the evaluate stage leads with: a trio's is its melody's


def _melody_windows(piece, rep, max_windows: float) -> Found:
    programs = set(rep.programs) if rep.programs else None
    found, reasons = melody.melody_windows(piece, rep.slice_bars, programs, rep.gap_bars, max_windows)
    return [(t, s, (p,)) for t, s, p in found], reasons


def _drum_windows(piece, rep, max_windows: float) -> Found:
    """One drum track per piece: its windows are bounded by the piece's steps, whatever max_windows says."""
    found, reasons = drums.drum_windows(piece, rep.slice_bars, rep.gap_bars)
    return [(t, s, ()) for t, s in found], reasons


def _trio_windows(piece, rep, max_windows: float) -> Found:
    return trio.trio_windows(piece, rep.slice_bars, int(rep.gap_bars), max_windows)


def _melody_parts(tokens: np.ndarray, programs: tuple[int, ...]) -> list[Part]:
    return [(melody.to_notes(tokens[:, 0]), programs[0] if programs else 0, False)]


def _drum_parts(tokens: np.ndarray, programs: tuple[int, ...]) -> list[Part]:
    return [(drums.to_notes(tokens[:, 0]), 0, True)]


def _trio_parts(tokens: np.ndarray, programs: tuple[int, ...]) -> list[Part]:
    """Melody and bass take the source's programs when known, else Magenta's output programs."""
    return [
        (notes, programs[i] if i < len(programs) else program, is_drum)
        for i, (notes, program, is_drum) in enumerate(trio.to_parts(tokens))
    ]


KINDS = {
    "melody": Kind("melody", True, _melody_windows, _melody_parts),
    "drums": Kind("drums", False, _drum_windows, _drum_parts),
    "trio": Kind("trio", True, _trio_windows, _trio_parts, greedy_key="melody_greedy"),
}
