"""Lakh scale on one machine: the preprocess pipeline over LMD-sized corpora of distinct, real-derived files.

    python benchmarks/bench_scale.py [--sizes 10000 50000 176581] [--seeds DIR] [--mode in_memory|multi_processing]

Makes the largest corpus once: every real file of --seeds (by default ../shared/midi) transposed by -5..+6
semitones (drums kept) and delayed by 0-3 sixteenth notes, in that order until the size is reached, so that files
differ and so do most of their windows, as a large corpus's do. Each size
is a prefix of it. The pipeline (all four representations, params.yaml's limits and caps) runs on each in a fresh
process, and the benchmark prints files/s and the peak RSS summed over the pipeline's processes (sampled every
0.2 s from /proc), and how much that peak grew per 1,000 files. Targets (issue 30): at least 250 files/s on 2
cores, and a peak under 2 GB at 176k files, flat from 10k up."""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import symusic

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import shared_midi  # noqa: E402

MODES = {
    "in_memory": [],
    "multi_processing": ["--direct_running_mode", "multi_processing", "--direct_num_workers", "2"],
}
TRANSPOSE = range(-5, 7)
DELAYS = range(4)  # sixteenth notes


def variants(seeds: list[Path]):
    """Distinct files made of real ones, as MIDI bytes with a name."""
    scores = []
    for path in seeds:
        try:
            scores.append((path.stem, symusic.Score(str(path))))
        except RuntimeError:  # a file symusic refuses would be refused by the pipeline too: not a variant
            continue
    for delay in DELAYS:
        for semitones in TRANSPOSE:
            for stem, score in scores:
                variant = score.copy()
                try:
                    for track in variant.tracks:
                        if not track.is_drum:
                            track.shift_pitch(semitones, inplace=True)
                        track.shift_time(delay * score.ticks_per_quarter // 4, inplace=True)
                except ValueError:  # a pitch pushed out of MIDI's 0-127: no such variant
                    continue
                yield f"{stem}_t{semitones:+d}_d{delay}.mid", variant.dumps_midi()


def make_corpus(seeds: list[Path], folder: Path, size: int) -> list[Path]:
    made = []
    for name, data in variants(seeds):
        if len(made) == size:
            break
        path = folder / f"{len(made) // 1000:03d}" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        made.append(path)
    if len(made) < size:
        sys.exit(f"bench_scale: {len(seeds)} seed files make only {len(made)} variants; give --seeds a larger folder")
    return made


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = (Path("/proc") / str(current) / "status").read_text()
            total += int(status.split("VmRSS:")[1].split()[0]) / 1024 if "VmRSS:" in status else 0.0
        except OSError:
            continue
        todo += children.get(current, [])
    return total


def pipeline(index: Path, output: Path, flags: list[str]) -> tuple[float, float]:
    """Seconds and peak RSS (MB, summed over the process tree) of one preprocess run."""
    argv = [sys.executable, "-m", "pipelines.preprocess", "--input", str(index), "--output", str(output)]
    argv += ["--params", str(ROOT / "params.yaml"), *flags]
    start, peak = time.perf_counter(), 0.0
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while proc.poll() is None:
        peak = max(peak, tree_rss_mb(proc.pid))
        time.sleep(0.2)
    if proc.returncode:
        sys.exit(f"bench_scale: the pipeline failed:\n{proc.stderr.read()[-3000:]}")
    return time.perf_counter() - start, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000, 176_581])
    parser.add_argument("--seeds", type=Path, help="a folder of real MIDI files to vary")
    parser.add_argument("--mode", choices=MODES, default="in_memory")
    args = parser.parse_args()
    seeds = shared_midi.files("bench_scale", args.seeds)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        files = make_corpus(seeds, tmp / "corpus", max(args.sizes))
        print(
            f"{len(files):,} distinct files from {len(seeds)} real ones in {time.perf_counter() - start:.0f} s; "
            f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, runner {args.mode}"
        )
        print(f"  {'files':>8s} {'seconds':>8s} {'files/s':>8s} {'peak RSS MB':>12s} {'MB per 1,000 files':>19s}")
        first = None
        for size in sorted(args.sizes):
            index = tmp / f"index-{size}.csv"
            index.write_text("path\n" + "".join(f"{p}\n" for p in files[:size]))
            seconds, peak = pipeline(index, tmp / f"shards-{size}", MODES[args.mode])
            growth = "" if first is None else f"{1000 * (peak - first[1]) / (size - first[0]):19.1f}"
            first = first or (size, peak)
            print(f"  {size:8,d} {seconds:8.0f} {size / seconds:8.1f} {peak:12.0f} {growth}", flush=True)
        print(
            "  targets: >= 250 files/s on 2 cores; peak RSS < 2,048 MB at 176,581 files and flat from 10,000 up "
            f"({peak / 2048:.2f}x of the 2 GB target at the largest size)"
        )


if __name__ == "__main__":
    main()
