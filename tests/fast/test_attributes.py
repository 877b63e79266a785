"""Melody attributes on hand-made one-bar melodies written in MIDI pitches (60 = C4) and encoded as tokens."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from musicvae import attributes
from musicvae.attributes import (
    ATTRIBUTES,
    average_interval,
    chord_share,
    note_density,
    syncopation_8th,
    syncopation_16th,
)
from musicvae.codecs.melody import CLASSES, encode
from musicvae.codecs.melody import NO_EVENT as _
from musicvae.codecs.melody import NOTE_OFF as X


def bar(*events):
    return encode(list(events) + [_] * (16 - len(events)))


# Onsets at steps 0, 2, 5, 8, 14: C4, E♭4, G♭4, (off at 7) D4, C4.
TUNE = bar(60, _, 63, _, _, 66, _, X, 62, _, _, _, _, _, 60)
SILENCE = bar()
ONE_LONG_NOTE = bar(67)


def test_note_density_counts_onsets_not_held_steps():
    assert note_density(TUNE) == 5 / 16
    assert note_density(ONE_LONG_NOTE) == 1 / 16
    assert note_density(SILENCE) == 0.0
    assert note_density(bar(*[60] * 16)) == 1.0  # a re-struck note is a new onset


def test_average_interval_spans_rests_and_needs_two_notes():
    assert average_interval(TUNE) == (3 + 3 + 4 + 2) / 4  # the leap from G♭4 down to D4 crosses a rest
    assert average_interval(ONE_LONG_NOTE) == 0.0
    assert average_interval(SILENCE) == 0.0
    assert average_interval(bar(72, _, _, _, 60, 60)) == (12 + 0) / 2  # down an octave from unsigned tokens


def test_syncopation_by_onset_position_within_the_beat():
    assert syncopation_8th(TUNE) == 2 / 5  # steps 2 and 14
    assert syncopation_16th(TUNE) == 1 / 5  # step 5
    every_16th = bar(*[60] * 16)
    assert syncopation_8th(every_16th) == 4 / 16
    assert syncopation_16th(every_16th) == 8 / 16
    on_the_beat = bar(60, _, _, _, 62, _, _, _, 64, _, _, _, 65)
    assert syncopation_8th(on_the_beat) == syncopation_16th(on_the_beat) == 0.0
    assert syncopation_8th(SILENCE) == syncopation_16th(SILENCE) == 0.0


def test_chord_share_counts_notes_by_pitch_class_in_any_octave():
    assert ATTRIBUTES["c_dim_triad"](TUNE) == 4 / 5  # all but D4
    assert chord_share(TUNE, {2}) == 1 / 5
    assert chord_share(bar(48, 75, 90, 21), {0, 3, 6}) == 3 / 4  # C3, E♭5, G♭6 in; A0 out
    assert chord_share(SILENCE, {0, 3, 6}) == 0.0


def test_registry_names_the_papers_attributes():
    assert set(ATTRIBUTES) == {"note_density", "average_interval", "syncopation_8th", "syncopation_16th", "c_dim_triad"}


@pytest.mark.parametrize("name", sorted(ATTRIBUTES))
def test_a_batch_gives_one_float_per_melody(name):
    attribute = ATTRIBUTES[name]
    batch = np.stack([TUNE, SILENCE, ONE_LONG_NOTE, TUNE])
    values = attribute(batch)
    assert isinstance(attribute(TUNE), float) and values.shape == (4,)
    assert values.tolist() == [attribute(m) for m in batch]


@given(arrays(np.uint8, st.tuples(st.integers(1, 5), st.just(32)), elements=st.integers(0, CLASSES - 1)))
def test_average_interval_of_a_batch_never_mixes_melodies(batch):
    def by_hand(melody):
        pitches = [int(k) for k in melody if k >= 2]
        leaps = [abs(b - a) for a, b in zip(pitches, pitches[1:])]
        return sum(leaps) / len(leaps) if leaps else 0.0

    np.testing.assert_allclose(average_interval(batch), [by_hand(m) for m in batch])


@pytest.mark.parametrize(
    "effect, expected",
    [
        (np.zeros((5, 5)), 0.0),  # a model that ignores z: no row dominates (argmax would say the first column)
        (np.eye(3) * 2 + 0.5, 1.0),
        (np.array([[1.0, 1.0], [0.2, -0.9]]), 0.5),  # a tie is no win; the sign does not matter
        (np.array([[0.1, 0.3], [0.0, 0.2]]), 0.5),
    ],
)
def test_diagonal_dominance_needs_a_strictly_largest_nonzero_own_effect(effect, expected):
    assert attributes.diagonal_dominance(effect) == expected
