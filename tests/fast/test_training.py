"""Lightning training on real shards: one CPU step, overfitting, checkpoints, MLflow and kill-and-resume."""

import sys
from dataclasses import replace

import mlflow
import pytest
import torch

from lightning_modules import store
from lightning_modules.checkpoint import load_model
from lightning_modules.components.musicvae import MusicVAE
from lightning_modules.datamodule import ShardDataModule, read_tokens
from lightning_modules.experiment import load
from lightning_modules.train import precision, train
from lightning_modules.vae_module import MusicVAEModule
from musicvae import learning
from tests.support.training_settings import SHORT, bare_trainer, settings


def test_one_training_step_on_cpu_changes_the_weights(shards):
    experiment = load("debug")
    module = MusicVAEModule(MusicVAE(experiment.model), experiment.training, experiment.representation)
    before = [p.detach().clone() for p in module.parameters()]
    bare_trainer(max_steps=1, limit_val_batches=0).fit(module, ShardDataModule(shards / "mel_16bar", 8))
    assert all(torch.isfinite(p).all() for p in module.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, module.parameters()))


def test_checkpoint_loads_safely_to_identical_outputs(shards, tmp_path):
    experiment = load("debug")
    module = MusicVAEModule(MusicVAE(experiment.model), experiment.training, experiment.representation)
    trainer = bare_trainer(max_steps=2, limit_val_batches=0)
    trainer.fit(module, ShardDataModule(shards / "mel_16bar", 8))
    trainer.save_checkpoint(tmp_path / "model.ckpt")
    loaded = load_model(tmp_path / "model.ckpt").model  # torch.load(weights_only=True)
    tokens = read_tokens(shards / "mel_16bar", "train")[:4].long()
    module.model.eval()
    _, mu, _ = module.model.encode(tokens)
    _, mu_loaded, _ = loaded.encode(tokens)
    assert torch.equal(mu, mu_loaded)
    for a, b in zip(module.model.decode_teacher_forced(mu, tokens), loaded.decode_teacher_forced(mu, tokens)):
        assert torch.equal(a, b)


