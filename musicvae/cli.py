"""The `musicvae` command: the core's commands (corpus, explain, report). A mistake the user can fix ends every
command the same way, without a traceback: `error: <file>: <reason> [<code>]` and the fix on stderr, exit code 1
(musicvae.reasons). Heavy modules are imported inside the commands, so that `--help` answers at once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import typer

from musicvae.reasons import WORDS, UsageError, no_window

app = typer.Typer(help="MusicVAE: corpora, training data and latent-space tools.", no_args_is_help=True)
corpus_app = typer.Typer(help="MIDI corpora.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")


def guarded(work: Callable[[], None]) -> None:
    """Runs a command body, turning the user's mistakes into the error line and exit code 1."""
    try:
        work()
    except UsageError as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(1) from None


@corpus_app.command("download")
def corpus_download(
    name: str = typer.Argument(..., metavar="NAME", help="lmd-full, lmd-matched, pop909, nottingham or groove."),
    dest: Path = typer.Argument(
        ..., metavar="DEST", help="Folder to create with the extracted corpus; must not exist or be empty."
    ),
    url: str | None = typer.Option(None, help="Download from this address instead of the official one."),
    sha256: str | None = typer.Option(None, help="Expected SHA-256 of the archive; checked when given or known."),
    keep_archive: bool = typer.Option(False, help="Keep the archive as DEST.tar.gz (or .zip) after extraction."),
) -> None:
    """Download a public MIDI dataset with resume, verify it and extract its MIDI files safely into DEST; then
    name DEST in corpus.sources."""
    from musicvae.corpus.download import SOURCES, DownloadError, download_corpus

    try:
        download_corpus(name, dest, url=url, sha256=sha256, keep_archive=keep_archive)
    except DownloadError as e:  # its messages begin with what failed: a URL, an archive or DEST
        typer.echo(f"error: {e} [download]", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"corpus download: {name} -> {dest} (licence: {SOURCES[name].licence}); train on it with "
        f"-S 'corpus.sources={{folk: embedded, {name.replace('-', '_')}: {dest}}}'"
    )


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _show(listing) -> None:
    """One representation of the file: its counts, the reasons in words, then every window."""
    name, found = listing.rep.name, len(listing.windows)
    pieces = len({w.piece for w in listing.windows})
    typer.echo(
        f"{name}: {_counted(found, 'window')} from {_counted(pieces, 'piece')}, {sum(listing.kept)} kept for training"
        if found
        else f"{name}: no window"
    )
    # no_windows would only repeat the line above
    reasons = sorted((code, n) for code, n in listing.result.reasons.items() if code != "no_windows")
    if reasons:
        typer.echo("  left out, and why:")
    for code, count in reasons:
        typer.echo(f"    {WORDS[code]} [{code}={count}]")
    if found:
        typer.echo("  every window, as the model commands' --window N takes it:")
    for i in range(found):
        typer.echo(f"    {listing.line(i)}")


@app.command()
def explain(
    path: Path = typer.Argument(..., metavar="FILE", help="A MIDI file."),
    representation: list[str] = typer.Option(
        None,
        "--representation",
        "-r",
        metavar="NAME",
        help="mel_2bar, mel_16bar, drums_2bar or trio_16bar; all by default.",
    ),
) -> None:
    """Show what extraction makes of one file: every window, numbered as the model commands' --window takes them,
    those training keeps, and why parts of the file gave none. Exit code 1 when no window comes of it."""

    def work():
        from musicvae import windows
        from musicvae.extract import REPRESENTATIONS

        names = representation or list(REPRESENTATIONS)
        unknown = sorted(set(names) - REPRESENTATIONS.keys())
        if unknown:
            raise UsageError(
                "--representation",
                f"no representation {', '.join(unknown)}",
                "unknown_representation",
                f"choose from {', '.join(REPRESENTATIONS)}",
            )
        listings = windows.list_all(path, [REPRESENTATIONS[name] for name in names])
        for listing in listings.values():
            _show(listing)
        if not any(listing.windows for listing in listings.values()):
            every = sum((listing.result.reasons for listing in listings.values()), Counter())
            raise no_window(path, f"window ({', '.join(names)})", every)

    guarded(work)


@app.command()
def report(
    folder: Path = typer.Option(
        Path("reports"),
        "--reports",
        metavar="FOLDER",
        help="Where the pipeline wrote train.json, metrics.json and preprocess.json.",
    ),
) -> None:
    """The essentials of the last `dvc repro` in 80 columns: whether the model learned, its accuracy against the
    majority-class baseline, its use of the latent code, how training ended and the windows per representation."""

    def work():
        from musicvae.report import summary

        typer.echo(summary(folder))

    guarded(work)


if __name__ == "__main__":
    app()
