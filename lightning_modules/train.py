"""The `train` stage: a named experiment config trained on the preprocess stage's shards, logged to MLflow.

    python -m lightning_modules.train --params params.yaml --shards data/shards --out models --report reports/train.json

`models/` holds last.ckpt, best.ckpt and run.json (the MLflow run id and a hash of the configuration, the data and
the code). When the stage is killed, rerunning it with all three unchanged resumes from last.ckpt and continues the
same MLflow run; otherwise it starts afresh and closes the killed run in MLflow as KILLED.

The model is built for the windows of the shards' manifest, and the best checkpoint is the one with the lowest
validation r_loss over the whole eval split: `val/loss` moves with β's schedule, and the ELBO at β = 1 charges the
KL that the configs' β < 1 and free bits deliberately allow (on the default model it stops falling at step 800
while r_loss falls to the end)."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

import lightning
import mlflow
import torch
import yaml
from lightning.pytorch.callbacks import ModelCheckpoint, Timer
from lightning.pytorch.loggers import MLFlowLogger
from lightning.pytorch.utilities import rank_zero_only

from lightning_modules import representations
from lightning_modules.allocator import keep_freed_memory
from lightning_modules.components.musicvae import MusicVAE
from lightning_modules.datamodule import ShardDataModule, read_tokens
from lightning_modules.experiment import Experiment, cut_as, load
from lightning_modules.init_from import Unusable, start_from
from lightning_modules.learning_monitor import LearningMonitor
from lightning_modules.quiet import ProgressBar, silence
from lightning_modules.settings import TrainSettings, train_settings
from lightning_modules.store import artifact_location, flatten, open_store, tracking_uri
from lightning_modules.vae_module import MusicVAEModule
from musicvae.provenance import code_sha256


def _git_commit() -> str:
    done = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else "unknown"


def precision(setting: str, accelerator: str) -> str:
    """'auto': on a CPU, bf16 autocast only with AMX tiles, where it is always faster; with avx512_bf16 alone it
    depends on the host (benchmarks/bench_train.py: 30-34 % slower on one, 1.8x faster on another, both without
    AMX), so auto keeps fp32 there and `bf16-mixed` is the user's choice after the benchmark; on a GPU, bf16-mixed
    where supported. Any other value is Lightning's own."""
    if setting.startswith("bf16") and accelerator == "cpu" and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        # oneDNN would fail at the first LSTM with "could not create a primitive descriptor"
        raise ValueError(
            f"train.precision {setting}: this CPU has no bfloat16 instructions (avx512_bf16 or AMX); "
            "use auto or 32-true"
        )
    if setting != "auto":
        return setting
    if accelerator == "cpu":
        return "bf16-mixed" if torch.cpu._is_amx_tile_supported() else "32-true"
    return "bf16-mixed" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "32-true"


def stopped_by(steps: int, settings: TrainSettings, seconds: float) -> str:
    """What ended training: the step budget, or the wall-clock cap (a safety limit whose result depends on load)."""
    if settings.max_steps is not None and steps >= settings.max_steps:
        return "max_steps"
    if settings.max_minutes and seconds >= 60 * settings.max_minutes:
        return "max_minutes"
    return "end"


@dataclass(frozen=True)
class Prepared:
    """The experiment cut as the shards' windows were (the architecture an init_from checkpoint's), its data, the
    weights to start from and the params MLflow records."""

    experiment: Experiment
    data: ShardDataModule
    initial: dict[str, torch.Tensor] | None
    params: dict

    @property
    def store_experiment(self) -> str:
        """The MLflow experiment that holds every run of the representation."""
        return f"musicvae-{self.experiment.representation.name}"


@dataclass(frozen=True)
class Resume:
    """What models/run.json says of the last run in this folder: `status` "running" while it trains (a run killed
    midway keeps it), "finished" once it has written its results."""

    previous: dict

    @property
    def killed(self) -> bool:
        return self.previous.get("status") == "running"

    def continues(self, config_hash: str, out: Path) -> bool:
        """Only a killed run whose params, data and code are all unchanged continues, from its last.ckpt."""
        return self.killed and self.previous["config_hash"] == config_hash and (out / "last.ckpt").exists()


def prepare(experiment: Experiment, settings: TrainSettings, shards: Path) -> Prepared:
    folder = shards / experiment.representation.name
    experiment = cut_as(experiment, representations.of_shards(folder))
    initial, init_sha = None, None
    if settings.init_from:  # e.g. a released Magenta model to fine-tune; its architecture replaces the config's
        experiment, initial, init_sha = start_from(settings.init_from, experiment)
    rep = experiment.representation
    data = ShardDataModule(folder, experiment.batch_size, settings.num_workers, settings.seed, experiment.data, rep)
    params = {
        "config": experiment.name,
        "representation": asdict(rep),
        "batch_size": experiment.batch_size,
        "model": asdict(experiment.model),
        "training": asdict(experiment.training),
        "data": asdict(experiment.data),
        "train": asdict(settings),
        "data_manifest_sha256": hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest(),
    } | ({"init_from_sha256": init_sha} if init_sha else {})
    return Prepared(experiment, data, initial, params)


