"""The complete plugin in docs/plugins.md works: extracted, installed with pip, found, used by name."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tunecore
from tests.conftest import pip_install_target, user_environment

DOC = Path(__file__).parents[2] / "docs" / "plugins.md"
FILE_BLOCK = re.compile(r"<!-- file: (?P<path>\S+) -->\n```\w*\n(?P<body>.*?)```", re.DOTALL)


@pytest.fixture(scope="module")
def patience_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("doc-plugin")
    blocks = FILE_BLOCK.findall(DOC.read_text())
    assert {path for path, _ in blocks} == {
        "tune-patience/pyproject.toml",
        "tune-patience/tune_patience/__init__.py",
        "tune-patience/tune_patience/plugin.py",
    }
    for path, body in blocks:
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).write_text(body)
    pip_install_target([work / "tune-patience"], work / "site")
    return work / "site"


def python_blocks_after(heading: str) -> list[str]:
    section = DOC.read_text().split(heading, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.DOTALL)


def test_documented_plugin_is_discovered_and_selectable(patience_site, monkeypatch):
    monkeypatch.syspath_prepend(str(patience_site))
    plugins = tunecore.load_plugins({})
    info = plugins.registry.get("stopper", "patience")
    assert (info.dist, info.version, info.summary) == ("tune-patience", "0.1.0", "Stop a trial that stopped improving")
    for snippet in python_blocks_after("## Testing a plugin"):
        exec(compile(snippet, str(DOC), "exec"), {})


def test_the_documented_fixture_example_passes_on_both_executors(patience_site, tmp_path):
    """The pytest example of "The pytest fixtures", run by pytest against the installed plugin."""
    marker = "<!-- test file: tune-patience/tests/test_patience.py -->"
    (body,) = re.findall(re.escape(marker) + r"\n```python\n(.*?)```", DOC.read_text(), re.S)
    (tmp_path / "test_patience.py").write_text(body)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error::UserWarning"],
        cwd=tmp_path,
        env=user_environment(PYTHONPATH=str(patience_site)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0 and "2 passed" in run.stdout, run.stdout[-3000:] + run.stderr[-2000:]


def test_documented_plugin_appears_in_the_cli(patience_site):
    env = {"PYTHONPATH": str(patience_site), "PATH": ""}
    output = subprocess.run(
        [sys.executable, "-m", "tunecore", "plugins"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert re.search(r"^  patience +tune-patience 0\.1\.0 +Stop a trial that stopped improving$", output, re.M)


def documented_stopper() -> type:
    blocks = dict(FILE_BLOCK.findall(DOC.read_text()))
    namespace: dict = {"__name__": "tune_patience.plugin"}
    exec(compile(blocks["tune-patience/tune_patience/plugin.py"], str(DOC), "exec"), namespace)
    return namespace["PatienceStopper"]


def test_documented_stopper_counts_nan_and_missing_values_as_no_improvement():
    stopper = documented_stopper()(patience=2)
    stopper.setup(metric="loss", mode="min")
    results = [{"loss": math.nan}, {"loss": 3.0}, {}, {"loss": 2.0}, {"loss": math.nan}, {"loss": 2.5}]
    assert [stopper.should_stop("t1", r) for r in results] == [False, False, False, False, False, True]
