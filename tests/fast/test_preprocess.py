"""The real preprocess pipeline (FnApiRunner, in memory) on the real MIDI of ../shared/midi."""

import json
from collections import Counter, defaultdict

import pyarrow.parquet as pq
import pytest

from musicvae.extract import extract_all
from pipelines import config as preprocess_config
from pipelines.config import SPLITS
from pipelines.convert import split_of
from pipelines.shards import schema
from tests.support.beam_runs import ALL, PARAMS, rows, run


@pytest.fixture(scope="module")
def clean(shared_midi, tmp_path_factory):
    """Magenta's caps on every split, as the core codecs apply them."""
    output = tmp_path_factory.mktemp("clean")
    report = run(f"{shared_midi}/**/*.mid", output, "--set", "cap_splits=[train, eval, test]")
    return output, report


@pytest.fixture(scope="module")
def direct(shared_midi):
    """The core codecs called directly on every file, as the pipeline should see them."""
    config = preprocess_config.load(PARAMS, only=ALL)
    paths = sorted(shared_midi.rglob("*.mid"))
    return config, {
        p.relative_to(shared_midi).as_posix(): extract_all(p, list(config.representations), config.limits)
        for p in paths
    }


@pytest.mark.parametrize("rep", ALL)
def test_shards_hold_every_distinct_window_of_the_core_codecs(clean, direct, rep):
    output, report = clean
    config, results = direct
    expected = {w.tokens.tobytes() for r in results.values() for w in r[rep].windows}
    written = rows(output, rep)
    assert {r["tokens"] for r in written} == expected
    assert len(written) == len(expected)  # deduplicated across the corpus
    assert report[rep]["files"] == len(results)
    assert report[rep]["windows_extracted"] == sum(len(r[rep].windows) for r in results.values())
    for split in SPLITS:
        assert report[rep]["splits"][split]["windows"] == len(rows(output, rep, split))
    assert report[rep]["windows_extracted"] - report[rep]["corpus_duplicates"] - sum(
        report[rep]["leakage"].values()
    ) == len(written)
    reasons = sum((r[rep].reasons for r in results.values()), Counter())
    assert report[rep]["reasons"] == dict(reasons)


@pytest.mark.parametrize("rep", ALL)
def test_shard_schema_and_metadata(clean, direct, rep):
    output, _ = clean
    config, results = direct
    by_source = {source: r[rep] for source, r in results.items()}
    the_rep = next(r for r in config.representations if r.name == rep)
    for shard in sorted((output / rep).glob("*.parquet")):
        table = pq.read_table(shard)
        assert table.schema == schema(the_rep)
        assert table.schema.metadata[b"musicvae.representation"] == rep.encode()
    for row in rows(output, rep):
        result = by_source[row["source"]]
        assert row["md5"] == result.md5 and row["md5"] in row["sources"]
        assert any(
            (w.piece, w.start_bar, list(w.programs), w.qpm, w.tokens.tobytes())
            == (row["piece"], row["start_bar"], row["programs"], row["qpm"], row["tokens"])
            for w in result.windows
        )


@pytest.mark.parametrize("rep", ALL)
def test_splits_follow_the_content_hash_and_files_never_straddle(clean, rep):
    output, report = clean
    split_of_md5 = defaultdict(set)
    for split in SPLITS:
        for row in rows(output, rep, split):
            split_of_md5[row["md5"]].add(split)
            assert split_of(row["md5"], {"train": 0.9, "eval": 0.05, "test": 0.05}) == split
    assert all(len(s) == 1 for s in split_of_md5.values())


def test_split_is_stable_as_the_corpus_grows():
    fractions = {"train": 0.9, "eval": 0.05, "test": 0.05}
    md5s = [f"{i:032x}" for i in range(20000)]
    first = {m: split_of(m, fractions) for m in md5s[:10000]}
    assert all(split_of(m, fractions) == s for m, s in first.items())  # a function of the file alone
    counts = Counter(split_of(m, fractions) for m in md5s)
    assert abs(counts["train"] / 20000 - 0.9) < 0.01 and abs(counts["test"] / 20000 - 0.05) < 0.01


def test_dead_letters_list_every_file_that_gave_nothing(clean, direct):
    output, _ = clean
    _, results = direct
    for rep in ALL:
        letters = [json.loads(line) for line in (output / rep / "dead_letters.jsonl").read_text().splitlines()]
        assert {d["path"] for d in letters} == {s for s, r in results.items() if not r[rep].windows}
        assert all(d["reason"] and d["md5"] for d in letters)


def test_manifest_describes_the_shards(clean):
    import hashlib

    output, report = clean
    for rep in ALL:
        manifest = json.loads((output / rep / "manifest.json").read_text())
        assert manifest["report"] == report[rep]
        assert len(manifest["config_hash"]) == 64 and manifest["code_version"]["source_sha256"]
        for split in SPLITS:
            shards = manifest["splits"][split]["shards"]
            assert manifest["splits"][split]["rows"] == report[rep]["splits"][split]["windows"]
            for shard in shards:
                data = (output / rep / shard["file"]).read_bytes()
                assert hashlib.sha256(data).hexdigest() == shard["sha256"] and len(data) == shard["bytes"]


def test_cap_splits_leaves_training_uncapped_and_eval_and_test_as_magenta(shared_midi, clean, tmp_path):
    """`cap_splits: [eval, test]`: training gets every window, the splits a model is judged on stay Magenta's."""
    output, report = clean
    uncapped = run(f"{shared_midi}/**/*.mid", tmp_path, "--set", "cap_splits=[eval, test]", reps=["mel_2bar"])
    splits = uncapped["mel_2bar"]["splits"]
    assert splits["train"]["windows"] > report["mel_2bar"]["splits"]["train"]["windows"]
    for split in ("eval", "test"):
        assert {r["tokens"] for r in rows(tmp_path, "mel_2bar", split)} == {
            r["tokens"] for r in rows(output, "mel_2bar", split)
        }
    manifest = json.loads((tmp_path / "mel_2bar" / "manifest.json").read_text())
    assert manifest["config"]["cap_splits"] == ["eval", "test"]
    with pytest.raises(ValueError, match="cap_splits.*one of train, eval, test"):
        preprocess_config.load(PARAMS, ["cap_splits=[training]"])
