"""Built-in stoppers: max_iter, threshold, plateau, experiment_plateau, timeout.

``RunConfig.stop``'s dict and function forms live in the core, :mod:`tunecore.stopping`; ``DictStopper`` and
``FunctionStopper`` are re-exported here for compatibility.
"""

from __future__ import annotations

import math
import statistics
import time
from collections import deque
from typing import Any

from tunecore.best import score
from tunecore.options import (
    check_choice,
    check_int,
    check_mode,
    check_number,
    check_objective,
    check_text,
    finite_float,
)
from tunecore.protocols import Stopper
from tunecore.stopping import DictStopper, FunctionStopper

__all__ = [
    "DictStopper",
    "ExperimentPlateauStopper",
    "FunctionStopper",
    "MaxIterStopper",
    "PlateauStopper",
    "ThresholdStopper",
    "TimeoutStopper",
]

_OPERATORS = (">=", "<=")


class MaxIterStopper(Stopper):
    """Stop each trial after ``max_iter`` training iterations."""

    def __init__(self, max_iter: int) -> None:
        self.max_iter = check_int("max_iter", max_iter, minimum=1)

    def should_stop(self, trial_id: str, result: dict[str, Any]) -> bool:
        """True once the trial reached ``max_iter`` iterations."""
        return result.get("training_iteration", 0) >= self.max_iter


class ThresholdStopper(Stopper):
    """Stop a trial once a metric crosses a value: ``>=`` (for maximised metrics) or ``<=``."""

    metric: str
    """The metric watched (set by :meth:`setup`)."""
    mode: str
    """``"min"`` or ``"max"`` (set by :meth:`setup`)."""

    def __init__(self, value: float, metric: str | None = None, op: str | None = None) -> None:
        if op is not None:
            check_choice("op", op, _OPERATORS)
        self.value = check_number("value", value, minimum=-math.inf, strict=False)
        self._metric_option, self._op_option = check_text("metric", metric, optional=True), op
        self.op = op

    def setup(self, metric: str | list[str] | None, mode: str | list[str] | None) -> None:
        """Take the experiment's metric and, from its mode, the comparison when not given (``>=`` without one)."""
        self.metric, self.mode = check_objective(
            "the threshold stopper", metric, mode, own_metric=self._metric_option, default_mode="max", purpose="watch"
        )
        self.op = self._op_option or ("<=" if self.mode == "min" else ">=")

    def should_stop(self, trial_id: str, result: dict[str, Any]) -> bool:
        """True when the trial's metric crossed the threshold."""
        value = finite_float(result.get(self.metric))
        if value is None:
            return False
        return value >= self.value if self.op == ">=" else value <= self.value


class PlateauStopper(Stopper):
    """Stop a trial whose metric has stopped changing: the std of its last results is below ``std``."""

    metric: str
    """The metric watched (set by :meth:`setup`)."""
    mode: str
    """``"min"`` or ``"max"`` (set by :meth:`setup`)."""

    def __init__(
        self,
        metric: str | None = None,
        std: float = 0.01,
        num_results: int = 4,
        grace_period: int = 4,
        metric_threshold: float | None = None,
        mode: str | None = None,
    ) -> None:
        self.std = check_number("std", std, strict=False)
        self.num_results = check_int("num_results", num_results, minimum=2)
        self.grace_period = check_int("grace_period", grace_period, minimum=0)
        self.metric_threshold = (
            None if metric_threshold is None else check_number("metric_threshold", metric_threshold, minimum=-math.inf)
        )
        self._metric_option, self._mode_option = check_text("metric", metric, optional=True), check_mode(mode)
        self._history: dict[str, deque[float]] = {}
        self._counts: dict[str, int] = {}

    def setup(self, metric: str | list[str] | None, mode: str | list[str] | None) -> None:
        """Take the experiment's metric and mode unless given as options."""
        self.metric, self.mode = check_objective(
            "the plateau stopper",
            metric,
            mode,
            own_metric=self._metric_option,
            own_mode=self._mode_option,
            default_mode="min",
            purpose="watch",
        )

    def should_stop(self, trial_id: str, result: dict[str, Any]) -> bool:
        """True when the last ``num_results`` values vary less than ``std`` (after the grace period)."""
        value = finite_float(result.get(self.metric))
        if value is None:
            return False
        count = self._counts[trial_id] = self._counts.get(trial_id, 0) + 1
        history = self._history.setdefault(trial_id, deque(maxlen=self.num_results))
        history.append(value)
        if count < self.grace_period or len(history) < self.num_results:
            return False
        if self.metric_threshold is not None:
            good_enough = value <= self.metric_threshold if self.mode == "min" else value >= self.metric_threshold
            if not good_enough:
                return False
        return statistics.pstdev(history) < self.std

    def save(self) -> Any:
        """The recent values and counts of every trial."""
        return {"history": {k: list(v) for k, v in self._history.items()}, "counts": dict(self._counts)}

    def restore(self, state: Any) -> None:
        """Restore what :meth:`save` returned."""
        self._history = {k: deque(v, maxlen=self.num_results) for k, v in state["history"].items()}
        self._counts = dict(state["counts"])


