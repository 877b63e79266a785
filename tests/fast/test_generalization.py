"""Generalization measured by the evaluate stage: external sets cut and scored as the test split, and the
decoder-only bound (z fitted per window) against a memorising model and a model at its initialisation."""

import json
from pathlib import Path

import mlflow
import pytest

from lightning_modules.generalization import external_windows
from musicvae.extract import REPRESENTATIONS, extract
from tests.support.evaluation_run import evaluation_run, run_evaluate, small_eval_params
from tests.support.midi_files import make_midi, scale_tune


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


def _run(trained, shards, tmp_path, external) -> dict:
    bound = {"windows": 8, "steps": 20, "learning_rate": 0.05}
    run_evaluate(
        trained["models"], shards, small_eval_params(tmp_path, external=external, decoder_bound=bound), tmp_path / "r"
    )
    return json.loads((tmp_path / "r" / "metrics.json").read_text())


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


def test_an_external_set_of_another_kind_of_music_is_left_out_with_a_warning(
    trained, shards, handmade, tmp_path, caplog
):
    """The default held-out chorales give a drum model no window: its evaluation goes on without them."""
    drums = tmp_path / "drums"
    drums.mkdir()
    (drums / "beat.mid").write_bytes(make_midi([(i * 48, 24, 36) for i in range(64)], is_drum=True))
    metrics = _run(trained, shards, tmp_path, {"drums": str(drums), "scales": str(handmade)})
    assert set(metrics["external"]) == {"scales"}
    assert "eval.external.drums: " in caplog.text and "gives a mel_16bar window; not scored" in caplog.text
