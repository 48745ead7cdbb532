"""Experiment configuration: TuneConfig, RunConfig, CheckpointConfig, FailureConfig, ExperimentSpec.

Every component argument takes a registered name, a ``{"name": ..., **options}`` mapping, or a ready
instance. Values are checked when the object is built; a bad one raises :class:`ConfigError` naming the
setting and saying what it accepts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from tunecore.components import ComponentSpec, component_spec
from tunecore.errors import ConfigError
from tunecore.options import check_seed, is_finite_number

MODES = ("min", "max")
DEFAULT_LOGGERS: tuple[str, ...] = ("json", "csv", "console")
"""Loggers used when ``RunConfig.loggers`` is None."""


def _fail(owner: str, name: str, expected: str, value: Any) -> ConfigError:
    return ConfigError(f"{owner}.{name} must be {expected}, got {value!r}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _optional_positive_int(owner: str):
    def check(_: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value is not None and not (_is_int(value) and value >= 1):
            raise _fail(owner, attribute.name, "a positive integer or None", value)

    return check


def _flag(owner: str):
    def check(_: Any, attribute: attrs.Attribute, value: Any) -> None:
        if not isinstance(value, bool):  # "no" or 1 from a file would count as True
            raise _fail(owner, attribute.name, "True or False", value)

    return check


def _optional_name(owner: str):
    def check(_: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value is not None and not (isinstance(value, str) and value):
            raise _fail(owner, attribute.name, "a result field name or None", value)

    return check


def _optional_positive_number(owner: str):
    def check(_: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value is not None and not (is_finite_number(value) and value > 0):
            raise _fail(owner, attribute.name, "a positive number of seconds or None", value)

    return check


@attrs.frozen
class CheckpointConfig:
    """Which checkpoints to keep and when to take them."""

    num_to_keep: int | None = attrs.field(default=None, validator=_optional_positive_int("CheckpointConfig"))
    """Keep at most this many checkpoints per trial (None = all)."""
    checkpoint_score_attribute: str | None = attrs.field(default=None, validator=_optional_name("CheckpointConfig"))
    """Keep the best ``num_to_keep`` by this result field instead of the latest."""
    checkpoint_score_order: str = attrs.field(default="max")
    """``"max"`` or ``"min"``: which scores are best."""
    checkpoint_frequency: int = attrs.field(default=0)
    """For class trainables: checkpoint every N iterations (0 = never)."""
    checkpoint_at_end: bool = attrs.field(default=False, validator=_flag("CheckpointConfig"))
    """For class trainables: checkpoint when the trial ends."""

    @checkpoint_score_order.validator
    def _check_order(self, _: attrs.Attribute, value: Any) -> None:
        if value not in MODES:
            raise _fail("CheckpointConfig", "checkpoint_score_order", "'max' or 'min'", value)

    @checkpoint_frequency.validator
    def _check_frequency(self, _: attrs.Attribute, value: Any) -> None:
        if not (_is_int(value) and value >= 0):
            raise _fail("CheckpointConfig", "checkpoint_frequency", "an integer >= 0", value)


@attrs.frozen
class FailureConfig:
    """What to do when a trial fails."""

    max_failures: int = attrs.field(default=0)
    """Retry a failed trial from its latest checkpoint up to this many times (-1 = forever)."""
    fail_fast: bool = attrs.field(default=False, validator=_flag("FailureConfig"))
    """Stop the whole experiment at the first error (its state saved for resume)."""

    @max_failures.validator
    def _check_max_failures(self, _: attrs.Attribute, value: Any) -> None:
        if not (_is_int(value) and value >= -1):
            raise _fail("FailureConfig", "max_failures", "an integer >= -1 (-1 = retry forever)", value)


@attrs.frozen
class TuneConfig:
    """What to optimise and how to search: metric, mode, samples, seed and the components by name."""

    metric: str | list[str] | None = None
    """The result field to optimise (a list of fields for multi-objective searchers); a nested field is named
    ``"outer/inner"`` (``"train/loss"`` for ``{"train": {"loss": ...}}``), for every component, as in Ray Tune."""
    mode: str | list[str] | None = None
    """``"min"`` or ``"max"`` (a list, one per metric, for multi-objective searchers)."""
    num_samples: int = 1
    """How many configs to try (each grid is repeated this many times); -1 = until stopped."""
    seed: int | None = None
    """Seed for the searcher and the space's sampling: one seed gives the same configs on every run."""
    searcher: Any = "random"
    """A searcher name, ``{"name": ..., **options}`` or instance; stored as a :class:`ComponentSpec` with
    the ``*_options`` folded in (the same holds for ``scheduler`` and ``executor``)."""
    searcher_options: dict[str, Any] = attrs.field(factory=dict)
    """Options for a searcher given by name."""
    scheduler: Any = "fifo"
    """A scheduler name, mapping or instance."""
    scheduler_options: dict[str, Any] = attrs.field(factory=dict)
    """Options for a scheduler given by name."""
    executor: Any = "local"
    """An executor name, mapping or instance."""
    executor_options: dict[str, Any] = attrs.field(factory=dict)
    """Options for an executor given by name."""
    max_concurrent_trials: int | None = attrs.field(default=None, validator=_optional_positive_int("TuneConfig"))
    """At most this many trials run at once (None = as many as the executor can)."""
    time_budget_s: float | None = attrs.field(default=None, validator=_optional_positive_number("TuneConfig"))
    """Stop launching and stop running trials after this many seconds."""
    search_alg: Any = None
    """Ray Tune's name for ``searcher`` (so that ``TuneConfig(search_alg=OptunaSearch(...))`` runs as is):
    give one of the two. It is moved into ``searcher`` (and reads None afterwards)."""

    def __attrs_post_init__(self) -> None:
        self._check_metric_and_mode()
        if self.search_alg is not None:
            if not (isinstance(self.searcher, str) and self.searcher == "random") or self.searcher_options:
                raise ConfigError(
                    "TuneConfig got both searcher and search_alg (Ray Tune's name for it): give one of the two"
                )
            object.__setattr__(self, "searcher", self.search_alg)
            object.__setattr__(self, "search_alg", None)
        if not (_is_int(self.num_samples) and (self.num_samples >= 1 or self.num_samples == -1)):
            raise _fail("TuneConfig", "num_samples", "a positive integer, or -1 for 'until stopped'", self.num_samples)
        try:  # the one seed rule of every component (what numpy, Optuna and scikit-learn accept)
            object.__setattr__(self, "seed", check_seed(self.seed))
        except ValueError as exc:
            raise ConfigError(f"TuneConfig.{exc}") from None
        # Normalise every component to a ComponentSpec so that equivalent forms compare equal.
        for kind in ("searcher", "scheduler", "executor"):
            value, options = getattr(self, kind), getattr(self, f"{kind}_options")
            object.__setattr__(self, kind, component_spec(kind, value, options, where=f"TuneConfig.{kind}"))
            object.__setattr__(self, f"{kind}_options", {})

    def _check_metric_and_mode(self) -> None:
        metrics = self.metric if isinstance(self.metric, list) else [self.metric]
        modes = self.mode if isinstance(self.mode, list) else [self.mode]
        if not all(m is None or (isinstance(m, str) and m) for m in metrics):
            raise _fail("TuneConfig", "metric", "a result field name, a list of names, or None", self.metric)
        if not all(m is None or m in MODES for m in modes):
            raise _fail("TuneConfig", "mode", "'min', 'max', a list of them, or None", self.mode)
        if (self.metric is None) != (self.mode is None):
            if self.mode is None:
                missing, given = "mode", f"metric {self.metric!r}"
            else:
                missing, given = "metric", f"mode {self.mode!r}"
            raise ConfigError(
                f"TuneConfig has {given} but no {missing}: give both"
                " (e.g. metric='loss', mode='min'), or neither when no component ranks trials"
            )
        if isinstance(self.metric, list) != isinstance(self.mode, list) or len(metrics) != len(modes):
            raise ConfigError(
                f"TuneConfig.metric {self.metric!r} and mode {self.mode!r} do not match:"
                " give one mode per metric (both single values or both lists of the same length)"
            )

    def component(self, kind: str) -> ComponentSpec:
        """The searcher, scheduler or executor as a :class:`ComponentSpec`."""
        return getattr(self, kind)


