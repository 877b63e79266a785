"""`dvc repro` of every stage (corpus → preprocess → train → evaluate) on the debug config in a temporary repo,
then a variant by `dvc exp run -S` as the README shows it, the README's commands, and a killed train stage resumed."""

import csv
import io
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest

from lightning_modules import generation
from tests.support.cli import assert_nothing_silent_succeeds
from tests.support.dvc_repo import ROOT, activated, dvc, make_repo, set_params
from tests.support.evaluation_run import evaluation_run
from tests.support.killing import kill_after

# Magenta's hierarchical encoder under the debug model's conductor: a layout magenta.js runs, so that the README's
# export to it runs as written.
QUICK = {
    "corpus": {"max_pieces": 300},
    "model": {"config": "debug", "overrides": {"model": {"encoder": "hierarchical"}}},
    "train": {"max_steps": 4, "max_minutes": None, "val_every_n_steps": 2, "log_every_n_steps": 1},
    "eval": {
        "max_examples": 8,
        "draws": 1,
        "interpolation": {"pairs": 2, "steps": 3},
        "attributes": {"examples": 64, "quantile": 0.25, "amount": 1.0},
        "samples": {"n": 2, "temperature": 0.5, "compared": 16},
    },
}
STAGES = ("corpus", "preprocess", "train", "evaluate")
# What the stages once printed that told a user nothing (issue 32)
NOISE = ("litlogger", "exists and is not empty", "LeafSpec", "not supported by the model summary", "ffmpeg", "/-2")


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    path = make_repo(tmp_path_factory.mktemp("e2e") / "repo", **QUICK)
    first = subprocess.run(["dvc", "repro"], cwd=path, capture_output=True, text=True, env=activated())
    assert first.returncode == 0, first.stdout + first.stderr
    assert all(f"Running stage '{stage}'" in first.stdout for stage in STAGES)
    said = first.stdout + first.stderr
    assert "Trainable params" in said  # the stages' own output is here (Lightning's model summary)
    # each stage says what it did and how long it took
    assert re.search(r"corpus: \d+ files .* in [\d.]+ s", said) and re.search(r"preprocess: done in [\d.]+ s", said)
    assert re.search(r"preprocess: mel_16bar: [\d,]+ train, [\d,]+ eval, [\d,]+ test windows from", said), said
    assert re.search(r"evaluate: done in [\d.]+ s: greedy accuracy", said), said
    assert not [noise for noise in NOISE if noise in said], said
    return path


def test_dvc_repro_runs_every_stage_and_reruns_only_what_changed(repo):
    for path in (
        "data/shards/mel_16bar/manifest.json",
        "models/best.ckpt",
        "reports/metrics.json",
        "reports/plots/accuracy_per_bar.png",
        "reports/plots/kl_per_dim.png",
        "reports/evaluate/samples.png",
    ):
        assert (repo / path).exists(), path
    run_id = json.loads((repo / "models/run.json").read_text())["run_id"]
    run = evaluation_run(mlflow.MlflowClient(f"sqlite:///{repo / 'mlflow.db'}"), run_id)
    assert "eval/accuracy/sampled" in run.data.metrics and run.data.params["config"] == "debug"

    assert "Running stage" not in dvc(repo, "repro")
    set_params(repo, train={"max_steps": 5})
    third = dvc(repo, "repro")
    assert "Running stage 'train'" in third and "Running stage 'evaluate'" in third
    assert "Running stage 'corpus'" not in third and "Running stage 'preprocess'" not in third
    splits = json.loads((repo / "reports/preprocess.json").read_text())["mel_16bar"]["splits"]
    set_params(repo, preprocess={"splits": {"train": 0.5, "eval": 0.25, "test": 0.25}})
    fourth = dvc(repo, "repro")
    assert "Running stage 'preprocess'" in fourth and "Running stage 'corpus'" not in fourth
    assert json.loads((repo / "reports/preprocess.json").read_text())["mel_16bar"]["splits"] != splits
    shown = dvc(repo, "metrics", "show", "--json")
    workspace = next(iter(json.loads(shown).values()))["data"]
    assert list(workspace) == ["reports/headline.json"]  # the detail stays out
    headline = workspace["reports/headline.json"]["data"]
    assert set(headline) >= {"accuracy", "majority_accuracy", "notes", "decoder_bound", "train"}
    assert len(re.findall(r'": [-0-9.]+[,}\n]', shown)) <= 25, shown  # about 20 numbers
    dvc(repo, "plots", "show", "--out", "plots_html")
    page = (repo / "plots_html/index.html").read_text()
    assert page.count("<img") == 4 and '"$schema"' not in page  # images only: nothing for vega to fetch


