"""What every benchmark problem provides: a search space, a value per budget step, and its known optimum."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

MAX_T = 27
"""Budget steps of a full-fidelity evaluation (``training_iteration`` 1 ... 27; HyperBand's R with eta 3)."""


def fidelity(t: int, max_t: int = MAX_T) -> float:
    """The fidelity ``z`` in [0, 1] of budget step ``t``: ``log(t) / log(max_t)`` (0 at step 1, 1 at ``max_t``).

    Geometric, as the budgets of successive halving are: steps 1, 3, 9, 27 are z = 0, 1/3, 2/3, 1.
    """
    if not 1 <= t <= max_t:
        raise ValueError(f"budget step {t} is outside 1 ... {max_t}")
    return math.log(t) / math.log(max_t)


class Problem(ABC):
    """A single-objective multi-fidelity problem (minimised).

    A trial evaluates one config for budget steps ``t = 1 ... max_t`` and reports :meth:`value` after each;
    the value at ``max_t`` is the full-fidelity value (possibly with observation noise). The regret of a
    config is ``true_value(config) - optimum`` (never negative).
    """

    name: str
    """Short name, used on the command line (``--problems``)."""
    description: str
    """One line saying what the problem is."""
    space: dict[str, Any]
    """The search space in ``tunecore.space`` domains (only ``uniform`` and ``choice``)."""
    optimum: float
    """The minimum of :meth:`true_value` over the space."""
    max_t: int = MAX_T
    """Budget steps of a full-fidelity evaluation."""

    @abstractmethod
    def value(self, config: dict[str, Any], t: int, seed: int) -> float:
        """The value observed after budget step ``t`` in a run with seed ``seed``."""

    @abstractmethod
    def true_value(self, config: dict[str, Any]) -> float:
        """The noise-free full-fidelity value of ``config``."""

    def regret(self, config: dict[str, Any]) -> float:
        """``true_value(config) - optimum``."""
        return self.true_value(config) - self.optimum

    def curve(self, config: dict[str, Any], seed: int) -> list[float]:
        """The values after steps 1 ... ``max_t``."""
        return [self.value(config, t, seed) for t in range(1, self.max_t + 1)]
