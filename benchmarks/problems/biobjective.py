"""Two-objective problems: the digits MLP table's error against the model's size, and multi-fidelity ZDT1.

**digits-size** (:class:`DigitsSizeProblem`).

Objectives, both minimised: ``error`` (the seed-averaged validation error after epoch ``t``, as the
``digits`` problem) and ``size``, the number of weights on a log scale normalised to [0, 1] over the grid's
hidden sizes: ``log(n / n_min) / log(n_max / n_min)`` with ``n = 64 h + h + 10 h + 10`` for ``h`` hidden
units (8 ... 128). The size does not depend on the budget. The hypervolume is that of the Pareto front of
the full-fidelity points, with the reference point :data:`REFERENCE` = (error 1, size 1.1) — no worse than
any config on either objective (the worst config's error is below 1).

**zdt1-mf** (:class:`ZDT1Problem`): ZDT1 (Zitzler, Deb & Thiele 2000, "Comparison of multiobjective
evolutionary algorithms: empirical results", Evolutionary Computation 8(2), problem T1) in ``d = 6``
variables on ``[0, 1]^6``, both objectives minimised: ``f1 = x1`` and ``f2 = g (1 - sqrt(f1 / g))`` with
``g = 1 + 9/(d-1) sum_{i>=2} x_i``; Pareto front ``f2 = 1 - sqrt(f1)`` where ``x_2 ... x_d = 0``. ZDT1 has no
standard multi-fidelity version; this one biases it below full fidelity the way Kandasamy et al. 2017 (BOCA)
bias Branin and Hartmann (and ``synthetic.py`` Styblinski-Tang): a coefficient moves with ``1 - z``
(``z = log t / log 27``, :func:`benchmarks.problems.base.fidelity`), so low budgets rank configs wrongly near
the optimum, plus a learning-curve term that vanishes at full fidelity:
``g(x, z) = 1 + 9/(d-1) sum_{i>=2} |x_i - 0.2 (1 - z)|`` (the distance variables look best at 0.2 at step 1,
at 0 at step 27) and ``f2(x, z) = g(x, z) (1 - sqrt(f1 / g(x, z))) + (1 - z)``. ``f1`` is exact at every
budget, as the digits problem's size is. At ``z = 1`` it is ZDT1 exactly. Reference point (11, 11), the one
BoTorch's ZDT problems use (after Yang et al. 2019); the largest hypervolume (the true front's) is
``110 + 10 + 2/3 = 120.667``. Random search's 30 full-fidelity trials reach about 100.5 (median of 10 seeds).
The rank correlation (Spearman) of ``f2`` after step 1, 3, 9 with ``f2`` after step 27 is 0.96, 0.99, 0.998
over uniform configs (the digits table's error: 0.68, 0.77, 0.92).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import tunecore
from benchmarks.problems.base import MAX_T, fidelity
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


ZDT_DIM = 6
"""ZDT1's number of variables here."""
ZDT_SHIFT = 0.2
"""Where the distance variables look best at the lowest fidelity (0 at full fidelity)."""
ZDT_REFERENCE = (11.0, 11.0)
"""ZDT1's reference point: (f1, f2)."""


def zdt1(x: list[float], z: float = 1.0) -> tuple[float, float]:
    """Multi-fidelity ZDT1 at ``x`` (``len(x) >= 2``) and fidelity ``z``: ZDT1 at ``z = 1``."""
    f1 = x[0]
    g = 1 + 9 / (len(x) - 1) * sum(abs(xi - ZDT_SHIFT * (1 - z)) for xi in x[1:])
    return f1, g * (1 - math.sqrt(f1 / g)) + (1 - z)


class ZDT1Problem:
    """Multi-fidelity ZDT1 (6-d): ``f1 = x1`` exact at every budget, ``f2`` biased below full fidelity."""

    name = "zdt1-mf"
    description = "multi-fidelity ZDT1, 6-d, f1 exact, f2 biased below full fidelity"
    objectives = ("f1", "f2")
    reference = ZDT_REFERENCE

    def __init__(self, dim: int = ZDT_DIM) -> None:
        self.names = [f"x{i}" for i in range(1, dim + 1)]
        self.space = {key: tunecore.uniform(0.0, 1.0) for key in self.names}
        self.max_t = MAX_T

    def values(self, config: dict[str, Any], t: int, seed: int) -> tuple[float, float]:
        """``(f1, f2)`` after step ``t`` (noise-free: ``seed`` is unused)."""
        return zdt1([config[key] for key in self.names], fidelity(t, self.max_t))

    def true_values(self, config: dict[str, Any]) -> tuple[float, float]:
        """``(f1, f2)`` at full fidelity."""
        return self.values(config, self.max_t, 0)

    def best_hypervolume(self) -> float:
        """The hypervolume of ZDT1's true front ``f2 = 1 - sqrt(f1)``, ``f1`` in [0, 1]: the largest there is."""
        r1, r2 = self.reference
        return (r1 - 1) * r2 + (r2 - 1) + 2 / 3  # f1 in [1, r1]: the whole height; in [0, 1]: r2 - 1 + sqrt(f1)
