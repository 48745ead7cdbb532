"""Runs one trial of a trainable inside a session: the code every executor shares.

:class:`TrialRunner` lives where trials run (the driver for ``inline``, each worker process for
``local``). It builds the trainable once, runs function and class trainables, reuses class instances that
accept :meth:`Trainable.reset_config`, and turns every way a trial can end into a :class:`TrialOutcome`.
"""

from __future__ import annotations

import tempfile
import traceback
from typing import Any

import attrs

from tunecore.checkpoint import Checkpoint
from tunecore.protocols import Action
from tunecore.session import ReportChannel, Session, TrialContext, TrialDone, TrialInterrupt, activate
from tunecore.trainable import Trainable, _Wrapper

COMPLETED = "completed"
STOPPED = "stopped"
ERRORED = "error"


@attrs.frozen
class TrialLaunch:
    """Everything needed to start (or resume) one trial."""

    trial_id: str
    """The trial's id."""
    config: dict[str, Any]
    """The config to run."""
    trial_dir: str
    """Its directory (exists)."""
    checkpoint: str | None = None
    """A checkpoint directory to resume from."""
    resources: dict[str, float] = attrs.field(factory=dict)
    """Resources the trial needs."""
    seed: int | None = None
    """Seed for the trainable's own randomness."""
    start_iteration: int = 0
    """``training_iteration`` already done (continuing a paused or restarted trial)."""
    time_total_s: float = 0.0
    """Training time already spent."""
    checkpoint_frequency: int = 0
    """Class trainables: checkpoint every N iterations (0 = never)."""
    checkpoint_at_end: bool = False
    """Class trainables: checkpoint when the trial ends."""


@attrs.frozen
class TrialOutcome:
    """How a run of a trial ended."""

    kind: str
    """``"completed"`` (returned or done), ``"stopped"`` (interrupted by a decision) or ``"error"``."""
    error: str | None = None
    """The formatted traceback for ``"error"``."""
    action: Action | None = None
    """For ``"stopped"``: the action that interrupted it."""


class TrialRunner:
    """Runs trials of one trainable, one at a time."""

    def __init__(self, trainable: Any) -> None:
        self.target = trainable.build() if isinstance(trainable, _Wrapper) else trainable
        self.is_class = isinstance(self.target, type) and issubclass(self.target, Trainable)
        self._instance: Trainable | None = None

    def run(self, launch: TrialLaunch, channel: ReportChannel) -> TrialOutcome:
        """Run ``launch`` to its end, reporting through ``channel``."""
        context = TrialContext(
            trial_id=launch.trial_id,
            trial_dir=launch.trial_dir,
            config=launch.config,
            resources=launch.resources,
            seed=launch.seed,
            start_iteration=launch.start_iteration,
        )
        session = Session(context, channel, launch.checkpoint, launch.time_total_s)
        previous = activate(session)
        try:
            if self.is_class:
                self._run_class(launch, session)
            else:
                returned = self.target(dict(launch.config))
                if isinstance(returned, dict):
                    session.report(returned, final=True)
                elif returned is not None:
                    raise TypeError(
                        "a function trainable may return a dict of final metrics or None,"
                        f" got {type(returned).__name__}"
                    )
        except TrialInterrupt as interrupt:
            return TrialOutcome(STOPPED, action=interrupt.action)
        except TrialDone:  # a function reported done=True: it ends there, as a class trainable does
            pass
        except Exception:
            self._discard_instance()
            return TrialOutcome(ERRORED, error=traceback.format_exc())
        finally:
            activate(previous)
        return TrialOutcome(COMPLETED)

    def _run_class(self, launch: TrialLaunch, session: Session) -> None:
        instance = self._instance_for(launch.config)
        if launch.checkpoint:
            instance.load_checkpoint(launch.checkpoint)
        frequency = launch.checkpoint_frequency
        while True:
            result = instance.step()
            if not isinstance(result, dict):
                raise TypeError(f"{type(instance).__name__}.step() must return a dict, got {type(result).__name__}")
            done = bool(result.get("done", False))
            iteration = session.iteration + 1
            wants_checkpoint = (frequency and iteration % frequency == 0) or (done and launch.checkpoint_at_end)
            session.report(result, checkpoint=self._save(instance) if wants_checkpoint else None, final=done)
            if done:
                return

    def _instance_for(self, config: dict[str, Any]) -> Trainable:
        if self._instance is not None and self._instance.reset_config(dict(config)):
            self._instance.config = dict(config)
            return self._instance
        self._discard_instance()
        instance = self.target()
        instance.config = dict(config)
        instance.setup(dict(config))
        self._instance = instance
        return instance

    @staticmethod
    def _save(instance: Trainable) -> Checkpoint:
        directory = tempfile.mkdtemp(prefix="tunecore-ckpt-")
        instance.save_checkpoint(directory)
        return Checkpoint(directory, owned=True)

    def _discard_instance(self) -> None:
        instance, self._instance = self._instance, None
        if instance is not None:
            instance.cleanup()

    def close(self) -> None:
        """Clean up a kept class instance (when the worker or executor shuts down)."""
        self._discard_instance()
