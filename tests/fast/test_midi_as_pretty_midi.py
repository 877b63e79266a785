"""read_midi reads a file as pretty_midi (and so note-seq and Magenta) does where symusic reads it otherwise:
tempos and meters come from the first track only, and a note takes the program in force at its note-off."""

import struct
import warnings
from collections import Counter

import pretty_midi
import pytest

from musicvae.midi import read_midi
from tests.support import magenta_reference as ref
from tests.support.adversarial_midi import melody, meter, note, smf, tempo, track


def pretty(path):
    with warnings.catch_warnings():  # pretty_midi warns of tempos and meters outside the first track
        warnings.simplefilter("ignore")
        return pretty_midi.PrettyMIDI(str(path))


def assert_read_as_pretty_midi(path):
    """Notes with their instrument (note-seq's numbering), program and seconds, the tempo and meter maps."""
    table, pm = read_midi(path), pretty(path)
    ours = Counter(
        zip(*(table.notes[f].tolist() for f in ("instrument", "program", "is_drum", "pitch", "start", "end")))
    )
    assert ours == Counter(
        (i, inst.program, inst.is_drum, n.pitch, n.start, n.end)
        for i, inst in enumerate(pm.instruments)
        for n in inst.notes
    )
    times, qpms = pm.get_tempo_changes()
    assert table.tempos.tolist() == [[t, q] for t, q in zip(times.tolist(), qpms.tolist())]
    assert table.time_signatures.tolist() == [[t.time, t.numerator, t.denominator] for t in pm.time_signature_changes]


def written(tmp_path, data: bytes):
    path = tmp_path / "crafted.mid"
    path.write_bytes(data)
    return path


def format_0(single_track: bytes) -> bytes:
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, 96) + single_track


CONDUCTOR = track((0, tempo(500_000)))  # 120 qpm in the first track, as a type-1 file has it
LATER = melody()[:8] + ((0, tempo(1_000_000)), (0, meter(3, 2))) + melody()[8:]  # 60 qpm and 3/4 from bar 2

TEMPO_AND_METER_PLACES = {
    "in track 1, ignored": smf(CONDUCTOR, track(*LATER)),
    "in track 2, ignored": smf(CONDUCTOR, track(*melody()), track(*LATER)),
    "in track 0 of a type-1 file": smf(track(*LATER), track(*melody())),
    "in a type-0 file's only track": format_0(track(*LATER)),
}


@pytest.mark.parametrize("place", TEMPO_AND_METER_PLACES)
def test_tempo_and_meter_changes_count_in_the_first_track_only(tmp_path, place):
    path = written(tmp_path, TEMPO_AND_METER_PLACES[place])
    assert_read_as_pretty_midi(path)
    ignored = "ignored" in place
    assert (len(read_midi(path).tempos) == 1) == ignored
    assert ref.ours(path, 2, None) == ref.melody_windows(path, 2)


def test_a_zero_tempo_outside_the_first_track_is_ignored_not_a_rejection(tmp_path):
    path = written(tmp_path, smf(CONDUCTOR, track(*melody()[:8], (0, tempo(0)), *melody()[8:])))
    assert_read_as_pretty_midi(path)
    assert read_midi(path).tempos.tolist() == [[0.0, 120.0]]
    assert ref.ours(path, 2, None) == ref.melody_windows(path, 2)


def test_a_note_takes_the_program_in_force_at_its_note_off(tmp_path):
    """Channel 0 switches from piano (0) to bass (33) while a C4 sounds, and back while an E4 sounds; channel 1
    switches between notes. pretty_midi files the C4 under bass and the E4 under piano, each (program, channel)
    an instrument of its own."""
    on, off = (
        lambda pitch, channel=0: bytes([0x90 | channel, pitch, 80]),
        lambda pitch, channel=0: bytes([0x80 | channel, pitch, 0]),
    )
    path = written(
        tmp_path,
        smf(
            CONDUCTOR,
            track(
                (0, on(60)),
                (48, b"\xc0\x21"),
                (48, off(60)),
                (0, on(64)),
                (48, b"\xc0\x00"),
                (48, off(64)),
                *note(67, 96),
                (0, b"\xc1\x18"),
                *note(72, 96, channel=1),
                (0, b"\xc1\x19"),
                *note(74, 96, channel=1),
            ),
        ),
    )
    assert_read_as_pretty_midi(path)
    programs = dict(zip(read_midi(path).notes["pitch"].tolist(), read_midi(path).notes["program"].tolist()))
    assert programs == {60: 33, 64: 0, 67: 0, 72: 24, 74: 25}
