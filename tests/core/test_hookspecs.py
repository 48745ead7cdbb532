"""The contract: every hook is documented and exercised; events reach plugins and observers."""

from __future__ import annotations

import inspect
from pathlib import Path

import tunecore
from tunecore import hookspecs
from tunecore.plugins import REGISTRATION_HOOKS

TESTS = Path(__file__).parents[1]


def hook_names() -> list[str]:
    return [name for name, obj in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("tunecore_")]


def test_every_hook_has_a_docstring_and_a_test_that_exercises_it():
    """Each hook is documented, implemented by a plugin the tests load, and (events) broadcast by a test."""
    names = hook_names()
    assert len(names) == 14
    sources = {path: path.read_text() for path in TESTS.rglob("*.py") if path != Path(__file__)}
    tests = {path: text for path, text in sources.items() if "fixtures" not in path.parts}
    for name in names:
        doc = inspect.getdoc(getattr(hookspecs, name))
        assert doc and len(doc) > 40, f"hook {name} needs a docstring: when it is called, its arguments, returns"
        assert "returns" in doc.lower(), f"{name}'s docstring must say what it returns"
        implemented = [path.name for path, text in sources.items() if f"def {name}(" in text]
        assert implemented, f"no plugin used by the tests implements hook {name}"
        if name not in REGISTRATION_HOOKS.values():
            call = f"events.{name.removeprefix('tunecore_')}("
            assert any(call in text for text in tests.values()), f"no test broadcasts hook {name}"


def test_registration_hooks_cover_every_kind():
    assert set(REGISTRATION_HOOKS.values()) <= set(hook_names())


def test_hookimpl_is_exported_for_plugin_authors():
    assert tunecore.hookimpl.project_name == "tunecore"