class ExperimentPlateauStopper(Stopper):
    """Stop the experiment when the best values of the ``top`` best trials vary less than ``std``.

    The check runs after every result; the experiment stops once it held for more than ``patience``
    consecutive results.
    """

    metric: str
    """The metric watched (set by :meth:`setup`)."""
    mode: str
    """``"min"`` or ``"max"`` (set by :meth:`setup`)."""

    def __init__(
        self,
        metric: str | None = None,
        std: float = 0.001,
        top: int = 10,
        mode: str | None = None,
        patience: int = 0,
    ) -> None:
        self.std = check_number("std", std, strict=False)
        self.top = check_int("top", top, minimum=2)
        self.patience = check_int("patience", patience, minimum=0)
        self._metric_option, self._mode_option = check_text("metric", metric, optional=True), check_mode(mode)
        self._best: dict[str, float] = {}
        self._top: dict[str, float] = {}
        self._flat_results = 0

    def setup(self, metric: str | list[str] | None, mode: str | list[str] | None) -> None:
        """Take the experiment's metric and mode unless given as options."""
        self.metric, self.mode = check_objective(
            "the experiment_plateau stopper",
            metric,
            mode,
            own_metric=self._metric_option,
            own_mode=self._mode_option,
            default_mode="min",
            purpose="watch",
        )

    def should_stop(self, trial_id: str, result: dict[str, Any]) -> bool:
        """Track each trial's best value (never stops a single trial)."""
        value = score(result.get(self.metric), self.mode)  # -inf for NaN, ±inf, non-numbers: never recorded
        if value != -math.inf:
            self._record(trial_id, value)
        plateaued = len(self._top) >= self.top and statistics.pstdev(self._top.values()) <= self.std
        self._flat_results = self._flat_results + 1 if plateaued else 0
        return False

    def _record(self, trial_id: str, score: float) -> None:
        # Each trial's best only improves, so the top set changes only when the improving trial is in
        # it or beats its weakest member: O(top) per result, independent of the number of trials.
        if score <= self._best.get(trial_id, -math.inf):
            return
        self._best[trial_id] = score
        if trial_id in self._top or len(self._top) < self.top:
            self._top[trial_id] = score
            return
        weakest = min(self._top, key=self._top.__getitem__)
        if score > self._top[weakest]:
            del self._top[weakest]
            self._top[trial_id] = score

    def stop_all(self) -> bool:
        """True once the top values have been flat for more than ``patience`` results."""
        return self._flat_results > self.patience

    def save(self) -> Any:
        """Best values, the top set and the plateau counter."""
        return {"best": dict(self._best), "top": dict(self._top), "flat": self._flat_results}

    def restore(self, state: Any) -> None:
        """Restore what :meth:`save` returned."""
        self._best, self._top, self._flat_results = dict(state["best"]), dict(state["top"]), state["flat"]


class TimeoutStopper(Stopper):
    """Stop the whole experiment after ``timeout_s`` seconds of running (time before a resume counts)."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = check_number("timeout_s", timeout_s)
        self._elapsed_before = 0.0
        self._started: float | None = None

    def setup(self, metric: str | list[str] | None, mode: str | list[str] | None) -> None:
        """Start the clock."""
        super().setup(metric, mode)
        self._started = time.monotonic()

    def elapsed(self) -> float:
        """Seconds counted so far."""
        running = time.monotonic() - self._started if self._started is not None else 0.0
        return self._elapsed_before + running

    def stop_all(self) -> bool:
        """True once the time is up."""
        return self.elapsed() >= self.timeout_s

    def save(self) -> Any:
        """The seconds used so far."""
        return {"elapsed": self.elapsed()}

    def restore(self, state: Any) -> None:
        """Continue counting from the saved seconds."""
        self._elapsed_before = float(state["elapsed"])
        self._started = time.monotonic()
