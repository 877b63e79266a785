"""`musicvae studio`: the local page over a model (studio.serve), a sub-app of the `musicvae` command
(musicvae_cli)."""

from __future__ import annotations

from pathlib import Path

import typer

from lightning_modules.model_options import Checkpoint, RunId, TrackingUri, chosen_model
from musicvae.cli import guarded

app = typer.Typer()


@app.command()
def studio(
    shards: Path = typer.Option(Path("data/shards"), metavar="FOLDER", help="Shards whose test split to offer."),
    vectors: Path = typer.Option(
        Path("reports/evaluate/attribute_vectors.safetensors"),
        metavar="FILE",
        help="Attribute vectors of the evaluate stage.",
    ),
    host: str = typer.Option("127.0.0.1", help="Address to listen on (loopback: this machine only)."),
    port: int = typer.Option(8000, help="Port to listen on."),
    checkpoint: Path = Checkpoint,
    run_id: str = RunId,
    tracking_uri: str = TrackingUri,
):
    """A local web page to explore the model: interpolate, move attributes, sample, listen, download MIDI."""

    def work():
        from studio.serve import serve, studio_app

        serve(studio_app(chosen_model(checkpoint, run_id, tracking_uri), shards, vectors), host, port)

    guarded(work)
