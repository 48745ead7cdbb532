"""Multi-objective asynchronous successive halving (MO-ASHA, Schmucker et al. 2021): ASHA whose rungs rank
trials by non-dominated sorting, ties in a front broken by crowding distance."""

from __future__ import annotations

import math
from typing import Any, TypeGuard

import attrs

from tune_asha._common import ProgressScheduler
from tune_asha.asha import SuccessiveHalving, quantile
from tune_asha.nondominated import pareto_keys
from tunecore.best import observation, score
from tunecore.options import check_metrics, check_modes, check_objectives

ScoreVector = tuple[float, ...]
"""A result's scores, one per metric, higher is better."""


@attrs.define
class ParetoRung:
    """One rung of a bracket: its level of ``time_attr`` and the score vectors recorded there."""

    level: float
    """The value of ``time_attr`` at which trials are judged."""
    scores: list[ScoreVector] = attrs.field(factory=list)
    """Score vectors recorded at this rung, in the order they were recorded."""
    trials: set[str] = attrs.field(factory=set)
    """Trials judged at this rung."""

    def judge(self, trial_id: str, score: ScoreVector, reduction_factor: float) -> bool:
        """Record the trial's scores; True when it is in the top ``1/reduction_factor`` of those before it.

        With ``n`` records before it, the trial continues when at most ``floor((n - 1) / reduction_factor)`` of
        them rank strictly ahead of it among all ``n + 1`` (:func:`tune_asha.nondominated.pareto_keys`): the
        position of ASHA's ``1 - 1/reduction_factor`` quantile, counted from the top. With one metric the
        cutoff is ASHA's quantile itself, interpolated between two records, so ``mo_asha`` decides exactly as
        ``asha``. The first trial at a rung always continues.
        """
        passed = self._passes(score, reduction_factor)
        self.scores.append(score)
        self.trials.add(trial_id)
        return passed

    def _passes(self, score: ScoreVector, reduction_factor: float) -> bool:
        n = len(self.scores)
        if n == 0:
            return True
        if len(score) == 1:
            return score[0] >= quantile(sorted(record[0] for record in self.scores), 1 - 1 / reduction_factor)
        keys = pareto_keys([*self.scores, score])
        ahead = sum(key < keys[-1] for key in keys[:-1])
        return ahead <= (n - 1) / reduction_factor


class MOASHAScheduler(ProgressScheduler, SuccessiveHalving[ScoreVector]):
    """ASHA for several metrics: a trial reaching a rung stops unless it ranks in the top 1/reduction_factor of
    the results recorded there, ranked by non-dominated sorting.

    Rungs, brackets, ``max_t`` and ``stop_last_trials`` are ``asha``'s (:class:`tune_asha.AsyncHyperBandScheduler`,
    the same options and defaults); only the ranking differs (:meth:`ParetoRung.judge`). Records are ranked by
    front (a result no other dominates is in the first front), then within a front by **crowding distance**
    (NSGA-II, :func:`tune_asha.nondominated.crowding_distances`), largest first: it keeps the front's extremes
    and its sparsest regions, so the survivors spread along the front. Crowding distance rather than
    hypervolume contribution because it needs no reference point (none is known before the metrics' ranges
    are, and NaN scores would make any choice arbitrary), does not depend on the metrics' scales (gaps are
    divided by each metric's range), and costs ``O(k n log n)`` for ``k`` metrics where exact hypervolume
    contributions grow exponentially with ``k``.

    ``metric`` and ``mode`` are lists (one mode per metric), its own options winning over the experiment's
    ``TuneConfig(metric=[...], mode=[...])``; a single metric works too and then decides exactly as ``asha``.
    Each value is scored by :func:`tunecore.best.score`; a result with a value that is not a finite number in
    any metric counts as worst in every metric (:func:`tunecore.best.observation`, as a multi-objective
    searcher tells such a trial as failed). The resolved lists are :attr:`metrics` and :attr:`modes`.
    """

    name = "mo_asha"

    def __init__(
        self,
        time_attr: str = "training_iteration",
        metric: str | list[str] | None = None,
        mode: str | list[str] | None = None,
        max_t: float = 100,
        grace_period: float = 1,
        reduction_factor: float = 4,
        brackets: int = 1,
        stop_last_trials: bool = True,
    ) -> None:
        ProgressScheduler.__init__(self, time_attr)
        self._metric_option = check_metrics(metric)
        self._mode_option = check_modes(mode)
        self.metrics: list[str] = []
        """The metrics ranked by, in order (after ``setup``)."""
        self.modes: list[str] = []
        """Their modes, ``"min"`` or ``"max"`` each (after ``setup``)."""
        if self._metric_option is not None and self._mode_option is not None:
            self._resolve(None, None)  # a pairing error is an error of the options, before any experiment
        SuccessiveHalving.__init__(self, max_t, grace_period, reduction_factor, brackets, stop_last_trials)

    def setup(self, metric: str | list[str] | None, mode: str | list[str] | None) -> None:
        """Take the experiment's metrics and modes unless the scheduler's own options set them."""
        self.metrics, self.modes = self._resolve(metric, mode)

    def ready(self) -> bool:
        """True once ``setup`` has resolved the metrics and modes."""
        return bool(self.modes)

    def new_rung(self, level: float) -> ParetoRung:
        """An empty :class:`ParetoRung`."""
        return ParetoRung(level)

    def rung_score(self, trial_id: str, result: dict[str, Any]) -> ScoreVector:
        """The result's score in each metric, higher is better; every score ``-inf`` when one value is not a
        finite number. A result without one of the metrics is a ValueError naming it."""
        if not self.ready():
            raise ValueError(f"the {self.name} scheduler was used before setup(metric, mode)")
        for metric in self.metrics:
            if metric not in result:
                self._field(trial_id, result, metric, "metric")  # raises, naming what the result has
        values = observation(result, self.metrics)
        if values is None:
            return (-math.inf,) * len(self.metrics)
        return tuple(score(value, mode) for value, mode in zip(values, self.modes, strict=True))

    def rankable(self, result: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
        """True when ``result`` has a numeric ``time_attr`` and every metric (any value)."""
        return self.has_time(result) and self.ready() and all(metric in result for metric in self.metrics)

    def _resolve(self, metric: Any, mode: Any) -> tuple[list[str], list[str]]:
        metrics, modes = check_objectives(
            f"the {self.name} scheduler", metric, mode, own_metric=self._metric_option, own_mode=self._mode_option
        )
        repeated = sorted({name for name in metrics if metrics.count(name) > 1})
        if repeated:
            raise ValueError(
                f"the {self.name} scheduler's metrics must differ, got {repeated[0]!r} twice in {metrics!r}"
            )
        return metrics, modes
