"""The learning monitor on hand-made cases: a decoder that ignores z, one trained to use it, and the verdicts."""

import pytest
import torch

from lightning_modules.components import objective
from lightning_modules.components.musicvae import ModelConfig, MusicVAE
from lightning_modules.learning_monitor import diagnose
from musicvae import learning
from musicvae.metrics import kl_divergence
from tests.support.tiny import TINY, windows


def test_a_decoder_that_ignores_z_has_no_gap_and_no_active_units():
    torch.manual_seed(0)
    model = MusicVAE(ModelConfig(**TINY, hierarchical=False))
    for head in (model.encoder.mu, model.encoder.sigma):  # every window gets the same posterior
        torch.nn.init.zeros_(head.weight)
    result = diagnose(model, windows())
    assert result["active_units"] == 0
    assert result["gap_nats"] == pytest.approx(0, abs=1e-4)
    assert result["verdict"] == "at baseline"  # untrained: below the majority class too


def test_a_decoder_cut_off_from_a_varying_code_has_active_units_but_no_gap():
    """Active units measure the encoder, the gap the decoder: means that differ window by window, read by a decoder
    that never sees z, give active units and still no gap."""
    torch.manual_seed(0)
    model = MusicVAE(ModelConfig(**TINY, hierarchical=False, head_init="pytorch"))
    decoder = model.decoders[0]
    with torch.no_grad():
        model.encoder.mu.weight.mul_(10)  # means far apart from window to window
        decoder.initial_state.dense.weight.zero_()  # z sets no state ...
        decoder.rnn.weight_ih_l0[:, -model.config.z_size :].zero_()  # ... and no input: its columns of layer 1
    result = diagnose(model, windows())
    assert result["active_units"] == 4
    assert result["gap_nats"] == pytest.approx(0, abs=1e-4) and result["gap_share"] < learning.MIN_GAP_SHARE


@pytest.mark.parametrize("hierarchical", [False, True])
def test_a_decoder_trained_to_use_z_has_a_gap_and_active_units(hierarchical):
    torch.manual_seed(0)
    model = MusicVAE(ModelConfig(**TINY, hierarchical=hierarchical, state_init="pytorch", head_init="pytorch"))
    tokens = windows()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):  # an autoencoder (no KL term) on six random melodies must read z to tell them apart
        logits, mu, sigma = model(tokens)
        loss = objective.r_loss(logits, tokens).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    result = diagnose(model, tokens, greedy_examples=6)
    assert result["active_units"] > 0
    assert result["gap_nats"] > 0.1 * result["r_loss"] and result["gap_share"] > learning.MIN_GAP_SHARE
    assert result["accuracy"] > result["majority_accuracy"] + learning.BASELINE_MARGIN
    assert result["greedy_accuracy"] > result["majority_accuracy"]
    assert result["verdict"] == "learning"
    assert result["grad_z"] > 0 and len(result["kl_per_dim"]) == 4
    # every step of these windows starts a note, so a greedy step is right exactly when it has the onset's pitch
    assert result["greedy_pitch_at_onset"] == pytest.approx(result["greedy_accuracy"])
    assert result["greedy_onset_recall"] >= result["greedy_pitch_at_onset"]
    assert (result["conductor_scale"] is not None) == hierarchical


def test_majority_accuracy_is_the_commonest_tokens_share_per_part():
    tokens = torch.tensor([[[1, 5], [1, 6], [0, 6], [1, 6]]])  # part 0: 3 of 4 are 1; part 1: 3 of 4 are 6
    assert learning.majority_accuracy(tokens) == 0.75
    tokens[0, 2, 1] = 5
    assert learning.majority_accuracy(tokens) == pytest.approx((0.75 + 0.5) / 2)


@pytest.mark.parametrize(
    "accuracy, active, share, greedy, expected",
    [
        (0.60, 64, 0.40, 0.70, "at baseline"),  # uses z, but no better than writing rests
        (0.70, 0, 0.40, 0.70, "latent code unused"),
        (0.70, 30, 0.001, 0.70, "latent code unused"),
        (0.70, 30, 0.05, 0.60, "greedy at baseline"),  # rhythm from the true previous notes, nothing from z alone
        (0.70, 30, 0.05, 0.70, "learning"),
        (0.70, 30, 0.05, None, "learning"),
    ],
)
def test_verdict(accuracy, active, share, greedy, expected):
    assert learning.verdict(accuracy, 0.59, active, share, greedy, 0.59) == expected


def test_kl_per_dim_sums_to_the_objectives_kl():
    mu, sigma = torch.randn(5, 3), torch.rand(5, 3) + 0.1
    assert learning.kl_per_dim(mu, sigma).sum() == pytest.approx(float(kl_divergence(mu, sigma).mean()), rel=1e-5)
