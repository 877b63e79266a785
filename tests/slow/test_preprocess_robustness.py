"""The preprocess stage's bytes under the multi-process runner and after a SIGKILL."""

import contextlib
import os
import signal
import subprocess
import sys
import time

from tests.support import ROOT
from tests.support.beam_runs import ALL, PARAMS, files, mirror, run


def test_same_bytes_on_rerun_and_in_the_multi_process_runner(shared_midi, tmp_path):
    inputs = f"{shared_midi}/**/*.mid"
    run(inputs, tmp_path / "a")
    run(inputs, tmp_path / "b")
    run(inputs, tmp_path / "c", "--direct_running_mode", "multi_processing", "--direct_num_workers", "2")
    first = files(tmp_path / "a")
    assert any(k.endswith(".parquet") for k in first)
    assert files(tmp_path / "b") == first
    assert files(tmp_path / "c") == first


def test_sigkill_leaves_no_partial_shard_and_a_rerun_completes_identically(shared_midi, tmp_path):
    corpus = mirror(shared_midi, tmp_path / "corpus")
    flags = ["--set", "rows_per_shard=5"]  # hundreds of shards: a long write phase to kill inside
    reference = tmp_path / "reference"
    run(f"{corpus}/**/*.mid", reference, *flags)
    output = tmp_path / "out"
    argv = [
        sys.executable,
        "-m",
        "pipelines.preprocess",
        "--input",
        f"{corpus}/**/*.mid",
        "--output",
        str(output),
        "--params",
        str(PARAMS),
        *flags,
        *(a for rep in ALL for a in ("--representation", rep)),
    ]
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    staging = output / ".staging"
    deadline = time.monotonic() + 600  # shards are staged after every file is read: slow on a loaded machine
    try:
        while not (staging.is_dir() and any(staging.iterdir())):
            assert proc.poll() is None, "the pipeline finished before it could be killed"
            assert time.monotonic() < deadline, "the pipeline staged no shard within 600 s"
            time.sleep(0.002)
    finally:  # killed whether the test goes on or fails, so that no orphan pipeline runs on
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    visible = files(output)
    assert not any(k.endswith("manifest.json") for k in visible)
    expected = files(reference)
    assert all(data == expected[k] for k, data in visible.items() if k.endswith(".parquet"))  # whole or absent
    run(f"{corpus}/**/*.mid", output, *flags)
    assert files(output) == expected
