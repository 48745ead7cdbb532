"""The median stopping rule (Golovin et al. 2017, Google Vizier), with Ray Tune's MedianStoppingRule defaults."""

from __future__ import annotations

import bisect
import copy
import math
import statistics
from collections.abc import Sequence
from typing import Any

import attrs

import tunecore
from tune_asha._common import MetricScheduler
from tunecore.options import check_bool, check_int, check_number


@attrs.define
class History:
    """One trial's scores: the best so far and running sums from the grace period on."""

    best: float = -math.inf
    """Its best score (higher is better)."""
    last_time: float = -math.inf
    """The ``time_attr`` of its latest result."""
    last_iteration: int = -1
    """The ``training_iteration`` of its latest result (a result is counted once)."""
    times: list[float] = attrs.field(factory=list)
    """Times of its results at or after the grace period (non-decreasing)."""
    sums: list[float] = attrs.field(factory=lambda: [0.0])
    """``sums[k]``: the sum of the finite scores among the first k of those results."""
    worst: list[int] = attrs.field(factory=lambda: [0])
    """``worst[k]``: how many of the first k were NaN or infinite (score -inf)."""

    def add(self, time: float, score: float, iteration: int, grace_period: float) -> None:
        """Count one result."""
        self.best = max(self.best, score)
        self.last_time, self.last_iteration = time, iteration
        if time >= grace_period:
            finite = score != -math.inf
            self.times.append(time)
            self.sums.append(self.sums[-1] + (score if finite else 0.0))
            self.worst.append(self.worst[-1] + (not finite))

    def running_mean(self, until: float) -> float | None:
        """The mean score of its results from the grace period to ``until`` (None without any)."""
        count = bisect.bisect_right(self.times, until)
        if count == 0:
            return None
        return -math.inf if self.worst[count] else self.sums[count] / count


class MedianStoppingRule(MetricScheduler):
    """Stop a trial whose best result is worse than the median of the other trials' running means.

    At each result at or after ``grace_period`` (in units of ``time_attr``), the trial's best score so far is
    compared with the median, over the other trials that got at least as far, of their mean score between
    ``grace_period`` and the same time. Strictly worse: STOP, or PAUSE when ``hard_stop`` is false (paused
    trials run again, to their end, once no other trial is waiting). With fewer than
    ``min_samples_required`` such trials the trial continues, or yields (PAUSE) to a waiting trial when it
    ran more than ``min_time_slice`` since its last yield. NaN and infinite values count as the worst.
    """

    name = "median"

    def __init__(
        self,
        time_attr: str = "time_total_s",
        metric: str | None = None,
        mode: str | None = None,
        grace_period: float = 60.0,
        min_samples_required: int = 3,
        min_time_slice: float = 0,
        hard_stop: bool = True,
    ) -> None:
        super().__init__(time_attr, metric, mode)
        self.grace_period = check_number("grace_period", grace_period, strict=False)
        self.min_samples_required = check_int("min_samples_required", min_samples_required, minimum=1)
        self.min_time_slice = check_number("min_time_slice", min_time_slice, strict=False)
        self.hard_stop = check_bool("hard_stop", hard_stop)
        self.histories: dict[str, History] = {}
        self.stopped: set[str] = set()
        """Trials stopped (or, without ``hard_stop``, paused for good) by the rule."""
        self.yielded: set[str] = set()
        """Trials paused to let others run, waiting to be resumed."""
        self._last_yield: dict[str, float] = {}
        self._waiting: set[str] = set()
        """Trials waiting to run (pending), as the latest calls said: a trial can yield only to another."""

    def on_trial_add(self, trial: tunecore.Trial) -> None:
        """Note that the trial waits to run."""
        self._waiting.add(trial.trial_id)

    def on_trial_result(self, trial: tunecore.Trial, result: dict[str, Any]) -> tunecore.Decision:
        """STOP (or PAUSE) below the median; maybe yield with too few trials to compare with; else CONTINUE."""
        trial_id = trial.trial_id
        self._waiting.discard(trial_id)
        self.yielded.discard(trial_id)
        time = self._record(trial_id, result)
        if trial_id in self.stopped:  # paused by the rule and resumed at the end: it runs to its end
            return tunecore.CONTINUE
        if time < self.grace_period:
            return tunecore.CONTINUE
        others = [h for other, h in self.histories.items() if other != trial_id and h.last_time >= time]
        means = [mean for mean in (history.running_mean(time) for history in others) if mean is not None]
        if len(means) < self.min_samples_required:
            return self._maybe_yield(trial_id, time)
        if self.histories[trial_id].best < statistics.median(means):
            self.stopped.add(trial_id)
            return tunecore.STOP if self.hard_stop else tunecore.PAUSE
        return tunecore.CONTINUE

    def on_trial_complete(self, trial: tunecore.Trial, result: dict[str, Any] | None) -> None:
        """Count the trial's last result if it was not seen yet (a final ``done`` result)."""
        if self.can_rank(result):
            self._record(trial.trial_id, result)
        self._forget(trial.trial_id)

    def on_trial_error(self, trial: tunecore.Trial) -> None:
        """Its results keep counting for the median."""
        self._forget(trial.trial_id)

    def choose_trial_to_run(
        self, pending: Sequence[tunecore.Trial], paused: Sequence[tunecore.Trial]
    ) -> tunecore.Trial | None:
        """The first pending trial, else the first one that yielded, else one the rule paused (FIFO)."""
        self._waiting = {trial.trial_id for trial in pending}
        chosen: tunecore.Trial | None
        if pending:
            chosen = pending[0]
        else:
            chosen = next((trial for trial in paused if trial.trial_id in self.yielded), paused[0] if paused else None)
        if chosen is not None:
            self._waiting.discard(chosen.trial_id)
        return chosen

    def save(self) -> dict[str, Any]:
        """Every trial's history and which trials were stopped or yielded (live objects: pickle them at once)."""
        return {
            "histories": self.histories,
            "stopped": self.stopped,
            "yielded": self.yielded,
            "last_yield": self._last_yield,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from the state returned by :meth:`save`."""
        state = copy.deepcopy(state)
        self.histories, self.stopped = state["histories"], state["stopped"]
        self.yielded, self._last_yield = state["yielded"], state["last_yield"]

    def _record(self, trial_id: str, result: dict[str, Any]) -> float:
        time, score = self.time_of(trial_id, result), self.score(trial_id, result)
        history = self.histories.setdefault(trial_id, History())
        iteration = int(result.get("training_iteration", history.last_iteration + 1))
        if iteration > history.last_iteration:
            history.add(time, score, iteration, self.grace_period)
        return time

    def _maybe_yield(self, trial_id: str, time: float) -> tunecore.Decision:
        if time - self._last_yield.get(trial_id, -math.inf) <= self.min_time_slice or not self._others_waiting(
            trial_id
        ):
            return tunecore.CONTINUE
        self._last_yield[trial_id] = time
        self.yielded.add(trial_id)
        return tunecore.PAUSE

    def _others_waiting(self, trial_id: str) -> bool:
        if any(other != trial_id for other in self.yielded):
            return True
        return any(other != trial_id for other in self._waiting)

    def _forget(self, trial_id: str) -> None:
        self._waiting.discard(trial_id)
        self.yielded.discard(trial_id)
