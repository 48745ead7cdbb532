"""Synthetic functions with a fidelity parameter: multi-fidelity Branin, Hartmann-3/6 and Styblinski-Tang.

Each function ``f(x, z)`` is the standard test function at full fidelity ``z = 1`` and biased below it,
with bias terms proportional to ``1 - z`` (:func:`benchmarks.problems.base.fidelity` maps a budget step to
``z``). The observations are noise-free: the fidelity bias is what makes low budgets misleading.

- **Branin** (2-d, [-5, 10] x [0, 15]), Kandasamy et al. 2017 (BOCA, arXiv:1703.06240, appendix): ``b(z) =
  5.1/(4 pi^2) - 0.01 (1-z)``, ``c(z) = 5/pi - 0.1 (1-z)``, ``t(z) = 1/(8 pi) + 0.05 (1-z)`` (one ``z`` for
  the paper's three fidelity dimensions; the 0.05 of the paper's text, which ``benchmarks/asha.py`` uses too:
  Dragonfly's code has 0.005). Minimum 0.397887.
- **Hartmann-3 / Hartmann-6** ([0, 1]^3, [0, 1]^6), the same paper: ``alpha'(z) = alpha - 0.1 (1 - z)``
  (every ``alpha_i``, one ``z``). Minima -3.86278 and -3.32237.
- **Styblinski-Tang** (5-d, [-5, 5]^5): no multi-fidelity version is standard; this one perturbs a
  coefficient the way BOCA's Branin does, ``f(x, z) = 0.5 sum(x_i^4 - 16 x_i^2 + c(z) x_i)`` with
  ``c(z) = 5 - 5 (1 - z)``: at the lowest fidelity the linear term vanishes and each coordinate's two
  basins (``x_i = -2.83`` and ``+2.83``) are equally deep; at full fidelity the global one is at
  ``x_i = -2.9035``, the local one at ``+2.7468``. Minimum -39.16617 x 5 = -195.83.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import tunecore
from benchmarks.problems.base import MAX_T, Problem, fidelity

BRANIN_MIN = 0.397887357729738
"""The minimum of Branin (at (-pi, 12.275), (pi, 2.275), (9.42478, 2.475))."""
HARTMANN3_MIN = -3.8627797873326597
"""The minimum of Hartmann-3 with these constants (at (0.114589, 0.555649, 0.852547); often quoted as -3.86278)."""
HARTMANN6_MIN = -3.322368011391339
"""The minimum of Hartmann-6 (at (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573))."""
STYBLINSKI_TANG_X = -2.903534027771177
"""Where the 1-d Styblinski-Tang term is smallest (the root of 4x^3 - 32x + 5 in the left basin)."""
STYBLINSKI_TANG_MIN_PER_DIM = 0.5 * (STYBLINSKI_TANG_X**4 - 16 * STYBLINSKI_TANG_X**2 + 5 * STYBLINSKI_TANG_X)
"""-39.16617 per dimension."""
STYBLINSKI_TANG_DIM = 5
"""The dimension of the Styblinski-Tang problem."""

ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
"""Hartmann's weights."""
HARTMANN3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
HARTMANN3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]])
HARTMANN6_A = np.array(
    [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
)
HARTMANN6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)


def branin(x: np.ndarray, z: float = 1.0) -> float:
    """Multi-fidelity Branin at ``x = (x1, x2)``: Branin at ``z = 1``."""
    x1, x2 = float(x[0]), float(x[1])
    b = 5.1 / (4 * math.pi**2) - 0.01 * (1 - z)
    c = 5 / math.pi - 0.1 * (1 - z)
    t = 1 / (8 * math.pi) + 0.05 * (1 - z)
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def _hartmann(x: np.ndarray, z: float, a: np.ndarray, p: np.ndarray) -> float:
    alpha = ALPHA - 0.1 * (1 - z)
    return float(-alpha @ np.exp(-np.sum(a * (np.asarray(x) - p) ** 2, axis=1)))


def hartmann3(x: np.ndarray, z: float = 1.0) -> float:
    """Multi-fidelity Hartmann-3: Hartmann-3 at ``z = 1``."""
    return _hartmann(x, z, HARTMANN3_A, HARTMANN3_P)


def hartmann6(x: np.ndarray, z: float = 1.0) -> float:
    """Multi-fidelity Hartmann-6: Hartmann-6 at ``z = 1``."""
    return _hartmann(x, z, HARTMANN6_A, HARTMANN6_P)


def styblinski_tang(x: np.ndarray, z: float = 1.0) -> float:
    """Multi-fidelity Styblinski-Tang: the linear coefficient is ``5 z`` (5 at full fidelity)."""
    x = np.asarray(x, dtype=float)
    c = 5 - 5 * (1 - z)
    return float(0.5 * np.sum(x**4 - 16 * x**2 + c * x))


class SyntheticProblem(Problem):
    """A function ``f(x, z)`` on a box, evaluated at ``z = fidelity(t)`` after step ``t``; noise-free."""

    def __init__(
        self,
        name: str,
        description: str,
        function: Callable[[np.ndarray, float], float],
        bounds: list[tuple[float, float]],
        optimum: float,
        max_t: int = MAX_T,
    ) -> None:
        self.name, self.description, self.function = name, description, function
        self.names = [f"x{i + 1}" for i in range(len(bounds))]
        self.space = {key: tunecore.uniform(low, high) for key, (low, high) in zip(self.names, bounds, strict=True)}
        self.optimum, self.max_t = optimum, max_t

    def point(self, config: dict[str, Any]) -> np.ndarray:
        """The config as a vector."""
        return np.array([config[key] for key in self.names], dtype=float)

    def value(self, config: dict[str, Any], t: int, seed: int) -> float:
        """``f(x, fidelity(t))`` (the seed does not matter: no noise)."""
        return self.function(self.point(config), fidelity(t, self.max_t))

    def true_value(self, config: dict[str, Any]) -> float:
        """``f(x, 1)``."""
        return self.function(self.point(config), 1.0)


def synthetic_problems() -> list[SyntheticProblem]:
    """The four synthetic problems."""
    d = STYBLINSKI_TANG_DIM
    return [
        SyntheticProblem("branin", "multi-fidelity Branin (2-d), BOCA's bias", branin, [(-5, 10), (0, 15)], BRANIN_MIN),
        SyntheticProblem("hartmann3", "multi-fidelity Hartmann-3, BOCA's bias", hartmann3, [(0, 1)] * 3, HARTMANN3_MIN),
        SyntheticProblem("hartmann6", "multi-fidelity Hartmann-6, BOCA's bias", hartmann6, [(0, 1)] * 6, HARTMANN6_MIN),
        SyntheticProblem(
            f"styblinski{d}",
            f"multi-fidelity Styblinski-Tang ({d}-d), linear term 5z",
            styblinski_tang,
            [(-5, 5)] * d,
            STYBLINSKI_TANG_MIN_PER_DIM * d,
        ),
    ]
