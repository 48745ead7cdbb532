"""``tunecore new-plugin``: the generated distributions install, are discovered, and their tests pass as generated."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import pip_install_target, user_environment
from tunecore.cli import main
from tunecore.scaffold import SUITES, component_source

KINDS = tuple(SUITES)
DOCS = Path(__file__).parents[2] / "docs" / "plugins.md"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One plugin of every kind, written by the command and installed (pip, no dependencies) into a site folder."""
    work = tmp_path_factory.mktemp("scaffold")
    for kind in KINDS:
        assert main(["new-plugin", f"demo-{kind}", "--kind", kind, "--directory", str(work)]) == 0
    site = work / "site"
    build = tmp_path_factory.mktemp("scaffold-build")  # pip builds from copies: no build/ in the generated ones
    sources = []
    for kind in KINDS:
        subprocess.run(["cp", "-r", str(work / f"tune-demo-{kind}"), str(build)], check=True)
        sources.append(build / f"tune-demo-{kind}")
    pip_install_target(sources, site)
    return work, site


@pytest.mark.parametrize("kind", KINDS)
def test_the_generated_tests_pass_against_the_installed_distribution(generated, kind):
    work, site = generated
    folder = work / f"tune-demo-{kind}"
    env = user_environment(PYTHONPATH=str(site))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error::UserWarning"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    passed = int(re.search(r"(\d+) passed", run.stdout).group(1))  # type: ignore[union-attr]
    assert passed >= 4, run.stdout[-2000:]


def test_the_installed_distributions_are_discovered_by_their_entry_points(generated):
    _, site = generated
    run = subprocess.run(
        [sys.executable, "-m", "tunecore", "plugins", "--json"],
        env=user_environment(PYTHONPATH=str(site)),
        capture_output=True,
        text=True,
        check=True,
    )
    components = json.loads(run.stdout)["components"]
    for kind in KINDS:
        found = {(c["name"], c["dist"], c["version"]) for c in components[f"{kind}s"]}
        assert (f"demo-{kind}", f"tune-demo-{kind}", "0.1.0") in found


@pytest.mark.parametrize("kind", KINDS)
def test_the_generated_code_is_ruff_clean_with_its_own_settings(generated, kind):
    work, _ = generated
    folder = work / f"tune-demo-{kind}"
    run = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=folder, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_names_are_derived_from_the_one_given(tmp_path):
    assert main(["new-plugin", "tune-patience", "--kind", "stopper", "--directory", str(tmp_path)]) == 0
    root = tmp_path / "tune-patience"
    assert (root / "tune_patience" / "stopper.py").read_text().count("class PatienceStopper(") == 1
    assert 'patience = "tune_patience.plugin"' in (root / "pyproject.toml").read_text()
    readme = (root / "README.md").read_text()
    assert "| `patience` | 3 |" in readme and "StopperConformance" in readme


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["new-plugin", "9lives", "--kind", "stopper"], "plugin name '9lives' is not usable"),
        (["new-plugin", "a b", "--kind", "logger"], "plugin name 'a b' is not usable"),
        (["new-plugin", "taken", "--kind", "logger"], "tune-taken exists already"),
        (["new-plugin", "fine", "--kind", "logger", "--directory", "missing"], "is not a directory"),
    ],
)
def test_bad_input_is_exit_2_with_a_message(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tune-taken").mkdir()
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tune-taken"]  # nothing written


def test_an_unknown_kind_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["new-plugin", "x", "--kind", "sampler"])
    assert exited.value.code == 2 and "invalid choice: 'sampler'" in capsys.readouterr().err


def test_the_documented_executor_example_is_the_template():
    """docs/plugins.md shows the executor template (one place): the scaffold's, named as the docs name it."""
    text = DOCS.read_text()
    (block,) = re.findall(r"<!-- executor example: subprocess_executor\.py -->\n```python\n(.*?)```", text, re.DOTALL)
    assert block == component_source("executor", "SubprocessExecutor", "subprocess")
