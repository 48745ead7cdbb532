"""Telling, from the trials alone, that BOHB runs without a multi-fidelity scheduler.

A searcher is not told which scheduler the experiment has (``Searcher.setup`` receives the space, metric,
mode, seed and ``num_samples`` only), so the ``bohb`` searcher judges by what it sees. Under HyperBand or ASHA
some trials end at a lower budget than others; under a scheduler that runs every trial to its end (``fifo``)
they all end at the same budget. The evidence is conclusive only once no trial is still running: a trial
paused by synchronous HyperBand, or still climbing ASHA's rungs, may yet go further. So the searcher warns,
once, when nothing is pending and every trial that ended did so at one and the same budget, after
:data:`EVIDENCE` such trials — or :data:`LAST_EVIDENCE` when it has proposed its last trial (the end of the
experiment). One trial ending at another budget settles it for good: no warning, ever.
"""

from __future__ import annotations

from typing import Any

import attrs

EVIDENCE = 10
"""Trials ended at one budget, none pending, before the warning (ASHA, run one trial at a time, lets each new
trial past its first rung only when it ranks in the top third there: the first 10 trials all passing it is
rarer than 1 in 10,000)."""
LAST_EVIDENCE = 3
"""The same, once the searcher has proposed its last trial."""


def message(count: int, time_attr: str, budget: float) -> str:
    """The warning: what was seen, why it matters and what to do."""
    return (
        f"the bohb searcher saw {count} trials end, all at {time_attr}={budget:g}: the experiment's scheduler"
        " does not stop trials early, so BOHB models full-budget results only, like TPE. Use it with a"
        " multi-fidelity scheduler on the same time_attr, TuneConfig(scheduler='hyperband') or scheduler='asha'"
        " (tune-asha), or choose another searcher ('optuna', 'hyperopt') for full-budget search"
    )


@attrs.define
class FidelityCheck:
    """The evidence so far: the budgets trials ended at, and whether the warning was given."""

    ended: dict[float, int] = attrs.field(factory=dict)
    """Budget -> how many trials ended there (their highest ``time_attr``)."""
    reached: dict[str, float] = attrs.field(factory=dict)
    """Trial id -> the highest budget it reported, while it runs."""
    warned: bool = False
    """The warning was given (or can never be: trials ended at different budgets)."""

    def result(self, trial_id: str, budget: float | None) -> None:
        """A result of a running trial, at ``budget`` (None: its result had no usable ``time_attr``)."""
        if budget is not None:
            self.reached[trial_id] = max(budget, self.reached.get(trial_id, budget))

    def ended_trial(self, trial_id: str, *, pending: int, last: bool, failed: bool = False) -> tuple[int, float] | None:
        """A trial ended (``pending`` others still run; ``last``: no trial will be proposed any more; ``failed``:
        it ended in error, which says nothing about the scheduler).

        Returns ``(count, budget)`` when the warning is due now, else None.
        """
        budget = self.reached.pop(trial_id, None)
        if budget is not None and not failed:
            self.ended[budget] = self.ended.get(budget, 0) + 1
        if len(self.ended) > 1:
            self.warned = True  # a trial stopped early: there is a multi-fidelity scheduler
        if self.warned or pending or len(self.ended) != 1:
            return None
        ((budget, count),) = self.ended.items()
        if count >= (LAST_EVIDENCE if last else EVIDENCE):
            self.warned = True
            return count, budget
        return None

    def state(self) -> dict[str, Any]:
        """Plain data for a snapshot."""
        return {"ended": self.ended, "reached": self.reached, "warned": self.warned}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> FidelityCheck:
        """The check :meth:`state` describes."""
        return cls(ended=state["ended"], reached=state["reached"], warned=state["warned"])
