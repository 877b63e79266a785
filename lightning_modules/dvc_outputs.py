"""Which of the pipeline's outputs a path lies in. DVC owns every stage output: `dvc exp run` checks each one out
as dvc.lock records it, so a file a user puts there (an imported checkpoint in models/) is deleted before any
stage runs. Commands that write or read a user's file refuse such a path and say where to put it instead."""

from __future__ import annotations

from pathlib import Path

import yaml


def owning_stage(path: str | Path, project: Path = Path(".")) -> tuple[str, str] | None:
    """(stage, output) when `path` is, or lies inside, an output of `project`'s dvc.yaml; None elsewhere or when
    there is no dvc.yaml."""
    try:
        stages = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        return None
    target = Path(path).resolve()
    for stage, spec in stages.items():
        for section in ("outs", "metrics", "plots"):
            for entry in spec.get(section) or []:
                out = next(iter(entry)) if isinstance(entry, dict) else entry
                if target.is_relative_to((project / out).resolve()):
                    return stage, out
    return None


def refusal(path: str | Path, what: str, project: Path = Path(".")) -> tuple[str, str] | None:
    """Why `path` cannot hold the user's `what`, and the fix; None when it can."""
    owner = owning_stage(path, project)
    if owner is None:
        return None
    stage, out = owner
    return (
        f"lies in {out}, the {stage} stage's output, which DVC replaces with its recorded version at every "
        f"`dvc exp run`, deleting {what} put there",
        f"keep it outside the pipeline's outputs, e.g. imports/{Path(path).name}",
    )
