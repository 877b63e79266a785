"""Attribute vectors (the paper's §5): for each melodic attribute, the mean code of the training windows in its top
quartile minus that of the bottom quartile; and their effect matrix: every vector added at ±amount to the test codes,
the change of every attribute in the greedy decodings, in units of that attribute's spread over the test set.

The vectors are saved as `attribute_vectors.safetensors` (tensors only, nothing to execute, and the same bytes for
the same vectors) with the model's latent space they belong to, which `musicvae attribute` checks and applies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from lightning_modules import generation
from lightning_modules.components.musicvae import MusicVAE
from lightning_modules.settings import EvalSettings
from musicvae import figures
from musicvae.attributes import ATTRIBUTES, diagonal_dominance
from musicvae.latent import apply_attribute, attribute_vector
from musicvae.temperature import GREEDY

VECTORS = "attribute_vectors.safetensors"


def measure(tokens: torch.Tensor) -> np.ndarray:
    """[N, attributes] of windows [N, T, P], on the melody (a trio's first part)."""
    melody = tokens[..., 0].numpy()
    return np.stack([np.asarray(f(melody), dtype=np.float64) for f in ATTRIBUTES.values()], -1)


def attribute_effects(
    model: MusicVAE, train: torch.Tensor, test: torch.Tensor, mu_test: torch.Tensor, settings: EvalSettings, out: Path
) -> dict:
    """mu_test: the test windows' encoder means."""
    s, batch = settings.attributes, settings.batch_size
    _, mu_train, _ = generation.encode(model, train.long(), batch)
    values = torch.from_numpy(measure(train))
    vectors = {name: attribute_vector(mu_train, values[:, i], s.quantile) for i, name in enumerate(ATTRIBUTES)}
    out.mkdir(parents=True, exist_ok=True)
    save_file(
        {k: v.contiguous() for k, v in vectors.items()},
        out / VECTORS,
        metadata={"latent_space": generation.latent_space(model)},
    )

    spread = measure(test).std(0)
    spread[spread == 0] = 1.0  # an attribute constant over the test set is reported unscaled
    effect = np.zeros((len(vectors), len(ATTRIBUTES)))
    for i, vector in enumerate(vectors.values()):
        shifted = apply_attribute(mu_test, vector, torch.tensor([s.amount, -s.amount]))  # [2, N, Z]
        decoded = generation.decode(model, shifted.flatten(0, 1), GREEDY, batch).view(2, len(test), *test.shape[1:])
        effect[i] = (measure(decoded[0]) - measure(decoded[1])).mean(0) / 2 / spread
    names = list(ATTRIBUTES)
    (out / "attribute_effects.png").write_bytes(
        figures.heat_map_png(
            effect, names, names, f"Attribute vectors applied at ±{s.amount}", "mean change (test-set std)"
        )
    )
    return {
        "train_windows": len(train),
        "diagonal_dominance": diagonal_dominance(effect),
        "effect": {
            row: {col: round(float(effect[i, j]), 6) for j, col in enumerate(names)} for i, row in enumerate(names)
        },
        "vector_norm": {name: round(float(v.norm()), 6) for name, v in vectors.items()},
    }
