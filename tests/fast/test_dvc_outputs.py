"""A user's checkpoint is never put where DVC deletes it: `musicvae import` and train.init_from refuse the pipeline's
outputs, in the project's own dvc.yaml, before anything is written or trained."""

import os

import pytest

from lightning_modules.dvc_outputs import owning_stage
from lightning_modules.experiment import load
from lightning_modules.init_from import Unusable
from lightning_modules.train import train
from tests.support.cli import invoke
from tests.support.dvc_repo import ROOT
from tests.support.training_settings import settings


@pytest.mark.parametrize(
    "path, owner",
    [
        ("models/imported.ckpt", ("train", "models")),
        ("models", ("train", "models")),
        ("reports/evaluate/x.ckpt", ("evaluate", "reports/evaluate")),
        ("data/corpus/a/b.mid", ("corpus", "data/corpus")),
        ("imports/imported.ckpt", None),
        ("data/corpus2/x.ckpt", None),  # a sibling whose name begins like an output's
    ],
)
def test_the_pipeline_outputs_are_read_from_dvc_yaml(path, owner):
    assert owning_stage(ROOT / path, ROOT) == owner


def test_import_into_models_is_refused_with_the_fix(tmp_path, monkeypatch):
    (tmp_path / "dvc.yaml").write_text((ROOT / "dvc.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    result = invoke("import", "magentajs", tmp_path / "any_folder", "--out", "models/imported.ckpt")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "models/imported.ckpt: lies in models, the train stage's output" in result.output
    assert "fix: keep it outside the pipeline's outputs, e.g. imports/imported.ckpt" in result.output
    assert not os.path.exists("models")


def test_init_from_inside_models_is_refused_before_training(shards, tmp_path, monkeypatch):
    (tmp_path / "dvc.yaml").write_text((ROOT / "dvc.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Unusable, match="train.init_from models/imported.ckpt: lies in models, the train stage's"):
        train(
            load("cat-mel_2bar_small-tf-cpu"),
            settings(init_from="models/imported.ckpt"),
            shards,
            tmp_path / "out",
            f"sqlite:///{tmp_path / 'mlflow.db'}",
        )
    assert not (tmp_path / "out").exists() and not (tmp_path / "mlflow.db").exists()
