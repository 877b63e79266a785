"""The evaluate stage's listening page, played in headless Chromium."""

from tests.support.cdp import Chromium
from tests.support.evaluation_run import heard_groups


def test_the_listening_page_plays_in_a_browser_without_fluidsynth(reports, tmp_path):
    """Each window's roll beside its own player, the test windows before the path between them; the Web Audio
    player schedules the window's notes in headless Chromium whether or not FluidSynth rendered WAVs."""
    page = (reports / "evaluate/listening.html").read_text()
    windows = len(heard_groups(reports))
    assert page.count('<div class="window">') == page.count("data-window=") == page.count("data:image/png") == windows
    headings = [page.index(f"<h2>{g}</h2>") for g in ("reconstruction", "samples", "endpoints", "interpolation")]
    assert headings == sorted(headings)
    browser = Chromium(tmp_path / "profile", tmp_path / "downloads")
    try:
        browser.open((reports / "evaluate/listening.html").as_uri())
        notes = browser.evaluate("SEQUENCES[0].parts.reduce((n, p) => n + p.notes.length, 0)")
        assert notes > 0  # the reconstruction's input: a real test window
        browser.click('button[data-window="0"]')
        browser.wait_for(f"listening.scheduled === {notes} && synth.audio.state === 'running'")
    finally:
        browser.close()
