"""Optional libraries imported on first use, with an install hint when they are missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from tunecore.errors import TuneError

PLOTS_HINT = "plots need matplotlib: pip install 'tunecore[plots]'"
"""The message when matplotlib is missing."""
IMPORTANCE_HINT = "parameter importance needs scikit-learn: pip install scikit-learn (or pip install 'tunecore[plots]')"
"""The message when scikit-learn is missing."""


class MissingDependencyError(TuneError, ImportError):
    """An optional library that a feature needs is not installed; the message says what to install."""


def require(module: str, hint: str) -> ModuleType:
    """``import module``, or :class:`MissingDependencyError` with ``hint`` when it cannot be imported."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(hint) from exc
