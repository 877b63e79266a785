"""`musicvae report` on the reports of a tiny real pipeline: the session's shards, debug model and an evaluation."""

import json
import shutil

import pytest
from typer.testing import CliRunner

from musicvae.report import STOPPED_BY, WIDTH
from musicvae_cli import app
from tests.support.evaluation_run import run_evaluate, small_eval_params

FILES = ("metrics.json", "train.json", "preprocess.json")


@pytest.fixture(scope="module")
def reports(trained, shards, tmp_path_factory):
    """The three files as the stages write them: preprocess --report copies the pipeline's report.json, train
    --report the run record (models/run.json), and evaluate writes metrics.json."""
    folder = tmp_path_factory.mktemp("reports")
    shutil.copy(shards / "report.json", folder / "preprocess.json")
    shutil.copy(trained["models"] / "run.json", folder / "train.json")
    run_evaluate(trained["models"], shards, small_eval_params(folder), folder)
    return folder


def report(folder):
    return CliRunner().invoke(app, ["report", "--reports", str(folder)])


def test_report_fits_a_terminal_and_holds_the_essentials(reports):
    result = report(reports)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= WIDTH
    metrics, train, preprocess = (json.loads((reports / name).read_text()) for name in FILES)
    learned, words = metrics["learning"], " ".join(result.stdout.split())  # wrapped lines joined again
    for text in (
        learned["verdict"].upper(),
        f"{learned['majority_accuracy']:.3f}",
        *(f"{v:.3f}" for v in metrics["accuracy"].values()),
        f"{metrics['active_units']} of {metrics['z_size']}",
        f"{learned['gap_nats']:.1f} nats",
        f"{train['steps']} steps",
        STOPPED_BY[train["stopped_by"]],
        train["learning"]["verdict"],
        f"{metrics['decoder_bound']['greedy_accuracy']:.3f}",
        "eval.external={name: folder}",
        f"{metrics['samples']['attribute_overlap']['mean']:.2f} attribute overlap",
    ):
        assert text in words, text
    for rep, stats in preprocess.items():
        row = next(line.split() for line in lines if line.split()[:1] == [rep])
        assert row[1:4] == [str(stats["splits"][split]["windows"]) for split in ("train", "eval", "test")]


@pytest.mark.parametrize("missing", FILES)
def test_report_names_a_missing_file_and_the_fix(reports, tmp_path, missing):
    for name in FILES:
        if name != missing:
            shutil.copy(reports / name, tmp_path / name)
    result = report(tmp_path)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # no traceback
    assert result.stderr.startswith(f"error: {tmp_path / missing}: ") and "[no_report]" in result.stderr
    assert "fix: run `dvc repro`" in result.stderr and not result.stdout


def test_report_refuses_a_damaged_file(reports, tmp_path):
    for name in FILES:
        shutil.copy(reports / name, tmp_path / name)
    (tmp_path / "train.json").write_text('{"steps": ')
    result = report(tmp_path)
    assert result.exit_code == 1 and f"error: {tmp_path / 'train.json'}: " in result.stderr
    assert "[bad_report]" in result.stderr
