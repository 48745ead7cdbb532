"""Exceptions raised and warnings issued by tunecore. Every message says what was wrong and how to fix it."""

from __future__ import annotations


class TuneError(Exception):
    """Base class of every error tunecore raises on purpose."""


class ConfigError(TuneError, ValueError):
    """An experiment is described wrongly: a bad option, key, type or file."""


class ComponentError(ConfigError):
    """A component cannot be selected or built: unknown or ambiguous name, bad options."""


class PluginLoadError(TuneError):
    """A plugin failed to import or to register its components (raised in strict mode)."""


class MetricWarning(UserWarning):
    """A trial reported a metric value that is not a finite number (NaN, ±inf, a string...); once per trial.

    The value is recorded as reported and the trial goes on; such a value never counts as the best
    (:mod:`tunecore.best`).
    """
