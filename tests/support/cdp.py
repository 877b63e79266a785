"""A small client of the Chrome DevTools Protocol, to drive a real headless Chromium from tests without Selenium:
start the browser, open a page, evaluate script, click and type as a user would (trusted input events), set a file
input, capture a screenshot and receive downloads."""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from websockets.sync.client import connect

from tests.support import system


class Chromium:
    def __init__(self, profile: Path, downloads: Path):
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if binary is None:
            system.missing("chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)")
        profile.mkdir(parents=True, exist_ok=True)
        active = profile / "DevToolsActivePort"
        active.unlink(missing_ok=True)  # a previous browser's port
        # Playing audio without a user gesture first: the test's click is one, but headless Chromium may still hold
        # the AudioContext suspended without this.
        self.process = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-first-run",
                "--autoplay-policy=no-user-gesture-required",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                "--window-size=1400,2200",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while not (active.is_file() and len(active.read_text().splitlines()) == 2):
                assert self.process.poll() is None and time.monotonic() < deadline, "chromium did not start"
                time.sleep(0.2)
            port, path = active.read_text().splitlines()
            self.socket = connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=30)
        except BaseException:
            self._end()
            raise
        self.ids = itertools.count(1)
        self.session = None
        self.events: list[dict] = []
        self.send("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(downloads), eventsEnabled=True)

    def send(self, method: str, session: str | None = "page", timeout: float = 60, **params) -> dict:
        """One command; its result, keeping the events that arrive meanwhile."""
        message = {"id": next(self.ids), "method": method, "params": params}
        if session == "page" and self.session:
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self.socket.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == message["id"]:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def open(self, url: str) -> None:
        """A new tab at `url`, loaded."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.send("Page.enable")
        self.send("Page.navigate", url=url)
        self.wait_for(f"location.href.startsWith({json.dumps(url)}) && document.readyState === 'complete'")

    def evaluate(self, expression: str):
        """The value of a script expression in the page (promises awaited)."""
        result = self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60):
        deadline = time.monotonic() + timeout
        while not (value := self.evaluate(expression)):
            assert time.monotonic() < deadline, f"waited {timeout} s for {expression}"
            time.sleep(0.2)
        return value

    def click(self, selector: str) -> None:
        """A real mouse click at the element's centre (a trusted event, as a user's)."""
        x, y = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); "
            "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); "
            "return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def press(self, selector: str, key: str, code: int) -> None:
        """A key pressed on the focused element (`key` as the DOM names it, `code` its Windows key code)."""
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        for kind in ("keyDown", "keyUp"):
            self.send("Input.dispatchKeyEvent", type=kind, key=key, code=key, windowsVirtualKeyCode=code)

    def set_files(self, selector: str, *paths: Path) -> None:
        root = self.send("DOM.getDocument")["root"]["nodeId"]
        node = self.send("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        self.send("DOM.setFileInputFiles", nodeId=node, files=[str(p) for p in paths])

    def screenshot(self) -> bytes:
        return base64.b64decode(self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"])

    def close(self) -> None:
        """Ends the browser and every process it started: Debian's `chromium` is a script that runs the browser as
        its child, so ending the script alone would leave the browser running."""
        self.socket.close()
        self._end()

    def _end(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)
