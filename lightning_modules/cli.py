"""The `musicvae` command: the core's commands (corpus, explain) and the trained model's (sample, interpolate,
attribute, encode, reconstruct). Model commands take `--checkpoint PATH` or `--run-id ID` (the best checkpoint
logged to that MLflow run); by default `models/best.ckpt` of the `dvc repro` in the current folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import typer
from rich.progress import track

from lightning_modules import generation, store
from lightning_modules.attribute_effects import VECTORS
from musicvae import export, learning
from musicvae.cli import app
from musicvae.extract import Window
from musicvae.latent import apply_attribute, interpolation_path

DEFAULT_CHECKPOINT = Path("models/best.ckpt")
DEFAULT_VECTORS = Path("reports/evaluate") / VECTORS

Checkpoint = typer.Option(None, "--checkpoint", help="A checkpoint file (default: models/best.ckpt).")
RunId = typer.Option(None, "--run-id", help="An MLflow run whose checkpoints/best.ckpt artifact to use.")
TrackingUri = typer.Option(None, "--tracking-uri", help="MLflow store of --run-id (default: ./mlflow.db).")
Seed = typer.Option(0, help="Seed of every random draw, so that a command repeats exactly.")
WindowOpt = typer.Option(None, "--window", help="Which window of the file, when it has several (they are listed).")


def _model(checkpoint: Path | None, run_id: str | None, tracking_uri: str | None):
    if checkpoint is None and run_id is None:
        checkpoint = DEFAULT_CHECKPOINT
    path = generation.checkpoint_path(checkpoint, run_id, store.tracking_uri(tracking_uri))
    model = generation.load(path)
    record = getattr(model, "learning", None)
    if record and record["verdict"] != "learning":
        typer.echo(f"warning: {path} was {record['verdict']} when last validated (step {record['step']}: accuracy "
                   f"{record['accuracy']:.3f} against {record['majority_accuracy']:.3f} for the majority class, "
                   f"{record['active_units']} active units): {learning.explain(record['verdict'])}", err=True)
    return model


def _window(model, path: Path, index: int | None) -> Window:
    """The chosen window of a file; with several and no choice, the list and how to choose."""
    windows = generation.file_windows(path, generation.representation_of(model.config)).windows
    if index is None and len(windows) == 1:
        return windows[0]
    if index is not None and 0 <= index < len(windows):
        return windows[index]
    listing = "\n".join(f"  {i}: piece {w.piece}, bars {w.start_bar}-{w.start_bar + model.config.bars - 1}, "
                        f"{w.qpm:.1f} qpm, programs {list(w.programs)}" for i, w in enumerate(windows))
    raise generation.UsageError(f"{path} has {len(windows)} windows; pick one with --window N:\n{listing}")


def _tokens(window: Window) -> torch.Tensor:
    return torch.from_numpy(window.tokens.astype(np.int64)).reshape(1, len(window.tokens), -1)


def _write(path: Path, model, tokens: torch.Tensor, qpm: float = 120.0, programs: tuple[int, ...] = ()) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(export.to_midi(export.window_parts(model.config.kind, tokens.numpy(), programs), qpm))
    typer.echo(f"wrote {path}")
    if not export.has_notes(model.config.kind, tokens.numpy()):
        typer.echo(f"warning: {path} has no notes: the model wrote only rests", err=True)


def _run(work) -> None:
    """Runs a command body, turning the user's mistakes into one line and exit code 1."""
    try:
        work()
    except generation.UsageError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None


@app.command()
def sample(n: int = typer.Option(8, "--n", help="How many samples."),
           temperature: float = typer.Option(0.5, help="Softmax temperature; Magenta's default 0.5."),
           out: Path = typer.Option(Path("samples"), help="Folder for sample_NN.mid."),
           checkpoint: Path = Checkpoint, run_id: str = RunId, tracking_uri: str = TrackingUri, seed: int = Seed):
    """Draw z ~ N(0, I) and decode n new sequences."""
    def work():
        model = _model(checkpoint, run_id, tracking_uri)
        torch.manual_seed(seed)
        for i in track(range(n), description="sampling"):
            _write(out / f"sample_{i:02d}.mid", model, model.sample(1, temperature)[0])
    _run(work)


