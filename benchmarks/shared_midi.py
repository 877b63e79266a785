"""The real MIDI the benchmarks measure on: ../shared/midi (Lakh, POP909, Groove, pop multitracks), beside the
repository. Outside this workplace it is absent, and a benchmark says so in one line instead of dividing by zero."""

import sys
from pathlib import Path

FOLDER = Path(__file__).resolve().parents[1].parent / "shared" / "midi"


def files(benchmark: str) -> list[Path]:
    found = sorted(FOLDER.rglob("*.mid"))
    if not found:
        sys.exit(f"{benchmark}: it measures real MIDI from {FOLDER}, which holds none here; put a folder of .mid "
                 f"files there (any corpus: the figures are per file)")
    return found
