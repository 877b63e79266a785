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


if __name__ == "__main__":
    app()
