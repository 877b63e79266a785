"""Greedy accuracy along runs, drawn from `snapshot_scores`' files: each set's curve over the training steps, on a
log scale of steps (a held-out score rises by about the same amount each doubling), beside its majority-class
baseline. The README's figure.

    python -m experiments.study.snapshot_curves --out F.png [--sets test jazz] [--target jazz=0.20] \
        LABEL=SNAPSHOTS.json...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from musicvae.figures import curve_figure


def rows(runs: dict[str, list[dict]], sets: list[str], targets: dict[str, float]) -> list[dict]:
    """One row per snapshot: its run's greedy accuracy on each set (None elsewhere), each set's baseline, and the
    targets: a set's baseline plus a margin."""
    columns = [f"{name}, {label}" for name in sets for label in runs] + [f"{name} baseline" for name in sets]
    columns += [f"{name} target (baseline + {margin:.2f})" for name, margin in targets.items()]
    table = []
    for label, snapshots in runs.items():
        for snapshot in snapshots:
            row = dict.fromkeys(columns) | {"step": snapshot["step"]}
            for name in sets:
                row[f"{name}, {label}"] = snapshot[name]["greedy"]
                row[f"{name} baseline"] = snapshot[name]["majority"]
            for name, margin in targets.items():
                row[f"{name} target (baseline + {margin:.2f})"] = snapshot[name]["majority"] + margin
            table.append(row)
    return sorted(table, key=lambda row: row["step"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="LABEL=FILE: a run's snapshot scores")
    parser.add_argument("--sets", nargs="+", default=["test", "jazz"])
    parser.add_argument("--target", action="append", default=[], help="SET=MARGIN: a line at the baseline + MARGIN")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    runs = {label: json.loads(Path(file).read_text()) for label, file in (run.split("=", 1) for run in args.runs)}
    targets = {name: float(margin) for name, margin in (target.split("=") for target in args.target)}
    fig = curve_figure(
        rows(runs, args.sets, targets), "step", "greedy accuracy", "Greedy reconstruction along training"
    )
    fig.axes[0].set_xscale("log")
    fig.tight_layout()
    fig.savefig(args.out, dpi=80, metadata={"Software": None})


if __name__ == "__main__":
    main()
