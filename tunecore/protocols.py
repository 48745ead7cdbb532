"""The component protocols: what searchers, schedulers, stoppers and loggers implement.

Executors have their own contract, :mod:`tunecore.executors` (``Executor`` and ``ExecutorHandler`` are
importable from here too).

Each protocol is a small base class with working defaults; a plugin may subclass it or provide any object
with the same methods. Factories registered by plugins receive only the user's options; the experiment's
``metric``, ``mode`` and ``seed`` arrive through ``setup`` so that one set of options works everywhere.

Order of calls made by the controller, per experiment:

1. ``setup(...)`` on the searcher, scheduler and every stopper, once, before anything else.
2. While capacity allows: ``searcher.suggest(trial_id)``; for each new config, ``scheduler.on_trial_add``.
   ``scheduler.choose_trial_to_run`` picks which pending or paused trial starts next.
3. For every result: each stopper's ``should_stop``, then ``scheduler.on_trial_result`` (whose
   :class:`Decision` is applied), then ``searcher.on_trial_result``, then the loggers.
4. When a trial ends: ``scheduler.on_trial_complete`` (or ``on_trial_error``), then
   ``searcher.on_trial_complete``.
5. After every result, ``stop_all()`` of each stopper; ``save()`` whenever the state is persisted.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, ClassVar, Final

import attrs

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tunecore.executors.base import Executor as Executor
    from tunecore.executors.base import ExecutorHandler as ExecutorHandler
    from tunecore.trial import Trial


class Finished(enum.Enum):
    """The type of :data:`FINISHED` (for type hints: ``def suggest(...) -> dict[str, Any] | Finished | None``)."""

    FINISHED = "FINISHED"

    def __repr__(self) -> str:
        return "FINISHED"


_Finished = Finished  # the name before it was public

FINISHED: Final = Finished.FINISHED
"""Returned by :meth:`Searcher.suggest` when the searcher has nothing more to propose."""


class Action(str, enum.Enum):
    """What a scheduler decides for a trial after one of its results."""

    CONTINUE = "CONTINUE"
    PAUSE = "PAUSE"
    STOP = "STOP"
    RESTART = "RESTART"


@attrs.frozen
class Decision:
    """A scheduler's decision: CONTINUE, PAUSE, STOP, or restart with a config from a checkpoint."""

    action: Action
    """What to do."""
    config: dict[str, Any] | None = None
    """For a restart: the config the trial starts again with."""
    checkpoint: Any = None
    """For a restart: the checkpoint it starts from (None = from scratch)."""

    @classmethod
    def restart(cls, config: dict[str, Any], checkpoint: Any = None) -> Decision:
        """Stop the trial and start it again with ``config`` from ``checkpoint`` (what PBT needs)."""
        return cls(Action.RESTART, config=config, checkpoint=checkpoint)


CONTINUE: Final = Decision(Action.CONTINUE)
"""Let the trial go on."""
PAUSE: Final = Decision(Action.PAUSE)
"""Pause the trial at its next report; it may be resumed later from its latest checkpoint."""
STOP: Final = Decision(Action.STOP)
"""Stop the trial at its next report; it ends TERMINATED."""


class Searcher:
    """Proposes configurations. Subclass and override :meth:`suggest` at least."""

    replayable: ClassVar[bool] = False
    """True when replaying the journal into this component restored from an older snapshot gives exactly its
    live state (docs/plugins.md, "Snapshots and replay"): the core then snapshots the components at most once a
    second instead of at every trial creation and end. Only the component's own class counts (a subclass may
    add state: it must set it again); False unless a class says so."""
    metric: str | list[str] | None = None
    mode: str | list[str] | None = None

    def setup(
        self,
        space: dict[str, Any],
        metric: str | list[str] | None,
        mode: str | list[str] | None,
        seed: int | None,
        num_samples: int = 1,
    ) -> None:
        """Receive the search space, the metric and mode, the experiment's seed and ``num_samples``.

        The controller creates at most ``num_samples`` trials per grid point of the space (-1 = no
        limit); a searcher may stop earlier by returning :data:`FINISHED`.
        """
        self.metric, self.mode = metric, mode

    def suggest(self, trial_id: str) -> dict[str, Any] | Finished | None:
        """A config for a new trial, ``None`` for "not now" (waiting on results), or :data:`FINISHED`."""
        raise NotImplementedError

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        """An intermediate result of a trial this searcher suggested."""

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None, error: bool = False) -> None:
        """A trial ended: its last result (None when it reported none) and whether it failed."""

    def save(self) -> Any:
        """State to persist for resume (picklable); None when there is nothing to save."""
        return None

    def restore(self, state: Any) -> None:
        """Restore the state returned by :meth:`save`."""


