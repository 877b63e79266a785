"""The reference path: Magenta's melody, drum and trio extraction rebuilt on note-seq's own primitives.

note-seq 0.0.5 does not ship `extract_melodies` (it lived in magenta.pipelines), so its loop is restated here as
the reference describes it, around `Melody.from_quantized_sequence`."""

import itertools
import warnings
from collections import Counter

import numpy as np
from note_seq import drums_encoder_decoder, drums_lib, melodies_lib, midi_io, sequences_lib
from note_seq.melody_encoder_decoder import MelodyOneHotEncoding
from note_seq.protobuf import music_pb2

from musicvae.codecs import melody as our_melody
from musicvae.midi import Limits, read_midi
from musicvae.timing import STEPS, Piece, quantize

ENCODING = MelodyOneHotEncoding(21, 109)
DRUM_CLASS = {p: c for c, pitches in enumerate(drums_encoder_decoder.DEFAULT_DRUM_TYPE_PITCHES) for p in pitches}
DRUM_ENCODING = drums_encoder_decoder.MultiDrumOneHotEncoding([(c,) for c in range(9)])
SKIPPED = (sequences_lib.BadTimeSignatureError, sequences_lib.NegativeTimeError)


def quantized_pieces(path):
    """(index, piece, quantized piece) for the time-split pieces that quantize to 16 steps per bar."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sequence = midi_io.midi_file_to_note_sequence(str(path))
    for index, piece in enumerate(sequences_lib.split_note_sequence_on_time_changes(sequence)):
        try:
            quantized = sequences_lib.quantize_note_sequence(piece, 4)
        except SKIPPED:
            continue
        if sequences_lib.steps_per_bar_in_quantized_sequence(quantized) == 16:
            yield index, piece, quantized


def as_piece(index, quantized) -> Piece:
    """note-seq's quantized piece in our form, to test our extraction alone on the reference's own steps."""
    notes = np.array(
        [
            (n.instrument, n.program, n.is_drum, n.pitch, n.velocity, n.quantized_start_step, n.quantized_end_step)
            for n in quantized.notes
        ],
        dtype=STEPS,
    )
    return Piece(
        index,
        0.0,
        quantized.tempos[0].qpm,
        quantized.time_signatures[0].numerator,
        quantized.time_signatures[0].denominator,
        4,
        notes,
    )


def keep_notes(sequence, keep):
    kept = [n for n in sequence.notes if keep(n)]
    del sequence.notes[:]
    sequence.notes.extend(kept)


def map_drums(quantized):
    """DrumsConverter: only drum notes of mapped pitches, each pitch replaced by its class."""
    keep_notes(quantized, lambda n: n.is_drum and n.pitch in DRUM_CLASS)
    for n in quantized.notes:
        n.pitch = DRUM_CLASS[n.pitch]


def extract_melodies(quantized):
    melodies = []
    for instrument in sorted({n.instrument for n in quantized.notes}):
        search = 0
        while True:
            melody = melodies_lib.Melody()
            melody.from_quantized_sequence(
                quantized,
                instrument=instrument,
                search_start_step=search,
                gap_bars=1.0,
                ignore_polyphonic_notes=True,
                pad_end=True,
                filter_drums=True,
            )
            search = melody.end_step + (0 - melody.end_step) % 16
            if not melody:
                break
            if len(melody) > 1600:
                melody.set_length(1600)
            melodies.append(melody)
    return melodies


def melody_windows(path, slice_bars, programs=None) -> dict[int, set[tuple[int, ...]]]:
    """Per time-split piece index, the set of encoded windows, as OneHotMelodyConverter makes them."""
    out = {}
    size = slice_bars * 16
    for index, _, quantized in quantized_pieces(path):
        # The converter deletes these notes before quantizing; the other notes' steps are the same either way.
        keep_notes(quantized, lambda n: 21 <= n.pitch <= 108 and (programs is None or n.program in programs))
        windows = {tuple(m[i - size : i]) for m in extract_melodies(quantized) for i in range(size, len(m) + 1, 16)}
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
    out = {}
    size = slice_bars * 16
    for index, _, quantized in quantized_pieces(path):
        map_drums(quantized)
        windows = {tuple(t[i - size : i]) for t in extract_drum_tracks(quantized) for i in range(size, len(t) + 1, 16)}
        if windows:
            out[index] = {tuple(DRUM_ENCODING.encode_event(e) for e in w) for w in windows}
    return out


def _padded(events, start_step, total):
    """The inner converters' pad_to_total_time: pad on the left to step 0, then set the length to `total`."""
    events.set_length(len(events) + start_step, from_left=True)
    events.set_length(total)
    return events


