"""Killing a training process right after a given step's checkpoint, as a session's end or an OOM would."""

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import torch


def step_of(checkpoint: Path) -> int:
    """The checkpoint's global step; -1 while it is absent, or half moved into place on another filesystem."""
    try:
        return torch.load(checkpoint, weights_only=True)["global_step"]
    except (FileNotFoundError, RuntimeError, EOFError):
        return -1


def kill_after(proc: subprocess.Popen, checkpoint: Path, step: int, log: Path | None = None) -> int:
    """SIGKILL `proc`'s process group (started with start_new_session) once `checkpoint` holds `step` or later;
    the step it was killed at. `log`, the process's output, is quoted when it ends or stalls first."""
    deadline = time.monotonic() + 300  # a loaded machine starts Python, torch and Lightning slowly
    try:
        while step_of(checkpoint) < step:
            if proc.poll() is not None or time.monotonic() > deadline:
                why = "ended" if proc.poll() is not None else "had no checkpoint of that step after 300 s"
                raise AssertionError(
                    f"training {why} before it could be killed" + (f"\n{log.read_text()[-3000:]}" if log else "")
                )
            time.sleep(0.2)
    finally:  # the whole group, so that no orphan trains on, whether the test goes on or fails
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return step_of(checkpoint)
