"""The `corpus` stage: a folder of standard MIDI files shaped like a Lakh folder, plus a report.

`corpus.sources` names each source: `embedded` renders the collections of the music21 wheel that `corpus.collections`
names (its folk tunebooks, Bach's chorales, Monteverdi's madrigals), a folder or glob validates and indexes the
user's own MIDI files in place. Every file is tagged with its collection (the tunebook, or the source's name) in
index.csv and the report, and a file whose bytes came before is indexed once.

`corpus.held_out` names embedded collections to render beside the corpus, one folder each, in no split: music from
outside the training corpus that a model trained on it has never heard, for `eval.external`.

    python -m musicvae.corpus.build --params params.yaml --out data/corpus --held-out data/held_out \
        --report reports/corpus.json
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from fractions import Fraction
from functools import partial
from pathlib import Path

import symusic
import yaml
from tqdm import tqdm

from musicvae.corpus import abc, scores
from musicvae.midi import midi_files

RENDER_COUNTS = ("selected", "written", "duplicates", "failed")
EMBEDDED = "embedded"  # corpus.sources' name for the music21 wheel's collections
# One index for every source; the tune's book, number and meter are known for the embedded tunes only.
INDEX_COLUMNS = ["md5", "path", "collection", "bytes", "tracks", "notes", "title", "book", "number", "meter"]


def _reason(error: Exception) -> str:
    # Object addresses would make the report differ between identical builds.
    return f"{type(error).__name__}: " + re.sub(r"0x[0-9a-f]+|id\(\)=\d+", "", str(error)).strip()


def _render(tune: abc.Tune, rebarred: dict[str, str]) -> tuple[bytes, int, int] | str:
    try:
        midi = abc.to_midi(tune, rebarred) if tune.abc else scores.to_midi(tune, rebarred)
        tracks = symusic.Score.from_midi(midi).tracks
        return midi, len(tracks), sum(len(t.notes) for t in tracks)
    except Exception as e:  # one bad tune never stops the corpus
        return _reason(e)


def _inspect(path: str) -> tuple[str, int, int, int] | str:
    try:
        data = Path(path).read_bytes()
        score = symusic.Score.from_midi(data)
        return hashlib.md5(data).hexdigest(), len(data), len(score.tracks), sum(len(t.notes) for t in score.tracks)
    except Exception as e:
        return _reason(e)


def _parallel(fn: Callable, items: list, workers: int, what: str) -> Iterator:
    """Results in input order, so the output never depends on the worker count."""
    if workers <= 1:
        yield from tqdm(map(fn, items), total=len(items), desc=what, unit="file")
        return
    with ProcessPoolExecutor(workers) as pool:
        yield from tqdm(pool.map(fn, items, chunksize=8), total=len(items), desc=what, unit="file")


def lakh_path(root: Path, md5: str) -> Path:
    """LMD-full's layout: files named by MD5, in 16 folders by the first hex digit."""
    return root / md5[0] / f"{md5}.mid"


def _bar(meter: str) -> Fraction:
    beats, _, unit = meter.partition("/")
    if not (beats.isdigit() and unit.isdigit() and int(beats) and int(unit)):
        raise ValueError(f"corpus.rebar: {meter!r} is not a meter such as 2/4")
    return Fraction(int(beats), int(unit))


def rebarred(params: dict) -> dict[str, str]:
    """`corpus.rebar`, checked: each meter is written as one whose bar holds a whole number of its bars, so that
    no note moves and each new bar starts where an old one did."""
    meters = {str(k): str(v) for k, v in (params.get("rebar") or {}).items()}
    for meter, written in meters.items():
        if (_bar(written) / _bar(meter)).denominator != 1:
            raise ValueError(f"corpus.rebar: a {written} bar does not hold a whole number of {meter} bars")
    return meters


def build_embedded(params: dict, out: Path, workers: int) -> tuple[list[dict], dict]:
    collections = list(params["collections"])
    unknown = sorted(set(collections) - abc.COLLECTIONS.keys() - scores.COLLECTIONS.keys())
    if unknown:
        raise ValueError(
            f"corpus.collections: unknown collection(s) {unknown}; choose from "
            f"{sorted(abc.COLLECTIONS)} (folk tunebooks) or {sorted(scores.COLLECTIONS)} (scores)"
        )
    tunes = abc.read_tunes([c for c in collections if c in abc.COLLECTIONS]) + scores.read_scores(
        [c for c in collections if c in scores.COLLECTIONS]
    )
    in_meter = abc.select(tunes, params["meters"], None, 0)
    chosen = abc.select(tunes, params["meters"], params["max_pieces"], params["seed"])
    rows, report = render_tunes(chosen, out, workers, rebarred(params))
    per = {
        c: {"tunes": 0, "in_meter": 0, **dict.fromkeys(RENDER_COUNTS, 0), **report["collections"].get(c, {})}
        for c in collections
    }
    for group, key in ((tunes, "tunes"), (in_meter, "in_meter")):
        for t in group:
            per[t.collection][key] += 1
    return rows, {"tunes": len(tunes), "in_meter": len(in_meter), **report, "collections": per}


