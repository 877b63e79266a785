"""No file crashes extraction or blows up its cost: each crash class found by fuzzing gets its typed reason, the
costliest files within the limits stay bounded, and a bug on one file is a dead letter, never a crash."""

import logging
import subprocess
import sys

import pytest

from musicvae import extract as extract_module
from musicvae.extract import REPRESENTATIONS, extract_all
from musicvae.midi import Limits
from tests.support.adversarial_midi import CASES, ZERO_LENGTH, many_tracks, melody, smf, track
from tests.support.beam_runs import run
from tests.support.dvc_repo import ROOT

REPS = list(REPRESENTATIONS.values())


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_crash_class_is_a_typed_rejection(case):
    data, reason = CASES[case]
    for result in extract_all(data, REPS).values():
        assert not result.windows and result.reasons[reason] >= 1, result.reasons


def test_file_level_reasons_say_what_is_wrong_in_words():
    details = {case: extract_all(CASES[case][0], REPS)["mel_2bar"].detail for case in CASES}
    assert "0 microseconds per beat" in details["zero_tempo"] and "tick 384" in details["zero_tempo_later"]
    assert "sixteenth-note steps" in details["billion_steps"] and "beats a minute" in details["billion_steps"]


def test_zero_length_notes_are_dropped_as_pretty_midi_drops_them():
    alone = extract_all(ZERO_LENGTH["single_zero_length_note"], REPS)
    assert all(r.reasons == {"no_notes": 1, "no_windows": 1} for r in alone.values())
    with_tune = extract_all(ZERO_LENGTH["zero_length_note_last"], REPS)["mel_2bar"]
    without = extract_all(smf(track(*melody())), REPS)["mel_2bar"]
    assert [w.tokens.tobytes() for w in with_tune.windows] == [w.tokens.tobytes() for w in without.windows]
    assert with_tune.windows


def test_too_many_windows_drops_only_that_representation():
    data = many_tracks(tracks=300, steps=4_000)  # 300 melodies over 250 bars: 74,700 two-bar windows
    results = extract_all(data, REPS, Limits(max_windows=10_000))
    assert results["mel_2bar"].reasons == {"too_many_windows": 1, "no_windows": 1}
    assert extract_all(data, REPS)["mel_2bar"].windows  # within the default limit


def test_an_arrangement_over_10000_notes_is_kept(shared_midi, tmp_path):
    """Full Lakh arrangements pass 10,000 notes, Magenta's preprocess_tfrecord filter, which its training does not
    apply (the costliest files the limits let through are timed by benchmarks/fuzz_extract.py): a real song
    tripled, each copy a few ticks late in tracks of its own, gives every representation windows."""
    import symusic

    song = symusic.Score(str(shared_midi / "lakh" / "55269aebbc2e7784ca2d1d4472141889.mid"))
    arrangement = song.copy()
    arrangement.tracks.extend(t.shift_time(3 * copy) for copy in (1, 2) for t in song.tracks)
    path = tmp_path / "arrangement.mid"
    arrangement.dump_midi(str(path))
    assert arrangement.note_num() > 10_000
    results = extract_all(path.read_bytes(), REPS)
    assert all(result.windows for result in results.values()), {n: r.reasons for n, r in results.items()}


def test_timeout_is_a_typed_reason_not_a_crash():
    results = extract_all(smf(track(*melody())), REPS, Limits(timeout_seconds=0.0))
    assert all(r.reasons == {"timeout": 1} and "please report" in r.detail for r in results.values())


def test_a_bug_becomes_the_files_error_with_its_traceback_in_the_log(monkeypatch, caplog):
    def broken(*args):  # a codec bug cannot be produced from outside; this stands in for one
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(extract_module, "_piece_windows", broken)
    with caplog.at_level(logging.ERROR):
        results = extract_all(smf(track(*melody())), REPS, name="song.mid")
    assert all(r.reasons == {"error": 1} and "ZeroDivisionError" in r.detail for r in results.values())
    assert "song.mid" in caplog.text and "Traceback" in caplog.text


def test_stage_fails_and_removes_shards_when_too_many_files_fail(monkeypatch, tmp_path, caplog):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(10):
        (corpus / f"{i}.mid").write_bytes(smf(track(*melody(tuple(60 + (i + k) % 12 for k in range(32))))))
    run(f"{corpus}/*.mid", tmp_path / "good", reps=["mel_2bar"])
    assert list((tmp_path / "good" / "mel_2bar").glob("*.parquet"))
    calls = []

    def sometimes_broken(piece, rep, budget, real=extract_module._piece_windows):
        calls.append(1)
        if len(calls) % 2:  # the in-memory runner converts in this process, so the patch reaches it
            raise RuntimeError("a bug")
        return real(piece, rep, budget)

    monkeypatch.setattr(extract_module, "_piece_windows", sometimes_broken)
    with pytest.raises(SystemExit, match=r"5 of 10 files failed for mel_2bar .*max_failure_share 0.05; shards removed"):
        run(f"{corpus}/*.mid", tmp_path / "bad", reps=["mel_2bar"])
    assert not list((tmp_path / "bad" / "mel_2bar").glob("*.parquet"))
    assert '"reason": "error"' in (tmp_path / "bad" / "mel_2bar" / "dead_letters.jsonl").read_text()


def test_explain_names_each_crash_class_without_a_traceback(tmp_path):
    for case in ("zero_tempo", "billion_steps", "zero_denominator"):
        path = tmp_path / f"{case}.mid"
        path.write_bytes(CASES[case][0])
        done = subprocess.run(
            [sys.executable, "-m", "musicvae.cli", "explain", str(path), "-r", "mel_2bar"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        out = done.stdout + done.stderr
        assert f"[{CASES[case][1]}" in out and "Traceback" not in out, out
        assert done.returncode == 1  # a bad meter drops pieces, not the file, but here every piece: no window
