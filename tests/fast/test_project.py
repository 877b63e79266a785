"""The project's shape: the core's import direction, the console command, the README's two commands and CI."""

import re
import subprocess
import sys

from tests.support import ROOT


def test_core_imports_neither_beam_nor_lightning():
    modules = [
        f"musicvae.{'.'.join(p.relative_to(ROOT / 'musicvae').with_suffix('').parts)}"
        for p in (ROOT / "musicvae").rglob("*.py")
        if p.name != "__init__.py"
    ]
    code = (
        f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
        "adapters = ('apache_beam', 'lightning', 'pytorch_lightning')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in adapters)\n"
        "assert not bad, bad"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# Who may import whom: the core sits below both adapters; experiments/ (comparisons drawn from MLflow) and the
# studio (a page over a trained model) above the stages; the `musicvae` command (musicvae_cli) assembles them all.
LAYERS = {
    "musicvae": {"musicvae"},
    "pipelines": {"musicvae", "pipelines"},
    "lightning_modules": {"musicvae", "lightning_modules"},
    "experiments": {"musicvae", "lightning_modules", "experiments"},
    "studio": {"musicvae", "lightning_modules", "studio"},
    "musicvae_cli": {"musicvae", "lightning_modules", "studio", "musicvae_cli"},
}


def test_project_imports_point_one_way():
    from musicvae.provenance import _imports

    wrong = []
    for package, allowed in LAYERS.items():
        for path in (ROOT / package).rglob("*.py"):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            used = {name.split(".")[0] for name in _imports(module, path)} & set(LAYERS)
            wrong += [f"{module} imports {other}" for other in sorted(used - allowed)]
    assert not wrong, wrong


def test_console_command_lists_its_commands():
    result = subprocess.run([sys.executable, "-m", "musicvae.cli", "corpus", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "download" in result.stdout


def test_readme_holds_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Two commands.*?```bash\n(.*?)```", readme, re.S)[1]
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make run", "make test"]
    ci = (ROOT / ".ci/run").read_text()
    assert "MUSICVAE_REQUIRE_SHARED=1" in ci and re.search(r"^make test$", ci, re.M)
