"""The shard manifest is the one record of how windows are cut: training builds its model from it, the checkpoint
keeps it, the commands cut a user's file the same way, and data cut otherwise is refused, naming both values."""

from dataclasses import replace

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from lightning_modules import evaluate, generation, representations
from lightning_modules.experiment import cut_as, load
from lightning_modules.train import train
from musicvae import windows
from musicvae.extract import REPRESENTATIONS, extract
from musicvae_cli import app
from tests.support.beam_runs import PARAMS, run
from tests.support.training_settings import settings


@pytest.fixture(scope="module")
def eight_bars(shared_midi, tmp_path_factory):
    """`mel_16bar` shards cut with `slice_bars: 8`, and a debug model trained on them for a few steps."""
    root = tmp_path_factory.mktemp("eight_bars")
    run(f"{shared_midi}/pop909/*.mid", root / "shards", "--set", "mel_16bar.slice_bars=8", reps=["mel_16bar"])
    record = train(
        load("debug"),
        settings(max_steps=2, val_every_n_steps=2),
        root / "shards",
        root / "models",
        f"sqlite:///{root / 'mlflow.db'}",
    )
    return root, record


def test_training_builds_the_model_for_the_windows_of_the_manifest(eight_bars):
    root, _ = eight_bars
    model = generation.load(root / "models/best.ckpt")
    assert model.model.config.steps == 8 * 16 and model.representation.slice_bars == 8
    assert model.representation == representations.of_shards(root / "shards/mel_16bar")


def test_commands_cut_a_file_as_the_checkpoint_was_trained(eight_bars, shared_midi, tmp_path):
    root, _ = eight_bars
    path = next(p for p in sorted(shared_midi.glob("pop909/*.mid")) if extract(p, REPRESENTATIONS["mel_16bar"]).windows)
    result = CliRunner().invoke(
        app, ["encode", str(path), "--checkpoint", str(root / "models/best.ckpt"), "--out", str(tmp_path / "codes.npz")]
    )
    assert result.exit_code == 0, result.output
    eight = windows.of_file(path, replace(REPRESENTATIONS["mel_16bar"], slice_bars=8))
    sixteen = windows.of_file(path, REPRESENTATIONS["mel_16bar"])
    assert len(eight.windows) != len(sixteen.windows)  # else the test could not tell the two cuts apart
    assert len(np.load(tmp_path / "codes.npz")["mu"]) == len(eight.windows)


def test_evaluate_refuses_shards_cut_otherwise_naming_both_values(eight_bars, shared_midi, tmp_path):
    root, _ = eight_bars
    run(f"{shared_midi}/pop909/*.mid", tmp_path / "shards", reps=["mel_16bar"])  # Magenta's 16 bars
    params = yaml.safe_load(PARAMS.read_text())
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(SystemExit) as refused:
        evaluate.main(
            [
                "--params",
                str(tmp_path / "params.yaml"),
                "--shards",
                str(tmp_path / "shards"),
                "--model",
                str(root / "models"),
                "--out",
                str(tmp_path / "out"),
                "--metrics",
                str(tmp_path / "metrics.json"),
                "--plots",
                str(tmp_path / "plots"),
            ]
        )
    assert "slice_bars 8 against 16" in str(refused.value)
    assert not (tmp_path / "metrics.json").exists()


def test_a_config_for_other_windows_is_refused_naming_both():
    with pytest.raises(representations.Mismatch, match="debug is for mel_16bar windows.*trio_16bar \\(trio\\)"):
        cut_as(load("debug"), REPRESENTATIONS["trio_16bar"])
