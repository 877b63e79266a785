"""One file to windows with metadata and reasons; windows back to MIDI and NoteSequence."""

import numpy as np
import pytest

from musicvae import export
from musicvae.codecs import drums, melody
from musicvae.extract import REPRESENTATIONS, Representation, extract
from tests.support.midi_files import make_midi


def test_bad_file_gives_its_reason_and_no_windows():
    result = extract(b"MThd\x00\x00", REPRESENTATIONS["mel_2bar"])
    assert result.windows == [] and result.reasons == {"corrupt": 1} and result.detail


def test_file_without_notes_says_so():
    assert extract(make_midi([]), REPRESENTATIONS["drums_2bar"]).reasons == {"no_notes": 1, "no_windows": 1}


def test_meter_that_is_not_16_steps_per_bar_is_named():
    data = make_midi([(i * 96, 96, 60 + i % 5) for i in range(40)], meters=((0, 3, 4),))
    result = extract(data, REPRESENTATIONS["mel_2bar"])
    assert result.reasons == {"not_16_steps_per_bar": 1, "no_windows": 1}


def test_windows_carry_piece_bar_tempo_and_program():
    # Two bars of C-D-E-F quarter notes at 90 qpm on program 5.
    data = make_midi(
        [(i * 96, 96, [60, 62, 64, 65][i % 4]) for i in range(8)] + [(8 * 96, 96, 67)], tempos=((0, 90.0),), program=5
    )
    first, second = extract(data, REPRESENTATIONS["mel_2bar"]).windows  # 3 bars give 2 windows
    assert [(w.piece, w.start_bar, w.programs) for w in (first, second)] == [(0, 0, (5,)), (0, 1, (5,))]
    assert first.qpm == pytest.approx(90.0, rel=1e-6)  # MIDI stores whole microseconds per quarter
    window = first
    assert melody.to_notes(window.tokens)[:2] == [(60, 0, 4), (62, 4, 8)]


@pytest.mark.parametrize("name", ["mel_2bar", "mel_16bar"])  # no shared drum or trio file splits so
def test_cap_keeps_at_most_5_per_piece_then_5_per_file_the_same_way_each_run(shared_midi, name):
    """Magenta samples 5 windows per time-split piece, then 5 of those per file (combine_converter_tensors)."""
    unlimited = Representation(**{**REPRESENTATIONS[name].__dict__, "max_per_piece": None})
    per_piece = lambda path: np.bincount([w.piece for w in extract(path, unlimited).windows])  # noqa: E731
    # a file split into pieces (at tempo changes) with more than 5 windows even after the per-piece cap
    path = next(p for p in sorted(shared_midi.rglob("*.mid")) if np.minimum(per_piece(p), 5).sum() > 5)
    capped, uncapped = extract(path, REPRESENTATIONS[name]), extract(path, unlimited)
    assert len(capped.windows) == 5 and len({w.piece for w in capped.windows}) > 1
    assert capped.reasons["over_cap"] == len(uncapped.windows) - 5
    again = extract(path, REPRESENTATIONS[name])
    assert [w.tokens.tobytes() for w in again.windows] == [w.tokens.tobytes() for w in capped.windows]


def test_windows_per_file_match_the_reference_with_magentas_caps(shared_midi):
    """Counts after both caps, against note-seq's windows capped the way Magenta's data.py caps them."""
    from musicvae.extract import extract_all
    from musicvae.midi import Limits
    from tests.support import magenta_reference as ref

    def capped(windows_per_piece):
        return min(5, sum(min(5, len(w)) for w in windows_per_piece.values()))

    reps = [REPRESENTATIONS[n] for n in ("mel_2bar", "mel_16bar", "drums_2bar")]
    total = 0
    for path in sorted(shared_midi.rglob("*.mid")):
        mine = extract_all(path, reps, Limits(max_notes=10**6))
        theirs = {
            "mel_2bar": ref.melody_windows(path, 2, set(range(32))),
            "mel_16bar": ref.melody_windows(path, 16),
            "drums_2bar": ref.drum_windows(path, 2),
        }
        for name, windows in theirs.items():
            assert len(mine[name].windows) == capped(windows), (path, name)
            total += capped(windows)
    assert total > 500


