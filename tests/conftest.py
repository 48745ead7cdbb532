"""Shared fixtures: real fixture plugin distributions installed with pip into a temporary directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_DISTRIBUTIONS = ("tune-fixture-good", "tune-fixture-broken", "tune-fixture-clash")


def pip_install_target(sources: list[Path], target: Path) -> None:
    """Install source trees with pip (no dependencies, no network) into ``target``."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(target),
            *map(str, sources),
        ],
        check=True,
    )


@pytest.fixture(scope="session")
def fixture_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory where the fixture plugins are installed as real distributions with entry points."""
    work = tmp_path_factory.mktemp("fixture-plugins")
    sources = []
    for name in FIXTURE_DISTRIBUTIONS:  # build from copies so that the repo gets no build/ folders
        sources.append(work / "src" / name)
        shutil.copytree(FIXTURES / name, sources[-1])
    target = work / "site"
    pip_install_target(sources, target)
    return target


@pytest.fixture
def with_fixture_plugins(fixture_site: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put the installed fixture plugins on ``sys.path`` for one test."""
    monkeypatch.syspath_prepend(str(fixture_site))
    return fixture_site


CORE_AND_FIXTURES = {"TUNECORE_DISABLE_PLUGIN_AUTOLOAD": "1", "TUNECORE_PLUGINS": ",".join(FIXTURE_DISTRIBUTIONS)}
"""Only the core's components and the fixture plugins (when on the path): first-party plugins installed
in the same environment do not change what the core's tests see."""


@pytest.fixture
def plain_env() -> dict[str, str]:
    """The environment for load_plugins(environ=...) in the core's tests: see CORE_AND_FIXTURES."""
    return dict(CORE_AND_FIXTURES)


def user_environment(**variables: str) -> dict[str, str]:
    """This process's environment without the ``TUNECORE_*`` switches (what a user's shell has), plus ``variables``:
    for ``tunecore`` commands and scripts run as real processes."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TUNECORE_")} | variables
