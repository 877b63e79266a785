"""A temporary git + DVC repository holding the project's stages and code, for real `dvc` commands."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support import ROOT

CODE = ("musicvae", "pipelines", "lightning_modules", "experiments")


def activated() -> dict[str, str]:
    """The environment with the test environment's scripts first on PATH: stages run `python -m ...`."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


def dvc(repo: Path, *args: str) -> str:
    result = subprocess.run(["dvc", *args], cwd=repo, capture_output=True, text=True, env=activated())
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def make_repo(path: Path, **sections) -> Path:
    """The project's code, dvc.yaml and params.yaml (with `sections` merged into its top-level keys)."""
    path.mkdir()
    for package in CODE:
        shutil.copytree(ROOT / package, path / package, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("dvc.yaml", ".gitignore"):  # the project's ignore rules decide what experiments can commit
        shutil.copy(ROOT / name, path)
    set_params(path, **sections)
    subprocess.run(["git", "init", "-q"], cwd=path, check=True)
    dvc(path, "init", "-q")
    dvc(path, "config", "core.analytics", "false")
    return path


def set_params(repo: Path, **sections) -> None:
    source = repo / "params.yaml" if (repo / "params.yaml").exists() else ROOT / "params.yaml"
    params = yaml.safe_load(source.read_text())
    for key, values in sections.items():
        params[key].update(values)
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
