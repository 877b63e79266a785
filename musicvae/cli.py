"""The `musicvae` command."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="MusicVAE: corpora, training data and latent-space tools.", no_args_is_help=True)
corpus_app = typer.Typer(help="MIDI corpora.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")


@corpus_app.command("download")
def corpus_download(
    name: str = typer.Argument(..., help="lmd-full or lmd-matched."),
    dest: Path = typer.Argument(..., help="Folder to create with the extracted corpus; must not exist or be empty."),
    url: str | None = typer.Option(None, help="Download from this address instead of the official one."),
    sha256: str | None = typer.Option(None, help="Expected SHA-256 of the archive; checked when given or known."),
    keep_archive: bool = typer.Option(False, help="Keep the archive as DEST.tar.gz after extraction."),
) -> None:
    """Download the Lakh MIDI Dataset with resume, verify it and extract it safely into DEST."""
    from musicvae.corpus.download import DownloadError, download_corpus

    try:
        download_corpus(name, dest, url=url, sha256=sha256, keep_archive=keep_archive)
    except DownloadError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"corpus download: {name} -> {dest}")


if __name__ == "__main__":
    app()
