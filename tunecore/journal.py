"""Replaying the experiment journal into per-trial records (used by results loading and by resume).

Record kinds, one JSON object per line (``event`` names the kind):

``trial``   a trial was created: ``trial_id``, ``config``, ``path`` (relative to the experiment)
``status``  its status changed: ``status``, and ``error`` for failures; a restart adds ``restart_from``
            (the checkpoint) and ``restart_iteration``
``result``  it reported ``result`` (with ``checkpoint``, a directory name in the trial, when one came with it)
``config``  a restart gave it a new ``config``
``rollback`` a resumed trial went back to its checkpoint at ``iteration``: later results no longer count
``checkpoint_deleted`` ``checkpoint`` was removed by ``CheckpointConfig.num_to_keep``
"""

from __future__ import annotations

from typing import Any

import attrs


@attrs.define
class TrialRecord:
    """What the journal says about one trial."""

    trial_id: str
    config: dict[str, Any]
    path: str
    status: str = "PENDING"
    history: list[dict[str, Any]] = attrs.field(factory=list)
    checkpoints: list[tuple[int, str]] = attrs.field(factory=list)
    """``(training_iteration, directory name)`` of each checkpoint still on disk, oldest first."""
    error: str | None = None
    num_failures: int = 0
    restart: tuple[str | None, int] | None = None
    """``(checkpoint, iteration)`` of a restart (e.g. a PBT exploit) the trial has not checkpointed since."""

    @property
    def last_result(self) -> dict[str, Any] | None:
        """The latest result that counts, or None."""
        return self.history[-1] if self.history else None

    @property
    def latest_checkpoint(self) -> tuple[int, str] | None:
        """``(iteration, name)`` of the newest checkpoint, or None."""
        return self.checkpoints[-1] if self.checkpoints else None

    def roll_back(self, iteration: int) -> None:
        """Forget results and checkpoints after ``iteration``."""
        self.history = [r for r in self.history if r.get("training_iteration", 0) <= iteration]
        self.checkpoints = [c for c in self.checkpoints if c[0] <= iteration]


def final_result(result: dict[str, Any]) -> dict[str, Any]:
    """A TERMINATED trial's last result: it carries ``done=True`` however the trial ended (as in Ray Tune)."""
    return result if result.get("done") is True else {**result, "done": True}


def replay(records: list[dict[str, Any]]) -> dict[str, TrialRecord]:
    """Every trial's record after applying ``records`` in order (unknown kinds are skipped)."""
    trials: dict[str, TrialRecord] = {}
    for record in records:
        kind, trial_id = record.get("event"), str(record.get("trial_id"))
        if kind == "trial":
            trials[trial_id] = TrialRecord(trial_id, record["config"], record["path"])
            continue
        trial = trials.get(trial_id)
        if trial is None:
            continue
        if kind == "result":
            result = record["result"]
            trial.history.append(result)
            trial.error = None  # its latest failure, until it reports again
            if record.get("checkpoint"):
                trial.checkpoints.append((int(result.get("training_iteration", 0)), record["checkpoint"]))
                trial.restart = None
        elif kind == "status":
            trial.status = record["status"]
            if trial.status == "TERMINATED" and trial.history:
                trial.history[-1] = final_result(trial.history[-1])
            if "restart_iteration" in record:
                trial.restart = (record.get("restart_from"), int(record["restart_iteration"]))
            if record.get("error"):
                trial.error = record["error"]
                trial.num_failures += 1
        elif kind == "config":
            trial.config = record["config"]
        elif kind == "rollback":
            trial.roll_back(int(record["iteration"]))
        elif kind == "checkpoint_deleted":
            trial.checkpoints = [c for c in trial.checkpoints if c[1] != record["checkpoint"]]
    return trials
