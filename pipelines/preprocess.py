"""The `preprocess` stage: a MIDI corpus to Parquet shards of windows per representation and split, with a
data report, dead letters and a manifest, as one Beam pipeline that runs unchanged on any runner.

    python -m pipelines.preprocess --input data/corpus/index.csv --output data/shards \\
        --report reports/preprocess.json --params params.yaml [--set rows_per_shard=10000] [Beam flags]

--input is a glob on any Beam filesystem (gs://bucket/lmd_full/**/*.mid) or an index CSV with a `path` column,
relative paths being taken from the CSV's folder. Other flags go to Beam. The default runner is FnApiRunner, the
engine behind the DirectRunner (--direct_running_mode in_memory|multi_processing, --direct_num_workers N); naming
it avoids the DirectRunner's first try of Prism, which downloads a binary."""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import math
import os
import posixpath
import re
import time
from collections import defaultdict
from collections.abc import Iterator

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import GoogleCloudOptions, PipelineOptions, StandardOptions, TestOptions
from apache_beam.runners.runner import PipelineState

from musicvae.extract import FAILURES
from pipelines import batches, manifest, publish, staged
from pipelines.config import SPLITS, PreprocessConfig, load
from pipelines.convert import DEAD_LETTERS, FILES, SOURCES, WINDOWS, ConvertFile
from pipelines.dedupe import dedupe
from pipelines.occurrences import Kept
from pipelines.shards import write as write_shard
from pipelines.sources import Source, smallest_paths

DEFAULT_RUNNER = "FnApiRunner"
SPREAD = 100  # files a worker takes at a time: few elements for the runner, enough for many workers to share
REPORT = "report.json"


def corpus_root(input: str) -> str:
    """The folder source ids are relative to: the CSV's folder, or the glob's part before its first wildcard."""
    if input.endswith(".csv"):
        return posixpath.dirname(input)
    return posixpath.dirname(re.split(r"[*?\[]", input, maxsplit=1)[0])


def _index_chunks(index: str) -> Iterator[tuple[int, int]]:
    """Byte ranges of the index's lines after its header, SPREAD lines each."""
    with FileSystems.open(index) as f:
        start = end = len(f.readline())
        for count, line in enumerate(f, 1):
            end += len(line)
            if count % SPREAD == 0:
                yield start, end
                start = end
    if end > start:
        yield start, end


def _index_paths(p: beam.Pipeline, index: str) -> beam.PCollection:
    """The index's paths. Ranges of its lines cross the fusion break, not the paths: what the runner carries and
    holds does not grow with the corpus (paths would cost the FnApiRunner about 0.7 KB each)."""
    with FileSystems.open(index) as f:
        header = next(csv.reader([f.readline().decode()]))
    if "path" not in header:
        raise SystemExit(f"{index}: no `path` column in the header {header}")
    column, root = header.index("path"), corpus_root(index)

    def paths(chunk: tuple[int, int]) -> Iterator[str]:
        with FileSystems.open(index) as f:
            f.seek(chunk[0])
            lines = f.read(chunk[1] - chunk[0]).decode()
        for row in csv.reader(io.StringIO(lines)):
            if row:
                path = row[column]
                yield path if "://" in path or path.startswith("/") else FileSystems.join(root, path)

    return (
        p
        | "Index" >> beam.Create([index])
        | "Chunks" >> beam.FlatMap(_index_chunks)
        | "SpreadChunks" >> beam.Reshuffle()
        | "Paths" >> beam.FlatMap(paths)
    )


def read_files(p: beam.Pipeline, input: str) -> beam.PCollection:
    # The fusion break: without it every file is converted by the worker that matched them all. Matched files
    # cross it in batches, as a runner's GroupByKey costs it about 1 KB per element (the FnApiRunner holds them
    # all): LMD-full's 176,581 are 1,766 elements.
    if input.endswith(".csv"):
        matches = _index_paths(p, input) | "MatchIndex" >> fileio.MatchAll()
    else:
        matches = (
            p
            | "Match" >> fileio.MatchFiles(input)
            | "Batch" >> beam.BatchElements(min_batch_size=SPREAD, max_batch_size=SPREAD)
            | "Spread" >> beam.Reshuffle()
            | "Unbatch" >> beam.FlatMap(iter)
        )
    return matches | "Read" >> fileio.ReadMatches()


