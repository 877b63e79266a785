"""The `musicvae` command's model tools on real files, with checkpoints trained in the session."""

import numpy as np
import pytest
import symusic
import torch
from safetensors.torch import save_file

from lightning_modules import generation
from lightning_modules.components.musicvae import encoder_inputs
from musicvae import windows
from musicvae.extract import REPRESENTATIONS, extract
from tests.support.cli import assert_nothing_silent_succeeds, invoke
from tests.support.midi_files import note_count


@pytest.fixture(scope="module")
def files(shared_midi):
    """Two real files with several 16-bar melody windows each."""
    found = [
        p
        for p in sorted(shared_midi.glob("pop909/*.mid"))[:10]
        if len(extract(p, REPRESENTATIONS["mel_16bar"]).windows) > 1
    ]
    return found[:2]


def test_every_command_has_help():
    for command in ("sample", "interpolate", "attribute", "encode", "reconstruct", "explain", "report"):
        result = invoke(command, "--help")
        assert result.exit_code == 0 and "Usage" in result.output, command


def test_interpolate_lists_windows_and_keeps_the_source_tempo(trained, files, tmp_path):
    checkpoint = trained["models"] / "best.ckpt"
    unchosen = invoke("interpolate", *files, "--out", tmp_path, "--checkpoint", checkpoint)
    assert unchosen.exit_code == 1 and "pick one with --window" in unchosen.output and " 0: piece 0" in unchosen.output
    assert f"error: {files[0]}: " in unchosen.stderr and "[several_windows]" in unchosen.stderr  # after a warning
    result = invoke(
        "interpolate", *files, "--steps", 5, "--window", 0, "--window", 1, "--out", tmp_path, "--checkpoint", checkpoint
    )
    steps = sorted(tmp_path.glob("step_*.mid"))
    assert len(steps) == 5
    assert_nothing_silent_succeeds(result.exit_code, result.stderr, *steps)
    qpm = windows.of_file(files[0], REPRESENTATIONS["mel_16bar"]).windows[0].qpm
    assert symusic.Score.from_file(str(steps[2])).tempos[0].qpm == pytest.approx(qpm, rel=1e-3)


def test_encode_saves_the_posterior_of_every_window_numbered_as_explain_lists_them(trained, files, tmp_path):
    result = invoke("encode", files[0], "--out", tmp_path / "z.npz", "--checkpoint", trained["models"] / "best.ckpt")
    assert result.exit_code == 0, result.output
    saved = np.load(tmp_path / "z.npz")
    listing = windows.of_file(files[0], REPRESENTATIONS["mel_16bar"])
    model = generation.load(trained["models"] / "best.ckpt").model
    tokens = torch.stack([torch.from_numpy(w.tokens.astype(np.int64)).view(-1, 1) for w in listing.windows])
    with torch.no_grad():  # the model's own encoder on every window at once, not the command's generation.encode
        mu, sigma = model.encoder(encoder_inputs(tokens, model.config))
    assert saved["mu"].shape == (len(listing.windows), model.config.z_size)
    assert np.allclose(saved["mu"], mu.numpy(), atol=1e-6) and np.allclose(saved["sigma"], sigma.numpy(), atol=1e-6)
    assert saved["kept"].tolist() == listing.kept and saved["start_bar"].tolist() == [
        w.start_bar for w in listing.windows
    ]


def test_model_commands_list_the_windows_explain_lists(trained, shared_midi, tmp_path):
    """The same windows, numbers, programs and kept flags in `explain` and in a model command's --window choice."""
    checkpoint = trained["models"] / "best.ckpt"
    for path in (shared_midi / "pop909" / "179.mid", shared_midi / "lakh/55269aebbc2e7784ca2d1d4472141889.mid"):
        explained = invoke("explain", path, "-r", "mel_16bar")
        assert explained.exit_code == 0, explained.output
        listed = [line.strip() for line in explained.stdout.split("--window N takes it:\n")[1].splitlines()]
        unchosen = invoke("reconstruct", path, "--out", tmp_path / "r.mid", "--checkpoint", checkpoint)
        assert unchosen.exit_code == 1
        assert [line.strip() for line in unchosen.stderr.split("pick one with --window N:\n")[1].splitlines()] == listed
        wrong = invoke(
            "reconstruct", path, "--window", len(listed), "--out", tmp_path / "r.mid", "--checkpoint", checkpoint
        )
        assert wrong.exit_code == 1 and "[no_such_window]" in wrong.stderr


