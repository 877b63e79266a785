"""What the evaluate stage leaves behind: windows as MIDI and piano rolls, the listening page (Web Audio in any
browser; WAVs beside it when FluidSynth is installed), and all of it logged to MLflow as an evaluation run nested
under the training run."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import mlflow
import torch
from mlflow.entities import Metric, Param
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from lightning_modules.store import STAGE, flatten
from musicvae import export, figures, listening

log = logging.getLogger("musicvae.evaluate")
ARTIFACTS = "evaluation"  # the MLflow artifact folder of the evaluate stage's outputs


def write_windows(folder: Path, kind: str, tokens: list[torch.Tensor], labels: list[str]) -> dict:
    """`NN.mid` per window (Magenta's output programs, 120 qpm) and `folder.png` with their piano rolls; returns
    the files, labels and token arrays."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = [t.numpy() for t in tokens]
    midi = []
    for i, array in enumerate(arrays):
        path = folder / f"{i:02d}.mid"
        path.write_bytes(export.to_midi(export.window_parts(kind, array)))
        midi.append(path)
    png = figures.piano_roll_png(kind, arrays, labels, folder.name)
    folder.with_suffix(".png").write_bytes(png)
    return {"midi": midi, "labels": labels, "png": png, "arrays": arrays}


def write_listening(out: Path, written: dict[str, dict], kind: str) -> str:
    """`listening.html`: every window of each group, its roll and a Web Audio player, with its WAV when FluidSynth
    renders one; returns what happened."""
    synth, why = listening.synthesizer()
    sections = []
    for name, group in written.items():
        windows = []
        for midi, label, array in zip(group["midi"], group["labels"], group["arrays"]):
            wav = []
            if synth is not None:
                path = out / "audio" / name / midi.with_suffix(".wav").name
                path.parent.mkdir(parents=True, exist_ok=True)
                listening.render_wav(midi.read_bytes(), path, synth)
                relative = path.relative_to(out).as_posix()
                # beside the page on disk; through the MLflow server's artifact route in its UI (see log_to_mlflow)
                wav = [relative, f"get-artifact?path={ARTIFACTS}/evaluate/{relative}&run_uuid=RUN"]
            windows.append(
                {
                    "label": label,
                    "png": figures.piano_roll_png(kind, [array], [label]),
                    "wav": wav,
                    "sequence": {"qpm": 120.0, "steps": len(array), "parts": export.sequence_parts(kind, array)},
                }
            )
        sections.append((name, windows))
    (out / "listening.html").write_text(listening.page("MusicVAE evaluation", sections))
    if synth is None:
        log.info("audio: the listening page plays in the browser; no WAVs, %s", why)
        return f"web audio only: {why}"
    log.info("audio: rendered with %s", why)
    return "rendered"


def log_to_mlflow(run: dict, result: dict, outputs: dict[str, Path]) -> None:
    """A run of its own, nested under the training run that models/run.json names, with the metrics as `eval/...`
    and each output (by its artifact name, whatever its local path) under `evaluation/`.

    Its own run because MLflow's UI sorts a run's metric sections by name: logged to the training run, the
    fifteen single-point `eval/...` sections came before its `train` and `val` curves. The training run's params
    are copied, so that evaluation runs compare in the runs table by themselves."""
    client = mlflow.MlflowClient(run["tracking_uri"])
    training = client.get_run(run["run_id"])
    evaluation = client.create_run(
        training.info.experiment_id,
        run_name=f"{training.info.run_name} · evaluate",
        tags={MLFLOW_PARENT_RUN_ID: run["run_id"], STAGE: "evaluate"},
    ).info.run_id
    step = int(run.get("steps", 0))
    params = [Param(k, v) for k, v in sorted(training.data.params.items())]
    metrics = [
        Metric(f"eval/{k}", float(v), 0, step)
        for k, v in sorted(flatten(result, "/").items())
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    ]
    for start in range(0, len(params), 100):  # MLflow's batch limits: 100 params, 1,000 metrics a request
        client.log_batch(evaluation, params=params[start : start + 100])
    for start in range(0, len(metrics), 1000):
        client.log_batch(evaluation, metrics=metrics[start : start + 1000])
    for name, path in outputs.items():
        if path.is_dir():
            client.log_artifacts(evaluation, str(path), f"{ARTIFACTS}/{name}")
        else:
            client.log_artifact(evaluation, str(path), ARTIFACTS)
        page = path / "listening.html"
        if page.exists():  # MLflow's copy plays its audio from this run's artifacts; the file on disk stays as is
            with tempfile.TemporaryDirectory() as tmp:
                copy = Path(tmp) / page.name
                copy.write_text(page.read_text().replace("run_uuid=RUN", f"run_uuid={evaluation}"))
                client.log_artifact(evaluation, str(copy), f"{ARTIFACTS}/{name}")
    client.set_terminated(evaluation)
    log.info("logged to MLflow run %s, under training run %s, at %s", evaluation, run["run_id"], run["tracking_uri"])
