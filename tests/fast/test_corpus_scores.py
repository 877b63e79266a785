"""The scored collections of the music21 wheel (chorales, madrigals) as embedded corpus sources."""

import warnings
from collections import Counter

import music21
import pytest
import symusic

from musicvae.corpus import abc, scores
from musicvae.corpus.build import build, build_held_out
from musicvae.extract import REPRESENTATIONS, extract
from tests.support.corpus import read_index


def parsed(score: abc.Tune) -> music21.stream.Score:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return music21.converter.parse(scores.corpus_root() / scores.COLLECTIONS[score.collection] / score.book)


def test_meters_come_from_the_cache_and_match_the_scores():
    found = scores.read_scores(list(scores.COLLECTIONS))
    in_meter = Counter(s.collection for s in abc.select(found, ["4/4", "2/2"], None, 0))
    assert in_meter == {"bach": 367, "monteverdi": 49}
    for score in abc.select(found, None, 6, seed=1):  # the cache's meter is the first bar's, parsed
        first = parsed(score).recurse().getElementsByClass(music21.meter.TimeSignature).first()
        assert first.ratioString == score.meter, score.book


def test_chorales_render_as_piano_parts_that_magenta_melodies_keep(tmp_path):
    params = {
        "sources": {"chorales": "embedded"},
        "collections": ["bach"],
        "meters": ["4/4"],
        "max_pieces": 3,
        "seed": 0,
    }
    report = build(params, tmp_path / "corpus", workers=1)
    rows = read_index(tmp_path / "corpus")
    assert report["files"] == len(rows) == 3 and {r["collection"] for r in rows} == {"bach"}
    chosen = {s.book: s for s in scores.read_scores(["bach"])}
    for row in rows:
        midi = (tmp_path / "corpus" / row["path"]).read_bytes()
        tracks = [t for t in symusic.Score.from_midi(midi).tracks if t.notes]  # music21 writes a tempo track
        score = parsed(chosen[row["book"]])
        assert len(tracks) == len(score.parts) and {t.program for t in tracks} <= set(range(32))
        # every notated pitch sounds (repeats may play some twice)
        notated = {p.midi for n in score.recurse().notes for p in n.pitches}
        assert {n.pitch for t in tracks for n in t.notes} == notated
        assert extract(midi, REPRESENTATIONS["mel_2bar"]).windows, row["title"]


def test_an_unknown_collection_names_both_kinds(tmp_path):
    params = {
        "sources": {"x": "embedded"},
        "collections": ["bach", "palestrina"],
        "meters": None,
        "max_pieces": 1,
        "seed": 0,
    }
    with pytest.raises(ValueError, match=r"\['palestrina'\].*folk tunebooks.*'bach', 'monteverdi'.*scores"):
        build(params, tmp_path / "corpus", workers=1)


def test_held_out_collections_are_rendered_beside_the_corpus_as_it_would_have_been_and_indexed_nowhere(tmp_path):
    """corpus.held_out: the chorales a folk model never hears, chosen and rendered as corpus.collections would."""
    params = {"sources": {"folk": "embedded"}, "collections": ["ryans"], "meters": ["4/4"], "max_pieces": 3, "seed": 0}
    held_out = build_held_out(params | {"held_out": ["bach"]}, tmp_path / "held_out", workers=1)
    build(params | {"collections": ["bach"]}, tmp_path / "as_corpus", workers=1)
    rendered = sorted(p.relative_to(tmp_path / "held_out" / "bach") for p in (tmp_path / "held_out").rglob("*.mid"))
    trained = {r["path"] for r in read_index(tmp_path / "as_corpus")}
    assert held_out["bach"]["written"] == len(rendered) == 3 and {str(p) for p in rendered} == trained
    assert extract(next((tmp_path / "held_out").rglob("*.mid")), REPRESENTATIONS["mel_2bar"]).windows
    assert build_held_out(params, tmp_path / "held_out", workers=1) == {}  # none named: an empty folder, rewritten
    assert (tmp_path / "held_out").is_dir() and not any((tmp_path / "held_out").iterdir())
    with pytest.raises(ValueError, match=r"corpus.held_out: \['bach'\] also in corpus.collections"):
        build_held_out(params | {"collections": ["bach"], "held_out": ["bach"]}, tmp_path / "x", workers=1)
