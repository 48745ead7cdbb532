"""The dashboard in a real headless browser (Debian's chromium, driven over the DevTools protocol on a pipe: one
browser start for the whole test): the list page shows the running experiment, a real click opens it, and
while the experiment runs in another process the same page shows its trial count growing and its best value
improving; hostile config strings are shown as text and never run; a click on a trial opens its page; a
screenshot is kept as the test's artifact (``tmp_path/dashboard.png``)."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import pytest

from tests.core.test_dashboard import HOSTILE, IMG, Dashboard
from tests.core.test_report import NO_BROWSER, browser, headless_command

NUM_TRIALS = 40
EXPERIMENT = textwrap.dedent(
    f"""
    import sys, time
    import tunecore

    def train(config):
        time.sleep(0.3)
        tunecore.report({{"loss": config["x"]}})

    tunecore.Tuner(
        train,
        param_space={{"x": tunecore.grid_search(list(range({NUM_TRIALS}, 0, -1))), "note": {HOSTILE + IMG!r}}},
        tune_config=tunecore.TuneConfig(metric="loss", mode="min", executor="inline"),
        run_config=tunecore.RunConfig(storage_path=sys.argv[1], name="slow", verbose=0, loggers=[]),
    ).fit()
    """
)
"""Trials one after the other, each better than the last (loss = x, x descending), about 3 per second; the
process is killed when the test ends."""


class Chromium:
    """Headless chromium (the flags test_report.py's ``headless`` uses) driven over ``--remote-debugging-pipe``:
    DevTools commands as NUL-terminated JSON on its fd 3, answers and events on its fd 4; one page."""

    def __init__(self, binary: str, cwd: str) -> None:
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()
        mine = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser, from_browser)]

        def as_fds_3_and_4() -> None:
            os.dup2(mine[0], 3)
            os.dup2(mine[1], 4)

        command, env = headless_command(
            binary, "--window-size=1200,1600", "--remote-debugging-pipe", "about:blank", cwd=cwd
        )
        self.process = subprocess.Popen(
            command, env=env, pass_fds=(3, 4), preexec_fn=as_fds_3_and_4, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for fd in (to_browser, from_browser, *mine):
            os.close(fd)
        self._answers: dict[int, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self._arrived = threading.Condition()
        self._next = 0
        threading.Thread(target=self._reader, daemon=True).start()
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)

    def _reader(self) -> None:
        buffer = b""
        while chunk := os.read(self._read, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            with self._arrived:
                for message in map(json.loads, messages):
                    if "id" in message:
                        self._answers[message["id"]] = message
                    else:
                        self.events.append(message)
                self._arrived.notify_all()

    def call(self, method: str, session: bool = False, **params: Any) -> dict[str, Any]:
        """Send one DevTools command (to the page when ``session``) and wait for its answer."""
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = self._session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        with self._arrived:
            assert self._arrived.wait_for(lambda: self._next in self._answers, timeout=60), method
            answer = self._answers.pop(self._next)
        assert "error" not in answer, (method, answer["error"])
        return answer["result"]

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (DevTools' evaluation: the page's CSP still holds
        for the page's own scripts)."""
        found = self.call("Runtime.evaluate", session=True, expression=expression, returnByValue=True)
        assert "exceptionDetails" not in found, found["exceptionDetails"]
        return found["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30.0) -> Any:
        """Poll ``expression`` in the page until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while not (value := self.evaluate(expression)):
            assert time.monotonic() < deadline, f"timed out waiting for {expression}"
            time.sleep(0.05)
        return value

    def goto(self, url: str) -> None:
        """Open ``url`` in the page."""
        self.call("Page.navigate", session=True, url=url)

    def click(self, selector: str) -> None:
        """A real mouse click (pressed, released) at the middle of the element ``selector`` finds."""
        box = self.wait_for(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return null;"
            " e.scrollIntoView(); const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent", session=True, type=kind, x=box[0], y=box[1], button="left", clickCount=1
            )

    def text(self, selector: str) -> str:
        """The text of the element ``selector`` finds, once there is one with some text."""
        return self.wait_for(f"document.querySelector({json.dumps(selector)})?.textContent")

    def problems(self) -> list[Any]:
        """Script errors, errors logged to the console and refused resources (the CSP) so far."""
        with self._arrived:
            events = list(self.events)
        return [
            event["params"]
            for event in events
            if event.get("method") == "Runtime.exceptionThrown"
            or (event.get("method") == "Runtime.consoleAPICalled" and event["params"].get("type") == "error")
            or (
                event.get("method") == "Log.entryAdded"
                and event["params"]["entry"].get("level") == "error"
                and not event["params"]["entry"].get("url", "").endswith("/favicon.ico")  # the browser's own ask
            )
        ]

    def screenshot(self, path: str) -> None:
        """The page as a PNG file at ``path``."""
        data = self.call("Page.captureScreenshot", session=True, format="png")["data"]
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))

    def close(self) -> None:
        """Close the browser (killed if it does not exit)."""
        try:
            self.call("Browser.close")
        except (AssertionError, OSError):
            pass
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._write, self._read):
            try:
                os.close(fd)
            except OSError:
                pass


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def chromium():
    binary = browser()
    if binary is None:
        pytest.skip(NO_BROWSER)
    return binary


def shown(page: Chromium) -> tuple[int, float]:
    """The trial count and best value the experiment page shows (once it shows them)."""
    page.wait_for("/^\\d+$/.test(document.getElementById('trial-count')?.textContent) && "
                  "/\\d/.test(document.getElementById('best-value')?.textContent)")  # fmt: skip
    return int(page.text("#trial-count")), float(page.text("#best-value"))


def test_the_page_follows_a_running_experiment(chromium, tmp_path):
    storage = tmp_path / "results"
    storage.mkdir()
    script = tmp_path / "experiment.py"
    script.write_text(EXPERIMENT)
    run = subprocess.Popen([sys.executable, str(script), str(storage)], stderr=subprocess.PIPE, text=True)
    dashboard = Dashboard(storage)
    page = None
    try:

        def count() -> int:
            """The trial count the API gives; -1 until the experiment exists (its directory comes first)."""
            status, _, body = dashboard.request("/api/experiments/slow/summary")
            return json.loads(body)["num_trials"] if status == 200 else -1

        wait_for(lambda: count() >= 2)
        page = Chromium(chromium, str(tmp_path))
        page.goto(dashboard.url + "#/")  # the list page: the ls table, the running experiment in it
        assert page.text('#experiments tr[data-name="slow"] td:nth-child(2)') == "running"
        assert page.text('#experiments tr[data-name="slow"] a') == "slow"
        page.click('#experiments tr[data-name="slow"] a')  # a click through to it
        page.wait_for("location.hash === '#/exp/slow'")
        count1, best1 = shown(page)
        wait_for(lambda: count() >= count1 + 3)
        page.wait_for(f"Number(document.getElementById('trial-count').textContent) >= {count1 + 3}")  # live
        count2, best2 = shown(page)
        assert count2 > count1 and best2 < best1, (count1, best1, count2, best2)
        assert page.text("#state") == "running"
        rows = page.wait_for(f"(n => document.querySelectorAll('#trials tbody tr').length >= n && n)({count2})")
        assert rows == count2  # the table grew by deltas to every trial
        assert page.evaluate("document.querySelector('#chart-history svg') !== null")
        assert page.evaluate(f"document.querySelector('#trials').textContent.includes({json.dumps(HOSTILE)})")
        assert page.evaluate("document.querySelectorAll('img').length") == 0  # the <img onerror> is text
        assert page.evaluate("document.scripts.length") == 1  # only dashboard.js: the <script> is text
        assert page.evaluate("document.title") == "tunecore dashboard"  # no onerror ran
        shot = tmp_path / "dashboard.png"
        page.screenshot(str(shot))
        assert shot.read_bytes().startswith(b"\x89PNG")
        print(f"screenshot: {shot}")
        trial = page.text("#trials tbody tr:first-child td:first-child a")
        page.click("#trials tbody tr:first-child td:first-child a")  # a trial's page
        assert page.text("#trial-id") == trial
        assert page.text("#trial-status") in ("TERMINATED", "RUNNING")
        page.wait_for("document.querySelector('#chart-curve')?.dataset.points === '1'")
        assert page.evaluate(f"document.querySelector('#config').textContent.includes({json.dumps(HOSTILE + IMG)})")
        assert page.evaluate("document.querySelectorAll('img').length") == 0
        assert page.text("#errors") == "none"
        problems = page.problems()
        assert not problems, json.dumps(problems, indent=1)  # no script error, no refused resource (the CSP)
    finally:
        if page is not None:
            page.close()
        run.kill()
        run.wait()
        dashboard.stop()
