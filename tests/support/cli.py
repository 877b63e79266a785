"""The `musicvae` command, invoked in-process as a user types it, and what its results must show."""

from typer.testing import CliRunner

from musicvae_cli import app
from tests.support.midi_files import note_count


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def assert_nothing_silent_succeeds(exit_code: int, stderr: str, *written) -> None:
    """A command whose every output is silent has produced nothing to listen to: it fails, and only then."""
    assert all(p.is_file() for p in written), stderr
    heard = any(note_count(p) for p in written)
    assert exit_code == (0 if heard else 1), stderr
    assert ("[only_rests]" in stderr) == (not heard), stderr
