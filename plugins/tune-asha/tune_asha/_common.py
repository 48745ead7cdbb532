"""What the schedulers share: option checks, the progress field, the metric and mode, and scores where higher
is better."""

from __future__ import annotations

import numbers
from typing import Any, TypeGuard

import tunecore
from tunecore.best import score
from tunecore.options import check_metric, check_mode, check_objective, check_text


class ProgressScheduler(tunecore.Scheduler):
    """A scheduler that reads a progress field, ``time_attr``, and metrics from results, with clear errors."""

    name = "scheduler"
    """The registered name, for messages."""

    def __init__(self, time_attr: str) -> None:
        check_text("time_attr", time_attr)  # raises unless a non-empty string (never returns None here)
        self.time_attr: str = time_attr

    def ready(self) -> bool:
        """True once ``setup`` has given the scheduler what it ranks by."""
        raise NotImplementedError

    def time_of(self, trial_id: str, result: dict[str, Any]) -> float:
        """The result's ``time_attr`` as a float (ValueError when it is missing or not a number)."""
        return float(self._field(trial_id, result, self.time_attr, "time_attr"))

    def has_time(self, result: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
        """True when ``result`` has a numeric ``time_attr``."""
        time = None if result is None else result.get(self.time_attr)
        return result is not None and isinstance(time, numbers.Real) and not isinstance(time, bool)

    def _field(self, trial_id: str, result: dict[str, Any], key: str, option: str) -> Any:
        if not self.ready():
            raise ValueError(f"the {self.name} scheduler was used before setup(metric, mode)")
        if key not in result:
            raise ValueError(
                f"the {self.name} scheduler's {option} {key!r} is not in the result of trial {trial_id};"
                f" it reported: {', '.join(sorted(result))}"
            )
        value = result[key]
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(
                f"the {self.name} scheduler's {option} {key!r} of trial {trial_id} must be a number, got {value!r}"
            )
        return value


class MetricScheduler(ProgressScheduler):
    """A scheduler that ranks trials by one metric: its own ``metric``/``mode`` options, else the TuneConfig's.

    Scores are oriented so that higher is better; NaN, infinite and non-numeric values score ``-inf``, the worst
    there is (:func:`tunecore.best.score`, the rule every first-party component uses).
    """

    def __init__(self, time_attr: str, metric: str | None, mode: str | None) -> None:
        super().__init__(time_attr)
        self._metric_option = check_metric(metric)
        self._mode_option = check_mode(mode)
        self.metric, self.mode = self._metric_option, self._mode_option

    def setup(self, metric: str | None, mode: str | None) -> None:
        """Take the experiment's metric and mode unless the scheduler's own options set them."""
        self.metric, self.mode = check_objective(
            f"the {self.name} scheduler", metric, mode, own_metric=self._metric_option, own_mode=self._mode_option
        )

    def ready(self) -> bool:
        """True once the mode is known (from the options or ``setup``)."""
        return self.mode is not None

    def score(self, trial_id: str, result: dict[str, Any]) -> float:
        """The result's metric oriented so that higher is better (:func:`tunecore.best.score`: NaN, ±inf and
        non-numbers give ``-inf``); a result without the metric is a ValueError."""
        if self.metric is None or self.mode is None:
            raise ValueError(f"the {self.name} scheduler was used before setup(metric, mode)")
        if self.metric not in result:
            self._field(trial_id, result, self.metric, "metric")  # raises, naming what the result has
        return score(result[self.metric], self.mode)

    def can_rank(self, result: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
        """True when ``result`` has a numeric ``time_attr`` and the metric (any value: :meth:`score` ranks odd
        ones worst), e.g. the last result of an ended trial."""
        return self.has_time(result) and self.metric is not None and self.metric in result
