"""Hand-made MIDI files for tests, written with symusic."""

import symusic


def make_midi(notes, tempos=((0, 120.0),), meters=(), tpq=96, program=0, is_drum=False) -> bytes:
    """notes: (tick, duration, pitch); tempos: (tick, qpm); meters: (tick, numerator, denominator)."""
    score = symusic.Score(tpq)
    for tick, qpm in tempos:
        score.tempos.append(symusic.Tempo(tick, qpm))
    for tick, num, den in meters:
        score.time_signatures.append(symusic.TimeSignature(tick, num, den))
    track = symusic.Track("t", program, is_drum)
    for tick, duration, pitch in notes:
        track.notes.append(symusic.Note(tick, duration, pitch, 80))
    score.tracks.append(track)
    return score.dumps_midi()


def note_count(path) -> int:
    """Notes in a MIDI file, over all its tracks."""
    return sum(len(t.notes) for t in symusic.Score.from_file(str(path)).tracks)


def scale_tune(path, first: int, bars: int = 18) -> None:
    """A hand-made tune: eighth notes up and down a major scale from `first`, at 120 qpm in 4/4."""
    score = symusic.Score(480)
    track = symusic.Track("melody", 0, False)
    steps = [0, 2, 4, 5, 7, 9, 11, 12]
    for i in range(bars * 8):
        track.notes.append(symusic.Note(i * 240, 240, first + steps[i % 8 if (i // 8) % 2 == 0 else 7 - i % 8], 90))
    score.tracks.append(track)
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    score.tempos.append(symusic.Tempo(0, 120))
    path.write_bytes(score.dumps_midi())
