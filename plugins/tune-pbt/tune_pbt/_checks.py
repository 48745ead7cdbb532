"""Option checks of PBT's own (the general ones come from ``tunecore.options``)."""

from __future__ import annotations

from typing import Any

from tunecore.options import check_number


def check_factors(value: Any) -> tuple[float, ...]:
    """Perturbation factors as a tuple of positive floats (a list or tuple of at least one)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"perturbation_factors must be a list of positive numbers, e.g. (1.2, 0.8), got {value!r}")
    return tuple(check_number(f"perturbation_factors[{i}]", v) for i, v in enumerate(value))
