"""Running the real preprocess pipeline in tests, and reading what it wrote."""

import os
from pathlib import Path

import pyarrow.parquet as pq

from lightning_modules.datamodule import table_tokens
from pipelines import preprocess
from tests.support import PARAMS

ALL = ["mel_2bar", "mel_16bar", "drums_2bar", "trio_16bar"]


def run(input, output, *flags, reps=ALL, report=None) -> dict:
    argv = ["--input", str(input), "--output", str(output), "--params", str(PARAMS), *flags]
    argv += [a for rep in reps for a in ("--representation", rep)]
    return preprocess.run(argv + (["--report", str(report)] if report else []))


def files(output) -> dict[str, bytes]:
    """Every file under output, by relative path."""
    root = Path(output)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def rows(output, rep, split=None):
    """All rows of a representation (or of one split) as dicts, tokens as the codec's bytes."""
    found = []
    for path in sorted((Path(output) / rep).glob(f"{split or '*'}-*.parquet")):
        table = pq.read_table(path)
        for row, t in zip(table.drop_columns("tokens").to_pylist(), table_tokens(table)):
            found.append(row | {"tokens": t.tobytes()})
    return found


def mirror(source: Path, dest: Path) -> Path:
    """The corpus as symlinks, so tests can add files beside it without touching the shared folder."""
    for path in source.rglob("*.mid"):
        link = dest / path.relative_to(source)
        link.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(path, link)
    return dest
