"""`musicvae export magentajs` and `musicvae import magentajs`: a trained model to magenta.js and back."""

from __future__ import annotations

from pathlib import Path

import typer

from lightning_modules.model_options import Checkpoint, RunId, TrackingUri, chosen_model
from musicvae.cli import guarded
from musicvae.reasons import UsageError

export_app = typer.Typer(help="Write a trained model in another program's format.", no_args_is_help=True)
import_app = typer.Typer(help="Read another program's model into a checkpoint of this project.", no_args_is_help=True)
app = typer.Typer()  # a sub-app of the `musicvae` command (musicvae_cli)
app.add_typer(export_app, name="export")
app.add_typer(import_app, name="import")


@export_app.command("magentajs")
def export_magentajs(
    out: Path = typer.Argument(..., metavar="DIR", help="Folder to write; must not exist or be empty."),
    quantize: int = typer.Option(
        None,
        "--quantize",
        metavar="BYTES",
        help="Store each weight in 1 or 2 bytes, as Magenta's smaller releases (default: 4-byte floats).",
    ),
    checkpoint: Path = Checkpoint,
    run_id: str = RunId,
    tracking_uri: str = TrackingUri,
):
    """Write a trained model as a magenta.js MusicVAE checkpoint (config.json, weights_manifest.json and shards),
    for `new mm.MusicVAE(URL)` of @magenta/music."""

    def work():
        if quantize not in (None, 1, 2):
            raise UsageError("--quantize", f"{quantize} bytes a weight", "bad_quantize", "give 1 or 2, or leave it out")
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise UsageError(
                out,
                "exists and is not an empty folder",
                "not_empty",
                "choose a new folder: shards of an older export would be left beside the new ones",
            )
        from lightning_modules.magentajs.convert import export
        from lightning_modules.magentajs.spec import Unsupported

        loaded = chosen_model(checkpoint, run_id, tracking_uri)
        try:
            export(loaded, out, quantize)
        except Unsupported as e:
            raise UsageError("model", f"magenta.js cannot run it: {e}", "unsupported_by_magentajs") from None
        typer.echo(
            f"wrote {out}: a magenta.js MusicVAE checkpoint ({loaded.representation.name}, "
            f"{'hierarchical' if loaded.model.config.hierarchical else 'flat'})"
        )

    guarded(work)


@import_app.command("magentajs")
def import_magentajs(
    source: str = typer.Argument(
        ..., metavar="DIR_OR_URL", help="A magenta.js MusicVAE checkpoint: a folder, or its http(s) address."
    ),
    out: Path = typer.Option(..., "--out", metavar="FILE", help="Checkpoint to write."),
):
    """Read a magenta.js MusicVAE checkpoint (quantized or not) into a checkpoint that every `musicvae` model command,
    the evaluate stage and `train.init_from` accept. A URL is downloaded with this machine's network."""

    def work():
        from lightning_modules.dvc_outputs import refusal
        from lightning_modules.magentajs.convert import Unreadable, load, write_checkpoint
        from lightning_modules.magentajs.manifest import BadWeights
        from lightning_modules.magentajs.spec import Unsupported

        if inside := refusal(out, "a checkpoint"):
            raise UsageError(out, inside[0], "inside_pipeline_output", inside[1])
        try:
            loaded, notes = load(source)
        except Unreadable as e:
            raise UsageError(
                source,
                f"cannot be read: {e}",
                "unreadable",
                "give the folder (or address) of a MusicVAE checkpoint: config.json and "
                "weights_manifest.json (magenta.js 1.x), or converter.json and manifest.json "
                "(deeplearn.js)",
            ) from None
        except BadWeights as e:
            raise UsageError(source, str(e), "bad_weights") from None
        except Unsupported as e:
            raise UsageError(
                source,
                f"not supported: {e}",
                "unsupported_checkpoint",
                "supported: MelodyConverter (mel_2bar, mel_16bar), DrumsConverter (drums_2bar) and "
                "TrioConverter (trio_16bar) models with categorical decoders",
            ) from None
        try:
            write_checkpoint(loaded, out, source)
        except OSError as e:
            raise UsageError(out, f"cannot be written ({e.strerror})", "unwritable") from None
        for note in notes:
            typer.echo(f"note: {note}", err=True)
        c = loaded.model.config
        typer.echo(
            f"wrote {out}: {loaded.representation.name}, {'hierarchical' if c.hierarchical else 'flat'}, "
            f"z {c.z_size}, encoder {c.encoder} {list(c.enc_rnn_size)}, decoder {list(c.dec_rnn_size)}"
        )

    guarded(work)
