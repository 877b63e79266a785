"""The scored collections of the music21 wheel (Bach's chorales, Monteverdi's madrigals, in MusicXML or Humdrum):
each file one piece, rendered whole to MIDI.

Only collections whose parts come out as MIDI programs that Magenta's melody filter keeps (0-31) are offered: the
chorales' and madrigals' voices render as piano (program 0). The string quartets would render as violins (40-42),
which `mel_2bar` drops, and Palestrina's masses are in 4/2, which MusicVAE's 16-steps-per-bar grid refuses."""

from __future__ import annotations

import warnings
from pathlib import PurePosixPath

import music21

from musicvae.corpus.abc import Tune, corpus_root, rebar

# Our name -> folder of music21/corpus.
COLLECTIONS = {"bach": "bach", "monteverdi": "monteverdi"}
SUFFIXES = (".mxl", ".xml", ".musicxml", ".krn")  # the folders also hold Roman-numeral analyses (.rntxt)


def read_scores(collections: list[str]) -> list[Tune]:
    """Every score of the collections, in a stable order (collection, path), with the meter of its first bar from
    music21's metadata cache, so that selecting by meter parses nothing. `Tune.abc` is empty; `book` is the file's
    path in the collection's folder."""
    unknown = sorted(set(collections) - COLLECTIONS.keys())
    if unknown:
        raise ValueError(f"unknown collection(s) {unknown}; choose from {sorted(COLLECTIONS)}")
    bundle = music21.metadata.bundles.MetadataBundle("core").read()
    meters = {}
    for name in collections:
        # search() first: iterating the whole bundle costs seconds per thousand entries
        for entry in bundle.search(f"{COLLECTIONS[name]}/", "sourcePath"):
            meters[PurePosixPath(entry.sourcePath).as_posix()] = str(entry.metadata.timeSignatureFirst or "none")
    scores = []
    for name in collections:
        folder = corpus_root() / COLLECTIONS[name]
        for path in sorted(p for p in folder.rglob("*") if p.suffix in SUFFIXES):
            book = path.relative_to(folder).as_posix()
            meter = meters.get(f"{COLLECTIONS[name]}/{book}", "none")
            scores.append(Tune(name, book, 0, "", path.stem, meter, ""))
    return scores


def to_midi(score: Tune, rebarred: dict[str, str] | None = None) -> bytes:
    """The score as music21's MIDI writer plays it (repeats expanded), one track per part; `rebarred` as for the
    tunebooks."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = music21.converter.parse(corpus_root() / COLLECTIONS[score.collection] / score.book)
        if not parsed.recurse().notes:
            raise ValueError("no notes")
        rebar(parsed, rebarred or {})
        return music21.midi.translate.streamToMidiFile(parsed).writestr()
