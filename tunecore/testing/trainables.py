"""Trainables of the executor conformance suite; importable in any worker (they need only tunecore).

:func:`conformance_trainable` does what ``config["mode"]`` says; :class:`ConformanceTrainable` is a class
trainable that checkpoints its step count.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from tunecore.checkpoint import Checkpoint
from tunecore.session import get_checkpoint, get_context, report
from tunecore.trainable import Trainable


def _log(path: str | None, line: str) -> None:
    if path:
        with open(path, "a") as file:
            file.write(line + "\n")


def _wait_for(path: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def conformance_trainable(config: dict[str, Any]) -> dict[str, Any] | None:
    """Behaves as ``config["mode"]`` says (default ``"count"``)."""
    mode = config.get("mode", "count")
    pid = os.getpid()
    if mode == "count":  # report n results, logging around each report
        for i in range(1, config.get("n", 3) + 1):
            _log(config.get("log"), f"before {i}")
            report({"i": i, "pid": pid})
            _log(config.get("log"), f"after {i}")
        return {"i": "final", "pid": pid} if config.get("final") else None
    if mode == "context":  # what the trial sees of its launch
        context, checkpoint = get_context(), get_checkpoint()
        report(
            {
                "context_trial_id": context.trial_id,
                "context_trial_dir": context.trial_dir,
                "context_config": context.config,
                "context_resources": context.resources,
                "context_bundles": context.bundles,
                "context_seed": context.seed,
                "context_start_iteration": context.start_iteration,
                "checkpoint": checkpoint.to_dict() if checkpoint is not None else None,
                "pid": pid,
            }
        )
        return None
    if mode == "checkpoint":  # report a checkpoint
        report({"i": 1}, checkpoint=Checkpoint.from_dict({"step": 1}))
        return None
    if mode == "report_then_sleep":  # one result, then return without reporting again
        report({"i": 1, "pid": pid})
        time.sleep(config["sleep"])
        return None
    if mode == "report_then_hang":
        report({"pid": pid})
        time.sleep(120)
        return None
    if mode == "report_forever":
        while True:
            report({"pid": pid})
            time.sleep(0.002)
    if mode == "meet":  # announce this trial, wait (bounded) for the other one: did they run at once?
        Path(config["mine"]).touch()
        met = _wait_for(config["other"], config.get("wait", 10.0))
        return {"met": met, "pid": pid}
    if mode == "raise":
        raise ValueError("boom from the conformance trainable")
    if mode == "crash_once":  # first launch: a checkpoint, then the process dies; a retry resumes from it
        checkpoint = get_checkpoint()
        if checkpoint is None:
            report({"i": 1, "pid": pid}, checkpoint=Checkpoint.from_dict({"step": 1}))
            os._exit(3)
        report({"resumed_from": checkpoint.to_dict()["step"], "pid": pid})
        return None
    raise ValueError(f"conformance_trainable: unknown mode {mode!r}")


class ConformanceTrainable(Trainable):
    """Counts steps to ``config["steps"]``; checkpoints and restores the count."""

    def setup(self, config: dict[str, Any]) -> None:
        """Start at step 0."""
        self.steps = 0

    def step(self) -> dict[str, Any]:
        """One step."""
        self.steps += 1
        return {"steps": self.steps, "done": self.steps >= self.config["steps"]}

    def save_checkpoint(self, checkpoint_dir: str) -> None:
        """Write the step count."""
        Path(checkpoint_dir, "steps").write_text(str(self.steps))

    def load_checkpoint(self, checkpoint_dir: str) -> None:
        """Read the step count."""
        self.steps = int(Path(checkpoint_dir, "steps").read_text())
