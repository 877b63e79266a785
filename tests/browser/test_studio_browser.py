"""`musicvae studio` as a user meets it: the command serving a real model on a free loopback port, its page driven in
headless Chromium through the DevTools protocol (real uploads, real key presses and clicks, Web Audio, downloads),
and the server under concurrent requests."""

import io
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import symusic
from PIL import Image

from tests.support.cdp import Chromium
from tests.support.portable_job import free_port
from tests.support.studio_model import with_vectors

SONGS = ("pop909/274.mid", "pop909/317.mid")


def _studio(models: Path, shards: Path, root: Path):
    """`musicvae studio` on the best checkpoint of `models`, started as a user starts it; its address and process."""
    found = with_vectors(models, shards, root)
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "musicvae"),
        "studio",
        "--checkpoint",
        str(found["checkpoint"]),
        "--shards",
        str(shards),
        "--vectors",
        str(found["vectors"]),
        "--port",
        str(port),
    ]
    proc = subprocess.Popen(
        command, cwd=root, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/model", timeout=5)
            return url, proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGTERM)
                pytest.fail(f"musicvae studio did not start: {proc.stdout.read()}")
            time.sleep(0.5)


@pytest.fixture(scope="module")
def server(learned, tmp_path_factory):
    """The studio on the model that has learned (its decoder reads z, so the path and the sliders change music)."""
    url, proc = _studio(learned["learned"], learned["shards"].parent, tmp_path_factory.mktemp("studio"))
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


@pytest.fixture
def page(server, tmp_path):
    browser = Chromium(tmp_path / "profile", tmp_path / "downloads")
    try:
        browser.open(server)
        browser.wait_for("document.body.dataset.ready === 'true'")
        yield browser
    finally:
        browser.close()


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as answer:
        return json.load(answer)


def _roll(page) -> str:
    return page.evaluate("document.getElementById('roll').toDataURL()")


def test_explore_a_model_in_the_browser(page, server, shared_midi, tmp_path):
    about = json.load(urllib.request.urlopen(f"{server}/api/model", timeout=30))
    header = page.evaluate("document.getElementById('model').textContent")
    assert f"{about['training_steps']} training steps" in header and "learning monitor: learning" in header
    assert page.evaluate("document.getElementById('warning').hidden")  # nothing to warn of
    a, b = (shared_midi / song for song in SONGS)
    page.set_files("#file-a", a)
    page.wait_for("studio.state.slots.a && studio.state.slots.a.label.startsWith('274.mid window 0:')")
    # a song has many windows: the listing of `explain` offers them, and picking one replaces A
    assert not page.evaluate("document.getElementById('window-a').parentElement.hidden")
    page.evaluate(
        "{ const s = document.getElementById('window-a'); s.value = '3'; s.dispatchEvent(new Event('change')) }"
    )
    assert page.evaluate("studio.state.slots.a.label").startswith("274.mid window 3:")
    page.set_files("#file-b", b)
    page.wait_for("studio.state.slots.b && studio.state.slots.b.label.startsWith('317.mid')")

    page.evaluate("document.getElementById('steps').value = '5'")
    page.click("#interpolate")
    page.wait_for("studio.state.path && !document.getElementById('t').disabled")
    start = _roll(page)
    for _ in range(2):
        page.press("#t", "ArrowRight", 39)
    assert page.evaluate("document.getElementById('t').value") == "2"
    assert "t=0.50" in page.evaluate("studio.state.shown.label")
    assert _roll(page) != start
    assert "data-space line" in page.evaluate("document.getElementById('hamming').textContent")

    page.click("#use-a")
    page.press("#attr-note_density", "ArrowRight", 39)
    page.wait_for("document.querySelectorAll('#change tr').length === 5")
    assert "attributes moved" in page.evaluate("studio.state.shown.label")
    assert "note_density" in page.evaluate("document.getElementById('change').textContent")

    page.click("#play")
    page.wait_for("studio.audio && studio.audio.state === 'running' && studio.audio.currentTime > 0")
    page.click("#use-a")  # A itself has notes, whatever the model writes
    page.click("#play")
    page.wait_for("studio.notesScheduled > 0 && studio.state.playing !== null")

    page.click("#download")
    downloads = tmp_path / "downloads"
    deadline = time.monotonic() + 30
    while not (done := [p for p in downloads.glob("*.mid")]):
        assert time.monotonic() < deadline, "no MIDI was downloaded"
        time.sleep(0.2)
    score = symusic.Score.from_file(str(done[0]))
    expected = page.evaluate("studio.state.shown.parts.reduce((n, p) => n + p.notes.length, 0)")
    assert sum(len(t.notes) for t in score.tracks) == expected > 0

    shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    assert shot.width >= 1000 and len(shot.getcolors(1 << 24)) > 50  # rolls, text and buttons, not a blank page


