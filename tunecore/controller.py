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
   ``scheduler.on_trial_result`` unless a stopper already stopped it or the trial is done, then
   ``searcher.on_trial_result``; the decision is recorded in the journal with the result; then
   ``trial_result`` (and ``trial_checkpoint``) are broadcast; then each stopper's ``stop_all``.
4. For every trial end: a failure is retried (``FailureConfig.max_failures``) or ends the trial in ERROR
   (``scheduler.on_trial_error``); PAUSE leaves it PAUSED; a restart relaunches it with the new config
   from the given checkpoint; anything else ends it TERMINATED (``scheduler.on_trial_complete``); then
   ``searcher.on_trial_complete`` and ``trial_finished``.
5. At the end: ``executor.shutdown`` (nothing left running), ``experiment_finished``, state saved.

Per-result work is O(1) in the number of trials.
"""

from __future__ import annotations

import os
import time
from collections import deque
from typing import Any

from tunecore.builtin.stoppers import DictStopper, FunctionStopper
from tunecore.checkpoint import Checkpoint
from tunecore.components import ComponentSpec
from tunecore.config import ExperimentSpec
from tunecore.errors import TuneError
from tunecore.experiment import ExperimentInfo
from tunecore.plugins import Plugins
from tunecore.protocols import CONTINUE, FINISHED, STOP, Action, Decision, ExecutorHandler, Stopper
from tunecore.runner import ERRORED, STOPPED, TrialLaunch
from tunecore.space import grid_points
from tunecore.storage import ExperimentStorage
from tunecore.trainable import trial_resources
from tunecore.trial import Trial, TrialStatus

FORCE_STOP_GRACE_S = 5.0
"""After asking running trials to stop (time budget, experiment stop), end them by force after this."""
STATE_INTERVAL_S = 5.0
"""How often the state snapshot is refreshed while the experiment runs."""


class Controller(ExecutorHandler):
    """Runs one experiment to its end."""

    def __init__(self, spec: ExperimentSpec, plugins: Plugins, experiment_path: str, trainable: Any) -> None:
        self.spec = spec
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
        self.loggers = [self._build(spec) for spec in run.loggers] + list(run.callbacks)
        self.storage = ExperimentStorage(experiment_path)
        self.events = plugins.events
        self.info = ExperimentInfo(
            name=os.path.basename(self.storage.path),
            path=self.storage.path,
            metric=self.metric if isinstance(self.metric, str) else None,
            mode=self.mode if isinstance(self.mode, str) else None,
            spec=spec.to_data(),
        )
        self.resources = trial_resources(trainable)
        self.trials: dict[str, Trial] = {}
        self.pending: deque[str] = deque()
        self.paused: dict[str, Trial] = {}
        self.running: set[str] = set()
        self._decisions: dict[str, Decision] = {}
        self._metric_errors: dict[str, str] = {}
        self._checkpoints: dict[str, str] = {}
        self._restart_from: dict[str, str | None] = {}
        self._max_trials = -1
        self._searcher_finished = False
        self._searcher_waiting = False
        self._stop_reason: str | None = None
        self._force_at: float | None = None
        self._started = 0.0
        self._last_state = 0.0

    def _build(self, spec: ComponentSpec) -> Any:
        return spec.build(self.plugins.registry)

    # --- the run ---------------------------------------------------------------------------------

    def run(self) -> None:
        """Run the experiment to its end; always leaves nothing running."""
        space = self.spec.param_space
        seed = self.spec.tune_config.seed
        grid_size = len(grid_points(space))
        self._max_trials = -1 if self.num_samples == -1 else self.num_samples * grid_size
        self.searcher.setup(space, self.metric, self.mode, seed, self.num_samples)
        self.scheduler.setup(self.metric, self.mode)
        for stopper in self.stoppers:
            stopper.setup(self.metric, self.mode)
        self.storage.write_experiment({**self.info.spec, "path": self.storage.path, "versions": _versions()})
        for logger in self.loggers:
            self.events.observe(logger)
        self._started = time.monotonic()
        try:
            self.events.experiment_started(self.info)
            self.executor.start(self.trainable, self)
            self._loop()
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

    def request_stop(self, reason: str) -> None:
        """Stop the experiment: launch nothing more, ask running trials to stop, force them later."""
        if self._stop_reason is not None:
            return
        self._stop_reason = reason
        for trial_id in list(self.running):
            self.executor.stop(trial_id)
        self._force_at = time.monotonic() + FORCE_STOP_GRACE_S

    # --- launching ---------------------------------------------------------------------------------

    def _launch_what_fits(self) -> None:
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

    def _launch(self, trial: Trial) -> None:
        trial_id = trial.trial_id
        if trial_id in self.paused:
            del self.paused[trial_id]
        else:
            self.pending.remove(trial_id)
        checkpoint = self._restart_from.pop(trial_id, self._checkpoints.get(trial_id))
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
        if checkpoint:
            self._checkpoints[trial_id] = checkpoint
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
            decision = self._decide(trial, result)
        if decision.action is not Action.CONTINUE:
            result = {**result, "done": True}  # a copy: the executor still reads the result it reported
            trial.last_result = result
            self._decisions[trial_id] = decision
        record: dict[str, Any] = {"event": "result", "trial_id": trial_id, "result": result}
        if checkpoint:
            record["checkpoint"] = os.path.basename(checkpoint)
        self.storage.journal(record)
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
        if stop or self._stop_reason is not None:
            return STOP
        if result.get("done"):
            return CONTINUE
        decision = self.scheduler.on_trial_result(trial, result)
        if not isinstance(decision, Decision):
            raise TuneError(
                f"scheduler {type(self.scheduler).__name__}.on_trial_result() returned {decision!r};"
                " it must return a tunecore.Decision (CONTINUE, PAUSE, STOP or Decision.restart(...))"
            )
        self.searcher.on_trial_result(trial_id, result)
        return decision

    def _missing_metrics(self, result: dict[str, Any]) -> list[str]:
        if self.metric is None:
            return []
        metrics = self.metric if isinstance(self.metric, list) else [self.metric]
        return [m for m in metrics if m not in result]

    def on_trial_end(self, trial_id: str, outcome: str, error: str | None) -> None:
        """Apply the end of a launch: retry, error, pause, restart or terminate."""
        trial = self.trials[trial_id]
        self.running.discard(trial_id)
        decision = self._decisions.pop(trial_id, None)
        if trial_id in self._metric_errors:
            self._fail(trial, self._metric_errors.pop(trial_id), retry=False)
        elif outcome == ERRORED:
            self._fail(trial, error or "unknown error", retry=True)
        elif outcome == STOPPED and decision is not None and decision.action is Action.PAUSE:
            trial.status = TrialStatus.PAUSED
            self.paused[trial_id] = trial
            self.storage.journal({"event": "status", "trial_id": trial_id, "status": "PAUSED"}, flush=True)
        elif outcome == STOPPED and decision is not None and decision.action is Action.RESTART:
            self._restart(trial, decision)
        else:
            self.scheduler.on_trial_complete(trial, trial.last_result)
            self.searcher.on_trial_complete(trial_id, trial.last_result, False)
            self._finish(trial, TrialStatus.TERMINATED, None)

    def _fail(self, trial: Trial, error: str, retry: bool) -> None:
        trial.num_failures += 1
        trial.error = error
        if trial.path:
            self.storage.write_error(trial.path, error)
        limit = self.failure_config.max_failures
        if retry and self._stop_reason is None and (limit == -1 or trial.num_failures <= limit):
            trial.status = TrialStatus.PENDING
            self.pending.appendleft(trial.trial_id)
            self.storage.journal(
                {"event": "status", "trial_id": trial.trial_id, "status": "PENDING", "error": error}, flush=True
            )
            return
        self.scheduler.on_trial_error(trial)
        self.searcher.on_trial_complete(trial.trial_id, trial.last_result, True)
        self._finish(trial, TrialStatus.ERROR, error)
        if self.failure_config.fail_fast:
            self.request_stop(f"trial {trial.trial_id} failed and FailureConfig.fail_fast is set")

    def _restart(self, trial: Trial, decision: Decision) -> None:
        trial_id = trial.trial_id
        if decision.config is not None:
            trial.config = dict(decision.config)
            self.storage.journal({"event": "config", "trial_id": trial_id, "config": trial.config})
        checkpoint = decision.checkpoint
        self._restart_from[trial_id] = checkpoint.path if isinstance(checkpoint, Checkpoint) else checkpoint
        trial.status = TrialStatus.PENDING
        self.pending.appendleft(trial_id)
        self.storage.journal({"event": "status", "trial_id": trial_id, "status": "PENDING"}, flush=True)

    def _finish(self, trial: Trial, status: TrialStatus, error: str | None) -> None:
        trial.status = status
        record = {"event": "status", "trial_id": trial.trial_id, "status": status.value}
        if error:
            record["error"] = error
        self.storage.journal(record, flush=True)
        self.events.trial_finished(self.info, trial, status.value, error)

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
                        "checkpoint": self._checkpoints.get(t.trial_id),
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


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return {"tunecore": version("tunecore")}
    except PackageNotFoundError:
        return {}
