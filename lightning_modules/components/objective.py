"""MusicVAE's objective and schedules, named as in the paper and Magenta (magenta/models/music_vae: base_model.py
`MusicVAE._compute_model_loss` and `MusicVAE.train`, lstm_utils.py `get_sampling_probability`)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from musicvae.metrics import kl_divergence


def r_loss(logits: list[torch.Tensor], tokens: torch.Tensor) -> torch.Tensor:
    """Cross-entropy summed over steps and parts, per example."""
    return sum(
        F.cross_entropy(lg.transpose(1, 2), tokens[..., p], reduction="none").sum(-1) for p, lg in enumerate(logits)
    )


def elbo_loss(logits, tokens, mu, sigma, beta: float, free_bits: float) -> dict[str, torch.Tensor]:
    """loss = mean r_loss + β · mean max(KL − free_bits·ln 2, 0): free bits on each example's total KL."""
    r = r_loss(logits, tokens)
    kl = kl_divergence(mu, sigma)
    kl_cost = torch.clamp(kl - free_bits * math.log(2), min=0)
    return {
        "loss": r.mean() + beta * kl_cost.mean(),
        "r_loss": r.mean(),
        "kl_loss": kl_cost.mean(),
        "kl_bits": kl.mean() / math.log(2),
    }


def beta(step: int, max_beta: float, beta_rate: float) -> float:
    """β = max_beta · (1 − beta_rate^step); with rate 0 that is 0 at step 0 and max_beta after."""
    return max_beta * (1 - beta_rate**step)


def learning_rate(step: int, lr: float, min_lr: float, decay_rate: float) -> float:
    return (lr - min_lr) * decay_rate**step + min_lr


def sampling_probability(step: int, schedule: str, rate: float) -> float:
    """The chance that the decoder's next input is its own sample rather than the ground truth."""
    if schedule == "constant":
        return rate
    if schedule == "exponential":
        return 1 - rate**step
    if schedule == "inverse_sigmoid":
        return 1 - rate / (rate + math.exp(min(step / rate, 700)))
    raise ValueError(f"unknown sampling schedule {schedule!r}: constant, exponential or inverse_sigmoid")


def accuracy(logits: list[torch.Tensor], tokens: torch.Tensor) -> torch.Tensor:
    """Per step, the share of parts whose argmax is right: [B, T]."""
    return torch.stack([(lg.argmax(-1) == tokens[..., p]).float() for p, lg in enumerate(logits)], -1).mean(-1)
