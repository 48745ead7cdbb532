"""The dashboard in a real headless browser (Debian's chromium, as test_report.py drives it): while an experiment
runs in another process the page shows its trial count growing and its best value improving; hostile config
strings are shown as text and never run; a screenshot is kept as the test's artifact (``tmp_path/dashboard.png``)."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import textwrap
import time

import pytest

from tests.core.test_dashboard import HOSTILE, IMG, Dashboard
from tests.core.test_report import NO_BROWSER, browser
from tests.core.test_report import headless as report_headless

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


def headless(binary: str, *args: str, cwd) -> subprocess.CompletedProcess[str]:
    return report_headless(binary, *args, cwd=cwd, timeout=120)


def element_text(dom: str, element: str) -> str:
    found = re.search(rf'id="{element}"[^>]*>([^<]*)<', dom)
    assert found, f"no #{element} in the page"
    return html.unescape(found.group(1))


def shown(dom: str) -> tuple[int, float]:
    """The trial count and best value the experiment page shows."""
    return int(element_text(dom, "trial-count")), float(element_text(dom, "best-value"))


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


def test_the_page_follows_a_running_experiment(chromium, tmp_path):
    storage = tmp_path / "results"
    storage.mkdir()
    script = tmp_path / "experiment.py"
    script.write_text(EXPERIMENT)
    run = subprocess.Popen([sys.executable, str(script), str(storage)], stderr=subprocess.PIPE, text=True)
    dashboard = Dashboard(storage)
    try:
        def count() -> int:
            """The trial count the API gives; -1 until the experiment exists (its directory comes first)."""
            status, _, body = dashboard.request("/api/experiments/slow/summary")
            return json.loads(body)["num_trials"] if status == 200 else -1

        wait_for(lambda: count() >= 2)
        url = dashboard.url + "#/exp/slow"
        first = headless(chromium, "--virtual-time-budget=1500", "--dump-dom", url, cwd=str(tmp_path))
        assert first.returncode == 0, first.stderr[-2000:]
        count1, best1 = shown(first.stdout)
        wait_for(lambda: count() >= count1 + 3)
        second = headless(chromium, "--virtual-time-budget=1500", "--dump-dom", url, cwd=str(tmp_path))
        count2, best2 = shown(second.stdout)
        assert count2 > count1 and best2 < best1, (count1, best1, count2, best2)
        assert element_text(second.stdout, "state") == "running"
        dom = second.stdout
        assert 'id="chart-history" data-points="' in dom and "<svg" in dom
        assert html.escape(HOSTILE, quote=False) in dom and "<script>alert" not in dom  # text, not an element
        assert not re.search(r"<img[^>]*onerror", dom)
        console = [line for line in second.stderr.splitlines() if ":CONSOLE" in line]
        assert not console, console  # no script error, no refused resource (the CSP)
        shot = tmp_path / "dashboard.png"
        size = "--window-size=1200,1600"
        drawn = headless(chromium, "--virtual-time-budget=1500", f"--screenshot={shot}", size, url, cwd=str(tmp_path))
        assert drawn.returncode == 0 and shot.read_bytes().startswith(b"\x89PNG"), drawn.stderr[-2000:]
        print(f"screenshot: {shot}")
        trial = dashboard.json("/api/experiments/slow/trials")["rows"][0][0]
        page = headless(
            chromium, "--virtual-time-budget=1500", "--dump-dom", f"{url}/trial/{trial}", cwd=str(tmp_path)
        ).stdout
        assert element_text(page, "trial-id") == trial
        assert element_text(page, "trial-status") in ("TERMINATED", "RUNNING")
        assert html.escape(HOSTILE + IMG, quote=False) in page and not re.search(r"<img[^>]*onerror", page)
        assert 'id="chart-curve" data-points="1"' in page
    finally:
        run.kill()
        run.wait()
        dashboard.stop()
