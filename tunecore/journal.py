"""The experiment journal's record schema, defined once: how each record is written and what it means on replay.

The journal (``journal.jsonl``) holds one JSON object per line; its ``event`` names the kind. Each kind is a
small class here with ``to_json()`` (what the trial table writes) and ``apply()`` (what :func:`replay` does
with it), so writing and reading cannot drift apart:

``trial``   :class:`TrialCreated` a trial was created: ``trial_id``, ``config``, ``path`` (relative to the experiment)
``status``  :class:`StatusChanged` its status changed: ``status``; ``error`` for a failure; a restart adds
            ``restart_from`` (the checkpoint) and ``restart_iteration``; ``interrupted`` when an interruption
            (Ctrl+C, fail_fast) put it back to PENDING
``result``  :class:`ResultReported` it reported ``result`` (with ``checkpoint``, a directory name in the trial)
``config``  :class:`ConfigChanged` a restart gave it a new ``config``
``rollback`` :class:`RolledBack` it went back to its checkpoint at ``iteration``: later results no longer count
``checkpoint_deleted`` :class:`CheckpointDeleted` ``checkpoint`` was removed by ``CheckpointConfig.num_to_keep``

Unknown kinds (written by a newer version) are skipped on replay. Records are plain (unfrozen) attrs classes:
the controller writes several per trial, and frozen ones cost four times as much to build.
"""

from __future__ import annotations

from typing import Any, ClassVar

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


Trials = dict[str, TrialRecord]
"""The replayed records by trial id."""


@attrs.define
class TrialCreated:
    """A trial was created with ``config``; its directory is ``path`` (relative to the experiment)."""

    EVENT: ClassVar[str] = "trial"
    trial_id: str
    config: dict[str, Any]
    path: str

    def to_json(self) -> dict[str, Any]:
        """The journal line's object."""
        return {"event": self.EVENT, "trial_id": self.trial_id, "config": self.config, "path": self.path}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrialCreated:
        """Read back what :meth:`to_json` wrote."""
        return cls(str(data["trial_id"]), data["config"], data["path"])

    def apply(self, trials: Trials) -> None:
        """Replay: the trial exists, PENDING, with no results."""
        trials[self.trial_id] = TrialRecord(self.trial_id, self.config, self.path)


@attrs.define
class StatusChanged:
    """The trial's status became ``status``."""

    EVENT: ClassVar[str] = "status"
    trial_id: str
    status: str
    error: str | None = None
    """The failure that caused it (ERROR, or PENDING for a retry)."""
    restart_from: str | None = None
    """For a restart (PENDING): the checkpoint it starts from again (None = from scratch)."""
    restart_iteration: int | None = None
    """For a restart: its ``training_iteration`` when it was restarted."""
    interrupted: bool = False
    """PENDING again because an interruption stopped it (a resume continues it)."""

    def to_json(self) -> dict[str, Any]:
        """The journal line's object (optional fields only when set)."""
        data: dict[str, Any] = {"event": self.EVENT, "trial_id": self.trial_id, "status": self.status}
        if self.error:
            data["error"] = self.error
        if self.restart_iteration is not None:
            data["restart_from"] = self.restart_from
            data["restart_iteration"] = self.restart_iteration
        if self.interrupted:
            data["interrupted"] = True
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StatusChanged:
        """Read back what :meth:`to_json` wrote."""
        iteration = data.get("restart_iteration")
        return cls(
            str(data["trial_id"]),
            data["status"],
            data.get("error") or None,
            data.get("restart_from"),
            None if iteration is None else int(iteration),
            bool(data.get("interrupted", False)),
        )

    def apply(self, trials: Trials) -> None:
        """Replay: the status; a TERMINATED trial's last result gets ``done``; a failure counts."""
        trial = trials.get(self.trial_id)
        if trial is None:
            return
        trial.status = self.status
        if self.status == "TERMINATED" and trial.history:
            trial.history[-1] = final_result(trial.history[-1])
        if self.restart_iteration is not None:
            trial.restart = (self.restart_from, self.restart_iteration)
        if self.error:
            trial.error = self.error
            trial.num_failures += 1


