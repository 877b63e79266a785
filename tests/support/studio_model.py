"""A model for the studio tests to explore, with attribute vectors written for it by the evaluate stage's own code, so
that the studio finds them as it finds the stage's."""

from pathlib import Path

import yaml

from tests.support import PARAMS


def with_vectors(models: Path, shards: Path, root: Path) -> dict:
    """The best checkpoint of a models/ folder, the shards (their root folder) and its vectors file in `root`."""
    from lightning_modules import generation
    from lightning_modules.attribute_effects import VECTORS, attribute_effects
    from lightning_modules.datamodule import read_tokens
    from lightning_modules.settings import eval_settings

    checkpoint = models / "best.ckpt"
    loaded = generation.load(checkpoint)
    model, folder = loaded.model, shards / loaded.representation.name
    test = read_tokens(folder, "test")
    settings = eval_settings(yaml.safe_load(PARAMS.read_text())["eval"])
    attribute_effects(
        model, read_tokens(folder, "train"), test, generation.encode(model, test.long())[1], settings, root
    )
    return {"checkpoint": checkpoint, "shards": shards, "vectors": root / VECTORS}
