"""The `musicvae` command's model tools on real files, with a checkpoint trained in the session."""

import numpy as np
import pytest
import symusic
import torch
from safetensors.torch import save_file
from typer.testing import CliRunner

from lightning_modules import generation
from lightning_modules.cli import app
from musicvae.extract import REPRESENTATIONS, extract


@pytest.fixture(scope="module")
def files(shared_midi):
    """Two real files with several 16-bar melody windows each."""
    found = [p for p in sorted(shared_midi.glob("pop909/*.mid"))[:10]
             if len(extract(p, REPRESENTATIONS["mel_16bar"]).windows) > 1]
    return found[:2]


def invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_every_command_has_help():
    for command in ("sample", "interpolate", "attribute", "encode", "reconstruct", "explain"):
        result = invoke(command, "--help")
        assert result.exit_code == 0 and "Usage" in result.output, command


def test_sample_writes_midi_from_a_checkpoint_or_an_mlflow_run(trained, tmp_path):
    result = invoke("sample", "--n", 2, "--temperature", 0.5, "--out", tmp_path / "a", "--checkpoint",
                    trained["models"] / "best.ckpt")
    assert result.exit_code == 0, result.output
    by_run = invoke("sample", "--n", 2, "--temperature", 0.5, "--out", tmp_path / "b", "--run-id", trained["run_id"],
                    "--tracking-uri", trained["uri"])
    assert by_run.exit_code == 0, by_run.output
    for name in ("sample_00.mid", "sample_01.mid"):  # the same seed and weights: the same music
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert symusic.Score.from_file(str(tmp_path / "a" / name)).tracks


def test_interpolate_lists_windows_and_keeps_the_source_tempo(trained, files, tmp_path):
    checkpoint = trained["models"] / "best.ckpt"
    unchosen = invoke("interpolate", *files, "--out", tmp_path, "--checkpoint", checkpoint)
    assert unchosen.exit_code == 1 and "pick one with --window" in unchosen.output and " 0: piece 0" in unchosen.output
    result = invoke("interpolate", *files, "--steps", 5, "--window", 0, "--window", 1, "--out", tmp_path,
                    "--checkpoint", checkpoint)
    assert result.exit_code == 0, result.output
    steps = sorted(tmp_path.glob("step_*.mid"))
    assert len(steps) == 5
    qpm = generation.file_windows(files[0], REPRESENTATIONS["mel_16bar"]).windows[0].qpm
    assert symusic.Score.from_file(str(steps[2])).tempos[0].qpm == pytest.approx(qpm, rel=1e-3)


def test_encode_saves_the_posterior_of_every_window(trained, files, tmp_path):
    result = invoke("encode", files[0], "--out", tmp_path / "z.npz", "--checkpoint", trained["models"] / "best.ckpt")
    assert result.exit_code == 0, result.output
    saved = np.load(tmp_path / "z.npz")
    windows = generation.file_windows(files[0], REPRESENTATIONS["mel_16bar"]).windows
    model = generation.load(trained["models"] / "best.ckpt")
    tokens = torch.stack([torch.from_numpy(w.tokens.astype(np.int64)).view(-1, 1) for w in windows])
    assert saved["mu"].shape == (len(windows), model.config.z_size)
    assert np.allclose(saved["mu"], generation.encode(model, tokens)[1].numpy(), atol=1e-6)


def test_attribute_at_zero_equals_reconstruction_and_moves_the_code_otherwise(trained, files, tmp_path):
    checkpoint = trained["models"] / "best.ckpt"
    model = generation.load(checkpoint)
    save_file({"note_density": torch.full((model.config.z_size,), 1e4)}, tmp_path / "vectors.safetensors")
    common = ["--window", 0, "--checkpoint", checkpoint]
    assert invoke("reconstruct", files[0], "--out", tmp_path / "r.mid", *common).exit_code == 0
    for amount, name in ((0.0, "zero.mid"), (1.0, "moved.mid")):
        result = invoke("attribute", files[0], "--vector", "note_density", "--amount", amount, "--out",
                        tmp_path / name, "--vectors", tmp_path / "vectors.safetensors", *common)
        assert result.exit_code == 0, result.output
    assert (tmp_path / "zero.mid").read_bytes() == (tmp_path / "r.mid").read_bytes()
    assert (tmp_path / "moved.mid").read_bytes() != (tmp_path / "r.mid").read_bytes()
    unknown = invoke("attribute", files[0], "--vector", "loudness", "--out", tmp_path / "x.mid", "--vectors",
                     tmp_path / "vectors.safetensors", *common)
    assert unknown.exit_code == 1 and "no vector 'loudness'" in unknown.output


def test_bad_inputs_fail_with_the_file_and_the_reason(trained, tmp_path):
    corrupt = tmp_path / "corrupt.mid"
    corrupt.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    checkpoint = trained["models"] / "best.ckpt"
    result = invoke("reconstruct", corrupt, "--out", tmp_path / "r.mid", "--checkpoint", checkpoint)
    assert result.exit_code == 1 and str(corrupt) in result.output and "not a readable MIDI file" in result.output
    missing = invoke("sample", "--checkpoint", tmp_path / "none.ckpt", "--out", tmp_path)
    assert missing.exit_code == 1 and "none.ckpt: no such checkpoint" in missing.output
    (tmp_path / "fake.ckpt").write_bytes(b"not a checkpoint")
    fake = invoke("sample", "--checkpoint", tmp_path / "fake.ckpt", "--out", tmp_path)
    assert fake.exit_code == 1 and "not a musicvae checkpoint" in fake.output


def test_commands_warn_when_the_model_has_not_learned_or_writes_no_notes(trained, files, tmp_path):
    """The session's debug model is trained for 6 steps: it is at its baseline and its greedy decodings are rests."""
    checkpoint = trained["models"] / "best.ckpt"
    assert generation.load(checkpoint).learning["verdict"] != "learning"
    result = CliRunner().invoke(app, ["reconstruct", str(files[0]), "--window", "0", "--out",
                                      str(tmp_path / "again.mid"), "--checkpoint", str(checkpoint)])
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output and "when last validated" in result.output
    notes = sum(len(t.notes) for t in symusic.Score.from_file(str(tmp_path / "again.mid")).tracks)
    assert ("has no notes" in result.output) == (notes == 0)
