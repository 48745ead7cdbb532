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
