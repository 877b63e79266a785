import os
from pathlib import Path

import pytest

SHARED_MIDI = Path(__file__).resolve().parents[1].parent / "shared" / "midi"


@pytest.fixture(scope="session")
def shared_midi() -> Path:
    """The real MIDI beside the repository (../shared/midi).

    Skips when the folder is absent, and fails instead under MUSICVAE_REQUIRE_SHARED=1 (as in CI)."""
    if not SHARED_MIDI.is_dir():
        reason = f"real MIDI folder {SHARED_MIDI} is absent"
        if os.environ.get("MUSICVAE_REQUIRE_SHARED") == "1":
            pytest.fail(f"{reason}, and MUSICVAE_REQUIRE_SHARED=1 requires it")
        pytest.skip(reason)
    return SHARED_MIDI
