"""Synchronous HyperBand (Li et al. 2018): successive halving in brackets, trials paused at each rung."""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from typing import Any

import attrs

import tunecore
from tune_asha._common import MetricScheduler
from tunecore.options import check_bool, check_number

TOLERANCE = 1e-9
"""Slack for floor/ceil and comparisons of budgets computed in floating point."""


def hyperband_brackets(max_t: float, reduction_factor: float) -> list[list[tuple[int, float]]]:
    """The brackets of one HyperBand iteration, s = s_max ... 0, each a list of rungs ``(n_i, r_i)``.

    As in Algorithm 1 of Li et al. (2018) with R = ``max_t`` and eta = ``reduction_factor``: bracket s starts
    ``n = ceil((s_max + 1) / (s + 1) * eta**s)`` trials with budget ``r = R / eta**s``; rung i keeps
    ``floor(n / eta**i)`` of them and runs them to ``r * eta**i``.
    """
    eta = reduction_factor
    s_max = 0
    while eta ** (s_max + 1) <= max_t * (1 + TOLERANCE):
        s_max += 1
    brackets = []
    for s in range(s_max, -1, -1):
        n = math.ceil((s_max + 1) * eta**s / (s + 1) - TOLERANCE)
        brackets.append([(math.floor(n / eta**i + TOLERANCE), max_t / eta ** (s - i)) for i in range(s + 1)])
    return brackets


@attrs.define
class Bracket:
    """One run of successive halving: the trials it took and where they are in the race."""

    size: int
    """How many trials it takes (n of the paper)."""
    budgets: list[float]
    """The rungs' budgets r_0 < ... < r_s in units of ``time_attr``; the last is ``max_t``."""
    rung: int = 0
    """The rung the live trials are running to."""
    trials: list[str] = attrs.field(factory=list)
    """Every trial it took, in order."""
    live: set[str] = attrs.field(factory=set)
    """Trials still in the race: not ended, not eliminated, not past the last rung."""
    arrived: dict[str, float] = attrs.field(factory=dict)
    """Live trials that reached the current rung, with their score there (insertion = arrival order)."""
    reached: dict[str, float] = attrs.field(factory=dict)
    """The ``time_attr`` of each trial in :attr:`arrived` when it arrived (it may be past later rungs)."""
    to_resume: list[str] = attrs.field(factory=list)
    """Trials promoted at the last completed rung that are paused, waiting to be resumed."""
    closed: bool = False
    """True once no more trials will join (full, or the searcher had none to give)."""

    @property
    def accepts(self) -> bool:
        """True while new trials may join."""
        return not self.closed and len(self.trials) < self.size

    def add(self, trial_id: str) -> None:
        """A new trial joins the race at rung 0."""
        self.trials.append(trial_id)
        self.live.add(trial_id)
        if len(self.trials) >= self.size:
            self.closed = True

    def leave(self, trial_id: str) -> None:
        """The trial is out of the race (ended, failed, eliminated or done with the last rung)."""
        self.live.discard(trial_id)
        self.arrived.pop(trial_id, None)
        self.reached.pop(trial_id, None)
        if trial_id in self.to_resume:
            self.to_resume.remove(trial_id)

    @property
    def rung_complete(self) -> bool:
        """True when no trial will join and every live trial reached the current rung."""
        return self.closed and bool(self.live) and len(self.arrived) == len(self.live)

    def arrive(self, trial_id: str, time: float, score: float) -> None:
        """The live trial reached the current rung's budget with this ``time_attr`` and score."""
        self.arrived[trial_id] = score
        self.reached[trial_id] = time

    def promote(self, reduction_factor: float, stop_last_trials: bool) -> None:
        """Keep the best ``max(1, floor(arrived / eta))`` (earlier arrival wins ties); the rest leave the race.

        A kept trial already at or past the next budget does not run again: it arrives there at once (as in
        Ray, "too far ahead"), or, at the last rung, leaves the race when ``stop_last_trials``. The others are
        to be resumed.
        """
        ranked = sorted(self.arrived, key=self.arrived.__getitem__, reverse=True)
        keep = max(1, math.floor(len(ranked) / reduction_factor + TOLERANCE))
        for trial_id in ranked[keep:]:
            self.leave(trial_id)
        arrived, reached = self.arrived, self.reached
        self.arrived, self.reached, self.to_resume = {}, {}, []
        self.rung += 1
        last = self.rung == len(self.budgets) - 1
        for trial_id in ranked[:keep]:
            if reached[trial_id] < self.budgets[self.rung] * (1 - TOLERANCE):
                self.to_resume.append(trial_id)
            elif not last:
                self.arrive(trial_id, reached[trial_id], arrived[trial_id])
            elif stop_last_trials:
                self.leave(trial_id)
            else:  # it runs to its own end
                self.to_resume.append(trial_id)


