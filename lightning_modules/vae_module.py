"""The LightningModule that trains an injected MusicVAE with Magenta's objective, schedules and gradient rules,
logging under Magenta's metric names (loss, r_loss, kl_loss, kl_bits, beta, lr, accuracy, per-bar accuracy)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from lightning import LightningModule

from lightning_modules.checkpoint import hyperparameters
from lightning_modules.components import objective
from lightning_modules.components.musicvae import STEPS_PER_BAR, MusicVAE
from musicvae.extract import Representation


@dataclass(frozen=True)
class TrainingConfig:
    """Hyperparameters named as in Magenta (magenta/models/music_vae: base_model.py `get_default_hparams`,
    configs.py `CONFIG_MAP`)."""

    learning_rate: float = 1e-3
    min_learning_rate: float = 1e-5
    decay_rate: float = 0.9999
    grad_clip: float = 1.0
    grad_norm_clip_to_zero: float = 10_000
    free_bits: float = 0.0
    max_beta: float = 1.0
    beta_rate: float = 0.0
    sampling_schedule: str = "constant"
    sampling_rate: float = 0.0


class MusicVAEModule(LightningModule):
    def __init__(self, model: MusicVAE, training: TrainingConfig, representation: Representation):
        super().__init__()
        self.model, self.training_config = model, training
        # Plain types only, so that a checkpoint loads with torch.load(weights_only=True). The representation is how
        # the training windows were cut: the commands cut a user's file the same way.
        self.save_hyperparameters(hyperparameters(model.config, training, representation), logger=False)

    def _step(self, tokens: torch.Tensor, split: str, sampling_probability: float) -> torch.Tensor:
        t = self.training_config
        tokens = tokens.long()
        logits, mu, sigma = self.model(tokens, sampling_probability)
        beta = objective.beta(self.global_step, t.max_beta, t.beta_rate)
        losses = objective.elbo_loss(logits, tokens, mu, sigma, beta, t.free_bits)
        correct = objective.accuracy(logits, tokens)  # teacher-forced unless scheduled sampling is on
        batch = len(tokens)
        per_bar = correct.view(batch, -1, STEPS_PER_BAR).mean((0, 2))
        metrics = {**losses, "accuracy": correct.mean(), "beta": torch.tensor(beta)}
        metrics |= {f"accuracy/bar_{b:02d}": acc for b, acc in enumerate(per_bar)}
        on_step = split == "train"
        self.log_dict(
            {f"{split}/{k}": v for k, v in metrics.items()},
            on_step=on_step,
            on_epoch=not on_step,
            batch_size=batch,
            sync_dist=not on_step,
        )
        return losses["loss"]

    def training_step(self, batch, batch_idx):
        t = self.training_config
        p = objective.sampling_probability(self.global_step, t.sampling_schedule, t.sampling_rate)
        self.log("train/sampling_probability", p, on_step=True)
        self.log("train/lr", self.optimizers().param_groups[0]["lr"], on_step=True)
        return self._step(batch[0], "train", p)

    def validation_step(self, batch, batch_idx):
        self._step(batch[0], "val", 0.0)

    def configure_optimizers(self):
        t = self.training_config
        optimizer = torch.optim.Adam(self.model.parameters(), lr=t.learning_rate, eps=1e-8)
        decay = torch.optim.lr_scheduler.LambdaLR(
            optimizer,
            lambda step: (
                objective.learning_rate(step, t.learning_rate, t.min_learning_rate, t.decay_rate) / t.learning_rate
            ),
        )
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": decay, "interval": "step"}}

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):
        """Magenta: clip to a global norm, but zero every gradient when the norm explodes (the step still runs)."""
        t = self.training_config
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), t.grad_clip)
        if not torch.isfinite(norm) or norm >= t.grad_norm_clip_to_zero:
            for p in self.model.parameters():
                if p.grad is not None:
                    p.grad.zero_()
