"""The controller: the only place that composes searcher, scheduler, stoppers, executor and loggers.

Order of calls (also in ``docs/architecture.md``):

1. ``setup`` of searcher, scheduler and stoppers; ``experiment.json`` written; loggers attached;
   ``experiment_started`` broadcast; ``executor.start``.
2. Loop until nothing can run any more:
   a. while the executor has capacity (and ``max_concurrent_trials`` allows): if no trial is pending, ask
      ``searcher.suggest`` (None = not now, FINISHED = exhausted; never more than ``num_samples`` x grid
      points); a new trial gets ``scheduler.on_trial_add``; ``scheduler.choose_trial_to_run(pending,
      paused)`` picks what starts; ``trial_started`` broadcast; ``executor.launch``.
   b. ``executor.process`` delivers results and trial ends (below).
   c. the time budget and the stoppers' ``stop_all`` can stop the experiment: no more launches, running
      trials are asked to stop at their next report and, after a grace period, ended by force.
3. For every result: metric check, each stopper's ``should_stop`` (all of them, any one stops), then
   ``scheduler.on_trial_result`` unless a stopper already stopped it, the experiment is stopping or the
   trial is done, then ``searcher.on_trial_result`` (every result but the trial's final one); the
   decision is recorded in the journal with the result; then ``trial_result`` (and ``trial_checkpoint``)
   are broadcast; then each stopper's ``stop_all``.
4. For every trial end: a failure is retried (``FailureConfig.max_failures``; ``trial_retried``) or ends the
   trial in ERROR (``scheduler.on_trial_error``); PAUSE leaves it PAUSED (``trial_paused``); a restart
   relaunches it with the new config from the given checkpoint (``trial_restarted``); anything else ends it
   TERMINATED (``scheduler.on_trial_complete``); then ``searcher.on_trial_complete`` and ``trial_finished``.
5. At the end: ``executor.shutdown`` (nothing left running), ``experiment_finished``, state saved.

Per-result work is O(1) in the number of trials.
"""

from __future__ import annotations

import os
import time
import warnings
from collections import deque
from collections.abc import Mapping
from typing import Any

import attrs
import cloudpickle

from tunecore import integrity
from tunecore.builtin.stoppers import DictStopper, FunctionStopper
from tunecore.checkpoint import Checkpoint
from tunecore.checkpoint_manager import CheckpointManager
from tunecore.components import ComponentSpec
from tunecore.config import ExperimentSpec
from tunecore.errors import ConfigError, MetricWarning, TuneError
from tunecore.experiment import ExperimentInfo
from tunecore.integrity import load_snapshot_state
from tunecore.journal import TrialRecord, final_result, replay
from tunecore.options import is_finite_number, metric_names
from tunecore.plugins import Plugins
from tunecore.protocols import CONTINUE, FINISHED, STOP, Action, Decision, ExecutorHandler, Stopper
from tunecore.references import user_modules_in
from tunecore.runner import ERRORED, STOPPED, TrialLaunch
from tunecore.space import SpaceError, grid_points
from tunecore.storage import SPEC_FILE, ExperimentStorage, read_journal, read_snapshot
from tunecore.trainable import trial_resources
from tunecore.trial import Trial, TrialStatus

FORCE_STOP_GRACE_S = 5.0
"""After asking running trials to stop (time budget, experiment stop), end them by force after this."""
STATE_INTERVAL_S = 5.0
"""How often state.json (the human-readable trial table) is refreshed while the experiment runs."""

CHEAP_SNAPSHOT_S = 0.001
"""Snapshots faster than this are taken at every trial creation and end."""
SNAPSHOT_TIME_SHARE = 0.05
"""Slower snapshots are spaced so that they take at most this share of the run's time."""

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


@attrs.frozen
class ResumeOptions:
    """What to do with the trials of an experiment being resumed."""

    resume_unfinished: bool = True
    """Continue trials that had not finished (from their latest checkpoint); else end them TERMINATED."""
    resume_errored: bool = False
    """Run ERROR trials again from their latest checkpoint."""
    restart_errored: bool = False
    """Run ERROR trials again from scratch."""