def config_hash(params: dict) -> str:
    """Of the configuration, the data and the code: what must be unchanged for a killed run to continue."""
    code = {"code_sha256": code_sha256("lightning_modules.train")}
    return hashlib.sha256(json.dumps(params | code, sort_keys=True, default=str).encode()).hexdigest()


def open_run(prepared: Prepared, uri: str, resume: str | None) -> MLFlowLogger:
    """The MLflow run: a new one, or the killed run `resume` names, continued."""
    name, store_experiment = prepared.experiment.name, prepared.store_experiment
    open_store(uri, store_experiment)
    logger = MLFlowLogger(
        experiment_name=store_experiment,
        run_name=name,
        tracking_uri=uri,
        run_id=resume,
        artifact_location=artifact_location(uri),
        tags={
            "config": name,
            "data_manifest_sha256": prepared.params["data_manifest_sha256"],
            # DVC names each experiment it runs; MLflow's run name is the config's
            **({"dvc_experiment": os.environ["DVC_EXP_NAME"]} if "DVC_EXP_NAME" in os.environ else {}),
            "mlflow.source.git.commit": _git_commit(),
        },
        synchronous=False,
    )
    if resume is None:
        logger.log_hyperparams(flatten(prepared.params, "."))
    return logger


def trainer_for(
    settings: TrainSettings, out: Path, logger, callbacks: list, chosen_precision: str
) -> lightning.Trainer:
    unbounded = -1  # Lightning's "no limit"; epochs too, else its default stops at 1000 epochs
    return lightning.Trainer(
        max_steps=unbounded if settings.max_steps is None else settings.max_steps,
        max_epochs=unbounded,
        val_check_interval=settings.val_every_n_steps,
        check_val_every_n_epoch=None,
        log_every_n_steps=settings.log_every_n_steps,
        accelerator=settings.accelerator,
        strategy=settings.strategy,
        devices=settings.devices,
        num_nodes=settings.num_nodes,
        logger=logger,
        callbacks=[*callbacks, ProgressBar()],
        default_root_dir=out,
        deterministic=True,
        precision=chosen_precision,
    )


def train(
    experiment: Experiment, settings: TrainSettings, shards: Path, out: Path, uri: str, curves: Path | None = None
) -> dict:
    """Returns what run.json records."""
    lightning.seed_everything(settings.seed, workers=True)
    if settings.threads:
        torch.set_num_threads(settings.threads)
    kept = settings.keep_freed_memory and keep_freed_memory()
    chosen_precision = precision(settings.precision, settings.accelerator)  # before any run is opened
    prepared = prepare(experiment, settings, shards)
    digest = config_hash(prepared.params)
    record_path = out / "run.json"
    last = Resume(json.loads(record_path.read_text()) if record_path.exists() else {})
    resume = last.continues(digest, out)
    # Under DDP every process runs this function; only rank 0 (the launcher) touches files and the MLflow run.
    leader = rank_zero_only.rank == 0
    if not resume and leader:  # another configuration's checkpoints must not be resumed
        for stale in out.glob("*.ckpt"):
            stale.unlink()
        if last.killed:  # its process is gone and nothing will continue it
            close_killed(last.previous)
    logger = open_run(prepared, uri, last.previous["run_id"] if resume else None)
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "run_id": logger.run_id,
        "status": "running",
        "config_hash": digest,
        "config": prepared.experiment.name,
        "tracking_uri": uri,
        "experiment": prepared.store_experiment,
    }
    if leader:  # before fitting, so that a killed run can resume
        record_path.write_text(json.dumps(record, indent=1) + "\n")
    checkpoints = ModelCheckpoint(
        dirpath=out, filename="best", monitor="val/r_loss", save_last=True, save_top_k=1, enable_version_counter=False
    )
    monitor = LearningMonitor(
        read_tokens(prepared.data.folder, "eval")[: settings.monitor.windows],
        curves,
        settings.monitor.greedy,
    )
    # The wall-clock cap, and the training time it counts, across a killed run's sessions: the timer's elapsed time
    # travels in the checkpoint (Lightning's max_time is this callback too, but only when a cap is set).
    timer = Timer({"minutes": settings.max_minutes} if settings.max_minutes else None, verbose=False)
    trainer = trainer_for(settings, out, logger, [monitor, checkpoints, timer], chosen_precision)
    model = MusicVAE(prepared.experiment.model)
    if prepared.initial is not None:
        model.load_state_dict(prepared.initial)
    module = MusicVAEModule(model, prepared.experiment.training, prepared.experiment.representation)
    trainer.fit(module, prepared.data, ckpt_path=out / "last.ckpt" if resume else None)
    seconds = timer.time_elapsed("train")
    record |= {
        "status": "finished",
        "steps": trainer.global_step,
        "stopped_by": stopped_by(trainer.global_step, settings, seconds),
        "precision": chosen_precision,
        "kept_freed_memory": bool(kept),
        "world_size": trainer.world_size,
        "train_seconds": round(seconds, 1),
        "val_every_n_steps": settings.val_every_n_steps,
        "best_val_r_loss": float(checkpoints.best_model_score) if checkpoints.best_model_score is not None else None,
    }
    if monitor.last:
        record["learning"] = {k: v for k, v in monitor.last.items() if k != "kl_per_dim"}
    if trainer.is_global_zero:
        finish(logger, out, record, monitor)
        record_path.write_text(json.dumps(record, indent=1) + "\n")
        print(summary(record))
    return record


