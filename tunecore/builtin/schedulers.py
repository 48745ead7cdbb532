"""Built-in scheduler: fifo."""

from __future__ import annotations

from tunecore.protocols import Scheduler


class FIFOScheduler(Scheduler):
    """Run trials in the order they were created, each to its end (no early stopping)."""

    replayable = True  # it has no state