class Scheduler:
    """Decides whether running trials continue, pause or stop; the default runs everything to the end."""

    replayable: ClassVar[bool] = False
    """True when replaying the journal into this component restored from an older snapshot gives exactly its
    live state (docs/plugins.md, "Snapshots and replay"): the core then snapshots the components at most once a
    second instead of at every trial creation and end. Only the component's own class counts (a subclass may
    add state: it must set it again); False unless a class says so."""
    metric: str | None = None
    mode: str | None = None

    def setup(self, metric: str | None, mode: str | None) -> None:
        """Receive the metric and mode to optimise."""
        self.metric, self.mode = metric, mode

    def on_trial_add(self, trial: Trial) -> None:
        """A new trial was created."""

    def on_trial_result(self, trial: Trial, result: dict[str, Any]) -> Decision:
        """Decide about a trial after one of its results."""
        return CONTINUE

    def on_trial_complete(self, trial: Trial, result: dict[str, Any] | None) -> None:
        """A trial ended normally (or was stopped)."""

    def on_trial_error(self, trial: Trial) -> None:
        """A trial failed."""

    def choose_trial_to_run(self, pending: Sequence[Trial], paused: Sequence[Trial]) -> Trial | None:
        """Pick the next trial to start among pending and paused ones (default: first pending).

        A paused trial that is chosen continues from its latest checkpoint. The controller may also call
        this with nothing pending to learn whether a paused trial can still run (it then launches it).
        """
        return pending[0] if pending else None

    def choose_trials_to_stop(self, paused: Sequence[Trial]) -> Sequence[Trial]:
        """Paused trials that will never be resumed (e.g. eliminated at a rung): they end TERMINATED.

        Called before each round of launches while trials are paused. Paused trials still there when
        nothing else can run also end TERMINATED.
        """
        return ()

    def save(self) -> Any:
        """State to persist for resume (picklable)."""
        return None

    def restore(self, state: Any) -> None:
        """Restore the state returned by :meth:`save`."""


class Stopper:
    """Ends single trials (:meth:`should_stop`) or the whole experiment (:meth:`stop_all`)."""

    replayable: ClassVar[bool] = False
    """True when replaying the journal into this component restored from an older snapshot gives exactly its
    live state (docs/plugins.md, "Snapshots and replay"): the core then snapshots the components at most once a
    second instead of at every trial creation and end. Only the component's own class counts (a subclass may
    add state: it must set it again); False unless a class says so."""
    metric: str | list[str] | None = None
    mode: str | list[str] | None = None

    def setup(self, metric: str | list[str] | None, mode: str | list[str] | None) -> None:
        """Receive the experiment's metric and mode (lists in a multi-objective experiment: a stopper that
        watches one metric resolves its own with :func:`tunecore.options.check_objective`)."""
        self.metric, self.mode = metric, mode

    def should_stop(self, trial_id: str, result: dict[str, Any]) -> bool:
        """True to stop this trial after this result."""
        return False

    def stop_all(self) -> bool:
        """True to stop the whole experiment."""
        return False

    def save(self) -> Any:
        """State to persist for resume (picklable)."""
        return None

    def restore(self, state: Any) -> None:
        """Restore the state returned by :meth:`save`."""


class Logger:
    """Observes experiment events: implement any of the ``tunecore_*`` event hooks as methods.

    The methods take the arguments documented in :mod:`tunecore.hookspecs`, by name (any subset), e.g.
    ``def tunecore_trial_result(self, trial, result): ...``. A logger is attached to one experiment.
    """


def __getattr__(name: str) -> Any:
    """``Executor`` and ``ExecutorHandler`` live in :mod:`tunecore.executors` (imported on first use here)."""
    if name in ("Executor", "ExecutorHandler"):
        from tunecore.executors import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