def render_tunes(
    tunes: list[abc.Tune], out: Path, workers: int, rebarred: dict[str, str] | None = None
) -> tuple[list[dict], dict]:
    """Write each tune as `out/<h>/<md5>.mid`, its meters rebarred; its index rows, and the counts and tunes that
    failed."""
    per = {t.collection: dict.fromkeys(RENDER_COUNTS, 0) for t in tunes}
    rows, failures, seen = [], [], set()
    render = partial(_render, rebarred=rebarred or {})
    for tune, result in zip(tunes, _parallel(render, tunes, workers, "render tunes")):
        counts = per[tune.collection]
        counts["selected"] += 1
        if isinstance(result, str):
            counts["failed"] += 1
            failures.append({"tune": tune.id, "number": tune.number, "title": tune.title, "reason": result})
            continue
        midi, tracks, notes = result
        md5 = hashlib.md5(midi).hexdigest()
        if md5 in seen:
            counts["duplicates"] += 1
            continue
        seen.add(md5)
        path = lakh_path(out, md5)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(midi)
        counts["written"] += 1
        rows.append(
            {
                "md5": md5,
                "path": str(path.relative_to(out)),
                "collection": tune.collection,
                "bytes": len(midi),
                "tracks": tracks,
                "notes": notes,
                "book": tune.book,
                "number": tune.number,
                "title": tune.title,
                "meter": tune.meter,
            }
        )
    return rows, {
        **{k: sum(c[k] for c in per.values()) for k in RENDER_COUNTS},
        "collections": per,
        "failure_reasons": _reasons(failures),
        "failures": failures,
    }


def index_folder(source: str, collection: str, workers: int) -> tuple[list[dict], dict]:
    """The MIDI files of a folder (searched recursively) or glob, validated and indexed where they are."""
    paths = midi_files(source)
    if not paths:
        raise FileNotFoundError(f"corpus.sources.{collection}: {source!r} matches no .mid/.midi file")
    rows, failures, seen, duplicates = [], [], set(), 0
    for path, result in zip(paths, _parallel(_inspect, paths, workers, f"index {collection}")):
        if isinstance(result, str):
            failures.append({"path": path, "reason": result})
            continue
        md5, size, tracks, notes = result
        if md5 in seen:
            duplicates += 1
            continue
        seen.add(md5)
        rows.append(
            {
                "md5": md5,
                "path": os.path.abspath(path),
                "collection": collection,
                "bytes": size,
                "tracks": tracks,
                "notes": notes,
                "title": Path(path).stem,
            }
        )
    return rows, {
        "files": len(paths),
        "valid": len(rows) + duplicates,
        "duplicates": duplicates,
        "failed": len(failures),
        "failure_reasons": _reasons(failures),
        "failures": failures,
    }


def build_held_out(params: dict, out: Path, workers: int) -> dict:
    """Each collection of `corpus.held_out` rendered as the corpus's embedded ones are (the same meters and
    selection), into out/<collection>/ and no index; returns the report of each."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    held_out = params.get("held_out") or []
    trained = set(params["collections"]) if EMBEDDED in params["sources"].values() else set()
    if both := sorted(trained.intersection(held_out)):
        raise ValueError(f"corpus.held_out: {both} also in corpus.collections; music held out is not trained on")
    return {c: build_embedded(params | {"collections": [c]}, out / c, workers)[1]["collections"][c] for c in held_out}


def _reasons(failures: list[dict]) -> dict[str, int]:
    return dict(sorted(Counter(f["reason"].split(":")[0] for f in failures).items()))


def _write_index(out: Path, rows: list[dict]) -> None:
    if not rows:
        raise ValueError("the corpus is empty: no file survived (see the failures in the report)")
    with open(out / "index.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=INDEX_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def build(params: dict, out: Path, workers: int) -> dict:
    """Build the corpus folder from scratch from every source, in the order given; returns the report. A file
    whose bytes an earlier source (or the same one) already gave is indexed once, under the first collection."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    sources = params["sources"]
    if not sources:
        raise ValueError("corpus.sources is empty: name at least one source, e.g. {folk: embedded}")
    if list(sources.values()).count(EMBEDDED) > 1:
        raise ValueError(
            "corpus.sources names `embedded` more than once; its tunebooks are chosen by corpus.collections"
        )
    rows, seen, per_source, collections = [], set(), {}, {}
    for name, source in sources.items():
        if source == EMBEDDED:
            found, per_source[name] = build_embedded(params, out, workers)
        else:
            found, per_source[name] = index_folder(str(source), name, workers)
        per_source[name] = {"source": str(source), **per_source[name]}
        for row in found:
            counts = collections.setdefault(row["collection"], {"files": 0, "duplicates": 0})
            if row["md5"] in seen:
                counts["duplicates"] += 1
                if source == EMBEDDED:  # an earlier folder holds these bytes; the rendered copy is not indexed
                    (out / row["path"]).unlink()
                continue
            seen.add(row["md5"])
            counts["files"] += 1
            rows.append(row)
    _write_index(out, rows)
    return {
        "files": len(rows),
        "duplicates_across_sources": sum(c["duplicates"] for c in collections.values()),
        "failed": sum(r["failed"] for r in per_source.values()),
        "collections": collections,
        "sources": per_source,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"), help="reads its `corpus` section")
    parser.add_argument("--out", type=Path, required=True, help="corpus folder to (re)create")
    parser.add_argument("--held-out", type=Path, required=True, help="folder to (re)create for corpus.held_out")
    parser.add_argument("--report", type=Path, required=True, help="JSON report: counts and every failure")
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="processes; the output does not depend on it"
    )
    args = parser.parse_args()
    start = time.perf_counter()
    params = yaml.safe_load(args.params.read_text())["corpus"]
    held_out = build_held_out(params, args.held_out, args.workers)  # first: a collection in both fails at once
    report = build(params, args.out, args.workers) | {"held_out": held_out}
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    counts = {name: c["files"] for name, c in report["collections"].items()}
    held = {name: c["written"] for name, c in report["held_out"].items()}
    print(
        f"corpus: {report['files']} files {counts}, {report['failed']} failed, held out {held} in "
        f"{time.perf_counter() - start:.1f} s -> {args.out}, {args.held_out}"
    )


if __name__ == "__main__":
    main()
