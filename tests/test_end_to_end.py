"""`dvc repro` of every stage (corpus → preprocess → train → evaluate) on the debug config in a temporary repo."""

import json

import mlflow

from tests.dvc_repo import dvc, make_repo, set_params

QUICK = {"model": {"config": "debug"},
         "train": {"max_steps": 4, "max_minutes": None, "val_every_n_steps": 2, "log_every_n_steps": 1},
         "eval": {"max_examples": 8, "draws": 1, "interpolation": {"pairs": 2, "steps": 3},
                  "attributes": {"examples": 64, "quantile": 0.25, "amount": 1.0},
                  "samples": {"n": 2, "temperature": 0.5}}}
STAGES = ("corpus", "preprocess", "train", "evaluate")


def test_dvc_repro_runs_every_stage_and_reruns_only_what_changed(tmp_path):
    repo = make_repo(tmp_path / "repo", **QUICK)
    first = dvc(repo, "repro")
    assert all(f"Running stage '{stage}'" in first for stage in STAGES)
    for path in ("data/shards/mel_16bar/manifest.json", "models/best.ckpt", "reports/metrics.json",
                 "reports/plots/accuracy_per_bar.png", "reports/evaluate/samples.png"):
        assert (repo / path).exists(), path
    run_id = json.loads((repo / "models/run.json").read_text())["run_id"]
    run = mlflow.MlflowClient(f"sqlite:///{repo / 'mlflow.db'}").get_run(run_id)
    assert "eval/accuracy/sampled" in run.data.metrics and run.data.params["config"] == "debug"

    assert "Running stage" not in dvc(repo, "repro")
    set_params(repo, train={"max_steps": 5})
    third = dvc(repo, "repro")
    assert "Running stage 'train'" in third and "Running stage 'evaluate'" in third
    assert "Running stage 'corpus'" not in third and "Running stage 'preprocess'" not in third
    shown = dvc(repo, "metrics", "show")
    assert "accuracy.sampled" in shown and "kl_bits" in shown
    dvc(repo, "plots", "show", "--out", "plots_html")
    page = (repo / "plots_html/index.html").read_text()
    assert page.count("<img") == 2 and '"$schema"' not in page  # images only: nothing for vega to fetch
