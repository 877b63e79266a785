"""Generalization measures on the session's learned model: the decoder-only bound and the study's snapshot scores."""

import json

import pytest
import torch

from lightning_modules import generation
from lightning_modules.components.musicvae import MusicVAE
from lightning_modules.datamodule import read_tokens
from lightning_modules.generalization import decoder_bound
from musicvae import learning


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


def test_snapshot_scores_follow_a_run_from_its_baseline_to_memorised(learned, tmp_path):
    """The study's scores along a run: the model stopped at its baseline, then the same run memorised; and their
    curves, a line per run and set beside the set's baseline and target."""
    from experiments.study import snapshot_curves, snapshot_scores

    out = tmp_path / "scores.json"
    checkpoints = [str(learned[name] / "best.ckpt") for name in ("baseline", "learned")]
    snapshot_scores.main([*checkpoints, "--windows", f"{learned['shards']}:train", "--limit", "64", "--out", str(out)])
    baseline, memorised = json.loads(out.read_text())
    assert baseline["step"] < memorised["step"]
    assert baseline["train"]["majority"] == memorised["train"]["majority"]
    assert baseline["train"]["greedy"] < baseline["train"]["majority"] + 0.05
    assert memorised["train"]["greedy"] > 0.9 and memorised["train"]["pitch_at_onset"] > 0.8
    curve = snapshot_curves.rows({"run": [memorised, baseline]}, ["train"], {"train": 0.2})
    assert [row["step"] for row in curve] == [baseline["step"], memorised["step"]]
    assert [row["train, run"] for row in curve] == [baseline["train"]["greedy"], memorised["train"]["greedy"]]
    assert curve[0]["train target (baseline + 0.20)"] == pytest.approx(baseline["train"]["majority"] + 0.2)
    snapshot_curves.main(["--sets", "train", "--out", str(tmp_path / "curves.png"), f"run={out}"])
    assert (tmp_path / "curves.png").read_bytes().startswith(b"\x89PNG")
