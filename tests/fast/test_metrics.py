"""Metrics on hand-made tokens and posteriors whose values are worked out by hand."""

import math

import pytest
import torch

from musicvae.metrics import (
    FIRST_PITCH,
    accuracy,
    accuracy_per_bar,
    active_units,
    hamming,
    kl_bits,
    monotonicity,
    onsets,
)


def two_bar_predictions():
    """Two 2-bar examples: the first misses 4 steps of bar 0, the second 8 steps of bar 1."""
    target = torch.zeros(2, 32, dtype=torch.long)
    predicted = target.clone()
    predicted[0, [1, 5, 9, 13]] = 7
    predicted[1, 16:24] = 3
    return predicted, target


def test_accuracy_per_bar_counts_each_bar_over_all_examples():
    predicted, target = two_bar_predictions()
    assert accuracy_per_bar(predicted, target).tolist() == [28 / 32, 24 / 32]


def test_accuracy_per_bar_follows_the_bar_length():
    predicted, target = two_bar_predictions()
    assert accuracy_per_bar(predicted, target, steps_per_bar=8).tolist() == [14 / 16, 14 / 16, 8 / 16, 1.0]


def test_accuracy_is_the_fraction_of_right_tokens_and_the_mean_over_bars():
    predicted, target = two_bar_predictions()
    assert accuracy(predicted, target).item() == 52 / 64
    assert accuracy(predicted, target) == accuracy_per_bar(predicted, target).mean()


def test_kl_bits_of_the_prior_itself_is_zero():
    assert torch.equal(kl_bits(torch.zeros(3, 4), torch.ones(3, 4)), torch.zeros(3))


def test_kl_bits_by_hand():
    mu = torch.tensor([[1.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
    sigma = torch.tensor([[1.0, 1.0], [2.0, 1.0]], dtype=torch.float64)
    # ½(μ² + σ² − 1 − ln σ²) nats: ½ for μ = 1; 3/2 − ln 2 for σ = 2.
    expected = torch.tensor([0.5 / math.log(2), 1.5 / math.log(2) - 1], dtype=torch.float64)
    torch.testing.assert_close(kl_bits(mu, sigma), expected)


def test_kl_bits_agrees_with_torch_distributions():
    gen = torch.Generator().manual_seed(0)
    mu, sigma = torch.randn(5, 16, generator=gen), torch.rand(5, 16, generator=gen) + 0.1
    nats = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, sigma), torch.distributions.Normal(0.0, 1.0)
    ).sum(-1)
    torch.testing.assert_close(kl_bits(mu, sigma), nats / math.log(2))


def test_active_units_uses_the_population_variance_of_the_means():
    s = torch.tensor([1.0, -1.0, 1.0, -1.0])
    mu = torch.stack(
        [
            s,  # variance 1: active
            torch.full((4,), 3.0),  # collapsed: the same mean for every input
            0.09 * s,  # 0.0081 (an unbiased estimate would say 0.0108 > 0.01)
            0.11 * s,
        ],
        dim=1,
    )  # 0.0121: active
    assert active_units(mu) == 2
    assert active_units(mu, threshold=0.005) == 3
    assert active_units(mu, threshold=2.0) == 0


def test_hamming_is_the_fraction_of_differing_steps_and_broadcasts():
    start = torch.tensor([5, 0, 0, 7])
    path = torch.tensor([[5, 0, 0, 7], [5, 0, 1, 7], [6, 1, 1, 1]])
    assert hamming(path[1], start).item() == 0.25
    assert hamming(path, start).tolist() == [0.0, 0.25, 1.0]
    assert hamming(start, path).tolist() == [0.0, 0.25, 1.0]


@pytest.mark.parametrize(
    "values, expected",
    [
        ([0.0, 1.0, 2.0, 3.0], 1.0),
        ([0.1, 0.2, 5.0, 100.0], 1.0),  # ranks, not linearity
        ([4.0, 3.0, 1.0, 0.0], -1.0),
        ([3.0, 1.0, 2.0], -0.5),  # 1 − 6·Σd²/(n(n²−1)) with d = (2, −1, −1)
        ([0.0, 1.0, 1.0, 2.0], math.sqrt(0.9)),  # the tie shares rank 2.5
        ([2.0, 2.0, 2.0], 0.0),
    ],
)
def test_monotonicity_is_the_rank_correlation_with_the_step(values, expected):
    assert monotonicity(torch.tensor(values)) == pytest.approx(expected, abs=1e-5)  # torchmetrics adds 1e-6


def test_onsets_tell_the_rhythm_from_the_pitch():
    rest, off, c, d = 0, 1, FIRST_PITCH + 39, FIRST_PITCH + 41  # NO_EVENT, NOTE_OFF, C4 and D4
    target = torch.tensor([[c, rest, off, d, rest, rest, c, rest]])  # onsets at steps 0, 3 and 6
    same_rhythm_one_pitch = torch.tensor([[c, rest, off, c, rest, rest, c, rest]])
    assert onsets(same_rhythm_one_pitch, target) == pytest.approx(
        {"onset_recall": 1.0, "pitch_at_onset": 2 / 3, "onset_precision": 1.0}
    )
    late_and_extra = torch.tensor([[rest, c, off, d, rest, d, rest, d]])  # misses 0 and 6; one of four on time
    assert onsets(late_and_extra, target) == pytest.approx(
        {"onset_recall": 1 / 3, "pitch_at_onset": 1 / 3, "onset_precision": 1 / 4}
    )
    silent = torch.full_like(target, rest)
    assert onsets(silent, target) == {"onset_recall": 0.0, "pitch_at_onset": 0.0, "onset_precision": 0.0}
    assert onsets(target, silent)["onset_recall"] == 0.0  # no onsets to find: nothing found, and no division by zero
