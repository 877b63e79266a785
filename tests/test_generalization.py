"""Generalization measured by the evaluate stage: external sets cut and scored as the test split, and the
decoder-only bound (z fitted per window) against a memorising model and a model at its initialisation."""

import json
from pathlib import Path

import mlflow
import pytest
import symusic
import torch
import yaml

from lightning_modules import evaluate, generation
from lightning_modules.components.musicvae import MusicVAE
from lightning_modules.datamodule import read_tokens
from lightning_modules.generalization import decoder_bound, external_windows
from musicvae import learning
from musicvae.extract import REPRESENTATIONS, extract
from tests.evaluation_run import evaluation_run

ROOT = Path(__file__).resolve().parents[1]


def scale_tune(path: Path, first: int, bars: int = 18) -> None:
    """A hand-made tune: eighth notes up and down a major scale from `first`, at 120 qpm in 4/4."""
    score = symusic.Score(480)
    track = symusic.Track("melody", 0, False)
    steps = [0, 2, 4, 5, 7, 9, 11, 12]
    for i in range(bars * 8):
        track.notes.append(symusic.Note(i * 240, 240, first + steps[i % 8 if (i // 8) % 2 == 0 else 7 - i % 8], 90))
    score.tracks.append(track)
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    score.tempos.append(symusic.Tempo(0, 120))
    path.write_bytes(score.dumps_midi())


@pytest.fixture(scope="module")
def handmade(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("handmade")
    for first in (55, 60, 62):
        scale_tune(folder / f"scale_{first}.mid", first)
    (folder / "notes.txt").write_text("not MIDI")
    (folder / "broken.mid").write_bytes(b"MThd\x00")  # gives no window, and stops nothing
    return folder


def test_external_windows_are_the_extractors_windows_of_each_file(handmade):
    rep = REPRESENTATIONS["mel_2bar"]
    tokens, counts = external_windows(str(handmade), rep)
    expected = [w.tokens for f in sorted(handmade.glob("*.mid")) for w in extract(f, rep).windows]
    assert counts == {"files": 4, "files_with_windows": 3, "windows": len(expected)} and len(expected) >= 6
    assert tokens.shape == (len(expected), 32, 1)
    assert [t.flatten().tolist() for t in tokens] == [e.tolist() for e in expected]
    with pytest.raises(FileNotFoundError, match="matches no"):
        external_windows(str(handmade / "*.midi"), rep)


@pytest.mark.slow
def test_the_bound_is_near_one_for_a_memorising_model_and_near_the_baseline_at_init(learned):
    model = generation.load(learned["learned"] / "best.ckpt").model
    windows = read_tokens(learned["shards"], "train")[:32]
    memorised = decoder_bound(model, windows, steps=150)
    assert memorised["greedy_accuracy"] > 0.9 and memorised["greedy_pitch_at_onset"] > 0.8
    torch.manual_seed(0)
    fresh = decoder_bound(MusicVAE(model.config), windows, steps=150)
    majority = learning.majority_accuracy(windows)
    assert fresh["majority_accuracy"] == memorised["majority_accuracy"] == majority
    # a decoder that has learned nothing stays at or under the baseline, whatever z it is given
    assert fresh["greedy_accuracy"] < majority + 0.05 and fresh["greedy_pitch_at_onset"] < 0.1
    assert fresh["nats_per_window"] > 5 * memorised["nats_per_window"]


@pytest.mark.slow
def test_snapshot_scores_follow_a_run_from_its_baseline_to_memorised(learned, tmp_path):
    """The study's scores along a run: the model stopped at its baseline, then the same run memorised."""
    from experiments.study import snapshot_scores

    out = tmp_path / "scores.json"
    checkpoints = [str(learned[name] / "best.ckpt") for name in ("baseline", "learned")]
    snapshot_scores.main([*checkpoints, "--windows", f"{learned['shards']}:train", "--limit", "64", "--out", str(out)])
    baseline, memorised = json.loads(out.read_text())
    assert baseline["step"] < memorised["step"]
    assert baseline["train"]["majority"] == memorised["train"]["majority"]
    assert baseline["train"]["greedy"] < baseline["train"]["majority"] + 0.05
    assert memorised["train"]["greedy"] > 0.9 and memorised["train"]["pitch_at_onset"] > 0.8


def _run(trained, shards, tmp_path, external) -> dict:
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["eval"] |= {
        "max_examples": 12,
        "draws": 1,
        "interpolation": {"pairs": 2, "steps": 3},
        "attributes": {"examples": 32, "quantile": 0.25, "amount": 1.0},
        "samples": {"n": 2, "temperature": 0.5},
        "external": external,
        "decoder_bound": {"windows": 8, "steps": 20, "learning_rate": 0.05},
    }
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    reports = tmp_path / "reports"
    evaluate.main(
        [
            "--params",
            str(tmp_path / "params.yaml"),
            "--shards",
            str(shards),
            "--model",
            str(trained["models"]),
            "--out",
            str(reports / "evaluate"),
            "--metrics",
            str(reports / "metrics.json"),
            "--plots",
            str(reports / "plots"),
        ]
    )
    return json.loads((reports / "metrics.json").read_text())


def test_the_evaluate_stage_scores_external_sets_as_the_test_split(trained, shards, handmade, tmp_path):
    metrics = _run(trained, shards, tmp_path, {"scales": str(handmade), "one": str(handmade / "scale_60.mid")})
    scales, one = metrics["external"]["scales"], metrics["external"]["one"]
    assert (scales["files"], scales["files_with_windows"], one["files"]) == (4, 3, 1)
    assert scales["test_windows"] == min(12, scales["windows"]) and one["windows"] < scales["windows"]
    for scored in (scales, one, metrics):  # the same measures for the test split and each set
        assert set(scored["accuracy"]) == {"teacher_forced", "sampled", "greedy"}
        assert set(scored["notes"]["greedy"]) == {"onset_recall", "pitch_at_onset", "onset_precision"}
        bound = scored["decoder_bound"]
        assert 0 <= bound["greedy_accuracy"] <= 1 and bound["windows"] == min(8, scored["test_windows"])
    assert 0 < scales["majority_accuracy"] < 1
    client_metrics = evaluation_run(mlflow.MlflowClient(trained["uri"]), trained["run_id"]).data.metrics
    assert "eval/external/scales/accuracy/greedy" in client_metrics
    assert "eval/decoder_bound/greedy_accuracy" in client_metrics


def test_an_external_set_that_matches_nothing_is_refused_by_name(trained, shards, tmp_path):
    with pytest.raises(SystemExit, match=r"eval.external.typo: .* matches no .mid"):
        _run(trained, shards, tmp_path, {"typo": str(tmp_path / "nowhere")})
