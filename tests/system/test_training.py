"""Training across processes: two-process DDP on the CPU, and runs that open a new MLflow store together."""

import json
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import mlflow
import pytest
import yaml

from tests.support import ROOT
from tests.support.portable_job import free_port
from tests.support.training_settings import SHORT, train_stage


@pytest.mark.parametrize("nodes", [1, 2])
def test_two_process_ddp_on_cpu_trains_and_logs_one_run(shards, tmp_path, nodes):
    """strategy/devices/num_nodes come from params: two gloo processes train together and rank 0 alone records the
    run. On one node Lightning starts both; as two nodes each is started by torchrun, as on a cluster."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["model"] = {"config": "debug", "overrides": {}}
    params["train"] |= asdict(SHORT) | {
        "max_steps": 4,
        "val_every_n_steps": 2,
        "strategy": "ddp",
        "devices": 2 // nodes,
        "num_nodes": nodes,
    }
    params["mlflow"]["tracking_uri"] = f"sqlite:///{tmp_path / 'mlflow.db'}"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    stage = [*train_stage(tmp_path, shards)[1:], "--report", str(tmp_path / "train.json")]  # after `python`
    if nodes == 1:
        launches = [[sys.executable, *stage]]
    else:
        torchrun, port = Path(sys.executable).parent / "torchrun", str(free_port())
        launches = [
            [
                torchrun,
                "--nnodes",
                "2",
                "--nproc-per-node",
                "1",
                "--node-rank",
                str(rank),
                "--master-addr",
                "127.0.0.1",
                "--master-port",
                port,
                *stage,
            ]
            for rank in (0, 1)
        ]
    logs = [tmp_path / f"rank{i}.log" for i in range(len(launches))]  # files: a full pipe would block a rank
    procs = [
        subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("w"))
        for argv, log in zip(launches, logs)
    ]
    deadline = time.monotonic() + 300
    try:
        while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:  # a rank whose peer died waits for it forever
        for p in procs:
            p.kill()
            p.wait()
    assert all(p.returncode == 0 for p in procs), [log.read_text()[-3000:] for log in logs]
    record = json.loads((tmp_path / "train.json").read_text())
    assert record["world_size"] == 2 and record["steps"] == 4
    assert json.loads((tmp_path / "models/run.json").read_text())["run_id"] == record["run_id"]
    client = mlflow.MlflowClient(params["mlflow"]["tracking_uri"])
    assert len(client.search_runs([client.get_experiment_by_name("musicvae-mel_16bar").experiment_id])) == 1
    assert [m.step for m in client.get_metric_history(record["run_id"], "train/loss")] == [0, 1, 2, 3]


def test_runs_starting_together_on_a_new_store_do_not_race_its_creation(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    code = f"from lightning_modules.store import open_store; open_store({uri!r}, 'musicvae-mel_16bar')"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True) for _ in range(4)
    ]
    failures = [p.stderr.read()[-500:] for p in procs if p.wait() != 0]
    assert not failures, failures
    made = [e for e in mlflow.MlflowClient(uri).search_experiments() if e.name == "musicvae-mel_16bar"]
    assert len(made) == 1 and made[0].artifact_location == (tmp_path / "mlartifacts").as_uri()
