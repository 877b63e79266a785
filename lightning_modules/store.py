"""The project's MLflow store: where it is by default, creating it safely, where its artifacts go, and nested
params or metrics flattened to MLflow's keys. Shared by training, evaluation, the command and comparisons."""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock

SQLITE = "sqlite:///"
STAGE = "stage"  # the tag of an evaluation run ("evaluate"), nested under the training run it evaluated


def tracking_uri(configured: str | None) -> str:
    """By default an absolute SQLite URI to the project's `mlflow.db` (Lightning's file-store default is refused by
    MLflow 3), the same store for experiments that DVC runs in temporary copies."""
    return configured or f"{SQLITE}{project_root(Path.cwd().resolve()) / 'mlflow.db'}"


def project_root(folder: Path) -> Path:
    """The project `folder` belongs to: `dvc exp run --queue` and `--temp` run in copies under
    <project>/.dvc/tmp/exps/, and a store there would vanish with the copy."""
    parts = folder.parts
    for i in range(len(parts) - 2):
        if parts[i : i + 3] == (".dvc", "tmp", "exps"):
            return Path(*parts[:i])
    return folder


def _database(uri: str) -> Path | None:
    return Path(uri.removeprefix(SQLITE)) if uri.startswith(SQLITE) else None


def open_store(uri: str, experiment: str) -> None:
    """Creates a SQLite store and its `experiment` under a file lock: two runs starting together on a new store
    (`dvc queue start -j 2`) would otherwise race MLflow's schema migrations ("duplicate column"), then the
    experiment's creation (MLFlowLogger looks it up and creates it, and the second creation fails)."""
    import mlflow  # the [train] extra's: the commands on a trained model read only tracking_uri

    db = _database(uri)
    if db is not None:
        db.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(f"{db}.lock"):
            client = mlflow.MlflowClient(uri)
            if client.get_experiment_by_name(experiment) is None:
                client.create_experiment(experiment, artifact_location=artifact_location(uri))


def artifact_location(uri: str) -> str | None:
    """Artifacts beside a SQLite store: MLflow's default is ./mlruns of the folder the stage runs in, which for
    `dvc exp run --queue` is a temporary copy. A tracking server decides for itself (None)."""
    db = _database(uri)
    return (db.parent / "mlartifacts").as_uri() if db is not None else None


def flatten(tree: dict, separator: str, prefix: str = "") -> dict:
    """{"a": {"b": 1}} → {"a<separator>b": 1}."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat |= flatten(value, separator, f"{prefix}{key}{separator}")
        else:
            flat[f"{prefix}{key}"] = value
    return flat
