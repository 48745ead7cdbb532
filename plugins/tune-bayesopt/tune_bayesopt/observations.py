"""What BOHB has observed: a score per trial and budget, and the budget its model is fitted on.

A trial's result at budget ``b`` (the value of the result's ``time_attr``) is one observation ``(point, b,
score)``, the point in model space and the score higher-is-better (:func:`tunecore.best.score`); a later
result of the same trial at the same budget replaces it. Points told through ``evaluated_rewards`` have no
budget: they count as observations of the highest budget seen (of their own while there is none).

BOHB's rule (Falkner et al. 2018): the model is fitted on the **largest budget with at least
``min_points`` observations**, so the first models come from the cheap budgets, and models of higher budgets
take over as soon as enough trials got there.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import attrs

Point = list[float]
"""A point of the model space, one coordinate per searched parameter."""


@attrs.frozen
class TrainingSet:
    """The observations a model is fitted on, split into good and bad ones."""

    budget: float | None
    """The budget they were observed at (None: only ``evaluated_rewards``)."""
    good: list[Point]
    """The best ``max(min_points, fraction * n)`` points."""
    bad: list[Point]
    """The worst ``max(min_points, n - len(good))`` points (both sets overlap when ``n`` is small), and the
    trials that stopped below the budget (:meth:`Observations.stopped_below`) when asked for."""


@attrs.define
class Observations:
    """Every observation with a finite score, by budget and trial; see the module docstring."""

    by_budget: dict[float, dict[str, tuple[Point, float]]] = attrs.field(factory=dict)
    """Budget -> trial id -> (point, score)."""
    evaluated: list[tuple[Point, float]] = attrs.field(factory=list)
    """The ``evaluated_rewards``: (point, score)."""

    def add(self, trial_id: str, budget: float, point: Point, score: float) -> None:
        """Record (or replace) the trial's observation at ``budget``."""
        self.by_budget.setdefault(budget, {})[trial_id] = (list(point), score)

    def count(self, budget: float) -> int:
        """How many observations the model of ``budget`` would use (``evaluated_rewards`` included at the top)."""
        extra = len(self.evaluated) if budget == max(self.by_budget) else 0
        return len(self.by_budget.get(budget, {})) + extra

    def model_budget(self, min_points: int) -> float | None:
        """The largest budget with at least ``min_points`` observations; None when there is none."""
        for budget in sorted(self.by_budget, reverse=True):
            if self.count(budget) >= min_points:
                return budget
        return None

    def training_set(
        self, min_points: int, top_fraction: float, *, running: Collection[str] | None = None
    ) -> TrainingSet | None:
        """The good and bad points of the model budget (:meth:`model_budget`); None when nothing fits yet.

        Ties keep the order of observation (the ``evaluated_rewards`` first). With ``running`` (the ids of the
        trials still running), the trials that stopped below the model budget join the bad points too
        (:meth:`stopped_below`).
        """
        budget = self.model_budget(min_points)
        if budget is None:
            if not self.evaluated or len(self.evaluated) < min_points:
                return None
            pairs = list(self.evaluated)
        else:
            pairs = list(self.by_budget[budget].values())
            if budget == max(self.by_budget):
                pairs = [*self.evaluated, *pairs]
        ranked = [point for point, _ in sorted(pairs, key=lambda pair: -pair[1])]
        n_good = max(min_points, int(top_fraction * len(ranked)))
        n_bad = max(min_points, len(ranked) - n_good)
        bad = ranked[len(ranked) - n_bad :]
        if running is not None and budget is not None:
            bad += self.stopped_below(budget, running)
        return TrainingSet(budget, ranked[:n_good], bad)

    def stopped_below(self, budget: float, running: Collection[str]) -> list[Point]:
        """The points of the trials whose highest budget is below ``budget`` and that are not ``running``.

        Under successive halving (HyperBand, ASHA) such a trial was stopped because it ranked below the trials
        that went on: it is a bad point of every higher budget's model. Without them, a model fitted on a high
        budget never learns that its proposals die at the low rungs, and proposes the same region again and
        again while no new trial reaches its budget (seen with ASHA, trials one at a time).
        """
        highest: dict[str, tuple[float, Point]] = {}
        for level, trials in self.by_budget.items():
            for trial_id, (point, _) in trials.items():
                if trial_id not in highest or highest[trial_id][0] < level:
                    highest[trial_id] = (level, point)
        return [point for trial_id, (level, point) in highest.items() if level < budget and trial_id not in running]

    def state(self) -> dict[str, Any]:
        """Plain data for a snapshot."""
        return {"by_budget": self.by_budget, "evaluated": self.evaluated}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Observations:
        """The observations :meth:`state` describes."""
        return cls(by_budget=state["by_budget"], evaluated=state["evaluated"])
