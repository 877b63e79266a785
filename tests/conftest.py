import os
import shutil
from pathlib import Path

import pytest

from tests.support import ROOT, system

# Under pytest-xdist the workers share the cores: each worker's torch, and the stages and commands its tests start
# (they inherit the variable), gets its share of the threads rather than all of them, which would oversubscribe.
if (workers := int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))) > 1:
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, len(os.sched_getaffinity(0)) // workers)))

pytest_plugins = ["pytester"]  # tests/fast/test_test_run.py runs small test files under the project's settings

SHARED_MIDI = ROOT.parent / "shared" / "midi"

# A test's tier is the folder it sits in; tests/fast holds the rest. Each folder's tests carry its mark, so that
# `-m "not slow"` selects as a folder does (pyproject.toml declares the marks).
TIERS = ("slow", "system", "browser", "gpu")


def pytest_itemcollected(item: pytest.Item) -> None:
    tier = item.path.relative_to(ROOT / "tests").parts[0]
    if tier in TIERS:
        item.add_marker(tier)


@pytest.fixture(scope="session")
def shared_midi() -> Path:
    """The real MIDI beside the repository (../shared/midi).

    Skips when the folder is absent, and fails instead in CI (tests/support/system.py)."""
    if not SHARED_MIDI.is_dir():
        system.missing(f"real MIDI folder {SHARED_MIDI} is absent")
    return SHARED_MIDI


@pytest.fixture(scope="session")
def shards(shared_midi, tmp_path_factory) -> Path:
    """Melody shards (2- and 16-bar) of the shared MIDI, made by the real pipeline once per test run.

    Under pytest-xdist the workers share one folder beside their own: the first to arrive makes it, the others wait
    on its lock. Tests only read it."""
    from filelock import FileLock

    from tests.support.beam_runs import run

    base = tmp_path_factory.getbasetemp()
    output = (base.parent if "PYTEST_XDIST_WORKER" in os.environ else base) / "shards"
    with FileLock(f"{output}.lock"):
        if not output.with_suffix(".done").exists():
            shutil.rmtree(output, ignore_errors=True)  # what a worker that failed midway left
            output.mkdir()
            run(f"{shared_midi}/**/*.mid", output, reps=["mel_2bar", "mel_16bar"])
            output.with_suffix(".done").touch()
    return output


@pytest.fixture(scope="session")
def trained(shards, tmp_path_factory) -> dict:
    """A `debug` model trained for a few steps on the shards: its models/ folder and the MLflow store it logged to."""
    from lightning_modules.experiment import load
    from lightning_modules.train import train
    from tests.support import training_settings

    root = tmp_path_factory.mktemp("trained")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    settings = training_settings.settings(max_steps=6, val_every_n_steps=3)
    record = train(load("debug"), settings, shards, root / "models", uri)
    return {"models": root / "models", "uri": uri, "run_id": record["run_id"], "root": root}


@pytest.fixture(scope="session")
def learned(shards, tmp_path_factory) -> dict:
    """A small 2-bar model that has memorised the first 64 training windows of the shards (in under a minute), and
    the same model stopped at its baseline: their models/ folders, the shard folder they trained on, and the MLflow
    store and run of the first (tests/support/memorising.py)."""
    from tests.support import memorising

    return memorising.train_both(shards, tmp_path_factory.mktemp("learned"))


@pytest.fixture(scope="session")
def reports(trained, shards, tmp_path_factory) -> Path:
    """The evaluate stage's outputs for the `trained` model, with small counts (tests/support/evaluation_run.py)."""
    from tests.support.evaluation_run import run_evaluate, small_eval_params

    root = tmp_path_factory.mktemp("evaluated")
    run_evaluate(trained["models"], shards, small_eval_params(root), root / "reports")
    return root / "reports"
