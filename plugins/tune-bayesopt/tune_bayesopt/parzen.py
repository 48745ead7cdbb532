"""TPE's Parzen estimator over BOHB's model space: one bandwidth per point, from its neighbours (numpy only).

The estimator of the tree-structured Parzen estimator (Bergstra et al. 2011; Optuna's ``TPESampler``, as
Watanabe 2023, "Tree-structured Parzen estimator: understanding its algorithm components", describes it),
built as a :class:`~tune_bayesopt.kde.KernelDensity` with a bandwidth per point and coordinate:

- a numeric coordinate's kernel at ``x`` is as wide as the larger gap from ``x`` to its neighbours among the
  points (the first and last points: the gap to their one neighbour; a single point on ``"unit"``: the
  distance to the farther end of ``[0, 1]``, on ``"real"``: 1), kept between ``1 / min(100, n + 2)`` (the
  "magic clip", with ``magic_clip``) and 1, the prior's width; so a dense cluster of good points gets narrow
  kernels and an isolated one a wide kernel, where hpbandster's normal-reference rule gives every point one
  width set by the spread of all of them;
- a category's kernel keeps its category and spreads the prior's share over all of them, as Optuna's: each
  point's kernel is ``1`` on its category plus ``c = prior_weight / (n + 1)`` on every category, normalised,
  an Aitchison-Aitken kernel with ``λ = (size - 1) c / (1 + size c)`` (no prior: the category alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tune_bayesopt.kde import Dimension, KernelDensity, unit_log_mass

if TYPE_CHECKING:
    import numpy as np

MAX_WIDTH = 1.0
"""The widest kernel: the prior's width (the whole ``[0, 1]`` range; a standardised normal's sd)."""


def neighbour_widths(centres: np.ndarray, *, bounded: bool) -> np.ndarray:
    """Each centre's larger gap to its neighbours, shape ``(n,)`` (see the module docstring; not clipped).

    ``bounded``: the coordinate lives in ``[0, 1]``, whose ends count as neighbours of a single point.
    """
    import numpy as np

    n = len(centres)
    if n == 1:
        c = float(centres[0])
        return np.array([max(c, 1.0 - c) if bounded else MAX_WIDTH])
    order = np.argsort(centres, kind="stable")
    gaps = np.diff(centres[order])
    widths = np.empty(n)
    widths[0], widths[-1] = gaps[0], gaps[-1]
    widths[1:-1] = np.maximum(gaps[:-1], gaps[1:])
    out = np.empty(n)
    out[order] = widths
    return out


def fit_parzen(
    dimensions: Sequence[Dimension],
    data: np.ndarray | Sequence[Sequence[float]],
    *,
    prior_weight: float = 1.0,
    magic_clip: bool = True,
) -> KernelDensity:
    """TPE's estimate of ``data`` (``n >= 1`` points), see the module docstring; the prior kernel weighs
    ``prior_weight``, each point's kernel 1."""
    import numpy as np

    points = np.asarray(data, dtype=float).reshape(len(data), len(dimensions))
    if len(points) == 0:
        raise ValueError("a Parzen estimator needs at least one point")
    n = len(points)
    least = 1.0 / min(100.0, n + 2.0) if magic_clip else 1e-12
    bandwidths = np.empty_like(points)
    share = prior_weight / (n + 1)
    for j, dim in enumerate(dimensions):
        if dim.kind == "category":
            bandwidths[:, j] = (dim.size - 1) * share / (1 + dim.size * share)
        else:
            widths = neighbour_widths(points[:, j], bounded=dim.kind == "unit")
            bandwidths[:, j] = np.clip(widths, least, MAX_WIDTH)
    mass = unit_log_mass(dimensions, points, bandwidths)
    return KernelDensity(tuple(dimensions), points, bandwidths, mass, float(prior_weight))
