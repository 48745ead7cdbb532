"""The ``inline`` executor: trials run in the driver process, one at a time, with no isolation.

The lowest overhead there is — each ``report()`` is a direct call into the controller — for debugging
(breakpoints work) and for very cheap objectives. A trial that crashes the interpreter takes the
experiment with it; use ``local`` for isolation.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from tunecore.protocols import Action, Executor, ExecutorHandler
from tunecore.runner import STOPPED, TrialLaunch, TrialRunner


class _HandlerFailed(BaseException):
    """Carries an error of the controller (not of the trial) through the trainable's frames."""


class InlineExecutor(Executor):
    """Runs each trial to its end inside :meth:`process`, in this process."""

    def __init__(self) -> None:
        self._queue: deque[TrialLaunch] = deque()
        self._runner: TrialRunner | None = None
        self._handler: ExecutorHandler | None = None
        self._current: str | None = None
        self._stop_requested: set[str] = set()

    def start(self, trainable: Any, handler: ExecutorHandler) -> None:
        """Prepare the trainable (built once) and remember the handler."""
        self._runner = TrialRunner(trainable)
        self._handler = handler

    def capacity(self, resources: dict[str, float]) -> int:
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
        try:
            outcome = self._runner.run(launch, self)
        except _HandlerFailed as failed:
            raise failed.__cause__ from None  # type: ignore[misc]
        finally:
            self._current = None
            self._stop_requested.discard(launch.trial_id)
        self._handler.on_trial_end(launch.trial_id, outcome.kind, outcome.error)

    def report(self, trial_id: str, result: dict[str, Any], checkpoint: str | None) -> Action:
        """The session's channel: decide synchronously through the handler."""
        assert self._handler is not None
        try:
            action = self._handler.on_result(trial_id, result, checkpoint).action
        except Exception as exc:  # the controller's or a component's error: end the experiment, not the trial
            raise _HandlerFailed() from exc
        if trial_id in self._stop_requested and action is Action.CONTINUE:
            return Action.STOP
        return action

    def stop(self, trial_id: str, force: bool = False) -> None:
        """Stop a queued trial now, or the running one at its next report (force cannot interrupt it)."""
        for launch in list(self._queue):
            if launch.trial_id == trial_id:
                self._queue.remove(launch)
                assert self._handler is not None
                self._handler.on_trial_end(trial_id, STOPPED, None)
                return
        if trial_id == self._current:
            self._stop_requested.add(trial_id)

    def running(self) -> int:
        """Queued trials plus the one running."""
        return len(self._queue) + (self._current is not None)

    def shutdown(self) -> None:
        """Clean up a kept class-trainable instance."""
        self._queue.clear()
        if self._runner is not None:
            self._runner.close()
