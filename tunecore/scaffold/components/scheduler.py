"""A scheduler to start from: stop a trial that trails the best result at the same step."""

import math

import tunecore
from tunecore.best import score
from tunecore.options import check_int, check_mode, check_number, check_objective, check_text


class ExampleScheduler(tunecore.Scheduler):
    """Stops a trial whose score at a step trails the best score seen at that step by more than ``tolerance``.

    Options: ``grace_period`` (steps before a trial can be stopped), ``tolerance`` (in the metric's units),
    ``time_attr`` (the result field counting steps), and ``metric``/``mode`` (default: the experiment's).
    """

    def __init__(self, grace_period=1, tolerance=0.5, time_attr="training_iteration", metric=None, mode=None):
        self.grace_period = check_int("grace_period", grace_period, minimum=1)
        self.tolerance = check_number("tolerance", tolerance, strict=False)
        self.time_attr = check_text("time_attr", time_attr)
        self.own_metric, self.own_mode = check_text("metric", metric, optional=True), check_mode(mode)
        self.best = {}  # step -> best score seen at that step

    def setup(self, metric, mode):
        """The metric and mode: the scheduler's own options win over the experiment's."""
        self.metric, self.mode = check_objective(
            "the example scheduler", metric, mode, own_metric=self.own_metric, own_mode=self.own_mode
        )

    def on_trial_result(self, trial, result):
        step = result.get(self.time_attr)
        if not isinstance(step, (int, float)) or isinstance(step, bool):
            return tunecore.CONTINUE
        value = score(result.get(self.metric), self.mode)  # higher is better; NaN, inf, missing: -inf
        best = self.best.get(step, -math.inf)
        self.best[step] = max(best, value)
        if step >= self.grace_period and value < best - self.tolerance:
            return tunecore.STOP
        return tunecore.CONTINUE

    def save(self):
        return {"best": dict(self.best)}

    def restore(self, state):
        self.best = dict(state["best"])
