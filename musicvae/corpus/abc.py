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
                tunes.append(
                    Tune(
                        name,
                        book.name,
                        i,
                        fields.get("X", ""),
                        fields.get("T", ""),
                        METER_ALIASES.get(meter, meter),
                        header + body,
                    )
                )
    return tunes


def select(tunes: list[Tune], meters: list[str] | None, max_pieces: int | None, seed: int) -> list[Tune]:
    """Filter by meter, then keep the `max_pieces` tunes with the smallest seeded hash of their id.

    Hash ranking (not random.sample) keeps a selection stable as collections grow: added tunes can displace as
    many kept tunes as were added, but never reshuffle the rest."""
    kept = [t for t in tunes if meters is None or t.meter in meters]
    if max_pieces is not None and len(kept) > max_pieces:
        rank = {t.id: hashlib.sha1(f"{seed}:{t.id}".encode()).hexdigest() for t in kept}
        chosen = set(sorted(rank, key=rank.get)[:max_pieces])
        kept = [t for t in kept if t.id in chosen]
    return kept


def _unshare_time_signatures(score: music21.stream.Score) -> None:
    """music21's ABC reader reuses one TimeSignature object for every return to the main meter of a
    mixed-meter tune, and its MIDI writer then refuses the score; give each measure its own copy."""
    seen = set()
    for container in list(score.recurse(streamsOnly=True, includeSelf=True)):
        for ts in list(container.getElementsByClass(music21.meter.TimeSignature)):
            if id(ts) in seen:
                container.replace(ts, copy.deepcopy(ts))
            seen.add(id(ts))


def _open_implicit_repeats(score: music21.stream.Score) -> None:
    """ABC's `:|` with no `|:` repeats from the previous section end (`:|`, `||` or the tune's start), but
    music21 repeats from the tune's start, which multiplies tunes of several such sections (one grew 100-fold
    and took minutes). Make each implied start explicit."""
    for part in score.parts:
        start, opened = None, False
        for m in part.getElementsByClass(music21.stream.Measure):
            if start is None and not m.getSpannerSites([music21.spanner.RepeatBracket]):
                start = m  # a section starts at the first measure after the previous one's endings
            left, right = m.leftBarline, m.rightBarline
            opened |= isinstance(left, music21.bar.Repeat) and left.direction == "start"
            if isinstance(right, music21.bar.Repeat) and right.direction == "end":
                if not opened and start is not None:
                    start.leftBarline = music21.bar.Repeat(direction="start")
                start, opened = None, False
            elif right is not None and right.type in ("double", "final"):
                start, opened = None, False


def rebar(score: music21.stream.Score, meters: dict[str, str]) -> None:
    """Write each time signature whose meter `meters` names as the meter it maps to, e.g. {"2/4": "4/4"}: two 2/4
    bars become one 4/4 bar. Only the time signatures change; every note keeps its time."""
    for ts in list(score.recurse().getElementsByClass(music21.meter.TimeSignature)):
        if ts.ratioString in meters:
            ts.activeSite.replace(ts, music21.meter.TimeSignature(meters[ts.ratioString]))


def to_midi(tune: Tune, rebarred: dict[str, str] | None = None) -> bytes:
    """Render a tune as it is played: music21's MIDI writer expands the repeats; grace notes and chord symbols
    are dropped first, because music21 renders the former inconsistently and the latter not at all. `rebarred`
    maps meters to the meters they are written in (`rebar`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = music21.converter.parse(tune.abc, format="abc")
        if not score.recurse().notes:
            raise ValueError("no notes")
        _unshare_time_signatures(score)
        _open_implicit_repeats(score)
        drop = [n for n in score.recurse().notes if n.duration.isGrace or isinstance(n, music21.harmony.ChordSymbol)]
        for n in drop:
            n.activeSite.remove(n)
        rebar(score, rebarred or {})
        return music21.midi.translate.streamToMidiFile(score).writestr()
