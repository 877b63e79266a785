"""Mutation fuzzing of extraction: no file may crash it, hang it or blow up its memory.

    python benchmarks/fuzz_extract.py [--mutants 10000] [--seed 0] [--seeds DIR] [--timeout 30] [--memory-mb 2048]

Mutants of real files (--seeds: any folder of MIDI, by default ../shared/midi) and of the hand-built adversarial
files (tests/support/adversarial_midi.py):
bit flips, truncations, damaged chunk lengths, injected tempo and meter events of any value, huge delta-times,
damaged headers and random bytes, one to three at a time, from a seeded generator. A worker process runs
`extract_all` with params.yaml's limits under a memory cap (RLIMIT_DATA); a mutant that takes longer than
--timeout is a hang, and the worker is replaced. Prints the outcomes by reason, every escaping exception, the
hangs, the slowest mutant and the worker's peak RSS; exits 1 unless there are no escapes, no internal errors,
no hangs and the peak RSS stays under 1 GB."""

import argparse
import multiprocessing as mp
import random
import resource
import struct
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import shared_midi  # noqa: E402

from musicvae.midi import REASONS  # noqa: E402
from tests.support.adversarial_midi import CASES, HEAVY, ZERO_LENGTH, at_the_limits, meter, tempo, vlq  # noqa: E402

PEAK_RSS_MB = 1024


def _chunks(data: bytes) -> list[int]:
    """Offsets of the track chunks' length fields."""
    found, at = [], data.find(b"MTrk")
    while at >= 0:
        found.append(at + 4)
        at = data.find(b"MTrk", at + 4)
    return found


def _insert_event(data: bytes, rng: random.Random, event: bytes, delta: int = 0) -> bytes:
    """An event at the start of a random track, its chunk length mended so that the file still parses."""
    chunks = _chunks(data)
    if not chunks:
        return data
    at = rng.choice(chunks)
    (length,) = struct.unpack(">I", data[at : at + 4].ljust(4, b"\0"))
    body = vlq(delta) + event
    return (
        data[:at] + struct.pack(">I", (length + len(body)) & 0xFFFFFFFF) + body + data[at + 4 :]
        if at + 4 <= len(data)
        else data
    )


def bit_flips(data, rng):
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def truncation(data, rng):
    return data[: rng.randrange(len(data) + 1)]


def chunk_length(data, rng):
    chunks = _chunks(data)
    if not chunks:
        return data
    at = rng.choice(chunks)
    value = rng.choice([0, 1, rng.randrange(1 << 32), (1 << 32) - 1, max(0, len(data) - at + rng.randint(-9, 9))])
    return data[:at] + struct.pack(">I", value) + data[at + 4 :]


def tempo_event(data, rng):
    value = rng.choice([0, 1, rng.randrange(1, 100), rng.randrange(1 << 24), (1 << 24) - 1, 500_000])
    return _insert_event(data, rng, tempo(value), delta=rng.choice([0, rng.randrange(1 << 16)]))


def meter_event(data, rng):
    return _insert_event(data, rng, meter(rng.randrange(256), rng.choice([0, 1, 2, 3, 8, 31, 255, rng.randrange(256)])))


def huge_delta(data, rng):
    pitch = rng.randrange(128)
    note = _insert_event(data, rng, bytes([0x80, pitch, 0]), delta=rng.choice([(1 << 28) - 1, rng.randrange(1 << 28)]))
    return _insert_event(note, rng, bytes([0x90, pitch, 100]))


def header(data, rng):
    field = rng.choice([8, 10, 12])  # format, tracks, division
    return (
        data[:field]
        + struct.pack(">H", rng.choice([0, 1, 0x7FFF, 0x8000, 0xE728, rng.randrange(1 << 16)]))
        + data[field + 2 :]
    )


def random_bytes(data, rng):
    at, n = rng.randrange(len(data) + 1), rng.randint(1, 64)
    return data[:at] + rng.randbytes(n) + data[at + n :]


MUTATORS = (bit_flips, truncation, chunk_length, tempo_event, meter_event, huge_delta, header, random_bytes)


def seeds(folder: Path | None) -> list[tuple[str, bytes]]:
    real = shared_midi.files("fuzz_extract", folder)  # the fuzzer mutates real files
    # at the limits, but with 10,000 notes: a mutant of the 8 MB one would take seconds to parse, every time
    built = (
        [(n, d) for n, (d, _) in CASES.items()]
        + list(ZERO_LENGTH.items())
        + [("at_the_limits_10k_notes", at_the_limits(notes=10_000))]
    )
    return [(p.resolve().as_posix(), p.read_bytes()) for p in real] + built


