"""Non-dominated sorting and crowding distance (Deb et al. 2002, NSGA-II) over score vectors: ``mo_asha``'s
ranking of a rung.

A score vector has one score per objective, **higher is better** in each (:func:`tunecore.best.score` orients
them). Dominance and the fronts are the core's (:func:`tunecore.pareto.dominates`,
:func:`tunecore.pareto.fronts`, also importable from here). The order of a set of vectors, best first, is by
front (the first front holds the vectors no other dominates, the second those dominated only by the first's,
...), then within a front by crowding distance, largest first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tunecore.pareto import Scores, dominates, fronts

__all__ = ["Scores", "crowding_distances", "dominates", "fronts", "pareto_keys", "pareto_order"]


def crowding_distances(front: Sequence[Scores]) -> list[float]:
    """The crowding distance of each point of ``front`` (mutually non-dominated points) within it.

    Per objective whose scores in the front are not all equal, the distinct points are sorted by that score;
    the first and last get an infinite distance, every other one adds the gap between its two neighbours
    divided by the objective's range in the front (so objectives of any scale weigh alike). Equal points count
    once and get the same distance; a front of one distinct point gets infinity. Ties in an objective are taken
    in the lexicographic order of the points. Points with a non-finite score never share a front with finite
    ones in :class:`tune_asha.mo_asha.MOASHAScheduler` (a result with one counts as worst in every objective).
    """
    distinct = sorted({tuple(point) for point in front})
    if len(distinct) == 1:
        return [math.inf] * len(front)
    distance = dict.fromkeys(distinct, 0.0)
    for objective in range(len(distinct[0])):
        ordered = sorted(distinct, key=lambda point: point[objective])
        low, high = ordered[0][objective], ordered[-1][objective]
        if not high > low:
            continue
        distance[ordered[0]] = distance[ordered[-1]] = math.inf
        for before, point, after in zip(ordered, ordered[1:], ordered[2:], strict=False):
            distance[point] += (after[objective] - before[objective]) / (high - low)
    return [distance[tuple(point)] for point in front]


def pareto_keys(points: Sequence[Scores]) -> list[tuple[int, float]]:
    """``(front, -crowding distance)`` of each point: the lower the key, the better the point; equal keys tie."""
    keys: list[tuple[int, float]] = [(0, 0.0)] * len(points)
    for rank, front in enumerate(fronts(points)):
        for index, distance in zip(front, crowding_distances([points[i] for i in front]), strict=True):
            keys[index] = (rank, -distance)
    return keys


def pareto_order(points: Sequence[Scores]) -> list[int]:
    """The indices of ``points``, best first (:func:`pareto_keys`; ties in index order)."""
    keys = pareto_keys(points)
    return sorted(range(len(points)), key=lambda index: keys[index])