@attrs.define
class ResultReported:
    """The trial reported ``result``, with ``checkpoint`` (a directory name in the trial's directory) or None."""

    EVENT: ClassVar[str] = "result"
    trial_id: str
    result: dict[str, Any]
    checkpoint: str | None = None
    stopped: bool = False
    """A decision (a stopper's or the scheduler's) stopped the trial with this result: its ``done`` is the
    controller's, not the trainable's (``"stopped": true`` on the line)."""
    scheduled: bool = True
    """The scheduler was shown this result (``"scheduler": false`` on the line when not: a stopper stopped the
    trial with it, the experiment was stopping, the trainable finished with it, a metric was missing).

    A resume's replay shows each result to the components as they saw it live by these two marks; a journal
    written before tunecore 0.2.2 has neither, and its results replay as they did then (a result with ``done``
    to none of them, every other one to the scheduler and the searcher)."""

    def to_json(self) -> dict[str, Any]:
        """The journal line's object."""
        data: dict[str, Any] = {"event": self.EVENT, "trial_id": self.trial_id, "result": self.result}
        if self.checkpoint:
            data["checkpoint"] = self.checkpoint
        if self.stopped:
            data["stopped"] = True
        if not self.scheduled:
            data["scheduler"] = False
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ResultReported:
        """Read back what :meth:`to_json` wrote."""
        checkpoint = data.get("checkpoint") or None
        stopped, scheduled = data.get("stopped") is True, data.get("scheduler") is not False
        return cls(str(data["trial_id"]), data["result"], checkpoint, stopped=stopped, scheduled=scheduled)

    def apply(self, trials: Trials) -> None:
        """Replay: one more result (its error is cleared); a checkpoint supersedes a pending restart point."""
        trial = trials.get(self.trial_id)
        if trial is None:
            return
        trial.history.append(self.result)
        trial.error = None  # its latest failure, until it reports again
        if self.checkpoint:
            trial.checkpoints.append((int(self.result.get("training_iteration", 0)), self.checkpoint))
            trial.restart = None


@attrs.define
class ConfigChanged:
    """A restart gave the trial a new ``config``."""

    EVENT: ClassVar[str] = "config"
    trial_id: str
    config: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The journal line's object."""
        return {"event": self.EVENT, "trial_id": self.trial_id, "config": self.config}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ConfigChanged:
        """Read back what :meth:`to_json` wrote."""
        return cls(str(data["trial_id"]), data["config"])

    def apply(self, trials: Trials) -> None:
        """Replay: the new config."""
        trial = trials.get(self.trial_id)
        if trial is not None:
            trial.config = self.config


@attrs.define
class RolledBack:
    """The trial went back to its checkpoint at ``iteration``: later results and checkpoints no longer count."""

    EVENT: ClassVar[str] = "rollback"
    trial_id: str
    iteration: int

    def to_json(self) -> dict[str, Any]:
        """The journal line's object."""
        return {"event": self.EVENT, "trial_id": self.trial_id, "iteration": self.iteration}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RolledBack:
        """Read back what :meth:`to_json` wrote."""
        return cls(str(data["trial_id"]), int(data["iteration"]))

    def apply(self, trials: Trials) -> None:
        """Replay: forget what came after ``iteration``."""
        trial = trials.get(self.trial_id)
        if trial is not None:
            trial.roll_back(self.iteration)


@attrs.define
class CheckpointDeleted:
    """``CheckpointConfig.num_to_keep`` removed the trial's ``checkpoint`` (a directory name)."""

    EVENT: ClassVar[str] = "checkpoint_deleted"
    trial_id: str
    checkpoint: str

    def to_json(self) -> dict[str, Any]:
        """The journal line's object."""
        return {"event": self.EVENT, "trial_id": self.trial_id, "checkpoint": self.checkpoint}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckpointDeleted:
        """Read back what :meth:`to_json` wrote."""
        return cls(str(data["trial_id"]), data["checkpoint"])

    def apply(self, trials: Trials) -> None:
        """Replay: the checkpoint is gone."""
        trial = trials.get(self.trial_id)
        if trial is not None:
            trial.checkpoints = [c for c in trial.checkpoints if c[1] != self.checkpoint]


Record = TrialCreated | StatusChanged | ResultReported | ConfigChanged | RolledBack | CheckpointDeleted
"""Any journal record."""

KINDS: dict[str, Any] = {
    kind.EVENT: kind
    for kind in (TrialCreated, StatusChanged, ResultReported, ConfigChanged, RolledBack, CheckpointDeleted)
}
"""Record class by ``event`` name."""


def parse(data: dict[str, Any]) -> Record | None:
    """The record a journal line holds, or None for a kind this version does not know."""
    kind = KINDS.get(str(data.get("event")))
    return None if kind is None else kind.from_json(data)


def replay(records: list[dict[str, Any]]) -> dict[str, TrialRecord]:
    """Every trial's record after applying ``records`` (journal lines) in order (unknown kinds are skipped)."""
    trials: Trials = {}
    for data in records:
        record = parse(data)
        if record is not None:
            record.apply(trials)
    return trials
