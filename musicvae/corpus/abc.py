"""The folk-tune collections that ship inside the music21 wheel, as ABC tunes, and their conversion to MIDI."""

from __future__ import annotations

import copy
import hashlib
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import music21

# Our name -> folder of music21/corpus.
COLLECTIONS = {
    "essen": "essenFolksong",
    "oneills": "oneills1850",
    "aird": "airdsAirs",
    "ryans": "ryansMammoth",
}
# ABC's common and cut time symbols.
METER_ALIASES = {"C": "4/4", "C|": "2/2"}

_TUNE_START = re.compile(r"(?m)^(?=X:)")
_FIELD = re.compile(r"(?m)^([A-Za-z]):[ \t]*(.*?)[ \t]*$")


@dataclass(frozen=True)
class Tune:
    collection: str
    book: str  # file name inside the collection's folder
    index: int  # position of the tune in its book, from 0
    number: str  # the X: field
    title: str
    meter: str  # normalised M: field, "none" when absent
    abc: str  # the book's header followed by the tune

    @property
    def id(self) -> str:
        return f"{self.collection}/{self.book}#{self.index}"


def corpus_root() -> Path:
    return Path(music21.__file__).parent / "corpus"


def read_tunes(collections: list[str]) -> list[Tune]:
    """Every tune of the collections, in a stable order: collection, book, position in the book."""
    unknown = sorted(set(collections) - COLLECTIONS.keys())
    if unknown:
        raise ValueError(f"unknown collection(s) {unknown}; choose from {sorted(COLLECTIONS)}")
    tunes = []
    for name in collections:
        for book in sorted((corpus_root() / COLLECTIONS[name]).glob("*.abc")):
            header, *bodies = _TUNE_START.split(book.read_text(encoding="latin-1"))
            for i, body in enumerate(bodies):
                fields: dict[str, str] = {}
                for key, value in _FIELD.findall(body):
                    fields.setdefault(key, value)
                meter = fields.get("M", "none") or "none"
                tunes.append(Tune(name, book.name, i, fields.get("X", ""), fields.get("T", ""),
                                  METER_ALIASES.get(meter, meter), header + body))
    return tunes


def select(tunes: list[Tune], meters: list[str] | None, max_pieces: int | None, seed: int) -> list[Tune]:
    """Filter by meter, then keep the `max_pieces` tunes with the smallest seeded hash of their id.

    Hash ranking (not random.sample) keeps a selection stable as collections grow: a tune never leaves it
    because another tune was added."""
    kept = [t for t in tunes if meters is None or t.meter in meters]
    if max_pieces is not None and len(kept) > max_pieces:
        rank = {t.id: hashlib.sha1(f"{seed}:{t.id}".encode()).hexdigest() for t in kept}
        chosen = set(sorted(rank, key=rank.get)[:max_pieces])
        kept = [t for t in kept if t.id in chosen]
    return kept


def sounding_notes(score: music21.stream.Score) -> int:
    """Notes a MIDI rendering of `score` must hold: tied notes count once, each chord tone counts."""
    return sum(len(n.pitches) for n in score.stripTies().flatten().notes)


def _unshare_time_signatures(score: music21.stream.Score) -> None:
    """music21's ABC reader reuses one TimeSignature object for every return to the main meter of a
    mixed-meter tune, and its MIDI writer then refuses the score; give each measure its own copy."""
    seen = set()
    for container in list(score.recurse(streamsOnly=True, includeSelf=True)):
        for ts in list(container.getElementsByClass(music21.meter.TimeSignature)):
            if id(ts) in seen:
                container.replace(ts, copy.deepcopy(ts))
            seen.add(id(ts))


def to_midi(tune: Tune) -> tuple[bytes, int]:
    """Render a tune as it is played: repeats expanded, grace notes and chord symbols dropped.

    music21 renders grace notes inconsistently and chord symbols not at all, so both are removed up front;
    the MIDI then holds exactly `sounding_notes` notes, which tests check."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = music21.converter.parse(tune.abc, format="abc")
        if not score.recurse().notes:
            raise ValueError("no notes")
        if score.recurse().getElementsByClass(music21.stream.Measure):  # unbarred tunes have no repeats
            score = score.expandRepeats()
        _unshare_time_signatures(score)
        drop = [n for n in score.recurse().notes
                if n.duration.isGrace or isinstance(n, music21.harmony.ChordSymbol)]
        for n in drop:
            n.activeSite.remove(n)
        midi = music21.midi.translate.streamToMidiFile(score).writestr()
    return midi, sounding_notes(score)
