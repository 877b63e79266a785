"""Windows back to music: MIDI bytes (symusic) or a note-seq NoteSequence, with Magenta's output conventions:
velocity 80, melody program 0, bass program 33, drums on channel 10, and the tempo of the source window."""

from __future__ import annotations

import warnings

import numpy as np
import symusic

from musicvae.codecs.kinds import KINDS, Part

VELOCITY = 80
STEPS_PER_QUARTER = 4
TPQ = 480


def to_midi(parts: list[Part], qpm: float = 120.0) -> bytes:
    score = symusic.Score(TPQ)
    score.tempos.append(symusic.Tempo(0, qpm))
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    ticks = TPQ // STEPS_PER_QUARTER
    for notes, program, is_drum in parts:
        track = symusic.Track("drums" if is_drum else f"program {program}", program, is_drum)
        for pitch, start, end in notes:
            track.notes.append(symusic.Note(start * ticks, (end - start) * ticks, pitch, VELOCITY))
        score.tracks.append(track)
    return score.dumps_midi()


def sequence_parts(kind: str, tokens: np.ndarray, programs: tuple[int, ...] = ()) -> list[dict]:
    """A window's parts as the Web Audio synth (musicvae/web/synth.js) plays them: notes [pitch, start, end] in
    16th-note steps."""
    return [
        {"program": int(program), "drum": bool(drum), "notes": [list(map(int, n)) for n in notes]}
        for notes, program, drum in window_parts(kind, tokens, programs)
    ]


def to_note_sequence(parts: list[Part], qpm: float = 120.0):
    """The same as a note-seq NoteSequence (for Magenta's tools and magenta.js); instruments 0.., drums 9."""
    with warnings.catch_warnings():  # note-seq imports pydub, which warns that it found no ffmpeg (never used here)
        warnings.filterwarnings("ignore", message="Couldn't find ffmpeg")
        from note_seq.protobuf import music_pb2

    sequence = music_pb2.NoteSequence(ticks_per_quarter=TPQ)
    sequence.tempos.add(qpm=qpm)
    sequence.time_signatures.add(numerator=4, denominator=4)
    seconds_per_step = 60.0 / qpm / STEPS_PER_QUARTER
    for i, (notes, program, is_drum) in enumerate(parts):
        for pitch, start, end in notes:
            sequence.notes.add(
                pitch=pitch,
                velocity=VELOCITY,
                program=program,
                is_drum=is_drum,
                instrument=9 if is_drum else i,
                start_time=start * seconds_per_step,
                end_time=end * seconds_per_step,
            )
    sequence.total_time = max((n.end_time for n in sequence.notes), default=0.0)
    return sequence


def window_parts(kind: str, tokens: np.ndarray, programs: tuple[int, ...] = ()) -> list[Part]:
    """One window's tokens ([steps] or [steps, parts]) as parts; melodic parts take `programs` when known (the
    source's), else Magenta's output programs."""
    return KINDS[kind].parts(tokens.reshape(len(tokens), -1), programs)


def has_notes(kind: str, tokens: np.ndarray) -> bool:
    """Whether a window sounds at all (a model at its baseline writes only rests)."""
    return any(notes for notes, _, _ in window_parts(kind, tokens))