def mutant(corpus: list[tuple[str, bytes]], rng: random.Random) -> tuple[str, bytes]:
    name, data = rng.choice(corpus)
    steps = [rng.choice(MUTATORS) for _ in range(rng.randint(1, 3))]
    for mutate in steps:
        data = mutate(data, rng)
    return f"{name} <- {'+'.join(m.__name__ for m in steps)}", data


def _worker(conn, memory_mb: int) -> None:
    resource.setrlimit(resource.RLIMIT_DATA, (memory_mb << 20, memory_mb << 20))
    from musicvae.extract import REPRESENTATIONS, extract_all
    from pipelines.config import load

    limits = load(ROOT / "params.yaml").limits
    reps = list(REPRESENTATIONS.values())
    while (data := conn.recv()) is not None:
        start = time.perf_counter()
        try:
            results = extract_all(data, reps, limits)
            outcome = ("ok", sorted({r for res in results.values() for r in res.reasons}))
        except BaseException as e:  # anything leaving extract_all is what this harness hunts
            outcome = ("escape", [f"{type(e).__name__}: {e}", traceback.format_exc(limit=-3)])
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        conn.send((outcome, time.perf_counter() - start, peak))


class Worker:
    def __init__(self, memory_mb: int):
        self.memory_mb = memory_mb
        self.conn, child = mp.Pipe()
        self.process = mp.get_context("spawn").Process(target=_worker, args=(child, memory_mb), daemon=True)
        self.process.start()

    def run(self, data: bytes, timeout: float):
        self.conn.send(data)
        return self.conn.recv() if self.conn.poll(timeout) else None

    def kill(self):
        self.process.kill()
        self.process.join()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutants", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=Path, help="a folder of MIDI files to mutate (searched recursively)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a mutant counts as a hang")
    parser.add_argument("--memory-mb", type=int, default=2048, help="the worker's data-segment cap")
    args = parser.parse_args(argv)
    corpus, rng = seeds(args.seeds), random.Random(args.seed)
    worker = Worker(args.memory_mb)
    print("the costliest files within the limits, unmutated:")
    for name, build in HEAVY.items():
        worker.run(build(), args.timeout)  # the first run of a fresh worker compiles the codecs
        fresh = Worker(args.memory_mb)
        (kind, detail), seconds, rss = fresh.run(build(), args.timeout)
        print(f"  {name}: {seconds:.2f} s, worker peak RSS {rss:.0f} MB, {kind}: {', '.join(detail)}")
        fresh.kill()
    reasons, outcomes, escapes, hangs = Counter(), Counter(), [], []
    slowest, peak, start = (0.0, ""), 0.0, time.perf_counter()
    for i in range(args.mutants):
        name, data = mutant(corpus, rng)
        answer = worker.run(data, args.timeout)
        if answer is None or not worker.process.is_alive():
            hangs.append(name)
            worker.kill()
            worker = Worker(args.memory_mb)
            continue
        (kind, detail), seconds, rss = answer
        outcomes[kind] += 1
        slowest, peak = max(slowest, (seconds, name)), max(peak, rss)
        if kind == "escape":
            escapes.append((name, detail))
        else:
            reasons.update(detail or ["windows"])
        if (i + 1) % 1000 == 0:
            print(f"  {i + 1} mutants, {time.perf_counter() - start:.0f} s", flush=True)
    worker.kill()
    rejected = sum(reasons[r] for r in REASONS if r != "timeout")  # the file-level rejections
    print(f"{args.mutants} mutants of {len(corpus)} files (seed {args.seed}) in {time.perf_counter() - start:.0f} s")
    print(
        f"outcomes: {dict(outcomes)}, hangs: {len(hangs)}, escapes: {len(escapes)}, "
        f"internal errors: {reasons['error']}, timeouts: {reasons['timeout']}"
    )
    print("reasons (mutants with each):", ", ".join(f"{k} {v}" for k, v in reasons.most_common()))
    print(f"typed file rejections: {rejected / max(1, args.mutants):.0%} of the mutants")
    print(
        f"slowest mutant: {slowest[0]:.2f} s ({slowest[1]}); worker peak RSS {peak:.0f} MB "
        f"({peak / PEAK_RSS_MB:.2f}x of the {PEAK_RSS_MB} MB target)"
    )
    for name, (message, trace) in escapes[:10]:
        print(f"ESCAPE {name}: {message}\n{trace}")
    for name in hangs[:10]:
        print(f"HANG {name}")
    return 0 if not escapes and not hangs and not reasons["error"] and peak < PEAK_RSS_MB else 1


if __name__ == "__main__":
    sys.exit(main())
