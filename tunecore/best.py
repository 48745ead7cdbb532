"""What "best" means, in one place: the console summary, ``tunecore run`` and ``show``, and
:meth:`tunecore.ResultGrid.get_best_result` all pick the best trial with :func:`pick_best`.

The best trial is the one whose **last** result has the best value of the metric (lowest for ``"min"``,
highest for ``"max"``), among the trials whose last value is a finite number: NaN, ±inf, a missing value
or a non-number never counts as best. A tie goes to the trial created first. This is Ray Tune's default
(``scope="last"``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from tunecore.options import finite_float, is_finite_number

T = TypeVar("T")


def score(value: Any, mode: str) -> float:
    """``value`` as a score where higher is better (negated in mode ``"min"``); anything that is not a finite
    real number — NaN, ±inf, a missing value (None), a string, a bool, a 0-d array or tensor (report
    ``tensor.item()``) — scores ``-inf``, the worst there is.

    The one scoring rule of the first-party schedulers, searchers and stoppers (ASHA, HyperBand, median, PBT,
    PB2, evolution, experiment_plateau; the model-based searchers through :func:`observation`), so that a
    trial's odd value is ranked the same way everywhere.
    """
    if not is_finite_number(value):
        return -math.inf
    return float(value) if mode == "max" else -float(value)


def observation(result: dict[str, Any] | None, metrics: Sequence[str]) -> list[float] | None:
    """The values of ``metrics`` in ``result`` as floats, for a model that learns from the numbers themselves
    (Optuna, Hyperopt, scikit-optimize; a Pareto front); None when there is no result or any value is one that
    :func:`score` ranks worst (NaN, ±inf, missing, not a number), which a model cannot take as a number: the
    searcher tells it as a failed trial instead.
    """
    if not result:
        return None
    values: list[float] = []
    for metric in metrics:
        value = finite_float(result.get(metric))
        if value is None:
            return None
        values.append(value)
    return values


def is_better(value: float, than: float | None, mode: str) -> bool:
    """True when ``value`` beats ``than`` (None: nothing to beat) in ``mode`` ("min" or "max")."""
    return than is None or (value < than if mode == "min" else value > than)


def pick_best(scored: Iterable[tuple[T, Any]], mode: str, finite_only: bool = True) -> tuple[T, float] | None:
    """The item with the best score, with that score; None when no item has a (finite) number.

    ``scored`` are ``(item, score)`` pairs in trial order; the first of equal scores wins. Scores that are
    not numbers are skipped, and so are NaN and ±inf unless ``finite_only`` is False: then ±inf compare as
    numbers and a NaN is the best only when every score is NaN.
    """
    best: tuple[T, float] | None = None
    first_nan: tuple[T, float] | None = None
    for item, score in scored:
        number = real_number(score)
        if number is None or (finite_only and not math.isfinite(number)):
            continue
        if number != number:  # NaN (finite_only False): never better than a number, whatever the order
            first_nan = first_nan or (item, number)
        elif is_better(number, best[1] if best else None, mode):
            best = (item, number)
    return best or first_nan


def real_number(value: Any) -> float | None:
    """``value`` as a float when it is a real number (numpy's too; NaN and ±inf included), else None (bools,
    strings, None)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)