def _file_stats(element):
    rep, outcome = element
    yield (rep, "files"), 1
    yield (rep, "windows_extracted"), outcome["windows"]
    if outcome["windows"]:
        yield (rep, "files_with_windows"), 1
        yield (rep, f"splits.{outcome['split']}.files"), 1
    for reason, count in outcome["reasons"].items():
        yield (rep, f"reasons.{reason}"), count


def _dedupe_stats(element):
    (rep, _), (_, counts) = element
    for name, count in counts.items():
        if count and not name.startswith("splits."):
            Metrics.counter("preprocess", f"{rep}.{name}").inc(count)
        yield (rep, name), count


def _shard(rep: str, split: str, md5: str, counts: dict, rows_per_shard: int) -> tuple:
    """Shards by the source file's md5: stable as the corpus grows, and all rows of a file together."""
    shards = max(1, math.ceil(counts[(rep, split)] / rows_per_shard))
    return rep, split, int(md5[:8], 16) % shards, shards


def _by_shard(records) -> list[tuple[tuple, bytes]]:
    """(shard, packed record) pairs as one element per shard, its records concatenated."""
    by_shard: dict[tuple, bytearray] = defaultdict(bytearray)
    for shard, packed in records:
        by_shard[shard] += packed
    return [(shard, bytes(packed)) for shard, packed in by_shard.items()]


def _dedupe(element: tuple[tuple, list[str]], folder: str) -> tuple:
    """A key's occurrences, from their batches, to (the name of a file of the kept ones, counts)."""
    key, names = element
    kept, counts = dedupe(batches.read(names))
    return key, (batches.write(folder, kept), counts)


def _kept_by_shard(element, counts: dict, rows_per_shard: int, folder: str):
    """A bucket's kept occurrences, as the name of a file for each shard they go to."""
    (rep, _), (kept, _) = element
    by_shard = _by_shard(
        (_shard(rep, k.split, k.md5, counts, rows_per_shard), packed)
        for k, packed in Kept.unpack_all(batches.read([kept]))
    )
    return [(shard, batches.write(folder, packed)) for shard, packed in by_shard]


def _sources_by_shard(element, counts: dict, rows_per_shard: int, names: list[str], folder: str):
    """A bucket's sources, from their batches, as the smallest path of each md5, in the name of a file for each
    shard that may hold their rows: the file's shard of each representation it gave windows to."""
    _, sources = element
    by_shard = _by_shard(
        (_shard(rep, source.split, source.md5, counts, rows_per_shard), packed)
        for source, packed in smallest_paths(batches.read(sources))
        for i, rep in enumerate(names)
        if source.reps >> i & 1 and counts.get((rep, source.split))
    )
    return [(shard, batches.write(folder, packed)) for shard, packed in by_shard]


def _shard_file(element, reps: dict, windows: str, staging: str):
    """Writes one shard into the staging folder, a row group at a time, and gives its name."""
    (rep, split, shard, shards), grouped = element
    kept = [k for k, _ in Kept.unpack_all(batches.read(grouped["kept"]))]
    if kept:  # else only paths of files whose windows all went to other shards or were copies
        paths = {s.md5: s.path for s, _ in Source.unpack_all(batches.read(grouped["sources"]))}
        name = f"{rep}/{split}-{shard:05d}-of-{shards:05d}.parquet"
        with FileSystems.create(FileSystems.join(staging, name)) as f:
            write_shard(reps[rep], staged.rows(windows, rep, kept, paths), f)
        yield name


def _dead_letters(element: tuple[str, dict], staging: str) -> str:
    """Writes a representation's dead letters into the staging folder, sorted: a file whose bytes do not depend on
    the order files were read in."""
    rep, grouped = element
    lines = batches.read(grouped["batches"]).splitlines(keepends=True)
    lines.sort()
    name = f"{rep}/dead_letters.jsonl"
    with FileSystems.create(FileSystems.join(staging, name)) as f:
        f.writelines(lines)
    return name


def _report(counts: list, staging: str) -> str:
    """Writes the data report into the staging folder."""
    report: dict = {}
    for (rep, name), count in sorted(counts):
        node = report.setdefault(rep, {})
        *parents, leaf = name.split(".")
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = count
    with FileSystems.create(FileSystems.join(staging, REPORT)) as f:
        f.write(json.dumps(report, indent=1, sort_keys=True).encode() + b"\n")
    return REPORT


