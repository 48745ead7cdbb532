"""`tunecore plugins` and `tunecore --version`, run as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import tunecore


def run_cli(*args: str, pythonpath: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUNECORE_")}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return subprocess.run([sys.executable, "-m", "tunecore", *args], env=env, capture_output=True, text=True)


def test_version():
    done = run_cli("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"tunecore {tunecore.__version__}"


def test_plugins_lists_builtins_grouped_by_kind():
    done = run_cli("plugins")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "searchers:"
    assert any(line.split()[:3] == ["random", "tunecore", tunecore.__version__] for line in lines)
    stoppers = lines.index("stoppers:")
    assert lines[stoppers + 1].split()[0] == "experiment_plateau"
    assert "failed plugins:" not in lines


def test_plugins_shows_fixture_components_and_failures(fixture_site):
    done = run_cli("plugins", pythonpath=str(fixture_site))
    assert done.returncode == 0, done.stderr
    assert "  sequence" in done.stdout and "tune-fixture-good 1.2.3" in done.stdout
    failed = done.stdout.split("failed plugins:\n", 1)[1]
    assert "broken_import (tune-fixture-broken 0.0.1): ModuleNotFoundError" in failed
    assert "typo (tune-fixture-broken 0.0.1)" in failed
    assert done.stderr == ""  # reported in the listing, not twice


def test_plugins_json(fixture_site):
    done = run_cli("plugins", "--json", pythonpath=str(fixture_site))
    data = json.loads(done.stdout)
    assert {
        "name": "random",
        "dist": "tunecore",
        "version": tunecore.__version__,
        "summary": "Random sampling with grid_search expansion",
    } in data["components"]["searchers"]
    assert {c["name"] for c in data["components"]["loggers"]} >= {"list"}
    assert {f["name"] for f in data["failed"]} == {"broken_import", "broken_register", "typo"}
    assert {p["dist"] for p in data["plugins"]} >= {"tunecore", "tune-fixture-good", "tune-fixture-clash"}


def test_no_verb_prints_help_and_exits_2():
    done = run_cli()
    assert done.returncode == 2
    assert "plugins" in done.stdout
