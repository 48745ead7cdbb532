"""`tunecore plugins` and `tunecore --version`, run as real processes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import tunecore
from tests.conftest import user_environment


def run_cli(*args: str, pythonpath: str | None = None, **variables: str) -> subprocess.CompletedProcess[str]:
    env = user_environment(**variables)
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


EXAMPLES = Path(__file__).parents[2] / "examples"


def test_run_example_toml_prints_best_and_show_prints_the_table(tmp_path):
    done = run_cli(
        "run",
        str(EXAMPLES / "quadratic.toml"),
        "--set",
        "num_samples=4",
        "--set",
        f"storage_path='{tmp_path}'",
        "--set",
        "executor.name=inline",
    )
    assert done.returncode == 0, done.stderr
    assert f"experiment: {tmp_path / 'quadratic'}" in done.stdout
    assert "trials: 4 (4 terminated, 0 errors)" in done.stdout
    best = re.search(r"^best: (t\d{5}) loss=(\S+)  x=", done.stdout, re.M)
    assert best, done.stdout
    assert "TERMINATED" in done.stderr  # the console logger's finished-trial lines
    shown = run_cli("show", str(tmp_path / "quadratic"))
    assert shown.returncode == 0, shown.stderr
    rows = [line for line in shown.stdout.splitlines() if re.match(r"t\d{5} ", line)]
    assert len(rows) == 4 and all(" TERMINATED " in row and "     8 " in row for row in rows)
    assert f"best: {best.group(1)} loss={best.group(2)}" in shown.stdout


def test_run_exit_codes_for_bad_input_and_errored_trials(tmp_path):
    bad = run_cli("run", str(EXAMPLES / "quadratic.toml"), "--set", "num_sample=3")
    assert bad.returncode == 2
    assert "unknown key 'num_sample'. Did you mean 'num_samples'?" in bad.stderr
    unknown = run_cli(
        "run", str(EXAMPLES / "quadratic.toml"), "--set", "scheduler=asha", "--set", f"storage_path='{tmp_path}'",
        TUNECORE_DISABLE_PLUGIN_AUTOLOAD="1",  # as if tune-asha were not installed
    )
    assert unknown.returncode == 2
    assert "scheduler 'asha' is provided by tune-asha: pip install tune-asha" in unknown.stderr
    (tmp_path / "boom.py").write_text("def train(config):\n    raise RuntimeError('boom')\n")
    (tmp_path / "boom.toml").write_text(
        f'trainable = "boom.py:train"\nstorage_path = "{tmp_path}"\nexecutor = "inline"\nname = "boom"\n'
    )
    failed = run_cli("run", str(tmp_path / "boom.toml"))
    assert failed.returncode == 1
    assert "trials: 1 (0 terminated, 1 errors)" in failed.stdout
    assert "error: trial t00001 failed: RuntimeError: boom" in failed.stdout


def test_show_of_a_missing_directory_is_bad_input(tmp_path):
    done = run_cli("show", str(tmp_path))
    assert done.returncode == 2 and "is not a tunecore experiment directory" in done.stderr
