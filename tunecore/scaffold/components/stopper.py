"""A stopper to start from: stop a trial after ``patience`` results without improving."""

import tunecore
from tunecore.best import score
from tunecore.options import check_int, check_mode, check_objective, check_text


class ExampleStopper(tunecore.Stopper):
    """Stops a trial after ``patience`` results without improving its best value.

    Options: ``patience`` (results), ``metric``/``mode`` (default: the experiment's; mode ``min`` if none).
    """

    def __init__(self, patience=3, metric=None, mode=None):
        self.patience = check_int("patience", patience, minimum=1)
        self.own_metric, self.own_mode = check_text("metric", metric, optional=True), check_mode(mode)
        self.best, self.waiting = {}, {}

    def setup(self, metric, mode):
        self.metric, self.mode = check_objective(
            "the example stopper",
            metric,
            mode,
            own_metric=self.own_metric,
            own_mode=self.own_mode,
            default_mode="min",
            purpose="watch",
        )

    def should_stop(self, trial_id, result):
        value = score(result.get(self.metric), self.mode)  # higher is better; NaN, inf, missing: -inf
        if value > self.best.get(trial_id, float("-inf")):
            self.best[trial_id], self.waiting[trial_id] = value, 0
            return False
        self.waiting[trial_id] = self.waiting.get(trial_id, 0) + 1
        return self.waiting[trial_id] >= self.patience

    def save(self):
        return {"best": dict(self.best), "waiting": dict(self.waiting)}

    def restore(self, state):
        self.best, self.waiting = dict(state["best"]), dict(state["waiting"])
