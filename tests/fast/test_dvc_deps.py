"""Each DVC stage depends on all the project code its command runs, derived from the imports rather than kept by
hand: otherwise a change to an imported module leaves `dvc repro` thinking the stage's outputs are current."""

import re
from pathlib import PurePosixPath

import pytest
import yaml

from musicvae.provenance import PACKAGES, code_files, code_sha256
from tests.support.dvc_repo import ROOT

STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
COMMANDS = {
    name: match[1] for name, stage in STAGES.items() if (match := re.match(r"python -m ([\w.]+)", stage["cmd"]))
}


def test_every_stage_runs_a_project_module():
    """A stage run some other way would escape the check below."""
    assert COMMANDS.keys() == STAGES.keys()


@pytest.mark.parametrize("stage", sorted(COMMANDS))
def test_the_stage_depends_on_every_file_its_command_imports(stage):
    deps = [PurePosixPath(dep) for dep in STAGES[stage]["deps"]]
    missing = [
        f
        for f in code_files(COMMANDS[stage])
        if not any(dep == PurePosixPath(f) or dep in PurePosixPath(f).parents for dep in deps)
    ]
    assert not missing, f"dvc.yaml's {stage} stage runs {missing} but does not list them in its deps"


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_the_stage_lists_no_code_that_is_gone(stage):
    """A moved module leaves its old path behind in the deps, where `dvc repro` fails on it."""
    gone = [dep for dep in STAGES[stage]["deps"] if dep.split("/")[0] in PACKAGES and not (ROOT / dep).exists()]
    assert not gone, f"dvc.yaml's {stage} stage depends on {gone}, which do not exist"


def package(root, sources: dict[str, str]):
    """A `musicvae` package under `root` holding `sources` (path inside the package: text), with its `__init__.py`."""
    for name, text in {"__init__.py": "", **sources}.items():
        path = root / "musicvae" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_imports_inside_functions_and_submodules_from_a_package_are_followed(tmp_path):
    root = package(
        tmp_path,
        {
            "cli.py": "import json\n\n\ndef run():\n    from musicvae.inner import lazy\n",
            "inner/__init__.py": "",
            "inner/lazy.py": "from musicvae import not_a_module\n",
            "unrelated.py": "",
        },
    )
    assert code_files("musicvae.cli", root) == (
        "musicvae/__init__.py",
        "musicvae/cli.py",
        "musicvae/inner/__init__.py",
        "musicvae/inner/lazy.py",
    )


def test_the_code_hash_changes_with_imported_code_only(tmp_path):
    def code(**changes):
        sources = {"cli.py": "from musicvae import core\n", "core.py": "X = 1\n", "unrelated.py": "Y = 1\n", **changes}
        return code_sha256("musicvae.cli", package(tmp_path / str(len(list(tmp_path.iterdir()))), sources))

    assert code() == code(**{"unrelated.py": "Y = 2\n"}) != code(**{"core.py": "X = 2\n"})
