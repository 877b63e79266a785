"""The reference path: Magenta's melody and drum extraction rebuilt on note-seq's own primitives.

note-seq 0.0.5 does not ship `extract_melodies` (it lived in magenta.pipelines), so its loop is restated here as
the reference describes it, around `Melody.from_quantized_sequence`."""

import warnings

from note_seq import drums_encoder_decoder, drums_lib, melodies_lib, midi_io, sequences_lib
from note_seq.melody_encoder_decoder import MelodyOneHotEncoding

ENCODING = MelodyOneHotEncoding(21, 109)
DRUM_CLASS = {p: c for c, pitches in enumerate(drums_encoder_decoder.DEFAULT_DRUM_TYPE_PITCHES) for p in pitches}
DRUM_ENCODING = drums_encoder_decoder.MultiDrumOneHotEncoding([(c,) for c in range(9)])
SKIPPED = (sequences_lib.BadTimeSignatureError, sequences_lib.NegativeTimeError)


def extract_melodies(quantized):
    melodies = []
    for instrument in sorted({n.instrument for n in quantized.notes}):
        search = 0
        while True:
            melody = melodies_lib.Melody()
            melody.from_quantized_sequence(quantized, instrument=instrument, search_start_step=search, gap_bars=1.0,
                                           ignore_polyphonic_notes=True, pad_end=True, filter_drums=True)
            search = melody.end_step + (0 - melody.end_step) % 16
            if not melody:
                break
            if len(melody) > 1600:
                melody.set_length(1600)
            melodies.append(melody)
    return melodies


def melody_windows(path, slice_bars, programs=None) -> dict[int, set[tuple[int, ...]]]:
    """Per time-split piece index, the set of encoded windows, as OneHotMelodyConverter makes them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sequence = midi_io.midi_file_to_note_sequence(str(path))
    out = {}
    for index, piece in enumerate(sequences_lib.split_note_sequence_on_time_changes(sequence)):
        kept = [n for n in piece.notes if 21 <= n.pitch <= 108 and (programs is None or n.program in programs)]
        del piece.notes[:]
        piece.notes.extend(kept)
        try:
            quantized = sequences_lib.quantize_note_sequence(piece, 4)
        except SKIPPED:
            continue
        if sequences_lib.steps_per_bar_in_quantized_sequence(quantized) != 16:
            continue
        size = slice_bars * 16
        windows = {tuple(m[i - size:i]) for m in extract_melodies(quantized) for i in range(size, len(m) + 1, 16)}
        if windows:
            out[index] = {tuple(ENCODING.encode_event(e) for e in w) for w in windows}
    return out


def extract_drum_tracks(quantized):
    tracks, search = [], 0
    while True:
        track = drums_lib.DrumTrack()
        track.from_quantized_sequence(quantized, search_start_step=search, gap_bars=1.0, pad_end=True)
        search = track.end_step + (search - track.end_step) % 16
        if not track:
            break
        if len(track) > 1600:
            track.set_length(1600)
        tracks.append(track)
    return tracks


def drum_windows(path, slice_bars) -> dict[int, set[tuple[int, ...]]]:
    """Per piece index, the set of encoded windows, as DrumsConverter makes them (pitches become classes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sequence = midi_io.midi_file_to_note_sequence(str(path))
    out = {}
    for index, piece in enumerate(sequences_lib.split_note_sequence_on_time_changes(sequence)):
        try:
            quantized = sequences_lib.quantize_note_sequence(piece, 4)
        except SKIPPED:
            continue
        if sequences_lib.steps_per_bar_in_quantized_sequence(quantized) != 16:
            continue
        kept = []
        for n in quantized.notes:
            if n.is_drum and n.pitch in DRUM_CLASS:
                n.pitch = DRUM_CLASS[n.pitch]
                kept.append(n)
        del quantized.notes[:]
        quantized.notes.extend(kept)
        size = slice_bars * 16
        windows = {tuple(t[i - size:i]) for t in extract_drum_tracks(quantized) for i in range(size, len(t) + 1, 16)}
        if windows:
            out[index] = {tuple(DRUM_ENCODING.encode_event(e) for e in w) for w in windows}
    return out
