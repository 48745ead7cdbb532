"""The two sides of the executor contract: :class:`Executor` (a plugin implements it) and
:class:`ExecutorHandler` (the controller implements it). The rules are in :mod:`tunecore.executors`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tunecore.executors.launch import TrialLaunch
    from tunecore.executors.outcome import Outcome
    from tunecore.executors.resources import ResourceRequest
    from tunecore.protocols import Decision


class ExecutorHandler:
    """What an executor calls back into (the controller), only from inside its ``process()`` or ``stop()``.

    ``on_result`` is called for every result, in the order the trial reported them; the returned
    :class:`~tunecore.Decision`'s action is what the trial's next ``report()`` acts on (CONTINUE goes on;
    STOP, PAUSE and RESTART end the launch STOPPED). ``on_trial_end`` is called exactly once per launch,
    after its last ``on_result``.
    """

    def on_result(self, trial_id: str, result: dict[str, Any], checkpoint: str | None) -> Decision:
        """A trial reported ``result`` (with ``checkpoint``, a directory in its trial dir, or None)."""
        raise NotImplementedError

    def on_trial_end(self, trial_id: str, outcome: Outcome, error: str | None) -> None:
        """A launch ended with ``outcome`` (``error``: a traceback or what happened, for failures)."""
        raise NotImplementedError


class Executor:
    """Runs trials somewhere (this process, worker processes, a cluster) and streams their results.

    Call order: :meth:`start` once; then :meth:`capacity` / :meth:`launch` and :meth:`process`, repeatedly;
    :meth:`stop` for a trial the controller ends outside a decision (time budget, experiment stop);
    :meth:`shutdown` once, which leaves nothing running. See :mod:`tunecore.executors` for the rules.
    """

    def start(self, trainable: Any, handler: ExecutorHandler) -> None:
        """Prepare to run ``trainable`` (ship it to workers once); results go to ``handler``.

        Raise :class:`~tunecore.executors.ResourceError` when the trainable's request
        (:func:`~tunecore.executors.requested_resources`) can never be satisfied here.
        """
        raise NotImplementedError

    def capacity(self, resources: ResourceRequest) -> int:
        """How many more trials needing ``resources`` (a dict or :class:`~tunecore.executors.Resources`)
        each could be launched right now."""
        raise NotImplementedError

    def launch(self, launch: TrialLaunch) -> None:
        """Start the trial ``launch`` describes (after :meth:`capacity` said it fits); do not wait for it."""
        raise NotImplementedError

    def process(self, timeout: float) -> None:
        """Deliver pending results and ends to the handler, waiting up to ``timeout`` s for the first."""
        raise NotImplementedError

    def stop(self, trial_id: str, force: bool = False) -> None:
        """Ask a trial to stop at its next report; ``force``: end it now (kill its worker), calling
        ``on_trial_end(STOPPED)`` before returning. A trial that is not running is ignored."""
        raise NotImplementedError

    def running(self) -> int:
        """How many launched trials have not ended yet."""
        raise NotImplementedError

    def shutdown(self) -> None:
        """End every trial and worker and release everything; trials still running get no ``on_trial_end``.
        Calling it again does nothing."""
        raise NotImplementedError
