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
from tests import system
from tests.portable_job import free_port
from tests.test_evaluate import _params

pytestmark = [pytest.mark.browser, pytest.mark.system]


@pytest.fixture(scope="module")
def server(trained, shards, tmp_path_factory):
    """The trained run, evaluated, served by `mlflow server` on a free loopback port."""
    root = tmp_path_factory.mktemp("ui")
    reports = root / "reports"
    evaluate.main(
        [
            "--params",
            str(_params(root)),
            "--shards",
            str(shards),
            "--model",
            str(trained["models"]),
            "--out",
            str(reports / "evaluate"),
            "--metrics",
            str(reports / "metrics.json"),
            "--plots",
            str(reports / "plots"),
        ]
    )
    port = free_port()
    mlflow_bin = Path(sys.executable).parent / "mlflow"
    proc = subprocess.Popen(
        [
            str(mlflow_bin),
            "server",
            "--backend-store-uri",
            trained["uri"],
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        cwd=root,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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


def _open(page: str, shot: Path) -> str:
    """The page's DOM once its scripts ran, in a fresh headless Chromium that also saves a screenshot to `shot`."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        system.missing("chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)")
    dom = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--virtual-time-budget=20000",
            "--window-size=1400,1000",
            f"--user-data-dir={shot.with_suffix('.profile')}",
            f"--screenshot={shot}",
            "--dump-dom",
            page,
        ],
        capture_output=True,
        text=True,
        timeout=180,
    ).stdout
    assert shot.read_bytes()[:4] == b"\x89PNG" and shot.stat().st_size > 20_000  # more than a blank page
    return dom


def test_the_run_page_renders_in_headless_chromium(server, trained, tmp_path):
    run = _get(server, "runs/get", run_id=trained["run_id"])["run"]
    dom = _open(f"{server}/#/experiments/{run['info']['experiment_id']}/runs/{trained['run_id']}", tmp_path / "run.png")
    assert run["info"]["run_name"] in dom and "train/loss" in dom


def test_the_experiment_link_opens_the_runs_table(server, trained, tmp_path):
    """MLflow 3.17's UI opens every experiment as a GenAI app (an empty Traces overview, no runs) unless its sidebar
    switch is on "Model training"; only the browser remembers that switch, and `?workflowType=machine_learning` sets
    it, so this is the link the README gives."""
    run = _get(server, "runs/get", run_id=trained["run_id"])["run"]
    dom = _open(
        f"{server}/#/experiments/{run['info']['experiment_id']}?workflowType=machine_learning",
        tmp_path / "experiment.png",
    )
    assert "Run Name" in dom and "matching run" in dom and run["info"]["run_name"] in dom
    assert "Detect Issues" not in dom and "No data available" not in dom
