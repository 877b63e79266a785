"""A trained model put to use, shared by the evaluate stage and the `musicvae` command: finding the checkpoint,
batched encoding and decoding without gradients."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from lightning_modules.checkpoint import LoadedModel, OldCheckpoint, load_model
from lightning_modules.components.musicvae import MusicVAE
from musicvae.reasons import UsageError

# Threads a model command (and each studio request) decodes with. A request decodes a few sequences, too little work
# to share: on a busy 2-core machine one 2-bar decode took 1.0 s with torch's 2 threads waiting on each other, 0.0095 s
# with one (benchmarks/bench_generate.py compares them).
REQUEST_THREADS = 1


def checkpoint_path(checkpoint: Path | None, run_id: str | None, tracking_uri: str | None) -> Path:
    """A local checkpoint, or the best one logged to the MLflow run `run_id` (downloaded to MLflow's cache)."""
    if (checkpoint is None) == (run_id is None):
        raise UsageError(
            "--checkpoint, --run-id", "a command uses one model", "checkpoint_or_run", "give exactly one of them"
        )
    if checkpoint is not None:
        if not checkpoint.is_file():
            raise UsageError(
                checkpoint,
                "no such checkpoint",
                "no_checkpoint",
                "train one with `dvc repro` (or `make run`), which writes models/best.ckpt",
            )
        return checkpoint
    import mlflow  # the [train] extra's: only a run id needs the store

    client = mlflow.MlflowClient(tracking_uri)
    try:
        client.get_run(run_id)
    except Exception:  # MLflow raises several types for an unknown run id
        raise UsageError(
            f"--run-id {run_id}",
            f"no such run in the MLflow store {tracking_uri}",
            "no_such_run",
            "`musicvae report` names the run the last training made; `mlflow ui` lists them all",
        ) from None
    try:
        return Path(client.download_artifacts(run_id, "checkpoints/best.ckpt"))
    except Exception as e:
        raise UsageError(
            f"--run-id {run_id}",
            f"the run logged no checkpoint (checkpoints/best.ckpt: {e})",
            "no_run_checkpoint",
            "a run that trained to the end logs one; `mlflow ui` shows its artifacts",
        ) from None


def load(checkpoint: Path) -> LoadedModel:
    try:
        return load_model(checkpoint)
    except OldCheckpoint as e:
        raise UsageError(checkpoint, str(e), "old_checkpoint", "retrain it with `dvc repro`") from None
    except Exception as e:  # a truncated file, a foreign pickle refused by weights_only, a wrong state dict
        raise UsageError(
            checkpoint,
            f"not a musicvae checkpoint: {_why_not(checkpoint, e)}",
            "not_a_checkpoint",
            "give a file the train stage (models/best.ckpt) or `musicvae import` wrote",
        ) from None


def _why_not(checkpoint: Path, error: Exception) -> str:
    with checkpoint.open("rb") as f:  # four bytes say what kind of file it is; a checkpoint may be gigabytes
        head = f.read(4)
    if head == b"MThd":
        return "it is a MIDI file"
    if not head.startswith(b"PK"):  # torch.save writes a zip archive; other bytes fail deep in unpickling
        return "PyTorch cannot read it (not a file torch.save wrote, or a cut-off one)"
    if isinstance(error, KeyError):
        return f"a PyTorch file without the {error} a trained model records"
    return f"{type(error).__name__}: {error}"


@torch.no_grad()
def encode(model: MusicVAE, tokens: torch.Tensor, batch_size: int = 64) -> tuple[torch.Tensor, ...]:
    """tokens [N, T, P] → z, mu, sigma [N, Z] (z drawn from q(z|x) with the global RNG)."""
    outputs = [model.encode(batch.long()) for batch in tokens.split(batch_size)]
    return tuple(torch.cat(parts) for parts in zip(*outputs))


@torch.no_grad()
def decode(model: MusicVAE, z: torch.Tensor, temperature: float | str, batch_size: int = 64) -> torch.Tensor:
    """z [N, Z] → tokens [N, T, P], feeding back the model's own samples (argmax when temperature is GREEDY)."""
    return torch.cat([model.decode_sampled(batch, temperature)[0] for batch in z.split(batch_size)])


def latent_space(model: MusicVAE) -> str:
    """The encoder's weights, hashed: what a latent code (and an attribute vector, a difference of codes) means
    depends on them alone, so vectors from another model, even one with the same z size, are recognised."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.encoder.state_dict().items()):
        digest.update(name.encode() + b"\0" + tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()
