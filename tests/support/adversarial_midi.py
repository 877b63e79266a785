"""Hand-built MIDI files that once crashed extraction or blew up its memory, written byte by byte, since symusic
refuses to write most of them. Each case names the typed reason extraction must give it."""

import struct


def vlq(n: int) -> bytes:
    """A MIDI variable-length quantity."""
    out = [n & 0x7F]
    while n := n >> 7:
        out.append(0x80 | (n & 0x7F))
    return bytes(reversed(out))


def track(*events: tuple[int, bytes]) -> bytes:
    """(delta ticks, event bytes) pairs, closed by end-of-track."""
    body = b"".join(vlq(delta) + data for delta, data in events) + b"\x00\xff\x2f\x00"
    return b"MTrk" + struct.pack(">I", len(body)) + body


def smf(*tracks: bytes, division: int = 96) -> bytes:
    return b"MThd" + struct.pack(">IHHH", 6, 1, len(tracks), division) + b"".join(tracks)


def tempo(microseconds_per_quarter: int) -> bytes:
    return b"\xff\x51\x03" + microseconds_per_quarter.to_bytes(3, "big")


def meter(numerator: int, denominator_power: int) -> bytes:
    return bytes([0xFF, 0x58, 0x04, numerator, denominator_power, 24, 8])


def note(pitch: int, length: int, channel: int = 0) -> tuple[tuple[int, bytes], tuple[int, bytes]]:
    return (0, bytes([0x90 | channel, pitch, 80])), (length, bytes([0x80 | channel, pitch, 0]))


def melody(pitches=(60, 62, 64, 65, 67, 65, 64, 62) * 4, length: int = 96, channel: int = 0) -> tuple:
    """Quarter notes at 96 ticks per quarter: eight bars of 4/4."""
    return tuple(e for p in pitches for e in note(p, length, channel))


def _blowup() -> bytes:
    """Melody, bass and drums at 1 µs per quarter and 1 tick per quarter, notes 2^28 - 1 ticks apart: 268 s, but
    a billion sixteenth-note steps."""
    far = (1 << 28) - 1  # the longest delta-time a MIDI file can hold
    parts = [
        track((0, tempo(1)), *note(72, far), *note(74, far)),
        track((0, b"\xc1\x21"), *note(40, far, 1), *note(43, far, 1)),
        track(*note(36, far, 9), *note(38, far, 9)),
    ]
    return smf(*parts, division=1)


CASES = {
    # symusic reads a denominator power of 8..31 or 255 as a denominator of 0
    "zero_denominator": (smf(track((0, meter(4, 8)), *melody())), "bad_time_signature"),
    "zero_tempo": (smf(track((0, tempo(0)), *melody())), "bad_tempo"),
    "zero_tempo_later": (smf(track((0, tempo(500_000)), *melody()[:8], (0, tempo(0)), *melody()[8:])), "bad_tempo"),
    "billion_steps": (_blowup(), "too_many_steps"),
    "fast_tempo_long_notes": (smf(track((0, tempo(50)), *note(60, 1 << 21), *note(62, 1 << 21))), "too_many_steps"),
}

# Files that must extract, not be rejected: pretty_midi drops a zero-length note, and so must we.
ZERO_LENGTH = {
    "single_zero_length_note": smf(track(*note(60, 0))),
    "zero_length_note_last": smf(track(*melody(), *note(60, 0))),
    "zero_length_note_amid_same_pitch": smf(
        track(*note(60, 96), (0, b"\x90\x3c\x50"), (0, b"\x80\x3c\x00"), *note(60, 96))
    ),
}


def at_the_limits(notes: int = 999_990, steps: int = 99_000, pieces: int = 99, per_kind: int = 1) -> bytes:
    """The costliest files the default limits let through: a million notes of melody, bass and drums (`per_kind`
    tracks of each, which trio extraction combines every way) in 8 MB, over 99,000 sixteenth-note steps (1,799 s
    at about 825 qpm), cut into 99 tempo pieces."""
    division, qpm = 96, 825
    ticks = steps * division // 4
    kinds = [(60, 0, 0), (36, 33, 1), (36, None, 9)] * per_kind  # lowest pitch, program, channel
    per_part, cut = notes // len(kinds), ticks // pieces
    spacing = ticks // per_part
    parts = [track(*((cut if i else 0, tempo(round(6e7 / (qpm + i % 2)))) for i in range(pieces)))]
    for low, program, channel in kinds:
        events = [(0, bytes([0xC0 | channel, program]))] if program is not None else []
        for i in range(per_part):
            pitch = low + (i * 7) % 12
            events += [(0, bytes([0x90 | channel, pitch, 80])), (spacing, bytes([0x80 | channel, pitch, 0]))]
        parts.append(track(*events))
    return smf(*parts, division=division)


def many_tracks(tracks: int = 9_999, steps: int = 99_000) -> bytes:
    """One long note per track, each track a melody across the whole file: windows multiply with tracks."""
    long = steps * 24  # ticks at 96 a quarter
    return smf(track((0, tempo(round(6e7 / 825)))), *(track(*note(40 + i % 48, long)) for i in range(tracks)))


# The costliest files within the default limits, which the fuzzer times unmutated.
HEAVY = {
    "at_the_limits": lambda: at_the_limits(),
    "at_the_limits_5_trios": lambda: at_the_limits(per_kind=5),
    "at_the_limits_10_trios": lambda: at_the_limits(per_kind=10),
    "many_tracks": many_tracks,
}
