"""Compatibility names: the trial runner moved to :mod:`tunecore.executors`; import from there."""

from __future__ import annotations

from tunecore.executors.launch import TrialLaunch
from tunecore.executors.outcome import Outcome, TrialOutcome
from tunecore.executors.runner import TrialRunner

COMPLETED = Outcome.COMPLETED
STOPPED = Outcome.STOPPED
ERRORED = Outcome.ERRORED
WORKER_DIED = Outcome.WORKER_DIED

__all__ = ["COMPLETED", "ERRORED", "STOPPED", "WORKER_DIED", "Outcome", "TrialLaunch", "TrialOutcome", "TrialRunner"]
