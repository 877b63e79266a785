"""Per-file cost of MIDI → windows: the note-seq reference path against ours, and a bare symusic parse.

    python benchmarks/bench_codecs.py [--files 500]

Runs every file of ../shared/midi (repeated up to --files) through three paths and prints per-file medians and
their ratios. Each path extracts mel_2bar, mel_16bar, drums_2bar and trio_16bar windows."""

import argparse
import statistics
import sys
import time
from pathlib import Path

import symusic

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import shared_midi  # noqa: E402

from musicvae.codecs.drums import drum_windows  # noqa: E402
from musicvae.codecs.melody import melody_windows  # noqa: E402
from musicvae.codecs.trio import trio_windows  # noqa: E402
from musicvae.midi import Limits, read_midi  # noqa: E402
from musicvae.timing import quantize  # noqa: E402
from tests.support import magenta_reference as ref  # noqa: E402

LIMITS = Limits(max_notes=10**6)
MEL_PROGRAMS = set(range(32))


def reference(path: Path) -> None:
    ref.melody_windows(path, 2, MEL_PROGRAMS)
    ref.melody_windows(path, 16)
    ref.drum_windows(path, 2)
    ref.trio_windows(path)


def ours(path: Path) -> None:
    pieces, _ = quantize(read_midi(path.read_bytes(), LIMITS))
    for p in pieces:
        melody_windows(p, 2, MEL_PROGRAMS)
        melody_windows(p, 16)
        drum_windows(p, 2)
        trio_windows(p)


def bare(path: Path) -> None:
    symusic.Score.from_midi(path.read_bytes())


def median_ms(fn, files) -> float:
    times = []
    for f in files:
        start = time.perf_counter()
        fn(f)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--reference-files", type=int, default=103, help="the reference path is slow; a sample")
    args = parser.parse_args()
    files = shared_midi.files("bench_codecs")
    repeated = (files * (args.files // len(files) + 1))[: args.files]
    ref_ms = median_ms(reference, files[: args.reference_files])
    ours_ms = median_ms(ours, repeated)
    bare_ms = median_ms(bare, repeated)
    print(f"{len(repeated)} files (reference on {min(args.reference_files, len(files))}), per-file medians:")
    print(f"  note-seq reference (parse + extract): {ref_ms:8.2f} ms")
    print(f"  ours (parse + extract):               {ours_ms:8.2f} ms   reference/ours = {ref_ms / ours_ms:6.1f}x")
    print(f"  bare symusic parse:                   {bare_ms:8.2f} ms   ours/bare      = {ours_ms / bare_ms:6.1f}x")


if __name__ == "__main__":
    main()
