"""Every window of one file, numbered, with those that training keeps marked: the one view that `musicvae explain`
and the model commands (--window N) share, so that a number names the same window in both.

Training gets what the preprocess stage extracts, after Magenta's caps (Representation.max_per_piece); a model
command may use any window of the file. So the listing holds them all, ordered by section, start bar and programs,
and marks the ones the caps keep."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from musicvae.extract import FileResult, Representation, Window, extract_all
from musicvae.reasons import UsageError, no_window, rejected


@dataclass(frozen=True)
class Listing:
    rep: Representation
    windows: list[Window]  # every window of the file
    kept: list[bool]  # whether training keeps the window
    result: FileResult  # what the preprocess stage gets: the kept windows, and its reasons, the caps' included

    def line(self, i: int) -> str:
        w = self.windows[i]
        return (
            f"{i}: piece {w.piece}, bars {w.start_bar}-{w.start_bar + self.rep.slice_bars - 1}, {w.qpm:.1f} qpm, "
            f"programs {list(w.programs)}" + (", kept for training" if self.kept[i] else "")
        )


def read(path: Path) -> bytes:
    """The bytes of a MIDI file, or a UsageError saying why there are none."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(path, "no such file", "no_such_file") from None
    except IsADirectoryError:
        raise UsageError(path, "a folder, not a MIDI file", "is_a_folder", "give one of its .mid files") from None
    except OSError as e:
        raise UsageError(path, f"the file cannot be read ({e.strerror})", "unreadable") from None


def _key(w: Window) -> tuple:
    return w.piece, w.start_bar, w.programs, w.tokens.tobytes()


def list_all(path: Path, reps: list[Representation], data: bytes | None = None) -> dict[str, Listing]:
    """Each representation as the preprocess stage extracts it and again without the caps, from one parse; or a
    UsageError when the file cannot be read or is rejected whole. `data`: the file's bytes when they did not come
    from disk (an upload to `musicvae studio`), `path` then only names it."""
    every = {rep.name: replace(rep, name=f"{rep.name} uncapped", max_per_piece=None) for rep in reps}
    results = extract_all(read(path) if data is None else data, [*reps, *every.values()], name=str(path))
    rejection = results[reps[0].name]
    if rejection.detail:
        raise rejected(path, next(iter(rejection.reasons)), rejection.detail)  # a file rejected whole has one reason
    listings = {}
    for rep in reps:
        windows = sorted(results[every[rep.name].name].windows, key=lambda w: (w.piece, w.start_bar, w.programs))
        left = Counter(_key(w) for w in results[rep.name].windows)  # a multiset: trio windows may repeat
        kept = []
        for w in windows:
            kept.append(left[_key(w)] > 0)
            left[_key(w)] -= 1
        listings[rep.name] = Listing(rep, windows, kept, results[rep.name])
    return listings


def of_file(path: Path, rep: Representation, data: bytes | None = None) -> Listing:
    """The listing of a file that has windows, or a UsageError saying why it has none."""
    listing = list_all(path, [rep], data)[rep.name]
    if not listing.windows:
        raise no_window(
            path, f"{rep.name} window", listing.result.reasons, f"`musicvae explain {path}` lists every reason"
        )
    return listing
