"""The pipeline against duplicates across files, bad input, reruns, the multi-process runner and a SIGKILL."""

import hashlib
import json
import os
import random
import shutil

from pipelines.convert import split_of
from tests.support.adversarial_midi import CASES, ZERO_LENGTH
from tests.support.beam_runs import ALL, files, mirror, rows, run
from tests.support.midi_files import make_midi

FRACTIONS = {"train": 0.9, "eval": 0.05, "test": 0.05}
MELODY = [(i * 96, 96, 60 + (i * 5) % 12) for i in range(8)]  # two bars of quarter notes


def _variants(notes):
    """The same music in files of different bytes (program and resolution vary), by split."""
    found = {}
    for tpq in (96, 120, 192, 240, 384, 480, 960):
        for program in range(32):
            scaled = [(t * tpq // 96, d * tpq // 96, p) for t, d, p in notes]
            data = make_midi(scaled, tpq=tpq, program=program)
            found.setdefault(split_of(hashlib.md5(data).hexdigest(), FRACTIONS), []).append(data)
    return found


def test_windows_are_deduplicated_across_files_and_leakage_is_counted(tmp_path):
    variants = _variants(MELODY)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    chosen = {
        "a_train.mid": variants["train"][0],
        "b_train.mid": variants["train"][1],
        "c_eval.mid": variants["eval"][0],
        "d_test.mid": variants["test"][0],
    }
    other = _variants([(t, d, p + 12) for t, d, p in MELODY])["test"][0]  # another melody, only in test
    for name, data in {**chosen, "e_test_only.mid": other}.items():
        (corpus / name).write_bytes(data)
    report = run(f"{corpus}/*.mid", tmp_path / "out", reps=["mel_2bar"])["mel_2bar"]
    train, test = rows(tmp_path / "out", "mel_2bar", "train"), rows(tmp_path / "out", "mel_2bar", "test")
    assert len(train) == 1 and len(test) == 1 and not rows(tmp_path / "out", "mel_2bar", "eval")
    assert train[0]["sources"] == sorted(hashlib.md5(d).hexdigest() for d in chosen.values())
    assert train[0]["md5"] == min(hashlib.md5(chosen[n]).hexdigest() for n in ("a_train.mid", "b_train.mid"))
    assert test[0]["source"] == "e_test_only.mid"
    assert report["corpus_duplicates"] == 1
    assert report["leakage"] == {"eval": 1, "test": 1}
    assert report["splits"]["test"]["windows"] == 1


def test_bad_files_are_counted_and_listed_and_good_shards_are_unchanged(shared_midi, tmp_path):
    clean = tmp_path / "clean"
    run(f"{shared_midi}/**/*.mid", clean)
    corpus = mirror(shared_midi, tmp_path / "corpus")
    largest = max(p.stat().st_size for p in shared_midi.rglob("*.mid"))
    real = next(shared_midi.rglob("*.mid")).read_bytes()
    bad = {
        "bad/truncated.mid": real[:100],
        "bad/random.mid": os.urandom(5000),
        "bad/empty.mid": b"",
        "bad/oversized.mid": real + b"\0" * (largest + 1000),
        **{f"bad/{case}.mid": data for case, (data, _) in CASES.items()},  # each class that once crashed
        "bad/zero_length.mid": ZERO_LENGTH["single_zero_length_note"],
    }
    for name, data in bad.items():
        (corpus / name).parent.mkdir(exist_ok=True)
        (corpus / name).write_bytes(data)
    dirty = tmp_path / "dirty"
    report = run(f"{corpus}/**/*.mid", dirty, "--set", f"limits.max_bytes={largest + 1}")
    expected = {
        "bad/truncated.mid": "corrupt",
        "bad/random.mid": "corrupt",
        "bad/empty.mid": "empty",
        "bad/oversized.mid": "too_large",
        **{f"bad/{case}.mid": reason for case, (_, reason) in CASES.items()},
        "bad/zero_length.mid": "no_notes",
    }
    for rep in ALL:
        letters = {d["path"]: d for d in map(json.loads, (dirty / rep / "dead_letters.jsonl").read_text().splitlines())}
        assert {p: letters[p]["reason"] for p in expected} == expected
        assert all(letters[p]["detail"] for p in expected)
        assert report[rep]["reasons"]["corrupt"] == 2 and report[rep]["reasons"]["empty"] == 1
        assert report[rep]["reasons"]["too_large"] == 1
        assert report[rep]["reasons"]["too_many_steps"] == 2 and report[rep]["reasons"]["bad_tempo"] == 2
        assert report[rep]["files"] == len(list(shared_midi.rglob("*.mid"))) + len(bad)
    shards = lambda out: {k: v for k, v in files(out).items() if k.endswith(".parquet")}  # noqa: E731
    assert shards(dirty) == shards(clean)


def test_same_bytes_whatever_the_order_of_the_files_and_for_copies_of_one_file(shared_midi, tmp_path):
    """Shards, dead letters and report depend on the files alone: not on the order they are listed and read in
    (index order, bundles, workers), nor on which of two identical files at different paths is met first."""
    corpus = mirror(shared_midi, tmp_path / "corpus")
    originals = sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*.mid"))
    for name in originals[:10]:  # copies sort before and after their originals
        for copy in (f"0copy/{name}", f"zcopy/{name}"):
            (corpus / copy).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(corpus / name, corpus / copy)
    listed = sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*.mid"))
    outputs = []
    for order in (listed, listed[::-1], random.Random(30).sample(listed, len(listed))):
        index = corpus / f"index-{len(outputs)}.csv"
        index.write_text("path\n" + "".join(f"{name}\n" for name in order))
        outputs.append(tmp_path / f"out-{len(outputs)}")
        run(index, outputs[-1], "--set", "rows_per_shard=40", reps=["mel_2bar", "drums_2bar"])
    written = [{k: v for k, v in files(out).items() if not k.endswith("manifest.json")} for out in outputs]
    assert sum(k.endswith(".parquet") for k in written[0]) > 4
    assert written[1] == written[0] and written[2] == written[0]
    assert {r["source"] for r in rows(outputs[0], "mel_2bar")} <= {*originals, *(f"0copy/{n}" for n in originals)}


def test_an_unexpected_error_on_one_file_is_a_dead_letter_not_a_failed_run(shared_midi, tmp_path, monkeypatch):
    """No real file crashes the codecs, so the fault is injected (the in-memory runner runs in this process)."""
    from musicvae import extract

    real = extract.read_midi
    victim = sorted(shared_midi.rglob("*.mid"))[0]

    def crash_on_victim(data, *args):
        if data == victim.read_bytes():
            raise IndexError("injected codec bug")
        return real(data, *args)

    monkeypatch.setattr(extract, "read_midi", crash_on_victim)
    report = run(f"{shared_midi}/**/*.mid", tmp_path / "out", reps=["mel_2bar"])["mel_2bar"]
    letters = [json.loads(x) for x in (tmp_path / "out/mel_2bar/dead_letters.jsonl").read_text().splitlines()]
    crashed = [d for d in letters if d["reason"] == "error"]
    assert [d["path"] for d in crashed] == [victim.relative_to(shared_midi).as_posix()]
    assert "IndexError: injected codec bug" in crashed[0]["detail"]
    assert report["reasons"]["error"] == 1 and report["files_with_windows"] > 0
