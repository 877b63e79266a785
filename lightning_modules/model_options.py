"""What every command on a trained model shares: `--checkpoint`, `--run-id` and `--tracking-uri`, and loading the
model they name, with a warning when it had not learned."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # torch loads inside the commands, after their input is checked
    from lightning_modules.checkpoint import LoadedModel

DEFAULT_CHECKPOINT = Path("models/best.ckpt")

Checkpoint = typer.Option(None, "--checkpoint", metavar="FILE", help="A checkpoint file (default: models/best.ckpt).")
RunId = typer.Option(None, "--run-id", help="An MLflow run whose checkpoints/best.ckpt artifact to use.")
TrackingUri = typer.Option(None, "--tracking-uri", help="MLflow store of --run-id (default: ./mlflow.db).")


def chosen_model(checkpoint: Path | None, run_id: str | None, tracking_uri: str | None) -> LoadedModel:
    import torch

    from lightning_modules import generation, store
    from musicvae import learning

    torch.set_num_threads(generation.REQUEST_THREADS)
    if checkpoint is None and run_id is None:
        checkpoint = DEFAULT_CHECKPOINT
    path = generation.checkpoint_path(checkpoint, run_id, store.tracking_uri(tracking_uri))
    loaded = generation.load(path)
    record = loaded.learning
    if record and record["verdict"] != "learning":
        typer.echo(
            f"warning: {path} was {record['verdict']} when last validated (step {record['step']}: accuracy "
            f"{record['accuracy']:.3f} against {record['majority_accuracy']:.3f} for the majority class, "
            f"{record['active_units']} active units): {learning.explain(record['verdict'])}",
            err=True,
        )
    return loaded