def build(p: beam.Pipeline, config: PreprocessConfig, input: str, output: str) -> None:
    reps = {r.name: r for r in config.representations}
    windows, staging = FileSystems.join(output, staged.FOLDER), FileSystems.join(output, publish.STAGING)
    on_disk = FileSystems.join(output, batches.FOLDER)
    converted = read_files(p, input) | "Convert" >> beam.ParDo(
        ConvertFile(config, corpus_root(input), windows, on_disk)
    ).with_outputs(WINDOWS, SOURCES, FILES, DEAD_LETTERS)
    # Occurrences, sources, kept occurrences and dead letters cross as names of files (pipelines/batches.py).
    deduped = converted[WINDOWS] | "Batches" >> beam.GroupByKey() | "Dedupe" >> beam.Map(_dedupe, on_disk)
    split_counts = (
        deduped
        | "SplitRows" >> beam.FlatMap(lambda e: [((e[0][0], s), e[1][1][f"splits.{s}.windows"]) for s in SPLITS])
        | "CountSplits" >> beam.CombinePerKey(sum)
    )
    counts, names = beam.pvalue.AsDict(split_counts), [r.name for r in config.representations]
    shards = (
        {
            "kept": deduped | "KeptByShard" >> beam.FlatMap(_kept_by_shard, counts, config.rows_per_shard, on_disk),
            "sources": converted[SOURCES]
            | "SourceBatches" >> beam.GroupByKey()
            | "SourcesByShard" >> beam.FlatMap(_sources_by_shard, counts, config.rows_per_shard, names, on_disk),
        }
        | "GroupShards" >> beam.CoGroupByKey()
        | "Shards" >> beam.FlatMap(_shard_file, reps, windows, staging)
    )
    every_rep = p | "Representations" >> beam.Create(sorted(reps))
    dead_letters = (  # a file for every representation, even empty
        {"rep": every_rep | "ByName" >> beam.Map(lambda rep: (rep, None)), "batches": converted[DEAD_LETTERS]}
        | "LettersByRep" >> beam.CoGroupByKey()
        | "DeadLetters" >> beam.Map(_dead_letters, staging)
    )
    zeros = every_rep | "Zeros" >> beam.FlatMap(
        lambda rep: [
            ((rep, name), 0)
            for name in (
                "files",
                "files_with_windows",
                "windows_extracted",
                "corpus_duplicates",
                *(f"splits.{s}.{what}" for s in SPLITS for what in ("files", "windows")),
                *(f"leakage.{s}" for s in SPLITS[1:]),
            )
        ]
    )
    report = (
        (
            # Summed before the Flatten, which would keep the runner from lifting the sum into the conversion.
            converted[FILES] | "FileStats" >> beam.FlatMap(_file_stats) | "SumFiles" >> beam.CombinePerKey(sum),
            deduped | "DedupeStats" >> beam.FlatMap(_dedupe_stats),
            zeros,
        )
        | "AllStats" >> beam.Flatten()
        | "Sum" >> beam.CombinePerKey(sum)
        | "Collect" >> beam.combiners.ToList()
        | "Report" >> beam.Map(_report, staging)
    )
    # Each output is staged by the step that makes it, so its bytes never wait in a runner's buffer.
    _ = (
        (
            shards,
            dead_letters,
            report,
        )
        | "Staged" >> beam.Flatten()
        | "Names" >> beam.combiners.ToList()
        | "Publish" >> beam.Map(publish.publish, staging, output)
    )


def _clear(output: str, config: PreprocessConfig) -> None:
    """A rerun starts from nothing, so a killed run leaves no stale file in what DVC records."""
    for name in (publish.STAGING, staged.FOLDER, batches.FOLDER, REPORT, *(r.name for r in config.representations)):
        path = FileSystems.join(output, name)
        if FileSystems.exists(path):
            FileSystems.delete([path])
    if "://" not in output:  # object stores have no folders to make
        for rep in config.representations:
            FileSystems.mkdirs(FileSystems.join(output, rep.name))


