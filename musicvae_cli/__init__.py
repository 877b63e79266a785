"""The `musicvae` command, assembled from each layer's own commands: the core's (corpus, explain, report), the
trained model's (sample, interpolate, attribute, encode, reconstruct), magenta.js's (export, import) and the
studio's. Only this package sees them all, so no layer imports another's commands and none imports back."""

import typer

from lightning_modules import cli as model
from lightning_modules.magentajs import cli as magentajs
from musicvae import cli as core
from studio import cli as studio

app = typer.Typer(help="MusicVAE: corpora, training data and latent-space tools.", no_args_is_help=True)
for commands in (core.app, model.app, magentajs.app, studio.app):
    app.add_typer(commands)
