"""Windows back to music: MIDI bytes (symusic) or a note-seq NoteSequence, with Magenta's output conventions:
velocity 80, melody program 0, bass program 33, drums on channel 10, and the tempo of the source window."""

from __future__ import annotations

import symusic

VELOCITY = 80
STEPS_PER_QUARTER = 4
TPQ = 480


def to_midi(parts: list[tuple[list[tuple[int, int, int]], int, bool]], qpm: float = 120.0) -> bytes:
    """parts: (notes as (pitch, start step, end step), program, is_drum) per instrument."""
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


def to_note_sequence(parts: list[tuple[list[tuple[int, int, int]], int, bool]], qpm: float = 120.0):
    """The same as a note-seq NoteSequence (for Magenta's tools and magenta.js); instruments 0.., drums 9."""
    from note_seq.protobuf import music_pb2

    sequence = music_pb2.NoteSequence(ticks_per_quarter=TPQ)
    sequence.tempos.add(qpm=qpm)
    sequence.time_signatures.add(numerator=4, denominator=4)
    seconds_per_step = 60.0 / qpm / STEPS_PER_QUARTER
    for i, (notes, program, is_drum) in enumerate(parts):
        for pitch, start, end in notes:
            sequence.notes.add(pitch=pitch, velocity=VELOCITY, program=program, is_drum=is_drum,
                               instrument=9 if is_drum else i, start_time=start * seconds_per_step,
                               end_time=end * seconds_per_step)
    sequence.total_time = max((n.end_time for n in sequence.notes), default=0.0)
    return sequence
