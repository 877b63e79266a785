"""The `musicvae` command before any model: help without heavy imports, one error style for the user's mistakes,
extraction's reasons in words, and one listing of a file's windows for `explain` and the model commands."""

import re
import subprocess
import sys
from collections import Counter
from dataclasses import replace

import pytest

from musicvae import windows
from musicvae.extract import FAILURES, REPRESENTATIONS, extract
from musicvae.midi import REASONS
from musicvae.reasons import FIXES, WORDS
from tests.support import ROOT
from tests.support.cli import invoke
from tests.support.midi_files import make_midi

COMMANDS = ("explain", "report", "sample", "interpolate", "attribute", "encode", "reconstruct")
# What every command needs besides its files, so that only the file is wrong.
REQUIRED = {"reconstruct": ["--out", "x.mid"], "attribute": ["--vector", "note_density", "--out", "x.mid"]}


def assert_user_error(result, subject, code):
    """The one error style: `error: <subject>: <words> [<code>]` on stderr, exit code 1, no traceback."""
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert result.stderr.startswith(f"error: {subject}: ") and f" [{code}]" in result.stderr, result.stderr


def test_help_imports_neither_torch_nor_mlflow():
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom musicvae_cli import app\n"
        f"for args in [['--help'], *[[c, '--help'] for c in {COMMANDS!r}]]:\n"
        "    assert CliRunner().invoke(app, args).exit_code == 0, args\n"
        "print(sorted(m for m in ('torch', 'lightning', 'mlflow', 'apache_beam', 'numpy') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_usage_names_the_file_arguments():
    for command, usage in (
        ("explain", "FILE"),
        ("reconstruct", "FILE"),
        ("encode", "FILE"),
        ("attribute", "FILE"),
        ("interpolate", "A} {B"),
    ):
        line = next(line for line in invoke(command, "--help").output.splitlines() if "Usage:" in line)
        assert usage in line and "path" not in line, line


def test_a_missing_file_or_a_folder_is_one_line_before_any_model_loads(tmp_path):
    missing = tmp_path / "none.mid"
    for command in ("explain", "reconstruct", "encode", "attribute", "interpolate"):
        extra = [missing] if command == "interpolate" else []
        # no checkpoint exists here: the file is checked first
        assert_user_error(invoke(command, missing, *extra, *REQUIRED.get(command, [])), missing, "no_such_file")
        extra = [tmp_path] if command == "interpolate" else []
        assert_user_error(invoke(command, tmp_path, *extra, *REQUIRED.get(command, [])), tmp_path, "is_a_folder")


def test_options_that_would_produce_nothing_are_errors(shared_midi):
    song = shared_midi / "pop909" / "179.mid"
    assert_user_error(invoke("interpolate", song, song, "--steps", 0), "--steps 0", "too_few_steps")
    assert_user_error(invoke("interpolate", song, song, "--steps", 1), "--steps 1", "too_few_steps")
    assert_user_error(invoke("sample", "--n", 0), "--n 0", "too_few_samples")
    assert_user_error(
        invoke("reconstruct", song, "--out", "x.mid", "--temperature", 0), "--temperature 0", "bad_temperature"
    )
    assert_user_error(invoke("explain", song, "-r", "mel_3bar"), "--representation", "unknown_representation")


def test_every_reason_extraction_counts_has_words():
    """Codes are found in extraction's source, where it counts them, so that a new one cannot go unexplained."""
    core = ROOT / "musicvae"
    source = "\n".join(p.read_text() for p in [core / "extract.py", core / "timing.py", *core.glob("codecs/*.py")])
    counted = set(re.findall(r"Counter\((\w+)=", source)) | set(
        re.findall(r"(?:reasons|rejected)\[\"(\w+)\"\]", source)
    )
    codes = counted | set(REASONS) | set(FAILURES)
    assert {
        "not_16_steps_per_bar",
        "no_extraction",
        "over_cap",
        "duplicate",
        "missing_trio_part",
        "bad_time_signature",
        "too_many_windows",
    } <= codes  # the search finds them
    assert codes <= WORDS.keys(), codes - WORDS.keys()
    assert FIXES.keys() <= WORDS.keys()
    done = subprocess.run(
        [sys.executable, "-c", "import sys, musicvae.reasons; print('torch' in sys.modules)"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.stdout.strip() == "False", done.stderr


def test_explain_says_why_in_words_and_fails_when_no_window_comes(tmp_path):
    waltz = tmp_path / "waltz.mid"
    waltz.write_bytes(make_midi([(i * 96, 96, 60 + i % 12) for i in range(96)], meters=[(0, 3, 4)]))
    result = invoke("explain", waltz)
    assert_user_error(result, waltz, "not_16_steps_per_bar")
    assert f"{WORDS['not_16_steps_per_bar']} [not_16_steps_per_bar=1]" in result.stdout
    assert "fix: " in result.stderr
    for data, words in (
        (b"MThd\x00\x00\x00\x06garbage", "its header names MIDI format 26465"),
        (b"just some text", "it does not begin with a MIDI header"),
        (
            b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x00\x60MTrk\x00\x00\x01\x00\x00\x90",
            "it ends early: a track announces 256 bytes and 2 follow",
        ),
    ):
        corrupt = tmp_path / "corrupt.mid"
        corrupt.write_bytes(data)
        result = invoke("explain", corrupt)
        assert_user_error(result, corrupt, "corrupt")
        assert words in result.stderr and "MiniMidi" not in result.stderr and "Invaild" not in result.stderr


def test_explain_counts_in_words(tmp_path):
    """One window from one piece, not "1 windows from 1 piece(s)"."""
    two_bars = tmp_path / "two_bars.mid"
    two_bars.write_bytes(make_midi([(i * 96, 96, 60 + i) for i in range(8)]))
    said = invoke("explain", two_bars, "-r", "mel_2bar").stdout
    assert "mel_2bar: 1 window from 1 piece," in said, said


@pytest.mark.parametrize("name", ["pop909/179.mid", "lakh/55269aebbc2e7784ca2d1d4472141889.mid"])
def test_listing_holds_every_window_and_marks_those_training_keeps(shared_midi, name):
    path = shared_midi / name
    reps = list(REPRESENTATIONS.values())
    listings = windows.list_all(path, reps)
    out = invoke("explain", path).stdout
    for rep in reps:
        listing = listings[rep.name]
        key = lambda w: (w.piece, w.start_bar, w.programs, w.tokens.tobytes())  # noqa: E731
        every = extract(path, replace(rep, max_per_piece=None)).windows
        trained_on = extract(path, rep).windows  # what the preprocess stage writes to the shards
        assert Counter(map(key, listing.windows)) == Counter(map(key, every)), rep.name
        assert Counter(key(w) for w, k in zip(listing.windows, listing.kept) if k) == Counter(map(key, trained_on))
        assert [(w.piece, w.start_bar) for w in listing.windows] == sorted((w.piece, w.start_bar) for w in every)
        section = out.split(f"{rep.name}:")[1].split("\n", 1)[1]
        shown = [line.strip() for line in section.splitlines() if re.match(r" {4}\d+: ", line)]
        assert shown[: len(listing.windows)] == [listing.line(i) for i in range(len(listing.windows))], rep.name
    assert any(len(listing.windows) > sum(listing.kept) for listing in listings.values())  # the caps bite here
