"""Time handling as Magenta does it: split at real tempo and time-signature changes, then quantize each piece.

Follows note-seq's `split_note_sequence_on_time_changes` and `quantize_note_sequence` with the same float
operations, so steps match Magenta's. Each piece restarts its bar grid at its cut, even mid-bar."""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass

import numpy as np

from musicvae.midi import MidiRejected, NoteTable

STEPS = np.dtype(
    [
        ("instrument", "i4"),
        ("program", "i2"),
        ("is_drum", "?"),
        ("pitch", "i2"),
        ("velocity", "i2"),
        ("start", "i8"),
        ("end", "i8"),
    ]
)


@dataclass(frozen=True)
class Piece:
    index: int  # position among the file's pieces
    offset: float  # seconds into the file where the piece starts
    qpm: float
    numerator: int
    denominator: int
    steps_per_quarter: int
    notes: np.ndarray  # dtype STEPS, sorted by (start, -pitch)

    @property
    def steps_per_bar(self) -> float:
        return self.steps_per_quarter * 4.0 * self.numerator / self.denominator


def split_times(table: NoteTable) -> list[float]:
    """Cut points: 0, every real change of tempo or meter before the last note ends, and that end."""
    total = table.total_time
    changes = sorted(
        [(t, "meter", (num, den)) for t, num, den in table.time_signatures.tolist()]
        + [(t, "tempo", qpm) for t, qpm in table.tempos.tolist()],
        key=lambda c: c[0],
    )
    current = {"meter": (4, 4), "tempo": 120.0}
    cuts = [0.0]
    for t, kind, value in changes:
        if t >= total or value == current[kind]:
            continue
        if t > cuts[-1]:
            cuts.append(t)
        current[kind] = value
    if total > cuts[-1]:
        cuts.append(total)
    return cuts


def _in_force(times: list[float], values: list, at: float, default: object) -> object:
    """The value of the last event at or before `at` (note-seq carries the previous event into each piece); `times`
    sorted. A bisection: expressive files change tempo thousands of times, once a piece."""
    i = bisect.bisect_right(times, at)
    return values[i - 1] if i else default


def quantize(
    table: NoteTable, steps_per_quarter: int = 4, max_steps: float = np.inf, max_pieces: float = np.inf
) -> tuple[list[Piece], Counter]:
    """Split and quantize; returns the pieces and a count of the pieces rejected, by reason. A file split into more
    than `max_pieces` pieces (Magenta's max_time_splits), or whose pieces span more than `max_steps` steps in all,
    is rejected before anything of that size is made."""
    cuts = split_times(table)
    if len(cuts) - 1 > max_pieces:
        raise MidiRejected("too_many_time_splits", f"{len(cuts) - 1} tempo or meter pieces > {max_pieces}")
    meter_times = table.time_signatures[:, 0].tolist()
    meters = [(int(num), int(den)) for num, den in table.time_signatures[:, 1:].tolist()]
    tempo_times, tempos = table.tempos[:, 0].tolist(), table.tempos[:, 1].tolist()
    notes = table.notes
    starts = notes["start"]  # sorted
    pieces, rejected, steps = [], Counter(), 0.0
    for i, (begin, end) in enumerate(zip(cuts[:-1], cuts[1:])):
        numerator, denominator = _in_force(meter_times, meters, begin, (4, 4))
        if numerator <= 0 or denominator <= 0 or denominator & (denominator - 1):
            rejected["bad_time_signature"] += 1
            continue
        qpm = _in_force(tempo_times, tempos, begin, 120.0)
        inside = notes[np.searchsorted(starts, begin) : np.searchsorted(starts, end)]  # begin <= start < end
        steps_per_second = steps_per_quarter * qpm / 60.0
        ends = (np.minimum(inside["end"], end) - begin) * steps_per_second + 0.5
        steps += ends.max(initial=0.0)
        if steps > max_steps:  # checked in floats: a billion-step piece would overflow the integer steps
            raise MidiRejected(
                "too_many_steps",
                f"the notes span {steps:,.0f} sixteenth-note steps or more > "
                f"{max_steps:,} (the fastest tempo is {table.tempos[:, 1].max():,.0f} beats a minute)",
            )
        out = np.zeros(len(inside), STEPS)
        for field in ("instrument", "program", "is_drum", "pitch", "velocity"):
            out[field] = inside[field]
        # note-seq: int(t * sps + 0.5) on piece-relative seconds; a note never ends on its start step.
        out["start"] = ((inside["start"] - begin) * steps_per_second + 0.5).astype(np.int64)
        out["end"] = ends.astype(np.int64)
        out["end"] += out["end"] == out["start"]
        pieces.append(Piece(i, begin, qpm, numerator, denominator, steps_per_quarter, out))
    return pieces, rejected
