"""The trained model's commands (sample, interpolate, attribute, encode, reconstruct), a sub-app of the `musicvae`
command (musicvae_cli). They take `--checkpoint PATH` or `--run-id ID` (the best checkpoint logged to that MLflow
run); by default `models/best.ckpt` of the `dvc repro` in the current folder.

torch, MLflow and the model load inside the commands, after the user's input is checked (so the imports come in the
middle of them): `musicvae --help` and a mistyped path answer at once, not after seconds of imports."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from lightning_modules.model_options import Checkpoint, RunId, TrackingUri, chosen_model
from musicvae.cli import guarded
from musicvae.reasons import UsageError

if TYPE_CHECKING:
    import torch

    from musicvae.extract import Representation, Window

MidiFile = typer.Argument(..., metavar="FILE", help="A MIDI file.")
Seed = typer.Option(0, help="Seed of every random draw, so that a command repeats exactly.")
Temperature = typer.Option(
    "greedy",
    metavar="T",
    help="`greedy` (the likeliest note every step), or sample at this "
    "softmax temperature, a number above 0 (1 samples the model as trained).",
)
WindowOpt = typer.Option(
    None,
    "--window",
    metavar="N",
    help="Which window of the file, when it has several (`musicvae explain FILE` lists them).",
)


app = typer.Typer()

FAR_AMOUNT = 10.0  # past this an attribute vector carries z far from any code the encoder produced


def _temperature(given: str) -> float | str:
    from musicvae.temperature import check_temperature, noise_warning

    try:
        chosen = check_temperature(given)
    except ValueError:
        raise UsageError(
            f"--temperature {given}",
            "a temperature must be a number above 0, or greedy",
            "bad_temperature",
            "give --temperature greedy, or a number such as 0.5",
        ) from None
    if warning := noise_warning(chosen):
        typer.echo(f"warning: --temperature {given}: {warning}", err=True)
    return chosen


def _window(rep: Representation, path: Path, index: int | None) -> Window:
    """The chosen window of a file; with several and no choice, or a wrong one, the listing and how to choose."""
    from musicvae import windows

    listing = windows.of_file(path, rep)
    count = len(listing.windows)
    if index is None and count == 1:
        return listing.windows[0]
    if index is not None and 0 <= index < count:
        return listing.windows[index]
    choose = "pick one with --window N:\n" + "\n".join(f"    {listing.line(i)}" for i in range(count))
    if index is None:
        raise UsageError(
            path, f"{count} {listing.rep.name} windows, and the command takes one", "several_windows", choose
        )
    raise UsageError(path, f"no window {index}: its windows are 0 to {count - 1}", "no_such_window", choose)


def _tokens(window: Window) -> torch.Tensor:
    import numpy as np
    import torch

    return torch.from_numpy(window.tokens.astype(np.int64)).reshape(1, len(window.tokens), -1)


def _write(path: Path, model, tokens: torch.Tensor, qpm: float = 120.0, programs: tuple[int, ...] = ()) -> bool:
    """Writes one MIDI file; whether it has a note."""
    from musicvae import export

    kind, array = model.config.kind, tokens.numpy()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(export.to_midi(export.window_parts(kind, array, programs), qpm))
    except OSError as e:
        raise UsageError(path, f"cannot be written ({e.strerror})", "unwritable") from None
    typer.echo(f"wrote {path}")
    if export.has_notes(kind, array):
        return True
    typer.echo(f"warning: {path} has no notes: the model wrote only rests", err=True)
    return False


def _not_silent(written: list[bool], where: Path) -> None:
    """Files without a note are nothing to listen to: when every one is silent, the command fails."""
    if not any(written):
        raise UsageError(
            where,
            "the model wrote only rests, nothing to listen to",
            "only_rests",
            "train the model longer; `musicvae report` shows how far it got",
        )


@app.command()
def sample(
    n: int = typer.Option(8, "--n", help="How many samples."),
    temperature: str = typer.Option(
        "0.5", metavar="T", help="Softmax temperature above 0 (Magenta's default 0.5), or `greedy`."
    ),
    out: Path = typer.Option(Path("samples"), metavar="FOLDER", help="Folder for sample_NN.mid."),
    checkpoint: Path = Checkpoint,
    run_id: str = RunId,
    tracking_uri: str = TrackingUri,
    seed: int = Seed,
):
    """Draw z ~ N(0, I) and decode n new sequences."""

    def work():
        if n < 1:
            raise UsageError(f"--n {n}", "no sample to draw", "too_few_samples", "give --n 1 or more")
        chosen_temperature = _temperature(temperature)
        import torch
        from rich.progress import track

        loaded = chosen_model(checkpoint, run_id, tracking_uri)
        model = loaded.model
        torch.manual_seed(seed)
        written = [
            _write(out / f"sample_{i:02d}.mid", model, model.sample(1, chosen_temperature)[0])
            for i in track(range(n), description="sampling")
        ]
        _not_silent(written, out)

    guarded(work)


@app.command()
def interpolate(
    a: Path = typer.Argument(..., metavar="A", help="Start MIDI file."),
    b: Path = typer.Argument(..., metavar="B", help="End MIDI file."),
    steps: int = typer.Option(9, help="Points on the path, both ends included (2 or more)."),
    window: list[int] = typer.Option(
        None, "--window", metavar="N", help="Window of A, then of B, when they have several (repeat the option)."
    ),
    temperature: str = Temperature,
    out: Path = typer.Option(Path("interpolation"), metavar="FOLDER", help="Folder for step_NN.mid."),
    checkpoint: Path = Checkpoint,
    run_id: str = RunId,
    tracking_uri: str = TrackingUri,
    seed: int = Seed,
):
    """Slerp between the encoder means of A and B, decoding every point."""

    def work():
        from musicvae import windows

        if steps < 2:
            raise UsageError(
                f"--steps {steps}", "a path needs at least its two ends", "too_few_steps", "give --steps 2 or more"
            )
        chosen_temperature = _temperature(temperature)
        for path in (a, b):
            windows.read(path)  # a wrong path fails now, not after the model loads
        import torch
        from rich.progress import track

        from lightning_modules import generation
        from musicvae.latent import interpolation_path

        loaded = chosen_model(checkpoint, run_id, tracking_uri)
        model = loaded.model
        chosen = list(window or []) + [None, None]
        start, end = _window(loaded.representation, a, chosen[0]), _window(loaded.representation, b, chosen[1])
        torch.manual_seed(seed)
        mu = [generation.encode(model, _tokens(w))[1][0] for w in (start, end)]
        points = track(interpolation_path(*mu, steps), description="interpolating")
        written = [
            _write(
                out / f"step_{k:02d}.mid",
                model,
                generation.decode(model, z[None], chosen_temperature)[0],
                start.qpm,
                start.programs,
            )
            for k, z in enumerate(points)
        ]
        _not_silent(written, out)

    guarded(work)


@app.command()
def attribute(
    path: Path = MidiFile,
    vector: str = typer.Option(
        ..., help="note_density, average_interval, syncopation_8th, syncopation_16th or c_dim_triad."
    ),
    amount: float = typer.Option(1.0, help="How much of the vector to add (negative subtracts)."),
    out: Path = typer.Option(..., metavar="FILE", help="Output MIDI file."),
    vectors: Path = typer.Option(
        None,
        metavar="FILE",
        help="Attribute vectors of the evaluate stage (default: reports/evaluate/attribute_vectors.safetensors).",
    ),
    window: int = WindowOpt,
    checkpoint: Path = Checkpoint,
    run_id: str = RunId,
    tracking_uri: str = TrackingUri,
):
    """Move a file's code along an attribute vector and decode it (greedy)."""

    def work():
        from musicvae import windows

        windows.read(path)  # a wrong path fails now, not after the model loads
        from safetensors import safe_open

        from lightning_modules import generation
        from lightning_modules.attribute_effects import VECTORS
        from musicvae.latent import apply_attribute
        from musicvae.temperature import GREEDY

        found_at = vectors or Path("reports/evaluate") / VECTORS
        if not found_at.is_file():
            raise UsageError(
                found_at, "no attribute vectors", "no_vectors", "the evaluate stage of `dvc repro` writes them"
            )
        with safe_open(found_at, "pt") as f:
            found, made_for = {k: f.get_tensor(k) for k in f.keys()}, (f.metadata() or {}).get("latent_space")
        if vector not in found:
            raise UsageError(
                found_at, f"no vector {vector!r}", "unknown_vector", f"choose from {', '.join(sorted(found))}"
            )
        loaded = chosen_model(checkpoint, run_id, tracking_uri)
        model = loaded.model
        if made_for != generation.latent_space(model):
            raise UsageError(
                found_at,
                "attribute vectors of another model: they move codes of its latent space, not this one's",
                "foreign_vectors",
                "use the vectors the evaluate stage wrote for this model (`dvc repro evaluate`)",
            )
        source = _window(loaded.representation, path, window)
        mu = generation.encode(model, _tokens(source))[1]
        z = apply_attribute(mu, found[vector], amount)
        if abs(amount) > FAR_AMOUNT:  # the prior puts codes within a few vector lengths of each other
            typer.echo(
                f"warning: --amount {amount:g} moves the code {abs(amount):g} vector lengths, far outside "
                f"where the model has seen codes: expect extremes, not the attribute; -3 to 3 is the useful "
                f"range",
                err=True,
            )
        _not_silent([_write(out, model, generation.decode(model, z, GREEDY)[0], source.qpm, source.programs)], out)

    guarded(work)


