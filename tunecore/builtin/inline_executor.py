"""The ``inline`` executor: trials run in the driver process, one at a time, with no isolation.

The lowest overhead there is — each ``report()`` is a direct call into the controller — for debugging
(breakpoints work) and for very cheap objectives. A trial that crashes the interpreter takes the
experiment with it; use ``local`` for isolation.

Resources: ``inline`` accepts any request and reserves nothing. It runs one trial at a time inside the
driver, which has whatever this process has; the request is passed on to ``get_context().resources`` as
declared, so that a trainable written for ``with_resources(train, {"gpu": 1})`` can be debugged here on
any machine. ``local`` is the executor that accounts for resources and refuses an impossible request.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from tunecore.executors import (
    Action,
    Executor,
    ExecutorHandler,
    Outcome,
    ResourceRequest,
    TrialLaunch,
    TrialRunner,
)


class _HandlerFailed(BaseException):
    """Carries an error of the controller (not of the trial) through the trainable's frames."""


class InlineExecutor(Executor):
    """Runs each trial to its end inside :meth:`process`, in this process."""

    def __init__(self) -> None:
        self._queue: deque[TrialLaunch] = deque()
        self._runner: TrialRunner | None = None
        self._handler: ExecutorHandler | None = None
        self._current: str | None = None
        self._action = Action.CONTINUE
        self._stop_requested = False

    def start(self, trainable: Any, handler: ExecutorHandler) -> None:
        """Prepare the trainable (built once) and remember the handler; any resource request is accepted."""
        self._runner = TrialRunner(trainable)
        self._handler = handler

    def capacity(self, resources: ResourceRequest) -> int:
        """One trial at a time: 1 when nothing is queued."""
        return 0 if self._queue else 1

    def launch(self, launch: TrialLaunch) -> None:
        """Queue the trial; it runs during the next :meth:`process`."""
        self._queue.append(launch)

    def process(self, timeout: float) -> None:
        """Run the queued trial to its end (results go to the handler as they are reported)."""
        if not self._queue:
            return
        assert self._runner is not None and self._handler is not None
        launch = self._queue.popleft()
        self._current = launch.trial_id
        self._action, self._stop_requested = Action.CONTINUE, False
        try:
            outcome = self._runner.run(launch, self)
        except _HandlerFailed as failed:
            raise failed.__cause__ from None  # type: ignore[misc]
        finally:
            self._current = None
        self._handler.on_trial_end(launch.trial_id, outcome.kind, outcome.error)

    # -- the ReportChannel of the running trial ---------------------------------------------------------

    def action(self) -> Action:
        """The decision about the trial's previous result."""
        return self._action

    def send(self, trial_id: str, result: dict[str, Any], checkpoint: str | None) -> Action:
        """Decide synchronously through the handler (the decision applies at the trial's next report);
        STOP when a stop was requested before or during the call."""
        assert self._handler is not None
        try:
            decision = self._handler.on_result(trial_id, result, checkpoint)
        except Exception as exc:  # the controller's or a component's error: end the experiment, not the trial
            raise _HandlerFailed() from exc
        if decision is not None:
            self._action = decision.action
        return Action.STOP if self._stop_requested else Action.CONTINUE

    # -------------------------------------------------------------------------------------------------

    def stop(self, trial_id: str, force: bool = False) -> None:
        """Stop a queued trial now, or the running one right after its next result (force cannot interrupt
        it: it runs on this thread)."""
        for launch in self._queue:
            if launch.trial_id == trial_id:
                self._queue.remove(launch)
                assert self._handler is not None
                self._handler.on_trial_end(trial_id, Outcome.STOPPED, None)
                return
        if trial_id == self._current:
            self._stop_requested = True

    def running(self) -> int:
        """Queued trials plus the one running."""
        return len(self._queue) + (self._current is not None)

    def shutdown(self) -> None:
        """Clean up a kept class-trainable instance."""
        self._queue.clear()
        if self._runner is not None:
            self._runner.close()