def test_attribute_names_the_vectors_it_has_when_asked_for_another(trained, files, tmp_path):
    """What a vector does to the music needs a model that has learned: tests/slow/test_model_behaviour.py."""
    checkpoint = trained["models"] / "best.ckpt"
    model = generation.load(checkpoint).model
    save_file(
        {"note_density": torch.zeros(model.config.z_size)},
        tmp_path / "vectors.safetensors",
        metadata={"latent_space": generation.latent_space(model)},
    )
    unknown = invoke(
        "attribute",
        files[0],
        "--vector",
        "loudness",
        "--out",
        tmp_path / "x.mid",
        "--vectors",
        tmp_path / "vectors.safetensors",
        "--window",
        0,
        "--checkpoint",
        checkpoint,
    )
    assert unknown.exit_code == 1 and "no vector 'loudness'" in unknown.stderr and "[unknown_vector]" in unknown.stderr
    assert "choose from note_density" in unknown.stderr and not (tmp_path / "x.mid").exists()


def test_a_model_that_writes_only_rests_fails_and_keeps_its_files(trained, files, tmp_path):
    """The session's model with its output layers set to always choose class 0, a rest (no event)."""
    checkpoint = torch.load(trained["models"] / "best.ckpt", weights_only=True)
    for key, value in checkpoint["state_dict"].items():
        if key.endswith("output.weight"):
            value.zero_()
        elif key.endswith("output.bias"):
            value.copy_(1e4 * (torch.arange(len(value)) == 0))
    torch.save(checkpoint, tmp_path / "silent.ckpt")
    common = ["--checkpoint", tmp_path / "silent.ckpt"]
    result = invoke("reconstruct", files[0], "--window", 0, "--out", tmp_path / "r.mid", *common)
    assert note_count(tmp_path / "r.mid") == 0 and result.exit_code == 1
    assert f"error: {tmp_path / 'r.mid'}: " in result.stderr and "[only_rests]" in result.stderr
    sampled = invoke("sample", "--n", 2, "--out", tmp_path / "samples", *common)
    assert sampled.exit_code == 1 and len(list((tmp_path / "samples").glob("*.mid"))) == 2


def test_bad_inputs_fail_with_the_file_and_the_reason(trained, tmp_path):
    corrupt = tmp_path / "corrupt.mid"
    corrupt.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    checkpoint = trained["models"] / "best.ckpt"
    result = invoke("reconstruct", corrupt, "--out", tmp_path / "r.mid", "--checkpoint", checkpoint)
    assert result.exit_code == 1 and f"error: {corrupt}: " in result.stderr and "[corrupt]" in result.stderr
    assert "fix: " in result.stderr and isinstance(result.exception, SystemExit)  # no traceback
    missing = invoke("sample", "--checkpoint", tmp_path / "none.ckpt", "--out", tmp_path)
    assert missing.exit_code == 1 and "none.ckpt: no such checkpoint" in missing.stderr
    for name, data, why in (
        ("fake.ckpt", b"not a checkpoint", "PyTorch cannot read it"),
        ("song.ckpt", corrupt.read_bytes(), "it is a MIDI file"),
    ):
        (tmp_path / name).write_bytes(data)
        fake = invoke("sample", "--checkpoint", tmp_path / name, "--out", tmp_path)
        assert fake.exit_code == 1 and f"not a musicvae checkpoint: {why}" in fake.stderr
        assert "[not_a_checkpoint]" in fake.stderr and "KeyError" not in fake.stderr


def test_commands_warn_when_the_model_has_not_learned_or_writes_no_notes(trained, files, tmp_path):
    """The session's debug model is trained for 6 steps: it is at its baseline."""
    checkpoint = trained["models"] / "best.ckpt"
    assert generation.load(checkpoint).learning["verdict"] != "learning"
    result = invoke("reconstruct", files[0], "--window", 0, "--out", tmp_path / "again.mid", "--checkpoint", checkpoint)
    assert "warning: " in result.stderr and "when last validated" in result.stderr
    assert_nothing_silent_succeeds(result.exit_code, result.stderr, tmp_path / "again.mid")
    assert ("has no notes" in result.stderr) == (note_count(tmp_path / "again.mid") == 0)