class HyperBandScheduler(MetricScheduler):
    """Synchronous HyperBand: brackets of successive halving, trials PAUSED at each rung until it is complete.

    New trials fill brackets s = s_max ... 0 in turn (then again from s_max), sized and budgeted as in the
    paper (see :func:`hyperband_brackets`). A trial runs to its bracket's current budget and pauses there.
    Once no more trials will join the bracket and every live trial in it has reached the rung (or ended,
    or failed), the best ``1/reduction_factor`` are resumed from their checkpoints and the rest are left
    paused for good. Trials reaching ``max_t`` are stopped when ``stop_last_trials``. A bracket takes no
    more trials once the searcher has none to give while the scheduler is asked for one to run, so
    searchers that run out never leave a rung waiting. Needs a trainable that saves checkpoints.
    """

    name = "hyperband"

    def __init__(
        self,
        time_attr: str = "training_iteration",
        metric: str | None = None,
        mode: str | None = None,
        max_t: float = 81,
        reduction_factor: float = 3,
        stop_last_trials: bool = True,
    ) -> None:
        super().__init__(time_attr, metric, mode)
        self.max_t = check_number("max_t", max_t)
        self.reduction_factor = check_number("reduction_factor", reduction_factor, minimum=1)
        self.stop_last_trials = check_bool("stop_last_trials", stop_last_trials)
        self.schedule = hyperband_brackets(self.max_t, self.reduction_factor)
        self.brackets: list[Bracket] = []
        self._bracket_of: dict[str, int] = {}

    def on_trial_add(self, trial: tunecore.Trial) -> None:
        """The trial joins the bracket being filled (a new one when that is closed)."""
        if not self.brackets or not self.brackets[-1].accepts:
            rungs = self.schedule[len(self.brackets) % len(self.schedule)]
            self.brackets.append(Bracket(size=rungs[0][0], budgets=[budget for _, budget in rungs]))
        self._bracket_of[trial.trial_id] = len(self.brackets) - 1
        self.brackets[-1].add(trial.trial_id)

    def on_trial_result(self, trial: tunecore.Trial, result: dict[str, Any]) -> tunecore.Decision:
        """CONTINUE below the rung's budget; at it, PAUSE until the rung is complete, then CONTINUE or STOP."""
        trial_id = trial.trial_id
        time, score = self.time_of(trial_id, result), self.score(trial_id, result)
        bracket = self._bracket(trial_id)
        if bracket is None or trial_id not in bracket.live:  # e.g. past max_t without stop_last_trials
            return tunecore.CONTINUE
        if trial_id in bracket.to_resume:
            bracket.to_resume.remove(trial_id)
        if time < bracket.budgets[bracket.rung] * (1 - TOLERANCE):
            return tunecore.CONTINUE
        if bracket.rung == len(bracket.budgets) - 1:
            bracket.leave(trial_id)
            return tunecore.STOP if self.stop_last_trials else tunecore.CONTINUE
        bracket.arrive(trial_id, time, score)
        self._advance(bracket)
        if trial_id in bracket.to_resume:
            bracket.to_resume.remove(trial_id)  # it is running: no need to pause it
            return tunecore.CONTINUE
        return tunecore.PAUSE if trial_id in bracket.arrived else tunecore.STOP

    def on_trial_complete(self, trial: tunecore.Trial, result: dict[str, Any] | None) -> None:
        """The trial leaves its bracket's race, which may complete the rung."""
        self._leave(trial.trial_id)

    def on_trial_error(self, trial: tunecore.Trial) -> None:
        """The trial leaves its bracket's race, which may complete the rung."""
        self._leave(trial.trial_id)

    def choose_trial_to_run(
        self, pending: Sequence[tunecore.Trial], paused: Sequence[tunecore.Trial]
    ) -> tunecore.Trial | None:
        """A promoted paused trial first (oldest bracket first), else the first pending trial.

        With nothing pending the searcher had no trial to give, so the bracket being filled takes no more:
        its rung may complete and promote trials to resume.
        """
        chosen = self._promoted(paused)
        if chosen is not None or pending:
            return chosen or pending[0]
        if self.brackets and not self.brackets[-1].closed:
            self.brackets[-1].closed = True
            self._advance(self.brackets[-1])
        return self._promoted(paused)

    def choose_trials_to_stop(self, paused: Sequence[tunecore.Trial]) -> list[tunecore.Trial]:
        """Paused trials eliminated at their rung: they will not be resumed."""
        stopped = []
        for trial in paused:
            bracket = self._bracket(trial.trial_id)
            if bracket is not None and trial.trial_id not in bracket.live:
                stopped.append(trial)
        return stopped

    def save(self) -> dict[str, Any]:
        """Every bracket's state and the bracket of each trial (live objects: pickle them at once)."""
        return {"brackets": self.brackets, "bracket_of": self._bracket_of}

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from the state returned by :meth:`save`."""
        state = copy.deepcopy(state)
        self.brackets, self._bracket_of = state["brackets"], state["bracket_of"]

    def _bracket(self, trial_id: str) -> Bracket | None:
        index = self._bracket_of.get(trial_id)
        return None if index is None else self.brackets[index]

    def _leave(self, trial_id: str) -> None:
        bracket = self._bracket(trial_id)
        if bracket is not None and trial_id in bracket.live:
            bracket.leave(trial_id)
            self._advance(bracket)

    def _advance(self, bracket: Bracket) -> None:
        while bracket.rung_complete:  # trials already past the next budget may complete it at once
            bracket.promote(self.reduction_factor, self.stop_last_trials)

    def _promoted(self, paused: Sequence[tunecore.Trial]) -> tunecore.Trial | None:
        waiting = {trial.trial_id: trial for trial in paused}
        for bracket in self.brackets:
            for trial_id in bracket.to_resume:
                if trial_id in waiting:
                    return waiting[trial_id]
        return None