class Controller(ExecutorHandler):
    """Runs one experiment to its end."""

    def __init__(
        self,
        spec: ExperimentSpec,
        plugins: Plugins,
        experiment_path: str,
        trainable: Any,
        resume: ResumeOptions | None = None,
    ) -> None:
        self.spec = spec
        self.resume = resume
        self.plugins = plugins
        self.trainable = trainable
        tune, run = spec.tune_config, spec.run_config
        self.metric, self.mode = tune.metric, tune.mode
        self.num_samples = tune.num_samples
        self.max_concurrent = tune.max_concurrent_trials
        self.time_budget_s = tune.time_budget_s
        self.failure_config = run.failure_config
        self.checkpoint_config = run.checkpoint_config
        self.searcher = self._build(tune.searcher)
        self.scheduler = self._build(tune.scheduler)
        self.executor = self._build(tune.executor)
        self.stoppers: list[Stopper] = [self._build(s) for s in run.stoppers]
        if run.stop is not None:
            self.stoppers.insert(0, _stop_to_stopper(run.stop))
        self.loggers = [self._build(spec) for spec in run.logger_specs()] + list(run.callbacks)
        self.resources = trial_resources(trainable)
        spec_data = spec.to_data()
        # last: nothing after it may raise, or the lock would stay held until the object is collected
        self.storage = ExperimentStorage(experiment_path, purpose="run" if resume is None else "resume")  # locked
        self.events = plugins.events
        self.info = ExperimentInfo(
            name=os.path.basename(self.storage.path),
            path=self.storage.path,
            metric=self.metric if isinstance(self.metric, str) else None,
            mode=self.mode if isinstance(self.mode, str) else None,
            spec=spec_data,
        )
        self.trials: dict[str, Trial] = {}
        self.pending: deque[str] = deque()
        self.paused: dict[str, Trial] = {}
        self.running: set[str] = set()
        self._decisions: dict[str, Decision] = {}
        self._metrics = metric_names(self.metric)
        self._warned_non_finite: set[str] = set()
        self._stopped_by_experiment: set[str] = set()
        """Trials whose pending STOP came from the experiment stopping (not from a component's decision)."""
        self._metric_errors: dict[str, str] = {}
        self.checkpoints = CheckpointManager(run.checkpoint_config)
        self._restarts: dict[str, RestartPoint] = {}
        self._launch_pins: dict[str, str] = {}
        self._max_trials = -1
        self._searcher_finished = False
        self._searcher_waiting = False
        self._stop_reason: str | None = None
        self._force_at: float | None = None
        self._started = 0.0
        self._last_state = 0.0
        self._interrupted = False
        self._next_snapshot = 0.0
        self._snapshot_due = False

    def _build(self, spec: ComponentSpec) -> Any:
        return spec.build(self.plugins.registry)

    # --- the run ---------------------------------------------------------------------------------

    def run(self) -> None:
        """Run the experiment to its end; always leaves nothing running."""
        space = self.spec.param_space
        seed = self.spec.tune_config.seed
        grid_size = len(grid_points(space))
        self._max_trials = -1 if self.num_samples == -1 else self.num_samples * grid_size
        component: Any = self.searcher
        try:  # a failure here leaves the experiment's files as they were: no snapshot, no state
            self.searcher.setup(space, self.metric, self.mode, seed, self.num_samples)
            component = self.scheduler
            self.scheduler.setup(self.metric, self.mode)
            for stopper in self.stoppers:
                component = stopper
                stopper.setup(self.metric, self.mode)
            component = None
            self._started = time.monotonic()
            if self.resume is None:
                modules = self._write_spec()  # first: experiment.json is what makes a directory resumable
                self.storage.write_experiment(
                    {
                        **self.info.spec,
                        "path": self.storage.path,
                        "versions": self._versions(),
                        "user_modules": modules,
                    }
                )
            else:
                self._restore(self.resume)
        except ValueError as exc:  # a component rejecting the experiment in setup(): bad input, said in one line
            self.storage.close()
            if component is None or isinstance(exc, (TuneError, SpaceError)):  # these say what to fix already
                raise
            raise ConfigError(f"{type(component).__name__}.setup() rejected the experiment: {exc}") from exc
        except BaseException:
            self.storage.close()
            raise
        for logger in self.loggers:
            self.events.observe(logger)
        try:
            self.events.experiment_started(self.info)
            self.executor.start(self.trainable, self)
            self._loop()
            self._end_paused_trials()
            # Not in `finally`: after an exception (a second Ctrl+C between suggest() and the journal, say)
            # the components may be ahead of the journal; the snapshot of the last trial event stands.
            self._snapshot(force=True)
        except KeyboardInterrupt:  # a second Ctrl+C: stopped at once, still resumable
            self.info = attrs.evolve(self.info, interrupted=True)
            raise
        except BaseException as exc:  # a component's error: loggers say how it ended
            self.info = attrs.evolve(self.info, failed=f"{type(exc).__name__}: {exc}".rstrip(": "))
            raise
        finally:
            try:
                self.executor.shutdown()
                self.events.experiment_finished(self.info, list(self.trials.values()))
            finally:
                self._save_state()
                self.storage.close()
                for logger in self.loggers:
                    self.events.forget(logger)

    def _loop(self) -> None:
        while True:
            self._check_stop_conditions()
            if self._stop_reason is None:
                self._launch_what_fits()
            if self.executor.running() == 0 and (self._stop_reason is not None or not self._work_left()):
                return
            self.executor.process(self._wait_time())
            now = time.monotonic()
            if self._snapshot_due and now >= self._next_snapshot:
                self._snapshot()
            if now - self._last_state >= STATE_INTERVAL_S:
                self._save_state()

    def _work_left(self) -> bool:
        if self.pending:
            return True
        if self.paused:
            return self.scheduler.choose_trial_to_run([], list(self.paused.values())) is not None
        if self._searcher_waiting:
            raise TuneError(
                f"the searcher {type(self.searcher).__name__} answered None ('not now') while no trial is running:"
                " it would wait forever. A searcher must return a config or FINISHED when nothing is running"
            )
        return not self._searcher_finished

    def _wait_time(self) -> float:
        deadlines = [0.2]
        now = time.monotonic()
        if self.time_budget_s is not None and self._stop_reason is None:
            deadlines.append(self._started + self.time_budget_s - now)
        if self._force_at is not None:
            deadlines.append(self._force_at - now)
        return max(0.0, min(deadlines))

    def _check_time_budget(self, now: float) -> None:
        if self._stop_reason is None and self.time_budget_s is not None and now - self._started >= self.time_budget_s:
            self.request_stop(f"time budget of {self.time_budget_s:g} s reached")

    def _check_stop_conditions(self) -> None:
        now = time.monotonic()
        self._check_time_budget(now)
        if self._force_at is not None and now >= self._force_at:
            self._force_at = None
            for trial_id in list(self.running):
                self.executor.stop(trial_id, force=True)

    def interrupt(self, reason: str) -> bool:
        """Stop and keep the stopped trials unfinished, to be resumed (Ctrl+C, SIGTERM, fail_fast).

        False (and nothing changes) when the experiment is already ending for another reason (time budget,
        a stopper): its trials then end as that stop says, TERMINATED.
        """
        if self._stop_reason is not None and not self._interrupted:
            return False
        self._interrupted = True
        self.info = attrs.evolve(self.info, interrupted=True)
        self.request_stop(reason)
        return True

    @property
    def interrupted(self) -> bool:
        """True when :meth:`interrupt` ended the run."""
        return self._interrupted

    def request_stop(self, reason: str) -> None:
        """Stop the experiment: launch nothing more, ask running trials to stop, force them later."""
        if self._stop_reason is not None:
            return
        self._stop_reason = reason
        for trial_id in list(self.running):
            self.executor.stop(trial_id)
        self._force_at = time.monotonic() + FORCE_STOP_GRACE_S

    # --- launching ---------------------------------------------------------------------------------

    def _end_paused_trials(self, trials: Any = None) -> None:
        """End paused trials TERMINATED: those the scheduler gives up on, or (at the end) all of them."""
        if trials is None:
            if self._interrupted:  # an interrupted experiment keeps them PAUSED for the resume
                return
            trials = list(self.paused.values())
        for trial in trials:
            if self.paused.pop(trial.trial_id, None) is None:
                continue
            self.scheduler.on_trial_complete(trial, trial.last_result)
            self.searcher.on_trial_complete(trial.trial_id, trial.last_result, False)
            self._finish(trial, TrialStatus.TERMINATED, None)
            self._snapshot()

    def _launch_what_fits(self) -> None:
        if self.paused:
            self._end_paused_trials(self.scheduler.choose_trials_to_stop(list(self.paused.values())))
        while not (self.max_concurrent and len(self.running) >= self.max_concurrent):
            if self.executor.capacity(self.resources) <= 0:
                return
            if not self.pending:
                self._ask_searcher()
            if not self.pending and not self.paused:
                return
            pending = [self.trials[trial_id] for trial_id in self.pending]
            chosen = self.scheduler.choose_trial_to_run(pending, list(self.paused.values()))
            if chosen is None:
                return
            self._launch(chosen)

    def _ask_searcher(self) -> None:
        self._searcher_waiting = False
        if self._searcher_finished:
            return
        if self._max_trials != -1 and len(self.trials) >= self._max_trials:
            self._searcher_finished = True
            return
        trial_id = f"t{len(self.trials) + 1:05d}"
        config = self.searcher.suggest(trial_id)
        if config is FINISHED:
            self._searcher_finished = True
            return
        if config is None:
            self._searcher_waiting = True
            return
        if not isinstance(config, dict):
            raise TuneError(
                f"searcher {type(self.searcher).__name__}.suggest() returned {type(config).__name__};"
                " it must return a config dict, None or tunecore.FINISHED"
            )
        path = self.storage.trial_dir(trial_id)
        trial = Trial(trial_id=trial_id, config=config, path=path, resources=dict(self.resources))
        self.trials[trial_id] = trial
        self.pending.append(trial_id)
        self.storage.journal({"event": "trial", "trial_id": trial_id, "config": config, "path": trial_id})
        self.scheduler.on_trial_add(trial)
        self._snapshot()

    def _launch(self, trial: Trial) -> None:
        trial_id = trial.trial_id
        if trial_id in self.paused:
            del self.paused[trial_id]
        else:
            self.pending.remove(trial_id)
        point = self._restarts.get(trial_id)
        if point is not None:  # restarted, no checkpoint of its own since: from the restart's checkpoint again
            checkpoint = point.checkpoint
            if int((trial.last_result or {}).get("training_iteration", 0)) > point.iteration:
                self.storage.journal({"event": "rollback", "trial_id": trial_id, "iteration": point.iteration})
                trial.last_result = point.last_result
            if point.pinned:  # the decision's pin becomes this launch's pin
                point.pinned = False
            elif checkpoint is not None:
                self.checkpoints.pin(checkpoint)
        else:  # a retry, or a resume after a pause or a crash: continue from the trial's own checkpoint
            checkpoint = self.checkpoints.latest(trial_id)
            self._roll_back_to_checkpoint(trial)
            if checkpoint is not None:
                self.checkpoints.pin(checkpoint)
        if checkpoint is not None:  # kept until the trial has loaded it (its first result or its end)
            self._launch_pins[trial_id] = checkpoint
        last = trial.last_result or {}
        trial.status = TrialStatus.RUNNING
        self.running.add(trial_id)
        self.storage.journal({"event": "status", "trial_id": trial_id, "status": "RUNNING"})
        self.events.trial_started(self.info, trial)
        self.executor.launch(
            TrialLaunch(
                trial_id=trial_id,
                config=trial.config,
                trial_dir=trial.path or "",
                checkpoint=checkpoint,
                resources=dict(self.resources),
                seed=_trial_seed(self.spec.tune_config.seed, trial_id),
                start_iteration=int(last.get("training_iteration", 0)),
                time_total_s=float(last.get("time_total_s", 0.0)),
                checkpoint_frequency=self.checkpoint_config.checkpoint_frequency,
                checkpoint_at_end=self.checkpoint_config.checkpoint_at_end,
            )
        )

    # --- events from the executor --------------------------------------------------------------------

    def on_result(self, trial_id: str, result: dict[str, Any], checkpoint: str | None) -> Decision:
        """Decide about one result; record and broadcast it."""
        trial = self.trials[trial_id]
        trial.last_result = result
        trial.error = None  # a trial's error is its latest failure until it reports again
        if checkpoint:
            trial.checkpoint = checkpoint
        self._release_launch_pin(trial_id)
        self._check_time_budget(time.monotonic())
        missing = self._missing_metrics(result)
        if missing:
            self._metric_errors[trial_id] = (
                f"trial {trial_id} reported a result without the metric {missing!r}"
                f" (TuneConfig.metric); it reported: {', '.join(sorted(result))}."
                " Report the metric in every result, or fix TuneConfig.metric."
            )
            decision = STOP
        else:
            self._warn_non_finite(trial_id, result)
            decision = self._decide(trial, result)
        if decision.action is Action.RESTART and decision.checkpoint is not None:
            # e.g. a PBT donor's checkpoint: kept on disk until this trial has loaded it
            self.checkpoints.pin(_checkpoint_dir(decision.checkpoint))
        if decision.action is not Action.CONTINUE:
            self._decisions[trial_id] = decision
            if decision.action is Action.STOP and not (trial_id in self._stopped_by_experiment and self._interrupted):
                result = final_result(result)  # a copy: the executor still reads the result it reported
                trial.last_result = result
        record: dict[str, Any] = {"event": "result", "trial_id": trial_id, "result": result}
        if checkpoint:
            record["checkpoint"] = os.path.basename(checkpoint)
        self.storage.journal(record, flush=checkpoint is not None)  # a resume continues from journaled checkpoints
        if checkpoint:
            self._restarts.pop(trial_id, None)
            self._journal_deleted(self.checkpoints.register(trial_id, checkpoint, result))
        self.events.trial_result(self.info, trial, result)
        if checkpoint:
            self.events.trial_checkpoint(self.info, trial, Checkpoint(checkpoint))
        if self._stop_reason is None and any(stopper.stop_all() for stopper in self.stoppers):
            self.request_stop("a stopper ended the experiment")
        return decision

    def _decide(self, trial: Trial, result: dict[str, Any]) -> Decision:
        trial_id = trial.trial_id
        stop = False
        for stopper in self.stoppers:  # every stopper sees every result: some keep state
            stop = stopper.should_stop(trial_id, result) or stop
        if result.get("done"):  # the trainable finished: on_trial_complete follows with this result
            return STOP if stop else CONTINUE
        decision = STOP if stop else CONTINUE
        if not stop and self._stop_reason is not None:
            self._stopped_by_experiment.add(trial_id)
        elif not stop:
            decision = self.scheduler.on_trial_result(trial, result)
            if not isinstance(decision, Decision):
                raise TuneError(
                    f"scheduler {type(self.scheduler).__name__}.on_trial_result() returned {decision!r};"
                    " it must return a tunecore.Decision (CONTINUE, PAUSE, STOP or Decision.restart(...))"
                )
        self.searcher.on_trial_result(trial_id, result)  # every intermediate result, whatever was decided
        return decision

    def _warn_non_finite(self, trial_id: str, result: dict[str, Any]) -> None:
        """Warn once per trial about a metric value that is not a finite number (it never counts as best)."""
        if trial_id in self._warned_non_finite:
            return
        bad = {m: result[m] for m in self._metrics if not is_finite_number(result[m])}
        if bad:
            self._warned_non_finite.add(trial_id)
            values = ", ".join(f"{name}={value!r}" for name, value in bad.items())
            warnings.warn(
                f"trial {trial_id} reported {values} at iteration {result.get('training_iteration')}: not a finite"
                " number. The result is recorded as reported and the trial goes on, but such a value never counts"
                " as the best and the first-party schedulers rank it worst (report plain numbers, e.g."
                " tensor.item()). Further such values of this trial are not reported.",
                MetricWarning,
                stacklevel=2,
            )

    def _missing_metrics(self, result: dict[str, Any]) -> list[str]:
        return [m for m in self._metrics if m not in result]

    def on_trial_end(self, trial_id: str, outcome: str, error: str | None) -> None:
        """Apply the end of a launch: retry, error, pause, restart or terminate."""
        trial = self.trials[trial_id]
        self.running.discard(trial_id)
        self._release_launch_pin(trial_id)
        decision = self._decisions.pop(trial_id, None)
        if outcome == ERRORED and decision is not None and trial_id not in self._metric_errors:
            # it failed after the result its decision was about, before the decision took effect: the
            # decision stands (a stopped trial is never retried past its stop) and the failure does not count
            if trial.path:
                self.storage.write_error(
                    trial.path,
                    error or "unknown error",
                    header=f"Failure after the decision to {decision.action.value} (the decision stands; not retried)",
                )
            outcome = STOPPED
        restart = decision is not None and decision.action is Action.RESTART
        # a restart relaunches the trial, unless the experiment is ending (not interrupted): then it is done
        relaunch = restart and outcome == STOPPED and (self._stop_reason is None or self._interrupted)
        if restart and decision is not None and decision.checkpoint is not None and not relaunch:
            self._journal_deleted(self.checkpoints.unpin(_checkpoint_dir(decision.checkpoint)))
        stopped_by_experiment = trial_id in self._stopped_by_experiment
        self._stopped_by_experiment.discard(trial_id)
        if trial_id in self._metric_errors:
            self._fail(trial, self._metric_errors.pop(trial_id), retry=False)
        elif outcome == ERRORED:
            self._fail(trial, error or "unknown error", retry=True)
        elif self._interrupted and outcome == STOPPED and (decision is None or stopped_by_experiment):
            # stopped by the interruption itself, not by a component: a resume continues it
            trial.status = TrialStatus.PENDING
            self.storage.journal(
                {"event": "status", "trial_id": trial_id, "status": "PENDING", "interrupted": True}, flush=True
            )
        elif outcome == STOPPED and decision is not None and decision.action is Action.PAUSE:
            trial.status = TrialStatus.PAUSED
            self.paused[trial_id] = trial
            self.storage.journal({"event": "status", "trial_id": trial_id, "status": "PAUSED"}, flush=True)
            self.events.trial_paused(self.info, trial)
        elif relaunch and decision is not None:
            self._restart(trial, decision)
        else:
            self.scheduler.on_trial_complete(trial, trial.last_result)
            self.searcher.on_trial_complete(trial_id, trial.last_result, False)
            self._finish(trial, TrialStatus.TERMINATED, None)
        self._snapshot()

    def _fail(self, trial: Trial, error: str, retry: bool) -> None:
        trial.num_failures += 1
        trial.error = error
        if trial.path:
            self.storage.write_error(trial.path, error, trial.num_failures)
        limit = self.failure_config.max_failures
        retries_left = limit == -1 or trial.num_failures <= limit
        if retry and retries_left and (self._stop_reason is None or self._interrupted):
            # retried now, or (interrupted) by the resume: a retry is never lost to Ctrl+C
            trial.status = TrialStatus.PENDING
            self.pending.appendleft(trial.trial_id)
            self.storage.journal(
                {"event": "status", "trial_id": trial.trial_id, "status": "PENDING", "error": error}, flush=True
            )
            self.events.trial_retried(self.info, trial, error, trial.num_failures + 1)
            return
        self.scheduler.on_trial_error(trial)
        self.searcher.on_trial_complete(trial.trial_id, trial.last_result, True)
        self._finish(trial, TrialStatus.ERROR, error)
        if self.failure_config.fail_fast:
            # like an interruption: the other running trials stay unfinished, so a resume continues them
            self.interrupt(f"trial {trial.trial_id} failed and FailureConfig.fail_fast is set")

    def _restart(self, trial: Trial, decision: Decision) -> None:
        trial_id = trial.trial_id
        old_config = trial.config
        if decision.config is not None:
            trial.config = dict(decision.config)
            self.storage.journal({"event": "config", "trial_id": trial_id, "config": trial.config})
        # pinned when the decision was made; released once the relaunched trial has loaded it
        point = RestartPoint(
            _checkpoint_path(decision.checkpoint),
            int((trial.last_result or {}).get("training_iteration", 0)),
            trial.last_result,
            pinned=decision.checkpoint is not None,
        )
        self._restarts[trial_id] = point
        trial.status = TrialStatus.PENDING
        self.pending.appendleft(trial_id)
        self.storage.journal(
            {
                "event": "status",
                "trial_id": trial_id,
                "status": "PENDING",
                "restart_from": point.checkpoint,
                "restart_iteration": point.iteration,
            },
            flush=True,
        )
        restart_from = None if point.checkpoint is None else Checkpoint(point.checkpoint)
        self.events.trial_restarted(self.info, trial, old_config, trial.config, restart_from)

    def _finish(self, trial: Trial, status: TrialStatus, error: str | None) -> None:
        trial.status = status
        if status is TrialStatus.TERMINATED and trial.last_result is not None:
            trial.last_result = final_result(trial.last_result)
        record = {"event": "status", "trial_id": trial.trial_id, "status": status.value}
        if error:
            record["error"] = error
        self.storage.journal(record, flush=True)
        self.events.trial_finished(self.info, trial, status.value, error)

    # --- persistence ---------------------------------------------------------------------------------

    def _snapshot(self, force: bool = False) -> None:
        """Save the components' state, naming the journal position it reflects (see storage.write_snapshot).

        Cheap snapshots (under 1 ms: the built-in components) are taken at every trial creation and end.
        A component whose state is expensive to pickle (a model-based searcher after many trials) is
        snapshotted less often, so that snapshots take at most ~5% of the run; the journal records after
        the latest snapshot are replayed into the components on resume.
        """
        now = time.monotonic()
        if not force and now < self._next_snapshot:
            self._snapshot_due = True
            return
        self._snapshot_due = False
        self.storage.flush()
        state = {
            "journal_records": self.storage.journal_records,
            "elapsed_s": time.monotonic() - self._started,
            "searcher": self.searcher.save(),
            "scheduler": self.scheduler.save(),
            "stoppers": [stopper.save() for stopper in self.stoppers],
        }
        self.storage.write_snapshot(cloudpickle.dumps(state))
        cost = time.monotonic() - now
        self._next_snapshot = now + cost / SNAPSHOT_TIME_SHARE if cost > CHEAP_SNAPSHOT_S else 0.0

    def _versions(self) -> dict[str, str]:
        """``{distribution: version}`` of the core and of every distribution whose component the experiment uses:
        by name from the registry, an instance's from the distribution that holds its class's module."""
        from importlib.metadata import PackageNotFoundError, packages_distributions, version

        run = self.spec.run_config
        specs = [self.spec.tune_config.component(kind) for kind in ("searcher", "scheduler", "executor")]
        found: dict[str, str] = {}
        owners: Mapping[str, list[str]] | None = None
        for spec in [*specs, *run.stopper_specs(), *run.logger_specs()]:
            if spec.name is not None:
                info = self.plugins.registry.get(spec.kind, spec.name)
                found[info.dist] = info.version
                continue
            if owners is None:
                owners = packages_distributions()  # slow (reads every distribution): only for instances
            for dist in owners.get(type(spec.instance).__module__.split(".")[0], []):
                try:
                    found.setdefault(dist, version(dist))
                except PackageNotFoundError:  # pragma: no cover - listed but not installed
                    pass
        try:
            found.setdefault("tunecore", version("tunecore"))
        except PackageNotFoundError:
            pass
        return dict(sorted(found.items()))

    def _write_spec(self) -> dict[str, str]:
        """Pickle the experiment (trainable, space, components) so that Tuner.restore can rebuild it.

        Returns the modules loaded from files (``file.py:train`` references) that the pickle refers to, as
        ``{module name: file}``: experiment.json records them and a resume loads them from those files again.
        """
        path = os.path.join(self.storage.path, SPEC_FILE)
        try:
            data = cloudpickle.dumps(self.spec)
        except Exception as exc:  # e.g. a callback holding a lock: resuming will need the trainable passed again
            data = cloudpickle.dumps(attrs.evolve(self.spec, trainable=None, run_config=_without_callbacks(self.spec)))
            warnings.warn(
                f"the experiment could not be saved whole ({type(exc).__name__}: {exc}); to resume it, pass the"
                " trainable and callbacks to Tuner.restore again",
                stacklevel=2,
            )
        temporary = path + ".tmp"
        with open(temporary, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
        return user_modules_in(data)

    def _restore(self, options: ResumeOptions) -> None:
        """Rebuild the trial table from the journal and the components from the newest snapshot.

        Everything is read and cross-checked (integrity.check) before anything is written.
        """
        path = self.storage.path
        records = read_journal(path)
        snapshot = read_snapshot(path)
        state = load_snapshot_state(path, snapshot[1]) if snapshot is not None else None
        integrity.check(path, records, state["journal_records"] if state is not None else None)
        self.storage.journal_records = len(records)
        tail = records
        if state is not None:
            self.searcher.restore(state["searcher"])
            self.scheduler.restore(state["scheduler"])
            for stopper, saved in zip(self.stoppers, state["stoppers"], strict=False):
                stopper.restore(saved)
            self._started -= state["elapsed_s"]
            tail = records[state["journal_records"] :]
        journal = replay(records)
        for record in journal.values():
            trial = Trial(
                trial_id=record.trial_id,
                config=record.config,
                status=TrialStatus(record.status),
                path=os.path.join(path, record.path),
                last_result=record.last_result,
                error=record.error,
                num_failures=record.num_failures,
                resources=dict(self.resources),
            )
            self.trials[trial.trial_id] = trial
        self._replay_into_components(tail, journal)
        for record in journal.values():
            trial = self.trials[record.trial_id]
            self._resume_trial(trial, record, options)
            for iteration, name in record.checkpoints:  # what is left after any rollback
                result = next((r for r in record.history if r.get("training_iteration") == iteration), {})
                path = os.path.join(trial.path or "", name)
                self._journal_deleted(self.checkpoints.register(trial.trial_id, path, result))
                trial.checkpoint = path
        self._snapshot(force=True)

    def _replay_into_components(self, tail: list[dict[str, Any]], journal: dict[str, TrialRecord]) -> None:
        """Tell the components what happened after their snapshot (at most a few records, after a crash)."""
        for record in tail:
            kind, trial = record.get("event"), self.trials.get(record.get("trial_id", ""))
            if trial is None:
                continue
            if kind == "trial":
                self.searcher.suggest(trial.trial_id)  # advances the searcher; the journal's config stands
                self.scheduler.on_trial_add(trial)
            elif kind == "result" and _counts(record["result"], journal[trial.trial_id].history):
                result = record["result"]
                for stopper in self.stoppers:
                    stopper.should_stop(trial.trial_id, result)
                if not result.get("done"):
                    self.scheduler.on_trial_result(trial, result)
                    self.searcher.on_trial_result(trial.trial_id, result)
            elif kind == "status" and record["status"] in ("TERMINATED", "ERROR"):
                last = journal[trial.trial_id].last_result
                if record["status"] == "ERROR":
                    self.scheduler.on_trial_error(trial)
                else:
                    self.scheduler.on_trial_complete(trial, last)
                self.searcher.on_trial_complete(trial.trial_id, last, record["status"] == "ERROR")

    def _resume_trial(self, trial: Trial, record: TrialRecord, options: ResumeOptions) -> None:
        status = trial.status
        if status is TrialStatus.TERMINATED:
            return
        if status is TrialStatus.ERROR:
            if options.restart_errored:
                self._roll_back(trial, record, from_scratch=True)
            elif options.resume_errored:
                self._roll_back(trial, record, from_scratch=False)
            else:
                return
            trial.status = TrialStatus.PENDING
            trial.error = None
            self.pending.append(trial.trial_id)
            self.storage.journal({"event": "status", "trial_id": trial.trial_id, "status": "PENDING"})
            return
        if not options.resume_unfinished:
            self._finish(trial, TrialStatus.TERMINATED, None)
            return
        if record.restart is not None:  # restarted (e.g. a PBT exploit) without a checkpoint of its own since
            checkpoint, iteration = record.restart
            if any(r.get("training_iteration", 0) > iteration for r in record.history):
                record.roll_back(iteration)
                self.storage.journal({"event": "rollback", "trial_id": trial.trial_id, "iteration": iteration})
            trial.last_result = record.last_result
            self._restarts[trial.trial_id] = RestartPoint(checkpoint, iteration, record.last_result)
        else:
            self._roll_back(trial, record, from_scratch=False)
        if status is TrialStatus.PAUSED:
            self.paused[trial.trial_id] = trial
        else:
            trial.status = TrialStatus.PENDING
            self.pending.append(trial.trial_id)

    def _roll_back(self, trial: Trial, record: TrialRecord, from_scratch: bool) -> None:
        """Continue ``trial`` from its latest journaled checkpoint (or from scratch): later results are void."""
        latest = None if from_scratch else record.latest_checkpoint
        iteration = latest[0] if latest else 0
        if any(r.get("training_iteration", 0) > iteration for r in record.history):
            record.roll_back(iteration)
            self.storage.journal({"event": "rollback", "trial_id": trial.trial_id, "iteration": iteration})
        trial.last_result = record.last_result

    def _roll_back_to_checkpoint(self, trial: Trial) -> None:
        """Results after the trial's latest checkpoint are void: it reports them again from there."""
        saved = self.checkpoints.checkpoints(trial.trial_id)
        at = saved[-1][1] if saved else None
        iteration = int((at or {}).get("training_iteration", 0))
        if int((trial.last_result or {}).get("training_iteration", 0)) > iteration:
            self.storage.journal({"event": "rollback", "trial_id": trial.trial_id, "iteration": iteration})
            trial.last_result = at
        trial.checkpoint = saved[-1][0] if saved else None

    def _release_launch_pin(self, trial_id: str) -> None:
        path = self._launch_pins.pop(trial_id, None)
        if path is not None:
            self._journal_deleted(self.checkpoints.unpin(path))

    def _journal_deleted(self, paths: list[str]) -> None:
        """Record checkpoints that CheckpointConfig.num_to_keep removed (the trial is the parent directory)."""
        for path in paths:
            trial_id = os.path.basename(os.path.dirname(path))
            self.storage.journal(
                {"event": "checkpoint_deleted", "trial_id": trial_id, "checkpoint": os.path.basename(path)}
            )

    def _save_state(self) -> None:
        self._last_state = time.monotonic()
        self.storage.flush()
        self.storage.write_state(
            {
                "trials": [
                    {
                        "trial_id": t.trial_id,
                        "status": t.status.value,
                        "config": t.config,
                        "num_failures": t.num_failures,
                        "checkpoint": self.checkpoints.latest(t.trial_id),
                    }
                    for t in self.trials.values()
                ],
                "searcher_finished": self._searcher_finished,
                "stop_reason": self._stop_reason,
            }
        )

    @property
    def stop_reason(self) -> str | None:
        """Why the experiment was stopped early, or None."""
        return self._stop_reason


def _checkpoint_path(checkpoint: Any) -> str | None:
    """The directory of a Checkpoint or path given in a decision (None for None)."""
    return None if checkpoint is None else _checkpoint_dir(checkpoint)


def _checkpoint_dir(checkpoint: Any) -> str:
    """The directory of a Checkpoint or path given in a decision."""
    return os.path.abspath(checkpoint.path if isinstance(checkpoint, Checkpoint) else os.fspath(checkpoint))


def _counts(result: dict[str, Any], history: list[dict[str, Any]]) -> bool:
    """True when a journaled ``result`` is still in the trial's replayed history (not rolled back); the
    final result of a TERMINATED trial is there as :func:`final_result` made it."""
    return result in history or final_result(result) in history


def _without_callbacks(spec: ExperimentSpec) -> Any:
    return attrs.evolve(spec.run_config, callbacks=[])


def _stop_to_stopper(stop: Any) -> Stopper:
    if isinstance(stop, dict):
        return DictStopper(stop)
    if isinstance(stop, Stopper) or (hasattr(stop, "should_stop") and hasattr(stop, "stop_all")):
        return stop
    if callable(stop):
        return FunctionStopper(stop)
    raise TuneError(f"RunConfig.stop must be a dict, a function or a stopper, got {type(stop).__name__}")


def _trial_seed(seed: int | None, trial_id: str) -> int | None:
    """A per-trial seed derived from the experiment's seed and the trial's number (None stays None)."""
    if seed is None:
        return None
    return (seed * 1_000_003 + int(trial_id.lstrip("t"))) % (2**31)
