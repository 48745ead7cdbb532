"""``RunConfig(stop=...)`` in the core: Ray Tune's dict and function forms, and :func:`as_stopper`.

The controller turns ``RunConfig.stop`` into a stopper with :func:`as_stopper`; the named stoppers
(``max_iter``, ``plateau``, ...) are components in :mod:`tunecore.builtin.stoppers`, which re-exports
these two classes. Nothing here imports :mod:`tunecore.builtin`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from tunecore.errors import ConfigError, TuneError
from tunecore.formatting import flatten_dict, result_field
from tunecore.options import check_text, finite_float
from tunecore.protocols import Stopper
from tunecore.suggest import did_you_mean, listing

_MISSING = object()


class DictStopper(Stopper):
    """Ray Tune's ``stop={"metric": value}``: stop a trial once any named field reaches its value (>=).

    Every result must have every field (nested results match ``"a/b"`` keys, as in Ray): a field a result
    lacks, a typo say, is an error that lists the fields the result has.
    """

    def __init__(self, criteria: dict[str, float]) -> None:
        for key, value in criteria.items():
            check_text("a RunConfig.stop key", key)
            if finite_float(value) is None:
                raise ValueError(f"stop criterion {key!r} must be a finite number, got {value!r}")
        self.criteria = dict(criteria)

    def should_stop(self, trial_id: str, result: dict[str, Any]) -> bool:
        """True when any field of ``criteria`` is at or above its value; ConfigError when a field is missing."""
        stop = False
        for key, limit in self.criteria.items():
            value = result_field(result, key, _MISSING)
            if value is _MISSING:
                fields = flatten_dict(result)
                raise ConfigError(
                    f"RunConfig.stop has {key!r}, which is not in the result of trial {trial_id};"
                    f" it has: {listing(fields)}.{did_you_mean(key, fields)}"
                    " Stop on a field every result reports (a nested field as 'outer/inner')."
                )
            value = finite_float(value)
            stop = stop or (value is not None and value >= limit)
        return stop


class FunctionStopper(Stopper):
    """Ray Tune's ``stop=function``: stop a trial when ``func(trial_id, result)`` returns True."""

    def __init__(self, func: Callable[[str, dict[str, Any]], bool]) -> None:
        if not callable(func):
            raise ValueError(f"a stop function must be callable, got {type(func).__name__}")
        try:
            signature = inspect.signature(func)
        except (TypeError, ValueError):  # no signature to read (some builtins): trust it
            signature = None
        if signature is not None:
            try:
                signature.bind("t00001", {})
            except TypeError:
                name = getattr(func, "__qualname__", type(func).__name__)
                raise ValueError(
                    f"a stop function must take (trial_id, result), but {name}{signature} does not:"
                    " write def stop(trial_id, result): ... returning True to stop the trial"
                ) from None
        self.func = func

    def should_stop(self, trial_id: str, result: dict[str, Any]) -> bool:
        """What the function says."""
        return bool(self.func(trial_id, result))


def as_stopper(stop: Any) -> Stopper:
    """``RunConfig.stop`` as a stopper: a dict is a :class:`DictStopper`; a :class:`~tunecore.Stopper`, or
    any object with ``should_stop`` and ``stop_all`` (Ray Tune's stoppers), is itself; another callable is a
    :class:`FunctionStopper`. Anything else is a TuneError."""
    if isinstance(stop, dict):
        return DictStopper(stop)
    if isinstance(stop, Stopper) or (hasattr(stop, "should_stop") and hasattr(stop, "stop_all")):
        return stop
    if callable(stop):
        return FunctionStopper(stop)
    raise TuneError(f"RunConfig.stop must be a dict, a function or a stopper, got {type(stop).__name__}")
