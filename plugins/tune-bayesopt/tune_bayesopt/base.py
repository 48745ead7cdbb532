"""What the three searchers share: options, metric and mode, warm start, bookkeeping of pending trials, resume.

A subclass converts the space (:meth:`LibrarySearcher._convert`) and talks to its library through a few hooks
(``_start``, ``_tell_evaluated``, ``_ask``, ``_report``, ``_tell``, ``_state``, ``_set_state``), always in
terms of library values: :class:`~tune_bayesopt.values.ValueMap` turns them into config values and back.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from tune_bayesopt.configs import Builder, config_builder
from tune_bayesopt.values import ValueMap
from tunecore.best import observation
from tunecore.options import (
    check_metric,
    check_metrics,
    check_mode,
    check_modes,
    check_objective,
    check_objectives,
    check_points,
    check_rewards,
    check_seed,
    is_finite_number,
)
from tunecore.protocols import FINISHED, Finished, Searcher
from tunecore.space import Parameter, flatten, point_values, points_within, sample_config, walk_space

Values = dict[str, Any]
"""Library values by parameter name."""

_FOREIGN = ("optuna", "hyperopt", "skopt", "ray")
"""Libraries whose space objects a searcher's own ``space`` may not hold (tunecore domains only)."""

_MULTI_OBJECTIVE = "; for several metrics, use the 'optuna' searcher"


