"""MIDI in: typed rejections, and times identical to pretty_midi's (what note-seq reads) on real files."""

import struct
import time
from collections import Counter

import numpy as np
import pretty_midi
import pytest

from musicvae.midi import Limits, MidiRejected, read_midi
from tests.support.midi_files import make_midi


def header(tpq: int) -> bytes:
    return b"MThd" + struct.pack(">IHHH", 6, 1, 1, tpq)


def track(events: bytes) -> bytes:
    return b"MTrk" + struct.pack(">I", len(events)) + events


ONE_NOTE = b"\x00\x90\x3c\x40\x60\x80\x3c\x00\x00\xff\x2f\x00"


def shared_files(shared_midi):
    return sorted(shared_midi.rglob("*.mid"))


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("zero-length", b"", "empty"),
        ("random bytes", bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8)), "corrupt"),
        ("0 ticks per quarter", header(0) + track(ONE_NOTE), "corrupt"),
        (
            "huge delta time",
            header(96) + track(b"\x00\x90\x3c\x40\x8f\xff\xff\x7f\x80\x3c\x00\x00\xff\x2f\x00"),
            "too_long",
        ),
        # six bytes a note under running status: 1.2 million notes in 7.2 MB, under the byte cap
        (
            "1.2 million notes",
            header(96)
            + track(b"\x00\x90\x3c\x40" + b"\x01\x3c\x00\x00\x3c\x40" * 1_199_999 + b"\x01\x3c\x00\x00\xff\x2f\x00"),
            "too_many_notes",
        ),
    ],
)
def test_bad_input_is_a_typed_rejection_within_the_budget(name, data, reason):
    start = time.perf_counter()
    with pytest.raises(MidiRejected) as e:
        read_midi(data)
    assert e.value.reason == reason and e.value.detail
    assert time.perf_counter() - start < Limits().timeout_seconds


def test_truncated_real_file_is_corrupt(shared_midi):
    data = shared_files(shared_midi)[0].read_bytes()
    with pytest.raises(MidiRejected, match="corrupt"):
        read_midi(data[: len(data) // 2])


def test_caps_are_parameters():
    data = make_midi([(0, 96, 60), (96, 96, 62), (192, 96, 64)])
    assert len(read_midi(data).notes) == 3
    for limits, reason in [
        (Limits(max_bytes=10), "too_large"),
        (Limits(max_notes=2), "too_many_notes"),
        (Limits(max_seconds=1.0), "too_long"),
    ]:
        with pytest.raises(MidiRejected) as e:
            read_midi(data, limits)
        assert e.value.reason == reason


def test_tempo_map_and_sorting():
    # 120 qpm for one quarter, then 60 qpm: the third note starts at 0.5 + 1.0 s.
    table = read_midi(
        make_midi(
            [(192, 96, 60), (0, 96, 64), (0, 96, 67), (96, 96, 62)],
            tempos=((0, 120.0), (96, 60.0)),
            meters=((0, 3, 4),),
        )
    )
    assert table.notes["start"].tolist() == [0.0, 0.0, 0.5, 1.5]
    assert table.notes["pitch"].tolist() == [67, 64, 62, 60]  # simultaneous onsets: highest first
    assert table.tempos.tolist() == [[0.0, 120.0], [0.5, 60.0]]
    assert table.time_signatures.tolist() == [[0.0, 3.0, 4.0]]


def test_notes_and_times_are_those_pretty_midi_reads_on_every_shared_file(shared_midi):
    """Bit-identical seconds, tempo and meter maps; overlapping notes of one pitch end as pretty_midi ends them."""
    for path in shared_files(shared_midi):
        table = read_midi(path, Limits(max_notes=10**6))
        pm = pretty_midi.PrettyMIDI(str(path))
        ours = Counter(
            zip(
                table.notes["pitch"].tolist(),
                table.notes["start"].tolist(),
                table.notes["end"].tolist(),
                table.notes["is_drum"].tolist(),
            )
        )
        assert ours == Counter((n.pitch, n.start, n.end, i.is_drum) for i in pm.instruments for n in i.notes), path
        times, qpms = pm.get_tempo_changes()
        assert table.tempos[:, 0].tolist() == times.tolist() and table.tempos[:, 1].tolist() == qpms.tolist()
        assert table.time_signatures.tolist() == [
            [t.time, t.numerator, t.denominator] for t in pm.time_signature_changes
        ]
        programs = Counter(
            zip(table.notes["pitch"].tolist(), table.notes["start"].tolist(), table.notes["program"].tolist())
        )
        # the program in force at each note's note-off, as pretty_midi gives it, where a track switches programs too
        assert programs == Counter((n.pitch, n.start, i.program) for i in pm.instruments for n in i.notes), path


def test_overlapping_notes_of_one_pitch_end_at_the_first_note_off():
    # Two C4s: on at 0 and 96, offs at 192 and 288. pretty_midi ends both at 192.
    table = read_midi(make_midi([(0, 192, 60), (96, 192, 60)]))
    assert table.notes["end"].tolist() == [1.0, 1.0]
