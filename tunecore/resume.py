"""Resume: rebuild an experiment's trial table and components from its directory, then decide what runs again.

Three steps, after everything read has been cross-checked (:func:`tunecore.integrity.check`) and before
anything is written:

1. **restore** the components from the newest snapshot and the trial table from the whole journal;
2. **replay** into the components the journal records written after that snapshot (a few, after a crash);
3. **roll back** each trial that runs again to its latest journaled checkpoint (or its restart point):
   results after it no longer count and are reported again.
"""

from __future__ import annotations

import os
from typing import Any

import attrs

from tunecore import integrity
from tunecore.checkpoint_manager import CheckpointManager
from tunecore.formatting import component_result, missing_metrics
from tunecore.integrity import load_snapshot_state
from tunecore.journal import ResultReported, TrialRecord, final_result, parse, replay
from tunecore.snapshots import Components, Snapshots
from tunecore.storage import ExperimentStorage, read_journal, read_snapshot
from tunecore.trial import Trial, TrialStatus
from tunecore.trial_table import RestartPoint, TrialState, TrialTable


@attrs.frozen
class ResumeOptions:
    """What to do with the trials of an experiment being resumed."""

    resume_unfinished: bool = True
    """Continue trials that had not finished (from their latest checkpoint); else end them TERMINATED."""
    resume_errored: bool = False
    """Run ERROR trials again from their latest checkpoint."""
    restart_errored: bool = False
    """Run ERROR trials again from scratch."""


def restore(
    storage: ExperimentStorage,
    table: TrialTable,
    components: Components,
    checkpoints: CheckpointManager,
    snapshots: Snapshots,
    options: ResumeOptions,
    *,
    metrics: list[str] | None = None,
) -> None:
    """Bring ``table`` and ``components`` to where the experiment in ``storage`` stopped; queue what runs again.

    ``metrics``: the experiment's (a result without one of them was never shown to the components)."""
    path = storage.path
    records = read_journal(path)
    snapshot = read_snapshot(path)
    state = load_snapshot_state(path, snapshot[1]) if snapshot is not None else None
    integrity.check(path, records, state["journal_records"] if state is not None else None)
    storage.journal_records = len(records)
    start = 0
    if state is not None:
        components.restore(state)
        snapshots.run_started(state["elapsed_s"])
        start = state["journal_records"]
    journal = replay(records)
    for record in journal.values():
        table.adopt(record)
    _replay_into_components(records, start, journal, table, components, metrics or [])
    for record in journal.values():
        trial = table[record.trial_id]
        ended = _ended_with_its_last_result(trial, record, metrics or [])
        if not ended:
            _resume_trial(table, trial, record, options)
        for iteration, name in record.checkpoints:  # what is left after any rollback
            result = next((r for r in record.history if r.get("training_iteration") == iteration), {})
            checkpoint = os.path.join(trial.path or "", name)
            table.journal_deleted(checkpoints.register(trial.trial_id, checkpoint, result))
            table.set_checkpoint(trial, checkpoint)
        if ended:
            _finish(table, trial, components)
    snapshots.take(force=True)


def _ended_with_its_last_result(trial: TrialState, record: TrialRecord, metrics: list[str]) -> bool:
    """True when the run stopped (a crash, a second Ctrl+C) between the trial's last result, which ended it
    (``done``: the trainable finished, or a decision stopped it), and its end: the trial is over, and running it
    again would undo the decision (ASHA judges a trial once per rung: run again, it would pass). Not when that
    result lacks a metric: that trial ends in ERROR, which running it again reports as it did."""
    last = record.last_result
    if trial.status is not TrialStatus.RUNNING or last is None or last.get("done") is not True:
        return False
    return not missing_metrics(component_result(last), metrics)


def _finish(table: TrialTable, trial: TrialState, components: Components) -> None:
    """End ``trial`` TERMINATED as the live end of its launch would have: the components hear of it."""
    last = component_result(trial.last_result)
    components.scheduler.on_trial_complete(table.view(trial), last)
    components.searcher.on_trial_complete(trial.trial_id, last, False)
    table.finish(trial, TrialStatus.TERMINATED)


