"""How a running trial hands its results to its executor: the :class:`ReportChannel` protocol."""

from __future__ import annotations

from typing import Any, Protocol

from tunecore.protocols import Action


class ReportChannel(Protocol):
    """The trial's side of an executor (one per worker or per trial); :class:`TrialRunner` calls it.

    At every ``report()`` the session first asks :meth:`action`: anything but CONTINUE ends the trial
    there, without delivering the new result; otherwise it hands the result to :meth:`send`. So a
    decision about result *k* takes effect exactly at the trial's next ``report()``, whether the channel
    waits for it there (pipelined, across processes) or already has it (in-process). A stop request
    (``Executor.stop``) is answered by :meth:`send`: the result it delivers is the trial's last.
    """

    def action(self) -> Action:
        """The decision about the previous result (wait for it when it is not known yet); CONTINUE when
        there is none (the first report) or it says go on."""

    def send(self, trial_id: str, result: dict[str, Any], checkpoint: str | None) -> Action:
        """Hand over one result (``checkpoint``: a directory in the trial's directory, or None) without
        waiting for the decision about it; a result with ``done=True`` is the last and gets none.

        Return STOP when the executor was asked to stop the trial (the trial ends right after this result),
        else CONTINUE.
        """
