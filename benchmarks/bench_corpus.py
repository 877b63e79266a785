"""Embedded-corpus rendering: music21 (ours) against note-seq's ABC parser (the reference alternative), and the
process pool against one process.

    python benchmarks/bench_corpus.py [--tunes 200]

note-seq is faster per tune but converts only a minority of these tunebooks (it rejects most ABC constructs they
use), which is why the corpus stage renders with music21."""

import argparse
import tempfile
import time
import warnings
from pathlib import Path

from note_seq import abc_parser, midi_io

from musicvae.corpus import abc
from musicvae.corpus.build import render_tunes


def note_seq_render(tune: abc.Tune) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tunes, errors = abc_parser.parse_abc_tunebook(tune.abc)
    sequence = next(iter(tunes.values()), None)
    if errors or sequence is None or not sequence.notes:
        return False
    midi_io.note_sequence_to_pretty_midi(sequence)
    return True


def music21_render(tune: abc.Tune) -> bool:
    try:
        abc.to_midi(tune)
        return True
    except Exception:
        return False


def timed(fn, tunes) -> tuple[float, int]:
    start = time.perf_counter()
    ok = 0
    for t in tunes:
        try:
            ok += fn(t)
        except Exception:
            pass
    return time.perf_counter() - start, ok


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tunes", type=int, default=200)
    n = parser.parse_args().tunes
    tunes = abc.select(abc.read_tunes(list(abc.COLLECTIONS)), ["4/4", "2/2"], n, seed=0)

    ref_s, ref_ok = timed(note_seq_render, tunes)
    ours_s, ours_ok = timed(music21_render, tunes)
    print(f"{n} tunes in 4/4 or 2/2, one process")
    print(f"  note-seq abc_parser (reference): {1000 * ref_s / n:7.1f} ms/tune, converted {ref_ok}/{n}")
    print(f"  music21 (ours):                  {1000 * ours_s / n:7.1f} ms/tune, converted {ours_ok}/{n}")
    print(f"  time ratio ours/reference: {ours_s / ref_s:.1f}x; converted ratio: {ours_ok / max(ref_ok, 1):.1f}x")

    times = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            render_tunes(tunes, Path(out), workers)
            times[workers] = time.perf_counter() - start
    print(
        f"render_tunes: 1 process {times[1]:.1f} s, 2 processes {times[2]:.1f} s, speed-up {times[1] / times[2]:.2f}x"
    )


if __name__ == "__main__":
    main()