class LibrarySearcher(Searcher):
    """Base class of the searchers that wrap a library: see the module docstring for the hooks."""

    searcher_name: ClassVar[str] = ""
    """The name the searcher is registered under, for messages."""
    multi_objective: ClassVar[bool] = False
    """Whether several metrics (lists of metric and mode) are supported."""

    def __init__(
        self,
        *,
        metric: str | list[str] | None = None,
        mode: str | list[str] | None = None,
        seed: int | None = None,
        points_to_evaluate: list[dict[str, Any]] | None = None,
        evaluated_rewards: list[Any] | None = None,
    ) -> None:
        self._metric_option: str | list[str] | None
        self._mode_option: str | list[str] | None
        if self.multi_objective:
            self._metric_option, self._mode_option = check_metrics(metric), check_modes(mode)
        else:
            self._metric_option, self._mode_option = check_metric(metric, hint=_MULTI_OBJECTIVE), check_mode(mode)
        self._seed_option = check_seed(seed)
        self._points = check_points(points_to_evaluate)
        self._rewards = check_rewards(evaluated_rewards, points_to_evaluate)
        self._own_space: dict[str, Any] | None = None  # a space given to the searcher itself (Ray's ``space``)
        self.metrics: list[str] = []
        """The metrics optimised (one unless multi-objective)."""
        self.modes: list[str] = []
        """``"min"`` or ``"max"`` for each metric."""
        self.seed: int | None = None
        """The seed in use: the searcher's own option, else the experiment's."""
        self.maps: dict[str, ValueMap] = {}
        """How each parameter is searched, by name."""
        self._space: dict[str, Any] = {}
        self._limit = -1
        self._count = 0
        self._queue: list[dict[str, Any]] = []
        self._pending: dict[str, Any] = {}
        self._rng: Any = None  # a numpy Generator from setup on (numpy is imported there: plugins load fast)
        self._build: Builder = lambda values: {}

    # --- the Searcher protocol ---------------------------------------------------------------------------

    def setup(
        self,
        space: dict[str, Any],
        metric: str | list[str] | None,
        mode: str | list[str] | None,
        seed: int | None,
        num_samples: int = 1,
    ) -> None:
        """Convert the space, prepare the library and tell it the ``evaluated_rewards`` (warm start)."""
        component = f"the {self.searcher_name} searcher"
        if self.multi_objective:
            self.metrics, self.modes = check_objectives(
                component, metric, mode, own_metric=self._metric_option, own_mode=self._mode_option
            )
        else:
            one = check_objective(
                component,
                metric,
                mode,
                own_metric=self._metric_option,
                own_mode=self._mode_option,
                hint=_MULTI_OBJECTIVE,
            )
            self.metrics, self.modes = [one[0]], [one[1]]
        if self._own_space is not None:
            space = self._with_own_space(space)
        if len(self.metrics) == 1:
            super().setup(space, self.metrics[0], self.modes[0], seed, num_samples)
        else:
            super().setup(space, self.metrics, self.modes, seed, num_samples)
        import numpy as np

        self.seed = self._seed_option if self._seed_option is not None else seed
        self._rng = np.random.default_rng(self.seed)
        self._space = space
        self._limit = num_samples
        self._count = 0
        self._pending = {}
        self.maps = self._convert(walk_space(space))
        self._build = config_builder(space)
        points = [self._check_point(index, point) for index, point in enumerate(self._points)]
        self._start()
        if self._rewards is None:
            self._queue = points_within(points, num_samples)
            return
        self._queue = []
        complete = [self._complete(index, point) for index, point in enumerate(points)]
        rewards = [self._reward(index, reward) for index, reward in enumerate(self._rewards)]
        if complete:
            self._tell_evaluated([self._encode(point) for point in complete], rewards)

    def suggest(self, trial_id: str) -> dict[str, Any] | Finished | None:
        """The next config: the next of ``points_to_evaluate``, else the library's suggestion (never None here)."""
        if self._limit != -1 and self._count >= self._limit:
            return FINISHED
        fixed = self._queue.pop(0) if self._queue else None
        values = self._ask(trial_id, fixed)
        self._count += 1
        return self._config(values)

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        """Pass an intermediate result to the library (only Optuna uses them)."""
        handle = self._pending.get(trial_id)
        if handle is not None:
            self._report(handle, result)

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None, error: bool = False) -> None:
        """Tell the library a trial's outcome: its last result, or that it failed."""
        handle = self._pending.pop(trial_id, None)
        if handle is None:
            return
        if result is not None and not error:
            self._report(handle, result)  # a stopper's last result is not passed to on_trial_result
        values = None if error else self._objective(result)
        stopped = bool(result and result.get("done"))
        self._tell(handle, values, stopped=stopped, error=error)

    def save(self) -> dict[str, Any]:
        """Everything needed to continue the same sequence of suggestions (picklable)."""
        return {
            "count": self._count,
            "queue": self._queue,
            "pending": self._pending,
            "rng": self._rng.bit_generator.state,
            "library": self._state(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`save`'s state (call after :meth:`setup` with the same space)."""
        state = copy.deepcopy(state)  # never share the library's objects with another searcher
        self._count = state["count"]
        self._queue = state["queue"]
        self._rng.bit_generator.state = state["rng"]
        self._set_state(state["library"], state["pending"])

    # --- for subclasses ----------------------------------------------------------------------------------

    def _set_own_space(self, space: Any, cls: str) -> None:
        """Search ``space`` (tunecore domains) instead of the experiment's: Ray's ``space`` argument.

        Library-native spaces (Optuna distributions, Hyperopt expressions, scikit-optimize dimensions, Ray
        Tune domains, a define-by-run function) are refused with a ValueError naming the argument.
        """
        if space is None:
            return
        use = "tunecore domains, e.g. {'lr': tunecore.loguniform(1e-4, 1e-1)}, or the Tuner's param_space"
        if not isinstance(space, dict):
            raise ValueError(f"{cls}: space must be a dict of {use}; got {type(space).__name__}")
        for name, value in flatten(space).items():
            library = type(value).__module__.partition(".")[0]
            if library in _FOREIGN:
                raise ValueError(
                    f"{cls}: space[{name!r}] is {library}'s {type(value).__name__}: library-native spaces are not"
                    f" supported; use {use}"
                )
        if not walk_space(space):
            raise ValueError(f"{cls}: space has no tunecore domain to search; use {use}")
        self._own_space = copy.deepcopy(space)

    def _with_own_space(self, experiment: dict[str, Any]) -> dict[str, Any]:
        """The searcher's own space on top of the experiment's, which may hold constants only (as in Ray)."""
        assert self._own_space is not None
        names = [p.name for p in walk_space(experiment)]
        if names:
            raise ValueError(
                f"the {self.searcher_name} searcher was given its own space, but the experiment's param_space has"
                f" parameters too ({names}): give every parameter in one of them"
            )
        return _merge(experiment, self._own_space)

    @property
    def searched(self) -> list[ValueMap]:
        """The parameters the library searches (all but the ``"fixed"`` ones), in space order."""
        return [m for m in self.maps.values() if m.form != "fixed"]

    def _convert(self, parameters: list[Parameter]) -> dict[str, ValueMap]:
        """Convert the space to the library's (stored on the searcher); raise SpaceError for what it cannot."""
        raise NotImplementedError

    def _start(self) -> None:
        """Create the library's objects (study, trials, optimizer), seeded with :attr:`seed`."""
        raise NotImplementedError

    def _tell_evaluated(self, points: list[Values], rewards: list[list[float]]) -> None:
        """Tell the library points that were evaluated before (complete library values, raw rewards)."""
        raise NotImplementedError

    def _ask(self, trial_id: str, fixed: dict[str, Any] | None) -> Values:
        """The library's next point, keeping a handle in ``self._pending[trial_id]``.

        ``fixed`` holds config values by name from ``points_to_evaluate`` (maybe partial) to suggest instead.
        """
        raise NotImplementedError

    def _report(self, handle: Any, result: dict[str, Any]) -> None:
        """An intermediate result of a pending trial."""

    def _tell(self, handle: Any, values: list[float] | None, *, stopped: bool, error: bool) -> None:
        """A trial ended: the metric values (None when failed or missing) and whether it was stopped early."""
        raise NotImplementedError

    def _state(self) -> Any:
        """The library's state for :meth:`save` (pending handles are saved by the base class)."""
        raise NotImplementedError

    def _set_state(self, state: Any, pending: dict[str, Any]) -> None:
        """Restore :meth:`_state`'s state and the pending handles."""
        raise NotImplementedError

    def _complete(self, index: int, point: dict[str, Any]) -> dict[str, Any]:
        """A point with the missing values sampled from the space (config values by name)."""
        missing = [m.name for m in self.searched if m.name not in point]
        if not missing:
            return point
        if self._rewards is not None:
            raise ValueError(
                f"points_to_evaluate[{index}] misses {missing}: a point with an evaluated reward needs every parameter"
            )
        config = flatten(sample_config(self._space, self._rng, point))
        return {name: point.get(name, config[name]) for name in self.maps}

    def _encode(self, point: dict[str, Any]) -> Values:
        """Library values of the searched parameters of a complete point."""
        return {m.name: m.to_library(point[m.name]) for m in self.searched}

    def _loss(self, values: list[float]) -> float:
        """The single value to minimise (libraries that only minimise)."""
        return values[0] if self.modes[0] == "min" else -values[0]

    # --- internals ---------------------------------------------------------------------------------------

    def _config(self, values: Values) -> dict[str, Any]:
        return self._build({name: m.to_config(values.get(name)) for name, m in self.maps.items()})

    def _check_point(self, index: int, point: dict[str, Any]) -> dict[str, Any]:
        point = point_values(self._space, point, f"points_to_evaluate[{index}]")
        for name, value in point.items():
            try:
                self.maps[name].to_library(value)
            except ValueError as exc:
                raise ValueError(f"points_to_evaluate[{index}]: {exc}") from None
        return point

    def _reward(self, index: int, reward: Any) -> list[float]:
        values = list(reward) if isinstance(reward, list | tuple) else [reward]
        if len(values) != len(self.metrics) or not all(is_finite_number(v) for v in values):
            expected = "a finite number" if len(self.metrics) == 1 else f"a list of {len(self.metrics)} finite numbers"
            raise ValueError(f"evaluated_rewards[{index}] must be {expected} (one per metric), got {reward!r}")
        return [float(v) for v in values]

    def _objective(self, result: dict[str, Any] | None) -> list[float] | None:
        """The metric values to tell the library: :func:`tunecore.best.observation` (None: told as failed)."""
        return observation(result, self.metrics)


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``top``'s keys on top of it, nested dicts merged (copies)."""
    merged = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged
