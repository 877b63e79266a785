"""What the evaluate stage leaves behind: windows as MIDI and piano rolls, the listening page (Web Audio in any
browser; WAVs beside it when FluidSynth is installed), and all of it logged to the training run in MLflow."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import mlflow
import torch
from mlflow.entities import Metric

from lightning_modules.store import flatten
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
    """Metrics as `eval/...` and each output (by its artifact name, whatever its local path) under `evaluation/` of
    the training run named by models/run.json."""
    client = mlflow.MlflowClient(run["tracking_uri"])
    step = int(run.get("steps", 0))
    metrics = [
        Metric(f"eval/{k}", float(v), 0, step)
        for k, v in sorted(flatten(result, "/").items())
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    ]
    for start in range(0, len(metrics), 1000):  # one request per 1,000 metrics, MLflow's batch limit
        client.log_batch(run["run_id"], metrics=metrics[start : start + 1000])
    for name, path in outputs.items():
        if path.is_dir():
            client.log_artifacts(run["run_id"], str(path), f"{ARTIFACTS}/{name}")
        else:
            client.log_artifact(run["run_id"], str(path), ARTIFACTS)
        page = path / "listening.html"
        if page.exists():  # MLflow's copy plays its audio from this run's artifacts; the file on disk stays as is
            with tempfile.TemporaryDirectory() as tmp:
                copy = Path(tmp) / page.name
                copy.write_text(page.read_text().replace("run_uuid=RUN", f"run_uuid={run['run_id']}"))
                client.log_artifact(run["run_id"], str(copy), f"{ARTIFACTS}/{name}")
    log.info("logged to MLflow run %s at %s", run["run_id"], run["tracking_uri"])
