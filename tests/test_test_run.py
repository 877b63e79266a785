"""What a test run may be trusted for: in CI a missing system component fails its test instead of skipping it, every
run lists its skips with their reasons, a selection that runs nothing fails, and no test waits without a deadline."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NEEDS_A_COMPONENT = """from tests import system


def test_renders():
    system.missing("frobnicate is not installed")
"""


def run_with_the_project_settings(pytester, monkeypatch, env):
    """A one-test file run in-process under pyproject.toml's pytest settings, with only `env` of the CI variables."""
    for name in ("CI", "MUSICVAE_REQUIRE_SHARED"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    test = pytester.makepyfile(test_needs_a_component=NEEDS_A_COMPONENT)
    return pytester.runpytest("-c", str(ROOT / "pyproject.toml"), "--rootdir", str(pytester.path), test)


def test_a_missing_component_skips_locally_and_the_run_says_why(pytester, monkeypatch):
    result = run_with_the_project_settings(pytester, monkeypatch, {})
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] *frobnicate is not installed", "*1 skipped*"])


@pytest.mark.parametrize("env", [{"CI": "true"}, {"MUSICVAE_REQUIRE_SHARED": "1"}])
def test_a_missing_component_fails_in_ci(pytester, monkeypatch, env):
    result = run_with_the_project_settings(pytester, monkeypatch, env)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["frobnicate is not installed, and CI requires it*"])


def calls(tree: ast.AST) -> set[str]:
    return {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}


def test_every_skip_goes_through_system_missing():
    """A plain pytest.skip for a missing component would pass CI without running its test."""
    skips = [
        f"{path.name}:{node.lineno}"
        for path in sorted((ROOT / "tests").glob("*.py"))
        if path.name != "system.py"
        for node in ast.walk(ast.parse(path.read_text()))  # calls and markers alike: pytest.mark.skipif(...)
        if isinstance(node, ast.Attribute) and node.attr in ("skip", "skipif", "importorskip")
    ]
    assert not skips


def test_every_wait_in_a_loop_has_a_deadline():
    """A loop that sleeps until another process does something hangs the whole run when it never does."""
    endless = [
        f"{path.name}:{loop.lineno}"
        for path in sorted((ROOT / "tests").glob("*.py"))
        for loop in ast.walk(ast.parse(path.read_text()))
        if isinstance(loop, ast.While)
        and "time.sleep" in calls(loop)
        and "time.monotonic" not in calls(loop)
        and "deadline" not in {n.id for n in ast.walk(loop) if isinstance(n, ast.Name)}
    ]
    assert not endless


@pytest.mark.system
def test_make_test_fails_when_no_test_is_collected():
    """pytest's exit 5 ("no tests collected") means a selection tested nothing. `-o` keeps make from reinstalling."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["LC_ALL"] = "C"  # make's own messages in English
    done = subprocess.run(
        ["make", "-o", ".venv/.installed", "test", "PYTEST_ARGS=-k no_such_test_name_xyz tests/test_metrics.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Error 5" in done.stderr, done.stdout + done.stderr  # make reports pytest's exit status
    assert done.returncode != 0
