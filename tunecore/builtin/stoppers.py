"""Built-in stoppers: max_iter, threshold, plateau, experiment_plateau, timeout."""

from __future__ import annotations

import math
import statistics
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from tunecore.options import finite_float
from tunecore.protocols import Stopper

_OPERATORS = (">=", "<=")


def _require_metric(component: str, metric: str | None) -> str:
    if not metric:
        raise ValueError(f"the {component} stopper needs a metric: set its 'metric' option or TuneConfig(metric=...)")
    return metric


class MaxIterStopper(Stopper):
    """Stop each trial after ``max_iter`` training iterations."""

    def __init__(self, max_iter: int) -> None:
        if not isinstance(max_iter, int) or isinstance(max_iter, bool) or max_iter < 1:
            raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
        self.max_iter = max_iter

    def should_stop(self, trial_id: str, result: dict[str, Any]) -> bool:
        """True once the trial reached ``max_iter`` iterations."""
        return result.get("training_iteration", 0) >= self.max_iter


class ThresholdStopper(Stopper):
    """Stop a trial once a metric crosses a value: ``>=`` (for maximised metrics) or ``<=``."""

    def __init__(self, value: float, metric: str | None = None, op: str | None = None) -> None:
        if op is not None and op not in _OPERATORS:
            raise ValueError(f"op must be '>=' or '<=', got {op!r}")
        if finite_float(value) is None:
            raise ValueError(f"value must be a finite number, got {value!r}")
        self.value = float(value)
        self._metric_option, self._op_option = metric, op
        self.op = op

    def setup(self, metric: str | None, mode: str | None) -> None:
        """Take the experiment's metric and, from its mode, the comparison when not given."""
        super().setup(metric, mode)
        self.metric = _require_metric("threshold", self._metric_option or metric)
        self.op = self._op_option or ("<=" if mode == "min" else ">=")

    def should_stop(self, trial_id: str, result: dict[str, Any]) -> bool:
        """True when the trial's metric crossed the threshold."""
        value = finite_float(result.get(self.metric))
        if value is None:
            return False
        return value >= self.value if self.op == ">=" else value <= self.value


class DictStopper(Stopper):
    """Ray Tune's ``stop={"metric": value}``: stop a trial once any named field reaches its value (>=)."""

    def __init__(self, criteria: dict[str, float]) -> None:
        for key, value in criteria.items():
            if finite_float(value) is None:
                raise ValueError(f"stop criterion {key!r} must be a finite number, got {value!r}")
        self.criteria = dict(criteria)

    def should_stop(self, trial_id: str, result: dict[str, Any]) -> bool:
        """True when any field of ``criteria`` is at or above its value."""
        for key, limit in self.criteria.items():
            value = finite_float(result.get(key))
            if value is not None and value >= limit:
                return True
        return False


class FunctionStopper(Stopper):
    """Ray Tune's ``stop=function``: stop a trial when ``func(trial_id, result)`` returns True."""

    def __init__(self, func: Callable[[str, dict[str, Any]], bool]) -> None:
        if not callable(func):
            raise ValueError(f"a stop function must be callable, got {type(func).__name__}")
        self.func = func

    def should_stop(self, trial_id: str, result: dict[str, Any]) -> bool:
        """What the function says."""
        return bool(self.func(trial_id, result))


class PlateauStopper(Stopper):
    """Stop a trial whose metric has stopped changing: the std of its last results is below ``std``."""

    def __init__(
        self,
        metric: str | None = None,
        std: float = 0.01,
        num_results: int = 4,
        grace_period: int = 4,
        metric_threshold: float | None = None,
        mode: str | None = None,
    ) -> None:
        if num_results < 2:
            raise ValueError(f"num_results must be at least 2, got {num_results}")
        if std < 0:
            raise ValueError(f"std must be >= 0, got {std}")
        if mode not in (None, "min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.std, self.num_results, self.grace_period = std, num_results, grace_period
        self.metric_threshold = metric_threshold
        self._metric_option, self._mode_option = metric, mode
        self._history: dict[str, deque[float]] = {}
        self._counts: dict[str, int] = {}

    def setup(self, metric: str | None, mode: str | None) -> None:
        """Take the experiment's metric and mode unless given as options."""
        self.metric = _require_metric("plateau", self._metric_option or metric)
        self.mode = self._mode_option or mode or "min"

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

    def __init__(
        self,
        metric: str | None = None,
        std: float = 0.001,
        top: int = 10,
        mode: str | None = None,
        patience: int = 0,
    ) -> None:
        if top < 2:
            raise ValueError(f"top must be at least 2, got {top}")
        if mode not in (None, "min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        if patience < 0:
            raise ValueError(f"patience must be >= 0, got {patience}")
        self.std, self.top, self.patience = std, top, patience
        self._metric_option, self._mode_option = metric, mode
        self._best: dict[str, float] = {}
        self._top: dict[str, float] = {}
        self._flat_results = 0

    def setup(self, metric: str | None, mode: str | None) -> None:
        """Take the experiment's metric and mode unless given as options."""
        self.metric = _require_metric("experiment_plateau", self._metric_option or metric)
        self.mode = self._mode_option or mode or "min"

    def should_stop(self, trial_id: str, result: dict[str, Any]) -> bool:
        """Track each trial's best value (never stops a single trial)."""
        value = finite_float(result.get(self.metric))
        if value is not None:
            self._record(trial_id, -value if self.mode == "min" else value)
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
        if finite_float(timeout_s) is None or timeout_s <= 0:
            raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
        self.timeout_s = float(timeout_s)
        self._elapsed_before = 0.0
        self._started: float | None = None

    def setup(self, metric: str | None, mode: str | None) -> None:
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
