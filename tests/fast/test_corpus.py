"""The corpus stage on real tunes from the music21 wheel and real MIDI from ../shared/midi."""

import shutil
import warnings
from collections import Counter
from pathlib import Path

import music21
import pretty_midi
import pytest
import symusic

from musicvae.corpus import abc
from musicvae.corpus.build import build, lakh_path, render_tunes
from musicvae.extract import REPRESENTATIONS, extract
from tests.support.corpus import read_index

SMALL = {
    "sources": {"folk": "embedded"},
    "collections": list(abc.COLLECTIONS),
    "meters": ["4/4", "2/2"],
    "max_pieces": 12,
    "seed": 0,
}


def notated_pitches(tune: abc.Tune) -> tuple[Counter, bool]:
    """Pitches as written (ties merged, repeats not played), read independently of the renderer, and whether
    the tune has repeat marks."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = music21.converter.parse(tune.abc, format="abc").stripTies()
    pitches = Counter(
        p.midi
        for n in score.recurse().notes
        if not n.duration.isGrace and not isinstance(n, music21.harmony.ChordSymbol)
        for p in n.pitches
    )
    return pitches, bool(score.recurse().getElementsByClass(music21.bar.Repeat))


def tune(body: str) -> abc.Tune:
    return abc.Tune("test", "test.abc", 0, "1", "test", "4/4", f"X:1\nT:test\nM:4/4\nL:1/4\nK:C\n{body}\n")


def midi_pitches(midi: bytes) -> list[int]:
    notes = sorted((n.time, n.pitch) for t in symusic.Score.from_midi(midi).tracks for n in t.notes)
    return [p for _, p in notes]


@pytest.mark.parametrize(
    "body, played",
    [
        # A `:|` with no `|:` repeats from the tune's start, then from the previous `:|`.
        ("CDEF|GABc:|\ncBAG|FEDC:|", "CDEF GABc CDEF GABc cBAG FEDC cBAG FEDC"),
        # First and second endings; after `||` a new section starts.
        ("|:CDEF|1GABc:|2GAB2||\ncBAG|FEDC:|", "CDEF GABc CDEF GAB cBAG FEDC cBAG FEDC"),
        ("CDEF|GABc|]", "CDEF GABc"),
    ],
)
def test_repeats_are_played_as_abc_defines_them(body, played):
    names = {"C": 60, "D": 62, "E": 64, "F": 65, "G": 67, "A": 69, "B": 71, "c": 72}
    assert midi_pitches(abc.to_midi(tune(body))) == [names[c] for c in played.replace(" ", "")]


def test_a_rebarred_tune_sounds_the_same_in_bars_that_musicvae_keeps():
    """corpus.rebar {2/4: 4/4}: two 2/4 bars become one 4/4 bar and no note moves, so a Chinese folk song that
    MusicVAE's 16-step bar refused gives windows."""
    song = next(t for t in abc.read_tunes(["essen"]) if t.book == "han1.abc" and t.meter == "2/4")
    written = {meter: abc.to_midi(song, {"2/4": meter}) for meter in ("2/4", "4/4")}
    scores = {meter: symusic.Score.from_midi(midi) for meter, midi in written.items()}
    assert [(ts.numerator, ts.denominator) for ts in scores["4/4"].time_signatures] == [(4, 4)]
    assert [(ts.numerator, ts.denominator) for ts in scores["2/4"].time_signatures] == [(2, 4)]
    played = {meter: [(n.time, n.duration, n.pitch) for t in s.tracks for n in t.notes] for meter, s in scores.items()}
    assert played["4/4"] == played["2/4"] and played["4/4"]
    assert abc.to_midi(song) == written["2/4"]
    refused = extract(written["2/4"], REPRESENTATIONS["mel_2bar"])
    assert not refused.windows and refused.reasons["not_16_steps_per_bar"] == 1
    assert extract(written["4/4"], REPRESENTATIONS["mel_2bar"]).windows


def test_a_corpus_rebars_its_chosen_meters_and_refuses_a_bar_that_splits_one(tmp_path):
    params = SMALL | {"collections": ["essen"], "meters": ["2/4"], "max_pieces": 3, "rebar": {"2/4": "4/4"}}
    build(params, tmp_path / "corpus", workers=1)
    rows = read_index(tmp_path / "corpus")
    assert len(rows) == 3 and {r["meter"] for r in rows} == {"2/4"}  # the index keeps the meter as notated
    for row in rows:
        meters = [
            (ts.numerator, ts.denominator) for ts in symusic.Score(tmp_path / "corpus" / row["path"]).time_signatures
        ]
        assert meters[0] == (4, 4) and (2, 4) not in meters  # a tune's other meters stay as written
    for rebar, words in (
        ({"2/4": "3/4"}, "a 3/4 bar does not hold a whole number of 2/4 bars"),
        ({"2/4": "four"}, "'four' is not a meter"),
    ):
        with pytest.raises(ValueError, match=words):
            build(params | {"rebar": rebar}, tmp_path / "bad", workers=1)


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("corpus") / "corpus"
    return out, build(SMALL, out, workers=2)


def test_collections_hold_the_documented_tunes():
    counts = Counter(t.collection for t in abc.read_tunes(list(abc.COLLECTIONS)))
    assert counts == {"essen": 8514, "oneills": 2009, "aird": 1180, "ryans": 1059}


def test_selection_is_stable_when_tunes_are_added():
    tunes = abc.read_tunes(["aird"])
    before = abc.select(tunes[:-100], None, 50, seed=3)
    after = abc.select(tunes, None, 50, seed=3)
    kept = {t.id for t in before} & {t.id for t in after}
    assert len(after) == 50
    # The added tunes may displace some, but a tune kept in both is never reordered or replaced otherwise.
    assert {t.id for t in after} - kept <= {t.id for t in tunes[-100:]}
    assert abc.select(tunes, None, 50, seed=4) != after


