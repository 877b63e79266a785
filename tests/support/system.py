"""What a test does when a system component it needs is missing (a program, a package extra, the shared MIDI).

Locally such a test skips, so that `make test` runs on a bare machine. In CI it fails: CI installs every component,
and a skip there would let a green run hide a test that never ran."""

import os
from typing import NoReturn

import pytest


def required() -> bool:
    """CI=true (as CI services set it) or MUSICVAE_REQUIRE_SHARED=1 (as .ci/run sets it)."""
    return os.environ.get("CI") == "true" or os.environ.get("MUSICVAE_REQUIRE_SHARED") == "1"


def missing(why: str) -> NoReturn:
    """End the test because a component is missing; `why` says which and how to install it."""
    if required():
        pytest.fail(f"{why}, and CI requires it (CI=true or MUSICVAE_REQUIRE_SHARED=1)", pytrace=False)
    pytest.skip(why)


def needs_cuda() -> None:
    """End a test that needs a CUDA GPU where there is none. It skips in CI too: no CI here has a GPU, nor can
    installing give it one; such a test runs on the machines that have one (one passed on a lent H200)."""
    import torch

    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
