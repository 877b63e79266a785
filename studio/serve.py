"""Starting the studio for a loaded model: its attribute vectors (only those made for its latent space), the test
split of the current shards, and uvicorn on a loopback address by default."""

from __future__ import annotations

from pathlib import Path

import torch

from lightning_modules import generation
from lightning_modules.checkpoint import LoadedModel
from lightning_modules.components.musicvae import MusicVAE
from studio import inputs
from studio.app import create_app
from studio.engine import Engine


def vectors_for(model: MusicVAE, path: Path) -> tuple[dict[str, torch.Tensor], str]:
    """The evaluate stage's attribute vectors when they belong to this model's latent space, else none and why (the
    page says it, as `musicvae attribute` refuses them)."""
    from safetensors import safe_open

    if not path.is_file():
        return {}, f"{path}: no attribute vectors; the evaluate stage of `dvc repro` writes them"
    with safe_open(path, "pt") as f:
        found, made_for = {k: f.get_tensor(k) for k in f.keys()}, (f.metadata() or {}).get("latent_space")
    if made_for != generation.latent_space(model):
        return {}, (
            f"{path}: attribute vectors of another model, which move codes of its latent space, not this "
            "one's [foreign_vectors]; `dvc repro evaluate` writes this model's"
        )
    return found, ""


def studio_app(loaded: LoadedModel, shards: Path, vectors: Path):
    found, why_none = vectors_for(loaded.model, vectors)
    engine = Engine(loaded, found, why_none)
    return create_app(engine, inputs.ShardTestSplit(shards, loaded.representation, "this model"))


def serve(app, host: str, port: int) -> None:
    import uvicorn

    print(f"musicvae studio: http://{host}:{port}  (Ctrl+C stops it)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
