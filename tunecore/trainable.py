"""Trainables: functions that call ``tunecore.report``, or subclasses of :class:`Trainable`.

Also the wrappers :func:`with_parameters` (ship large objects once per worker) and
:func:`with_resources` (resources each trial needs).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from tunecore.errors import ConfigError


class Trainable:
    """Class API: tunecore calls :meth:`setup` once, then :meth:`step` until the trial stops.

    Each :meth:`step` returns a result dict (``{"done": True, ...}`` ends the trial). Checkpoints are
    taken with :meth:`save_checkpoint` every ``CheckpointConfig.checkpoint_frequency`` iterations and at the
    end with ``checkpoint_at_end``; a trial resumed from a checkpoint gets :meth:`load_checkpoint` after
    :meth:`setup`. Return True from :meth:`reset_config` to let a worker reuse this instance for the next
    trial instead of building a new one.
    """

    def __init__(self) -> None:
        self.config: dict[str, Any] = {}

    def setup(self, config: dict[str, Any]) -> None:
        """Build what the trial needs from its config."""

    def step(self) -> dict[str, Any]:
        """Train one iteration and return its result."""
        raise NotImplementedError(f"{type(self).__name__} must implement step()")

    def save_checkpoint(self, checkpoint_dir: str) -> None:
        """Write the state needed to resume into ``checkpoint_dir``."""

    def load_checkpoint(self, checkpoint_dir: str) -> None:
        """Restore the state written by :meth:`save_checkpoint`."""

    def reset_config(self, new_config: dict[str, Any]) -> bool:
        """Prepare for a new trial with ``new_config`` without a new instance; True if done."""
        return False

    def cleanup(self) -> None:
        """Release resources when the instance is discarded."""


def is_class_trainable(trainable: Any) -> bool:
    """True for subclasses of :class:`Trainable` (possibly wrapped)."""
    target = unwrap(trainable)
    return isinstance(target, type) and issubclass(target, Trainable)


def unwrap(trainable: Any) -> Any:
    """The user's function or class inside the tunecore wrappers."""
    while isinstance(trainable, _Wrapper):
        trainable = trainable.trainable
    return trainable


class _Wrapper:
    """Base of the wrappers; keeps the user's trainable and its resources."""

    def __init__(self, trainable: Any) -> None:
        self.trainable = trainable
        functools.update_wrapper(self, unwrap(trainable), updated=())  # type: ignore[arg-type]  # typeshed: functions only

    @property
    def resources(self) -> dict[str, float] | None:
        return getattr(self.trainable, "resources", None) if isinstance(self.trainable, _Wrapper) else None

    def build(self) -> Any:
        """The callable or class to run (with its parameters bound)."""
        return self.trainable.build() if isinstance(self.trainable, _Wrapper) else self.trainable


class _WithParameters(_Wrapper):
    def __init__(self, trainable: Any, parameters: dict[str, Any]) -> None:
        super().__init__(trainable)
        self.parameters = parameters

    def build(self) -> Any:
        inner = super().build()
        parameters = self.parameters
        if isinstance(inner, type) and issubclass(inner, Trainable):
            return type(inner.__name__, (inner,), {"setup": _setup_with(inner.setup, parameters)})
        return functools.partial(inner, **parameters)


def _setup_with(setup: Callable[..., Any], parameters: dict[str, Any]) -> Callable[..., Any]:
    def bound_setup(self: Trainable, config: dict[str, Any]) -> None:
        setup(self, config, **parameters)

    return bound_setup


class _WithResources(_Wrapper):
    def __init__(self, trainable: Any, resources: dict[str, float]) -> None:
        super().__init__(trainable)
        self._resources = resources

    @property
    def resources(self) -> dict[str, float] | None:
        return self._resources


def with_parameters(trainable: Any, **parameters: Any) -> Any:
    """Bind large objects to a trainable: ``train(config, data=...)`` or ``setup(self, config, data=...)``.

    The objects travel to each worker process once, with the trainable, instead of once per trial.
    """
    if not callable(unwrap(trainable)):
        raise ConfigError(f"with_parameters needs a function or Trainable class, got {type(trainable).__name__}")
    return _WithParameters(trainable, parameters)


def with_resources(trainable: Any, resources: dict[str, float]) -> Any:
    """Declare what each trial needs, e.g. ``{"cpu": 1, "gpu": 0.5}`` (fractions share a device)."""
    if not isinstance(resources, dict) or not resources:
        raise ConfigError(f"with_resources needs a dict such as {{'cpu': 1, 'gpu': 0.5}}, got {resources!r}")
    for key, value in resources.items():
        if key not in ("cpu", "gpu") or isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"with_resources: {key!r}: {value!r} is not valid; use 'cpu' and 'gpu' with numbers >= 0")
    if resources.get("gpu", 0) > 1 and resources["gpu"] != int(resources["gpu"]):
        raise ConfigError(f"with_resources: a gpu count above 1 must be whole, got {resources['gpu']}")
    return _WithResources(trainable, dict(resources))


def trial_resources(trainable: Any) -> dict[str, float]:
    """The resources each trial of ``trainable`` needs (default one CPU, no GPU)."""
    declared = trainable.resources if isinstance(trainable, _Wrapper) else None
    return {"cpu": 1.0, "gpu": 0.0, **(declared or {})}
