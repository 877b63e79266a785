from musicvae_cli import app

app()
