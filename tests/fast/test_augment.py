"""Magenta's data recipe on cut windows: transposition against the windows of the transposed MIDI itself, and the
per-epoch draws of the training windows; our displacement and staccato against the windows of the delayed and the
detached MIDI."""

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest
import symusic
import torch

from lightning_modules.datamodule import DataRecipe, RecipeSampler, ShardDataModule
from musicvae.augment import capped_draw, displace, staccato, transpose
from musicvae.codecs import melody
from musicvae.extract import REPRESENTATIONS, extract

MEL = replace(REPRESENTATIONS["mel_2bar"], max_per_piece=None)


def windows(midi: bytes) -> Counter:
    return Counter(w.tokens.tobytes() for w in extract(midi, MEL).windows)


def shifted(midi: bytes, semitones: int) -> bytes:
    return symusic.Score.from_midi(midi).shift_pitch(semitones).dumps_midi()


@pytest.mark.parametrize("semitones", [-5, -1, 3, 5])
def test_a_transposed_window_is_the_window_of_the_transposed_file(shared_midi, semitones):
    compared = 0
    for path in sorted((shared_midi / "pop909").glob("*.mid"))[:4]:
        midi = path.read_bytes()
        found = extract(midi, MEL).windows
        moved = Counter(transpose(w.tokens, semitones, "melody").tobytes() for w in found)
        assert moved == windows(shifted(midi, semitones)), path.name
        compared += len(found)
    assert compared > 100


def legato(pitches: list[int]) -> bytes:
    """Quarter notes, each ending where the next begins, at 120 qpm in 4/4."""
    score = symusic.Score(480)
    track = symusic.Track("melody", 0, False)
    for i, pitch in enumerate(pitches):
        track.notes.append(symusic.Note(i * 480, 480, pitch, 90))
    score.tracks.append(track)
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    score.tempos.append(symusic.Tempo(0, 120))
    return score.dumps_midi()


@pytest.mark.parametrize(
    "pitches, semitones",
    [
        ([100, 104, 106, 104, 100, 98, 104, 100], 5),  # 109 and 111 leave the range: deleted, as Magenta does
        ([30, 24, 26, 30, 24, 30, 33, 35], -5),  # 19 and 21: the first deleted, the second kept
        ([106, 60, 62, 64, 65, 67, 69, 71], 5),  # the window's first note deleted
    ],
)
def test_a_note_pushed_out_of_range_is_deleted_as_from_the_file(pitches, semitones):
    midi = legato(pitches)
    (window,) = windows(midi)
    tokens = np.frombuffer(window, np.uint8)
    assert windows(shifted(midi, semitones)) == Counter([transpose(tokens, semitones, "melody").tobytes()])


def test_a_window_that_would_lose_every_note_stays_as_it_is():
    tokens = melody.encode([104] + [melody.NO_EVENT] * 30 + [melody.NOTE_OFF])
    assert (transpose(tokens, 5, "melody") == tokens).all()


def test_trio_moves_melody_and_bass_but_never_drums():
    rng = np.random.default_rng(0)
    trio = np.stack([rng.integers(30, 60, 64), rng.integers(10, 40, 64), rng.integers(0, 512, 64)], 1).astype(np.int16)
    moved = transpose(trio, -3, "trio")
    assert (moved[:, :2] == trio[:, :2] - 3).all() and (moved[:, 2] == trio[:, 2]).all()
    drums = trio[:, 2]
    assert transpose(drums, 4, "drums") is drums


def test_trio_bass_pushed_out_of_range_is_deleted_and_a_part_left_silent_keeps_the_window():
    steps = 32
    trio = np.zeros((steps, 3), np.int16)
    trio[0, 0], trio[16, 0] = melody.encode([60, 62])  # melody: two half-bar notes
    trio[0, 1], trio[8, 1], trio[16, 1] = melody.encode([36, 23, 40])  # bass: 23 - 5 leaves the range
    trio[::4, 2] = 1
    moved = transpose(trio, -5, "trio")
    assert moved[[0, 16], 0].tolist() == melody.encode([55, 57]).tolist()
    assert moved[[0, 8, 16], 1].tolist() == [*melody.encode([31, melody.NOTE_OFF, 35]).tolist()]
    assert (moved[:, 2] == trio[:, 2]).all()
    trio[[0, 16], 1] = 0  # the bass's only note is now the one that leaves the range
    assert transpose(trio, -5, "trio") is trio


