"""Built-in searcher: random (random sampling, grid_search expansion, points_to_evaluate)."""

from __future__ import annotations

from typing import Any

from tunecore.protocols import FINISHED, Searcher
from tunecore.space import flatten, grid_points, sample_config


class RandomSearcher(Searcher):
    """Random sampling with ``grid_search`` expansion, as Ray Tune's basic variant generator.

    The experiment asks for ``num_samples`` x (number of grid points) configs: the whole grid, repeated
    ``num_samples`` times, non-grid values sampled afresh each time. ``points_to_evaluate`` (possibly
    partial configs; missing values are sampled) are proposed first and count towards that total.
    """

    def __init__(self, points_to_evaluate: list[dict[str, Any]] | None = None) -> None:
        if points_to_evaluate is not None and not (
            isinstance(points_to_evaluate, list) and all(isinstance(p, dict) for p in points_to_evaluate)
        ):
            raise ValueError("points_to_evaluate must be a list of (possibly partial) config dicts")
        self.points_to_evaluate = [flatten(point) for point in points_to_evaluate or []]
        self._count = 0
        self._total = -1
        self._grid: list[dict[Any, Any]] = [{}]
        self._space: dict[str, Any] = {}
        self._rng: Any = None

    def setup(
        self, space: dict[str, Any], metric: str | None, mode: str | None, seed: int | None, num_samples: int = 1
    ) -> None:
        """Prepare the grid and a random generator seeded with ``seed``."""
        import numpy as np

        super().setup(space, metric, mode, seed, num_samples)
        self._space = space
        self._grid = grid_points(space)
        self._total = -1 if num_samples == -1 else num_samples * len(self._grid)
        self._rng = np.random.default_rng(seed)
        for point in self.points_to_evaluate:  # fail at setup, not in the middle of the run
            sample_config(space, np.random.default_rng(0), {**self._grid[0], **point})

    def suggest(self, trial_id: str) -> dict[str, Any] | object:
        """The next point to evaluate, else the next grid point with fresh random values."""
        if self._total != -1 and self._count >= self._total:
            return FINISHED
        fixed = dict(self._grid[self._count % len(self._grid)])
        if self._count < len(self.points_to_evaluate):
            fixed.update(self.points_to_evaluate[self._count])
        self._count += 1
        return sample_config(self._space, self._rng, fixed)

    def save(self) -> dict[str, Any]:
        """How many configs were proposed and the generator's state."""
        return {"count": self._count, "rng": self._rng.bit_generator.state}

    def restore(self, state: dict[str, Any]) -> None:
        """Continue the same sequence of configs."""
        self._count = state["count"]
        self._rng.bit_generator.state = state["rng"]