@app.command()
def encode(
    path: Path = MidiFile,
    out: Path = typer.Option(None, metavar="FILE", help="Save z, mu and sigma of every window as .npz; else print mu."),
    checkpoint: Path = Checkpoint,
    run_id: str = RunId,
    tracking_uri: str = TrackingUri,
    seed: int = Seed,
):
    """Encode every window of a file to q(z|x), in the order `musicvae explain` lists them."""

    def work():
        from musicvae import windows

        windows.read(path)  # a wrong path fails now, not after the model loads
        import numpy as np
        import torch

        from lightning_modules import generation

        loaded = chosen_model(checkpoint, run_id, tracking_uri)
        model = loaded.model
        listing = windows.of_file(path, loaded.representation)
        torch.manual_seed(seed)
        z, mu, sigma = generation.encode(model, torch.cat([_tokens(w) for w in listing.windows]))
        if out is None:
            for w, m in zip(listing.windows, mu):
                typer.echo(f"piece {w.piece} bar {w.start_bar}: " + " ".join(f"{v:.4f}" for v in m.tolist()))
            return
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            np.savez(
                out,
                z=z.numpy(),
                mu=mu.numpy(),
                sigma=sigma.numpy(),
                piece=[w.piece for w in listing.windows],
                start_bar=[w.start_bar for w in listing.windows],
                kept=listing.kept,
            )
        except OSError as e:
            raise UsageError(out, f"cannot be written ({e.strerror})", "unwritable") from None
        typer.echo(f"wrote {out}: {len(listing.windows)} windows x {model.config.z_size} dims")

    guarded(work)


@app.command()
def reconstruct(
    path: Path = MidiFile,
    out: Path = typer.Option(..., metavar="FILE", help="Output MIDI file."),
    temperature: str = Temperature,
    window: int = WindowOpt,
    checkpoint: Path = Checkpoint,
    run_id: str = RunId,
    tracking_uri: str = TrackingUri,
    seed: int = Seed,
):
    """Encode a window of a file and decode it again."""

    def work():
        from musicvae import windows

        chosen_temperature = _temperature(temperature)
        windows.read(path)  # a wrong path fails now, not after the model loads
        import torch

        from lightning_modules import generation

        loaded = chosen_model(checkpoint, run_id, tracking_uri)
        model = loaded.model
        source = _window(loaded.representation, path, window)
        torch.manual_seed(seed)
        mu = generation.encode(model, _tokens(source))[1]
        decoded = generation.decode(model, mu, chosen_temperature)[0]
        _not_silent([_write(out, model, decoded, source.qpm, source.programs)], out)

    guarded(work)
