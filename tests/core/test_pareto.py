"""tunecore.pareto: dominance, non-dominated sorting and the first front, by hand and by their definitions."""

from __future__ import annotations

import math
import random

import pytest

from tunecore.pareto import dominates, fronts, non_dominated

INF = math.inf


def test_dominance():
    assert dominates((2, 2), (1, 2)) and dominates((2, 2), (1, 1))
    assert not dominates((2, 2), (2, 2))  # equal: neither
    assert not dominates((3, 1), (1, 3)) and not dominates((1, 3), (3, 1))
    assert dominates((0, 0), (-INF, -INF))


def test_fronts_by_hand():
    #          A       B       C       D       E       F (= B)
    points = [(3, 1), (2, 2), (1, 3), (1, 1), (0, 0), (2, 2)]
    # A, B, C, F: nobody beats them in both. D: beaten by A, B, C, F. E: by everybody else.
    assert fronts(points) == [[0, 1, 2, 5], [3], [4]]
    assert fronts([]) == []
    assert fronts([(1.0,)]) == [[0]]
    assert fronts([(1,), (3,), (2,), (3,)]) == [[1, 3], [2], [0]]  # one metric: sorting, equal values together


def test_fronts_of_three_metrics():
    points = [(1, 0, 0), (0, 1, 0), (0, 0, 1), (0, 0, 0), (1, 1, 0)]
    # (1, 1, 0) beats (1, 0, 0), (0, 1, 0) and (0, 0, 0); (0, 0, 1) is beaten by nobody.
    assert fronts(points) == [[2, 4], [0, 1], [3]]


def peeled(points):
    """Fronts by their definition: the points no remaining point dominates, removed, again and again."""
    remaining, result = set(range(len(points))), []
    while remaining:
        front = sorted(i for i in remaining if not any(dominates(points[j], points[i]) for j in remaining))
        result.append(front)
        remaining -= set(front)
    return result


@pytest.mark.parametrize("metrics", [1, 2, 3])
def test_fronts_are_the_definitions_with_ties_and_minus_infinity(metrics):
    rng = random.Random(metrics)
    for _ in range(300):
        common = [rng.choice([0.0, 1.0, 2.0, -INF, rng.random()]) for _ in range(3)]  # many equal scores
        points = [
            tuple(rng.choice(common) if rng.random() < 0.6 else rng.random() for _ in range(metrics))
            for _ in range(rng.randint(0, 25))
        ]
        assert fronts(points) == peeled(points), points


def test_non_dominated_is_the_first_front():
    points = [(3, 1), (2, 2), (1, 3), (1, 1), (0, 0), (2, 2)]
    assert non_dominated(points) == [0, 1, 2, 5]
    assert non_dominated([]) == []
    assert non_dominated([(-INF, -INF), (0, -INF)]) == [1]
    rng = random.Random(0)
    for _ in range(100):
        points = [(rng.choice([0, 1, 2]), rng.choice([0, 1, 2]), rng.random()) for _ in range(rng.randint(1, 12))]
        assert non_dominated(points) == peeled(points)[0]


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([(1, 2), (1,)], "point 1 has 1 scores where point 0 has 2"),
        ([(1, 2, 3), (1, 2)], "point 1 has 2 scores where point 0 has 3"),
        ([()], "got an empty point 0"),
        ([(1, 2), (math.nan, 0)], r"point 1 has a NaN score .*tunecore.best.score"),
        ([(1, 2, 3), (0, 0, math.nan)], "point 1 has a NaN score"),
    ],
)
def test_bad_points_are_clear_errors(points, message):
    with pytest.raises(ValueError, match=message):
        fronts(points)
    with pytest.raises(ValueError, match=message):
        non_dominated(points)
