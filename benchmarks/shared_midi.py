"""The real MIDI the benchmarks measure on: ../shared/midi beside the repository (Lakh, POP909, Groove, pop
multitracks), or a folder the benchmark is given. Where it holds nothing, a benchmark says so in one line instead of
dividing by zero."""

import sys
from pathlib import Path

FOLDER = Path(__file__).resolve().parents[1].parent / "shared" / "midi"


def files(benchmark: str, where: Path | None = None) -> list[Path]:
    where = where or FOLDER
    found = sorted(where.rglob("*.mid"))
    if not found:
        sys.exit(
            f"{benchmark}: it measures real MIDI from {where}, which holds none here; put a folder of .mid "
            f"files there (any corpus: the figures are per file)"
        )
    print(f"{benchmark}: {len(found)} real MIDI files from {where}")
    return found