@app.command()
def interpolate(a: Path = typer.Argument(..., help="Start MIDI file."), b: Path = typer.Argument(..., help="End."),
                steps: int = typer.Option(9, help="Points on the path, both ends included."),
                window: list[int] = typer.Option(None, "--window", help="Window of A, then of B, when they have "
                                                 "several (repeat the option)."),
                temperature: float = typer.Option(None, help="Sample at this temperature; greedy by default."),
                out: Path = typer.Option(Path("interpolation"), help="Folder for step_NN.mid."),
                checkpoint: Path = Checkpoint, run_id: str = RunId, tracking_uri: str = TrackingUri,
                seed: int = Seed):
    """Slerp between the encoder means of A and B, decoding every point."""
    def work():
        model = _model(checkpoint, run_id, tracking_uri)
        chosen = list(window or []) + [None, None]
        start, end = _window(model, a, chosen[0]), _window(model, b, chosen[1])
        torch.manual_seed(seed)
        mu = [generation.encode(model, _tokens(w))[1][0] for w in (start, end)]
        for k, z in enumerate(track(interpolation_path(*mu, steps), description="interpolating")):
            _write(out / f"step_{k:02d}.mid", model, generation.decode(model, z[None], temperature)[0], start.qpm,
                   start.programs)
    _run(work)


@app.command()
def attribute(path: Path = typer.Argument(..., help="A MIDI file."),
              vector: str = typer.Option(..., help="note_density, average_interval, syncopation_8th, "
                                         "syncopation_16th or c_dim_triad."),
              amount: float = typer.Option(1.0, help="How much of the vector to add (negative subtracts)."),
              out: Path = typer.Option(..., help="Output MIDI file."),
              vectors: Path = typer.Option(DEFAULT_VECTORS, help="Attribute vectors of the evaluate stage."),
              window: int = WindowOpt, checkpoint: Path = Checkpoint, run_id: str = RunId,
              tracking_uri: str = TrackingUri):
    """Move a file's code along an attribute vector and decode it (greedy)."""
    def work():
        from safetensors.torch import load_file

        if not vectors.is_file():
            raise generation.UsageError(f"{vectors}: no attribute vectors; the evaluate stage writes them")
        found = load_file(vectors)
        if vector not in found:
            raise generation.UsageError(f"no vector {vector!r} in {vectors}; it has {', '.join(sorted(found))}")
        model = _model(checkpoint, run_id, tracking_uri)
        source = _window(model, path, window)
        mu = generation.encode(model, _tokens(source))[1]
        z = apply_attribute(mu, found[vector], amount)
        _write(out, model, generation.decode(model, z, None)[0], source.qpm, source.programs)
    _run(work)


@app.command()
def encode(path: Path = typer.Argument(..., help="A MIDI file."),
           out: Path = typer.Option(None, help="Save z, mu and sigma of every window as .npz; else print mu."),
           checkpoint: Path = Checkpoint, run_id: str = RunId, tracking_uri: str = TrackingUri, seed: int = Seed):
    """Encode every window of a file to q(z|x)."""
    def work():
        model = _model(checkpoint, run_id, tracking_uri)
        windows = generation.file_windows(path, generation.representation_of(model.config)).windows
        torch.manual_seed(seed)
        z, mu, sigma = generation.encode(model, torch.cat([_tokens(w) for w in windows]))
        if out is None:
            for w, m in zip(windows, mu):
                typer.echo(f"piece {w.piece} bar {w.start_bar}: " + " ".join(f"{v:.4f}" for v in m.tolist()))
            return
        np.savez(out, z=z.numpy(), mu=mu.numpy(), sigma=sigma.numpy(), piece=[w.piece for w in windows],
                 start_bar=[w.start_bar for w in windows])
        typer.echo(f"wrote {out}: {len(windows)} windows x {model.config.z_size} dims")
    _run(work)


@app.command()
def reconstruct(path: Path = typer.Argument(..., help="A MIDI file."),
                out: Path = typer.Option(..., help="Output MIDI file."),
                temperature: float = typer.Option(None, help="Sample at this temperature; greedy by default."),
                window: int = WindowOpt, checkpoint: Path = Checkpoint, run_id: str = RunId,
                tracking_uri: str = TrackingUri, seed: int = Seed):
    """Encode a window of a file and decode it again."""
    def work():
        model = _model(checkpoint, run_id, tracking_uri)
        source = _window(model, path, window)
        torch.manual_seed(seed)
        mu = generation.encode(model, _tokens(source))[1]
        _write(out, model, generation.decode(model, mu, temperature)[0], source.qpm, source.programs)
    _run(work)


if __name__ == "__main__":
    app()
