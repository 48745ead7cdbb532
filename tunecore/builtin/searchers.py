"""Built-in searcher: random (random sampling, grid_search expansion, points_to_evaluate)."""

from __future__ import annotations

from typing import Any

from tunecore.options import check_points
from tunecore.protocols import FINISHED, Finished, Searcher
from tunecore.space import grid_points, point_values, points_within, sample_config, walk_space


class RandomSearcher(Searcher):
    """Random sampling with ``grid_search`` expansion, as Ray Tune's basic variant generator.

    The experiment asks for ``num_samples`` x (number of grid points) configs: the whole grid, repeated
    ``num_samples`` times, non-grid values sampled afresh each time. ``points_to_evaluate`` (possibly
    partial configs; missing values are sampled) are proposed first, each as one of the ``num_samples``: as
    in Ray Tune, a point runs at every grid point of the grid values it does not set itself (a point that
    sets every grid key runs once). They may hold the space's constants (an earlier ``Result.config``): see
    :func:`tunecore.space.point_values`.

    ``evaluated_rewards`` is refused (a ValueError), as Ray's generator has none: random search learns
    nothing from results, so there is no model to warm-start; leave evaluated points out instead.
    """

    replayable = True  # its state is the count and the generator: suggest() alone advances them, deterministically

    def __init__(
        self, points_to_evaluate: list[dict[str, Any]] | None = None, evaluated_rewards: list[Any] | None = None
    ) -> None:
        if evaluated_rewards is not None:
            raise ValueError(
                "the random searcher does not take evaluated_rewards: it learns nothing from results, so there is"
                " no model to warm-start. Leave the evaluated points out of points_to_evaluate, or use a searcher"
                " that learns from them (optuna, hyperopt or skopt from tune-bayesopt, evolution from tune-evolution)"
            )
        self.points_to_evaluate = check_points(points_to_evaluate)
        self._points: list[dict[str, Any]] = []
        self._count = 0
        self._total = -1
        self._grid: list[dict[Any, Any]] = [{}]
        self._space: dict[str, Any] = {}
        self._rng: Any = None

    def setup(
        self,
        space: dict[str, Any],
        metric: str | list[str] | None,
        mode: str | list[str] | None,
        seed: int | None,
        num_samples: int = 1,
    ) -> None:
        """Prepare the grid and a random generator seeded with ``seed``."""
        import numpy as np

        super().setup(space, metric, mode, seed, num_samples)
        self._space = space
        self._grid = grid_points(space)
        self._rng = np.random.default_rng(seed)
        points = [  # fail at setup, not in the middle of the run
            point_values(space, point, f"points_to_evaluate[{index}]")
            for index, point in enumerate(self.points_to_evaluate)
        ]
        points = points_within(points, num_samples)  # each point is one of the samples
        names = {param.path: param.name for param in walk_space(space)}
        named_grid = [{names[path]: value for path, value in grid_point.items()} for grid_point in self._grid]
        self._points = [fixed for point in points for fixed in _over_the_grid(named_grid, point)]
        for fixed in self._points:
            sample_config(space, np.random.default_rng(0), fixed)
        samples_left = -1 if num_samples == -1 else num_samples - len(points)
        self._total = -1 if samples_left == -1 else len(self._points) + samples_left * len(self._grid)

    def suggest(self, trial_id: str) -> dict[str, Any] | Finished:
        """The next point to evaluate (at each of its grid points), else the next grid point, sampled afresh."""
        if self._total != -1 and self._count >= self._total:
            return FINISHED
        if self._count < len(self._points):
            fixed = dict(self._points[self._count])
        else:
            fixed = dict(self._grid[(self._count - len(self._points)) % len(self._grid)])
        self._count += 1
        return sample_config(self._space, self._rng, fixed)

    def save(self) -> dict[str, Any]:
        """How many configs were proposed and the generator's state."""
        return {"count": self._count, "rng": self._rng.bit_generator.state}

    def restore(self, state: dict[str, Any]) -> None:
        """Continue the same sequence of configs."""
        self._count = state["count"]
        self._rng.bit_generator.state = state["rng"]


def _over_the_grid(grid: list[dict[str, Any]], point: dict[str, Any]) -> list[dict[str, Any]]:
    """The fixed values (by ``"a/b"`` name) of one point at every grid point, once per distinct combination."""
    combined: dict[str, dict[str, Any]] = {}
    for grid_point in grid:
        fixed = {**grid_point, **point}
        combined.setdefault(repr(sorted(fixed.items())), fixed)  # values may be unhashable (lists, dicts)
    return list(combined.values())
