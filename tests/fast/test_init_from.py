"""An imported magenta.js checkpoint in the pipeline: train.init_from fine-tunes from its weights and architecture
(MLflow records which file it was), and the evaluate stage takes it."""

import hashlib

import mlflow
import pytest
import yaml

from lightning_modules import generation, representations
from lightning_modules.checkpoint import load_model
from lightning_modules.evaluate import evaluate
from lightning_modules.experiment import load
from lightning_modules.init_from import Unusable
from lightning_modules.magentajs.convert import export, write_checkpoint
from lightning_modules.magentajs.convert import load as load_magentajs
from lightning_modules.settings import eval_settings
from lightning_modules.train import train
from tests.support.magentajs_models import random_model
from tests.support.training_settings import PARAMS, settings


def _imported(kind: str, tmp_path) -> tuple:
    folder, checkpoint = tmp_path / kind.replace(" ", "_"), tmp_path / f"{kind.replace(' ', '_')}.ckpt"
    export(random_model(kind), folder)
    loaded, _ = load_magentajs(str(folder))
    write_checkpoint(loaded, checkpoint, str(folder))
    return loaded.model, checkpoint


def test_training_starts_from_an_imported_checkpoint(shards, tmp_path):
    imported, checkpoint = _imported("mel_2bar flat", tmp_path)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    chosen = settings(max_steps=2, val_every_n_steps=2, init_from=str(checkpoint))
    record = train(load("cat-mel_2bar_small-tf-cpu"), chosen, shards, tmp_path / "models", uri)
    trained = load_model(tmp_path / "models" / "last.ckpt").model
    assert trained.config == imported.config  # the checkpoint's architecture (z 8), not the config's (z 128)
    # two Adam steps at lr 3e-3 move each weight by at most ~6e-3; the imported weights are N(0, 0.5)
    moved = max(
        (a - b).abs().max().item() for a, b in zip(trained.state_dict().values(), imported.state_dict().values())
    )
    assert 0 < moved < 0.02
    params = mlflow.MlflowClient(uri).get_run(record["run_id"]).data.params
    assert params["train.init_from"] == str(checkpoint) and params["model.z_size"] == "8"
    assert params["init_from_sha256"] == hashlib.sha256(checkpoint.read_bytes()).hexdigest()


def test_a_checkpoint_of_another_representation_is_refused(shards, tmp_path):
    _, checkpoint = _imported("drums_2bar flat", tmp_path)
    with pytest.raises(Unusable, match="for drums_2bar windows, the shards hold mel_2bar"):
        train(
            load("cat-mel_2bar_small-tf-cpu"),
            settings(init_from=str(checkpoint)),
            shards,
            tmp_path / "models",
            f"sqlite:///{tmp_path / 'mlflow.db'}",
        )
    with pytest.raises(Unusable, match="cannot be loaded"):
        train(
            load("cat-mel_2bar_small-tf-cpu"),
            settings(init_from=str(tmp_path / "none.ckpt")),
            shards,
            tmp_path / "models",
            f"sqlite:///{tmp_path / 'mlflow.db'}",
        )


def test_the_evaluate_stage_takes_an_imported_checkpoint(shards, tmp_path):
    """As the stage does: load, check the windows against the shards' manifest, evaluate on the test split."""
    _, checkpoint = _imported("mel_2bar flat", tmp_path)
    loaded = generation.load(checkpoint)
    model = loaded.model
    folder = shards / "mel_2bar"
    representations.check_same(loaded.representation, str(checkpoint), representations.of_shards(folder), str(folder))
    settings = yaml.safe_load(PARAMS.read_text())["eval"] | {
        "max_examples": 12,
        "draws": 2,
        "interpolation": {"pairs": 3, "steps": 5},
        "attributes": {"examples": 64, "quantile": 0.25, "amount": 1.0},
        "samples": {"n": 3, "temperature": 0.5, "compared": 16},
    }
    result = evaluate(model, folder, eval_settings(settings), tmp_path / "evaluate", tmp_path / "plots")
    assert 0 <= result["accuracy"]["greedy"] <= 1 and (tmp_path / "evaluate" / "samples").is_dir()
