"""The trial table: every trial of an experiment, and the one place where a trial's status changes.

Each transition is one method that changes the live record, writes its journal record (the schema is in
:mod:`tunecore.journal`, which replays it on resume) and broadcasts its event, in that order::

    create ──▶ PENDING ──start──▶ RUNNING ──pause──────────▶ PAUSED ──start──▶ RUNNING ...
                  ▲                  │ ──finish───────────▶ TERMINATED | ERROR
                  │                  │ ──retry────────────▶ PENDING (front of the queue; trial_retried)
                  │                  │ ──restart──────────▶ PENDING (new config, from a checkpoint; trial_restarted)
                  └──────────────────┘ ──interrupted──────▶ PENDING (left for a resume)

Components and observers never see the live records: they get read-only :class:`~tunecore.trial.Trial`
views (:meth:`TrialTable.view`), made at most once per change. The table also keeps what a launch starts
from: a restarted trial's :class:`RestartPoint`, and (through the checkpoint manager) the pin that keeps a
launch's checkpoint on disk until the trial has loaded it. It calls nothing above it (no components, no
controller).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from tunecore.checkpoint import Checkpoint
from tunecore.checkpoint_manager import CheckpointManager
from tunecore.events import Events
from tunecore.experiment import ExperimentInfo
from tunecore.journal import (
    CheckpointDeleted,
    ConfigChanged,
    Record,
    ResultReported,
    RolledBack,
    StatusChanged,
    TrialCreated,
    TrialRecord,
    final_result,
)
from tunecore.storage import ExperimentStorage
from tunecore.trial import Trial, TrialStatus

PENDING, RUNNING, PAUSED = TrialStatus.PENDING, TrialStatus.RUNNING, TrialStatus.PAUSED
TERMINATED, ERROR = TrialStatus.TERMINATED, TrialStatus.ERROR
# Records take a status's text as ``status._value_``: ``.value`` is a Python-level property (~1 us in 3.11).


@attrs.define
class RestartPoint:
    """Where a restarted trial starts from again until it saves a checkpoint of its own."""

    checkpoint: str | None
    """The checkpoint the restart named (e.g. a PBT donor's), or None for a fresh start."""
    iteration: int
    """The trial's ``training_iteration`` when it was restarted."""
    last_result: dict[str, Any] | None
    """Its last result then."""
    pinned: bool = False
    """True while the decision's pin on ``checkpoint`` is not yet handed to a launch."""


@attrs.define(eq=False, slots=True)
class TrialState:
    """The live record of one trial (owned by the table; never handed to components)."""

    trial_id: str
    config: dict[str, Any]
    status: TrialStatus = PENDING
    path: str | None = None
    last_result: dict[str, Any] | None = None
    error: str | None = None
    num_failures: int = 0
    checkpoint: str | None = None
    resources: dict[str, float] = attrs.field(factory=dict)
    view: Trial | None = None
    """The current read-only view, or None once something changed."""

    @property
    def iteration(self) -> int:
        """``training_iteration`` of its last result (0 before any)."""
        return int((self.last_result or {}).get("training_iteration", 0))


class TrialTable:
    """The experiment's trials, their queues, and every change of their status (see the module docstring)."""

    def __init__(
        self,
        storage: ExperimentStorage,
        checkpoints: CheckpointManager,
        events: Events,
        info: Callable[[], ExperimentInfo],
        resources: dict[str, float],
    ) -> None:
        self._storage = storage
        self._checkpoints = checkpoints
        self._events = events
        self._info = info
        self._resources = resources
        self._states: dict[str, TrialState] = {}
        self.pending: deque[str] = deque()
        """PENDING trials in launch order."""
        self.paused: dict[str, TrialState] = {}
        """PAUSED trials that may still be resumed."""
        self.running: set[str] = set()
        """Trials launched and not ended."""
        self.restarts: dict[str, RestartPoint] = {}
        """Restarted trials that have not saved a checkpoint of their own since."""

    # -- reading ----------------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._states)

    def __iter__(self) -> Iterator[TrialState]:
        return iter(self._states.values())

    def __getitem__(self, trial_id: str) -> TrialState:
        return self._states[trial_id]

    def get(self, trial_id: str) -> TrialState | None:
        """The live record of ``trial_id``, or None."""
        return self._states.get(trial_id)

    def view(self, state: TrialState) -> Trial:
        """The read-only view of ``state`` as it is now (made once per change)."""
        view = state.view
        if view is None:
            view = state.view = Trial(
                state.trial_id,
                dict(state.config),
                state.status,
                state.path,
                state.last_result,
                state.error,
                state.num_failures,
                state.checkpoint,
                dict(state.resources),
            )
        return view

    def views(self) -> dict[str, Trial]:
        """Every trial's view, by id, in creation order."""
        return {trial_id: self.view(state) for trial_id, state in self._states.items()}

    # -- creating -----------------------------------------------------------------------------------------

    def create(self, trial_id: str, config: dict[str, Any]) -> TrialState:
        """A new PENDING trial at the end of the queue (journaled and flushed before its directory can exist)."""
        state = TrialState(trial_id, config, path=self._storage.trial_dir(trial_id), resources=dict(self._resources))
        self._states[trial_id] = state
        self.pending.append(trial_id)
        self._write(TrialCreated(trial_id, config, trial_id))
        return state

    def adopt(self, record: TrialRecord) -> TrialState:
        """A trial as the journal left it (resume): nothing is written, it joins no queue yet."""
        state = TrialState(
            record.trial_id,
            record.config,
            TrialStatus(record.status),
            os.path.join(self._storage.path, record.path),
            record.last_result,
            record.error,
            record.num_failures,
            resources=dict(self._resources),
        )
        self._states[state.trial_id] = state
        return state

    # -- launching ----------------------------------------------------------------------------------------

    def start(self, state: TrialState) -> str | None:
        """PENDING or PAUSED → RUNNING; return the checkpoint the launch starts from (held until it is loaded).

        A restarted trial starts from the restart's checkpoint again (results after the restart are void); any
        other trial (a retry, a paused one, one resumed after a crash) continues from its own latest
        checkpoint, and results after that checkpoint are void: it reports them again.
        """
        trial_id = state.trial_id
        if self.paused.pop(trial_id, None) is None:
            self.pending.remove(trial_id)
        point = self.restarts.get(trial_id)
        if point is not None:
            checkpoint = point.checkpoint
            if state.iteration > point.iteration:
                self.roll_back(state, point.iteration, point.last_result)
            if checkpoint is not None:
                self._checkpoints.hold_for_launch(trial_id, checkpoint, pinned=point.pinned)
            point.pinned = False
        else:
            saved = self._checkpoints.checkpoints(trial_id)
            checkpoint, at = saved[-1] if saved else (None, None)
            iteration = int((at or {}).get("training_iteration", 0))
            if state.iteration > iteration:
                self.roll_back(state, iteration, at)
            state.checkpoint = checkpoint
            if checkpoint is not None:
                self._checkpoints.hold_for_launch(trial_id, checkpoint)
        self._set(state, RUNNING)
        self.running.add(trial_id)
        self._write(StatusChanged(trial_id, RUNNING._value_))
        self._events.trial_started(self._info(), self.view(state))
        return checkpoint

    # -- results ------------------------------------------------------------------------------------------

    def take_result(self, state: TrialState, result: dict[str, Any], checkpoint: str | None) -> None:
        """A result arrived (before anything decides about it): it is the trial's latest; its error is cleared;
        the launch has loaded its checkpoint, so that checkpoint's hold is released."""
        state.last_result = result
        state.error = None  # a trial's error is its latest failure until it reports again
        if checkpoint:
            state.checkpoint = checkpoint
        state.view = None
        self.journal_deleted(self._checkpoints.release_launch(state.trial_id))

    def commit_result(
        self, state: TrialState, result: dict[str, Any], checkpoint: str | None, *, final: bool, scheduled: bool = True
    ) -> dict[str, Any]:
        """Journal a decided result (``final``: the trial ends with it, it gets ``done=True``; ``scheduled``:
        the scheduler was shown it), register its checkpoint, broadcast ``trial_result`` (and
        ``trial_checkpoint``); return the result as recorded."""
        stopped = final and not result.get("done")  # the controller's done, not the trainable's
        if final:
            result = final_result(result)  # a copy: the executor still reads the result it reported
            state.last_result = result
            state.view = None
        name = os.path.basename(checkpoint) if checkpoint else None
        record = ResultReported(state.trial_id, result, name, stopped=stopped, scheduled=scheduled)
        self._write(record, flush=checkpoint is not None)
        if checkpoint:  # a resume continues from journaled checkpoints: flushed above
            self.restarts.pop(state.trial_id, None)
            self.journal_deleted(self._checkpoints.register(state.trial_id, checkpoint, result))
        view = self.view(state)
        self._events.trial_result(self._info(), view, result)
        if checkpoint:
            self._events.trial_checkpoint(self._info(), view, Checkpoint(checkpoint))
        return result

    # -- ends of a launch ----------------------------------------------------------------------------------

    def launch_ended(self, state: TrialState) -> None:
        """The trial's launch ended (any outcome): it no longer runs; a checkpoint it never loaded is released."""
        self.running.discard(state.trial_id)
        self.journal_deleted(self._checkpoints.release_launch(state.trial_id))

    def pause(self, state: TrialState) -> None:
        """RUNNING → PAUSED (it may be resumed from its latest checkpoint); ``trial_paused``."""
        self._set(state, PAUSED)
        self.paused[state.trial_id] = state
        self._write(StatusChanged(state.trial_id, PAUSED._value_), flush=True)
        self._events.trial_paused(self._info(), self.view(state))

    def leave_for_resume(self, state: TrialState) -> None:
        """RUNNING → PENDING, stopped by an interruption: not queued now, a resume continues it."""
        self._set(state, PENDING)
        self._write(StatusChanged(state.trial_id, PENDING._value_, interrupted=True), flush=True)

    def record_failure(self, state: TrialState, error: str) -> None:
        """The trial failed once more: count it and append it to the trial's ``error.txt``."""
        state.num_failures += 1
        state.error = error
        state.view = None
        if state.path:
            self._storage.write_error(state.path, error, state.num_failures)

    def note_ignored_failure(self, state: TrialState, error: str, header: str) -> None:
        """A failure that does not count (it came after a decision that stands): only written to ``error.txt``."""
        if state.path:
            self._storage.write_error(state.path, error, header=header)

    def retry(self, state: TrialState, error: str) -> None:
        """RUNNING → PENDING at the front of the queue after ``error``; ``trial_retried``."""
        self._set(state, PENDING)
        self.pending.appendleft(state.trial_id)
        self._write(StatusChanged(state.trial_id, PENDING._value_, error=error), flush=True)
        self._events.trial_retried(self._info(), self.view(state), error, state.num_failures + 1)

    def restart(self, state: TrialState, config: dict[str, Any] | None, checkpoint: str | None) -> None:
        """RUNNING → PENDING at the front of the queue, with ``config`` (None: the same) from ``checkpoint``
        (None: from scratch; a given one is pinned by the caller and handed to the next launch);
        ``trial_restarted``."""
        trial_id = state.trial_id
        old_config = state.config
        if config is not None:
            state.config = dict(config)
            self._write(ConfigChanged(trial_id, state.config))
        point = RestartPoint(checkpoint, state.iteration, state.last_result, pinned=checkpoint is not None)
        self.restarts[trial_id] = point
        self._set(state, PENDING)
        self.pending.appendleft(trial_id)
        self._write(
            StatusChanged(trial_id, PENDING._value_, restart_from=checkpoint, restart_iteration=point.iteration),
            flush=True,
        )
        restart_from = None if checkpoint is None else Checkpoint(checkpoint)
        self._events.trial_restarted(self._info(), self.view(state), old_config, state.config, restart_from)

    def finish(self, state: TrialState, status: TrialStatus, error: str | None = None) -> None:
        """→ TERMINATED (its last result gets ``done=True``) or ERROR; ``trial_finished``."""
        if status is TERMINATED and state.last_result is not None:
            state.last_result = final_result(state.last_result)
        self._set(state, status)
        self._write(StatusChanged(state.trial_id, status._value_, error=error), flush=True)
        self._events.trial_finished(self._info(), self.view(state), status._value_, error)

    def unpause(self, trial_id: str) -> TrialState | None:
        """Take a trial out of the paused set (before it is ended); None when it is not paused."""
        return self.paused.pop(trial_id, None)

    # -- resume -------------------------------------------------------------------------------------------

    def queue(self, state: TrialState) -> None:
        """Resume: an unfinished trial joins the queue as PENDING (PAUSED ones stay paused); nothing is written."""
        if state.status is PAUSED:
            self.paused[state.trial_id] = state
            return
        self._set(state, PENDING)
        self.pending.append(state.trial_id)

    def reopen(self, state: TrialState) -> None:
        """Resume: ERROR → PENDING, to run again (the caller rolled it back first)."""
        state.error = None
        self._set(state, PENDING)
        self.pending.append(state.trial_id)
        self._write(StatusChanged(state.trial_id, PENDING._value_))

    def roll_back(self, state: TrialState, iteration: int, last_result: dict[str, Any] | None) -> None:
        """Results after ``iteration`` are void: the trial reports them again from its checkpoint there."""
        self._write(RolledBack(state.trial_id, iteration))
        state.last_result = last_result
        state.view = None

    def set_checkpoint(self, state: TrialState, path: str) -> None:
        """Resume: ``path`` is the trial's latest checkpoint."""
        state.checkpoint = path
        state.view = None

    def journal_deleted(self, paths: list[str]) -> None:
        """Journal checkpoints that ``CheckpointConfig.num_to_keep`` removed (the trial is the parent directory)."""
        for path in paths:
            self._write(CheckpointDeleted(os.path.basename(os.path.dirname(path)), os.path.basename(path)))

    # -- internals ----------------------------------------------------------------------------------------

    @staticmethod
    def _set(state: TrialState, status: TrialStatus) -> None:
        state.status = status
        state.view = None

    def _write(self, record: Record, *, flush: bool = False) -> None:
        self._storage.journal(record.to_json(), flush=flush)