def test_dvc_exp_run_makes_a_variant_listed_with_its_metrics(repo):
    dvc(repo, "repro")  # whatever the other test left, the baseline is up to date
    with (repo / ".gitignore").open("a") as ignore:
        ignore.write("/plots_html/\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "baseline"], cwd=repo, check=True
    )
    # the flat decoder with its own encoder: magenta.js takes a hierarchical encoder only under a conductor
    ran = dvc(
        repo,
        "exp",
        "run",
        "-n",
        "flat",
        "-S",
        "model.config=flat-mel_16bar-cpu",
        "-S",
        "model.overrides.model.encoder=bidirectional",
    )
    assert "Running stage 'train'" in ran and "Running stage 'preprocess'" not in ran

    shown = dvc(repo, "exp", "show", "--csv")
    rows = {row["Experiment"] or row["rev"]: row for row in csv.DictReader(io.StringIO(shown))}
    sampled = next(column for column in rows["flat"] if column.endswith("accuracy.sampled"))
    config = next(column for column in rows["flat"] if column.endswith("model.config"))
    assert rows["flat"][config] == rows["workspace"][config] == "flat-mel_16bar-cpu", shown
    baseline = next(row for name, row in rows.items() if name not in ("flat", "workspace"))
    assert baseline[config] == "debug" and "" != baseline[sampled] != rows["flat"][sampled], shown
    diff = dvc(repo, "metrics", "diff", "HEAD")  # the workspace holds the variant's results
    assert "accuracy.sampled" in diff and "kl_bits" in diff

    # A queued run works in a copy under .dvc/tmp/exps yet logs to the project's store; a key via model.overrides.
    dvc(
        repo,
        "exp",
        "run",
        "--queue",
        "-n",
        "small-z",
        "-S",
        "model.config=debug",
        "-S",
        "+model.overrides.model.z_size=4",
    )
    dvc(repo, "queue", "start")
    deadline = time.monotonic() + 600
    while "Success" not in (status := dvc(repo, "queue", "status")):
        assert "Failed" not in status and time.monotonic() < deadline, status + dvc(repo, "queue", "logs", "small-z")
        time.sleep(2)
    client = mlflow.MlflowClient(f"sqlite:///{repo / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("musicvae-mel_16bar")
    runs = {
        (run.data.params["config"], run.data.params["model.z_size"])
        for run in client.search_runs([experiment.experiment_id])
    }
    assert {("flat-mel_16bar-cpu", "64"), ("debug", "4")} <= runs


def test_the_installed_command_finds_the_stage_outputs_by_default(repo):
    musicvae = Path(sys.executable).parent / "musicvae"
    window = repo / "reports/evaluate/reconstruction/00.mid"  # one 16-bar window

    def run(*args, writes=()):
        done = subprocess.run([musicvae, *map(str, args)], cwd=repo, capture_output=True, text=True)
        if writes:  # a model trained for 4 steps may write only rests: the files are there, and then it fails
            assert_nothing_silent_succeeds(done.returncode, done.stderr, *(repo / w for w in writes))
        else:
            assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    run("sample", "--n", 2, "--out", "samples", writes=["samples/sample_00.mid", "samples/sample_01.mid"])
    assert len(list((repo / "samples").glob("*.mid"))) == 2
    z_size = generation.load(repo / "models/best.ckpt").model.config.z_size
    (line,) = run("encode", window).splitlines()  # mu of the window's one 16-bar melody, printed
    assert line.startswith("piece ") and len(line.split(":")[1].split()) == z_size
    # Without its vectors, reports/evaluate/attribute_vectors.safetensors, the command fails [no_vectors]. What the
    # vectors do to the music needs a model that has learned: tests/slow/test_model_behaviour.py.
    run("attribute", window, "--vector", "note_density", "--amount", 1.5, "--out", "denser.mid", writes=["denser.mid"])


# Not run here: the download needs the network, and the studio serves until it is stopped (the browser tests start
# it as written, tests/browser/test_studio_browser.py).
NOT_RUN = ("musicvae corpus download", "musicvae studio")


def readme_commands() -> list[str]:
    """The `musicvae` and `dvc metrics` lines of the bash blocks of README.md and of every documentation page
    (docs/*.md, in name order), their comments cut, each once: every documented command runs as written after a real
    `dvc repro`, in the order of its page (magenta.js's import reads what its export wrote)."""
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    blocks = [block for page in pages for block in re.findall(r"```bash\n(.*?)```", page.read_text(), re.S)]
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.replace("\\\n", " ").splitlines()]
    return list(
        dict.fromkeys(
            line
            for line in lines
            if line.startswith(("musicvae ", "dvc metrics show")) and not line.startswith(NOT_RUN)
        )
    )


def test_the_readme_commands_run_as_written(repo):
    commands = readme_commands()
    assert len(commands) >= 8, commands
    for command in commands:
        done = subprocess.run(["bash", "-c", command], cwd=repo, env=activated(), capture_output=True, text=True)
        if done.returncode:  # a model trained for 4 steps may write only rests: it says so and keeps the files
            out = re.search(r"--out (\S+)", command)
            assert done.returncode == 1 and "[only_rests]" in done.stderr, f"{command}\n{done.stdout}{done.stderr}"
            assert out and (repo / out[1]).exists(), command


def test_a_killed_train_stage_resumes_under_dvc_repro(repo):
    """`models/` is a persistent out: `dvc repro` after a kill continues last.ckpt in the same MLflow run. (Last, as
    it leaves a longer-trained model behind. `dvc exp run` would not resume: it checks the workspace out by force
    first, which replaces models/; experiments/study/run_followups.sh resumes its clones with `dvc repro`.)"""
    set_params(
        repo,
        model=QUICK["model"],
        train={"max_steps": 100, "val_every_n_steps": 5, "monitor": {"windows": 32, "greedy": 4}},
    )
    for stale in (repo / "models").glob("*.ckpt"):  # the earlier tests' model, whose step could pass for this one's
        stale.unlink()
    log = repo / "killed.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["dvc", "repro"], cwd=repo, env=activated(), start_new_session=True, stdout=out, stderr=subprocess.STDOUT
        )
    killed_at = kill_after(proc, repo / "models/last.ckpt", 10, log)
    killed_run = json.loads((repo / "models/run.json").read_text())["run_id"]

    assert "Running stage 'train'" in dvc(repo, "repro")
    record = json.loads((repo / "reports/train.json").read_text())
    assert record["run_id"] == killed_run and record["steps"] == 100 > killed_at
    steps = [
        m.step
        for m in mlflow.MlflowClient(f"sqlite:///{repo / 'mlflow.db'}").get_metric_history(killed_run, "train/loss")
    ]
    assert min(steps) < killed_at < max(steps)
