"""The preprocess pipeline's packed records and batches, against the plain Python they replace."""

import json
import random
from collections import Counter

from pipelines import batches
from pipelines.batches import Batches
from pipelines.config import SPLITS
from pipelines.dedupe import dedupe
from pipelines.occurrences import Kept, occurrences
from pipelines.preprocess import _dead_letters
from pipelines.sources import Source, smallest_paths


def _reference(occurrences):
    """The dedupe as it was written first: group by window, keep the smallest (split, md5, index), count copies."""
    by_window: dict[bytes, list] = {}
    for window, split, md5, index in occurrences:
        by_window.setdefault(window, []).append((SPLITS.index(split), md5, index))
    kept, counts = set(), Counter()
    for found in by_window.values():
        first, *copies = sorted(found)
        sources = sorted({md5 for _, md5, _ in found})
        kept.add((SPLITS[first[0]], first[1], first[2], tuple(sources)))
        counts[f"splits.{SPLITS[first[0]]}.windows"] += 1
        for rank, _, _ in copies:
            counts["corpus_duplicates" if rank == first[0] else f"leakage.{SPLITS[rank]}"] += 1
    return kept, counts


def test_dedupe_keeps_what_grouping_kept_and_counts_every_copy(tmp_path, monkeypatch):
    rng = random.Random(30)
    # Zero bytes at the ends of hashes: numpy drops a bytes field's trailing zeros when it hands one back.
    windows = [bytes(19) + bytes([i]) for i in range(3)] + [rng.randbytes(19) + b"\0" for _ in range(40)]
    md5s = [rng.randbytes(15).hex() + "00" for _ in range(10)] + [rng.randbytes(16).hex() for _ in range(20)]
    split_of = {md5: rng.choice(SPLITS) for md5 in md5s}
    found, inputs = [], []
    for md5 in md5s:
        in_file = [rng.choice(windows) for _ in range(rng.randrange(1, 12))]  # a window twice in one file
        for _ in range(rng.choice((1, 1, 2))):  # files at two paths
            found += [(window, split_of[md5], md5, index) for index, window in enumerate(in_file)]
            inputs += [packed for _, packed in occurrences(in_file, split_of[md5], md5)]
    rng.shuffle(inputs)
    monkeypatch.setattr(batches, "BATCH", 100)  # several batches per worker, and a remainder at the bundle's end
    workers = [Batches(str(tmp_path)) for _ in range(3)]
    names = [n for i, p in enumerate(inputs) for _, n in workers[i % 3].add("key", p)]
    names += [n for worker in workers for _, n in worker.flush()]
    assert len(names) > 3 and all(batch == {} for batch in (w.pending for w in workers))
    packed, counts = dedupe(batches.read(names))
    kept = {(k.split, k.md5, k.index, tuple(k.sources)) for k, _ in Kept.unpack_all(packed)}
    expected_kept, expected_counts = _reference(found)
    assert kept == expected_kept
    assert {name: n for name, n in counts.items() if n} == dict(expected_counts)
    assert counts.keys() == {"corpus_duplicates", *(f"splits.{s}.windows" for s in SPLITS)} | {
        f"leakage.{s}" for s in SPLITS[1:]
    }


def test_smallest_paths_keeps_one_source_per_md5_with_its_smallest_path():
    a, b = "a" * 32, "b" * 31 + "0"
    sources = [
        Source(a, "train", 0b101, "z/copy.mid"),
        Source(b, "test", 0b010, "only.mid"),
        Source(a, "train", 0b101, "a/copyé.mid"),
        Source(a, "train", 0b101, "a/copy.mid"),
    ]
    kept = smallest_paths(b"".join(s.pack() for s in sources))
    assert sorted(s for s, _ in kept) == [
        Source(a, "train", 0b101, "a/copy.mid"),
        Source(b, "test", 0b010, "only.mid"),
    ]


def test_dead_letters_are_sorted_whatever_order_their_batches_came_in(tmp_path, monkeypatch):
    monkeypatch.setattr(batches, "BATCH", 200)
    lines = [json.dumps({"path": f"{i % 7}/{i}.mid", "md5": f"{i:032x}"}, sort_keys=True) + "\n" for i in range(50)]
    random.Random(1).shuffle(lines)
    worker = Batches(str(tmp_path / "batches"))
    names = [n for line in lines for _, n in worker.add("mel_2bar", line.encode())] + [n for _, n in worker.flush()]
    assert len(names) > 3
    random.Random(2).shuffle(names)
    staging = tmp_path / "staging"
    assert _dead_letters(("mel_2bar", {"batches": names}), str(staging)) == "mel_2bar/dead_letters.jsonl"
    assert (staging / "mel_2bar/dead_letters.jsonl").read_text() == "".join(sorted(lines))
    _dead_letters(("trio_16bar", {"batches": []}), str(staging))  # a representation no file failed
    assert (staging / "trio_16bar/dead_letters.jsonl").read_bytes() == b""
