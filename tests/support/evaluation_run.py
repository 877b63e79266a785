"""The evaluate stage in tests: run with small counts, and its MLflow run found as a user finds it (nested under the
training run)."""

from pathlib import Path

import mlflow
import yaml

from lightning_modules import evaluate
from tests.support import PARAMS


def evaluation_run(client: mlflow.MlflowClient, training_run_id: str):
    """The latest evaluation run nested under a training run."""
    training = client.get_run(training_run_id)
    return client.search_runs(
        [training.info.experiment_id],
        f"tags.mlflow.parentRunId = '{training_run_id}' and tags.stage = 'evaluate'",
        order_by=["attributes.start_time DESC"],
    )[0]


def small_eval_params(tmp_path: Path, **changes) -> Path:
    """params.yaml with the evaluate stage's counts cut to seconds' work and `eval` changed by `changes`, written
    into tmp_path."""
    params = yaml.safe_load(PARAMS.read_text())
    params["eval"] |= {
        "max_examples": 12,
        "draws": 2,
        "interpolation": {"pairs": 3, "steps": 5},
        "attributes": {"examples": 64, "quantile": 0.25, "amount": 1.0},
        "samples": {"n": 3, "temperature": 0.5, "compared": 16},
        "external": {},  # the default's held-out chorales exist only where the corpus stage ran
    } | changes
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    return path


def run_evaluate(models: Path, shards: Path, params: Path, reports: Path) -> None:
    """The evaluate stage on the model in `models`, its outputs under `reports`."""
    evaluate.main(
        [
            "--params",
            str(params),
            "--shards",
            str(shards),
            "--model",
            str(models),
            "--out",
            str(reports / "evaluate"),
            "--metrics",
            str(reports / "metrics.json"),
            "--plots",
            str(reports / "plots"),
        ]
    )


def heard_groups(reports: Path) -> list[Path]:
    """The MIDI files the listening page plays: one player each."""
    return [
        m
        for group in ("samples", "interpolation", "reconstruction", "endpoints")
        for m in (reports / "evaluate" / group).glob("*.mid")
    ]
