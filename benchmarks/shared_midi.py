"""The real MIDI the benchmarks measure on: ../shared/midi beside the repository (Lakh, POP909, Groove, pop
multitracks) when present, else its licence-clean part that the tests vendor (tests/data/midi: Lakh, Groove,
POP909). A benchmark names the folder it read: the figures are per file, but the files differ."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "midi"
VENDORED = ROOT / "tests" / "data" / "midi"


def folder() -> Path:
    return SHARED if any(SHARED.rglob("*.mid")) else VENDORED


def files(benchmark: str, where: Path | None = None) -> list[Path]:
    where = where or folder()
    found = sorted(where.rglob("*.mid"))
    if not found:
        sys.exit(
            f"{benchmark}: it measures real MIDI from {where}, which holds none here; put a folder of .mid "
            f"files there (any corpus: the figures are per file)"
        )
    print(f"{benchmark}: {len(found)} real MIDI files from {where}")
    return found
