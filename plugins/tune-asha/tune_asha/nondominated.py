"""Non-dominated sorting and crowding distance (Deb et al. 2002, NSGA-II) over score vectors.

A score vector has one score per objective, **higher is better** in each (:func:`tunecore.best.score` orients
them). ``a`` dominates ``b`` when it is at least as good in every objective and better in one. The order of
a set of vectors, best first, is by front (the first front holds the vectors no other dominates, the second
those dominated only by the first's, ...), then within a front by crowding distance, largest first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Scores = Sequence[float]
"""One score per objective, higher is better."""


def dominates(a: Scores, b: Scores) -> bool:
    """True when ``a`` is at least as good as ``b`` in every objective and better in one."""
    return all(x >= y for x, y in zip(a, b, strict=True)) and any(x > y for x, y in zip(a, b, strict=True))


def fronts(points: Sequence[Scores]) -> list[list[int]]:
    """The indices of ``points`` by non-dominated front, best front first, each front in index order. Equal
    points share a front.

    One or two metrics: a sweep in ``O(n log n)`` (:func:`_fronts_2d`); more: Deb's fast non-dominated sort,
    ``O(k n**2)`` (every pair compared once).
    """
    if not points:
        return []
    if len(points[0]) <= 2:
        return _fronts_2d([(point[0], point[-1]) for point in points])
    beaten_by = [0] * len(points)  # how many points dominate each
    beats: list[list[int]] = [[] for _ in points]
    for i, a in enumerate(points):
        for j in range(i + 1, len(points)):
            if dominates(a, points[j]):
                beats[i].append(j)
                beaten_by[j] += 1
            elif dominates(points[j], a):
                beats[j].append(i)
                beaten_by[i] += 1
    result: list[list[int]] = []
    current = [i for i, count in enumerate(beaten_by) if count == 0]
    while current:
        result.append(current)
        following = []
        for i in current:
            for j in beats[i]:
                beaten_by[j] -= 1
                if beaten_by[j] == 0:
                    following.append(j)
        current = sorted(following)
    return result


def _fronts_2d(points: Sequence[tuple[float, float]]) -> list[list[int]]:
    """:func:`fronts` of pairs: visit them by first score, then second, both descending; every point visited
    before has a first score at least as high, so a front dominates the point iff its latest member (the
    highest second score of the front so far) does, and the fronts' latest second scores decrease with the
    front: a binary search finds the first front that does not dominate it."""
    order = sorted(range(len(points)), key=lambda i: (-points[i][0], -points[i][1], i))
    latest: list[tuple[float, float]] = []
    members: list[list[int]] = []
    for index in order:
        first, second = points[index]
        low, high = 0, len(latest)
        while low < high:  # the first front whose latest member does not dominate the point
            middle = (low + high) // 2
            top = latest[middle]
            if top[1] > second or (top[1] == second and top[0] > first):
                low = middle + 1
            else:
                high = middle
        if low == len(latest):
            latest.append(points[index])
            members.append([index])
        else:
            latest[low] = points[index]
            members[low].append(index)
    return [sorted(front) for front in members]


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