def _stoppers(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


@attrs.frozen
class RunConfig:
    """Where results go and how the run behaves: name, storage, stopping, loggers, checkpoints, failures."""

    name: str | None = None
    """Experiment name, the directory under ``storage_path`` (default: derived from the trainable and time)."""
    storage_path: str = attrs.field(default="./tune_results", converter=os.fspath)
    """The directory that holds experiments."""
    stop: Mapping[str, float] | Callable[..., bool] | Any | None = None
    """Ray Tune's stop: ``{"training_iteration": 10}`` (any field reaching its value), a function
    ``(trial_id, result) -> bool``, or a stopper instance."""
    stoppers: list[Any] = attrs.field(factory=list, converter=_stoppers)
    """Stoppers by name, mapping or instance; any one of them stops. Stored as :class:`ComponentSpec`."""
    loggers: list[Any] | None = None
    """Loggers by name, mapping or instance (None = ``json``, ``csv`` and ``console``; [] = none).
    Stored as a list of :class:`ComponentSpec`."""
    callbacks: list[Any] = attrs.field(factory=list, converter=list)
    """Objects whose ``tunecore_*`` methods receive the experiment events."""
    checkpoint_config: CheckpointConfig = attrs.field(factory=CheckpointConfig)
    """Which checkpoints to keep."""
    failure_config: FailureConfig = attrs.field(factory=FailureConfig)
    """What to do when a trial fails."""
    verbose: int = 1
    """0 = silent, 1 = live status and finished trials, 2 = also every result."""

    def __attrs_post_init__(self) -> None:
        if self.name is not None and (not isinstance(self.name, str) or not self.name.strip() or "/" in self.name):
            raise _fail("RunConfig", "name", "a non-empty directory name without '/'", self.name)
        if not (_is_int(self.verbose) and 0 <= self.verbose <= 3):
            raise _fail("RunConfig", "verbose", "0, 1, 2 or 3", self.verbose)
        if not isinstance(self.checkpoint_config, CheckpointConfig):
            raise _fail("RunConfig", "checkpoint_config", "a CheckpointConfig", self.checkpoint_config)
        if not isinstance(self.failure_config, FailureConfig):
            raise _fail("RunConfig", "failure_config", "a FailureConfig", self.failure_config)
        if isinstance(self.stop, Mapping):
            for key, value in self.stop.items():
                if not is_finite_number(value):
                    raise ConfigError(f"RunConfig.stop[{key!r}] must be a number, got {value!r}")
        elif isinstance(self.stop, str | int | float):
            raise _fail("RunConfig", "stop", "a dict of result fields, a function or a stopper", self.stop)
        # Normalise to ComponentSpec lists so that equivalent forms compare equal.
        stoppers = [component_spec("stopper", s, where=f"RunConfig.stoppers[{i}]") for i, s in enumerate(self.stoppers)]
        loggers = DEFAULT_LOGGERS if self.loggers is None else self.loggers
        if isinstance(loggers, str):
            loggers = [loggers]
        loggers = [component_spec("logger", x, where=f"RunConfig.loggers[{i}]") for i, x in enumerate(loggers)]
        object.__setattr__(self, "stoppers", stoppers)
        object.__setattr__(self, "loggers", loggers)

    def stopper_specs(self) -> list[ComponentSpec]:
        """The stoppers as :class:`ComponentSpec` (``stop`` not included)."""
        return self.stoppers

    def logger_specs(self) -> list[ComponentSpec]:
        """The loggers as :class:`ComponentSpec`."""
        return self.loggers or []  # a list once built (None is normalised to the defaults)


@attrs.frozen
class ExperimentSpec:
    """Everything that defines an experiment; Python (``Tuner``) and TOML files both build one."""

    trainable: Any
    """The training function or class, or a reference ``"pkg.module:name"`` / ``"path/file.py:name"``."""
    param_space: dict[str, Any] = attrs.field(factory=dict)
    """The search space (nested dicts of domains and constants)."""
    tune_config: TuneConfig = attrs.field(factory=TuneConfig)
    """What to optimise and how to search."""
    run_config: RunConfig = attrs.field(factory=RunConfig)
    """Where results go and how the run behaves."""

    def to_data(self) -> dict[str, Any]:
        """Plain data (JSON-ready) describing the experiment, as written to ``experiment.json``."""
        from tunecore.space import space_to_data

        tune, run = self.tune_config, self.run_config
        stop = run.stop
        return {
            "trainable": trainable_reference(self.trainable),
            "param_space": space_to_data(self.param_space),
            "metric": tune.metric,
            "mode": tune.mode,
            "num_samples": tune.num_samples,
            "seed": tune.seed,
            "searcher": tune.component("searcher").to_data(),
            "scheduler": tune.component("scheduler").to_data(),
            "executor": tune.component("executor").to_data(),
            "max_concurrent_trials": tune.max_concurrent_trials,
            "time_budget_s": tune.time_budget_s,
            "name": run.name,
            "storage_path": run.storage_path,
            "stop": dict(stop) if isinstance(stop, Mapping) else (None if stop is None else repr(stop)),
            "stoppers": [spec.to_data() for spec in run.stopper_specs()],
            "loggers": [spec.to_data() for spec in run.logger_specs()],
            "checkpoint_config": attrs.asdict(run.checkpoint_config),
            "failure_config": attrs.asdict(run.failure_config),
            "verbose": run.verbose,
        }


def trainable_reference(trainable: Any) -> str:
    """``"module:qualname"`` for a function or class, the string itself for a reference."""
    if isinstance(trainable, str):
        return trainable
    target = getattr(trainable, "__wrapped__", trainable)
    module = getattr(target, "__module__", None) or "?"
    name = getattr(target, "__qualname__", None) or type(target).__qualname__
    return f"{module}:{name}"
