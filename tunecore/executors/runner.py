"""The far side of every executor: :class:`TrialRunner` runs a trainable's trials, one at a time.

It lives where trials run (the driver for ``inline``, each worker process for ``local``, each actor for a
cluster executor). It builds the trainable once, runs function and class trainables inside a session
(``tunecore.report`` and friends), reuses class instances that accept ``Trainable.reset_config``, and
turns every way a trial can end into a :class:`TrialOutcome`. Because every executor runs this same code,
"a decision takes effect exactly at the trial's next ``report()``" means the same everywhere.
"""

from __future__ import annotations

import tempfile
import traceback
from typing import Any

from tunecore.checkpoint import Checkpoint
from tunecore.executors.channel import ReportChannel
from tunecore.executors.launch import TrialLaunch
from tunecore.executors.outcome import Outcome, TrialOutcome
from tunecore.session import Session, TrialContext, TrialDone, TrialInterrupt, activate
from tunecore.trainable import Trainable, _Wrapper


class TrialRunner:
    """Runs trials of one trainable (as given to ``Executor.start``), one at a time, on this thread."""

    def __init__(self, trainable: Any) -> None:
        self.target = trainable.build() if isinstance(trainable, _Wrapper) else trainable
        self.is_class = isinstance(self.target, type) and issubclass(self.target, Trainable)
        self._instance: Trainable | None = None

    def run(self, launch: TrialLaunch, channel: ReportChannel) -> TrialOutcome:
        """Run ``launch`` to its end, reporting through ``channel``; never raises for the trial's errors.

        Returns COMPLETED (returned or done), STOPPED (a report found an action other than CONTINUE) or
        ERRORED (the trainable raised; with the traceback). BaseExceptions other than the session's own
        (KeyboardInterrupt, SystemExit, an executor's own signal) propagate.
        """
        resources = launch.resources
        context = TrialContext(
            trial_id=launch.trial_id,
            trial_dir=launch.trial_dir,
            config=launch.config,
            resources=resources.totals(),
            seed=launch.seed,
            start_iteration=launch.start_iteration,
            bundles=[dict(bundle) for bundle in resources.bundles],
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
            return TrialOutcome(Outcome.STOPPED, action=interrupt.action)
        except TrialDone:  # a function reported done=True: it ends there, as a class trainable does
            pass
        except Exception:
            self._discard_instance()
            return TrialOutcome(Outcome.ERRORED, error=traceback.format_exc())
        finally:
            activate(previous)
        return _COMPLETED

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


_COMPLETED = TrialOutcome(Outcome.COMPLETED)
