"""`python -m experiments.compare`: two evaluated runs in a real SQLite store, side by side."""

import csv
import json

import mlflow
import pytest
import yaml

from experiments import compare
from lightning_modules.experiment import load
from lightning_modules.train import train
from tests.support import training_settings
from tests.support.evaluation_run import run_evaluate, small_eval_params
from tests.support.midi_files import scale_tune


def test_flat_and_hierarchical_runs_side_by_side(shards, tmp_path, monkeypatch, capsys):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    settings = training_settings.settings(max_steps=3, val_every_n_steps=3)
    (tmp_path / "scales").mkdir()
    scale_tune(tmp_path / "scales" / "c.mid", 60)
    bound = {"windows": 4, "steps": 5, "learning_rate": 0.05}
    params = small_eval_params(tmp_path, external={"scales": str(tmp_path / "scales")}, decoder_bound=bound)
    for name, overrides in (("hier", {}), ("flat", {"model": {"hierarchical": False}})):
        models = tmp_path / name / "models"
        train(load("debug", overrides), settings, shards, models, uri)
        reports = tmp_path / name / "reports"
        run_evaluate(models, shards, params, reports)
    # A run stopped before its evaluation (a session's end, say): no row in the table, but its curves are drawn.
    train(load("debug"), settings, shards, tmp_path / "stopped" / "models", uri)
    stopped = json.loads((tmp_path / "stopped/models/run.json").read_text())["run_id"]
    monkeypatch.chdir(tmp_path)  # the command's default store is ./mlflow.db
    capsys.readouterr()  # what training and evaluation printed
    compare.main(["--experiment", "musicvae-mel_16bar", "--out", "compare"])
    with open(tmp_path / "compare/compare.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and sorted(r["model.hierarchical"] for r in rows) == ["False", "True"]
    assert "batch_size" not in rows[0]  # equal in both runs: not a difference worth a column
    assert capsys.readouterr().out == (tmp_path / "compare/compare.md").read_text()
    per_bar = [[float(r[f"sampled bar {b}"]) for b in range(1, 17)] for r in rows]  # 16 bars in the CSV
    assert all(
        min(bars) <= float(r["sampled acc"]) + 1e-3 and max(bars) >= float(r["sampled acc"]) - 1e-3
        for bars, r in zip(per_bar, rows)
    )
    metrics = [yaml.safe_load((tmp_path / n / "reports/metrics.json").read_text()) for n in ("flat", "hier")]
    assert sorted(float(r["sampled acc"]) for r in rows) == sorted(round(m["accuracy"]["sampled"], 4) for m in metrics)
    assert "model.hierarchical" in (tmp_path / "compare/compare.md").read_text().splitlines()[0]
    assert (tmp_path / "compare/per_bar_sampled.png").read_bytes()[:4] == b"\x89PNG"
    assert {
        "majority baseline",
        "code gap share",
        "steps",
        "verdict",
        "bound greedy acc",
        "scales baseline",
        "scales greedy acc",
        "scales bound greedy acc",
    } <= set(rows[0])
    with open(tmp_path / "compare/learning.csv") as f:
        curves = list(csv.DictReader(f))
    assert sorted(int(r["step"]) for r in curves) == [3, 3, 3]  # each run validated once, at its last step
    assert {r["run"].split(" ")[0] for r in curves} == {"debug"}
    assert stopped[:8] not in {r["run id"] for r in rows} and any(stopped[:8] in r["run"] for r in curves)
    for png in ("learning_accuracy.png", "learning_gap.png", "learning_grad_z.png"):
        assert (tmp_path / "compare" / png).read_bytes()[:4] == b"\x89PNG"

    # A later store without one of the runs: --keep carries it over from the earlier table, curves and bars included.
    gone = rows[0]["run id"]
    mlflow.set_tracking_uri("sqlite:///mlflow.db")
    mlflow.delete_run(
        next(
            r.info.run_id
            for r in mlflow.search_runs(experiment_names=["musicvae-mel_16bar"], output_format="list")
            if r.info.run_id.startswith(gone)
        )
    )
    compare.main(["--experiment", "musicvae-mel_16bar", "--out", "compare", "--keep"])
    with open(tmp_path / "compare/compare.csv") as f:
        kept = {r["run id"]: r for r in csv.DictReader(f)}
    assert set(kept) == {r["run id"] for r in rows} and kept[gone]["sampled acc"] == rows[0]["sampled acc"]
    # the store's one run still shows the params the earlier table compared, though nothing in the store differs
    assert sorted(r["model.hierarchical"] for r in kept.values()) == ["False", "True"]
    with open(tmp_path / "compare/learning.csv") as f:
        assert len(list(csv.DictReader(f))) == 3
    compare.main(["--experiment", "musicvae-mel_16bar", "--out", "compare"])
    with open(tmp_path / "compare/compare.csv") as f:
        assert [r["run id"] for r in csv.DictReader(f)] == [r["run id"] for r in rows if r["run id"] != gone]

    # A store with no evaluation run left (the deleted training run's stays, under no run): --keep draws the earlier
    # page again, without --keep it is an error.
    for run in mlflow.search_runs(experiment_names=["musicvae-mel_16bar"], output_format="list"):
        if "eval/accuracy/sampled" in run.data.metrics:
            mlflow.delete_run(run.info.run_id)
    compare.main(["--experiment", "musicvae-mel_16bar", "--out", "compare", "--keep"])
    with open(tmp_path / "compare/compare.csv") as f:
        assert len(list(csv.DictReader(f))) == 1
    with open(tmp_path / "compare/learning.csv") as f:  # the stopped run's from the store, the other's kept
        assert sorted(stopped[:8] in r["run"] for r in csv.DictReader(f)) == [False, True]
    with pytest.raises(SystemExit, match="no evaluated run"):
        compare.main(["--experiment", "musicvae-mel_16bar", "--out", "compare"])
