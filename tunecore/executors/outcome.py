"""How a launch ended: :class:`Outcome`, and the :class:`TrialOutcome` the trial runner returns."""

from __future__ import annotations

import enum

import attrs

from tunecore.protocols import Action


class Outcome(str, enum.Enum):
    """How one launch of a trial ended; the values are plain strings (``Outcome.ERRORED == "error"``)."""

    COMPLETED = "completed"
    """The trainable returned, or reported ``done=True`` (also after a decision that never met a report)."""
    STOPPED = "stopped"
    """A decision (STOP, PAUSE, restart) or ``Executor.stop`` ended it at its next report, or by force."""
    ERRORED = "error"
    """The trainable raised (the error is its formatted traceback)."""
    WORKER_DIED = "worker_died"
    """The process or actor running it died (segfault, ``os._exit``, killed, out of memory)."""

    @property
    def is_failure(self) -> bool:
        """True for ERRORED and WORKER_DIED: the controller retries per ``FailureConfig.max_failures``."""
        return self is Outcome.ERRORED or self is Outcome.WORKER_DIED

    def __str__(self) -> str:
        return self.value


@attrs.frozen
class TrialOutcome:
    """How a run of a trial ended, as :meth:`TrialRunner.run` returns it."""

    kind: Outcome = attrs.field(converter=Outcome)
    """COMPLETED, STOPPED or ERRORED (the runner never sees its own process die)."""
    error: str | None = None
    """The formatted traceback for ERRORED."""
    action: Action | None = None
    """For STOPPED: the action that interrupted it."""