def test_small_corpus_is_real_midi_matching_its_source_tunes(small_corpus):
    out, report = small_corpus
    rows = read_index(out)
    folk = report["sources"]["folk"]
    assert report["files"] == folk["written"] == len(rows) > 0
    assert folk["selected"] == folk["written"] + folk["duplicates"] + folk["failed"] == 12
    by_book = {(t.collection, t.book, t.number): t for t in abc.read_tunes(list(abc.COLLECTIONS))}
    for row in rows:
        path = out / row["path"]
        assert path == lakh_path(out, row["md5"])
        data = path.read_bytes()
        score = symusic.Score.from_midi(data)
        pm = pretty_midi.PrettyMIDI(str(path))
        played = Counter(n.pitch for tr in score.tracks for n in tr.notes)
        assert sum(played.values()) == sum(len(i.notes) for i in pm.instruments) == int(row["notes"])
        notated, repeats = notated_pitches(by_book[(row["collection"], row["book"], row["number"])])
        if repeats:  # every written note sounds, at most twice over (sections repeat once)
            assert notated <= played and not played - notated - notated
        else:
            assert played == notated
        ts = score.time_signatures[0]
        assert (ts.numerator, ts.denominator) in {(4, 4), (2, 2)}


def test_two_builds_are_byte_identical(small_corpus, tmp_path):
    out, report = small_corpus
    again = build(SMALL, tmp_path / "again", workers=1)
    assert again == report
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "again") for p in (tmp_path / "again").rglob("*") if p.is_file())
    for f in files:
        assert (out / f).read_bytes() == (tmp_path / "again" / f).read_bytes()


def test_a_bad_tune_is_listed_with_its_reason_and_the_rest_goes_on(tmp_path):
    ryans = abc.read_tunes(["ryans"])
    broken = next(t for t in ryans if t.book == "ScotchPatriotsReel.abc")  # malformed repeat marks
    good = next(t for t in ryans if t.meter == "2/2" and t.book != broken.book)
    rows, report = render_tunes([broken, good], tmp_path, workers=1)
    assert (report["written"], report["failed"]) == (1, 1)
    assert report["failures"] == [
        {
            "tune": broken.id,
            "number": broken.number,
            "title": broken.title,
            "reason": "ExpanderException: cannot expand Stream: badly formed repeats or repeat expressions",
        }
    ]
    assert report["failure_reasons"] == {"ExpanderException": 1}
    assert [r["book"] for r in rows] == [good.book]


def test_user_corpus_is_validated_and_indexed_in_place(shared_midi, tmp_path):
    folder = tmp_path / "mine"
    shutil.copytree(shared_midi / "lakh", folder)
    (folder / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01")  # truncated header
    (folder / "notes.txt").write_text("not a MIDI file, not indexed")
    report = build({"sources": {"mine": str(folder)}}, tmp_path / "out", workers=2)
    rows = read_index(tmp_path / "out")
    originals = sorted(p.name for p in (shared_midi / "lakh").glob("*.mid"))
    assert sorted(Path(r["path"]).name for r in rows) == originals
    assert all(int(r["notes"]) > 1000 and int(r["tracks"]) > 1 and r["collection"] == "mine" for r in rows)
    mine = report["sources"]["mine"]
    assert (mine["files"], mine["valid"], mine["failed"]) == (len(originals) + 1, len(originals), 1)
    assert mine["failures"][0]["path"].endswith("broken.mid")
    assert mine["failures"][0]["reason"]


def test_sources_are_tagged_and_a_file_two_sources_hold_is_indexed_once(shared_midi, tmp_path):
    lakh, pop = sorted((shared_midi / "lakh").glob("*.mid"))[:3], sorted((shared_midi / "pop909").glob("*.mid"))[:2]
    for name, files in (("lakh", lakh), ("pop", pop + lakh[:1])):  # pop also holds a copy of a lakh file
        (tmp_path / name).mkdir()
        for f in files:
            shutil.copy(f, tmp_path / name / f.name)
    sources = {"tunes": "embedded", "lakh": str(tmp_path / "lakh"), "pop": str(tmp_path / "pop" / "*.mid")}
    report = build({**SMALL, "max_pieces": 4, "sources": sources}, tmp_path / "out", workers=1)
    rows = read_index(tmp_path / "out")
    tagged = Counter(r["collection"] for r in rows)
    assert tagged["lakh"] == 3 and tagged["pop"] == 2 and sum(tagged.values()) == len(rows) == report["files"]
    assert set(tagged) - {"lakh", "pop"} <= set(abc.COLLECTIONS)  # embedded tunes keep their tunebook
    assert report["collections"]["pop"] == {"files": 2, "duplicates": 1}
    assert report["duplicates_across_sources"] == 1 and len({r["md5"] for r in rows}) == len(rows)
    with pytest.raises(ValueError, match="`embedded` more than once"):
        build({**SMALL, "sources": {"a": "embedded", "b": "embedded"}}, tmp_path / "twice", workers=1)


def test_a_folder_given_from_home_is_found(shared_midi, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    shutil.copytree(shared_midi / "lakh", tmp_path / "lakh")
    report = build({"sources": {"lakh": "~/lakh"}}, tmp_path / "out", workers=1)
    assert report["files"] == len(list((shared_midi / "lakh").glob("*.mid")))


def test_user_corpus_that_matches_nothing_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="matches no .mid"):
        build({"sources": {"mine": str(tmp_path / "*.mid")}}, tmp_path / "out", workers=1)
