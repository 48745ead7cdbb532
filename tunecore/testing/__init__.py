"""Helpers for testing plugins against the core's contracts (the suites need pytest).

* :mod:`tunecore.testing.executors`: ``ExecutorConformance``, the suite every executor must pass.
* :mod:`tunecore.testing.components`: ``SearcherConformance``, ``SchedulerConformance``,
  ``StopperConformance`` and ``LoggerConformance``, the suites of the other component kinds
  (docs/plugins.md, "Testing a plugin"), one module per kind (``searchers``, ``schedulers``, ...).
* :mod:`tunecore.testing.pytest_plugin`: the fixtures pytest gets from tunecore's ``pytest11`` entry point.
* :mod:`tunecore.testing.trainables`: the trainables they run (importable by any worker, no pytest).

The suites are importable from here too (``from tunecore.testing import SearcherConformance``), loaded on
first use so that importing :mod:`tunecore.testing.trainables` in a worker needs no pytest.
"""

from __future__ import annotations

from typing import Any

_SUITES = {
    "ExecutorConformance": "tunecore.testing.executors",
    "LoggerConformance": "tunecore.testing.loggers",
    "SchedulerConformance": "tunecore.testing.schedulers",
    "SearcherConformance": "tunecore.testing.searchers",
    "StopperConformance": "tunecore.testing.stoppers",
}

__all__ = sorted(_SUITES)


def __dir__() -> list[str]:
    """The module's names with the suites, which are imported on first use."""
    return sorted({*globals(), *_SUITES})


def __getattr__(name: str) -> Any:
    """The conformance suites, imported on first use."""
    if name in _SUITES:
        import importlib

        return getattr(importlib.import_module(_SUITES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