def _fail_on_failures(output: str, config: PreprocessConfig, report: dict) -> None:
    """Bugs and timeouts say nothing about the music: past a small share of the files, shards would be silently
    short, so the stage removes them and fails, leaving the report and dead letters to read."""
    for rep in config.representations:
        stats = report[rep.name]
        failed = sum(stats.get("reasons", {}).get(reason, 0) for reason in FAILURES)
        if failed > config.max_failure_share * stats["files"]:
            shards = FileSystems.match([FileSystems.join(output, rep.name, "*.parquet")])[0].metadata_list
            FileSystems.delete([m.path for m in shards])
            raise SystemExit(
                f"preprocess: {failed} of {stats['files']} files failed for {rep.name} (an internal "
                f"error or the {config.limits.timeout_seconds} s timeout) > "
                f"preprocess.max_failure_share {config.max_failure_share}; shards removed. Their "
                f"tracebacks are in the log, the files in {rep.name}/dead_letters.jsonl."
            )


# Cloud Storage's rule for bucket names; Beam retries a bad one for minutes before a long traceback.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")


def _check_bucket(path: str | None) -> None:
    if path and path.startswith("gs://") and not _BUCKET.fullmatch(bucket := path[5:].split("/")[0]):
        raise SystemExit(
            f"preprocess: {path}: {bucket!r} is not a Cloud Storage bucket name (lowercase letters, "
            "digits, '-', '_' and '.'); in the documentation's commands BUCKET and PROJECT stand "
            "for yours"
        )


def run(argv: list[str] | None = None) -> dict | None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--input", required=True, help="glob of MIDI files, or an index CSV with a path column")
    parser.add_argument("--output", required=True, help="folder of shards, dead letters and manifests")
    parser.add_argument("--report", help="also write the data report here (DVC metrics)")
    parser.add_argument("--params", default="params.yaml", help="YAML file with a `preprocess` section")
    parser.add_argument("--representation", action="append", help="instead of preprocess.representations")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a preprocess param, e.g. rows_per_shard=10000",
    )
    args, beam_args = parser.parse_known_args(argv)
    start = time.perf_counter()
    config = load(args.params, args.set, args.representation)
    options = PipelineOptions(beam_args)
    options.view_as(StandardOptions).runner = options.view_as(StandardOptions).runner or DEFAULT_RUNNER
    cloud = options.view_as(GoogleCloudOptions)
    for path in (args.input, args.output, cloud.temp_location, cloud.staging_location):
        _check_bucket(path)
    dry_run = options.view_as(TestOptions).dry_run  # build the job graph only: touch no filesystem
    if not dry_run:
        if not args.input.endswith(".csv") and not FileSystems.match([args.input], limits=[1])[0].metadata_list:
            raise SystemExit(f"--input {args.input}: no file matches")
        _clear(args.output, config)
    p = beam.Pipeline(options=options)
    print(
        f"preprocess: {args.input} -> {', '.join(r.name for r in config.representations)} windows on the "
        f"{options.view_as(StandardOptions).runner}",
        flush=True,
    )
    # Remote workers resolve a relative path from their own working folder and would match nothing.
    local = lambda path: path if "://" in path else os.path.abspath(path)  # noqa: E731
    build(p, config, local(args.input), local(args.output))
    state = p.run().wait_until_finish()
    if state != PipelineState.DONE:  # e.g. a Dataflow --dry_run, or a job submitted without waiting
        logging.info("pipeline state %s: no manifest written", state)
        return None
    for name in (publish.STAGING, staged.FOLDER, batches.FOLDER):
        if FileSystems.exists(staging := FileSystems.join(args.output, name)):
            FileSystems.delete([staging])
    with FileSystems.open(FileSystems.join(args.output, REPORT)) as f:
        written = f.read()
    report = json.loads(written)
    _fail_on_failures(args.output, config, report)
    for rep in config.representations:
        manifest.write(args.output, config, rep, args.input, report[rep.name])
    if args.report:
        with open(args.report, "wb") as f:
            f.write(written)
    for rep in config.representations:
        splits = report[rep.name]["splits"]
        print(
            f"preprocess: {rep.name}: "
            + ", ".join(f"{splits[s]['windows']:,} {s}" for s in SPLITS)
            + f" windows from {report[rep.name]['files_with_windows']:,} of {report[rep.name]['files']:,} files"
        )
    print(f"preprocess: done in {time.perf_counter() - start:.1f} s -> {args.output}")
    return report


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    run()
