"""The ``optuna`` searcher: Optuna's samplers through its ask-and-tell interface, single- or multi-objective."""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import threading
from collections.abc import Iterator
from typing import Any, Literal

import attrs

from tune_bayesopt.base import LibrarySearcher, Values
from tune_bayesopt.optuna_space import optuna_space
from tune_bayesopt.values import ValueMap
from tunecore.errors import ConfigError
from tunecore.options import check_bool, check_choice, check_dict
from tunecore.space import Parameter

SAMPLERS: dict[str, str] = {
    "tpe": "TPESampler",
    "gp": "GPSampler",
    "cmaes": "CmaEsSampler",
    "qmc": "QMCSampler",
    "random": "RandomSampler",
    "nsga2": "NSGAIISampler",
}
"""The ``sampler`` option: name -> class in ``optuna.samplers``."""

DEFAULT_SAMPLER_OPTIONS: dict[str, dict[str, Any]] = {"tpe": {"constant_liar": True}}
"""Options set unless ``sampler_options`` gives them: TPE lies about running trials (no duplicates)."""

_NEEDS = {"gp": ("torch", "tune-bayesopt[gp]"), "cmaes": ("cmaes", "cmaes")}
_SINGLE_OBJECTIVE = ("cmaes",)


@attrs.define
class _Pending:
    """A trial asked from the study, with the steps already reported to it."""

    trial: Any
    steps: set[int] = attrs.field(factory=set)


class OptunaSearcher(LibrarySearcher):
    """Optuna samplers (TPE, GP, CMA-ES, QMC, random, NSGA-II) with constant liar for parallel trials.

    ``sampler`` is a name of :data:`SAMPLERS` or an ``optuna.samplers.BaseSampler`` instance (used as it is,
    copied at each setup: configure and seed it yourself). ``sampler_options`` go to the constructor of a
    sampler given by name (the seed comes from ``seed``). Lists of metrics and
    modes make a multi-objective study. A trial stopped early is told with its last result; with
    ``prune_stopped`` (one metric), a trial stopped before the furthest ``training_iteration`` any trial
    reached is told as PRUNED with its intermediate values instead. A failed one is told as FAIL.
    """

    searcher_name = "optuna"
    multi_objective = True

    def __init__(
        self,
        sampler: Any = "tpe",
        sampler_options: dict[str, Any] | None = None,
        prune_stopped: bool = False,
        metric: str | list[str] | None = None,
        mode: str | list[str] | None = None,
        seed: int | None = None,
        points_to_evaluate: list[dict[str, Any]] | None = None,
        evaluated_rewards: list[Any] | None = None,
    ) -> None:
        super().__init__(
            metric=metric,
            mode=mode,
            seed=seed,
            points_to_evaluate=points_to_evaluate,
            evaluated_rewards=evaluated_rewards,
        )
        self.sampler: Any = None
        """The Optuna sampler instance given as ``sampler`` (None when given by name)."""
        self.sampler_options = check_dict("sampler_options", sampler_options)
        if isinstance(sampler, str):
            self.sampler_name = check_choice("sampler", sampler, tuple(SAMPLERS))
        else:
            self.sampler, self.sampler_name = _check_sampler(sampler), type(sampler).__name__
            if self.sampler_options or seed is not None:
                given = "sampler_options" if self.sampler_options else "seed"
                raise ValueError(
                    f"{given} is for a sampler given by name ({', '.join(SAMPLERS)}); a sampler instance"
                    f" ({self.sampler_name}) is used as it is: give its options, the seed included, to it"
                )
        if "seed" in self.sampler_options:
            raise ValueError("give the seed as the searcher's option seed, not in sampler_options")
        self.prune_stopped = check_bool("prune_stopped", prune_stopped)
        self.distributions: dict[str, Any] = {}
        """The Optuna distribution of each searched parameter."""
        self.study: Any = None
        """The ``optuna.Study`` (in memory), available after setup."""
        self._furthest = 0  # the largest training_iteration any trial reported

    def _convert(self, parameters: list[Parameter]) -> dict[str, ValueMap]:
        maps, self.distributions = optuna_space(parameters, self.searcher_name)
        return maps

    def _start(self) -> None:
        import optuna

        self._furthest = 0
        directions: list[Literal["minimize", "maximize"]] = [
            "minimize" if mode == "min" else "maximize" for mode in self.modes
        ]
        if self.sampler is None:
            sampler = _snapshot_safe(self._new_sampler())
        else:
            sampler = copy.deepcopy(_snapshot_safe(self.sampler))  # the same each setup
        with _quiet():
            self.study = optuna.create_study(
                storage=optuna.storages.InMemoryStorage(), sampler=sampler, directions=directions
            )

    def _new_sampler(self) -> Any:
        import optuna

        name = self.sampler_name
        module, package = _NEEDS.get(name, (None, None))
        if module and importlib.util.find_spec(module) is None:
            raise ConfigError(f"searcher 'optuna': sampler '{name}' needs {module}: pip install '{package}'")
        if len(self.metrics) > 1 and name in _SINGLE_OBJECTIVE:
            raise ConfigError(
                f"searcher 'optuna': sampler '{name}' optimises a single metric, got {self.metrics!r};"
                " use sampler 'tpe', 'nsga2', 'gp', 'random' or 'qmc' for several metrics"
            )
        options = {**DEFAULT_SAMPLER_OPTIONS.get(name, {}), **self.sampler_options}
        try:
            return getattr(optuna.samplers, SAMPLERS[name])(seed=self.seed, **options)
        except TypeError as exc:
            raise ConfigError(
                f"searcher 'optuna': sampler_options {self.sampler_options!r} for '{name}': {exc}"
            ) from exc

    def _tell_evaluated(self, points: list[Values], rewards: list[list[float]]) -> None:
        import optuna

        trials = [
            optuna.trial.create_trial(
                params=point, distributions={name: self.distributions[name] for name in point}, values=values
            )
            for point, values in zip(points, rewards, strict=True)
        ]
        self.study.add_trials(trials)

    def _ask(self, trial_id: str, fixed: dict[str, Any] | None) -> Values:
        if fixed is not None:  # Optuna's sampler fills in what a partial point leaves out
            self.study.enqueue_trial({name: self.maps[name].to_library(v) for name, v in fixed.items()})
        with _quiet():
            trial = self.study.ask(self.distributions)
        self._pending[trial_id] = _Pending(trial)
        return trial.params

    def _report(self, handle: _Pending, result: dict[str, Any]) -> None:
        if not self.prune_stopped or len(self.metrics) > 1:  # intermediate values only matter for PRUNED trials
            return
        values, step = self._objective(result), result.get("training_iteration")
        if values is None or not isinstance(step, int) or step in handle.steps:
            return
        handle.steps.add(step)
        self._furthest = max(self._furthest, step)
        handle.trial.report(values[0], step)

    def _tell(self, handle: _Pending, values: list[float] | None, *, stopped: bool, error: bool) -> None:
        from optuna.trial import TrialState

        with _quiet():
            if values is None:
                self.study.tell(handle.trial, state=TrialState.FAIL)
            elif stopped and self.prune_stopped and max(handle.steps, default=0) < self._furthest:
                self.study.tell(handle.trial, state=TrialState.PRUNED)
            else:
                self.study.tell(handle.trial, values)

    def _state(self) -> Any:
        return {"study": self.study, "furthest": self._furthest}  # pickled with the pending trials: they refer to it

    def _set_state(self, state: Any, pending: dict[str, Any]) -> None:
        self.study, self._furthest = state["study"], state["furthest"]
        self._pending = pending


