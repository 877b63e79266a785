"""What a test run may be trusted for: in CI a missing system component fails its test instead of skipping it, every
run lists its skips with their reasons, a selection that runs nothing fails, and no test waits without a deadline."""

import ast

import pytest

from tests.conftest import TIERS
from tests.support import ROOT

NEEDS_A_COMPONENT = """from tests.support import system


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
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if path.name != "system.py"
        for node in ast.walk(ast.parse(path.read_text()))  # calls and markers alike: pytest.mark.skipif(...)
        if isinstance(node, ast.Attribute) and node.attr in ("skip", "skipif", "importorskip")
    ]
    assert not skips


def test_every_wait_in_a_loop_has_a_deadline():
    """A loop that sleeps until another process does something hangs the whole run when it never does."""
    endless = [
        f"{path.name}:{loop.lineno}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for loop in ast.walk(ast.parse(path.read_text()))
        if isinstance(loop, ast.While)
        and "time.sleep" in calls(loop)
        and "time.monotonic" not in calls(loop)
        and "deadline" not in {n.id for n in ast.walk(loop) if isinstance(n, ast.Name)}
    ]
    assert not endless


def test_every_test_file_sits_in_a_tier_folder():
    """The folder is the tier (tests/conftest.py): a test file outside one would run in no tier's selection."""
    tiers = {"fast", *TIERS}
    misplaced = [
        str(path.relative_to(ROOT / "tests"))
        for path in sorted((ROOT / "tests").rglob("test_*.py"))
        if path.relative_to(ROOT / "tests").parts[0] not in tiers
    ]
    assert not misplaced
    assert all((ROOT / "tests" / tier).is_dir() for tier in tiers)
