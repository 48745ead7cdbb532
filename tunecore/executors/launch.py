"""What the controller hands an executor to start one trial: :class:`TrialLaunch`."""

from __future__ import annotations

from typing import Any

import attrs

from tunecore.executors.resources import DEFAULT, Resources, restore_resources, to_resources
from tunecore.executors.tokens import new_token


@attrs.frozen
class TrialLaunch:
    """Everything needed to start (or resume) one trial; picklable, sent to the worker as it is."""

    trial_id: str
    """The trial's id."""
    config: dict[str, Any]
    """The config to run."""
    trial_dir: str
    """Its directory (reported checkpoints are stored there)."""
    checkpoint: str | None = None
    """A checkpoint directory to start from (``tunecore.get_checkpoint()`` returns it), or None."""
    resources: Resources = attrs.field(default=DEFAULT, converter=to_resources)
    """What the trial needs (a dict or a list of bundles is converted); the executor grants exactly that."""
    seed: int | None = None
    """Seed for the trainable's own randomness (``get_context().seed``)."""
    start_iteration: int = 0
    """``training_iteration`` already done (continuing a paused, restarted or retried trial)."""
    time_total_s: float = 0.0
    """Training time already spent."""
    checkpoint_frequency: int = 0
    """Class trainables: checkpoint every N iterations (0 = never)."""
    checkpoint_at_end: bool = False
    """Class trainables: checkpoint when the trial ends."""
    token: int = attrs.field(factory=new_token)
    """Unique per launch in this process (see :mod:`tunecore.executors.tokens`); callers need not pass it."""

    def __reduce__(self) -> tuple[Any, ...]:  # positional and flat: one is pickled for every launch
        return (
            _rebuild,
            (
                self.trial_id,
                self.config,
                self.trial_dir,
                self.checkpoint,
                self.resources.wire(),
                self.seed,
                self.start_iteration,
                self.time_total_s,
                self.checkpoint_frequency,
                self.checkpoint_at_end,
                self.token,
            ),
        )


def _rebuild(
    trial_id: str, config: dict[str, Any], trial_dir: str, checkpoint: str | None, resources: Any, *rest: Any
) -> TrialLaunch:
    return TrialLaunch(trial_id, config, trial_dir, checkpoint, restore_resources(resources), *rest)
