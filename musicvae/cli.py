"""The `musicvae` command."""

from __future__ import annotations

from collections import defaultdict
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


@app.command()
def explain(
    path: Path = typer.Argument(..., exists=True, dir_okay=False, help="A MIDI file."),
    representation: list[str] = typer.Option(None, "--representation", "-r",
                                             help="mel_2bar, mel_16bar, drums_2bar or trio_16bar; all by default."),
) -> None:
    """Show what extraction makes of one file: its windows, and why parts of it gave none."""
    from musicvae.extract import REPRESENTATIONS, extract

    names = representation or list(REPRESENTATIONS)
    unknown = sorted(set(names) - REPRESENTATIONS.keys())
    if unknown:
        raise typer.BadParameter(f"unknown representation(s) {unknown}; choose from {sorted(REPRESENTATIONS)}")
    rejected = False
    for name in names:
        result = extract(path, REPRESENTATIONS[name])
        reasons = ", ".join(f"{k}={v}" for k, v in sorted(result.reasons.items())) or "none"
        typer.echo(f"{name}: {len(result.windows)} windows from {len({w.piece for w in result.windows})} "
                   f"piece(s); reasons: {reasons}" + (f" ({result.detail})" if result.detail else ""))
        by_source = defaultdict(list)  # per time-split piece and instrument (its programs)
        for w in result.windows:
            by_source[w.piece, w.programs].append(w.start_bar)
        for (piece, programs), bars in sorted(by_source.items()):
            typer.echo(f"  piece {piece}, programs {list(programs)}: {len(bars)} windows starting at bar "
                       + ", ".join(map(str, sorted(bars))))
        rejected |= bool(result.detail)
    if rejected:
        typer.echo(f"error: {path}: the whole file was rejected (reason above)", err=True)
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
