"""What a running trainable calls: ``report``, ``get_checkpoint``, ``get_context``.

Each executor runs a trial inside a :class:`Session` (through :class:`tunecore.executors.TrialRunner`),
which fills in the automatic result fields, stores reported checkpoints in the trial's directory, hands
each result to the executor's :class:`~tunecore.executors.ReportChannel` and unwinds the trainable with
:class:`TrialInterrupt` at the report after a decision to stop, pause or restart it.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from typing import Any

import attrs

from tunecore.checkpoint import Checkpoint, store_checkpoint
from tunecore.errors import TuneError
from tunecore.executors.channel import ReportChannel
from tunecore.protocols import Action

__all__ = [
    "AUTO_FIELDS",
    "ReportChannel",
    "Session",
    "TrialContext",
    "TrialDone",
    "TrialInterrupt",
    "activate",
    "get_checkpoint",
    "get_context",
    "report",
]


AUTO_FIELDS = (
    "training_iteration",
    "time_this_iter_s",
    "time_total_s",
    "timestamp",
    "trial_id",
    "pid",
    "hostname",
    "done",
)
"""The fields :meth:`Session.report` adds to every result, in their order (Ray Tune's names): the views and
loggers that show what a trainable reported leave these out. ``pid`` and ``hostname`` name the process that
ran the trial (a worker of the local executor, a Ray actor): the timeline of a report has a lane per worker."""

_HOSTNAME = socket.gethostname()


@attrs.frozen
class TrialContext:
    """What :func:`get_context` returns inside a trial."""

    trial_id: str
    """The trial's id."""
    trial_dir: str
    """The trial's directory (absolute; exists once :func:`get_context` returned); the working directory
    is not changed."""
    config: dict[str, Any]
    """The trial's config."""
    resources: dict[str, float]
    """Resources assigned to the trial, in all: e.g. ``{"cpu": 1, "gpu": 0.5}``."""
    seed: int | None
    """A seed derived from the experiment's seed and the trial, for the trainable's own randomness."""
    start_iteration: int
    """``training_iteration`` already done when this run of the trial started (from a checkpoint)."""
    bundles: list[dict[str, float]] = attrs.field(factory=list)
    """The bundles of ``resources``, one per process the trial starts (one bundle for most trials)."""

    @property
    def iteration(self) -> int:
        """The number of results reported so far, counting those before a resume."""
        session = _current_session()
        return session.iteration if session is not None and session.context is self else self.start_iteration


class TrialInterrupt(BaseException):
    """Raised from ``report()`` to end a trial the scheduler stopped or paused.

    It derives from BaseException so that a trainable's ``except Exception`` cannot swallow it.
    """

    def __init__(self, action: Action) -> None:
        super().__init__(f"trial interrupted: {action.value}")
        self.action = action


class TrialDone(BaseException):
    """Raised from ``report()`` after delivering a result with ``done=True``: the trial ends there, completed.

    Like :class:`TrialInterrupt` it derives from BaseException, so that a trainable cannot go on reporting.
    """


class Session:
    """The state of one running trial on the process or thread that runs it."""

    def __init__(
        self,
        context: TrialContext,
        channel: ReportChannel,
        checkpoint: str | None = None,
        time_total_s: float = 0.0,
    ) -> None:
        self.context = context
        self.channel = channel
        self.checkpoint = Checkpoint(checkpoint) if checkpoint else None
        self.iteration = context.start_iteration
        self.time_total_s = time_total_s
        self._last_time = time.monotonic()

    def report(self, metrics: dict[str, Any], checkpoint: Checkpoint | None = None, *, final: bool = False) -> None:
        """Record one result (and checkpoint) unless the trial must end here (then raise TrialInterrupt).

        The channel's :meth:`~tunecore.executors.ReportChannel.action` comes first: anything but CONTINUE
        (the decision about the previous result) ends the trial without delivering this result. Once it is
        delivered, a stop request ends the trial (TrialInterrupt), and a result with ``done=True`` (unless
        ``final``: the trainable has returned) raises TrialDone.
        """
        if not isinstance(metrics, dict):
            raise TypeError(f"tunecore.report() needs a dict of metrics, got {type(metrics).__name__}")
        if checkpoint is not None and not isinstance(checkpoint, Checkpoint):
            raise TypeError(
                f"tunecore.report(checkpoint=...) needs a tunecore.Checkpoint, got {type(checkpoint).__name__}"
            )
        now = time.monotonic()
        action = self.channel.action()
        if action is not Action.CONTINUE:
            if checkpoint is not None and checkpoint.owned:  # tunecore's temporary directory, never reported
                shutil.rmtree(checkpoint.path, ignore_errors=True)
            raise TrialInterrupt(action)
        self.iteration += 1
        elapsed = now - self._last_time
        self._last_time = now
        self.time_total_s += elapsed
        result = dict(metrics)
        result["training_iteration"] = self.iteration
        result["time_this_iter_s"] = elapsed
        result["time_total_s"] = self.time_total_s
        result["timestamp"] = time.time()
        result["trial_id"] = self.context.trial_id
        result["pid"] = os.getpid()
        result["hostname"] = _HOSTNAME
        done = result["done"] = bool(final or metrics.get("done", False))
        stored = None
        if checkpoint is not None:
            self.checkpoint = store_checkpoint(checkpoint, self.context.trial_dir, self.iteration)
            stored = self.checkpoint.path
        after = self.channel.send(self.context.trial_id, result, stored)
        if done:
            if not final:
                raise TrialDone
        elif after is not Action.CONTINUE:
            raise TrialInterrupt(after)


_local = threading.local()


def _current_session() -> Session | None:
    return getattr(_local, "session", None)


def activate(session: Session | None) -> Session | None:
    """Make ``session`` the current one on this thread; return the previous one (for executors)."""
    previous = _current_session()
    _local.session = session
    return previous


def _require_session(what: str) -> Session:
    session = _current_session()
    if session is None:
        raise TuneError(
            f"tunecore.{what}() was called outside a trial: call it from the trainable that Tuner.fit() runs"
        )
    return session


def report(metrics: dict[str, Any], *, checkpoint: Checkpoint | None = None) -> None:
    """Report a result of the running trial, optionally with a checkpoint to resume from.

    Adds ``training_iteration``, ``time_this_iter_s``, ``time_total_s``, ``timestamp``, ``trial_id`` and
    ``done``. A result with ``"done": True`` is the trial's last: this records it and then ends the trainable.
    That, and a scheduler's decision to stop or pause the trial after an earlier result, raise an internal
    exception (a BaseException) that ends the trainable; do not catch it.
    """
    _require_session("report").report(metrics, checkpoint)


def get_checkpoint() -> Checkpoint | None:
    """The checkpoint to resume from (the latest reported by this trial, or given at launch), or None."""
    return _require_session("get_checkpoint").checkpoint


def get_context() -> TrialContext:
    """The running trial's id, directory (created on this call), config, resources, seed and iteration."""
    context = _require_session("get_context").context
    os.makedirs(context.trial_dir, exist_ok=True)
    return context
