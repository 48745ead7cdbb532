"""A trial as components and observers see it (a read-only view), and its life-cycle states."""

from __future__ import annotations

import enum
from typing import Any

import attrs


class TrialStatus(str, enum.Enum):
    """Where a trial is in its life cycle."""

    PENDING = "PENDING"
    """Created, waiting for capacity."""
    RUNNING = "RUNNING"
    """Launched on an executor."""
    PAUSED = "PAUSED"
    """Stopped by a scheduler's PAUSE; may be resumed from its latest checkpoint."""
    TERMINATED = "TERMINATED"
    """Finished normally or stopped by a scheduler or stopper."""
    ERROR = "ERROR"
    """Failed: the trainable raised or its worker died."""

    @property
    def is_finished(self) -> bool:
        """True for the two final states."""
        return self in (TrialStatus.TERMINATED, TrialStatus.ERROR)

    def __str__(self) -> str:
        return self.value


@attrs.frozen(eq=False)
class Trial:
    """A read-only view of a trial, as components and observers receive it.

    Each view shows the trial as it was when it was handed over; the trial table (:mod:`tunecore.trial_table`)
    owns the live record and hands out a new view after every change. Keep a trial id, not a view, to follow
    a trial over time (the events say when it changes).
    """

    trial_id: str
    """Short unique id within the experiment, e.g. ``"t0007"``."""
    config: dict[str, Any]
    """The resolved configuration the trainable receives (a copy of its top level: do not change nested values)."""
    status: TrialStatus = TrialStatus.PENDING
    """Life-cycle state when the view was made."""
    path: str | None = None
    """The trial's directory (absolute), or None before storage is assigned."""
    last_result: dict[str, Any] | None = None
    """The latest reported result, with auto-filled fields."""
    error: str | None = None
    """Formatted traceback of its latest failure; None again once it reports a result after it."""
    num_failures: int = 0
    """How many times the trial failed (retries count)."""
    checkpoint: str | None = None
    """The directory of the trial's latest checkpoint (a scheduler may restart another trial from it,
    e.g. PBT's exploit: ``Decision.restart(config, checkpoint=donor.checkpoint)``)."""
    resources: dict[str, float] = attrs.field(factory=dict)
    """Resources requested per trial, e.g. ``{"cpu": 1, "gpu": 0.5}``."""
