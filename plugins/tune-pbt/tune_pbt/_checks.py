"""Option checks shared by the schedulers: each raises a ValueError naming the option, the value and what it accepts."""

from __future__ import annotations

import math
import numbers
from typing import Any


def check_number(name: str, value: Any, *, minimum: float = 0.0, strict: bool = True) -> float:
    """``value`` as a float, raising ValueError unless it is a finite number above (or at) ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if value < minimum or (strict and value == minimum):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {minimum:g}, got {value!r}")
    return float(value)


def check_fraction(name: str, value: Any, *, maximum: float = 1.0) -> float:
    """``value`` as a float, raising ValueError unless it lies in ``[0, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= maximum:
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


def check_factors(value: Any) -> tuple[float, ...]:
    """Perturbation factors as a tuple of positive floats (a list or tuple of at least one)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"perturbation_factors must be a list of positive numbers, e.g. (1.2, 0.8), got {value!r}")
    return tuple(check_number(f"perturbation_factors[{i}]", v) for i, v in enumerate(value))
