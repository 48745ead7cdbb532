"""Value checks for components and their options (public: plugins use them too).

Each ``check_*`` returns the value (converted where it says so) or raises a ValueError naming the option,
the value and what it accepts — the message a user sees when a component rejects its options.
"""

from __future__ import annotations

import math
import numbers
from typing import Any


def is_finite_number(value: Any) -> bool:
    """True for real numbers that are neither NaN nor infinite (bools are not numbers here)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def finite_float(value: Any) -> float | None:
    """``value`` as a float, or None when it is missing, not a number, NaN or infinite."""
    return float(value) if is_finite_number(value) else None


def check_number(name: str, value: Any, *, minimum: float = 0.0, strict: bool = True) -> float:
    """``value`` as a float, raising ValueError unless it is a finite number above (or at) ``minimum``."""
    if not is_finite_number(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < minimum or (strict and value == minimum):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {minimum:g}, got {value!r}")
    return float(value)


def check_int(name: str, value: Any, *, minimum: int) -> int:
    """``value`` unchanged, raising ValueError unless it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def check_fraction(name: str, value: Any, *, maximum: float = 1.0) -> float:
    """``value`` as a float, raising ValueError unless it lies in ``[0, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= float(value) <= maximum:
        raise ValueError(f"{name} must be a number between 0 and {maximum:g}, got {value!r}")
    return float(value)


def check_bool(name: str, value: Any) -> bool:
    """``value`` unchanged, raising ValueError unless it is True or False."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {value!r}")
    return value


def check_text(name: str, value: Any, *, optional: bool = False) -> str | None:
    """``value`` unchanged, raising ValueError unless it is a non-empty string (or None when ``optional``)."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a result field name (a non-empty string), got {value!r}")
    return value


def check_mode(value: Any) -> str | None:
    """``value`` unchanged, raising ValueError unless it is None, ``"min"`` or ``"max"``."""
    if value not in (None, "min", "max"):
        raise ValueError(f'mode must be "min" or "max", got {value!r}')
    return value


def check_seed(value: Any) -> int | None:
    """``value`` unchanged, raising ValueError unless it is None or a non-negative integer."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(f"seed must be a non-negative integer or None, got {value!r}")
    return value


def check_callable(name: str, value: Any) -> Any:
    """``value`` unchanged, raising ValueError unless it is None or callable."""
    if value is not None and not callable(value):
        raise ValueError(f"{name} must be a function (or None), got {value!r}")
    return value


def metric_names(metric: str | list[str] | None) -> list[str]:
    """The experiment's metrics as a list: ``[]`` for none, ``[metric]`` for one, the list for several."""
    if not metric:
        return []
    return [metric] if isinstance(metric, str) else list(metric)


def check_objective(
    component: str, metric: Any, mode: Any, *, own_metric: str | None = None, own_mode: str | None = None
) -> tuple[str, str]:
    """The one metric and mode a component that ranks trials uses (:func:`check_single_metric`), both required.

    ``component`` names it in messages, e.g. ``"the asha scheduler"``. Raises ValueError saying where to set
    the missing metric or mode (the TuneConfig or the component's own option).
    """
    metric, mode = check_single_metric(component, metric, mode, own_metric=own_metric, own_mode=own_mode)
    if not isinstance(metric, str) or not metric:
        raise ValueError(
            f"{component} needs one metric to rank trials, got {metric!r}: set TuneConfig(metric=...)"
            " or its own metric option"
        )
    if mode not in ("min", "max"):
        raise ValueError(
            f'{component} needs mode "min" or "max", got {mode!r}: set TuneConfig(mode=...) or its own mode option'
        )
    return metric, mode


def check_single_metric(
    component: str,
    metric: Any,
    mode: Any,
    *,
    own_metric: str | None = None,
    own_mode: str | None = None,
    hint: str = "",
) -> tuple[str | None, str | None]:
    """The one ``(metric, mode)`` a single-objective component ranks by: its own options, else the experiment's.

    ``metric`` and ``mode`` are what ``setup`` received (lists in a multi-objective experiment); ``own_metric``
    and ``own_mode`` are the component's options (None when not given). With several experiment metrics, the
    component's own metric is required, and its mode is the matching experiment mode unless ``own_mode`` is
    given. Raises ValueError naming ``component`` (e.g. ``"the plateau stopper"``) and saying how to fix it
    (``hint``, when given, is added: another way out, such as a multi-objective alternative).
    Either value of the result may be None: whether that is acceptable is for the component to say.
    """
    if not isinstance(metric, list):
        return own_metric if own_metric is not None else metric, own_mode if own_mode is not None else mode
    if own_metric is None:
        raise ValueError(
            f"{component} takes one metric, but the experiment has several ({metric!r}): give the component"
            f" its own 'metric' option (e.g. metric={metric[0]!r}), or use it in a single-metric experiment{hint}"
        )
    if own_mode is not None:
        return own_metric, own_mode
    if own_metric not in metric or not isinstance(mode, list) or len(mode) != len(metric):
        raise ValueError(
            f"{component}'s metric {own_metric!r} is not one of the experiment's metrics {metric!r}, whose modes"
            " do not say how to rank it: give the component its own 'mode' option too, 'min' or 'max'"
        )
    return own_metric, mode[metric.index(own_metric)]
