"""How like real melodies a model's samples are: the overlapping area of each attribute's distributions."""

import numpy as np
import pytest

from musicvae.attributes import ATTRIBUTES
from musicvae.codecs.melody import NO_EVENT as _
from musicvae.codecs.melody import encode
from musicvae.realism import attribute_overlap, overlapping_area


def test_the_same_values_overlap_wholly_and_disjoint_ones_not_at_all():
    values = np.random.default_rng(0).normal(size=500)
    assert overlapping_area(values, values) == pytest.approx(1.0)
    assert overlapping_area(values, values + 100) == 0.0
    assert overlapping_area(np.zeros(4), np.zeros(9)) == 1.0  # one value on both sides: nothing to tell apart


def test_overlap_shrinks_as_two_distributions_draw_apart():
    rng = np.random.default_rng(0)
    a = rng.normal(size=2000)
    shares = [overlapping_area(a, rng.normal(loc=shift, size=2000)) for shift in (0.0, 1.0, 2.0, 4.0)]
    assert shares == sorted(shares, reverse=True) and shares[0] > 0.9 > shares[1] > shares[2] > shares[3]


def melodies(n: int, onset_share: float, seed: int) -> np.ndarray:
    """Two-bar melodies: each step starts a random pitch with the given chance, else holds."""
    rng = np.random.default_rng(seed)
    return np.stack(
        [encode([int(p) if rng.random() < onset_share else _ for p in rng.integers(55, 80, 32)]) for _r in range(n)]
    )


def test_one_held_note_is_unlike_melodies_that_are_like_each_other():
    real = melodies(200, 0.3, seed=0)
    held = np.stack([encode([60] + [_] * 31)] * 200)
    like = attribute_overlap(melodies(200, 0.3, seed=1), real)
    unlike = attribute_overlap(held, real)
    assert set(like) == set(ATTRIBUTES) | {"mean"}
    assert like["mean"] > unlike["mean"] and like["note_density"] > 0.5 > unlike["note_density"]
    assert like["mean"] == pytest.approx(np.mean([like[name] for name in ATTRIBUTES]))
