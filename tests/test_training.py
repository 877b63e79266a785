"""Lightning training on real shards: one CPU step, overfitting, checkpoints, MLflow and kill-and-resume."""

import json
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import lightning
import mlflow
import pytest
import torch
import yaml

from lightning_modules import store
from lightning_modules.checkpoint import load_model
from lightning_modules.components.musicvae import MusicVAE
from lightning_modules.datamodule import ShardDataModule, read_tokens
from lightning_modules.experiment import load
from lightning_modules.settings import train_settings
from lightning_modules.train import precision, train
from lightning_modules.vae_module import MusicVAEModule
from musicvae import learning
from tests.killing import kill_after
from tests.portable_job import free_port
from tests.training_settings import settings

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = settings(max_steps=12, val_every_n_steps=6)


def _trainer(**kwargs) -> lightning.Trainer:
    return lightning.Trainer(
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        **kwargs,
    )


def test_one_training_step_on_cpu_changes_the_weights(shards):
    experiment = load("debug")
    module = MusicVAEModule(MusicVAE(experiment.model), experiment.training, experiment.representation)
    before = [p.detach().clone() for p in module.parameters()]
    _trainer(max_steps=1, limit_val_batches=0).fit(module, ShardDataModule(shards / "mel_16bar", 8))
    assert all(torch.isfinite(p).all() for p in module.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, module.parameters()))


@pytest.mark.slow
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
    trainer = _trainer(max_steps=1000, callbacks=[stop], log_every_n_steps=1)
    trainer.fit(module, loader)
    assert trainer.callback_metrics["train/accuracy"] >= 0.95
    assert trainer.global_step < 1000


def test_checkpoint_loads_safely_to_identical_outputs(shards, tmp_path):
    experiment = load("debug")
    module = MusicVAEModule(MusicVAE(experiment.model), experiment.training, experiment.representation)
    trainer = _trainer(max_steps=2, limit_val_batches=0)
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
    record = train(load("debug"), SETTINGS, shards, tmp_path / "models", uri)
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
    again = train(load("debug"), SETTINGS, shards, tmp_path / "models", uri)  # DVC reruns a finished stage afresh
    assert again["run_id"] != record["run_id"] and again["steps"] == 12


def test_learning_curves_are_written_at_every_validation_and_drawn_at_the_end(shards, tmp_path):
    curves = tmp_path / "plots/learning.csv"
    record = train(
        load("debug"),
        replace(SETTINGS, precision="32-true"),
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
        replace(SETTINGS, max_steps=4, val_every_n_steps=200),
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


def _train_and_kill(shards, tmp_path, code: Path = ROOT, **changes) -> tuple[dict, int]:
    """The train stage as DVC runs it (the code of `code`, `train` params changed by `changes`), SIGKILLed after its
    10th step's checkpoint."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["model"] = {"config": "debug", "overrides": {}}
    params["train"] |= asdict(SETTINGS) | {"max_steps": 400, "val_every_n_steps": 5} | changes
    params["mlflow"]["tracking_uri"] = f"sqlite:///{tmp_path / 'mlflow.db'}"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    argv = [
        sys.executable,
        "-m",
        "lightning_modules.train",
        "--params",
        str(tmp_path / "params.yaml"),
        "--shards",
        str(shards),
        "--out",
        str(tmp_path / "models"),
    ]
    proc = subprocess.Popen(
        argv, cwd=code, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    return params, kill_after(proc, tmp_path / "models/last.ckpt", 10)


@pytest.mark.slow
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


@pytest.mark.slow
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
        [
            sys.executable,
            "-m",
            "lightning_modules.train",
            "--params",
            str(tmp_path / "params.yaml"),
            "--shards",
            str(shards),
            "--out",
            str(tmp_path / "models"),
        ],
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


@pytest.mark.system
@pytest.mark.parametrize("nodes", [1, 2])
def test_two_process_ddp_on_cpu_trains_and_logs_one_run(shards, tmp_path, nodes):
    """strategy/devices/num_nodes come from params: two gloo processes train together and rank 0 alone records the
    run. On one node Lightning starts both; as two nodes each is started by torchrun, as on a cluster."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["model"] = {"config": "debug", "overrides": {}}
    params["train"] |= asdict(SETTINGS) | {
        "max_steps": 4,
        "val_every_n_steps": 2,
        "strategy": "ddp",
        "devices": 2 // nodes,
        "num_nodes": nodes,
    }
    params["mlflow"]["tracking_uri"] = f"sqlite:///{tmp_path / 'mlflow.db'}"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    stage = [
        "-m",
        "lightning_modules.train",
        "--params",
        str(tmp_path / "params.yaml"),
        "--shards",
        str(shards),
        "--out",
        str(tmp_path / "models"),
        "--report",
        str(tmp_path / "train.json"),
    ]
    if nodes == 1:
        launches = [[sys.executable, *stage]]
    else:
        torchrun, port = Path(sys.executable).parent / "torchrun", str(free_port())
        launches = [
            [
                torchrun,
                "--nnodes",
                "2",
                "--nproc-per-node",
                "1",
                "--node-rank",
                str(rank),
                "--master-addr",
                "127.0.0.1",
                "--master-port",
                port,
                *stage,
            ]
            for rank in (0, 1)
        ]
    logs = [tmp_path / f"rank{i}.log" for i in range(len(launches))]  # files: a full pipe would block a rank
    procs = [
        subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("w"))
        for argv, log in zip(launches, logs)
    ]
    deadline = time.monotonic() + 300
    try:
        while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:  # a rank whose peer died waits for it forever
        for p in procs:
            p.kill()
            p.wait()
    assert all(p.returncode == 0 for p in procs), [log.read_text()[-3000:] for log in logs]
    record = json.loads((tmp_path / "train.json").read_text())
    assert record["world_size"] == 2 and record["steps"] == 4
    assert json.loads((tmp_path / "models/run.json").read_text())["run_id"] == record["run_id"]
    client = mlflow.MlflowClient(params["mlflow"]["tracking_uri"])
    assert len(client.search_runs([client.get_experiment_by_name("musicvae-mel_16bar").experiment_id])) == 1
    assert [m.step for m in client.get_metric_history(record["run_id"], "train/loss")] == [0, 1, 2, 3]


@pytest.mark.system
def test_runs_starting_together_on_a_new_store_do_not_race_its_creation(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    code = f"from lightning_modules.store import open_store; open_store({uri!r}, 'musicvae-mel_16bar')"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True) for _ in range(4)
    ]
    failures = [p.stderr.read()[-500:] for p in procs if p.wait() != 0]
    assert not failures, failures
    made = [e for e in mlflow.MlflowClient(uri).search_experiments() if e.name == "musicvae-mel_16bar"]
    assert len(made) == 1 and made[0].artifact_location == (tmp_path / "mlartifacts").as_uri()


def test_the_default_store_of_a_queued_copy_is_the_projects(tmp_path):
    copy = tmp_path / "project/.dvc/tmp/exps/tmpab12cd"
    assert store.project_root(copy) == store.project_root(tmp_path / "project") == tmp_path / "project"
    assert store.project_root(copy / "sub") == tmp_path / "project"
