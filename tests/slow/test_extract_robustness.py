"""The fuzzer's smoke run: mutated real files find no escape, hang or blow-up."""

import subprocess
import sys

from tests.support.dvc_repo import ROOT


def test_fuzz_smoke_finds_no_escape_hang_or_blowup(shared_midi):
    """On a folder the fuzzer is given (--seeds)."""
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/fuzz_extract.py",
            "--mutants",
            "300",
            "--seed",
            "1",
            "--seeds",
            str(shared_midi / "pop909"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"fuzz_extract: 40 real MIDI files from {shared_midi / 'pop909'}" in done.stdout
    assert "hangs: 0, escapes: 0, internal errors: 0" in done.stdout
    assert "300 mutants" in done.stdout and "corrupt" in done.stdout
