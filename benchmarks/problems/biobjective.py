"""The two-objective variant: the digits MLP table's validation error against the model's size.

Objectives, both minimised: ``error`` (the seed-averaged validation error after epoch ``t``, as the
``digits`` problem) and ``size``, the number of weights on a log scale normalised to [0, 1] over the grid's
hidden sizes: ``log(n / n_min) / log(n_max / n_min)`` with ``n = 64 h + h + 10 h + 10`` for ``h`` hidden
units (8 ... 128). The size does not depend on the budget. The hypervolume is that of the Pareto front of
the full-fidelity points, with the reference point :data:`REFERENCE` = (error 1, size 1.1) — no worse than
any config on either objective (the worst config's error is below 1).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from benchmarks.problems.tabular import DigitsTable, load_table

REFERENCE = (1.0, 1.1)
"""The hypervolume's reference point: (error, size)."""
OBJECTIVES = ("error", "size")
"""The objectives' names (both minimised)."""


def weights(hidden: int, inputs: int = 64, classes: int = 10) -> int:
    """Weights and biases of a one-hidden-layer MLP."""
    return inputs * hidden + hidden + classes * hidden + classes


def hypervolume(points: list[tuple[float, float]], reference: tuple[float, float] = REFERENCE) -> float:
    """The area dominated by ``points`` (both objectives minimised) and bounded by ``reference``."""
    inside = sorted((a, b) for a, b in points if a < reference[0] and b < reference[1])
    area, floor = 0.0, reference[1]
    for a, b in inside:  # by the first objective, ascending: each point adds its strip below the last floor
        if b < floor:
            area += (reference[0] - a) * (floor - b)
            floor = b
    return area


class DigitsSizeProblem:
    """Two objectives on the digits table: validation error (per epoch) and normalised model size."""

    name = "digits-size"
    description = "digits MLP table: error vs log model size"
    objectives = OBJECTIVES
    reference = REFERENCE

    def __init__(self, table: DigitsTable | None = None) -> None:
        self.table = table or load_table()
        self.space = self.table.space()
        self.max_t = self.table.epochs
        sizes = [weights(h) for h in self.table.grid["hidden_size"]]
        self._low, self._high = math.log(min(sizes)), math.log(max(sizes))

    def size(self, config: dict[str, Any]) -> float:
        """The normalised log size of a config."""
        return (math.log(weights(config["hidden_size"])) - self._low) / (self._high - self._low)

    def values(self, config: dict[str, Any], t: int, seed: int) -> tuple[float, float]:
        """``(error, size)`` after epoch ``t``."""
        return float(self.table.mean[self.table.row(config), t - 1]), self.size(config)

    def true_values(self, config: dict[str, Any]) -> tuple[float, float]:
        """``(error, size)`` at full fidelity."""
        return self.values(config, self.max_t, 0)

    def best_hypervolume(self) -> float:
        """The hypervolume of the whole grid at full fidelity (the largest any method can reach)."""
        params = self.table.params
        points = [self.true_values(dict(zip(params, config, strict=True))) for config in self.table.configs]
        return hypervolume(points)

    def all_points(self) -> np.ndarray:
        """Every config's full-fidelity ``(error, size)``."""
        params = self.table.params
        return np.array([self.true_values(dict(zip(params, c, strict=True))) for c in self.table.configs])
