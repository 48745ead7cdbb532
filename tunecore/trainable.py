"""Trainables: functions that call ``tunecore.report``, or subclasses of :class:`Trainable`.

Also the wrappers :func:`with_parameters` (ship large objects once per worker) and
:func:`with_resources` (resources each trial needs).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from tunecore.errors import ConfigError
from tunecore.executors.resources import DEFAULT, Resources


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
    def __init__(self, trainable: Any, resources: Resources) -> None:
        super().__init__(trainable)
        self.request = resources

    @property
    def resources(self) -> dict[str, float] | None:
        return self.request.totals()


def with_parameters(trainable: Any, **parameters: Any) -> Any:
    """Bind large objects to a trainable: ``train(config, data=...)`` or ``setup(self, config, data=...)``.

    The objects travel to each worker process once, with the trainable, instead of once per trial.
    """
    if not callable(unwrap(trainable)):
        raise ConfigError(f"with_parameters needs a function or Trainable class, got {type(trainable).__name__}")
    return _WithParameters(trainable, parameters)


def with_resources(trainable: Any, resources: dict[str, float] | list[dict[str, float]]) -> Any:
    """Declare what each trial needs: ``{"cpu": 2, "gpu": 0.5, "memory": 2e9, "my_accelerator": 1}``.

    ``gpu`` may be a fraction of one device (trials share it) or a whole count; ``memory`` is in bytes; any
    other key is a custom resource the executor must have (``local``: its ``resources`` option). A bundle
    that names no ``cpu`` gets one. A trial that starts several processes asks for a list of bundles, one
    per process: ``[{"cpu": 1, "gpu": 1}, {"cpu": 4}]``. The executor refuses, before any trial runs, a
    request it can never satisfy.
    """
    return _WithResources(trainable, Resources.parse(resources, "with_resources"))


def requested_resources(trainable: Any) -> Resources:
    """What each trial of ``trainable`` needs (:func:`with_resources`; default one CPU)."""
    while isinstance(trainable, _Wrapper):
        if isinstance(trainable, _WithResources):
            return trainable.request
        trainable = trainable.trainable
    return DEFAULT


def trial_resources(trainable: Any) -> dict[str, float]:
    """The totals of :func:`requested_resources`: ``{"cpu": .., "gpu": .., <others requested>: ..}``."""
    return requested_resources(trainable).totals()