def test_train_logs_params_metrics_and_checkpoint_to_a_sqlite_mlflow_store(shards, tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    record = train(load("debug"), SHORT, shards, tmp_path / "models", uri)
    client = mlflow.MlflowClient(uri)
    run_ = client.get_run(record["run_id"])
    assert run_.data.params["config"] == "debug" and run_.data.params["model.hierarchical"] == "True"
    assert run_.data.tags["data_manifest_sha256"] == run_.data.params["data_manifest_sha256"]
    assert client.get_experiment(run_.info.experiment_id).name == "musicvae-mel_16bar"
    history = client.get_metric_history(record["run_id"], "train/loss")
    assert len(history) >= 3 and sorted(m.step for m in history) == [m.step for m in history]
    for name in (
        "train/r_loss",
        "train/kl_loss",
        "train/kl_bits",
        "train/beta",
        "train/lr",
        "val/accuracy",
        "val/accuracy/bar_15",
    ):
        assert client.get_metric_history(record["run_id"], name), name
    assert [a.path for a in client.list_artifacts(record["run_id"], "checkpoints")] == ["checkpoints/best.ckpt"]
    assert (tmp_path / "mlartifacts").is_dir()  # beside the store, wherever the stage ran
    assert record["steps"] == 12 and (tmp_path / "models/last.ckpt").exists()
    assert record["stopped_by"] == "max_steps" and record["learning"]["step"] == 12
    assert record["kept_freed_memory"] is sys.platform.startswith("linux")  # params.yaml's keep_freed_memory: true
    for name in (
        "monitor/majority_accuracy",
        "monitor/greedy_accuracy",
        "monitor/active_units",
        "monitor/gap_nats",
        "monitor/gap_share",
        "z/kl_dim_07",
        "monitor/grad_z",
        "monitor/conductor_scale",
        "monitor/greedy_pitch_at_onset",
    ):
        assert [m.step for m in client.get_metric_history(record["run_id"], name)] == [6, 12], name
    assert (
        torch.load(tmp_path / "models/best.ckpt", weights_only=True)["learning"]["verdict"]
        == record["learning"]["verdict"]
    )
    again = train(load("debug"), SHORT, shards, tmp_path / "models", uri)  # DVC reruns a finished stage afresh
    assert again["run_id"] != record["run_id"] and again["steps"] == 12


def test_learning_curves_are_written_at_every_validation_and_drawn_at_the_end(shards, tmp_path):
    curves = tmp_path / "plots/learning.csv"
    record = train(
        load("debug"),
        replace(SHORT, precision="32-true"),
        shards,
        tmp_path / "models",
        f"sqlite:///{tmp_path / 'mlflow.db'}",
        curves,
    )
    rows = curves.read_text().splitlines()
    assert rows[0].startswith("step,majority_accuracy,accuracy,greedy_accuracy,active_fraction,gap_share")
    assert [int(r.split(",")[0]) for r in rows[1:]] == [6, 12]
    assert curves.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    assert curves.with_name("kl_per_dim.png").read_bytes().startswith(b"\x89PNG")
    assert "kl_per_dim" not in rows[0]  # a picture of its own, not 64 columns of the curves
    assert record["precision"] == "32-true"


def test_a_run_shorter_than_one_validation_interval_still_has_curves_and_a_verdict(shards, tmp_path, capsys):
    curves = tmp_path / "plots/learning.csv"
    record = train(
        load("debug"),
        replace(SHORT, max_steps=4, val_every_n_steps=200),
        shards,
        tmp_path / "models",
        f"sqlite:///{tmp_path / 'mlflow.db'}",
        curves,
    )
    assert [int(r.split(",")[0]) for r in curves.read_text().splitlines()[1:]] == [4]  # measured at its end
    assert curves.with_suffix(".png").exists() and curves.with_name("kl_per_dim.png").exists()
    assert record["learning"]["step"] == 4 and record["learning"]["verdict"] in learning.VERDICTS
    assert "train: too short to judge: 4 steps" in capsys.readouterr().out


def test_bf16_on_a_cpu_without_bfloat16_instructions_is_refused_with_the_reason():
    if torch.ops.mkldnn._is_mkldnn_bf16_supported():
        assert precision("bf16-mixed", "cpu") == "bf16-mixed"
    else:  # oneDNN's own error at the first LSTM says nothing a user can act on
        with pytest.raises(ValueError, match="this CPU has no bfloat16 instructions.*use auto or 32-true"):
            precision("bf16-mixed", "cpu")
    assert precision("32-true", "cpu") == "32-true"


def test_stopped_by_names_the_cap_that_ended_training():
    from lightning_modules.train import stopped_by, summary

    capped = settings(max_steps=300, max_minutes=4)
    assert stopped_by(300, capped, 100.0) == "max_steps"
    assert stopped_by(62, capped, 240.5) == "max_minutes"
    line = summary(
        {
            "steps": 62,
            "stopped_by": "max_minutes",
            "val_every_n_steps": 20,
            "train_seconds": 240.5,
            "learning": {
                "verdict": "at baseline",
                "accuracy": 0.61,
                "majority_accuracy": 0.61,
                "greedy_accuracy": 0.59,
                "greedy_majority_accuracy": 0.6,
                "active_units": 0,
                "gap_nats": 0.0,
                "gap_share": 0.0,
            },
        }
    )
    assert line.startswith("train: at baseline after 62 steps in 240 s (stopped by the wall-clock cap")


def test_the_default_store_of_a_queued_copy_is_the_projects(tmp_path):
    copy = tmp_path / "project/.dvc/tmp/exps/tmpab12cd"
    assert store.project_root(copy) == store.project_root(tmp_path / "project") == tmp_path / "project"
    assert store.project_root(copy / "sub") == tmp_path / "project"