def test_the_first_view_holds_music_ready_to_interpolate(page):
    """Not black panels: A and B hold the first two test windows, the current melody is drawn, interpolate is on."""
    labels = page.evaluate("[studio.state.slots.a.label, studio.state.slots.b.label]")
    assert labels[0] != labels[1]
    assert page.evaluate("[document.getElementById('test-a').value, document.getElementById('test-b').value]") == [
        "0",
        "1",
    ]
    assert not page.evaluate("document.getElementById('interpolate').disabled")
    assert page.evaluate("studio.state.shown.parts.reduce((n, p) => n + p.notes.length, 0)") > 0


def test_a_bad_upload_shows_its_reason_and_the_server_keeps_serving(page, server, shared_midi, tmp_path):
    bad = tmp_path / "notes.mid"
    bad.write_text("not music")
    page.set_files("#file-a", bad)
    message = page.wait_for("!document.getElementById('error').hidden && document.getElementById('error').textContent")
    assert message.startswith("notes.mid: not a MIDI file, or a damaged one")
    # the box no longer names the rejected file; A keeps what it held
    assert page.evaluate("document.getElementById('file-a').value") == ""
    assert page.evaluate("studio.state.slots.a.label") == page.evaluate(
        "document.getElementById('label-a').textContent"
    )
    page.set_files("#file-a", shared_midi / SONGS[1])
    page.wait_for("studio.state.slots.a && document.getElementById('error').hidden")
    assert urllib.request.urlopen(f"{server}/api/model", timeout=10).status == 200


def test_the_page_says_plainly_when_the_model_has_not_learned(learned, tmp_path):
    url, proc = _studio(learned["baseline"], learned["shards"].parent, tmp_path)
    browser = Chromium(tmp_path / "profile", tmp_path / "downloads")
    try:
        browser.open(url)
        warning = browser.wait_for(
            "!document.getElementById('warning').hidden && document.getElementById('warning').textContent"
        )
    finally:
        browser.close()
        os.killpg(proc.pid, signal.SIGTERM)
    assert warning.startswith("This model has not learned (at baseline): ")
    assert "its outputs will be empty or near-empty" in warning


def test_concurrent_requests_neither_corrupt_one_another_nor_crash_the_server(server):
    first, second = (json.load(urllib.request.urlopen(f"{server}/api/test-windows/{i}", timeout=30)) for i in (0, 1))
    requests = (
        [("sample", {"temperature": 1.0, "seed": seed}) for seed in range(6)]
        + [
            ("interpolate", {"a": first, "b": second, "steps": 3, "temperature": 1.0, "seed": seed})
            for seed in range(2)
        ]
        + [("midi", {"tokens": [[200]] * 256})]
    )

    def answer(request):
        try:
            return _post(f"{server}/api/{request[0]}", request[1])
        except urllib.error.HTTPError as e:
            return e.code

    alone = [answer(r) for r in requests]
    with ThreadPoolExecutor(len(requests)) as pool:
        together = list(pool.map(answer, requests * 2))
    assert together == alone * 2  # each as if it ran alone; the bad one refused each time
    assert alone[-1] == 422
