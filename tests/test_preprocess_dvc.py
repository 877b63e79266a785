"""The corpus and preprocess stages through real `dvc repro` in a temporary repository."""

import json
import re

from tests.dvc_repo import dvc, make_repo, set_params


def test_dvc_repro_chains_corpus_and_preprocess_and_reruns_only_what_changed(tmp_path):
    repo = make_repo(tmp_path / "repo", corpus={"max_pieces": 30})
    first = dvc(repo, "repro", "preprocess")
    assert "Running stage 'corpus'" in first and "Running stage 'preprocess'" in first
    assert re.search(r"preprocess: mel_16bar: [\d,]+ train, [\d,]+ eval, [\d,]+ test windows from", first), first
    assert re.search(r"preprocess: done in [\d.]+ s", first)
    report = json.loads((repo / "reports/preprocess.json").read_text())["mel_16bar"]
    assert report["files"] == json.loads((repo / "reports/corpus.json").read_text())["files"]
    assert sorted(p.name for p in (repo / "data/shards/mel_16bar").iterdir())[-1] == "train-00000-of-00001.parquet"

    second = dvc(repo, "repro", "preprocess")
    assert "Running stage" not in second

    set_params(repo, preprocess={"splits": {"train": 0.5, "eval": 0.25, "test": 0.25}})
    third = dvc(repo, "repro", "preprocess")
    assert "Running stage 'preprocess'" in third and "Running stage 'corpus'" not in third
    assert json.loads((repo / "reports/preprocess.json").read_text())["mel_16bar"]["windows_extracted"] > 0
    assert "windows_extracted" not in dvc(repo, "metrics", "show")  # detail; DVC shows the headline only
