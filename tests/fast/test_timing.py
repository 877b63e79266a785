"""Time handling: Magenta's split at real tempo and meter changes and its quantization, by hand and against
note-seq on every shared file."""

import warnings
from collections import Counter

import numpy as np

from musicvae.midi import NOTE, Limits, NoteTable, read_midi
from musicvae.timing import quantize, split_times
from tests.support.midi_files import make_midi


def table(notes, tempos=((0.0, 120.0),), meters=()) -> NoteTable:
    """notes: (start, end, pitch) in seconds."""
    arr = np.zeros(len(notes), NOTE)
    for i, (start, end, pitch) in enumerate(notes):
        arr[i] = (0, 0, False, pitch, 80, start, end)
    return NoteTable(arr, np.array(tempos, dtype=float).reshape(-1, 2), np.array(meters, dtype=float).reshape(-1, 3))


def steps(piece):
    return [(int(n["pitch"]), int(n["start"]), int(n["end"])) for n in piece.notes]


def test_round_to_nearest_step_and_zero_length_becomes_one_step():
    # At 120 qpm a 16th step is 0.125 s.
    pieces, _ = quantize(table([(0.06, 0.0624, 60), (0.0625, 0.25, 62), (0.3, 0.31, 64), (0.5, 1.0, 65)]))
    assert steps(pieces[0]) == [(60, 0, 1), (62, 1, 2), (64, 2, 3), (65, 4, 8)]


def test_tempo_change_splits_and_restarts_the_bar_grid():
    # 120 qpm, then 60 qpm from 1.1 s (mid-bar): the second piece's steps count from the cut.
    pieces, _ = quantize(table([(0.0, 0.5, 60), (1.0, 1.35, 62), (1.1, 1.35, 64)], tempos=((0.0, 120.0), (1.1, 60.0))))
    assert [(p.offset, p.qpm) for p in pieces] == [(0.0, 120.0), (1.1, 60.0)]
    assert steps(pieces[0]) == [(60, 0, 4), (62, 8, 9)]  # the note crossing the cut ends at it
    assert steps(pieces[1]) == [(64, 0, 1)]


def test_repeated_tempo_and_changes_after_the_last_note_do_not_split():
    t = table([(0.0, 2.0, 60)], tempos=((0.0, 100.0), (1.0, 100.0), (2.0, 90.0)), meters=((0.0, 4, 4), (3.0, 3, 4)))
    assert split_times(t) == [0.0, 2.0]
    assert len(quantize(t)[0]) == 1


def test_meter_change_gives_a_piece_per_meter():
    pieces, _ = quantize(table([(0.0, 0.5, 60), (2.0, 2.5, 62)], meters=((0.0, 4, 4), (2.0, 3, 4))))
    assert [(p.numerator, p.denominator, p.steps_per_bar) for p in pieces] == [(4, 4, 16.0), (3, 4, 12.0)]


def test_bad_time_signature_piece_is_counted():
    pieces, rejected = quantize(table([(0.0, 0.5, 60)], meters=((0.0, 4, 3),)))
    assert pieces == [] and rejected == {"bad_time_signature": 1}


def test_2_2_counts_as_16_steps_per_bar():
    data = make_midi([(0, 96, 60)], meters=((0, 2, 2),))
    (piece,), _ = quantize(read_midi(data))
    assert piece.steps_per_bar == 16


def test_pieces_match_note_seq_on_every_shared_file(shared_midi):
    from note_seq import midi_io, sequences_lib

    total = 0
    for path in sorted(shared_midi.rglob("*.mid")):
        ours, _ = quantize(read_midi(path, Limits(max_notes=10**6)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pieces = sequences_lib.split_note_sequence_on_time_changes(midi_io.midi_file_to_note_sequence(str(path)))
        ref = [sequences_lib.quantize_note_sequence(p, 4) for p in pieces]
        assert [(p.qpm, p.numerator, p.denominator) for p in ours] == [
            (q.tempos[0].qpm, q.time_signatures[0].numerator, q.time_signatures[0].denominator) for q in ref
        ]
        for p, q in zip(ours, ref):
            mine = Counter(
                zip(
                    p.notes["pitch"].tolist(),
                    p.notes["start"].tolist(),
                    p.notes["end"].tolist(),
                    p.notes["program"].tolist(),
                    p.notes["is_drum"].tolist(),
                )
            )
            theirs = Counter(
                (n.pitch, n.quantized_start_step, n.quantized_end_step, n.program, n.is_drum) for n in q.notes
            )
            assert mine == theirs, path  # steps and programs, where a track switches programs too
            total += sum(theirs.values())
    assert total > 100_000