def delayed(midi: bytes, sixteenths: int) -> bytes:
    score = symusic.Score.from_midi(midi)
    return score.shift_time(sixteenths * score.ticks_per_quarter // 4).dumps_midi()


@pytest.mark.parametrize("sixteenths", [1, 2, 3])
def test_a_displaced_window_is_the_window_of_the_delayed_file(sixteenths):
    midi = legato([60, 62, 64, 65, 67, 69, 71, 72])
    (window,) = windows(midi)
    tokens = np.frombuffer(window, np.uint8)
    moved = displace(tokens, sixteenths, "melody")
    # the delayed file spills into a third bar, so it has a second window, from bar 1
    (first,) = [w.tokens for w in extract(delayed(midi, sixteenths), MEL).windows if w.start_bar == 0]
    assert (moved == first).all()
    assert melody.decode(moved)[0] == melody.NO_EVENT  # a rest where the window's first note was


def test_displacement_delays_every_part_and_keeps_a_window_that_would_fall_silent():
    rng = np.random.default_rng(0)
    trio = np.stack([rng.integers(2, 60, 64), rng.integers(2, 40, 64), rng.integers(1, 512, 64)], 1).astype(np.int16)
    moved = displace(trio, 3, "trio")
    assert (moved[:3] == 0).all() and (moved[3:] == trio[:-3]).all()
    kick = np.zeros(32, np.int16)
    kick[[0, 30]] = 1  # drums' class 1, the kick alone
    assert displace(kick, 2, "drums")[[2, 30, 31]].tolist() == [1, 0, 0]
    late = melody.encode([melody.NO_EVENT] * 30 + [60, melody.NO_EVENT])
    assert displace(late, 3, "melody") is late


def notes(lengths: list[int], gaps: list[int]) -> bytes:
    """A melody of notes `lengths` sixteenths long, each followed by `gaps` sixteenths of rest, at 120 qpm in 4/4."""
    score = symusic.Score(480)
    track = symusic.Track("melody", 0, False)
    start = 0
    for i, (length, gap) in enumerate(zip(lengths, gaps)):
        track.notes.append(symusic.Note(start * 120, length * 120, 60 + i, 90))
        start += length + gap
    score.tracks.append(track)
    score.time_signatures.append(symusic.TimeSignature(0, 4, 4))
    score.tempos.append(symusic.Tempo(0, 120))
    return score.dumps_midi()


def test_a_staccato_window_is_the_window_of_the_file_played_detached():
    lengths, gaps = [4, 2, 3, 1, 5, 6, 2, 4, 2], [0, 0, 1, 0, 1, 0, 1, 0, 0]  # two bars, legato and detached notes
    (window,) = windows(notes(lengths, gaps))
    halved = [length // 2 or 1 for length in lengths]  # a note of one step stays as it is
    detached = notes(halved, [length + gap - half for length, gap, half in zip(lengths, gaps, halved)])
    assert Counter([staccato(np.frombuffer(window, np.uint8), "melody").tobytes()]) == windows(detached)


def test_staccato_detaches_melody_and_bass_but_leaves_drums():
    trio = np.zeros((32, 3), np.int16)
    trio[::8, :2] = melody.encode([60, 62, 64, 65])[:, None]  # half-bar notes in both parts
    trio[::2, 2] = 5
    played = staccato(trio, "trio")
    assert played[4::8, :2].tolist() == [[1, 1]] * 4 and (played[:, 2] == trio[:, 2]).all()
    drums = trio[:, 2]
    assert staccato(drums, "drums") is drums


def test_displacement_draws_delays_without_changing_the_other_draws():
    files = np.repeat(np.arange(20), 12)
    groups = (files * 2 + np.tile(np.repeat([0, 1], 6), 20), files)
    plain = list(RecipeSampler(groups, 5, (-5, 5), seed=7))
    displaced = list(RecipeSampler(groups, 5, (-5, 5), seed=7, delays=(0, 3)))
    assert [d[:2] for d in displaced] == [d[:2] for d in plain]
    assert {delay for *_, delay, _ in displaced} == {0, 1, 2, 3}
    detached = list(RecipeSampler(groups, 5, (-5, 5), seed=7, delays=(0, 3), staccato=0.25))
    assert [d[:3] for d in detached] == [d[:3] for d in displaced]
    assert 0.15 < np.mean([d[3] for d in detached]) < 0.35 and not any(d[3] for d in displaced)


def test_capped_draws_hold_the_caps_each_epoch_and_reach_every_window():
    files = np.repeat(np.arange(30), 40)  # 30 files of 40 windows in 4 pieces of 10
    pieces = files * 4 + np.tile(np.repeat(np.arange(4), 10), 30)
    seen, sizes = Counter(), set()
    for epoch in range(60):
        rows = capped_draw(pieces, files, 5, np.random.default_rng([0, epoch]))
        assert max(Counter(files[rows]).values()) == 5 and max(Counter(pieces[rows]).values()) <= 5
        seen.update(rows.tolist())
        sizes.add(len(rows))
    assert sizes == {150} and len(seen) == len(files)  # every window trains within 60 epochs
    assert (capped_draw(pieces, files, None, np.random.default_rng(0)) == np.arange(len(files))).all()


def test_the_sampler_repeats_under_its_seed_and_draws_afresh_each_epoch():
    files = np.repeat(np.arange(20), 12)
    sampler = RecipeSampler((files * 2 + np.tile(np.repeat([0, 1], 6), 20), files), 5, (-5, 5), seed=7)
    first = list(sampler)
    assert len(first) == len(sampler) == 100 and list(sampler) == first
    assert {shift for _, shift, *_ in first} == set(range(-5, 6))
    assert {delay for *_, delay, _ in first} == {0}
    sampler.set_epoch(1)
    assert list(sampler) != first
    sampler.set_epoch(0)
    assert list(sampler) == first


def test_the_data_module_trains_on_drawn_transposed_windows(shared_midi, tmp_path):
    from pipelines.preprocess import run

    out = tmp_path / "shards"
    run(
        [
            "--input",
            str(shared_midi / "pop909" / "*.mid"),
            "--output",
            str(out),
            "--representation",
            "mel_2bar",
            "--set",
            "cap_splits=[eval,test]",
            "--set",
            "splits={train: 1.0, eval: 0.0, test: 0.0}",
        ]
    )
    rep = REPRESENTATIONS["mel_2bar"]
    plain = ShardDataModule(out / "mel_2bar", 16, seed=1)
    plain.setup()
    data = ShardDataModule(out / "mel_2bar", 16, seed=1, recipe=DataRecipe((-5, 5), True), representation=rep)
    data.setup()
    every = plain.splits["train"].tensors[0]
    batches = list(data.train_dataloader())
    drawn = torch.cat([b[0] for b in batches])
    assert len(drawn) == len(data.sampler) // 16 * 16 < len(every)  # the caps bind: the shards hold every window
    assert drawn.dtype == every.dtype and drawn.shape[1:] == every.shape[1:]
    originals = {w.numpy().tobytes() for w in every}
    assert sum(w.numpy().tobytes() in originals for w in drawn) < len(drawn) / 2  # most windows moved
    for recipe, played in [
        (DataRecipe(None, False, displace=(1, 1)), lambda w: displace(w, 1, "melody")),
        (DataRecipe(None, False, staccato=1.0), lambda w: staccato(w, "melody")),
    ]:
        ours = ShardDataModule(out / "mel_2bar", 16, seed=1, recipe=recipe, representation=rep)
        ours.setup()
        drawn = torch.cat([b[0] for b in ours.train_dataloader()])
        expected = {played(w.numpy()).tobytes() for w in every}
        assert len(drawn) == len(every) // 16 * 16 and all(w.numpy().tobytes() in expected for w in drawn)
