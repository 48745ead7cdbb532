"""A searcher to start from: random sampling (replace ``propose`` with your algorithm)."""

import numpy as np
import tunecore
from tunecore.best import score
from tunecore.options import check_points
from tunecore.space import grid_points, point_values, points_within, sample_config, walk_space


class ExampleSearcher(tunecore.Searcher):
    """Proposes random configs: each ``grid_search`` value once per sample, ``points_to_evaluate`` first.

    Options: ``points_to_evaluate``, configs (possibly partial) to try before sampling.
    """

    def __init__(self, points_to_evaluate=None):
        self.points_to_evaluate = check_points(points_to_evaluate)  # a clear ValueError for a bad value
        self.scores = {}  # trial_id -> score (higher is better) of its last result, for your algorithm

    def setup(self, space, metric, mode, seed, num_samples=1):
        """Called once before the first suggest(): the space, the experiment's metric, mode and seed."""
        super().setup(space, metric, mode, seed, num_samples)
        self.space, self.rng, self.count = space, np.random.default_rng(seed), 0
        names = {param.path: param.name for param in walk_space(space)}
        self.grid = [{names[path]: value for path, value in point.items()} for point in grid_points(space)]
        points = [point_values(space, p, f"points_to_evaluate[{i}]") for i, p in enumerate(self.points_to_evaluate)]
        self.points = points_within(points, num_samples)  # each point counts as one of the samples
        self.total = -1 if num_samples == -1 else num_samples * len(self.grid)

    def suggest(self, trial_id):
        """The next config; ``tunecore.FINISHED`` when there is none (``None`` would mean "not now")."""
        if self.total != -1 and self.count >= self.total:
            return tunecore.FINISHED
        fixed = dict(self.grid[self.count % len(self.grid)])  # values by "a/b" name that the sample keeps
        if self.count < len(self.points):
            fixed.update(self.points[self.count])
        self.count += 1
        return self.propose(fixed)

    def propose(self, fixed):
        """A config of the space with the ``fixed`` values: your algorithm goes here."""
        return sample_config(self.space, self.rng, fixed)

    def on_trial_complete(self, trial_id, result=None, error=False):
        """A trial ended: its last result (None when it reported none)."""
        if result is not None and isinstance(self.metric, str):
            self.scores[trial_id] = score(result.get(self.metric), self.mode)  # NaN, inf, missing: -inf

    def save(self):
        """Everything the proposals depend on (picklable): a resumed experiment continues the same sequence."""
        return {"count": self.count, "rng": self.rng.bit_generator.state, "scores": dict(self.scores)}

    def restore(self, state):
        self.count, self.scores = state["count"], dict(state["scores"])
        self.rng.bit_generator.state = state["rng"]
