"""The corpus and preprocess stages through real `dvc repro` in a temporary repository."""

import json

import yaml

from pipelines import manifest
from tests.dvc_repo import ROOT, dvc, make_repo, set_params


def test_dvc_repro_chains_corpus_and_preprocess_and_reruns_only_what_changed(tmp_path):
    repo = make_repo(tmp_path / "repo", corpus={"max_pieces": 30})
    first = dvc(repo, "repro", "preprocess")
    assert "Running stage 'corpus'" in first and "Running stage 'preprocess'" in first
    report = json.loads((repo / "reports/preprocess.json").read_text())["mel_16bar"]
    assert report["files"] == json.loads((repo / "reports/corpus.json").read_text())["written"]
    assert sorted(p.name for p in (repo / "data/shards/mel_16bar").iterdir())[-1] == "train-00000-of-00001.parquet"

    second = dvc(repo, "repro", "preprocess")
    assert "Running stage" not in second

    set_params(repo, preprocess={"splits": {"train": 0.5, "eval": 0.25, "test": 0.25}})
    third = dvc(repo, "repro", "preprocess")
    assert "Running stage 'preprocess'" in third and "Running stage 'corpus'" not in third
    assert "windows_extracted" in dvc(repo, "metrics", "show")


def test_the_manifest_hashes_exactly_the_code_the_stage_depends_on():
    """Otherwise a rerun for an unrelated change writes different bytes, or a real change keeps the old hash."""
    stage = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["preprocess"]
    assert set(manifest.SOURCES) == {dep for dep in stage["deps"] if not dep.startswith("data/")}
