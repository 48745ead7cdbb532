"""The typed facade through which the core broadcasts experiment events to plugins and loggers.

Core code never calls ``manager.hook.*`` directly: it calls these methods, which name every argument.
Loggers and callbacks of one experiment are attached with :meth:`Events.observe` for its duration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from tunecore.experiment import ExperimentInfo
    from tunecore.trial import Trial


class Events:
    """Broadcasts the experiment event hooks of :mod:`tunecore.hookspecs`."""

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self._manager = manager
        self._hook = manager.hook

    def observe(self, observer: Any, name: str | None = None) -> None:
        """Attach an object whose ``tunecore_*`` methods receive the events (a logger, a callback)."""
        self._manager.register(observer, name=name)

    def forget(self, observer: Any) -> None:
        """Detach an observer attached with :meth:`observe`."""
        if self._manager.is_registered(observer):
            self._manager.unregister(observer)

    def experiment_started(self, experiment: ExperimentInfo, trials: list[Trial] | None = None) -> None:
        """Broadcast ``tunecore_experiment_started`` (``trials``: those the experiment already has)."""
        self._hook.tunecore_experiment_started(experiment=experiment, trials=list(trials or ()))

    def trial_started(self, experiment: ExperimentInfo, trial: Trial) -> None:
        """Broadcast ``tunecore_trial_started``."""
        caller = self._hook.tunecore_trial_started
        if caller.get_hookimpls():  # a call with no implementation costs more than the check
            caller(experiment=experiment, trial=trial)

    def trial_result(self, experiment: ExperimentInfo, trial: Trial, result: dict[str, Any]) -> None:
        """Broadcast ``tunecore_trial_result``."""
        caller = self._hook.tunecore_trial_result
        if caller.get_hookimpls():  # a call with no implementation costs more than the check
            caller(experiment=experiment, trial=trial, result=result)

    def trial_checkpoint(self, experiment: ExperimentInfo, trial: Trial, checkpoint: Any) -> None:
        """Broadcast ``tunecore_trial_checkpoint``."""
        caller = self._hook.tunecore_trial_checkpoint
        if caller.get_hookimpls():  # a call with no implementation costs more than the check
            caller(experiment=experiment, trial=trial, checkpoint=checkpoint)

    def trial_paused(self, experiment: ExperimentInfo, trial: Trial) -> None:
        """Broadcast ``tunecore_trial_paused``."""
        caller = self._hook.tunecore_trial_paused
        if caller.get_hookimpls():  # a call with no implementation costs more than the check
            caller(experiment=experiment, trial=trial)

    def trial_restarted(
        self,
        experiment: ExperimentInfo,
        trial: Trial,
        old_config: dict[str, Any],
        new_config: dict[str, Any],
        checkpoint: Any,
    ) -> None:
        """Broadcast ``tunecore_trial_restarted``."""
        caller = self._hook.tunecore_trial_restarted
        if caller.get_hookimpls():  # a call with no implementation costs more than the check
            caller(
                experiment=experiment, trial=trial, old_config=old_config, new_config=new_config, checkpoint=checkpoint
            )

    def trial_retried(self, experiment: ExperimentInfo, trial: Trial, error: str, attempt: int) -> None:
        """Broadcast ``tunecore_trial_retried``."""
        caller = self._hook.tunecore_trial_retried
        if caller.get_hookimpls():  # a call with no implementation costs more than the check
            caller(experiment=experiment, trial=trial, error=error, attempt=attempt)

    def trial_finished(self, experiment: ExperimentInfo, trial: Trial, status: str, error: str | None) -> None:
        """Broadcast ``tunecore_trial_finished``."""
        caller = self._hook.tunecore_trial_finished
        if caller.get_hookimpls():  # a call with no implementation costs more than the check
            caller(experiment=experiment, trial=trial, status=status, error=error)

    def experiment_finished(self, experiment: ExperimentInfo, trials: list[Trial]) -> None:
        """Broadcast ``tunecore_experiment_finished``."""
        self._hook.tunecore_experiment_finished(experiment=experiment, trials=trials)
