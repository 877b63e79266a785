"""Each file's windows, staged on the output's filesystem from its conversion until its shard is written.

The dedupe needs the whole corpus before any row can be written, and a runner that carried the rows across it
would hold every one (the FnApiRunner keeps a GroupByKey's input in memory): so the rows wait here, one file per
source file, and only their occurrences travel (pipelines/occurrences.py). A file's windows are staged in row
order, so an occurrence names its window by index."""

from __future__ import annotations

import itertools
import pickle
from collections.abc import Iterable, Iterator

from apache_beam.io.filesystems import FileSystems

from musicvae.extract import Window
from pipelines.occurrences import Kept

FOLDER = ".windows"  # under the output; cleared when a run starts and removed when it ends


def row_order(window: Window) -> tuple:
    """Within a file, the shards' row order (they order by md5, then this)."""
    return window.piece, window.start_bar, list(window.programs), window.tokens.tobytes()


def _path(folder: str, md5: str) -> str:
    return FileSystems.join(folder, f"{md5}.pickle")


def stage(folder: str, md5: str, windows: dict[str, list[Window]]) -> None:
    """`windows` by representation, each list in row order. A file's bytes always give the same windows, so a
    retried bundle or a copy of the file at another path rewrites the same content."""
    staged = {
        rep: [(w.piece, w.start_bar, w.qpm, list(w.programs), w.tokens.tobytes()) for w in found]
        for rep, found in windows.items()
    }
    with FileSystems.create(_path(folder, md5)) as f:
        f.write(pickle.dumps(staged, protocol=5))


def rows(folder: str, rep: str, kept: Iterable[Kept], paths: dict[str, str]) -> Iterator[dict]:
    """The rows of the Kept occurrences of `rep`, in row order (by md5, then as staged), each file's windows read
    once; `paths` gives the source path of each md5 (pipelines/sources.py)."""
    ordered = sorted(kept, key=lambda k: (k.md5, k.index))
    for md5, group in itertools.groupby(ordered, key=lambda k: k.md5):
        with FileSystems.open(_path(folder, md5)) as f:
            windows = pickle.loads(f.read())[rep]  # written by stage() in this run, never read from elsewhere
        for k in group:
            piece, start_bar, qpm, programs, tokens = windows[k.index]
            yield {
                "tokens": tokens,
                "source": paths[md5],
                "md5": md5,
                "sources": k.sources,
                "piece": piece,
                "start_bar": start_bar,
                "qpm": qpm,
                "programs": programs,
            }
