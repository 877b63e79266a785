"""`musicvae import magentajs` reads the deeplearn.js layout too (magenta.js 0.x: manifest.json naming one float32
file per variable, converter.json beside it), and says which file a partial copy lacks."""

import json

import torch

from lightning_modules.checkpoint import load_model
from lightning_modules.magentajs.convert import export
from lightning_modules.magentajs.manifest import read
from tests.support.cli import invoke
from tests.support.magentajs_models import random_model


def _as_deeplearnjs(tfjs, folder):
    """The same weights in the older layout, as googlecreativelab's demos serve them."""
    folder.mkdir()
    weights = read(lambda path: (tfjs / path).read_bytes())
    layout = {}
    for name, value in weights.items():
        filename = name.replace("/", "_")
        (folder / filename).write_bytes(value.astype("<f4").tobytes())
        layout[name] = {"filename": filename, "shape": list(value.shape)}
    (folder / "manifest.json").write_text(json.dumps(layout))
    (folder / "converter.json").write_text(json.dumps(json.loads((tfjs / "config.json").read_text())["dataConverter"]))


def test_the_older_layout_imports_as_the_same_model(tmp_path):
    model = random_model("mel_2bar flat")
    export(model, tmp_path / "tfjs")
    _as_deeplearnjs(tmp_path / "tfjs", tmp_path / "deeplearnjs")
    for layout in ("tfjs", "deeplearnjs"):
        result = invoke("import", "magentajs", tmp_path / layout, "--out", tmp_path / f"{layout}.ckpt")
        assert result.exit_code == 0, result.output
    ours, older = load_model(tmp_path / "tfjs.ckpt"), load_model(tmp_path / "deeplearnjs.ckpt")
    assert ours.model.config == older.model.config and ours.representation == older.representation
    assert all(torch.equal(a, b) for a, b in zip(ours.model.state_dict().values(), older.model.state_dict().values()))


def test_a_partial_copy_names_the_missing_file(tmp_path):
    export(random_model("mel_2bar flat"), tmp_path / "tfjs")
    _as_deeplearnjs(tmp_path / "tfjs", tmp_path / "deeplearnjs")
    (tmp_path / "deeplearnjs" / "encoder_mu_kernel").unlink()
    next((tmp_path / "tfjs").glob("group1-shard*")).unlink()
    for layout, listed in (
        ("deeplearnjs", "manifest.json lists encoder_mu_kernel"),
        ("tfjs", "weights_manifest.json lists group1-shard1of1.bin"),
    ):
        result = invoke("import", "magentajs", tmp_path / layout, "--out", tmp_path / "x.ckpt")
        assert result.exit_code == 1 and f"{listed}, which cannot be read" in result.output, result.output
        assert "an incomplete copy of the checkpoint [bad_weights]" in result.output
        assert "holds config.json" not in result.output  # the old hint, wrong for a folder that holds both
