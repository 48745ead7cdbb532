"""Every first-party plugin declares the range of core versions whose contract it was written for."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

import tunecore

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PLUGINS = sorted((Path(__file__).parents[2] / "plugins").glob("*/pyproject.toml"))


@pytest.mark.parametrize("pyproject", PLUGINS, ids=lambda path: path.parent.name)
def test_a_plugin_requires_a_bounded_range_of_the_core_that_holds_this_core(pyproject):
    project = tomllib.loads(pyproject.read_text())["project"]
    (core,) = [Requirement(r) for r in project["dependencies"] if Requirement(r).name == "tunecore"]
    operators = {spec.operator for spec in core.specifier}
    assert {">=", "<"} <= operators, f"{project['name']} must bound the core: tunecore>=X,<Y (got {core})"
    assert core.specifier.contains(tunecore.__version__), f"{project['name']}: {core} excludes {tunecore.__version__}"


def test_every_first_party_component_says_which_package_provides_it():
    """registry.FIRST_PARTY (what an unknown name's error tells to install) lists exactly the components the
    first-party plugins register (all installed in the test environment)."""
    from tunecore.plugins import load_plugins
    from tunecore.registry import FIRST_PARTY

    names = {tomllib.loads(path.read_text())["project"]["name"] for path in PLUGINS}
    plugins = load_plugins({"TUNECORE_DISABLE_PLUGIN_AUTOLOAD": "1", "TUNECORE_PLUGINS": ",".join(sorted(names))})
    registered = {(c.kind, c.name): c.dist for c in plugins.registry if c.dist in names}
    assert registered == FIRST_PARTY
