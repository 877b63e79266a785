"""The README's test command as make runs it."""

import os
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT


def test_make_test_fails_when_no_test_is_collected():
    """pytest's exit 5 ("no tests collected") means a selection tested nothing. `-o` keeps make from reinstalling."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["LC_ALL"] = "C"  # make's own messages in English
    done = subprocess.run(
        ["make", "-o", ".venv/.installed", "test", "PYTEST_ARGS=-k no_such_test_name_xyz tests/fast/test_metrics.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Error 5" in done.stderr, done.stdout + done.stderr  # make reports pytest's exit status
    assert done.returncode != 0
