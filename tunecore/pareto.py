"""Pareto dominance, in one place: the Pareto plot (:func:`tunecore.plot.data.pareto`), tune-bayesopt's
``pareto_front`` and tune-asha's ``mo_asha`` rungs rank multi-objective results with these functions.

A score vector has one score per objective, **higher is better** in each: :func:`tunecore.best.score` turns a
value and its mode into one (negated for ``"min"``; anything not a finite number becomes ``-inf``). ``a``
dominates ``b`` when it is at least as good in every objective and better in one; equal vectors do not
dominate each other.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Scores = Sequence[float]
"""One score per objective, higher is better (``-inf`` allowed, NaN not)."""


def dominates(a: Scores, b: Scores) -> bool:
    """True when ``a`` is at least as good as ``b`` in every objective and better in one (a ValueError when
    they differ in length)."""
    return all(x >= y for x, y in zip(a, b, strict=True)) and any(x > y for x, y in zip(a, b, strict=True))


def fronts(points: Sequence[Scores]) -> list[list[int]]:
    """Non-dominated sorting: the indices of ``points`` by front, best first, each front in index order.

    The first front holds the points no other dominates, the second those dominated only by points of the
    first, and so on; equal points share a front. One or two objectives: a sweep in ``O(n log n)``; more:
    Deb et al.'s fast non-dominated sort (2002, NSGA-II), ``O(k n**2)`` for ``k`` objectives. A ValueError
    when the points differ in length, have no objective, or hold a NaN (no order holds one).
    """
    if not points:
        return []
    _check(points)
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


def non_dominated(points: Sequence[Scores]) -> list[int]:
    """The indices of the points no other point dominates (the first of :func:`fronts`), in index order."""
    return fronts(points)[0] if points else []


def _check(points: Sequence[Scores]) -> None:
    size = len(points[0])
    if size == 0:
        raise ValueError("score vectors need one score per objective, got an empty point 0")
    for index, point in enumerate(points):
        if len(point) != size:
            raise ValueError(
                f"score vectors need one score per objective, the same objectives in each: point {index} has"
                f" {len(point)} scores where point 0 has {size}"
            )
        if any(math.isnan(score) for score in point):
            raise ValueError(
                f"point {index} has a NaN score ({list(point)!r}), which neither dominates nor is dominated:"
                " score values with tunecore.best.score, which ranks NaN as -inf"
            )


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
