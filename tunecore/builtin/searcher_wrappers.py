"""Searcher wrappers: limit how many suggested trials run at once, or evaluate each config several times.

Both wrap a searcher instance and are searchers themselves, e.g.
``TuneConfig(searcher=ConcurrencyLimiter(RandomSearcher(), max_concurrent=2))``; they nest
(``ConcurrencyLimiter(Repeater(searcher, 3), 6)``).
"""

from __future__ import annotations

import copy
import math
import warnings
from typing import Any

import attrs

from tunecore.best import real_number
from tunecore.options import check_bool, check_int, metric_names
from tunecore.protocols import FINISHED, Finished, Searcher

TRIAL_INDEX = "__trial_index__"
"""Config key holding a trial's index within its group of repeats (see :class:`Repeater`)."""


def _check_searcher(searcher: Any) -> None:
    if isinstance(searcher, type) or not callable(getattr(searcher, "suggest", None)):
        raise ValueError(f"searcher must be a searcher instance (with a suggest method), got {searcher!r}")


class ConcurrencyLimiter(Searcher):
    """Let at most ``max_concurrent`` trials suggested by ``searcher`` run at once.

    :meth:`suggest` returns None ("not now") while ``max_concurrent`` of its trials have not completed.
    With ``batch=True`` the trials come in batches of ``max_concurrent``: no new trial starts until every
    trial of the batch completed, and the wrapped searcher then receives all their completions together
    (for searchers that propose batches). A batch is also closed early when the wrapped searcher declines
    to propose more (None or FINISHED) and all its trials completed, so that it never waits forever.
    Everything else is passed on to ``searcher``; :meth:`save` includes the limiter's own state.
    """

    def __init__(self, searcher: Searcher, max_concurrent: int, batch: bool = False) -> None:
        _check_searcher(searcher)
        self.searcher = searcher
        self.max_concurrent = check_int("max_concurrent", max_concurrent, minimum=1)
        self.batch = check_bool("batch", batch)
        self._live: set[str] = set()
        self._done: dict[str, tuple[dict[str, Any] | None, bool]] = {}
        self._declined = False

    def setup(
        self,
        space: dict[str, Any],
        metric: str | list[str] | None,
        mode: str | list[str] | None,
        seed: int | None,
        num_samples: int = 1,
    ) -> None:
        """Set up the wrapped searcher (same arguments)."""
        self.searcher.setup(space, metric, mode, seed, num_samples)
        self.metric = getattr(self.searcher, "metric", metric)
        self.mode = getattr(self.searcher, "mode", mode)

    @property
    def running(self) -> int:
        """How many suggested trials count against the limit now."""
        return len(self._live)

    def suggest(self, trial_id: str) -> dict[str, Any] | Finished | None:
        """The wrapped searcher's suggestion, or None while the limit (or the current batch) is full."""
        if len(self._live) >= self.max_concurrent:
            return None
        config = self.searcher.suggest(trial_id)
        if config is None or config is FINISHED:
            self._declined = True
            if self.batch and self._live and len(self._done) == len(self._live):
                self._release_batch()
                if config is None:  # the searcher may have waited for these results
                    return self.suggest(trial_id)
            return config
        self._declined = False
        self._live.add(trial_id)
        return config

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        """Passed on."""
        self.searcher.on_trial_result(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None, error: bool = False) -> None:
        """Free the trial's place (in batch mode: once the whole batch completed) and pass the completion on."""
        if not self.batch or trial_id not in self._live:
            self._live.discard(trial_id)
            self.searcher.on_trial_complete(trial_id, result, error)
            return
        self._done[trial_id] = (result, error)
        if len(self._done) == len(self._live) and (len(self._live) >= self.max_concurrent or self._declined):
            self._release_batch()

    def _release_batch(self) -> None:
        done, self._done = self._done, {}
        self._live.clear()
        for trial_id, (result, error) in done.items():
            self.searcher.on_trial_complete(trial_id, result, error)

    def save(self) -> dict[str, Any]:
        """The wrapped searcher's state and the trials that count against the limit."""
        return {
            "searcher": self.searcher.save(),
            "live": sorted(self._live),
            "done": dict(self._done),
            "declined": self._declined,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Restore the state returned by :meth:`save`."""
        self.searcher.restore(state["searcher"])
        self._live = set(state["live"])
        self._done = dict(state["done"])
        self._declined = state["declined"]


@attrs.define
class _Group:
    """The trials evaluating one config of the wrapped searcher."""

    key: str
    """The id the wrapped searcher knows: the group's first trial id."""
    config: dict[str, Any]
    trial_ids: list[str] = attrs.field(factory=list)
    outcomes: dict[str, tuple[dict[str, Any] | None, bool]] = attrs.field(factory=dict)


class Repeater(Searcher):
    """Evaluate every config of ``searcher`` ``repeat`` times, as separate trials, and report the mean.

    The wrapped searcher is asked for a config with the id of the group's first trial; the next
    ``repeat - 1`` trials get the same config. With ``set_index`` each config gets
    ``"__trial_index__": 0 .. repeat-1``. Once every trial of a group completed, the wrapped searcher's
    ``on_trial_complete`` is called once, with the group's first trial id and the result of the group's
    last successful trial whose metric is replaced by the mean of the metric over the successful trials
    (NaN and missing values ignored; NaN when none has one; each metric, when there are several). Errored
    trials are left out; if all errored, it is told ``error=True``. Intermediate results are not passed on
    (the repeats' curves would mix).

    ``num_samples`` counts trials: the wrapped searcher is set up with ``ceil(num_samples / repeat)``
    (-1 stays -1), so give a multiple of ``repeat`` to complete every group. The arguments and their
    defaults are Ray Tune's (``repeat=1`` passes every config through once).
    """

    def __init__(self, searcher: Searcher, repeat: int = 1, set_index: bool = True) -> None:
        _check_searcher(searcher)
        self.searcher = searcher
        self.repeat = check_int("repeat", repeat, minimum=1)
        self.set_index = check_bool("set_index", set_index)
        self._groups: dict[str, _Group] = {}
        self._group_of: dict[str, str] = {}
        self._current: str | None = None

    def setup(
        self,
        space: dict[str, Any],
        metric: str | list[str] | None,
        mode: str | list[str] | None,
        seed: int | None,
        num_samples: int = 1,
    ) -> None:
        """Set up the wrapped searcher for ``ceil(num_samples / repeat)`` configs."""
        if num_samples > 0 and num_samples % self.repeat:
            warnings.warn(
                f"Repeater: num_samples={num_samples} is not a multiple of repeat={self.repeat}; the last group"
                " of repeats may be cut short and then never reported to the wrapped searcher",
                stacklevel=2,
            )
        configs = num_samples if num_samples < 0 else math.ceil(num_samples / self.repeat)
        self.searcher.setup(space, metric, mode, seed, configs)
        self.metric = getattr(self.searcher, "metric", None) or metric
        self.mode = getattr(self.searcher, "mode", None) or mode

    def suggest(self, trial_id: str) -> dict[str, Any] | Finished | None:
        """The current group's config again, or a new config from the wrapped searcher."""
        group = self._groups.get(self._current) if self._current is not None else None
        if group is None or len(group.trial_ids) >= self.repeat:
            config = self.searcher.suggest(trial_id)
            if config is None or config is FINISHED:
                return config
            group = _Group(key=trial_id, config=config)
            self._groups[trial_id] = group
            self._current = trial_id
        index = len(group.trial_ids)
        group.trial_ids.append(trial_id)
        self._group_of[trial_id] = group.key
        config = _copy(group.config)
        if self.set_index:
            config[TRIAL_INDEX] = index
        return config

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        """Not passed on: the wrapped searcher hears about a group only when it completed."""

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None, error: bool = False) -> None:
        """Record the trial's outcome; report the group's mean once all its repeats completed."""
        key = self._group_of.pop(trial_id, None)
        if key is None:
            return
        group = self._groups[key]
        group.outcomes[trial_id] = (result, bool(error))
        if len(group.outcomes) < self.repeat:
            return
        del self._groups[key]
        if self._current == key:
            self._current = None
        successes = [res for tid in group.trial_ids for res, err in [group.outcomes[tid]] if not err]
        if not successes:
            self.searcher.on_trial_complete(key, None, error=True)
            return
        self.searcher.on_trial_complete(key, self._mean_result(key, successes))

    def _mean_result(self, key: str, results: list[dict[str, Any] | None]) -> dict[str, Any] | None:
        reported = [res for res in results if res is not None]
        if not reported:
            return None
        merged = {**reported[-1], "trial_id": key}
        for metric in metric_names(self.metric):  # several in a multi-objective experiment: each is averaged
            values = [_number(res.get(metric)) for res in reported]
            finite = [v for v in values if v is not None]
            merged[metric] = sum(finite) / len(finite) if finite else math.nan
        return merged

    def save(self) -> dict[str, Any]:
        """The wrapped searcher's state and the groups still collecting results."""
        groups = [
            {"key": g.key, "config": g.config, "trial_ids": list(g.trial_ids), "outcomes": dict(g.outcomes)}
            for g in self._groups.values()
        ]
        return {"searcher": self.searcher.save(), "groups": groups, "current": self._current}

    def restore(self, state: dict[str, Any]) -> None:
        """Restore the state returned by :meth:`save`."""
        self.searcher.restore(state["searcher"])
        self._groups = {
            g["key"]: _Group(key=g["key"], config=g["config"], trial_ids=list(g["trial_ids"]), outcomes=g["outcomes"])
            for g in state["groups"]
        }
        self._group_of = {tid: g.key for g in self._groups.values() for tid in g.trial_ids if tid not in g.outcomes}
        self._current = state["current"]


def _number(value: Any) -> float | None:
    """The value as a float (:func:`tunecore.best.real_number`: ±inf too), or None for missing, non-numeric
    and NaN values."""
    number = real_number(value)
    return None if number is None or math.isnan(number) else number


def _copy(config: dict[str, Any]) -> dict[str, Any]:
    """A deep copy, so that repeats never share mutable values (a shallow one if it cannot be copied)."""
    try:
        return copy.deepcopy(config)
    except Exception:
        return dict(config)
