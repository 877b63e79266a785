"""magenta.js interop, proven against @magenta/music itself: models of each kind exported, served over HTTP on
127.0.0.1 and run by Magenta's own inference code under Node, then compared with ours; import → export gives the
same bytes; quantized folders in tensorflowjs's format import to the model magenta.js runs."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from lightning_modules.checkpoint import LoadedModel, load_model
from lightning_modules.components.musicvae import MusicVAE, encoder_inputs
from lightning_modules.experiment import load
from lightning_modules.experiment import names as config_names
from lightning_modules.magentajs import manifest
from lightning_modules.magentajs.convert import export, write_checkpoint
from lightning_modules.magentajs.spec import Unsupported, config_json
from lightning_modules.magentajs.variables import names, to_tf
from tests.support import ROOT
from tests.support.cli import invoke
from tests.support.magentajs_models import KINDS, inputs, notes_of, random_model, served
from tests.support.system import missing

PARITY_JS = ROOT / "tests" / "support" / "magentajs" / "parity.js"
MU_TOLERANCE = 1e-4
N = 3  # windows encoded and z decoded per kind


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
        done = subprocess.run(
            [node, str(PARITY_JS), url, str(given), str(out)], capture_output=True, text=True, cwd=ROOT, timeout=300
        )
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
    loaded = random_model(kind)
    model = loaded.model
    checkpoint, folder = tmp_path / "model.ckpt", tmp_path / "magentajs"
    write_checkpoint(loaded, checkpoint, "a random initialisation")
    result = invoke("export", "magentajs", folder, "--checkpoint", checkpoint)
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
    assert invoke("export", "magentajs", first, "--checkpoint", tmp_path / "model.ckpt").exit_code == 0
    result = invoke("import", "magentajs", first, "--out", checkpoint)
    assert result.exit_code == 0, result.output
    assert invoke("export", "magentajs", second, "--checkpoint", checkpoint).exit_code == 0
    files = sorted(p.name for p in first.iterdir())
    assert files == sorted(p.name for p in second.iterdir())
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


@pytest.mark.parametrize("quantize_bytes", [1, 2])
def test_quantized_folder_imports_as_magentajs_runs_it(quantize_bytes, node, tmp_path):
    """A folder as tensorflowjs's write_weights writes a quantized, sharded checkpoint (Magenta's _q1/_q2 releases),
    imported from its URL: our model of it encodes and decodes as @magenta/music does on the same folder."""
    kind = "trio_16bar hierarchical"
    loaded = random_model(kind)
    model = loaded.model
    folder = tmp_path / "released"
    folder.mkdir()
    manifest.write(folder, to_tf(model.state_dict(), *names(model.config, True)), quantize_bytes, shard_bytes=4096)
    (folder / "config.json").write_text(json.dumps(config_json(loaded.representation, True)))
    assert len(list(folder.glob("group1-shard*"))) > 1
    checkpoint = tmp_path / "imported.ckpt"
    with served(folder) as url:
        result = invoke("import", "magentajs", url, "--out", checkpoint)
    assert result.exit_code == 0, result.output
    imported = load_model(checkpoint).model
    original, read = (to_tf(m.state_dict(), *names(m.config, True)) for m in (model, imported))
    errors = [np.abs(a - b).max() / (np.ptp(a) / (256**quantize_bytes - 1)) for (_, a), (_, b) in zip(original, read)]
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
    assert invoke("export", "magentajs", folder, "--checkpoint", tmp_path / "model.ckpt").exit_code == 0
    assert invoke("import", "magentajs", folder, "--out", checkpoint).exit_code == 0
    result = invoke("sample", "--n", 2, "--out", tmp_path / "samples", "--checkpoint", checkpoint)
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "samples").glob("*.mid"))) == 2


EXPORTABLE = {
    "cat-drums_2bar_small",
    "cat-drums_2bar_small-cpu",
    "cat-mel_2bar_big",
    "cat-mel_2bar_big-cpu",
    "cat-mel_2bar_small",
    "cat-mel_2bar_small-cpu",
    "cat-mel_2bar_small-tf-cpu",
    "cat-mel_2bar_small-tf-recipe-beta01-cpu",
    "cat-mel_2bar_small-tf-recipe-cpu",
    "cat-mel_2bar_small-tf-resample-cpu",
    "cat-mel_2bar_small-tf-transpose-cpu",
    "cat-mel_2bar_small-tf-transpose-magentabeta-b32-cpu",
    "cat-mel_2bar_small-tf-transpose-magentabeta-b32-narrow-cpu",
    "cat-mel_2bar_small-tf-transpose-magentabeta-cpu",
    "cat-mel_2bar_small-tf-transpose-magentabeta-displace-cpu",
    "cat-mel_2bar_small-tf-transpose-magentabeta-staccato-cpu",
    "flat-mel_16bar-b64-cpu",
    "flat-mel_16bar-cpu",
    "hier-mel_16bar",
    "hier-mel_16bar-cpu",
    "hier-trio_16bar",
    "hier-trio_16bar-cpu",
}


@pytest.mark.parametrize("name", config_names())
def test_each_config_exports_or_is_refused_with_its_reason(name, tmp_path):
    config = replace(
        load(name).model,
        z_size=4,
        enc_rnn_size=(4,) * len(load(name).model.enc_rnn_size),
        dec_rnn_size=(4,) * len(load(name).model.dec_rnn_size),
    )
    model = LoadedModel(MusicVAE(config), load(name).representation)
    if name in EXPORTABLE:
        export(model, tmp_path / name)
        assert (
            json.loads((tmp_path / name / "config.json").read_text())["dataConverter"]["args"]["numSteps"]
            == config.steps
        )
    else:
        with pytest.raises(Unsupported, match="magenta.js|trio"):
            export(model, tmp_path / name)


@pytest.mark.parametrize(
    "options, reason",
    [
        ({"conductor_input": "z"}, "conductor_input is 'z'"),
        ({"enc_rnn_size": (4, 4)}, "one layer per level, this model 2"),
        ({"encoder": "bidirectional"}, "conductor only together with Magenta's hierarchical encoder"),
    ],
)
def test_export_refuses_what_magentajs_cannot_run(options, reason, tmp_path):
    loaded = random_model("mel_16bar hierarchical")
    model = LoadedModel(MusicVAE(replace(loaded.model.config, **options)), loaded.representation)
    write_checkpoint(model, tmp_path / "model.ckpt", "a random initialisation")
    result = invoke("export", "magentajs", tmp_path / "out", "--checkpoint", tmp_path / "model.ckpt")
    assert result.exit_code == 1 and reason in result.output and "unsupported_by_magentajs" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_export_refuses_a_folder_in_use_and_a_bad_quantization(tmp_path):
    write_checkpoint(random_model("mel_2bar flat"), tmp_path / "model.ckpt", "a random initialisation")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "group1-shard1of2.bin").write_bytes(b"old")
    result = invoke("export", "magentajs", tmp_path / "used", "--checkpoint", tmp_path / "model.ckpt")
    assert result.exit_code == 1 and "not_empty" in result.output
    result = invoke("export", "magentajs", tmp_path / "new", "--quantize", 3, "--checkpoint", tmp_path / "model.ckpt")
    assert result.exit_code == 1 and "bad_quantize" in result.output


def _exported(tmp_path: Path, kind: str = "mel_2bar flat") -> Path:
    folder = tmp_path / "magentajs"
    export(random_model(kind), folder)
    return folder


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda s: s["dataConverter"].update(type="MelodyRhythmConverter"), "data converter 'MelodyRhythmConverter'"),
        (lambda s: s["dataConverter"]["args"].update(numSteps=64), "MelodyConverter of 64 steps matches none"),
        (lambda s: s["dataConverter"]["args"].update(minPitch=48), "pitch range"),
        (lambda s: s.update(chordEncoder="PitchChordEncoder"), "chordEncoder"),
    ],
)
def test_import_refuses_a_converter_it_does_not_support(edit, words, tmp_path):
    folder = _exported(tmp_path)
    spec = json.loads((folder / "config.json").read_text())
    edit(spec)
    (folder / "config.json").write_text(json.dumps(spec))
    result = invoke("import", "magentajs", folder, "--out", tmp_path / "x.ckpt")
    assert result.exit_code == 1 and words in result.output and "unsupported_checkpoint" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "x.ckpt").exists()


def test_import_refuses_an_architecture_it_does_not_have(tmp_path):
    """A NADE decoder (Magenta's nade-drums_2bar): its extra variables name it."""
    loaded = random_model("drums_2bar flat")
    model = loaded.model
    folder = tmp_path / "nade"
    folder.mkdir()
    weights = to_tf(model.state_dict(), *names(model.config, False))
    manifest.write(folder, weights + [("decoder/nade/w_enc", np.zeros((512, 1, 8), np.float32))])
    (folder / "config.json").write_text(json.dumps(config_json(loaded.representation, False)))
    result = invoke("import", "magentajs", folder, "--out", tmp_path / "x.ckpt")
    assert result.exit_code == 1 and "NADE" in result.output


def test_import_says_what_it_cannot_read(tmp_path):
    result = invoke("import", "magentajs", tmp_path / "nowhere", "--out", tmp_path / "x.ckpt")
    assert result.exit_code == 1 and "config.json" in result.output and "unreadable" in result.output
    folder = _exported(tmp_path)
    (folder / "group1-shard1of1.bin").write_bytes(b"\0" * 8)
    result = invoke("import", "magentajs", folder, "--out", tmp_path / "x.ckpt")
    assert result.exit_code == 1 and "runs past the end of its shards" in result.output


def test_export_quantizes_on_request(tmp_path):
    loaded = random_model("drums_2bar flat")
    model = loaded.model
    write_checkpoint(loaded, tmp_path / "model.ckpt", "a random initialisation")
    result = invoke("export", "magentajs", tmp_path / "q2", "--quantize", 2, "--checkpoint", tmp_path / "model.ckpt")
    assert result.exit_code == 0, result.output
    entries = json.loads((tmp_path / "q2" / "weights_manifest.json").read_text())[0]["weights"]
    assert {e["quantization"]["dtype"] for e in entries} == {"uint16"}
    size = sum(p.stat().st_size for p in (tmp_path / "q2").glob("group1-shard*"))
    tf_weights = sum(p.numel() for k, p in model.named_parameters() if "bias_hh" not in k)  # one bias a TF cell
    assert size == 2 * tf_weights
