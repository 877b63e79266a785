"""The `musicvae` command, invoked in-process as a user types it."""

from typer.testing import CliRunner

from musicvae_cli import app


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])
