"""Whether a model has learned, from numbers the learning monitor measures: the majority-class baseline a
reconstruction must beat, the shuffled-code gap that shows the decoder reads z, and the verdict they give.

A VAE that predicts the commonest token everywhere scores the share of that token (58.6 % rests on the 16-bar test
split), so accuracy means nothing until it clears that baseline; and a decoder that ignores z reconstructs as well
from another window's code as from its own, so the gap between the two is the plainest test that z is used."""

from __future__ import annotations

import torch

# The margins a model must clear. Two points of accuracy over the baseline are more than the eval split's sampling
# noise (±1 point at 300 windows × 256 steps, correlated within windows); a gap of 1 % of r_loss is a few nats on a
# 16-bar melody, far above the 0.0 a decoder that ignores z gives.
BASELINE_MARGIN = 0.02
MIN_GAP_SHARE = 0.01
VERDICTS = ("learning", "at baseline", "latent code unused", "greedy at baseline")


def majority_accuracy(tokens: torch.Tensor) -> float:
    """The accuracy of always predicting each part's commonest class: tokens [N, T, P], parts averaged."""
    tokens = tokens.long()
    return float(
        torch.stack([torch.bincount(tokens[..., p].flatten()).max() for p in range(tokens.shape[-1])]).float().mean()
        / tokens[..., 0].numel()
    )


def kl_per_dim(mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """[Z] KL(q(z_d|x) || N(0, 1)) of each latent dim in nats, averaged over the examples [N, Z]."""
    return (0.5 * (mu.square() + sigma.square() - 1) - sigma.log()).mean(0)


def verdict(
    accuracy: float,
    majority: float,
    active_units: int,
    gap_share: float,
    greedy: float | None = None,
    greedy_majority: float | None = None,
) -> str:
    """ "at baseline" when teacher-forced accuracy does not clear the majority class; "latent code unused" when it
    does but no dim is active or decoding another window's code costs (almost) nothing; "greedy at baseline" when
    decoding from z alone (greedy, on windows whose majority class scores `greedy_majority`) does not clear it:
    the model has learned rhythm from the true previous notes, not the music; otherwise "learning"."""
    if accuracy < majority + BASELINE_MARGIN:
        return "at baseline"
    if active_units == 0 or gap_share < MIN_GAP_SHARE:
        return "latent code unused"
    if greedy is not None and greedy < greedy_majority + BASELINE_MARGIN:
        return "greedy at baseline"
    return "learning"


def explain(verdict_: str) -> str:
    """The verdict in words for a warning."""
    return {
        "learning": "the model beats the majority-class baseline and its decoder uses the latent code",
        "at baseline": "the model predicts no better than always writing the commonest token (mostly rests): "
        "its outputs will be empty or near-empty; train it longer",
        "latent code unused": "the decoder ignores the latent code z: reconstructions, interpolations and "
        "attribute vectors do not depend on the input; train it longer",
        "greedy at baseline": "fed the true previous notes the model beats the baseline and it reads z, but "
        "decoding from z alone is no better than writing rests: reconstructions, samples "
        "and interpolations will be sparse; train it longer",
    }[verdict_]