def finish(logger: MLFlowLogger, out: Path, record: dict, monitor: LearningMonitor) -> None:
    """The MLflow run's results: the best checkpoint, the training time and steps, how it stopped, the verdict."""
    best = out / "best.ckpt" if (out / "best.ckpt").exists() else out / "last.ckpt"
    logger.experiment.log_artifact(logger.run_id, str(best), "checkpoints")
    logger.experiment.log_metric(logger.run_id, "train_seconds", record["train_seconds"])
    logger.experiment.log_metric(logger.run_id, "train_steps", record["steps"])
    logger.experiment.set_tag(logger.run_id, "stopped_by", record["stopped_by"])
    if monitor.last:
        logger.experiment.set_tag(logger.run_id, "verdict", monitor.last["verdict"])


def close_killed(previous: dict) -> None:
    """A killed run that will not be resumed ends as KILLED, not RUNNING forever."""
    client = mlflow.MlflowClient(previous["tracking_uri"])
    try:
        if client.get_run(previous["run_id"]).info.status == "RUNNING":
            client.set_terminated(previous["run_id"], "KILLED")
    except mlflow.exceptions.MlflowException:  # a store since deleted or moved: nothing left to close
        pass


def summary(record: dict) -> str:
    """The one-line verdict the stage ends with."""
    cap = {
        "max_steps": "its step budget",
        "max_minutes": "the wall-clock cap (a busy machine does fewer steps)",
        "end": "the end of its data",
    }[record["stopped_by"]]
    learned = record.get("learning")  # none only when no step was trained
    if not learned:
        return f"train: {record['steps']} steps, stopped by {cap}; nothing trained, so no verdict"
    if record["steps"] < record["val_every_n_steps"]:
        return (
            f"train: too short to judge: {record['steps']} steps (stopped by {cap}), fewer than one validation "
            f"interval (train.val_every_n_steps {record['val_every_n_steps']}); at its end it was "
            f"{learned['verdict']}: teacher-forced accuracy {learned['accuracy']:.3f} against "
            f"{learned['majority_accuracy']:.3f} for the majority class"
        )
    return (
        f"train: {learned['verdict']} after {record['steps']} steps in {record['train_seconds']:.0f} s (stopped by "
        f"{cap}): teacher-forced accuracy "
        f"{learned['accuracy']:.3f} against {learned['majority_accuracy']:.3f} for the majority class, greedy "
        f"{learned['greedy_accuracy']:.3f} (against {learned['greedy_majority_accuracy']:.3f} on its windows), "
        f"{learned['active_units']} active units, shuffled-code gap {learned['gap_nats']:.1f} nats "
        f"({100 * learned['gap_share']:.1f} % of r_loss)"
    )


# A `dvc exp run -S` writes its values into params.yaml before the stages run, and a failed one leaves them there
FAILED_VARIANT = (
    "params.yaml holds the values of the last `dvc exp run -S`, a failed one's too; "
    "`git checkout params.yaml` restores the committed ones"
)


def main(argv: list[str] | None = None) -> None:
    silence()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--shards", default="data/shards", type=Path)
    parser.add_argument("--out", default="models", type=Path)
    parser.add_argument("--report", type=Path, help="the run record again, as DVC metrics")
    parser.add_argument("--curves", type=Path, help="the learning monitor's curves (CSV, and PNG at the end)")
    args = parser.parse_args(argv)
    params = yaml.safe_load(Path(args.params).read_text())
    uri = tracking_uri(params["mlflow"]["tracking_uri"])
    try:  # a mistyped key or value, missing shards, or shards cut for another model: the reason, not a traceback
        settings = train_settings(params["train"])
        experiment = load(params["model"]["config"], params["model"]["overrides"])
        cut_as(experiment, representations.of_shards(args.shards / experiment.representation.name))
        precision(settings.precision, settings.accelerator)
    except (ValueError, FileNotFoundError) as e:
        raise SystemExit(f"train: {e}\n  {FAILED_VARIANT}") from None
    try:
        record = train(experiment, settings, args.shards, args.out, uri, args.curves)
    except Unusable as e:
        raise SystemExit(f"train: {e}") from None
    if args.report and rank_zero_only.rank == 0:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
