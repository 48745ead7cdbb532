"""Product-kernel density estimates over BOHB's model space (numpy only).

Each coordinate of a point is one of three kinds (:data:`KINDS`):

- ``"unit"``: a bounded parameter mapped into ``[0, 1]``; a Gaussian kernel truncated to ``[0, 1]``;
- ``"real"``: an unbounded (normal) parameter, standardised; a plain Gaussian kernel;
- ``"category"``: the index of one of ``size`` categories; an Aitchison-Aitken kernel, which keeps the
  category with probability ``1 - λ`` and spreads ``λ`` evenly over the others.

:meth:`KernelDensity.fit` is hpbandster's estimate (TPE's, with a bandwidth per point, is
:mod:`tune_bayesopt.parzen`): the bandwidth of every coordinate follows the normal-reference rule of a
multivariate estimate, ``1.06 * std * n ** (-1 / (4 + d))`` (what statsmodels' ``normal_reference``, and so
hpbandster's BOHB, use), never below ``min_bandwidth``; a category's ``λ`` is at most ``(size - 1) / size``,
where the kernel is uniform.
Two parts of TPE (Bergstra et al. 2011, as Optuna has them) are optional: the "magic clip", which keeps a
numeric bandwidth at least ``1 / min(100, n + 2)`` for ``n`` points (the normal-reference bandwidth of a few
close points is tiny, and the model then crawls around them), and a prior kernel of weight ``prior_weight``
(each point's weighs 1): a Gaussian of width 1 centred at 0.5 truncated to ``[0, 1]`` on a ``"unit"``
coordinate, the standard normal on a ``"real"`` one, uniform over a category.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    import numpy as np

KINDS = ("unit", "real", "category")
"""The kinds of coordinate, see the module docstring."""

_TINY = 1e-300
"""Floor of a kernel value before its logarithm: a density of zero is very unlikely, not impossible."""
_PRIOR_WIDTH = 1.0
"""The prior kernel's width on a ``"unit"`` coordinate (centred at 0.5): the whole interval, as TPE's prior."""
_PRIOR_MASS = 0.3829249225480262
"""The mass of a Gaussian of width :data:`_PRIOR_WIDTH` centred at 0.5 inside ``[0, 1]``: ``erf(0.5 / sqrt 2)``."""
_REJECTION_ROUNDS = 64
"""Rounds of redrawing the samples of a truncated Gaussian that fell outside ``[0, 1]`` before clipping them."""


@attrs.frozen
class Dimension:
    """One coordinate of the model space: its kind and, for a category, how many values it has."""

    kind: str
    """``"unit"``, ``"real"`` or ``"category"``."""
    size: int = 0
    """The number of categories (``"category"`` only, at least 2)."""

    def __attrs_post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"a dimension's kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.kind == "category" and self.size < 2:
            raise ValueError(f"a category dimension needs at least 2 categories, got {self.size}")


@attrs.frozen(eq=False)
class KernelDensity:
    """A kernel density estimate of ``data``: one kernel per point, the product of one kernel per coordinate."""

    dimensions: tuple[Dimension, ...]
    """What each coordinate is."""
    data: np.ndarray
    """The points, shape ``(n, d)``."""
    bandwidths: np.ndarray
    """The bandwidth of each coordinate (a category's: its ``λ``), shape ``(d,)``, or of each point's kernel
    and coordinate, shape ``(n, d)`` (:mod:`tune_bayesopt.parzen`)."""
    log_mass: np.ndarray
    """The log of the mass each point's kernel has inside ``[0, 1]`` (``"unit"`` coordinates; 0 elsewhere),
    shape ``(n, d)``: what the truncated kernels are divided by."""
    prior_weight: float = 0.0
    """The weight of the prior kernel (each point's kernel weighs 1): 0, none."""

    @classmethod
    def fit(
        cls,
        dimensions: Sequence[Dimension],
        data: np.ndarray | Sequence[Sequence[float]],
        min_bandwidth: float,
        *,
        prior_weight: float = 0.0,
        magic_clip: bool = False,
    ) -> KernelDensity:
        """The estimate of ``data`` (``n >= 1`` points) with normal-reference bandwidths, at least ``min_bandwidth``.

        ``prior_weight``: the weight of the prior kernel (see the module docstring). ``magic_clip``: a numeric
        coordinate's bandwidth is at least ``1 / min(100, n + 2)`` as well (TPE's "magic clip").
        """
        import numpy as np

        points = np.asarray(data, dtype=float).reshape(len(data), len(dimensions))
        if len(points) == 0:
            raise ValueError("a kernel density needs at least one point")
        n, d = points.shape
        rule = 1.06 * points.std(axis=0) * n ** (-1.0 / (4 + d))
        bandwidths = np.maximum(rule, min_bandwidth)
        if magic_clip:
            numeric = np.array([dim.kind != "category" for dim in dimensions])
            bandwidths = np.where(numeric, np.maximum(bandwidths, 1.0 / min(100.0, n + 2.0)), bandwidths)
        for j, dim in enumerate(dimensions):
            if dim.kind == "category":
                bandwidths[j] = min(bandwidths[j], (dim.size - 1) / dim.size)
        return cls(
            tuple(dimensions), points, bandwidths, unit_log_mass(dimensions, points, bandwidths), float(prior_weight)
        )

    def log_pdf(self, points: np.ndarray) -> np.ndarray:
        """The log density at each of ``points`` (shape ``(m, d)``), shape ``(m,)``."""
        import numpy as np

        points = np.asarray(points, dtype=float).reshape(-1, len(self.dimensions))
        widths = np.broadcast_to(self.bandwidths, self.data.shape)
        total = np.zeros((len(points), len(self.data)))
        for j, dim in enumerate(self.dimensions):
            x, centres, h = points[:, j : j + 1], self.data[:, j], widths[:, j]
            if dim.kind == "category":
                same = np.isclose(x, centres)
                total += np.where(same, np.log(1 - h), np.log(np.maximum(h / (dim.size - 1), _TINY)))
                continue
            total += -0.5 * ((x - centres) / h) ** 2 - np.log(h * math.sqrt(2 * math.pi))
            total -= self.log_mass[:, j]  # each kernel keeps its whole mass inside [0, 1] (0 for "real")
        if self.prior_weight > 0:
            total = np.concatenate([total, math.log(self.prior_weight) + self._prior_log_pdf(points)[:, None]], axis=1)
        top = total.max(axis=1, keepdims=True)
        return top[:, 0] + np.log(np.exp(total - top).sum(axis=1)) - math.log(len(self.data) + self.prior_weight)

    def _prior_log_pdf(self, points: np.ndarray) -> np.ndarray:
        """The prior kernel's log density at each of ``points``, shape ``(m,)``."""
        import numpy as np

        total = np.zeros(len(points))
        for j, dim in enumerate(self.dimensions):
            x = points[:, j]
            if dim.kind == "category":
                total -= math.log(dim.size)
            elif dim.kind == "real":
                total += -0.5 * x**2 - 0.5 * math.log(2 * math.pi)
            else:
                total += -0.5 * ((x - 0.5) / _PRIOR_WIDTH) ** 2 - math.log(_PRIOR_WIDTH * math.sqrt(2 * math.pi))
                total -= math.log(_PRIOR_MASS)
        return total

    def sample(self, rng: np.random.Generator, count: int, factor: float = 1.0) -> np.ndarray:
        """``count`` points drawn from the estimate with every bandwidth widened by ``factor``, shape ``(count, d)``.

        A widened category keeps its value with probability ``1 - min(factor * λ, (size - 1) / size)``.
        """
        import numpy as np

        n = len(self.data)
        if self.prior_weight > 0:  # kernel n is the prior's
            weights = np.append(np.ones(n), self.prior_weight)
            chosen = rng.choice(n + 1, size=count, p=weights / weights.sum())
        else:
            chosen = rng.integers(n, size=count)
        prior = chosen == n
        kernels = np.minimum(chosen, n - 1)
        centres = self.data[kernels]
        widths = np.broadcast_to(self.bandwidths, self.data.shape)[kernels] * factor
        points = np.empty_like(centres)
        for j, dim in enumerate(self.dimensions):
            h = widths[:, j]
            if dim.kind == "category":
                change = rng.random(count) < np.minimum(h, (dim.size - 1) / dim.size)
                shift = rng.integers(1, dim.size, size=count)  # another category, each equally likely
                points[:, j] = np.where(change, (centres[:, j] + shift) % dim.size, centres[:, j])
                points[prior, j] = rng.integers(dim.size, size=int(prior.sum()))
            elif dim.kind == "real":
                points[:, j] = centres[:, j] + h * rng.standard_normal(count)
                points[prior, j] = rng.standard_normal(int(prior.sum()))
            else:
                points[:, j] = _truncated_normal(rng, centres[:, j], h)
                points[prior, j] = _truncated_normal(rng, np.full(int(prior.sum()), 0.5), _PRIOR_WIDTH)
        return points


def unit_log_mass(dimensions: Sequence[Dimension], points: np.ndarray, bandwidths: np.ndarray) -> np.ndarray:
    """The log of the mass inside ``[0, 1]`` of each point's kernel on each ``"unit"`` coordinate (0 elsewhere),
    shape ``(n, d)``; ``bandwidths`` of shape ``(d,)`` or ``(n, d)``."""
    import numpy as np

    widths = np.broadcast_to(bandwidths, points.shape)
    log_mass = np.zeros_like(points)
    for j, dim in enumerate(dimensions):
        if dim.kind == "unit":
            mass = [
                _normal_cdf((1 - c) / h) - _normal_cdf(-c / h) for c, h in zip(points[:, j], widths[:, j], strict=True)
            ]
            log_mass[:, j] = np.log(np.maximum(mass, _TINY))
    return log_mass


def _truncated_normal(rng: np.random.Generator, centres: np.ndarray, h: float | np.ndarray) -> np.ndarray:
    """One draw per centre from a Gaussian of width ``h`` (one, or one per centre) truncated to ``[0, 1]``
    (rejection, then clipping)."""
    import numpy as np

    widths = np.broadcast_to(np.asarray(h, dtype=float), centres.shape)
    x = centres + widths * rng.standard_normal(len(centres))
    for _ in range(_REJECTION_ROUNDS):
        outside = (x < 0) | (x > 1)
        if not outside.any():
            break
        x[outside] = centres[outside] + widths[outside] * rng.standard_normal(int(outside.sum()))
    return np.clip(x, 0.0, 1.0)


def _normal_cdf(z: float) -> float:
    """The standard normal distribution function at ``z``."""
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))
