"""The corpus stage under real DVC: your own MIDI preprocessed in place, and the corpus built once."""

import json
from pathlib import Path

from tests.support.corpus import read_index
from tests.support.dvc_repo import dvc, make_repo


def test_dvc_repro_preprocesses_your_own_midi_in_place(shared_midi, tmp_path):
    repo = make_repo(tmp_path / "repo", corpus={"sources": {"lakh": str(shared_midi / "lakh")}, "held_out": []})
    dvc(repo, "repro", "preprocess")
    files = sorted(p.name for p in (shared_midi / "lakh").glob("*.mid"))
    assert sorted(Path(r["path"]).name for r in read_index(repo / "data/corpus")) == files
    assert json.loads((repo / "reports/preprocess.json").read_text())["trio_16bar"]["files"] == len(files)


def test_dvc_repro_builds_the_corpus_once(tmp_path):
    repo = make_repo(tmp_path / "repo", corpus={"max_pieces": 6})

    first = dvc(repo, "repro", "corpus")
    assert "Running stage 'corpus'" in first
    report = json.loads((repo / "reports/corpus.json").read_text())
    assert report["sources"]["folk"]["selected"] == 6
    assert len(list((repo / "data/corpus").rglob("*.mid"))) == report["files"]
    second = dvc(repo, "repro", "corpus")
    assert "Running stage" not in second and "didn't change" in second
    assert "written" not in dvc(repo, "metrics", "show")  # the report is detail; DVC shows the headline only
