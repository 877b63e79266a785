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
