"""magenta.js interop, proven against @magenta/music itself: models of each kind exported, served over HTTP on
127.0.0.1 and run by Magenta's own inference code under Node, then compared with ours; import → export gives the
same bytes; quantized folders in tensorflowjs's format import to the model magenta.js runs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from lightning_modules.checkpoint import load_model
from lightning_modules.cli import app
from lightning_modules.components.musicvae import encoder_inputs
from lightning_modules.magentajs import manifest
from lightning_modules.magentajs.convert import write_checkpoint
from lightning_modules.magentajs.spec import config_json
from lightning_modules.magentajs.variables import names, to_tf
from magentajs_models import KINDS, inputs, notes_of, random_model, served
from system import missing

ROOT = Path(__file__).resolve().parents[1]
PARITY_JS = ROOT / "tests" / "magentajs" / "parity.js"
MU_TOLERANCE = 1e-4
N = 3  # windows encoded and z decoded per kind


def run(*args) -> object:
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def node() -> str:
    found = shutil.which("node")
    if not found or not (ROOT / "node_modules" / "@magenta" / "music").is_dir():
        missing("Node 20 with @magenta/music installed: `npm ci` in the repository root (package-lock.json)")
    return found


def magentajs(node: str, folder: Path, sequences: list[dict], z: torch.Tensor, tmp: Path) -> dict:
    """mu of the sequences and the notes decoded greedily from z, by @magenta/music from the served folder."""
    given, out = tmp / "in.json", tmp / "out.json"
    given.write_text(json.dumps({"sequences": sequences, "z": z.tolist()}))
    with served(folder) as url:
        done = subprocess.run([node, str(PARITY_JS), url, str(given), str(out)], capture_output=True, text=True,
                              cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


def ours(model, tokens: torch.Tensor, z: torch.Tensor, kind: str) -> tuple[np.ndarray, list]:
    with torch.no_grad():
        mu = model.encode(tokens)[1].numpy()
        decoded = model.decode_sampled(z, "greedy")[0].numpy()
    return mu, [notes_of(d, kind) for d in decoded]


def magentajs_drum_roll(model, tokens: torch.Tensor) -> torch.Tensor:
    """magenta.js's DrumsConverter.toTensor sets the "nothing hit" bit through TensorBuffer.set(v, step, -1), whose
    flat index step·10 - 1 is the previous step's last column: the bit says that the next step has no hit, and is 0
    at the last step. Magenta's (Python) DrumsConverter, and this project, set it for the step itself."""
    x = encoder_inputs(tokens, model.config)
    return torch.cat([x[..., :-1], torch.cat([x[:, 1:, -1:], torch.zeros_like(x[:, :1, -1:])], 1)], -1)


def z_of(model, seed: int = 1) -> torch.Tensor:
    return 1.5 * torch.randn(N, model.config.z_size, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("kind", list(KINDS))
def test_exported_model_runs_the_same_in_magentajs(kind, node, tmp_path):
    model = random_model(kind)
    checkpoint, folder = tmp_path / "model.ckpt", tmp_path / "magentajs"
    write_checkpoint(model, checkpoint, "a random initialisation")
    result = run("export", "magentajs", folder, "--checkpoint", checkpoint)
    assert result.exit_code == 0, result.output
    tokens, sequences = inputs(kind, N)
    z = z_of(model)
    theirs = magentajs(node, folder, sequences, z, tmp_path)
    mu, notes = ours(model, tokens, z, kind)

    if model.config.kind == "drums":
        with torch.no_grad():
            shifted = model.encoder(magentajs_drum_roll(model, tokens))[0].numpy()
        assert np.abs(np.array(theirs["mu"]) - shifted).max() < MU_TOLERANCE
        assert np.abs(np.array(theirs["mu"]) - mu).max() > 0.01  # magenta.js's roll, not Magenta's, as documented
    else:
        assert np.abs(np.array(theirs["mu"]) - mu).max() < MU_TOLERANCE
    assert [sorted(n) for n in theirs["notes"]] == notes
    # the comparison could fail: every decoding has notes, and they differ between z
    assert all(notes) and len({json.dumps(n) for n in notes}) == N


@pytest.mark.parametrize("kind", list(KINDS))
def test_import_then_export_gives_the_same_bytes(kind, tmp_path):
    first, second, checkpoint = tmp_path / "first", tmp_path / "second", tmp_path / "imported.ckpt"
    write_checkpoint(random_model(kind), tmp_path / "model.ckpt", "a random initialisation")
    assert run("export", "magentajs", first, "--checkpoint", tmp_path / "model.ckpt").exit_code == 0
    result = run("import", "magentajs", first, "--out", checkpoint)
    assert result.exit_code == 0, result.output
    assert run("export", "magentajs", second, "--checkpoint", checkpoint).exit_code == 0
    files = sorted(p.name for p in first.iterdir())
    assert files == sorted(p.name for p in second.iterdir())
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


@pytest.mark.parametrize("quantize_bytes", [1, 2])
def test_quantized_folder_imports_as_magentajs_runs_it(quantize_bytes, node, tmp_path):
    """A folder as tensorflowjs's write_weights writes a quantized, sharded checkpoint (Magenta's _q1/_q2 releases),
    imported from its URL: our model of it encodes and decodes as @magenta/music does on the same folder."""
    kind = "trio_16bar hierarchical"
    model = random_model(kind)
    folder = tmp_path / "released"
    folder.mkdir()
    manifest.write(folder, to_tf(model.state_dict(), *names(model.config, True)), quantize_bytes, shard_bytes=4096)
    (folder / "config.json").write_text(json.dumps(config_json(model.representation, True)))
    assert len(list(folder.glob("group1-shard*"))) > 1
    checkpoint = tmp_path / "imported.ckpt"
    with served(folder) as url:
        result = run("import", "magentajs", url, "--out", checkpoint)
    assert result.exit_code == 0, result.output
    imported = load_model(checkpoint)
    original, read = (to_tf(m.state_dict(), *names(m.config, True)) for m in (model, imported))
    errors = [np.abs(a - b).max() / (np.ptp(a) / (256 ** quantize_bytes - 1)) for (_, a), (_, b) in zip(original, read)]
    assert 0 < max(errors) <= 1  # within one quantization step of the original: quantized, and read as such
    tokens, sequences = inputs(kind, N)
    z = z_of(imported)
    theirs = magentajs(node, folder, sequences, z, tmp_path)
    mu, notes = ours(imported, tokens, z, kind)
    assert np.abs(np.array(theirs["mu"]) - mu).max() < MU_TOLERANCE
    assert [sorted(n) for n in theirs["notes"]] == notes


def test_imported_checkpoint_serves_the_model_commands(tmp_path):
    folder, checkpoint = tmp_path / "magentajs", tmp_path / "imported.ckpt"
    write_checkpoint(random_model("mel_2bar flat"), tmp_path / "model.ckpt", "a random initialisation")
    assert run("export", "magentajs", folder, "--checkpoint", tmp_path / "model.ckpt").exit_code == 0
    assert run("import", "magentajs", folder, "--out", checkpoint).exit_code == 0
    result = run("sample", "--n", 2, "--out", tmp_path / "samples", "--checkpoint", checkpoint)
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "samples").glob("*.mid"))) == 2