def _instrument(piece, instrument, total_time):
    """TrioConverter's _extract_instrument, with the total time that pads every part to the piece's bars."""
    inner = music_pb2.NoteSequence()
    inner.CopyFrom(piece)
    keep_notes(inner, lambda n: n.instrument == instrument)
    inner.total_time = total_time
    return inner


def _inner_melody(piece, instrument, total_time):
    inner = _instrument(piece, instrument, total_time)
    keep_notes(inner, lambda n: 21 <= n.pitch <= 108)
    quantized = sequences_lib.quantize_note_sequence(inner, 4)
    melody = melodies_lib.Melody()
    melody.from_quantized_sequence(
        quantized,
        instrument=instrument,
        gap_bars=float("inf"),
        ignore_polyphonic_notes=True,
        pad_end=True,
        filter_drums=True,
    )
    if not melody:
        return None
    melody = _padded(melody, melody.start_step, quantized.total_quantized_steps)
    return [ENCODING.encode_event(e) for e in melody]


def _inner_drums(piece, instrument, total_time):
    inner = _instrument(piece, instrument, total_time)
    quantized = sequences_lib.quantize_note_sequence(inner, 4)
    map_drums(quantized)
    track = drums_lib.DrumTrack()
    track.from_quantized_sequence(quantized, gap_bars=float("inf"), pad_end=True)
    if not track:
        return None
    track = _padded(track, track.start_step, quantized.total_quantized_steps)
    return [DRUM_ENCODING.encode_event(e) for e in track]


def trio_windows(path, slice_bars=16, gap_bars=2) -> dict[int, Counter]:
    """Per piece index, the multiset of windows (tuples of per-step (mel, bass, drums) indices), as
    TrioConverter._to_tensors makes them before its cap of 5."""
    out = {}
    for index, piece, quantized in quantized_pieces(path):
        total_bars = min(int(np.ceil(quantized.total_quantized_steps / 16)), 1024)
        kinds = np.zeros(128, np.uint8)  # 0 unknown, 1 mel, 2 bass, 3 drums, 4 invalid
        coverage = np.zeros((total_bars, 128), bool)
        for n in quantized.notes:
            kind = 3 if n.is_drum else 1 if n.program < 32 else 2 if n.program < 40 else 4
            kinds[n.instrument] = kind if kinds[n.instrument] in (0, kind) else 4
            first, last = n.quantized_start_step // 16, int(np.ceil(n.quantized_end_step / 16))
            if first < total_bars:
                coverage[first : min(last, total_bars), n.instrument] = True
        by_kind = {k: [i for i in range(128) if kinds[i] == k] for k in (1, 2, 3)}
        if not all(by_kind.values()):
            continue
        total_time = total_bars * 16 * 60 / piece.tempos[0].qpm / 4 if piece.tempos else total_bars * 16 * 60 / 120 / 4
        encoded = {}
        for kind, inner in ((1, _inner_melody), (2, _inner_melody), (3, _inner_drums)):
            for i in by_kind[kind]:
                tokens = inner(piece, i, total_time)
                if tokens is None:
                    coverage[:, i] = False
                else:
                    encoded[i] = tokens
        original = coverage.copy()
        for j in range(total_bars):
            coverage[j] = original[max(0, j - gap_bars) : min(total_bars, j + gap_bars) + 1].any(axis=0)
        windows = Counter()
        for group in itertools.product(by_kind[1], by_kind[2], by_kind[3]):
            cover = coverage[:, group].all(axis=1)
            cover[:gap_bars] = coverage[:gap_bars, group].any()
            cover[-gap_bars:] = coverage[-gap_bars:, group].any()
            for j in range(total_bars - slice_bars + 1):
                if cover[j : j + slice_bars].all() and all(i in encoded for i in group):
                    steps = range(j * 16, (j + slice_bars) * 16)
                    windows[
                        tuple((encoded[group[0]][s], encoded[group[1]][s], encoded[group[2]][s]) for s in steps)
                    ] += 1
        if windows:
            out[index] = windows
    return out


def ours(path, slice_bars, programs):
    """Our extraction's melody windows of a file, keyed as the reference keys them: by piece."""
    pieces, _ = quantize(read_midi(path, Limits(max_notes=10**6)))
    out = {}
    for p in pieces:
        windows, _ = our_melody.melody_windows(p, slice_bars, programs)
        if windows:
            out[p.index] = {tuple(w.tolist()) for w, _, _ in windows}
    return out
