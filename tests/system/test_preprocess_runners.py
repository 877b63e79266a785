"""Runners: the default never downloads, the portable path (the Fn API of Flink and Spark) gives the same bytes,
and Dataflow builds the whole job graph offline."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from pipelines import preprocess
from tests.support import ROOT, system
from tests.support.beam_runs import ALL, PARAMS, files, run


@pytest.fixture
def network_off(monkeypatch) -> list:
    """Every attempt to reach a non-loopback address is refused and recorded."""
    attempts = []
    real_connect = socket.socket.connect

    def guarded_connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in ("127.0.0.1", "::1", "localhost"):
            attempts.append(address)
            raise OSError("network is off in this test")
        return real_connect(sock, address)

    def guarded_urlopen(url, *args, **kwargs):
        attempts.append(getattr(url, "full_url", url))
        raise OSError("network is off in this test")

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(urllib.request, "urlopen", guarded_urlopen)
    return attempts


def test_default_runner_never_downloads(shared_midi, tmp_path, network_off):
    """Beam's DirectRunner first fetches the Prism binary from GitHub; the default runner must not."""
    attempts = network_off
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "one.mid").write_bytes(next(shared_midi.rglob("*.mid")).read_bytes())
    report = run(f"{corpus}/*.mid", tmp_path / "default", reps=["mel_2bar"])
    assert report["mel_2bar"]["files"] == 1 and (tmp_path / "default/mel_2bar/manifest.json").is_file()
    assert attempts == []
    # The guard sees the DirectRunner's attempt, so the check above could fail.
    run(f"{corpus}/*.mid", tmp_path / "direct", "--runner", "DirectRunner", reps=["mel_2bar"])
    assert any("prism" in str(a) for a in attempts), attempts


def _in_loopback_namespace(argv: list[str]) -> tuple[list[str], dict]:
    """`unshare -n` where it works (root), so that Beam's servers cannot be reached from outside."""
    works = shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
    return (["unshare", "-n", *argv], {**os.environ, "MUSICVAE_NETNS": "1"}) if works else (argv, dict(os.environ))


def test_portable_runner_with_an_external_worker_pool_gives_the_same_bytes(shared_midi, tmp_path):
    inputs = f"{shared_midi}/**/*.mid"
    run(inputs, tmp_path / "direct")
    argv = [
        sys.executable,
        "-m",
        "tests.support.portable_job",
        "--input",
        inputs,
        "--output",
        str(tmp_path / "portable"),
        "--params",
        str(PARAMS),
        *(a for rep in ALL for a in ("--representation", rep)),
    ]
    argv, env = _in_loopback_namespace(argv)
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert files(tmp_path / "portable") == files(tmp_path / "direct")


def test_dataflow_dry_run_builds_the_job_graph_offline(network_off, tmp_path):
    try:
        import apache_beam.runners.dataflow.internal.apiclient
    except ImportError:
        system.missing("the [gcp] extra is not installed (pip install -e '.[gcp]')")
    argv = [
        "--input",
        "gs://musicvae-example/lmd_full/**/*.mid",
        "--output",
        "gs://musicvae-example/shards",
        "--params",
        str(PARAMS),
        *(a for rep in ALL for a in ("--representation", rep)),
        "--runner",
        "DataflowRunner",
        "--dry_run=True",
        "--project",
        "musicvae-example",
        "--region",
        "us-central1",
        "--temp_location",
        "gs://musicvae-example/tmp",
        "--setup_file",
        str(ROOT / "setup.py"),
        "--sdk_container_image=us-central1-docker.pkg.dev/musicvae-example/beam/musicvae-beam:latest",
    ]
    assert preprocess.run(argv) is None  # nothing ran, so no manifest
    # The same graph, built again to look inside the job Dataflow would receive.
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipelines.config import load

    p = beam.Pipeline(options=PipelineOptions(argv[argv.index("--runner") :]))
    preprocess.build(p, load(PARAMS, only=ALL), argv[1], argv[3])
    graph = p.run().job.proto_pipeline  # the Beam job Dataflow would receive
    names = {t.unique_name for t in graph.components.transforms.values()}
    assert {"Convert", "Dedupe", "GroupShards", "Shards", "Publish"} <= names
    assert network_off == []


def test_the_readme_placeholders_are_named_at_once(tmp_path):
    """gs://BUCKET as the README writes it: one line naming the placeholder, before Beam retries anything."""
    argv = [
        "--input",
        "gs://BUCKET/lmd_full/**/*.mid",
        "--output",
        "gs://BUCKET/shards",
        "--params",
        str(PARAMS),
        "--runner",
        "DataflowRunner",
        "--dry_run=True",
        "--project",
        "PROJECT",
        "--region",
        "us-central1",
        "--temp_location",
        "gs://BUCKET/tmp",
    ]
    with pytest.raises(
        SystemExit,
        match=r"gs://BUCKET/lmd_full/\*\*/\*\.mid: 'BUCKET' is not a Cloud Storage "
        r"bucket name .* BUCKET and PROJECT stand for yours",
    ):
        preprocess.run(argv)
    started = time.monotonic()
    with pytest.raises(SystemExit, match="gs://My_Bucket/tmp: 'My_Bucket' is not a Cloud Storage bucket name"):
        preprocess.run(
            [
                "--input",
                "gs://my-bucket/lmd/*.mid",
                "--output",
                "gs://my-bucket/shards",
                "--params",
                str(PARAMS),
                "--runner",
                "DataflowRunner",
                "--dry_run=True",
                "--temp_location",
                "gs://My_Bucket/tmp",
            ]
        )
    assert time.monotonic() - started < 5
