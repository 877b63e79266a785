"""The evaluate stage on a checkpoint trained in the session: every declared output, MLflow, determinism, audio."""

import json

import mlflow
import pytest
import torch
import yaml

from lightning_modules import evaluate
from lightning_modules.components.musicvae import ModelConfig, MusicVAE
from lightning_modules.settings import eval_settings
from musicvae import learning, listening
from tests.support import ROOT, system
from tests.support.evaluation_run import evaluation_run, heard_groups, run_evaluate, small_eval_params


def test_stage_writes_every_declared_output(reports, trained):
    stage = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["evaluate"]
    declared = [next(iter(o)) if isinstance(o, dict) else o for o in stage["outs"] + stage["metrics"] + stage["plots"]]
    for path in declared:
        assert (reports.parent / path).exists(), path
    metrics = json.loads((reports / "metrics.json").read_text())
    assert set(metrics["accuracy"]) == {"teacher_forced", "sampled", "greedy"}
    shown = json.loads((reports / "headline.json").read_text())  # what DVC shows: the same numbers, rounded
    assert shown["accuracy"] == {k: round(v, 4) for k, v in metrics["accuracy"].items()}
    assert shown["majority_accuracy"] == round(metrics["learning"]["majority_accuracy"], 4)
    assert shown["notes"]["greedy_pitch_at_onset"] == round(metrics["notes"]["greedy"]["pitch_at_onset"], 4)
    assert shown["train"]["steps"] == json.loads((trained["models"] / "run.json").read_text())["steps"]
    assert all(0 <= v <= 1 for v in metrics["accuracy"].values())
    assert set(metrics["notes"]) == set(metrics["accuracy"])  # a melody: rhythm and pitch of every mode
    assert all(
        set(n) == {"onset_recall", "pitch_at_onset", "onset_precision"} and n["pitch_at_onset"] <= n["onset_recall"]
        for n in metrics["notes"].values()
    )
    assert metrics["kl_bits"] > 0 and metrics["elbo"] < 0 and 0 <= metrics["active_units"] <= metrics["z_size"]
    assert metrics["test_windows"] == 12 and metrics["interpolation"]["pairs"] == 3
    assert metrics["learning"]["verdict"] in learning.VERDICTS
    assert 0 < metrics["learning"]["majority_accuracy"] < 1
    assert set(metrics["empty_outputs"]) == {"reconstruction", "samples", "interpolation"}
    assert set(metrics["attributes"]["effect"]) == {
        "note_density",
        "average_interval",
        "syncopation_8th",
        "syncopation_16th",
        "c_dim_triad",
    }
    realism = metrics["samples"]  # the prior's samples against the test windows, beside real windows against them
    assert realism["compared"] == 16 and set(realism["attribute_overlap"]) == set(metrics["attributes"]["effect"]) | {
        "mean"
    }
    assert all(0 <= v <= 1 for v in realism["attribute_overlap"].values()) and 0 < realism["ceiling"] <= 1
    assert shown["samples_attribute_overlap"] == round(realism["attribute_overlap"]["mean"], 4)
    per_bar = (reports / "plots/accuracy_per_bar.csv").read_text().splitlines()
    assert per_bar[0] == "bar,teacher_forced,sampled,greedy" and len(per_bar) == 1 + 16
    curve = (reports / "plots/interpolation.csv").read_text().splitlines()
    # The latent path from A to B needs a model that has learned: tests/slow/test_model_behaviour.py.
    assert curve[0] == "step,t,latent_hamming,data_hamming" and len(curve) == 1 + 5
    out = reports / "evaluate"
    assert len(list((out / "samples").glob("*.mid"))) == 3 and len(list((out / "interpolation").glob("*.mid"))) == 5
    assert len(list((out / "endpoints").glob("*.mid"))) == 2  # the test windows the README's interpolate reads
    for png in ("samples.png", "interpolation.png", "reconstruction.png", "attribute_effects.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_stage_logs_an_evaluation_run_under_the_training_run(trained, reports):
    client = mlflow.MlflowClient(trained["uri"])
    training, run = client.get_run(trained["run_id"]), evaluation_run(client, trained["run_id"])
    assert run.info.run_name == f"{training.info.run_name} · evaluate" and run.info.status == "FINISHED"
    assert run.data.params == training.data.params  # comparable in MLflow's runs table by itself
    # the training run keeps its curves alone, so MLflow's UI shows them first (test_mlflow_ui)
    assert not [k for k in training.data.metrics if k.startswith("eval/")] and "train/loss" in training.data.metrics
    metrics = json.loads((reports / "metrics.json").read_text())
    assert run.data.metrics["eval/accuracy/sampled"] == pytest.approx(metrics["accuracy"]["sampled"])
    assert run.data.metrics["eval/notes/greedy/pitch_at_onset"] == pytest.approx(
        metrics["notes"]["greedy"]["pitch_at_onset"]
    )
    assert run.data.metrics["eval/interpolation/latent_monotonicity"] == pytest.approx(
        metrics["interpolation"]["latent_monotonicity"]
    )
    run_id = run.info.run_id
    logged = {a.path for a in client.list_artifacts(run_id, "evaluation/evaluate")}
    assert {
        "evaluation/evaluate/samples.png",
        "evaluation/evaluate/attribute_vectors.safetensors",
        "evaluation/evaluate/samples",
    } <= logged
    assert [a.path for a in client.list_artifacts(run_id, "evaluation/evaluate/samples")] == [
        f"evaluation/evaluate/samples/{i:02d}.mid" for i in range(3)
    ]
    assert "evaluation/metrics.json" in {a.path for a in client.list_artifacts(run_id, "evaluation")}
    assert not client.list_artifacts(trained["run_id"], "evaluation")


def test_stage_gives_the_same_bytes_twice(trained, shards, reports, tmp_path):
    again = tmp_path / "reports"
    run_evaluate(trained["models"], shards, small_eval_params(tmp_path), again)
    first = {p.relative_to(reports): p.read_bytes() for p in sorted(reports.rglob("*")) if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in sorted(again.rglob("*")) if p.is_file()}
    assert first.keys() == second.keys() and all(first[k] == second[k] for k in first)


def test_rendered_audio_is_not_silent(reports):
    synth, why = listening.synthesizer()
    if synth is None:
        system.missing(why)
    wavs = sorted((reports / "evaluate/audio").rglob("*.wav"))
    assert wavs and all(listening.rms(w) > 1e-3 for w in wavs)
    # every sample, interpolation step and reconstruction is on the page, not the first few of each
    heard = {w.relative_to(reports / "evaluate/audio").with_suffix("") for w in wavs}
    assert heard == {m.relative_to(reports / "evaluate").with_suffix("") for m in heard_groups(reports)}
    page = (reports / "evaluate/listening.html").read_text()
    assert page.count("<audio") == len(wavs) and "data:image/png;base64," in page


def test_trio_accuracy_is_reported_per_part():
    config = ModelConfig(kind="trio", classes=(90, 90, 512), steps=32, z_size=4, enc_rnn_size=(8,), dec_rnn_size=(8,))
    torch.manual_seed(0)
    tokens = torch.stack(
        [torch.randint(0, 90, (6, 32)), torch.randint(0, 90, (6, 32)), torch.randint(0, 512, (6, 32))], -1
    )
    params = yaml.safe_load((ROOT / "params.yaml").read_text())["eval"]
    settings = eval_settings(params | {"batch_size": 4, "seed": 0, "temperature": 1.0, "draws": 1})
    result, rows, _ = evaluate.reconstruction(MusicVAE(config).eval(), tokens, settings)
    assert set(result["accuracy"]) == {
        f"{p}_{m}" for p in ("melody", "bass", "drums") for m in ("teacher_forced", "sampled", "greedy")
    }
    assert len(rows) == 2 and set(rows[0]) == {"bar", *result["accuracy"]}
    assert set(result["notes"]) == {
        f"{p}_{m}"
        for p in ("melody", "bass")  # drums have no pitch
        for m in ("teacher_forced", "sampled", "greedy")
    }
