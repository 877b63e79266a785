"""Reading what the corpus stage wrote."""

import csv
from pathlib import Path


def read_index(out: Path) -> list[dict]:
    """The rows of the corpus's index.csv: one per file, with its path, collection and split."""
    with open(out / "index.csv", encoding="utf-8") as f:
        return list(csv.DictReader(f))