def test_exported_windows_extract_to_themselves(shared_midi):
    """decode → MIDI → encode is the identity on real windows, at the source tempo."""
    path = shared_midi / "lakh/55269aebbc2e7784ca2d1d4472141889.mid"
    for name, codec in [("mel_2bar", melody), ("drums_2bar", drums)]:
        rep = Representation(**{**REPRESENTATIONS[name].__dict__, "max_per_piece": None})
        for w in extract(path, rep).windows[:20]:
            parts = [(codec.to_notes(w.tokens), w.programs[0] if w.programs else 0, name.startswith("drums"))]
            again = extract(export.to_midi(parts, w.qpm), rep).windows
            assert w.tokens.tobytes() in {x.tokens.tobytes() for x in again}
            assert again[0].qpm == pytest.approx(w.qpm)


def test_exported_trio_windows_extract_to_themselves(shared_midi):
    from musicvae.codecs import trio

    rep = Representation(**{**REPRESENTATIONS["trio_16bar"].__dict__, "max_per_piece": None})
    windows = [w for p in sorted(shared_midi.glob("lakh/*.mid")) for w in extract(p, rep).windows[:3]]
    assert len(windows) >= 6
    for w in windows:
        again = extract(export.to_midi(trio.to_parts(w.tokens), w.qpm), rep).windows
        # a window cut where a note ends opens with a note-off, which MIDI has no way to say: silence, as no event
        expected = w.tokens.copy()
        expected[0, :2][expected[0, :2] == 1] = 0  # tokens: 0 no event, 1 note off
        assert [x.tokens.tobytes() for x in again] == [expected.tobytes()]
        assert again[0].programs == (0, 33)


def test_note_sequence_export_matches_the_midi_export():
    notes = [(60, 0, 2), (62, 4, 6)]
    sequence = export.to_note_sequence([(notes, 0, False), ([(36, 0, 1)], 0, True)], qpm=100.0)
    assert [
        (n.pitch, round(n.start_time, 9), round(n.end_time, 9), n.instrument, n.is_drum, n.velocity)
        for n in sequence.notes
    ] == [(60, 0.0, 0.3, 0, False, 80), (62, 0.6, 0.9, 0, False, 80), (36, 0.0, 0.15, 9, True, 80)]
    assert sequence.tempos[0].qpm == 100.0 and sequence.total_time == pytest.approx(0.9)


def test_explain_command_names_windows_and_reasons(shared_midi, tmp_path):
    import subprocess
    import sys

    def explain(path, *args, code=0):
        result = subprocess.run(
            [sys.executable, "-m", "musicvae.cli", "explain", str(path), *args], capture_output=True, text=True
        )
        assert result.returncode == code, result.stderr
        return result.stdout + result.stderr

    out = explain(shared_midi / "lakh/55269aebbc2e7784ca2d1d4472141889.mid")
    summaries = [line for line in out.splitlines() if not line.startswith("  ")]
    assert [line.split(":")[0] for line in summaries] == list(REPRESENTATIONS)
    listed = out.split("mel_16bar:")[1].split("drums_2bar:")[0]
    assert "5 kept for training" in listed.splitlines()[0] and "over_cap=" in listed
    assert listed.count(", kept for training") == 5  # every window, those training keeps marked
    (tmp_path / "bad.mid").write_bytes(b"not midi")
    bad = explain(tmp_path / "bad.mid", "-r", "mel_2bar", code=1)
    assert f"error: {tmp_path / 'bad.mid'}: " in bad and "[corrupt]" in bad


def test_extract_all_parses_once_and_equals_each_representation(shared_midi):
    from musicvae.extract import extract_all

    reps = list(REPRESENTATIONS.values())
    for path in sorted(shared_midi.rglob("*.mid"))[::10]:
        together = extract_all(path, reps)
        for rep in reps:
            alone = extract(path, rep)
            assert together[rep.name].reasons == alone.reasons, (path, rep.name)
            assert [w.tokens.tobytes() for w in together[rep.name].windows] == [
                w.tokens.tobytes() for w in alone.windows
            ], (path, rep.name)


def test_file_split_into_over_100_pieces_is_dropped_as_magenta_does():
    notes = [(i * 96, 96, 60) for i in range(800)]
    tempos = [(i * 384, 100.0 + i % 2) for i in range(102)]  # changes at bars 1..101: 102 pieces
    result = extract(make_midi(notes, tempos=tempos), REPRESENTATIONS["mel_2bar"])
    assert result.reasons["too_many_time_splits"] == 1 and "102" in result.detail and not result.windows
    fewer = extract(make_midi(notes, tempos=tempos[:50]), REPRESENTATIONS["mel_2bar"])
    assert not fewer.reasons["too_many_time_splits"]
