"""Throughput and memory of the preprocess pipeline, against the core codecs called in a plain loop.

    python benchmarks/bench_preprocess.py [--files 2000] [--small 200]

../shared/midi is repeated (as symlinks) to --files inputs. Each pipeline run is a fresh process, so its peak
RSS (and that of its worker processes) is its own. All four representations are extracted."""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import shared_midi  # noqa: E402

from musicvae.extract import extract_all  # noqa: E402
from pipelines.config import load  # noqa: E402

REPS = ["mel_2bar", "mel_16bar", "drums_2bar", "trio_16bar"]
MODES = {
    "in_memory": [],
    "multi_processing x2": ["--direct_running_mode", "multi_processing", "--direct_num_workers", "2"],
}

CHILD = """
import resource, sys, time
from pipelines.preprocess import run
start = time.perf_counter()
run(sys.argv[1:])
elapsed = time.perf_counter() - start
peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(elapsed, peak / 1024)
"""


def corpus(source: Path, dest: Path, n: int) -> Path:
    files = sorted(source.rglob("*.mid"))
    for i in range(n):
        link = dest / f"copy{i // len(files):03d}" / files[i % len(files)].relative_to(source)
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(files[i % len(files)], link)
    return dest


def pipeline(inputs: Path, output: Path, flags: list[str]) -> tuple[float, float]:
    argv = [
        "--input",
        f"{inputs}/**/*.mid",
        "--output",
        str(output),
        "--params",
        str(ROOT / "params.yaml"),
        *(a for rep in REPS for a in ("--representation", rep)),
        *flags,
    ]
    out = subprocess.run([sys.executable, "-c", CHILD, *argv], cwd=ROOT, check=True, capture_output=True, text=True)
    elapsed, peak_mb = map(float, out.stdout.split()[-2:])
    return elapsed, peak_mb


def direct(inputs: Path) -> float:
    config = load(ROOT / "params.yaml", only=REPS)
    start = time.perf_counter()
    for path in sorted(inputs.rglob("*.mid")):
        extract_all(path.read_bytes(), list(config.representations), config.limits)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--small", type=int, default=200)
    args = parser.parse_args()
    shared = shared_midi.FOLDER
    distinct = len(shared_midi.files("bench_preprocess"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        big, small = corpus(shared, tmp / "big", args.files), corpus(shared, tmp / "small", args.small)
        loop_s = direct(big)
        print(f"{args.files} files ({distinct} distinct), 4 representations, {os.cpu_count()} cores")
        print(
            f"  core codecs in a loop:        {args.files / loop_s:7.1f} files/s   "
            f"{1000 * loop_s / args.files:6.2f} ms/file"
        )
        for mode, flags in MODES.items():
            small_s, small_mb = pipeline(small, tmp / "out_small", flags)
            big_s, big_mb = pipeline(big, tmp / "out_big", flags)
            per_file = 1000 * big_s / args.files
            print(
                f"  pipeline {mode:20s} {args.files / big_s:7.1f} files/s   {per_file:6.2f} ms/file "
                f"(pipeline/loop = {big_s / loop_s:4.1f}x)   peak RSS {small_mb:6.0f} MB at {args.small}, "
                f"{big_mb:6.0f} MB at {args.files} files"
            )


if __name__ == "__main__":
    main()
