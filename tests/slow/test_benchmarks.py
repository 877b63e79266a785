"""Every benchmark runs end to end on a tiny workload and prints its ratios, so that none rots between the runs
whose figures the README reports. Timings here mean nothing; only that the numbers come out."""

import re
import subprocess
import sys

import pytest

from tests.support.dvc_repo import ROOT

SMOKE = {
    "bench_codecs.py": ["--files", "4", "--reference-files", "2"],
    "bench_corpus.py": ["--tunes", "4"],
    "bench_generate.py": ["--repeats", "1", "--batch", "2"],
    "bench_preprocess.py": ["--files", "12", "--small", "6"],
    "bench_recipe.py": ["--batches", "5"],
    "bench_scale.py": ["--sizes", "200", "400"],
    "bench_train.py": ["--quick"],
}


def test_every_benchmark_has_a_smoke_run():
    assert set(SMOKE) == {p.name for p in (ROOT / "benchmarks").glob("bench_*.py")}


READS_SHARED_MIDI = {"bench_codecs.py", "bench_preprocess.py", "bench_scale.py", "bench_train.py"}
# Each part a benchmark reports, so that a part that stops printing fails its smoke run
PARTS = {
    "bench_train.py": [
        "Parameters, ours against Magenta's",
        "Training step at batch size",
        "default/kept step time",
        "train() for",
    ],
    "bench_scale.py": ["     200 ", "     400 ", "MB per 1,000 files"],
}


@pytest.mark.parametrize("script", sorted(SMOKE))
def test_benchmark_prints_its_ratios(script, request):
    if script in READS_SHARED_MIDI:
        request.getfixturevalue("shared_midi")  # skips, or fails in CI, without it
    shards = ["--shards", str(request.getfixturevalue("shards") / "mel_2bar")] if script == "bench_recipe.py" else []
    # timeout: bench_train's share of a core beside another worker takes ~6 min
    done = subprocess.run(
        [sys.executable, f"benchmarks/{script}", *SMOKE[script], *shards],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert all(part in done.stdout for part in PARTS.get(script, [])), done.stdout
    assert re.search(r"\d+\.\d+x", done.stdout), done.stdout


def test_without_shared_midi_a_benchmark_says_so_in_one_line(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import shared_midi

    monkeypatch.setattr(shared_midi, "FOLDER", tmp_path / "shared" / "midi")
    with pytest.raises(SystemExit, match=r"bench_codecs: it measures real MIDI from .*shared/midi, which holds none"):
        shared_midi.files("bench_codecs")
