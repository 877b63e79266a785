"""Training that takes minutes: real windows overfitted, and runs killed midway that resume or start afresh."""

import json
import shutil
import subprocess
from dataclasses import asdict, replace
from pathlib import Path

import lightning
import mlflow
import torch
import yaml

from lightning_modules.components.musicvae import MusicVAE
from lightning_modules.datamodule import read_tokens
from lightning_modules.experiment import load
from lightning_modules.settings import train_settings
from lightning_modules.train import train
from lightning_modules.vae_module import MusicVAEModule
from tests.support import ROOT
from tests.support.killing import kill_after
from tests.support.training_settings import SHORT, bare_trainer, train_stage


def test_overfits_16_real_windows(shards):
    """Teacher-forced accuracy on 16 real 2-bar windows reaches 0.95 within a bounded number of steps."""
    experiment = load("cat-mel_2bar_small")
    model = MusicVAE(replace(experiment.model, z_size=32, enc_rnn_size=(64,), dec_rnn_size=(64,)))
    training = replace(
        experiment.training, learning_rate=1e-2, max_beta=0.0, sampling_rate=0.0, sampling_schedule="constant"
    )
    module = MusicVAEModule(model, training, experiment.representation)
    windows = read_tokens(shards / "mel_2bar", "train")[:16]
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(windows), batch_size=16)
    stop = lightning.pytorch.callbacks.EarlyStopping(
        "train/accuracy", mode="max", stopping_threshold=0.95, patience=10**6, check_on_train_epoch_end=True
    )
    lightning.seed_everything(0)
    trainer = bare_trainer(max_steps=1000, callbacks=[stop], log_every_n_steps=1)
    trainer.fit(module, loader)
    assert trainer.callback_metrics["train/accuracy"] >= 0.95
    assert trainer.global_step < 1000


def _train_and_kill(shards, tmp_path, code: Path = ROOT, **changes) -> tuple[dict, int]:
    """The train stage as DVC runs it (the code of `code`, `train` params changed by `changes`), SIGKILLed after its
    10th step's checkpoint."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["model"] = {"config": "debug", "overrides": {}}
    params["train"] |= asdict(SHORT) | {"max_steps": 400, "val_every_n_steps": 5} | changes
    params["mlflow"]["tracking_uri"] = f"sqlite:///{tmp_path / 'mlflow.db'}"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    proc = subprocess.Popen(
        train_stage(tmp_path, shards),
        cwd=code,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return params, kill_after(proc, tmp_path / "models/last.ckpt", 10)


def test_a_resumed_run_counts_its_earlier_sessions_against_the_wall_clock_cap(shards, tmp_path):
    """A run killed after an hour of training, resumed under a 60-minute cap, stops at once and says the cap
    stopped it: the earlier session's time travels in the checkpoint."""
    params, killed_at = _train_and_kill(shards, tmp_path, max_minutes=60)
    checkpoint = torch.load(tmp_path / "models/last.ckpt", weights_only=True)
    checkpoint["callbacks"]["Timer"]["time_elapsed"]["train"] = 3600.0  # as if that session had trained an hour
    torch.save(checkpoint, tmp_path / "models/last.ckpt")
    record = train(
        load("debug"), train_settings(params["train"]), shards, tmp_path / "models", params["mlflow"]["tracking_uri"]
    )
    assert record["stopped_by"] == "max_minutes" and record["steps"] == killed_at < 400
    assert record["train_seconds"] >= 3600


def test_a_killed_run_whose_code_changed_starts_afresh_and_ends_killed(shards, tmp_path):
    """DVC reruns `train` when its code changed after a kill: the old weights must not continue under the new code,
    and the old MLflow run must not stay RUNNING."""
    code = tmp_path / "code"
    for package in ("musicvae", "lightning_modules", "experiments"):
        shutil.copytree(ROOT / package, code / package, ignore=shutil.ignore_patterns("__pycache__"))
    params, _ = _train_and_kill(shards, tmp_path, code)
    first_run = json.loads((tmp_path / "models/run.json").read_text())["run_id"]
    with (code / "lightning_modules/components/objective.py").open("a") as f:
        f.write("# a change to the loss's module\n")
    params["train"]["max_steps"] = 12
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    done = subprocess.run(
        train_stage(tmp_path, shards),
        cwd=code,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    second_run = json.loads((tmp_path / "models/run.json").read_text())["run_id"]
    client = mlflow.MlflowClient(params["mlflow"]["tracking_uri"])
    assert second_run != first_run
    assert client.get_run(first_run).info.status == "KILLED"
    assert client.get_run(second_run).info.status == "FINISHED"
    assert min(m.step for m in client.get_metric_history(second_run, "train/loss")) == 0  # from scratch
