"""Drum codec: Magenta's DrumsConverter rules by hand, its encodings, and conformance on every shared file."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from musicvae.codecs import drums
from musicvae.codecs.drums import drum_windows, extract_drum_tracks
from musicvae.midi import Limits, read_midi
from musicvae.timing import STEPS, Piece, quantize
from tests.support import magenta_reference as ref


def piece(notes, is_drum=True):
    """notes: (start_step, pitch, instrument)."""
    arr = np.zeros(len(notes), STEPS)
    for i, (start, pitch, instrument) in enumerate(notes):
        arr[i] = (instrument, 0, is_drum, pitch, 80, start, start + 1)
    return Piece(0, 0.0, 120.0, 4, 4, 4, arr)


def test_instruments_merge_classes_map_and_unknown_pitches_drop():
    # Kick (36) and a snare-class 40 on another instrument share step 0; 35 is a kick too; 90 is unmapped.
    ((_, track),) = extract_drum_tracks(piece([(0, 36, 0), (0, 40, 1), (4, 35, 0), (8, 90, 0), (12, 42, 0)]).notes)
    assert track.tolist() == [0b11, 0, 0, 0, 0b1, 0, 0, 0, 0, 0, 0, 0, 0b100, 0, 0, 0]


def test_a_rest_of_one_bar_after_the_last_onset_ends_the_track():
    # 16 is 15 steps after the step following onset 0: same track. 40 is 23 after 17: a new track from bar 2.
    tracks = extract_drum_tracks(piece([(0, 36, 0), (16, 36, 0), (40, 36, 0)]).notes)
    assert [(origin, len(t)) for origin, t in tracks] == [(0, 32), (32, 16)] and tracks[1][1][8] == 1
    assert len(extract_drum_tracks(piece([(0, 36, 0), (17, 36, 0)]).notes)) == 2


def test_non_drum_notes_give_nothing():
    assert drum_windows(piece([(0, 36, 0)], is_drum=False), 1) == ([], {"no_extraction": 1})


def test_roll_has_a_nothing_hit_bit_and_decoding_uses_exemplars():
    r = drums.roll(np.array([0, 0b11, 0b100000000]))
    assert r.shape == (3, 10) and r[0].tolist() == [False] * 9 + [True]
    assert np.flatnonzero(r[1]).tolist() == [0, 1] and np.flatnonzero(r[2]).tolist() == [8]
    assert drums.pitches(0b11) == [36, 38] and drums.pitches(0b100000000) == [51]


@given(st.lists(st.tuples(st.integers(0, 100), st.integers(0, 127), st.integers(0, 3)), max_size=80))
def test_windows_stay_in_vocabulary_and_rolls_round_trip(notes):
    windows, _ = drum_windows(piece(notes), 2)
    for w, _ in windows:
        assert w.shape == (32,) and int(w.max()) < drums.CLASSES
        r = drums.roll(w)
        assert (r[:, :9].astype(int) << np.arange(9)).sum(axis=1).tolist() == w.tolist()
        assert (r[:, 9] == (w == 0)).all()


def test_windows_match_the_reference_on_every_shared_file(shared_midi):
    total = 0
    for path in sorted(shared_midi.rglob("*.mid")):
        pieces, _ = quantize(read_midi(path, Limits(max_notes=10**6)))
        mine = {p.index: {tuple(w.tolist()) for w, _ in drum_windows(p, 2)[0]} for p in pieces}
        theirs = ref.drum_windows(path, 2)
        for index in set(mine) | set(theirs):
            assert mine.get(index, set()) == theirs.get(index, set()), (path, index)
        total += sum(len(v) for v in theirs.values())
    assert total > 1000
