"""A real `mlflow server` on the project's SQLite store: the run over REST, and its page in headless Chromium."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from lightning_modules import evaluate
from tests.portable_job import free_port
from tests.test_evaluate import _params


@pytest.fixture(scope="module")
def server(trained, shards, tmp_path_factory):
    """The trained run, evaluated, served by `mlflow server` on a free loopback port."""
    root = tmp_path_factory.mktemp("ui")
    reports = root / "reports"
    evaluate.main(["--params", str(_params(root)), "--shards", str(shards), "--model", str(trained["models"]),
                   "--out", str(reports / "evaluate"), "--metrics", str(reports / "metrics.json"),
                   "--plots", str(reports / "plots")])
    port = free_port()
    mlflow_bin = Path(sys.executable).parent / "mlflow"
    proc = subprocess.Popen([str(mlflow_bin), "server", "--backend-store-uri", trained["uri"], "--host", "127.0.0.1",
                             "--port", str(port), "--workers", "1"], cwd=root, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=2)
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "mlflow server did not start"
            time.sleep(0.5)
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def _get(url: str, endpoint: str, **query) -> dict:
    with urllib.request.urlopen(f"{url}/api/2.0/mlflow/{endpoint}?{urllib.parse.urlencode(query)}", timeout=30) as r:
        return json.load(r)


def test_the_run_has_params_metric_histories_and_artifacts_over_rest(server, trained):
    run = _get(server, "runs/get", run_id=trained["run_id"])["run"]
    params = {p["key"]: p["value"] for p in run["data"]["params"]}
    assert params["config"] == "debug" and "model.z_size" in params
    history = _get(server, "metrics/get-history", run_id=trained["run_id"], metric_key="train/loss")["metrics"]
    assert len(history) >= 3 and [m["step"] for m in history] == sorted(m["step"] for m in history)
    assert {m["key"] for m in run["data"]["metrics"]} >= {"val/loss", "eval/accuracy/sampled", "eval/kl_bits"}

    def listed(path):
        return {f["path"] for f in _get(server, "artifacts/list", run_id=trained["run_id"], path=path)["files"]}

    assert "checkpoints/best.ckpt" in listed("checkpoints")
    assert "evaluation/evaluate/samples.png" in listed("evaluation/evaluate")
    assert "evaluation/evaluate/samples/00.mid" in listed("evaluation/evaluate/samples")


def test_the_run_page_renders_in_headless_chromium(server, trained, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)")
    run = _get(server, "runs/get", run_id=trained["run_id"])["run"]
    page = f"{server}/#/experiments/{run['info']['experiment_id']}/runs/{trained['run_id']}"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--virtual-time-budget=20000", "--window-size=1400,1000"]

    def browse(*args: str) -> subprocess.CompletedProcess:
        profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"  # a fresh user-data dir each time
        return subprocess.run([chromium, *flags, f"--user-data-dir={profile}", *args, page], capture_output=True,
                              text=True, timeout=180)

    shot = tmp_path / "run.png"
    browse(f"--screenshot={shot}")
    assert shot.read_bytes()[:4] == b"\x89PNG" and shot.stat().st_size > 20_000  # more than a blank page
    dom = browse("--dump-dom").stdout
    assert run["info"]["run_name"] in dom and "train/loss" in dom