def _check_sampler(sampler: Any) -> Any:
    """``sampler`` unchanged when it is an ``optuna.samplers.BaseSampler``, else a ValueError."""
    import optuna

    if not isinstance(sampler, optuna.samplers.BaseSampler):
        raise ValueError(
            f"sampler must be one of {', '.join(SAMPLERS)} or an optuna.samplers.BaseSampler instance, got {sampler!r}"
        )
    return sampler


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence Optuna's INFO line per trial (tunecore reports trials itself); warnings still show."""
    import optuna

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(max(verbosity, optuna.logging.WARNING))
    try:
        yield
    finally:
        optuna.logging.set_verbosity(verbosity)


_LOCK = type(threading.Lock())


class _PicklableLock:
    """A lock that pickles and deep-copies as a new, unlocked one. Optuna 5.1's genetic samplers (NSGA-II,
    NSGA-III) hold a plain ``threading.Lock``, which made their studies impossible to snapshot or copy."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> bool:
        return self._lock.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._lock.__exit__(*exc)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """As ``threading.Lock.acquire``."""
        return self._lock.acquire(blocking, timeout)

    def release(self) -> None:
        """As ``threading.Lock.release``."""
        self._lock.release()

    def __reduce__(self) -> tuple[type[_PicklableLock], tuple[()]]:
        return (_PicklableLock, ())


def _snapshot_safe(sampler: Any) -> Any:
    """``sampler`` with any plain lock among its attributes replaced by a :class:`_PicklableLock`."""
    for name, value in list(vars(sampler).items()):
        if isinstance(value, _LOCK):
            setattr(sampler, name, _PicklableLock())
    return sampler

