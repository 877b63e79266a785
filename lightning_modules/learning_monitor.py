"""The learning monitor: at every validation, whether the model beats the majority-class baseline and whether its
decoder uses z, logged to MLflow and written as learning curves (a DVC plot) that survive a killed run.

`diagnose` is shared with the evaluate stage and the `musicvae` command's warnings."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import torch
from lightning import Callback

from lightning_modules.components import objective
from lightning_modules.components.musicvae import MusicVAE, encoder_inputs
from musicvae import learning, metrics
from musicvae.codecs.kinds import KINDS
from musicvae.figures import curve_png, kl_per_dim_png
from musicvae.temperature import GREEDY

CURVES = ("majority_accuracy", "accuracy", "greedy_accuracy", "active_fraction", "gap_share")


def _teacher_forced(model: MusicVAE, z: torch.Tensor, tokens: torch.Tensor, batch: int):
    """r_loss per window [N] and the argmax tokens [N, T, P], decoding from codes z [N, Z]."""
    r, predicted = [], []
    for zb, tb in zip(z.split(batch), tokens.split(batch)):
        logits = model.decode_teacher_forced(zb, tb)
        r.append(objective.r_loss(logits, tb))
        predicted.append(torch.stack([lg.argmax(-1) for lg in logits], -1))
    return torch.cat(r), torch.cat(predicted)


def diagnose(model: MusicVAE, tokens: torch.Tensor, greedy_examples: int = 32, batch: int = 64) -> dict:
    """The monitor's quantities on windows [N, T, P] (N ≥ 2), decoding from the posterior means:
    - majority_accuracy: always the commonest class; accuracy: teacher-forced; greedy_accuracy: argmax fed back,
      on the first `greedy_examples` windows, and for a melody its greedy_onset_recall, greedy_pitch_at_onset and
      greedy_onset_precision (metrics.onsets: rhythm against pitch);
    - active_units (and active_fraction of z): dims whose posterior-mean variance exceeds 0.01;
    - gap_nats: mean r_loss decoding each window with another window's code minus with its own; gap_share: that
      over r_loss (0 when the decoder ignores z);
    - kl_per_dim (nats), kl_bits; grad_z: mean |∂r_loss/∂z| at the means (how strongly z reaches the notes);
      conductor_scale: mean |output| of the conductor, the only path from z to the notes in a hierarchical model."""
    was_training = model.training
    model.eval()
    # decoded where the model is (a GPU during training), measured on the CPU
    tokens = tokens.long().cpu()
    on_model = tokens.to(model.encoder.mu.weight.device)
    scale = []
    hook = (
        model.conductor.register_forward_hook(lambda m, i, o: scale.append(o[0].detach().abs().mean()))
        if model.config.hierarchical
        else None
    )
    try:
        with torch.no_grad():
            posterior = [model.encoder(encoder_inputs(tb, model.config)) for tb in on_model.split(batch)]
            mu, sigma = (torch.cat(t) for t in zip(*posterior))
            own, predicted = _teacher_forced(model, mu, on_model, batch)
            shuffled, _ = _teacher_forced(model, mu.roll(1, 0), on_model, batch)
            greedy = model.decode_sampled(mu[:greedy_examples], GREEDY)[0]
        z = mu[:batch].clone().requires_grad_(True)
        with torch.backends.cudnn.flags(enabled=False):  # cuDNN's LSTM has no backward in eval mode
            (grad_z,) = torch.autograd.grad(_teacher_forced(model, z, on_model[:batch], batch)[0].sum(), z)
        mu, sigma, own, shuffled, predicted, greedy = (t.cpu() for t in (mu, sigma, own, shuffled, predicted, greedy))
    finally:
        if hook:
            hook.remove()
        model.train(was_training)
    kl = learning.kl_per_dim(mu, sigma)
    active, r_loss = metrics.active_units(mu), float(own.mean())
    gap = float((shuffled - own).mean())
    result = {
        "majority_accuracy": learning.majority_accuracy(tokens),
        "accuracy": float((predicted == tokens).float().mean()),
        "greedy_accuracy": float((greedy == tokens[:greedy_examples]).float().mean()),
        "active_units": active,
        "active_fraction": active / mu.shape[1],
        "r_loss": r_loss,
        "gap_nats": gap,
        "gap_share": gap / max(r_loss, 1e-9),
        "kl_bits": float(kl.sum()) / math.log(2),
        "kl_per_dim": [round(float(k), 5) for k in kl],
        "grad_z": float(grad_z.abs().mean()),
        "conductor_scale": float(torch.stack(scale).mean()) if scale else None,
    }
    if KINDS[model.config.kind].melodic:  # part 0 is a melody: are the greedy notes' onsets and pitches right?
        result |= {f"greedy_{k}": v for k, v in metrics.onsets(greedy[..., 0], tokens[:greedy_examples, :, 0]).items()}
    result["greedy_majority_accuracy"] = learning.majority_accuracy(tokens[:greedy_examples])
    result["verdict"] = learning.verdict(
        result["accuracy"],
        result["majority_accuracy"],
        active,
        result["gap_share"],
        result["greedy_accuracy"],
        result["greedy_majority_accuracy"],
    )
    return result


class LearningMonitor(Callback):
    """Runs `diagnose` on a fixed set of validation windows after every validation, and once more at the end of
    training when the last step was not validated (so that a run shorter than one validation interval has curves and
    a verdict too); logs `monitor/...` metrics (KL of every dim as `z/kl_dim_NN`), rewrites `curves` (CSV)
    each time and draws its PNG at the end, with the KL of every dimension at every validation beside it
    (kl_per_dim.png)."""

    def __init__(self, tokens: torch.Tensor, curves: Path | None, greedy_examples: int = 32):
        self.tokens, self.curves, self.greedy_examples = tokens, curves, greedy_examples
        self.rows: list[dict] = []
        self.last: dict | None = None

    def on_validation_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self._measure(trainer, pl_module)

    def on_train_end(self, trainer, pl_module) -> None:
        if trainer.global_step and (self.last is None or self.last["step"] != trainer.global_step):
            self._measure(trainer, pl_module)

    def _measure(self, trainer, pl_module) -> None:
        with torch.inference_mode(False):  # Lightning validates in inference mode; grad_z needs autograd
            self.last = result = diagnose(pl_module.model, self.tokens, self.greedy_examples)
        result["step"] = trainer.global_step
        if not trainer.is_global_zero:
            return
        scalars = {
            f"monitor/{k}": v
            for k, v in result.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k != "step"
        }
        # a section of their own that MLflow's UI, which sorts sections by name, puts after `train` and `val`
        scalars |= {f"z/kl_dim_{d:02d}": v for d, v in enumerate(result["kl_per_dim"])}
        if trainer.logger:
            trainer.logger.log_metrics(scalars, step=trainer.global_step)
        self.rows.append(
            {
                k: result[k]
                for k in (
                    "step",
                    *CURVES,
                    "active_units",
                    "r_loss",
                    "gap_nats",
                    "kl_bits",
                    "grad_z",
                    "conductor_scale",
                    "kl_per_dim",
                )
            }
        )
        if self.curves:
            self.curves.parent.mkdir(parents=True, exist_ok=True)
            with self.curves.open("w", newline="") as f:
                # kl_per_dim, a column per dimension, would drown the curves: it has a picture of its own
                writer = csv.DictWriter(f, [k for k in self.rows[0] if k != "kl_per_dim"], extrasaction="ignore")
                writer.writeheader()
                writer.writerows(
                    {k: round(v, 6) if isinstance(v, float) else v for k, v in row.items()} for row in self.rows
                )

    def on_fit_end(self, trainer, pl_module) -> None:
        if self.curves and self.rows and trainer.is_global_zero:
            self.curves.with_suffix(".png").write_bytes(
                curve_png(
                    [{k: row[k] for k in ("step", *CURVES)} for row in self.rows],
                    "step",
                    "share",
                    "Learning: accuracy against the majority class; use of z",
                    right=("gap_share", "gap_share: shuffled-code gap / r_loss"),
                )
            )
            self.curves.with_name("kl_per_dim.png").write_bytes(
                kl_per_dim_png(
                    [row["step"] for row in self.rows],
                    np.array([row["kl_per_dim"] for row in self.rows]) / math.log(2),
                    "KL of each latent dimension at each validation",
                )
            )

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        """The latest verdict travels with the weights, so that the `musicvae` command can warn."""
        if self.last:
            checkpoint["learning"] = {
                k: self.last[k]
                for k in (
                    "verdict",
                    "step",
                    "accuracy",
                    "majority_accuracy",
                    "greedy_accuracy",
                    "active_units",
                    "gap_share",
                )
            }

    def state_dict(self) -> dict:
        return {"rows": self.rows}

    def load_state_dict(self, state_dict: dict) -> None:
        self.rows = state_dict.get("rows", [])
