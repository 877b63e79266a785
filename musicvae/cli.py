"""The `musicvae` command."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import typer
import yaml

app = typer.Typer(help="MusicVAE: corpora, training data and latent-space tools.", no_args_is_help=True)
corpus_app = typer.Typer(help="Build, index and download MIDI corpora.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")


@corpus_app.command("build")
def corpus_build(
    out: Path = typer.Option(Path("data/corpus"), help="Corpus folder to (re)create."),
    report: Path = typer.Option(Path("reports/corpus.json"), help="JSON report: counts and every failure."),
    params: Path = typer.Option(Path("params.yaml"), help="Reads its `corpus` section."),
    workers: int = typer.Option(os.cpu_count() or 1, help="Processes; the output does not depend on it."),
) -> None:
    """The `corpus` stage: render the embedded folk tunes, or index the user's MIDI, into OUT."""
    from musicvae.corpus.build import build

    start = time.perf_counter()
    result = build(yaml.safe_load(params.read_text())["corpus"], out, workers)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    counts = {k: v for k, v in result.items() if isinstance(v, int)}
    typer.echo(f"corpus: {counts} in {time.perf_counter() - start:.1f} s -> {out}")


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
