"""Evaluation metrics of the paper: reconstruction accuracy (overall and per bar), the KL term in bits, active latent
units, and the Hamming distance and monotonicity used to judge interpolations; and, to tell rhythm from pitch in a
melody's reconstruction, how its note onsets come back. Pure functions of torch tensors."""

from __future__ import annotations

import math

import torch
from torchmetrics.functional import spearman_corrcoef

from musicvae.codecs import melody
from musicvae.codecs.melody import STEPS_PER_BAR

FIRST_PITCH = int(melody.encode([melody.MIN_PITCH])[0])  # a melody's classes: NO_EVENT, NOTE_OFF, then pitches


def accuracy(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Fraction of tokens predicted right: Magenta's `metrics/accuracy` (its hierarchical variant, the mean over
    equal-length bars, is the same number)."""
    return (predicted == target).float().mean()


def accuracy_per_bar(predicted: torch.Tensor, target: torch.Tensor, steps_per_bar: int = STEPS_PER_BAR) -> torch.Tensor:
    """[bars] accuracy of one part's tokens [N, T] in each bar, over all examples (`segment/NNN/metrics/accuracy`)."""
    n, steps = target.shape
    correct = (predicted == target).float().reshape(n, steps // steps_per_bar, steps_per_bar)
    return correct.mean(dim=(0, 2))


def onsets(predicted: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """How a melody's note onsets (its pitch classes) come back, tokens [..., T]: `onset_recall`, the share of the
    target's onsets at which the decoding starts a note too (the rhythm); `pitch_at_onset`, the share at which it
    starts the same pitch; `onset_precision`, the share of the decoding's onsets that fall on one of the target's.
    Accuracy alone hides the difference: most steps of a melody hold or rest, so a decoding with the right rhythm and
    one repeated pitch scores well above one that is silent."""
    starts, started = target >= FIRST_PITCH, predicted >= FIRST_PITCH
    both, found = (starts & started).sum(), starts.sum().clamp(min=1)
    return {
        "onset_recall": float(both / found),
        "pitch_at_onset": float((starts & (predicted == target)).sum() / found),
        "onset_precision": float(both / started.sum().clamp(min=1)),
    }


def kl_divergence(mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """[N] KL(N(mu, sigma²) || N(0, I)) of posteriors [N, Z] in nats, summed over latent dims (the objective's)."""
    return 0.5 * (mu.square() + sigma.square() - 1).sum(-1) - sigma.log().sum(-1)


def kl_bits(mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """[N] the same in bits (Magenta's `kl_bits`)."""
    return kl_divergence(mu, sigma) / math.log(2)


def active_units(mu: torch.Tensor, threshold: float = 0.01) -> int:
    """Latent dims whose posterior mean varies over the examples [N, Z] by more than `threshold` (Burda et al. 2016,
    A_u = Cov_x(E_q[u]) > 0.01, the population variance); a collapsed dim ignores its input and stays put."""
    return int((mu.var(dim=0, correction=0) > threshold).sum())


def hamming(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Fraction of steps (last dim) at which token sequences differ; leading dims broadcast, so a path [K, T] against
    its start [T] gives [K]."""
    return (a != b).float().mean(dim=-1)


def monotonicity(values: torch.Tensor) -> float:
    """Spearman rank correlation of a curve [K] with its step index: 1 when it only rises, -1 when it only falls
    (ties share ranks); 0 for a constant curve, which has no trend."""
    values = torch.as_tensor(values, dtype=torch.float64)
    return float(spearman_corrcoef(values, torch.arange(len(values), dtype=torch.float64)))