def _replay_into_components(
    records: list[dict[str, Any]],
    start: int,
    journal: dict[str, TrialRecord],
    table: TrialTable,
    components: Components,
    metrics: list[str],
) -> None:
    """Tell the components what happened after their snapshot (``records[start:]``), in journal order, each
    call with a view of the trial as it was at that record (its config, latest checkpoint and result then).

    Each result reaches them as it did live (the controller's ``_decide``): a result without one of the
    experiment's ``metrics`` none of them; every other one the stoppers; the scheduler when the journal says it
    was shown it; the searcher unless the trainable finished with it. A result a decision stopped the trial with
    is shown without the ``done`` the controller added. Both marks are the journal's
    (:class:`tunecore.journal.ResultReported`: ``stopped``, ``scheduled``)."""
    searcher, scheduler, stoppers = components.searcher, components.scheduler, components.stoppers
    then: dict[str, TrialRecord] = {}  # each trial as the journal says it was, record by record
    for index, data in enumerate(records):
        record = parse(data)
        if record is None:
            continue
        state = table.get(record.trial_id)
        if index < start or state is None:
            record.apply(then)
            continue
        kind = data.get("event")
        if kind == "status" and data["status"] in ("TERMINATED", "ERROR"):
            trial = _view_then(then[state.trial_id], state)  # before the status: as the components saw it
            last = component_result(journal[state.trial_id].last_result)
            if data["status"] == "ERROR":
                scheduler.on_trial_error(trial)
            else:
                scheduler.on_trial_complete(trial, last)
            searcher.on_trial_complete(state.trial_id, last, data["status"] == "ERROR")
        record.apply(then)
        if kind == "trial":
            searcher.suggest(state.trial_id)  # advances the searcher; the journal's config stands
            scheduler.on_trial_add(_view_then(then[state.trial_id], state))
        elif isinstance(record, ResultReported) and _counts(record.result, journal[state.trial_id].history):
            result = component_result(record.result)
            if record.stopped:
                result = {key: value for key, value in result.items() if key != "done"}
            if missing_metrics(result, metrics):
                continue
            for stopper in stoppers:
                stopper.should_stop(state.trial_id, result)
            if not result.get("done"):  # the trainable's own last result: on_trial_complete tells it
                if record.scheduled:
                    scheduler.on_trial_result(_view_then(then[state.trial_id], state), result)
                searcher.on_trial_result(state.trial_id, result)


def _view_then(record: TrialRecord, state: TrialState) -> Trial:
    """A view of the trial as the journal had it at one record (``state`` gives what the journal lacks)."""
    latest = record.latest_checkpoint
    return Trial(
        record.trial_id,
        dict(record.config),
        TrialStatus(record.status),
        state.path,
        record.last_result,
        record.error,
        record.num_failures,
        None if latest is None else os.path.join(state.path or "", latest[1]),
        dict(state.resources),
    )


def _counts(result: dict[str, Any], history: list[dict[str, Any]]) -> bool:
    """True when a journaled ``result`` is still in the trial's replayed history (not rolled back); the
    final result of a TERMINATED trial is there as :func:`final_result` made it."""
    return result in history or final_result(result) in history


def _resume_trial(table: TrialTable, trial: TrialState, record: TrialRecord, options: ResumeOptions) -> None:
    status = trial.status
    if status is TrialStatus.TERMINATED:
        return
    if status is TrialStatus.ERROR:
        if not (options.restart_errored or options.resume_errored):
            return
        _roll_back(table, trial, record, from_scratch=options.restart_errored)
        table.reopen(trial)
        return
    if not options.resume_unfinished:
        table.finish(trial, TrialStatus.TERMINATED)
        return
    if record.restart is not None:  # restarted (e.g. a PBT exploit) without a checkpoint of its own since
        checkpoint, iteration = record.restart
        if any(r.get("training_iteration", 0) > iteration for r in record.history):
            record.roll_back(iteration)
            table.roll_back(trial, iteration, record.last_result)
        else:
            trial.last_result = record.last_result
        table.restarts[trial.trial_id] = RestartPoint(checkpoint, iteration, record.last_result)
    else:
        _roll_back(table, trial, record, from_scratch=False)
    table.queue(trial)


def _roll_back(table: TrialTable, trial: TrialState, record: TrialRecord, from_scratch: bool) -> None:
    """Continue ``trial`` from its latest journaled checkpoint (or from scratch): later results are void."""
    latest = None if from_scratch else record.latest_checkpoint
    iteration = latest[0] if latest else 0
    if any(r.get("training_iteration", 0) > iteration for r in record.history):
        record.roll_back(iteration)
        table.roll_back(trial, iteration, record.last_result)
