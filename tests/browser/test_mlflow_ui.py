"""A real `mlflow server` on the project's SQLite store: the run over REST, and its page in headless Chromium."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.support import system
from tests.support.evaluation_run import run_evaluate, small_eval_params
from tests.support.portable_job import free_port

pytestmark = pytest.mark.system  # and browser, by its folder


@pytest.fixture(scope="module")
def server(trained, shards, tmp_path_factory):
    """The trained run, evaluated, served by `mlflow server` on a free loopback port."""
    root = tmp_path_factory.mktemp("ui")
    reports = root / "reports"
    run_evaluate(trained["models"], shards, small_eval_params(root), reports)
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
    assert {m["key"] for m in run["data"]["metrics"]} >= {"val/loss", "train/loss"}
    evaluation = _evaluation(server, trained["run_id"])
    assert {m["key"] for m in evaluation["data"]["metrics"]} >= {"eval/accuracy/sampled", "eval/kl_bits"}

    def listed(run_id, path):
        return {f["path"] for f in _get(server, "artifacts/list", run_id=run_id, path=path)["files"]}

    assert "checkpoints/best.ckpt" in listed(trained["run_id"], "checkpoints")
    outputs = evaluation["info"]["run_id"]
    assert "evaluation/evaluate/samples.png" in listed(outputs, "evaluation/evaluate")
    assert "evaluation/evaluate/samples/00.mid" in listed(outputs, "evaluation/evaluate/samples")


def _evaluation(url: str, training_run_id: str) -> dict:
    """The latest evaluation run nested under the training run, as the runs table finds it (the session's other
    tests evaluate the same training run too)."""
    experiment = _get(url, "runs/get", run_id=training_run_id)["run"]["info"]["experiment_id"]
    query = {
        "experiment_ids": [experiment],
        "filter": f"tags.mlflow.parentRunId = '{training_run_id}'",
        "order_by": ["attributes.start_time DESC"],
    }
    request = urllib.request.Request(
        f"{url}/api/2.0/mlflow/runs/search", json.dumps(query).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.load(r)["runs"][0]


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


def _sections(dom: str) -> list[str]:
    """The metric sections of a run's "Model metrics" tab, in the page's order: each header is its name, then its
    chart count, then "Add chart"."""
    text = [t.strip() for t in re.sub(r"<[^>]+>", "\n", re.sub(r"<style.*?</style>", "", dom, flags=re.S)).split("\n")]
    text = [t for t in text if t]
    return [
        name
        for name, count, add in zip(text, text[1:], text[2:])
        if re.fullmatch(r"\(\d+\)", count) and add == "Add chart"
    ]


def test_the_training_runs_metrics_tab_leads_with_its_curves_and_the_evaluation_run_holds_its_scores(
    server, trained, tmp_path
):
    """MLflow's UI sorts a run's metric sections by name: logged to the training run, fifteen single-point
    `eval/...` sections came before its curves. The learning monitor's curves lead, then training and validation,
    then the KL of each dimension of z; the evaluation has a run of its own."""
    run = _get(server, "runs/get", run_id=trained["run_id"])["run"]
    page = f"{server}/#/experiments/{run['info']['experiment_id']}/runs"
    sections = _sections(_open(f"{page}/{trained['run_id']}/model-metrics", tmp_path / "curves.png"))
    assert sections[0] == "monitor" and sections.index("train") < sections.index("val") < sections.index("z")
    assert not [s for s in sections if s.startswith("eval")]
    evaluation = _evaluation(server, trained["run_id"])
    sections = _sections(_open(f"{page}/{evaluation['info']['run_id']}/model-metrics", tmp_path / "scores.png"))
    assert "eval/accuracy" in sections and not {"monitor", "train", "val", "z"} & set(sections)


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
