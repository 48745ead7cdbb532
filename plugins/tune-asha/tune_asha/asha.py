"""Asynchronous successive halving (ASHA, Li et al. 2020), with Ray Tune's AsyncHyperBandScheduler defaults."""

from __future__ import annotations

import bisect
import copy
import math
from typing import Any, Generic, Protocol, TypeGuard, TypeVar

import attrs

import tunecore
from tune_asha._common import MetricScheduler
from tunecore.options import check_bool, check_int, check_number

TOLERANCE = 1e-9
"""Relative slack when comparing times with rung levels computed in floating point."""


def rung_levels(grace_period: float, max_t: float, reduction_factor: float) -> list[float]:
    """``grace_period * reduction_factor**k`` for every k that keeps the level at or below ``max_t``."""
    levels = [grace_period]
    while levels[-1] * reduction_factor <= max_t * (1 + TOLERANCE):
        levels.append(levels[-1] * reduction_factor)
    return levels


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile of sorted ``values``, interpolated linearly (numpy's default); -inf stays -inf."""
    position = (len(values) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(values) - 1)
    fraction = position - low
    if fraction == 0 or values[low] == values[high] or values[low] == -math.inf:
        return values[low]
    return values[low] + fraction * (values[high] - values[low])


@attrs.define
class Rung:
    """One rung of a bracket: its level of ``time_attr`` and the scores recorded there."""

    level: float
    """The value of ``time_attr`` at which trials are judged."""
    scores: list[float] = attrs.field(factory=list)
    """Scores recorded at this rung, sorted ascending (higher is better)."""
    trials: set[str] = attrs.field(factory=set)
    """Trials judged at this rung."""

    def judge(self, trial_id: str, score: float, reduction_factor: float) -> bool:
        """Record the trial's score; True when it is in the top ``1/reduction_factor`` of those before it."""
        cutoff = quantile(self.scores, 1 - 1 / reduction_factor) if self.scores else None
        bisect.insort(self.scores, score)
        self.trials.add(trial_id)
        return cutoff is None or score >= cutoff


S = TypeVar("S")
S_contra = TypeVar("S_contra", contravariant=True)


class Judge(Protocol[S_contra]):
    """A rung as a bracket sees it: its level, the trials judged there, and the rule that judges one more."""

    level: float
    trials: set[str]

    def judge(self, trial_id: str, score: S_contra, reduction_factor: float) -> bool:
        """Record the trial's score at this rung; True to let it continue."""
        ...


@attrs.define
class Bracket(Generic[S]):
    """Rungs at ``grace_period * reduction_factor**(k + offset)``, each recording the trials that reach it."""

    rungs: list[Judge[S]]
    """Ascending levels."""

    def on_result(self, trial_id: str, time: float, score: S, reduction_factor: float) -> bool:
        """Judge the trial at the highest rung it reached, once per rung; True to let it continue."""
        reached = [rung for rung in self.rungs if time >= rung.level * (1 - TOLERANCE)]
        if not reached or trial_id in reached[-1].trials:
            return True
        return reached[-1].judge(trial_id, score, reduction_factor)


class SuccessiveHalving(tunecore.Scheduler, Generic[S]):
    """ASHA's machinery, whatever a score is: rungs, brackets, STOP at a rung or at ``max_t``, save/restore.

    A subclass says what a result's score is (:meth:`rung_score`, :meth:`rankable`, :meth:`time_of`) and which
    rung judges it (:meth:`new_rung`): :class:`AsyncHyperBandScheduler` ranks one metric, ``mo_asha``
    (:class:`tune_asha.mo_asha.MOASHAScheduler`) several.
    """

    def __init__(
        self, max_t: float, grace_period: float, reduction_factor: float, brackets: int, stop_last_trials: bool
    ) -> None:
        self.max_t = check_number("max_t", max_t)
        self.grace_period = check_number("grace_period", grace_period)
        if self.grace_period > self.max_t:
            raise ValueError(f"grace_period ({grace_period!r}) must be at most max_t ({max_t!r})")
        self.reduction_factor = check_number("reduction_factor", reduction_factor, minimum=1)
        levels = rung_levels(self.grace_period, self.max_t, self.reduction_factor)
        check_int("brackets", brackets, minimum=1)
        if brackets > len(levels):
            raise ValueError(
                f"brackets must be at most the number of rungs ({len(levels)} for grace_period={grace_period!r},"
                f" max_t={max_t!r}, reduction_factor={reduction_factor!r}), got {brackets!r}"
            )
        self.stop_last_trials = check_bool("stop_last_trials", stop_last_trials)
        self.brackets: list[Bracket[S]] = [
            Bracket([self.new_rung(level) for level in levels[offset:]]) for offset in range(brackets)
        ]
        most = len(levels)
        self._weights = [math.exp(len(bracket.rungs) - most) for bracket in self.brackets]
        self._counts = [0] * brackets
        self._bracket_of: dict[str, int] = {}

    def new_rung(self, level: float) -> Judge[S]:
        """An empty rung at ``level``."""
        raise NotImplementedError

    def time_of(self, trial_id: str, result: dict[str, Any]) -> float:
        """The result's ``time_attr`` (ValueError when it is missing or not a number)."""
        raise NotImplementedError

    def rung_score(self, trial_id: str, result: dict[str, Any]) -> S:
        """What a rung ranks the result by (ValueError when the result lacks a metric)."""
        raise NotImplementedError

    def rankable(self, result: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
        """True when ``result`` has what :meth:`time_of` and :meth:`rung_score` need (the last result of an
        ended trial may not)."""
        raise NotImplementedError

    def on_trial_add(self, trial: tunecore.Trial) -> None:
        """Put the trial in the bracket furthest below its share of the trials."""
        self._assign(trial.trial_id)

    def on_trial_result(self, trial: tunecore.Trial, result: dict[str, Any]) -> tunecore.Decision:
        """STOP at ``max_t`` (when ``stop_last_trials``) or at a rung where the trial is not in the top."""
        trial_id = trial.trial_id
        time, score = self.time_of(trial_id, result), self.rung_score(trial_id, result)
        if self.stop_last_trials and time >= self.max_t:
            return tunecore.STOP
        bracket = self.brackets[self._assign(trial_id)]
        return tunecore.CONTINUE if bracket.on_result(trial_id, time, score, self.reduction_factor) else tunecore.STOP

    def on_trial_complete(self, trial: tunecore.Trial, result: dict[str, Any] | None) -> None:
        """Record the trial's last result at the rung it reached (it may not have been judged there yet)."""
        index = self._bracket_of.pop(trial.trial_id, None)
        if index is not None and self.rankable(result):
            time, score = self.time_of(trial.trial_id, result), self.rung_score(trial.trial_id, result)
            self.brackets[index].on_result(trial.trial_id, time, score, self.reduction_factor)

    def on_trial_error(self, trial: tunecore.Trial) -> None:
        """Forget the trial; what it recorded at rungs stays."""
        self._bracket_of.pop(trial.trial_id, None)

    def save(self) -> dict[str, Any]:
        """The rungs' records and the bracket of each unfinished trial (live objects: pickle them at once)."""
        return {"brackets": self.brackets, "counts": self._counts, "bracket_of": self._bracket_of}

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from the state returned by :meth:`save`."""
        state = copy.deepcopy(state)
        self.brackets, self._counts, self._bracket_of = state["brackets"], state["counts"], state["bracket_of"]

    def _assign(self, trial_id: str) -> int:
        index = self._bracket_of.get(trial_id)
        if index is None:
            index = min(range(len(self.brackets)), key=lambda b: (self._counts[b] + 1) / self._weights[b])
            self._counts[index] += 1
            self._bracket_of[trial_id] = index
        return index


class AsyncHyperBandScheduler(MetricScheduler, SuccessiveHalving[float]):
    """Asynchronous successive halving: stop a trial at a rung unless it is in the top 1/reduction_factor there.

    Rungs sit at ``grace_period * reduction_factor**k`` (in units of ``time_attr``) up to ``max_t``. A trial
    reaching a rung is compared with the results recorded at that rung so far: it continues when its score is
    at least the ``1 - 1/reduction_factor`` quantile of them (the first trial at a rung always continues), else
    it is stopped. Trials reaching ``max_t`` are stopped when ``stop_last_trials``. With ``brackets`` > 1, bracket
    b skips the first b rungs; trials are spread over brackets in proportion to ``e**(rungs - most rungs)``,
    deterministically (as Ray's weights, without its random draw). NaN and infinite values rank last.
    """

    name = "asha"

    def __init__(
        self,
        time_attr: str = "training_iteration",
        metric: str | None = None,
        mode: str | None = None,
        max_t: float = 100,
        grace_period: float = 1,
        reduction_factor: float = 4,
        brackets: int = 1,
        stop_last_trials: bool = True,
    ) -> None:
        MetricScheduler.__init__(self, time_attr, metric, mode)
        SuccessiveHalving.__init__(self, max_t, grace_period, reduction_factor, brackets, stop_last_trials)

    def new_rung(self, level: float) -> Rung:
        """An empty :class:`Rung`: the quantile rule."""
        return Rung(level)

    def rung_score(self, trial_id: str, result: dict[str, Any]) -> float:
        """The metric's score (:meth:`MetricScheduler.score`)."""
        return self.score(trial_id, result)

    def rankable(self, result: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
        """:meth:`MetricScheduler.can_rank`."""
        return self.can_rank(result)


ASHAScheduler = AsyncHyperBandScheduler
"""Ray Tune's other name for :class:`AsyncHyperBandScheduler` (the same class)."""
